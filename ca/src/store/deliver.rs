//! Delivering what the CA signed by the write-ahead rule: records first, then files, then `delivered`; and the
//! leftovers of interrupted deliveries, which a rerun may replace.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::folder::{CaStore, StoreLock};
use super::guard;
use super::inventory::{DeliveredRecord, Entry, Event, IssuedRecord, OutputRecord};
use super::layout::*;
use crate::certinfo::{CertInfo, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys::KeyType;
use crate::profile::Profile;

/// The outputs of interrupted deliveries, which a rerun may replace: (resolved path, SHA-256) pairs from the
/// records of certificates that never reached all their files.
#[derive(Clone, Debug, Default)]
pub struct Leftovers(HashSet<(PathBuf, String)>);

impl Leftovers {
    /// The leftovers among `entries`: outputs of undelivered certificates whose delivery is incomplete.
    pub fn of(entries: &[Entry]) -> Self {
        let mut set = HashSet::new();
        for entry in entries.iter().filter(|e| !e.delivered) {
            let outputs = &entry.issued.outputs;
            if outputs.is_empty() || all_present(outputs) {
                continue;
            }
            for o in outputs {
                set.insert((PathBuf::from(&o.path), o.sha256.clone()));
            }
        }
        Leftovers(set)
    }

    /// True if the file at `path` is one of them, byte for byte.
    pub fn holds(&self, path: &Path) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let resolved = guard::resolve(path);
        match std::fs::read(&resolved) {
            Ok(bytes) => self.0.contains(&(resolved, files::sha256_hex(&bytes))),
            Err(_) => false,
        }
    }
}

/// How the temporary files of a certificate's outputs are named while its delivery is under way
/// (`.certkit-SERIAL-*`): a crash may leave them, with a key inside, and the next reconcile removes them.
pub fn staged_prefix(serial: &crate::serial::Serial) -> String {
    format!("{TEMP_PREFIX}{serial}-")
}

/// True if every output is in place with the bytes recorded.
pub(super) fn all_present(outputs: &[OutputRecord]) -> bool {
    outputs
        .iter()
        .all(|o| std::fs::read(&o.path).is_ok_and(|bytes| files::sha256_hex(&bytes) == o.sha256))
}

/// One file a certificate is delivered in.
#[derive(Debug)]
pub struct OutputFile {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub bytes: Vec<u8>,
    /// Its mode (0600 for keys and PFX files).
    pub mode: u32,
}

/// A signed certificate and the files it is to be delivered in.
#[derive(Debug)]
pub struct Delivery {
    /// Its record (carrying the certificate).
    pub record: IssuedRecord,
    /// Its files.
    pub files: Vec<OutputFile>,
}

impl CaStore {
    /// The outputs of interrupted deliveries, which a rerun may replace.
    pub fn leftovers(&self) -> Result<Leftovers> {
        Ok(Leftovers::of(&self.undelivered()?))
    }

    /// The certificate an earlier run delivered to exactly `paths` but never confirmed: it failed or was killed
    /// after its files were in place and before it signed its checkpoint (a full disk on the last append, a
    /// crash). Such a certificate's record comes after the last checkpoint, it is delivered (the reconcile marks
    /// it so), it was issued to `cn`, and every one of `paths` holds the bytes recorded. A rerun of the same
    /// command reports it instead of failing on files that exist.
    pub fn unconfirmed_delivery(&self, paths: &[PathBuf], cn: &str) -> Result<Option<CertInfo>> {
        let covered = self.signed_checkpoint()?.map_or(0, |c| c.count);
        let wanted: HashSet<String> = paths
            .iter()
            .map(|p| guard::resolve(p).display().to_string())
            .collect();
        for entry in self.recorded_after(covered)?.into_iter().rev() {
            let record = &entry.issued;
            let recorded: HashSet<String> = record.outputs.iter().map(|o| o.path.clone()).collect();
            if entry.delivered
                && entry.revoked.is_none()
                && record.cn == cn
                && recorded == wanted
                && all_present(&record.outputs)
            {
                let copy = self.issued_copy(&record.serial);
                return CertInfo::from_der(&files::read(&copy)?, &copy).map(Some);
            }
        }
        Ok(None)
    }

    /// Refuses output paths that are in a CA folder, or that exist and are not leftovers of an interrupted
    /// delivery; run before asking for passwords (and again, under the lock, when delivering).
    pub fn check_outputs_free(&self, paths: &[PathBuf]) -> Result<()> {
        let leftovers = self.leftovers()?;
        for path in paths {
            guard::check_output(path, &[])?;
            if path.symlink_metadata().is_ok() && !leftovers.holds(path) {
                return Err(Error::Exists { path: path.clone() });
            }
        }
        Ok(())
    }

