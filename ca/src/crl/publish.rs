//! Publishing without the key (`certkit-ca crl publish`): out of a folder of CRLs signed ahead, the one that is
//! current, put in place of the published CRL when it is newer.
//!
//! Only CRLs the CA certificate signed count. At any moment the CRL in force is, of those whose window has
//! started, the one with the highest number (signed last, so it holds every revocation the others hold); if it
//! has run out, nothing is current. So after a revocation and a new series, an older series' later CRLs
//! (which lack that revocation) are never published, even once the new series has run out.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::crl_file::CrlFile;
use crate::error::{Error, Result};

/// A CRL found in the folder.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its file.
    pub path: PathBuf,
    /// The CRL.
    pub crl: CrlFile,
    /// Its number (every CRL that counts has one).
    pub number: u64,
}

/// What a folder of CRLs offers at one moment.
#[derive(Debug, Default)]
pub struct Offer {
    /// The CRL to publish: current, not superseded, the highest number of those.
    pub current: Option<Found>,
    /// Until when the CRLs that are not superseded cover, without a gap, from the moment asked about.
    pub reach: Option<OffsetDateTime>,
    /// When the first CRL that becomes current later does.
    pub next_start: Option<OffsetDateTime>,
    /// When the last CRL that ran out before now did.
    pub ran_out: Option<OffsetDateTime>,
    /// Files passed over, each with why (not a CRL, not this CA's, no CRL number).
    pub passed_over: Vec<String>,
}

/// Whether a file name is one of a CRL (`.crl`, `.crl.pem`).
fn is_crl_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".crl") || name.ends_with(".crl.pem")
}

/// The CRLs of `ca` in `dir` (files named `*.crl` or `*.crl.pem`), and what was passed over.
pub fn read_folder(dir: &Path, ca: &CertInfo) -> Result<(Vec<Found>, Vec<String>)> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut found = Vec::new();
    let mut passed_over = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io("read", dir, e))?.path();
        if !is_crl_name(&path) || !path.is_file() {
            continue;
        }
        let crl = match CrlFile::read(&path) {
            Ok(crl) => crl,
            Err(e) => {
                passed_over.push(e.to_string());
                continue;
            }
        };
        if !crl.signed_by(ca) {
            passed_over.push(format!(
                "{}: not signed by the CA certificate given",
                path.display()
            ));
            continue;
        }
        let Some(number) = crl.number else {
            passed_over.push(format!("{}: has no CRL number", path.display()));
            continue;
        };
        found.push(Found { path, crl, number });
    }
    found.sort_by_key(|f| f.number);
    Ok((found, passed_over))
}

/// The CRL in force at `t`: of the CRLs whose window has started, the one with the highest number (signed
/// last, so it holds every revocation the others hold), if it has not run out.
fn in_force(found: &[Found], t: OffsetDateTime) -> (Option<&Found>, Option<OffsetDateTime>) {
    let newest = found
        .iter()
        .filter(|f| f.crl.this_update <= t)
        .max_by_key(|f| f.number);
    match newest {
        Some(f) if f.crl.current_at(t) => (Some(f), None),
        Some(f) => (None, f.crl.next_update),
        None => (None, None),
    }
}

/// What `found` offers at `at`.
pub fn offer(found: Vec<Found>, passed_over: Vec<String>, at: OffsetDateTime) -> Offer {
    let (current, ran_out) = in_force(&found, at);
    let current = current.cloned();
    // Walk forward from `at` through the CRLs that come into force before the one in force runs out.
    let mut reach: Option<OffsetDateTime> = None;
    let mut t = at;
    while let (Some(f), _) = in_force(&found, t) {
        match f.crl.next_update {
            Some(end) if end > t => {
                reach = Some(end);
                t = end;
            }
            _ => break,
        }
    }
    let next_start = found
        .iter()
        .map(|f| f.crl.this_update)
        .filter(|start| *start > at)
        .min();
    Offer {
        current,
        reach,
        next_start,
        ran_out,
        passed_over,
    }
}
