//! The audit's evidence from outside the log: CRLs (the folder's own, and published ones given with `--crl`)
//! and head hashes written down elsewhere (`--expect-head`). A folder rolled back to an older copy of itself is
//! consistent inside; only something it signed or said earlier, kept elsewhere, can show it lost records.

use crate::store::Lineage;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::findings::{Findings, Level};
use super::pass::Pass;
use crate::crl_file::CrlFile;
use crate::error::{Error, Result};
use crate::files;
use crate::store::folder::CaStore;

/// A CRL the audit looks at, and whether the user gave it (a published copy) or it is the folder's own.
pub struct CrlSource {
    /// The file.
    pub path: PathBuf,
    /// True for a file given with `--crl`.
    pub given: bool,
}

/// The CRLs to check: the folder's `ca.crl` and `ca.crl.pem` when present, then those given.
pub fn crl_sources(store: &CaStore, given: &[PathBuf]) -> Vec<CrlSource> {
    // The folder's own: ca.crl (the current key's) and, once re-keyed, ca-KEYID.crl of each earlier key.
    let mut own: Vec<PathBuf> = std::fs::read_dir(store.dir())
        .map(|listing| {
            listing
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n == "ca.crl"
                        || n == "ca.crl.pem"
                        || (n.starts_with("ca-")
                            && (n.ends_with(".crl") || n.ends_with(".crl.pem")))
                })
                .map(|n| store.path(&n))
                .collect()
        })
        .unwrap_or_default();
    own.sort();
    own.into_iter()
        .map(|path| CrlSource { path, given: false })
        .chain(given.iter().map(|p| CrlSource {
            path: p.clone(),
            given: true,
        }))
        .collect()
}

/// Each CRL against the log: signed by the CA, a number the log records with these very bytes (a higher
/// number means the folder was rolled back), and nothing listed that the log does not record as revoked.
pub fn check_crls(
    sources: &[CrlSource],
    pass: &Pass,
    lineage: &Lineage,
    f: &mut Findings,
) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let recorded = &pass.crls;
    let highest = recorded.iter().map(|c| c.0).max();
    let lowest = recorded.iter().map(|c| c.0).min();
    let mut own: std::collections::BTreeMap<bool, (PathBuf, HashSet<crate::serial::Serial>)> =
        std::collections::BTreeMap::new();
    for source in sources {
        let path = &source.path;
        let crl = match CrlFile::read(path) {
            Ok(crl) => crl,
            Err(e) => {
                let what = match e {
                    Error::Malformed { what, .. } => {
                        format!("{} is not a CRL ({what})", path.display())
                    }
                    _ => format!("{} cannot be read", path.display()),
                };
                f.add(Level::Error, "crl-unreadable", None, what);
                continue;
            }
        };
        if !lineage.certs.iter().any(|c| crl.signed_by(c)) {
            f.add(
                Level::Error,
                "crl-not-signed-by-ca",
                None,
                format!("{} is not signed by this CA", path.display()),
            );
            continue;
        }
        let der = &crl.der;
        let number = crl.number;
        match (number, highest) {
            (Some(n), Some(top)) if n > top => f.add(
                Level::Error,
                "crl-rolled-back",
                None,
                format!(
                    "{} is CRL number {n}, but the inventory records CRLs only up to number {top}: the CA folder was rolled back to an older copy (or the CA key signed a CRL somewhere else); restore the newest backup",
                    path.display()
                ),
            ),
            (Some(n), Some(_)) => {
                let same = recorded
                    .iter()
                    .find(|c| c.0 == n)
                    .map(|c| c.1 == files::sha256_hex(der));
                match same {
                    Some(true) => {}
                    Some(false) => f.add(
                        Level::Error,
                        "crl-unrecorded",
                        None,
                        format!(
                            "{} is CRL number {n}, but not the CRL number {n} the inventory records: the log was rewritten",
                            path.display()
                        ),
                    ),
                    None if lowest.is_some_and(|low| n > low) => f.add(
                        Level::Error,
                        "crl-unrecorded",
                        None,
                        format!(
                            "{} is CRL number {n}, which the inventory does not record: records were removed from the log",
                            path.display()
                        ),
                    ),
                    // Signed before certkit recorded CRLs in the log (0.2 and older).
                    None => {}
                }
            }
            _ => {}
        }
        let listed = &crl.revoked;
        for serial in listed {
            let revoked = pass.seen.get(serial).is_some_and(|s| s.revoked);
            if !revoked {
                f.add(
                    Level::Error,
                    "crl-lists-unrevoked",
                    None,
                    format!(
                        "{} lists serial {serial}, which the inventory does not record as revoked: {}",
                        path.display(),
                        if source.given {
                            "the revocation was removed from the log, or the folder was rolled back"
                        } else {
                            "the CRL or the log was changed"
                        }
                    ),
                );
            }
        }
        // A stale CRL is the folder's own concern; a published one given may lawfully be older. A re-keyed
        // CA's own CRLs (one per key, DER and PEM apart) together must list every live revocation.
        if !source.given {
            let pem = path.to_string_lossy().ends_with(".pem");
            let group = own
                .entry(pem)
                .or_insert_with(|| (path.clone(), HashSet::new()));
            group.1.extend(listed.iter().cloned());
        }
    }
    for (first, listed) in own.values() {
        for (line, revocation) in &pass.revoked {
            let live = pass
                .seen
                .get(&revocation.serial)
                .is_some_and(|s| s.not_after >= now);
            if live && !listed.contains(&revocation.serial) {
                f.add(Level::Warning, "crl-stale", Some(*line), format!("serial {} was revoked after {} was published; publish a new CRL (certkit-ca crl)", revocation.serial, first.display()));
            }
        }
    }
    Ok(())
}

