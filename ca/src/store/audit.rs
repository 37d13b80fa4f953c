//! `certkit-ca audit`: everything an auditor can check about a CA folder without the CA's password, reported as
//! findings (a level, a stable code, the inventory line, a message) rather than failing at the first one.
//!
//! What it can see: a record changed, removed or inserted anywhere (the hash chain); records cut off before the
//! last checkpoint, or a checkpoint the CA did not sign; certificates in `issued/` that no record names, or
//! that differ from their record; duplicate serials; a published CRL that the CA did not sign, that lists what
//! was never revoked, or that misses a revocation. What it cannot see: an intruder who also holds the CA key
//! and its password can rewrite the log and sign a new checkpoint; write the head hash this prints into the
//! key-ceremony log, so that such a rewrite shows against a record kept elsewhere.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::checkpoint::{CHECKPOINT, Checkpoint};
use super::folder::CaStore;
use super::inventory::{self, Log};
use super::layout::{INVENTORY, ISSUED_DIR, TEMP_PREFIX};
use crate::certinfo::CertInfo;
use crate::error::Result;
use crate::serial::Serial;

/// How bad a finding is: errors fail the audit, warnings and notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The record cannot be trusted as it is.
    Error,
    /// Something to act on that does not show tampering (a crash leftover, a stale CRL).
    Warning,
    /// Worth knowing.
    Note,
}

/// One thing the audit found.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// How bad.
    pub level: Level,
    /// A stable name for scripts (never renamed).
    pub code: &'static str,
    /// The inventory line it concerns, if any.
    pub line: Option<usize>,
    /// What, in words.
    pub message: String,
}

/// The last checkpoint, as the audit saw it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointFacts {
    /// Records it covers.
    pub count: usize,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Its head hash.
    pub head: String,
    /// True if the CA's key signed it.
    pub signature_ok: bool,
}

/// The result of an audit.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    /// The hash of the last record: write it into the key-ceremony log.
    pub head: String,
    /// Records in the inventory.
    pub records: usize,
    /// Certificates recorded.
    pub certificates: usize,
    /// The last checkpoint.
    pub checkpoint: Option<CheckpointFacts>,
    /// Everything found, in the order checked.
    pub findings: Vec<Finding>,
    /// True when no finding is an error.
    pub ok: bool,
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, level: Level, code: &'static str, line: Option<usize>, message: String) {
        self.0.push(Finding {
            level,
            code,
            line,
            message,
        });
    }
}

/// Audits the CA folder of `store`. Reads only; needs no password.
pub fn audit(store: &CaStore) -> Result<Audit> {
    let ca = store.cert()?;
    let binding = inventory::ca_binding(&ca.der);
    let mut f = Findings(Vec::new());
    let inventory_path = store.path(INVENTORY);
    let bytes = match std::fs::read(&inventory_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(crate::Error::io("read", &inventory_path, e)),
    };
    let (log, damaged) = inventory::parse_lenient(&bytes);
    for (line, what) in damaged {
        f.add(
            Level::Error,
            "record-unreadable",
            Some(line),
            format!("the record cannot be read ({what})"),
        );
    }
    if log.torn_tail {
        f.add(
            Level::Warning,
            "torn-last-line",
            None,
            "the last line was cut by a crash mid-write; the next command that writes to the CA removes it"
                .into(),
        );
    }
    check_chain(&log, &binding, &mut f);
    let checkpoint = check_checkpoint(store, &log, &binding, &ca, &mut f)?;
    let certificates = check_records(store, &log, &ca, &mut f)?;
    check_temporary_files(store, &mut f);
    check_key_file(store, &mut f)?;
    check_crls(store, &log, &ca, &mut f)?;
    let ok = f.0.iter().all(|x| x.level != Level::Error);
    Ok(Audit {
        head: log.head(&binding),
        records: log.lines.len(),
        certificates,
        checkpoint,
        findings: f.0,
        ok,
    })
}

fn check_chain(log: &Log, binding: &str, f: &mut Findings) {
    if log.is_legacy() && log.lines.iter().all(|l| l.prev.is_none()) {
        f.add(
            Level::Error,
            "not-chained",
            None,
            "the inventory has no hash chain yet (certkit 0.1 format), so changes to it cannot be seen; any command that writes to the CA upgrades it".into(),
        );
        return;
    }
    for b in log.chain_breaks(binding) {
        f.add(Level::Error, "chain-broken", Some(b.line), b.what);
    }
}

