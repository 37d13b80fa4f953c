//! Reconciling: what every command that takes the CA lock first repairs after an interrupted run, and the
//! checks that keep it from writing to a CA whose record cannot be trusted (docs/store-format.md).

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use super::checkpoint::Checkpoint;
use super::deliver::{all_present, found_record, staged_prefix};
use super::folder::{CaStore, StoreLock, lock_dir};
use super::inventory::{self, DeliveredRecord, Event, Log};
use super::layout::*;
use super::log_append;
use super::records::Entry;
use crate::certinfo::{CertInfo, IssuerCheck, Signature};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::serial::Serial;

/// A record that is not what it says (see [`CaStore::untrue_records`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntrueRecord {
    /// Its inventory line.
    pub line: usize,
    /// The serial it claims.
    pub serial: Serial,
    /// What is wrong.
    pub what: String,
}

/// What taking the lock repaired after an earlier run was interrupted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Repairs {
    /// The certkit 0.1 inventory was rewritten with a hash chain (the original kept beside it).
    pub upgraded: bool,
    /// A torn last line of the inventory was cut off, or a complete one given its newline.
    pub tail_repaired: bool,
    /// `issued/` copies written again from their records.
    pub copies_restored: usize,
    /// Certificates found in `issued/` without a record, recorded (as undelivered).
    pub recorded: usize,
    /// Certificates whose delivery had finished, marked delivered.
    pub delivered: usize,
    /// Temporary files of interrupted writes removed (in the CA folder, and the staged outputs of
    /// certificates whose delivery was interrupted, which may hold their keys).
    pub temporary_files: usize,
    /// A settings change the CA key had signed was finished (`ca.json.new` moved into place).
    pub settings_finished: bool,
    /// A renewal of the CA certificate the inventory records was put in place (`ca.cer`, `ca.pem`).
    pub renewal_finished: bool,
    /// Cross-certificates of an interrupted re-key kept in `history/`.
    pub cross_kept: usize,
    /// Cross-certificates of a re-key stopped before the CA took the new key, recorded revoked (superseded).
    pub rekey_undone: usize,
}

impl Repairs {
    /// True when nothing needed repair.
    pub fn is_empty(&self) -> bool {
        *self == Repairs::default()
    }

    /// One line for the user.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.upgraded {
            parts.push(format!(
                "upgraded {INVENTORY} to the hash-chained format (the original is kept as {INVENTORY_V1})"
            ));
        }
        if self.tail_repaired {
            parts.push(format!("repaired the last line of {INVENTORY}"));
        }
        if self.renewal_finished {
            parts.push(format!(
                "put the renewed CA certificate the inventory records in place ({CA_CER}, {CA_PEM}; the old one is in history/)"
            ));
        }
        if self.cross_kept > 0 {
            parts.push(format!(
                "kept {} cross-certificate(s) of an interrupted re-key in history/",
                self.cross_kept
            ));
        }
        if self.rekey_undone > 0 {
            parts.push(format!(
                "revoked {} cross-certificate(s) of a re-key that stopped before the CA took the new key (superseded; the next CRL lists them; run certkit-ca rekey again)",
                self.rekey_undone
            ));
        }
        if self.settings_finished {
            parts.push(format!(
                "finished a settings change the CA key had signed ({CA_SETTINGS})"
            ));
        }
        let counted = [
            (
                self.copies_restored,
                "restored",
                "issued/ copy",
                "issued/ copies",
            ),
            (
                self.recorded,
                "recorded",
                "certificate found in issued/ (as undelivered)",
                "certificates found in issued/ (as undelivered)",
            ),
            (
                self.delivered,
                "marked",
                "certificate delivered",
                "certificates delivered",
            ),
            (
                self.temporary_files,
                "removed",
                "temporary file",
                "temporary files",
            ),
        ];
        for (n, verb, one, many) in counted {
            if n > 0 {
                parts.push(format!("{verb} {n} {}", if n == 1 { one } else { many }));
            }
        }
        parts.join("; ")
    }
}

