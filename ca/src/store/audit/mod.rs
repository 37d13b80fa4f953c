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
mod pass;
mod records;
mod rollback;

pub use findings::{Finding, Level};
pub use rollback::read_expected_heads;

use crate::store::Lineage;
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::checkpoint::{CHECKPOINT, Checkpoint};
use super::folder::CaStore;
use super::layout::INVENTORY;
use super::settings::CaSettings;
use crate::error::{Error, Result};
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
    /// The CA's own certificates over its life (its lineage: the first, renewals, cross-certificates of each
    /// re-key, the current one), oldest first; empty when ca.pem's key is not the CA's.
    pub history: Vec<HistoryCert>,
}

/// One certificate of the CA's lineage.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryCert {
    /// Its serial.
    pub serial: crate::serial::Serial,
    /// Its thumbprint.
    pub thumbprint: crate::thumbprint::Thumbprint,
    /// `first`, `current`, `earlier` (an earlier self-signed certificate of the CA, replaced by a renewal or a
    /// re-key) or `cross-certificate` (a key certified by another CA key).
    pub kind: &'static str,
    /// The key it certifies.
    pub key_id: String,
    /// The key that signed it.
    pub signed_by: Option<String>,
    /// Its end.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
}

/// The lineage's certificates as the audit reports them.
fn history_of(lineage: &Lineage, current: &crate::certinfo::CertInfo) -> Result<Vec<HistoryCert>> {
    let mut history = Vec::new();
    for cert in &lineage.certs {
        let signer = lineage
            .signer_of(cert)?
            .map(crate::keys::key_id)
            .transpose()?;
        let key_id = crate::keys::key_id(&cert.spki_der)?;
        let kind = if cert.der == current.der {
            "current"
        } else if cert.der == lineage.first.der {
            "first"
        } else if signer.as_deref() == Some(key_id.as_str()) {
            "earlier"
        } else {
            "cross-certificate"
        };
        history.push(HistoryCert {
            serial: cert.serial.clone(),
            thumbprint: cert.thumbprint,
            kind,
            key_id,
            signed_by: signer,
            not_after: cert.not_after,
        });
    }
    // The current certificate last (a re-key makes it and its cross-certificates in the same second).
    history.sort_by_key(|h| h.kind == "current");
    Ok(history)
}

