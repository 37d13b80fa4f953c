//! The audit of what the pass over the log leaves to check: every `issued/` copy against a record, and what
//! interrupted runs left (temporary files, staged outputs that may
//! hold a key, a key file beside a token key).

use crate::store::Lineage;
use std::collections::HashMap;
use std::path::Path;

use super::findings::{Findings, Level};
use super::pass::Seen;
use crate::certinfo::CertInfo;
use crate::error::Result;
use crate::files;
use crate::serial::Serial;
use crate::store::deliver::staged_prefix;
use crate::store::folder::CaStore;
use crate::store::layout::{CA_KEY, ISSUED_DIR, TEMP_PREFIX};

/// An undelivered certificate: a note, and a warning for every file its interrupted delivery left where it
/// was going (a staged `.certkit-SERIAL-*` file or an output in place), since those may hold its key.
pub fn check_undelivered(
    record: &crate::store::inventory::IssuedRecord,
    line: usize,
    revoked: bool,
    f: &mut Findings,
) {
    let mut left: Vec<String> = record
        .outputs
        .iter()
        .filter(|o| Path::new(&o.path).exists())
        .map(|o| o.path.clone())
        .collect();
    let prefix = staged_prefix(&record.serial);
    let mut folders: Vec<&Path> = record
        .outputs
        .iter()
        .map(|o| files::folder_of(Path::new(&o.path)))
        .collect();
    folders.dedup();
    for folder in folders {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                left.push(entry.path().display().to_string());
            }
        }
    }
    if !revoked {
        f.add(
            Level::Note,
            "undelivered",
            Some(line),
            format!(
                "serial {} ({}) was recorded but its delivery was interrupted: it is never allowed; run the command that made it again, or revoke it",
                record.serial, record.subject
            ),
        );
    }
    if !left.is_empty() {
        f.add(
            Level::Warning,
            "undelivered-files",
            Some(line),
            format!(
                "the interrupted delivery of serial {} left files that may hold its private key: {}; the next command that takes the CA lock removes the temporary ones, a rerun replaces the rest{}",
                record.serial,
                left.join(", "),
                if revoked { "" } else { " (or revoke it)" }
            ),
        );
    }
}

/// Every `issued/` file against a record.
pub fn check_unrecorded_copies(
    store: &CaStore,
    seen: &HashMap<Serial, Seen>,
    lineage: &Lineage,
    f: &mut Findings,
) -> Result<()> {
    let Ok(listing) = std::fs::read_dir(store.path(ISSUED_DIR)) else {
        return Ok(());
    };
    let mut names: Vec<String> = listing
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = store.path(ISSUED_DIR).join(&name);
        let serial = name
            .strip_suffix(".cer")
            .and_then(|s| Serial::parse(s).ok());
        if serial.as_ref().is_some_and(|s| seen.contains_key(s)) {
            continue;
        }
        let signed = std::fs::read(&path)
            .ok()
            .and_then(|d| CertInfo::from_der(&d, Path::new(&name)).ok())
            .map(|c| lineage.signer_of(&c).map(|k| k.is_some()))
            .transpose()?
            .unwrap_or(false);
        f.add(Level::Error, "copy-unrecorded", None, if signed {
            format!("{} is signed by this CA but no record names it: a record was removed, or the certificate was never recorded", path.display())
        } else {
            format!("{} is in issued/ but was not signed by this CA: forged or foreign", path.display())
        });
    }
    Ok(())
}

/// Temporary files of interrupted writes in the CA folder and `issued/`.
pub fn check_temporary_files(store: &CaStore, f: &mut Findings) {
    let folders = crate::store::reconcile::temporary_file_folders(store);
    for dir in folders.iter().chain([&store.path(ISSUED_DIR)]) {
        let Ok(listing) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in listing.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                f.add(Level::Warning, "temporary-file", None, format!("{} was left by an interrupted write; the next command that takes the CA lock removes it", entry.path().display()));
            }
        }
    }
}

/// A key file left beside a token key: a `move-key` that stopped before removing it.
pub fn check_key_file(store: &CaStore, f: &mut Findings) -> Result<()> {
    if let Some(record) = store.settings_file()?.pkcs11
        && store.path(CA_KEY).exists()
    {
        f.add(
            Level::Warning,
            "key-file-beside-token",
            None,
            format!(
                "ca.key is still here although the CA key is on a token ({}): a move-key stopped before removing it; run certkit-ca move-key again to finish",
                record.uri
            ),
        );
    }
    Ok(())
}