/// Head hashes kept outside the folder (`--expect-head`): each must be the hash of a record the log still
/// holds (or of the CA certificate, for an empty log). One that is not shows the log was rolled back past it
/// or rewritten.
pub fn check_expected_heads(expected: &[String], pass: &Pass, f: &mut Findings) {
    for hash in expected {
        match pass.heads.get(hash).copied() {
            Some(line) if line == pass.lines => f.add(
                Level::Note,
                "head-expected",
                (line > 0).then_some(line),
                format!("{hash} is the head of the log, as expected"),
            ),
            Some(line) => f.add(
                Level::Note,
                "head-expected",
                (line > 0).then_some(line),
                format!(
                    "{hash} is line {line}; the log has grown by {} record(s) since",
                    pass.lines - line
                ),
            ),
            None => f.add(
                Level::Error,
                "head-missing",
                None,
                format!(
                    "{hash}, a head written down outside the folder, is not in the inventory: the CA folder was rolled back to an older copy or its log was rewritten; restore the newest backup"
                ),
            ),
        }
    }
}

/// Reads `--expect-head` values: a 64-digit hash, or a file whose 64-digit hex words are all taken (a
/// key-ceremony log). Returns the hashes, lowercase.
pub fn read_expected_heads(values: &[String]) -> Result<Vec<String>> {
    let is_hash = |w: &str| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit());
    let mut heads = Vec::new();
    for value in values {
        if is_hash(value) {
            heads.push(value.to_ascii_lowercase());
            continue;
        }
        let path = Path::new(value);
        let text = std::fs::read_to_string(path).map_err(|_| {
            crate::Error::BadInput(format!(
                "--expect-head {value}: neither a SHA-256 head hash (64 hex digits) nor a readable file of them"
            ))
        })?;
        let found: Vec<String> = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .filter(|w| is_hash(w))
            .map(str::to_ascii_lowercase)
            .collect();
        if found.is_empty() {
            return Err(crate::Error::BadInput(format!(
                "--expect-head {value}: the file holds no head hash (64 hex digits)"
            )));
        }
        heads.extend(found);
    }
    Ok(heads)
}