/// Audits the CA folder of `store` against itself and `options`. Reads only; needs no password. Reads the log
/// once, one line at a time (`progress` is told how many of its bytes are done), with the records checked on
/// every core.
pub fn audit(
    store: &CaStore,
    options: &AuditOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<Audit> {
    let ca = store.cert()?;
    let binding = store.binding()?;
    let mut f = Findings::default();
    // ca.pem's key must be the CA's: the first certificate's, or one it endorsed. If it is not, nothing it
    // signed vouches for anything, and only its own key checks the records.
    let (lineage, endorsed) = match store.lineage() {
        Ok(lineage) => (lineage, true),
        Err(Error::CaUnusable(why)) => {
            f.add(Level::Error, "ca-replaced", None, why);
            (Lineage::of_current(&ca), false)
        }
        Err(e) => return Err(e),
    };
    let total = std::fs::metadata(store.path(INVENTORY)).map_or(0, |m| m.len());
    let checkpoint = read_checkpoint(store, &mut f);
    let count = checkpoint.as_ref().map(|c| c.count);
    // The certificates a checkpoint the CA signed covers are vouched for by that one signature, as long as
    // the chain up to it is intact: their own signatures are verified only when it is not.
    let vouched = match &checkpoint {
        Some(c) if endorsed && lineage.signed(c)? => c.count,
        _ => 0,
    };
    let before = f.clone();
    let mut pass = pass::run(
        store,
        &lineage,
        count,
        vouched,
        &options.expected_heads,
        &mut f,
        &|done| progress(done, total),
    )?;
    let intact = |pass: &pass::Pass, f: &Findings| {
        let head = checkpoint.as_ref().map(|c| c.head.as_str());
        pass.at_checkpoint.as_ref().map(|c| c.0.as_str()) == head
            && !f.0.iter().any(|x| {
                x.line.is_some_and(|line| line <= vouched)
                    && matches!(x.code, "chain-broken" | "record-unreadable")
            })
    };
    if vouched > 0 && !intact(&pass, &f) {
        f = before;
        pass = pass::run(
            store,
            &lineage,
            count,
            0,
            &options.expected_heads,
            &mut f,
            &|done| progress(done, total),
        )?;
    }
    let (checkpoint, signed) = match checkpoint {
        Some(checkpoint) => check_checkpoint(store, checkpoint, &pass, &binding, &lineage, &mut f)?,
        None => {
            if pass.lines > 0 {
                f.add(
                    Level::Error,
                    "checkpoint-missing",
                    None,
                    format!(
                        "{} is missing although the CA has signed certificates: it was removed, or the CA was upgraded and has not used its key since (run certkit-ca crl)",
                        store.path(CHECKPOINT).display()
                    ),
                );
            }
            (None, None)
        }
    };
    let settings = check_settings(store, signed.as_ref(), &mut f)?;
    if let Some((line, Some(why))) = &pass.last_drill {
        f.add(
            Level::Warning,
            "drill-failed",
            Some(*line),
            format!(
                "the last recovery drill failed ({why}): the key's backup may no longer be restorable; run the drill again with the custodians (certkit-ca restore --backup FILE --check), or make a new backup"
            ),
        );
    }
    for (line, record) in &pass.undelivered {
        let revoked = pass.seen.get(&record.serial).is_some_and(|s| s.revoked);
        records::check_undelivered(record, *line, revoked, &mut f);
    }
    records::check_unrecorded_copies(store, &pass.seen, &lineage, &mut f)?;
    records::check_temporary_files(store, &mut f);
    if endorsed && let Ok(unfinished) = store.unfinished_cross_certificates() {
        for (entry, cert, what) in unfinished {
            let fix = match what {
                crate::store::Unfinished::Keep => {
                    "the next command that writes to the CA keeps it in history/"
                }
                crate::store::Unfinished::Revoke => {
                    "it is a CA certificate for a key the CA never took: the next command that writes to the CA records it revoked; then run certkit-ca crl, and certkit-ca rekey again"
                }
            };
            f.add(
                Level::Warning,
                "rekey-unfinished",
                Some(entry.line),
                format!(
                    "serial {}: a re-key stopped before its end; {fix}",
                    cert.serial
                ),
            );
        }
    }
    records::check_key_file(store, &mut f)?;
    // A CA below another: its chain.pem must still chain up from it.
    match store.chain_as_written(&ca) {
        Err(e) => f.add(Level::Error, "chain-changed", None, e.to_string()),
        Ok(above) => {
            if let Some(gap) = crate::store::chain_gap(&ca, &above)? {
                f.add(Level::Error, "chain-missing", None, gap);
            }
        }
    }
    let sources = rollback::crl_sources(store, &options.crls);
    rollback::check_crls(&sources, &pass, &lineage, &mut f)?;
    rollback::check_expected_heads(&options.expected_heads, &pass, &mut f);
    let ok = f.0.iter().all(|x| x.level != Level::Error);
    let history = if endorsed && lineage.certs.len() > 1 {
        history_of(&lineage, &ca)?
    } else {
        Vec::new()
    };
    Ok(Audit {
        history,
        head: pass.head.clone(),
        records: pass.lines,
        certificates: pass.certificates,
        checkpoint,
        settings,
        findings: f.0,
        ok,
    })
}

/// The checkpoint file, if it can be read (a finding when it cannot).
fn read_checkpoint(store: &CaStore, f: &mut Findings) -> Option<Checkpoint> {
    match Checkpoint::read(&store.path(CHECKPOINT)) {
        Ok(checkpoint) => checkpoint,
        Err(e) => {
            f.add(Level::Error, "checkpoint-unreadable", None, e.to_string());
            None
        }
    }
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
    check_profiles(store, &settings, f);
    Ok(Some(settings))
}

/// Each profile the CA key signed against its file, and every profile file nothing signed.
fn check_profiles(store: &CaStore, settings: &CaSettings, f: &mut Findings) {
    use super::profiles::ProfileState;
    for (name, sha256) in &settings.profiles {
        let path = store.profile_path(name);
        match store.signed_profile_text(name, sha256) {
            Ok((_, ProfileState::Signed)) => {}
            Ok((_, ProfileState::Staged)) => f.add(
                Level::Warning,
                "settings-staged",
                None,
                format!(
                    "profile {name} as the CA key signed it is staged in {}.new (an interrupted profile add); the next profile add moves it into place",
                    path.display()
                ),
            ),
            Ok((_, state)) => f.add(
                Level::Error,
                "settings-changed",
                None,
                format!(
                    "{} is {} after the CA key signed it; certkit refuses to issue by profile {name} until it is restored (or added again with certkit-ca profile add)",
                    path.display(),
                    if state == ProfileState::Missing { "gone" } else { "changed" }
                ),
            ),
            Err(e) => f.add(Level::Error, "settings-changed", None, e.to_string()),
        }
    }
    match store.profile_files() {
        Ok(names) => {
            for name in names.iter().filter(|n| !settings.profiles.contains_key(*n)) {
                f.add(
                    Level::Error,
                    "settings-changed",
                    None,
                    format!(
                        "{} is a profile file the CA key never signed (planted, or a profile add cut short); certkit does not issue by it: remove it, or add it with certkit-ca profile add",
                        store.profile_path(name).display()
                    ),
                );
            }
        }
        Err(e) => f.add(Level::Error, "settings-unreadable", None, e.to_string()),
    }
}

/// The checkpoint against the CA certificate and what the pass saw; returns what the audit saw, and the
/// checkpoint when the CA's key signed it.
fn check_checkpoint(
    store: &CaStore,
    checkpoint: Checkpoint,
    pass: &pass::Pass,
    binding: &str,
    lineage: &Lineage,
    f: &mut Findings,
) -> Result<(Option<CheckpointFacts>, Option<Checkpoint>)> {
    let path = store.path(CHECKPOINT);
    let signature_ok = lineage.signed(&checkpoint)?;
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
        _ => pass.at_checkpoint.clone(),
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
    } else if checkpoint.count > pass.lines {
        f.add(
            Level::Error,
            "log-cut",
            Some(pass.lines),
            format!(
                "the checkpoint of {time} covers {} records but the inventory has {}: records were cut off",
                checkpoint.count, pass.lines
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
            && Some(state) != pass.state_at_checkpoint.as_ref()
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
        if checkpoint.count < pass.lines {
            f.add(
                Level::Note,
                "after-checkpoint",
                Some(checkpoint.count + 1),
                format!(
                    "{} record(s) after the last checkpoint (the next command that uses the CA key covers them)",
                    pass.lines - checkpoint.count
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