    /// Delivers signed certificates by the write-ahead rule: (1) their records, carrying the certificates and
    /// the hashes of their files, are appended and flushed; (2) their `issued/` copies and files are staged and
    /// flushed together; (3) the copies, then the files are moved into place; (4) `delivered` events are
    /// appended. A crash at any point leaves every signed certificate recorded. An existing file is replaced
    /// only if it is a leftover of an interrupted delivery (`leftovers`). Returns the files of each delivery.
    pub fn deliver(
        &self,
        lock: &StoreLock,
        leftovers: &Leftovers,
        deliveries: Vec<Delivery>,
    ) -> Result<Vec<Vec<PathBuf>>> {
        let mut records = Vec::new();
        let mut outputs = Vec::new();
        // Each output folder is checked and resolved once, however many files go into it.
        let mut folders: std::collections::HashMap<PathBuf, PathBuf> =
            std::collections::HashMap::new();
        for delivery in deliveries {
            let mut record = delivery.record;
            let der = record
                .cert_der()
                .ok_or(Error::Bug("a delivery without its certificate"))?;
            record.outputs.clear();
            let mut files_of = Vec::new();
            for file in delivery.files {
                let folder = files::folder_of(&file.path).to_path_buf();
                let resolved_folder = match folders.get(&folder) {
                    Some(resolved) => resolved.clone(),
                    None => {
                        guard::check_output_dir(&folder)?;
                        let resolved = std::fs::canonicalize(&folder)
                            .map_err(|e| Error::io("open folder", &folder, e))?;
                        folders.insert(folder, resolved.clone());
                        resolved
                    }
                };
                let name = file
                    .path
                    .file_name()
                    .ok_or(Error::Bug("an output without a file name"))?;
                let replace = file.path.symlink_metadata().is_ok();
                if replace {
                    // An existing file may be a link out of the folder: check what it points to as well.
                    guard::check_output(&file.path, &[])?;
                    if !leftovers.holds(&file.path) {
                        return Err(Error::Exists { path: file.path });
                    }
                }
                record.outputs.push(OutputRecord {
                    path: resolved_folder.join(name).display().to_string(),
                    sha256: files::sha256_hex(&file.bytes),
                });
                files_of.push((file, replace));
            }
            record.pending = true;
            records.push((record, der));
            outputs.push(files_of);
        }
        let events: Vec<Event> = records
            .iter()
            .map(|(r, _)| Event::Issued(r.clone()))
            .collect();
        self.append(lock, &events)?;

        let mut copies = Vec::new();
        for (record, der) in &records {
            let staged = self.staged_copy(&record.serial);
            let name = staged
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or(Error::Bug("a staged copy without a name"))?;
            copies.push(files::stage_named(
                &self.issued_copy(&record.serial),
                der,
                PUBLIC,
                name,
            )?);
        }
        let mut staged = Vec::new();
        for ((record, _), files_of) in records.iter().zip(&outputs) {
            let prefix = staged_prefix(&record.serial);
            let mut group = Vec::new();
            for (file, replace) in files_of {
                let file_staged = files::stage_as(&file.path, &file.bytes, file.mode, &prefix)?;
                group.push((file_staged, *replace));
            }
            staged.push(group);
        }
        files::flush(copies.iter().chain(staged.iter().flatten().map(|(s, _)| s)))?;
        for copy in copies {
            let target = copy.target().to_path_buf();
            match copy.place_new() {
                Ok(()) => {}
                // Restored by a reconcile from the record: the same certificate.
                Err(Error::Exists { .. }) if target.exists() => {}
                Err(err) => return Err(err),
            }
        }
        files::sync_folders([self.path(ISSUED_DIR).join("x").as_path()])?;
        let mut delivered: Vec<Vec<PathBuf>> = Vec::new();
        let mut placed_new: Vec<PathBuf> = Vec::new();
        for group in staged {
            let mut paths = Vec::new();
            for (file, replace) in group {
                let target = file.target().to_path_buf();
                let result = if replace {
                    file.place_over()
                } else {
                    file.place_new()
                };
                if let Err(err) = result {
                    // The certificates stay recorded (undelivered); the files placed so far go again.
                    files::remove_all(&placed_new);
                    return Err(err);
                }
                if !replace {
                    placed_new.push(target.clone());
                }
                paths.push(target);
            }
            delivered.push(paths);
        }
        files::sync_folders(delivered.iter().flatten().map(PathBuf::as_path))?;
        let done: Vec<Event> = records
            .iter()
            .map(|(r, _)| {
                Event::Delivered(DeliveredRecord {
                    serial: r.serial.clone(),
                })
            })
            .collect();
        self.append(lock, &done)?;
        Ok(delivered)
    }

    /// Records a certificate of this CA found at an output (left by certkit 0.1, which wrote outputs before
    /// recording), with `files` as its outputs, undelivered, so that a rerun may replace them.
    pub fn record_found(
        &self,
        lock: &StoreLock,
        cert: &CertInfo,
        files_found: &[PathBuf],
    ) -> Result<()> {
        let mut record = found_record(cert)?;
        record.pending = true;
        for path in files_found {
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            record.outputs.push(OutputRecord {
                path: guard::resolve(path).display().to_string(),
                sha256: files::sha256_hex(&bytes),
            });
        }
        self.append(lock, &[Event::Issued(record)])?;
        files::write_new(&self.issued_copy(&cert.serial), &cert.der, PUBLIC)
    }
}

/// The record of a certificate of this CA found on disk without one: its profile judged by its EKUs.
pub(super) fn found_record(cert: &CertInfo) -> Result<IssuedRecord> {
    let (profile, own) = if cert.is_ca {
        (Profile::Ca, "")
    } else if cert.ekus.iter().any(|e| e == EKU_SERVER_AUTH) {
        (Profile::Server, EKU_SERVER_AUTH)
    } else if cert.ekus.iter().any(|e| e == EKU_DOCUMENT_ENCRYPTION) {
        (Profile::Encryption, EKU_DOCUMENT_ENCRYPTION)
    } else {
        (Profile::Client, crate::certinfo::EKU_CLIENT_AUTH)
    };
    let extra = cert.ekus.iter().filter(|e| *e != own).cloned().collect();
    Ok(IssuedRecord::new(
        cert,
        cert.cn.as_deref().unwrap_or_default(),
        profile,
        extra,
        KeyType::of_spki_der(&cert.spki_der)?,
        None,
        None,
    ))
}