fn check_checkpoint(
    store: &CaStore,
    log: &Log,
    binding: &str,
    ca: &CertInfo,
    f: &mut Findings,
) -> Result<Option<CheckpointFacts>> {
    let path = store.path(CHECKPOINT);
    let checkpoint = match Checkpoint::read(&path) {
        Ok(c) => c,
        Err(e) => {
            f.add(Level::Error, "checkpoint-unreadable", None, e.to_string());
            return Ok(None);
        }
    };
    let Some(checkpoint) = checkpoint else {
        if !log.lines.is_empty() {
            f.add(
                Level::Error,
                "checkpoint-missing",
                None,
                format!(
                    "{} is missing although the CA has signed certificates: it was removed, or the CA was upgraded and has not used its key since (run certkit-ca crl)",
                    path.display()
                ),
            );
        }
        return Ok(None);
    };
    let signature_ok = checkpoint.verify(ca)?;
    if !signature_ok {
        f.add(
            Level::Error,
            "checkpoint-forged",
            None,
            format!("{} is not signed by this CA's key", path.display()),
        );
    }
    let covered = match checkpoint.count {
        0 => Some(binding.to_string()),
        n => log.lines.get(n - 1).map(|l| l.hash.clone()),
    };
    if checkpoint.count == 0 && covered.as_deref() != Some(checkpoint.head.as_str()) {
        f.add(
            Level::Error,
            "ca-replaced",
            None,
            "ca.pem is not the certificate the checkpoint was made for: the CA certificate was replaced".into(),
        );
    } else if checkpoint.count > log.lines.len() {
        f.add(
            Level::Error,
            "log-cut",
            Some(log.lines.len()),
            format!(
                "the checkpoint of {} covers {} records but the inventory has {}: records were cut off",
                crate::dates::rfc3339(checkpoint.time),
                checkpoint.count,
                log.lines.len()
            ),
        );
    } else if covered.as_deref() != Some(checkpoint.head.as_str()) {
        f.add(
            Level::Error,
            "log-rewritten",
            Some(checkpoint.count),
            format!(
                "record {} is not the one the checkpoint of {} signed: the log was rewritten",
                checkpoint.count,
                crate::dates::rfc3339(checkpoint.time)
            ),
        );
    } else if checkpoint.count < log.lines.len() {
        f.add(
            Level::Note,
            "after-checkpoint",
            Some(checkpoint.count + 1),
            format!(
                "{} record(s) after the last checkpoint (the next command that uses the CA key covers them)",
                log.lines.len() - checkpoint.count
            ),
        );
    }
    Ok(Some(CheckpointFacts {
        count: checkpoint.count,
        time: checkpoint.time,
        head: checkpoint.head,
        signature_ok,
    }))
}

/// Every record against its certificate and `issued/` copy, and every copy against a record.
fn check_records(store: &CaStore, log: &Log, ca: &CertInfo, f: &mut Findings) -> Result<usize> {
    let mut seen: HashMap<Serial, usize> = HashMap::new();
    let mut certificates = 0;
    let mut delivered: HashSet<Serial> = HashSet::new();
    let mut revoked: HashSet<Serial> = HashSet::new();
    for line in &log.lines {
        match &line.event {
            inventory::Event::Delivered(d) => {
                delivered.insert(d.serial.clone());
                if !seen.contains_key(&d.serial) {
                    f.add(
                        Level::Error,
                        "unknown-serial",
                        Some(line.number),
                        format!("delivery of {}, which no earlier record issued", d.serial),
                    );
                }
            }
            inventory::Event::Revoked(r) => {
                revoked.insert(r.serial.clone());
                if !seen.contains_key(&r.serial) {
                    f.add(
                        Level::Error,
                        "unknown-serial",
                        Some(line.number),
                        format!("revocation of {}, which no earlier record issued", r.serial),
                    );
                }
            }
            inventory::Event::Issued(record) => {
                certificates += 1;
                if let Some(first) = seen.insert(record.serial.clone(), line.number) {
                    f.add(
                        Level::Error,
                        "serial-duplicate",
                        Some(line.number),
                        format!(
                            "serial {} was already recorded on line {first}",
                            record.serial
                        ),
                    );
                }
                let copy_path = store.issued_copy(&record.serial);
                let copy = std::fs::read(&copy_path).ok();
                let der = record.cert_der();
                let cert_bytes = der.as_ref().or(copy.as_ref());
                match cert_bytes.map(|d| CertInfo::from_der(d, &copy_path)) {
                    Some(Ok(cert)) => {
                        if cert.serial != record.serial || cert.thumbprint != record.thumbprint {
                            f.add(Level::Error, "record-mismatch", Some(line.number), format!("the certificate of serial {} does not match its record (serial or thumbprint differs)", record.serial));
                        } else if !cert.is_signed_by(ca)? {
                            f.add(
                                Level::Error,
                                "not-signed-by-ca",
                                Some(line.number),
                                format!(
                                    "the certificate of serial {} is not signed by this CA",
                                    record.serial
                                ),
                            );
                        }
                    }
                    Some(Err(_)) => f.add(
                        Level::Error,
                        "record-mismatch",
                        Some(line.number),
                        format!("the certificate of serial {} cannot be read", record.serial),
                    ),
                    None => {}
                }
                match (&copy, &der) {
                    (None, Some(_)) => f.add(Level::Warning, "copy-missing", Some(line.number), format!("{} is missing; the next command that takes the CA lock writes it again from the record", copy_path.display())),
                    (None, None) => f.add(Level::Error, "copy-missing", Some(line.number), format!("{} is missing and the record does not carry the certificate", copy_path.display())),
                    (Some(copy), Some(der)) if copy != der => f.add(Level::Error, "copy-differs", Some(line.number), format!("{} is not the certificate recorded for serial {}", copy_path.display(), record.serial)),
                    _ => {}
                }
                if record.pending && !delivered.contains(&record.serial) {
                    // Resolved below once all delivery events are known.
                }
            }
        }
    }
    for line in &log.lines {
        if let inventory::Event::Issued(record) = &line.event
            && record.pending
            && !delivered.contains(&record.serial)
            && !revoked.contains(&record.serial)
        {
            f.add(Level::Note, "undelivered", Some(line.number), format!("serial {} ({}) was recorded but its delivery was interrupted: nobody has it, and it is never allowed", record.serial, record.subject));
        }
    }
    if let Ok(listing) = std::fs::read_dir(store.path(ISSUED_DIR)) {
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
                .map(|c| c.is_signed_by(ca))
                .transpose()?
                .unwrap_or(false);
            f.add(Level::Error, "copy-unrecorded", None, if signed {
                format!("{} is signed by this CA but no record names it: a record was removed, or the certificate was never recorded", path.display())
            } else {
                format!("{} is in issued/ but was not signed by this CA: forged or foreign", path.display())
            });
        }
    }
    Ok(certificates)
}