impl CaStore {
    /// Takes the CA's write lock (`wait` is called first if another certkit process holds it), then reconciles
    /// what an interrupted run left behind. Refuses to go on when the inventory or its checkpoint show
    /// tampering: nothing is written to a CA whose record cannot be trusted.
    pub fn lock(&self, wait: &mut dyn FnMut(&Path)) -> Result<(StoreLock, Repairs)> {
        let lock = lock_dir(self.dir(), wait)?;
        let repairs = self.reconcile(&lock)?;
        Ok((lock, repairs))
    }

    pub(super) fn reconcile(&self, lock: &StoreLock) -> Result<Repairs> {
        let mut repairs = Repairs {
            temporary_files: self.remove_temporary_files()?,
            ..Repairs::default()
        };
        let path = self.path(INVENTORY);
        let cert = self.cert()?;
        let binding = self.binding()?;
        let mut found_in_issued = Vec::new();
        if inventory::first_line_is_legacy(&path)? {
            let log = inventory::read(&path, false)?;
            self.upgrade(&log, &binding, &cert)?;
            repairs.upgraded = true;
            // certkit 0.1 wrote certificates before recording them: what it left in issued/ is recorded now.
            found_in_issued = self.unrecorded_copies(&log.into_entries(&path)?, &cert)?;
        }
        if log_append::repair_tail(&path)? {
            repairs.tail_repaired = true;
        }
        let checkpoint = self.signed_checkpoint()?;
        self.check_against_checkpoint(checkpoint.as_ref(), &binding)?;
        // The index follows the log: what the log gained is read and its chain checked (a rebuild checks all).
        let lines = self
            .with_index(|index| index.catch_up().map(|_| index.lines))
            .map_err(|e| match e {
                Error::Inventory { line, what, .. } => self.refusal(line, &what),
                other => other,
            })?;
        // Every CA since certkit 0.2 has a checkpoint from init on; only an upgraded 0.1 CA may lack one. A
        // missing one would let the next checkpoint cover a log cut short, so nothing is written.
        if checkpoint.is_none() && lines > 0 && !self.path(INVENTORY_V1).exists() {
            return Err(self.refusal(
                lines,
                &format!(
                    "{} is missing",
                    self.path(super::checkpoint::CHECKPOINT).display()
                ),
            ));
        }
        repairs.settings_finished = self.finish_settings_change(checkpoint.as_ref())?;
        // Records a version 2 checkpoint covers were checked before it was signed; those after it are now.
        let vouched = checkpoint.as_ref().filter(|c| !c.is_v1());
        let after = self.after_checkpoint(vouched)?;
        let head = vouched.map_or(binding.as_str(), |c| c.head.as_str());
        self.check_records(&after, head, &cert)?;
        repairs.copies_restored = self.restore_copies(&after)?;
        let undelivered = self.undelivered()?;
        repairs.copies_restored += self.restore_undelivered_copies(&undelivered, &after)?;
        repairs.temporary_files += self.remove_staged(&undelivered);
        let mut events = Vec::new();
        for entry in &undelivered {
            if !entry.issued.outputs.is_empty() && all_present(&entry.issued.outputs) {
                events.push(Event::Delivered(DeliveredRecord {
                    serial: entry.issued.serial.clone(),
                }));
                repairs.delivered += 1;
            }
        }
        for cert in found_in_issued {
            let mut record = found_record(&cert)?;
            record.pending = true;
            events.push(Event::Issued(record));
            repairs.recorded += 1;
        }
        if !events.is_empty() {
            self.append(lock, &events)?;
        }
        repairs.renewal_finished = self.finish_renewal(lock)?;
        (repairs.cross_kept, repairs.rekey_undone) = self.finish_cross_certificates(lock)?;
        Ok(repairs)
    }

    /// The error that stops a writing command at inventory line `line`.
    fn refusal(&self, line: usize, what: &str) -> Error {
        Error::Inventory {
            path: self.path(INVENTORY),
            line,
            what: format!(
                "{what}; nothing was written. See \"certkit-ca audit --ca {}\"",
                self.dir().display()
            ),
        }
    }

