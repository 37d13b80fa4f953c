//! `certkit-ca reindex`: the whole CA folder gone over once. The index is rebuilt from the log (its hash
//! chain checked line by line), `issued/` copies that are missing are written again from the certificates the
//! records carry (each checked against the CA first), and temporary files an interrupted write left in
//! `issued/` are removed. What no other command does, because it costs the size of the CA.

use serde::Serialize;

use super::folder::{CaStore, StoreLock};
use super::inventory::{self, Event, LineRead};
use super::layout::{INVENTORY, ISSUED_DIR, TEMP_PREFIX};
use crate::certinfo::{IssuerCheck, Signature};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};

/// What `reindex` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reindexed {
    /// Records in the log.
    pub records: usize,
    /// Certificates they record.
    pub certificates: usize,
    /// `issued/` copies written again.
    pub copies_restored: usize,
    /// Temporary files removed from `issued/`.
    pub temporary_files: usize,
}

impl CaStore {
    /// Rebuilds the index, restores missing `issued/` copies and removes temporary files from `issued/`. The
    /// caller holds the lock (and so the log was reconciled first).
    pub fn reindex(&self, _lock: &StoreLock) -> Result<Reindexed> {
        let records = self.rebuild_index("asked for (certkit-ca reindex)")?;
        let ca = IssuerCheck::new(&self.cert()?)?;
        let mut done = Reindexed {
            records,
            ..Reindexed::default()
        };
        let path = self.path(INVENTORY);
        inventory::visit(&path, 0, 1, true, &mut |read| {
            let LineRead::Line(line) = read else {
                return Ok(true);
            };
            let (Event::Issued(record) | Event::Imported(record)) = line.event else {
                return Ok(true);
            };
            done.certificates += 1;
            let copy = self.issued_copy(&record.serial);
            if copy.exists() {
                return Ok(true);
            }
            let Some(der) = record.cert_der() else {
                return Ok(true);
            };
            if record.falsehood(&der, &ca, Signature::Verify).is_some() {
                return Err(Error::Inventory {
                    path: path.clone(),
                    line: line.number,
                    what: format!(
                        "the certificate of serial {} is not what its record says; nothing was copied. See \"certkit-ca audit\"",
                        record.serial
                    ),
                });
            }
            files::write_new(&copy, &der, PUBLIC)?;
            done.copies_restored += 1;
            Ok(true)
        })?;
        if let Ok(listing) = std::fs::read_dir(self.path(ISSUED_DIR)) {
            for entry in listing.flatten() {
                if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| Error::io("remove", &entry.path(), e))?;
                    done.temporary_files += 1;
                }
            }
        }
        Ok(done)
    }
}