fn check_temporary_files(store: &CaStore, f: &mut Findings) {
    for dir in [store.dir().to_path_buf(), store.path(ISSUED_DIR)] {
        let Ok(listing) = std::fs::read_dir(&dir) else {
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
fn check_key_file(store: &CaStore, f: &mut Findings) -> Result<()> {
    if let Some(record) = store.settings()?.pkcs11
        && store.path(super::layout::CA_KEY).exists()
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

/// The published CRLs in the CA folder against the revoked records.
fn check_crls(store: &CaStore, log: &Log, ca: &CertInfo, f: &mut Findings) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let entries = match log.clone().into_entries(&store.path(INVENTORY)) {
        Ok(entries) => entries,
        Err(_) => return Ok(()),
    };
    let key = openssl::pkey::PKey::public_key_from_der(&ca.spki_der)?;
    for (name, pem) in [("ca.crl", false), ("ca.crl.pem", true)] {
        let path = store.path(name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let parsed = if pem {
            openssl::x509::X509Crl::from_pem(&bytes)
        } else {
            openssl::x509::X509Crl::from_der(&bytes)
        };
        let Ok(crl) = parsed else {
            f.add(
                Level::Error,
                "crl-unreadable",
                None,
                format!("{} is not a CRL", path.display()),
            );
            continue;
        };
        if !crl.verify(&key).unwrap_or(false) {
            f.add(
                Level::Error,
                "crl-not-signed-by-ca",
                None,
                format!("{} is not signed by this CA", path.display()),
            );
            continue;
        }
        let listed: Vec<Serial> = crl
            .get_revoked()
            .map(|stack| {
                stack
                    .iter()
                    .filter_map(|r| r.serial_number().to_bn().ok())
                    .map(|bn| Serial::from_der_integer(&bn.to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        for serial in &listed {
            let revoked = entries
                .iter()
                .any(|e| e.issued.serial == *serial && e.revoked.is_some());
            if !revoked {
                f.add(
                    Level::Error,
                    "crl-lists-unrevoked",
                    None,
                    format!(
                        "{} lists serial {serial}, which the inventory does not record as revoked",
                        path.display()
                    ),
                );
            }
        }
        for entry in entries
            .iter()
            .filter(|e| e.revoked.is_some() && e.issued.not_after >= now)
        {
            if !listed.contains(&entry.issued.serial) {
                f.add(Level::Warning, "crl-stale", Some(entry.line), format!("serial {} was revoked after {} was published; publish a new CRL (certkit-ca crl)", entry.issued.serial, path.display()));
            }
        }
    }
    Ok(())
}