    /// Checks the log after the last checkpoint (`after`, which must follow `head` in the hash chain): every
    /// `issued` record in it against its certificate and the CA. A record whose certificate this CA did not
    /// sign, or that says something its certificate does not, stops every writing command, so that no
    /// checkpoint ever covers it and nothing is copied from it into `issued/`.
    fn check_records(&self, after: &Log, head: &str, ca: &CertInfo) -> Result<()> {
        let mut prev = head.to_string();
        for line in &after.lines {
            if line.prev.as_deref() != Some(prev.as_str()) {
                return Err(self.refusal(
                    line.number,
                    "the record does not follow the one before it: the log was changed",
                ));
            }
            prev = line.hash.clone();
        }
        match self.untrue_in(after, ca)?.into_iter().next() {
            Some(untrue) => Err(self.refusal(untrue.line, &untrue.what)),
            None => Ok(()),
        }
    }

    /// The records the CA key has not vouched for (not covered by a version 2 checkpoint) that are not true:
    /// their certificate was not signed by this CA, cannot be read, or says something else than the record.
    pub fn untrue_records(&self) -> Result<Vec<UntrueRecord>> {
        let checkpoint = self.signed_checkpoint()?;
        let after = self.after_checkpoint(checkpoint.as_ref().filter(|c| !c.is_v1()))?;
        self.untrue_in(&after, &self.cert()?)
    }

    fn untrue_in(&self, log: &Log, ca: &CertInfo) -> Result<Vec<UntrueRecord>> {
        // Signed by any of the CA's keys: a re-key records what the old key signed before ca.pem changes.
        let ca = match self.lineage() {
            Ok(lineage) => IssuerCheck::with_keys(ca, &lineage.keys)?,
            Err(_) => IssuerCheck::new(ca)?,
        };
        let ca = &ca;
        let mut untrue = Vec::new();
        for line in &log.lines {
            let (inventory::Event::Issued(record) | inventory::Event::Imported(record)) =
                &line.event
            else {
                continue;
            };
            let copy = self.issued_copy(&record.serial);
            // Records of certkit 0.1 whose copy could not be matched carry no certificate: the copy is checked.
            let what = match record.cert_der().or_else(|| std::fs::read(&copy).ok()) {
                None => Some(format!(
                    "the record of serial {} carries no certificate and {} is missing",
                    record.serial,
                    copy.display()
                )),
                Some(der) => record
                    .falsehood(&der, ca, Signature::Verify)
                    .map(|f| f.message),
            };
            if let Some(what) = what {
                untrue.push(UntrueRecord {
                    line: line.number,
                    serial: record.serial.clone(),
                    what,
                });
            }
        }
        Ok(untrue)
    }

    /// Finishes or drops a settings change an interrupted command staged in `ca.json.new`: moved into place
    /// when the CA key signed it (in `checkpoint`), removed when it did not. True when it was moved.
    fn finish_settings_change(&self, checkpoint: Option<&Checkpoint>) -> Result<bool> {
        let Some(staged) = self.staged_settings()? else {
            return Ok(false);
        };
        let next = self.path(CA_SETTINGS_NEXT);
        if checkpoint.and_then(|c| c.settings.as_ref()) == Some(&staged) {
            files::rename_into_place(&next, &self.path(CA_SETTINGS))?;
            return Ok(true);
        }
        std::fs::remove_file(&next).map_err(|e| Error::io("remove", &next, e))?;
        Ok(false)
    }

    /// Writes `issued/` copies of the records after the last checkpoint that are missing again, from the
    /// certificates the records carry (checked against the CA by now). A copy goes missing when a crash stops a
    /// delivery between its record and its copy; those are the only records a crash can leave so.
    fn restore_copies(&self, after: &Log) -> Result<usize> {
        let mut restored = 0;
        for line in &after.lines {
            if let inventory::Event::Issued(record) | inventory::Event::Imported(record) =
                &line.event
                && !self.issued_copy(&record.serial).exists()
                && let Some(der) = record.cert_der()
            {
                files::write_new(&self.issued_copy(&record.serial), &der, PUBLIC)?;
                restored += 1;
            }
        }
        Ok(restored)
    }

