//! `certkit-ca audit`: everything an auditor can check about a CA folder without the CA's password, reported as
//! findings (a level, a stable code, the inventory line, a message) rather than failing at the first one.
//!
//! What it can see: a record changed, removed or inserted anywhere (the hash chain); records cut off before the
//! last checkpoint, or a checkpoint the CA did not sign; a record whose certificate the CA did not sign or that
//! says what its certificate does not; certificates in `issued/` that no record names, or that differ from
//! their record; duplicate serials; settings (`ca.json`) that differ from what the CA key signed; a CRL that
//! the CA did not sign, that lists what was never revoked, or whose number the log does not record (a folder
//! rolled back); a head hash kept outside the folder that the log no longer holds. What it cannot see: the
//! threat model in docs/store-format.md says it whole.

mod findings;
mod records;
mod rollback;

pub use findings::{Finding, Level};
pub use rollback::read_expected_heads;

use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::checkpoint::{CHECKPOINT, Checkpoint, CoveredState};
use super::folder::CaStore;
use super::inventory::{self, Log};
use super::layout::INVENTORY;
use super::settings::CaSettings;
use crate::error::Result;
use findings::Findings;

/// What an audit is to compare the folder with, besides itself.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// Published CRLs (`--crl`).
    pub crls: Vec<PathBuf>,
    /// Head hashes written down outside the folder (`--expect-head`), lowercase.
    pub expected_heads: Vec<String>,
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
    /// The settings as the CA key signed them (None when it has not signed any yet).
    pub settings: Option<CaSettings>,
    /// Everything found, in the order checked.
    pub findings: Vec<Finding>,
    /// True when no finding is an error.
    pub ok: bool,
}

/// Audits the CA folder of `store` against itself and `options`. Reads only; needs no password.
pub fn audit(store: &CaStore, options: &AuditOptions) -> Result<Audit> {
    let ca = store.cert()?;
    let binding = inventory::ca_binding(&ca.der);
    let mut f = Findings::default();
    let inventory_path = store.path(INVENTORY);
    let bytes = match std::fs::read(&inventory_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(crate::Error::io("read", &inventory_path, e)),
    };
    let (log, damaged) = inventory::parse_lenient(&bytes);
    drop(bytes);
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
    let (checkpoint, signed) = check_checkpoint(store, &log, &binding, &ca, &mut f)?;
    let settings = check_settings(store, signed.as_ref(), &mut f)?;
    let certificates = records::check_records(store, &log, &ca, &mut f)?;
    records::check_temporary_files(store, &mut f);
    records::check_key_file(store, &mut f)?;
    let entries = log.entries(&inventory_path).unwrap_or_default();
    let sources = rollback::crl_sources(store, &options.crls);
    rollback::check_crls(&sources, &log, &entries, &ca, &mut f)?;
    rollback::check_expected_heads(&options.expected_heads, &log, &binding, &mut f);
    let ok = f.0.iter().all(|x| x.level != Level::Error);
    Ok(Audit {
        head: log.head(&binding),
        records: log.lines.len(),
        certificates,
        checkpoint,
        settings,
        findings: f.0,
        ok,
    })
}

/// `ca.json` against the settings the CA key signed; returns the signed settings.
fn check_settings(
    store: &CaStore,
    signed: Option<&Checkpoint>,
    f: &mut Findings,
) -> Result<Option<CaSettings>> {
    let file = match store.settings_file() {
        Ok(file) => file,
        Err(e) => {
            f.add(Level::Error, "settings-unreadable", None, e.to_string());
            return Ok(signed.and_then(|c| c.settings.clone()));
        }
    };
    let Some(settings) = signed.and_then(|c| c.settings.clone()) else {
        f.add(
            Level::Warning,
            "settings-unsigned",
            None,
            "the CA key has not signed ca.json yet (a CA made before certkit 0.3); the next command that uses the key signs it as it is now: check it first".into(),
        );
        return Ok(None);
    };
    if file != settings {
        let staged = store.staged_settings().ok().flatten();
        if staged.as_ref() == Some(&settings) {
            f.add(
                Level::Warning,
                "settings-staged",
                None,
                "a settings change the CA key signed is staged in ca.json.new (an interrupted command); the next command that takes the CA lock moves it into place".into(),
            );
        } else {
            f.add(
                Level::Error,
                "settings-changed",
                None,
                format!(
                    "ca.json was changed after the CA key signed it: {}; certkit refuses to use it until it is restored",
                    file.differences(&settings).join("; ")
                ),
            );
        }
    }
    Ok(Some(settings))
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

/// The checkpoint against the CA certificate and the log; returns what the audit saw, and the checkpoint when
/// the CA's key signed it.
fn check_checkpoint(
    store: &CaStore,
    log: &Log,
    binding: &str,
    ca: &crate::certinfo::CertInfo,
    f: &mut Findings,
) -> Result<(Option<CheckpointFacts>, Option<Checkpoint>)> {
    let path = store.path(CHECKPOINT);
    let checkpoint = match Checkpoint::read(&path) {
        Ok(c) => c,
        Err(e) => {
            f.add(Level::Error, "checkpoint-unreadable", None, e.to_string());
            return Ok((None, None));
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
        return Ok((None, None));
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
        0 => Some((binding.to_string(), 0)),
        n => log.lines.get(n - 1).map(|l| (l.hash.clone(), l.end)),
    };
    let covered_head = covered.as_ref().map(|c| c.0.as_str());
    let time = crate::dates::rfc3339(checkpoint.time);
    if checkpoint.count == 0 && covered_head != Some(checkpoint.head.as_str()) {
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
                "the checkpoint of {time} covers {} records but the inventory has {}: records were cut off",
                checkpoint.count,
                log.lines.len()
            ),
        );
    } else if covered_head != Some(checkpoint.head.as_str())
        || checkpoint
            .bytes
            .is_some_and(|b| Some(b) != covered.as_ref().map(|c| c.1))
    {
        f.add(
            Level::Error,
            "log-rewritten",
            Some(checkpoint.count),
            format!(
                "record {} is not the one the checkpoint of {time} signed: the log was rewritten",
                checkpoint.count
            ),
        );
    } else {
        if let Some(state) = &checkpoint.state
            && *state != CoveredState::of(log, checkpoint.count)
        {
            f.add(
                Level::Error,
                "checkpoint-state",
                Some(checkpoint.count),
                format!(
                    "the revocations or undelivered certificates the checkpoint of {time} signed are not those its records show"
                ),
            );
        }
        if checkpoint.count < log.lines.len() {
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
    }
    let facts = CheckpointFacts {
        count: checkpoint.count,
        time: checkpoint.time,
        head: checkpoint.head.clone(),
        signature_ok,
    };
    Ok((Some(facts), signature_ok.then_some(checkpoint)))
}