    /// Writes the missing `issued/` copies of undelivered certificates recorded before the last checkpoint
    /// (those after it are done by [`CaStore::restore_copies`]): their records are read again from the log.
    fn restore_undelivered_copies(&self, undelivered: &[Entry], after: &Log) -> Result<usize> {
        let first_after = after.lines.first().map_or(usize::MAX, |l| l.number);
        let mut restored = 0;
        for entry in undelivered.iter().filter(|e| e.line < first_after) {
            let copy = self.issued_copy(&entry.issued.serial);
            if copy.exists() {
                continue;
            }
            if let Some(der) = self.record_certificate(entry)? {
                files::write_new(&copy, &der, PUBLIC)?;
                restored += 1;
            }
        }
        Ok(restored)
    }

    /// Removes `.certkit-*` files (writes a crash interrupted) from the CA folder.
    fn remove_temporary_files(&self) -> Result<usize> {
        let mut removed = 0;
        // Every folder certkit writes into under the lock: a temporary file there is an interrupted write (in
        // keys/, an encrypted CA key that never became one).
        for dir in temporary_file_folders(self) {
            let Ok(listing) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(TEMP_PREFIX)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| Error::io("remove", &entry.path(), e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Removes what the interrupted deliveries of `undelivered` staged and never moved into place: the
    /// `issued/` copy (`issued/.certkit-SERIAL.cer`) and, beside their outputs, `.certkit-SERIAL-*` files, which
    /// may hold a private key or a PFX. Returns how many files it removed.
    fn remove_staged(&self, undelivered: &[Entry]) -> usize {
        let mut removed = 0;
        for entry in undelivered {
            let serial = &entry.issued.serial;
            if std::fs::remove_file(self.staged_copy(serial)).is_ok() {
                removed += 1;
            }
            let prefix = staged_prefix(serial);
            let mut folders: Vec<&Path> = entry
                .issued
                .outputs
                .iter()
                .map(|o| files::folder_of(Path::new(&o.path)))
                .collect();
            folders.dedup();
            for folder in folders {
                let Ok(listing) = std::fs::read_dir(folder) else {
                    continue;
                };
                for file in listing.flatten() {
                    if file.file_name().to_string_lossy().starts_with(&prefix)
                        && file.file_type().is_ok_and(|t| t.is_file())
                        && std::fs::remove_file(file.path()).is_ok()
                    {
                        removed += 1;
                    }
                }
            }
        }
        removed
    }

    /// Rewrites a certkit 0.1 inventory with a hash chain, keeping every field of every record, adding the
    /// certificate itself from `issued/` where the copy matches the record. The original stays beside it.
    fn upgrade(&self, log: &Log, binding: &str, ca: &CertInfo) -> Result<()> {
        let path = self.path(INVENTORY);
        if log.lines.iter().any(|l| l.prev.is_some()) {
            let line = log
                .lines
                .iter()
                .find(|l| l.prev.is_none())
                .map_or(0, |l| l.number);
            return Err(Error::Inventory {
                path,
                line,
                what: "the record has no hash chain, but others have: the inventory was edited"
                    .into(),
            });
        }
        let original = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let text = String::from_utf8_lossy(&original);
        let mut values = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(mut value) = serde_json::from_str::<serde_json::Value>(line) else {
                // A torn last line of a 0.1 inventory: it was never acted on.
                continue;
            };
            if let Some(map) = value.as_object_mut()
                && map.get("event").and_then(|e| e.as_str()) == Some("issued")
                && let Some(serial) = map.get("serial").and_then(|s| s.as_str())
                && let Ok(serial) = Serial::parse(serial)
                && let Ok(der) = std::fs::read(self.issued_copy(&serial))
                && let Ok(copy) = CertInfo::from_der(&der, Path::new("issued copy"))
                && map.get("thumbprint").and_then(|t| t.as_str())
                    == Some(copy.thumbprint.to_string().as_str())
                && copy.is_signed_by(ca)?
            {
                map.insert(
                    "der".into(),
                    serde_json::Value::String(openssl::base64::encode_block(&der)),
                );
            }
            values.push(value);
        }
        let backup = self.path(INVENTORY_V1);
        match std::fs::read(&backup) {
            Ok(existing) if existing == original => {}
            Ok(_) => {
                return Err(Error::BadInput(format!(
                    "{} exists and is not a copy of {}; move it away so the upgrade can keep the original there",
                    backup.display(),
                    path.display()
                )));
            }
            Err(_) => files::write_new(&backup, &original, PUBLIC)?,
        }
        files::replace(
            &path,
            log_append::chained_text(&values, binding)?.as_bytes(),
            PUBLIC,
        )
    }

    /// Refuses a log that no longer holds what the last checkpoint signed (a checkpoint the CA did not sign is
    /// refused when it is read). Costs one line of the log: the chain makes the line the checkpoint ends on
    /// stand for every line before it.
    fn check_against_checkpoint(
        &self,
        checkpoint: Option<&Checkpoint>,
        binding: &str,
    ) -> Result<()> {
        let Some(checkpoint) = checkpoint else {
            return Ok(());
        };
        if checkpoint.count == 0 {
            if checkpoint.head != binding {
                return Err(Error::CaUnusable(format!(
                    "{} is not the certificate this CA's checkpoint was made for: the CA certificate was replaced; restore it from a backup (see \"certkit-ca audit --ca {}\")",
                    self.path(CA_PEM).display(),
                    self.dir().display()
                )));
            }
            return Ok(());
        }
        let path = self.path(INVENTORY);
        let holds = match checkpoint.bytes {
            Some(bytes) => inventory::line_ending_at(&path, bytes)?
                .is_some_and(|line| inventory::line_hash(&line) == checkpoint.head),
            // A checkpoint of certkit 0.2 says only how many lines: the log is read once to find that line.
            None => inventory::read(&path, false)?
                .lines
                .get(checkpoint.count - 1)
                .is_some_and(|l| l.hash == checkpoint.head),
        };
        if !holds {
            return Err(self.refusal(
                checkpoint.count,
                &format!(
                    "the log no longer holds the {} record(s) the checkpoint of {} signed",
                    checkpoint.count,
                    crate::dates::rfc3339(checkpoint.time)
                ),
            ));
        }
        Ok(())
    }

    /// Certificates in `issued/` that no record names and that this CA signed.
    fn unrecorded_copies(&self, entries: &[Entry], ca: &CertInfo) -> Result<Vec<CertInfo>> {
        let recorded: HashSet<&Serial> = entries.iter().map(|e| &e.issued.serial).collect();
        let mut found = Vec::new();
        let Ok(listing) = std::fs::read_dir(self.path(ISSUED_DIR)) else {
            return Ok(found);
        };
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(serial) = name
                .strip_suffix(".cer")
                .and_then(|s| Serial::parse(s).ok())
            else {
                continue;
            };
            if recorded.contains(&serial) {
                continue;
            }
            let Ok(der) = std::fs::read(entry.path()) else {
                continue;
            };
            if let Ok(cert) = CertInfo::from_der(&der, &entry.path())
                && cert.serial == serial
                && cert.is_signed_by(ca)?
            {
                found.push(cert);
            }
        }
        Ok(found)
    }
}

/// The folders of a CA that certkit writes into under its lock, where an interrupted write can leave a
/// temporary file: the CA folder, `keys/` and `history/` (small folders, listed at every lock; `issued/`, which
/// holds a file per certificate, has its staged copies removed by serial, see `remove_staged`).
pub fn temporary_file_folders(store: &CaStore) -> [std::path::PathBuf; 3] {
    [
        store.dir().to_path_buf(),
        store.path(KEYS_DIR),
        store.path(HISTORY_DIR),
    ]
}
