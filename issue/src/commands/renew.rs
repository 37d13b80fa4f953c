//! `certkit-issue renew`: a new key and certificate with the same subject, SANs, profile and EKUs, for one
//! certificate or for every one that expires soon (`--expiring-within`, one CA unlock). The old certificate is
//! found and the new one recorded under one lock, a revoked certificate is never renewed, and one that already
//! has a valid, delivered renewal is not renewed twice (two overlapping scheduled rotations), unless `--force`.

use std::io::{self, Write};
use std::path::PathBuf;

use certkit_ca::dates::{Validity, rfc3339};
use certkit_ca::san::San;
use certkit_ca::secret::SecretUse;
use certkit_ca::store::inventory::Entry;
use certkit_ca::term::RowStream;
use certkit_ca::term::output::path_texts;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{CaStore, Error, KeyType, Profile, Result, Serial, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use super::batch::Bar;
use super::ca;
use super::issue::{NewKeyPasswords, NewKeySecrets, issue_one, new_key_plan};
use super::report::IssueReport;
use crate::engine::{Engine, Signer};
use crate::pipeline::KeyPool;
use crate::renewal::{self, Decision, RenewalJob, RenewalStatus};

/// What `certkit-issue renew` was asked to do.
#[derive(Debug)]
pub struct RenewRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Serial, thumbprint or file of the certificate to renew.
    pub certificate: String,
    /// Output prefix.
    pub out: PathBuf,
    /// Validity of the new certificate.
    pub validity: Validity,
    /// Key type (default: the old certificate's).
    pub key: Option<KeyType>,
    /// Renew even if a valid renewal exists.
    pub force: bool,
    /// Passwords and PFX.
    pub secrets: NewKeySecrets,
    /// How to print the result.
    pub format: Format,
}

/// The renewal, as `renew` prints it.
#[derive(Debug, Serialize)]
pub struct RenewReport {
    /// Subject of the new certificate.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Its profile (the old one's).
    pub profile: Profile,
    /// Its key type.
    pub key: KeyType,
    /// Its subject alternative names.
    pub sans: Vec<San>,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Its SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// The serial it renews.
    pub renewal_of: Serial,
    /// The old certificate's thumbprint.
    pub old_thumbprint: Thumbprint,
    /// The old certificate's end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub old_not_after: OffsetDateTime,
    /// True when nothing was issued because a valid renewal existed (the fields describe that renewal).
    pub already_renewed: bool,
    /// Files written.
    pub files: Vec<String>,
    /// The ready-to-paste .cscfg line.
    pub config_line: String,
    /// For a client certificate renewed now: how Active Directory maps it, with its `altSecurityIdentities`
    /// values (a new serial needs a new explicit mapping; docs/ad-mapping.md).
    pub ad_mapping: Option<certkit_ca::ad_mapping::AdMapping>,
    #[serde(skip)]
    issued: Option<IssueReport>,
}

/// Renews the certificate.
pub fn run(req: RenewRequest) -> Result<()> {
    req.secrets.check(Some(certkit_ca::secret::CA_PASS))?;
    let context = ca::open(&req.ca, &req.validity, None, req.secrets.module.clone())?;
    let old = renewal::with_certificate(&context.store, context.store.find(&req.certificate)?)?;
    if let Some(report) = renewed_already(&context.store, &old, req.force)? {
        return term::render(&report, req.format);
    }
    let spec = renewal::spec(
        &old.issued,
        req.validity,
        issued_key(&req, old.issued.key),
        context.crl_url.clone(),
        renewal::profile_of(&context.store, &old.issued, &mut Default::default())?,
    )?;
    let plan = new_key_plan(req.out.clone(), &req.secrets);
    plan.check_free(Some(&context.store))?;
    let mut read = req.secrets.read(Some(context.secret))?;
    let password = read.take(context.secret, SecretUse::Existing)?;
    let ca = context.store.unlock(&password)?;
    drop(password);
    let passwords = NewKeyPasswords::take(&mut read, &req.secrets)?;
    let lock = term::lock(&context.store)?;
    // Found again under the lock: an overlapping run may have renewed it (or it was revoked) meanwhile.
    let old = context.store.find(&req.certificate)?;
    if let Some(report) = renewed_already(&context.store, &old, req.force)? {
        return term::render(&report, req.format);
    }
    let engine = Engine::new(Signer::Ca {
        store: &context.store,
        ca: &ca,
        lock: &lock,
    })?;
    let record = &old.issued;
    let issued = issue_one(
        &engine,
        passwords.order(spec, plan, Some(record.serial.clone())),
    )?;
    drop(lock);
    let key_type = issued_key(&req, record.key);
    let pfx_profile = req.secrets.pfx.as_ref().map(|p| p.profile);
    let issued = IssueReport::new(
        issued,
        record.profile,
        key_type,
        Some(ca.cert.subject.clone()),
        pfx_profile,
        vec![],
    );
    let report = RenewReport {
        subject: issued.subject.clone(),
        serial: issued.serial.clone(),
        profile: record.profile,
        key: key_type,
        sans: issued.sans.clone(),
        not_before: issued.not_before,
        not_after: issued.not_after,
        thumbprint: issued.thumbprint,
        renewal_of: record.serial.clone(),
        old_thumbprint: record.thumbprint,
        old_not_after: record.not_after,
        already_renewed: false,
        files: issued.files.clone(),
        config_line: issued.config_line.clone(),
        ad_mapping: issued.ad_mapping.clone(),
        issued: Some(issued),
    };
    term::render(&report, req.format)
}

fn issued_key(req: &RenewRequest, old: KeyType) -> KeyType {
    req.key.unwrap_or(old)
}

/// Refuses a revoked certificate; reports an existing valid, delivered renewal unless `force`.
fn renewed_already(store: &CaStore, old: &Entry, force: bool) -> Result<Option<RenewReport>> {
    let renewal = match renewal::decide(store, old, force, OffsetDateTime::now_utc())? {
        Decision::Due => return Ok(None),
        Decision::Revoked(revoked) => {
            return Err(Error::BadInput(format!(
                "{} ({}) was revoked ({}); issue a new certificate instead of renewing it",
                old.issued.serial, old.issued.subject, revoked.reason
            )));
        }
        Decision::AlreadyRenewed(renewal) => renewal,
    };
    let r = &renewal.issued;
    Ok(Some(RenewReport {
        subject: r.subject.clone(),
        serial: r.serial.clone(),
        profile: r.profile,
        key: r.key,
        sans: r.sans.clone(),
        not_before: r.not_before,
        not_after: r.not_after,
        thumbprint: r.thumbprint,
        renewal_of: old.issued.serial.clone(),
        old_thumbprint: old.issued.thumbprint,
        old_not_after: old.issued.not_after,
        already_renewed: true,
        files: vec![],
        config_line: r.profile.config_line(&r.thumbprint),
        ad_mapping: None,
        issued: None,
    }))
}

impl Report for RenewReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let Some(issued) = &self.issued else {
            writeln!(
                out,
                "{} ({}) was already renewed: {} (thumbprint {}, valid until {}); nothing issued",
                self.renewal_of,
                self.subject,
                self.serial,
                self.thumbprint,
                rfc3339(self.not_after)
            )?;
            return writeln!(out, "Give --force to renew it again.");
        };
        writeln!(out, "Renewed {} ({})", self.renewal_of, issued.subject)?;
        writeln!(
            out,
            "  old thumbprint  {} (valid until {}, stays valid until revoked)",
            self.old_thumbprint,
            rfc3339(self.old_not_after)
        )?;
        writeln!(out, "  new thumbprint  {}", self.thumbprint)?;
        writeln!(out)?;
        issued.write_text(out)
    }
}

/// What `certkit-issue renew --expiring-within` was asked to do.
#[derive(Debug)]
pub struct RenewManyRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Renew what expires within this many days.
    pub within_days: u32,
    /// Only certificates of this profile.
    pub profile: Option<Profile>,
    /// Where every renewal's files go.
    pub out_dir: PathBuf,
    /// Worker threads.
    pub jobs: usize,
    /// Validity of every renewal.
    pub validity: Validity,
    /// Key type (default: each old certificate's).
    pub key: Option<KeyType>,
    /// Passwords and PFX.
    pub secrets: NewKeySecrets,
    /// How to print the result.
    pub format: Format,
}

/// One certificate that was due, as `renew --expiring-within` prints it.
#[derive(Debug, Serialize)]
pub struct RenewalRow {
    /// The old certificate's serial.
    pub old_serial: Serial,
    /// The old certificate's SHA-1 thumbprint.
    pub old_thumbprint: Thumbprint,
    /// The old certificate's end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub old_not_after: OffsetDateTime,
    /// Its common name.
    pub cn: String,
    /// Its subject.
    pub subject: String,
    /// Its profile.
    pub profile: Profile,
    /// The renewal's serial: made by this run, or the one an earlier run made (none when revoked).
    pub serial: Option<Serial>,
    /// The renewal's SHA-1 thumbprint.
    pub thumbprint: Option<Thumbprint>,
    /// The renewal's end of validity.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// `renewed` (by this run), `skipped` (renewed already), or `revoked` (never renewed).
    pub status: &'static str,
    /// Files written by this run.
    pub files: Vec<String>,
}

/// What `renew --expiring-within` sums up after its rows (in JSON, its fields follow `rows[]`).
#[derive(Debug, Serialize)]
pub struct RenewManyReport {
    /// Certificates that expire by then (valid, delivered, of the profile asked).
    pub due: usize,
    /// Renewed by this run.
    pub renewed: usize,
    /// Renewed already.
    pub skipped: usize,
    /// Revoked since they were found: never renewed.
    pub revoked: usize,
    /// The date they expire by.
    #[serde(with = "time::serde::rfc3339")]
    pub expiring_by: OffsetDateTime,
    #[serde(skip)]
    ca_subject: String,
}

/// Renews every certificate that expires within the window, unlocking the CA once. Nothing due: nothing is
/// asked for.
pub fn run_many(req: RenewManyRequest) -> Result<()> {
    req.secrets.check(Some(certkit_ca::secret::CA_PASS))?;
    let context = ca::open(&req.ca, &req.validity, None, req.secrets.module.clone())?;
    let now = OffsetDateTime::now_utc();
    let by = (now + time::Duration::days(req.within_days.into()))
        .replace_nanosecond(0)
        .unwrap_or(now);
    // CAs below this one are renewed by the CA above them (certkit-ca sign-ca), not here.
    let due: Vec<_> = context
        .store
        .expiring(by, req.profile, now)?
        .into_iter()
        .filter(|e| e.issued.profile.is_end_entity())
        .collect();
    let mut report = RenewManyReport {
        due: due.len(),
        renewed: 0,
        skipped: 0,
        revoked: 0,
        expiring_by: by,
        ca_subject: context.store.cert()?.subject,
    };
    let mut stream = RowStream::new(req.format);
    if due.is_empty() {
        return stream.finish(&report);
    }
    let width = due
        .iter()
        .map(|e| e.issued.cn.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    stream.text(|out| {
        writeln!(
            out,
            "{:<width$}  {:<40}  {:<40}  {:<8}  FILES",
            "CN", "OLD THUMBPRINT", "NEW THUMBPRINT", "STATUS"
        )
    });
    // The work is decided before any password is read: when every certificate due has been renewed already,
    // nothing is asked and nothing is unlocked.
    let mut settled = Vec::new();
    for old in &due {
        match renewal::decide(&context.store, old, false, now)? {
            Decision::Due => {
                settled.clear();
                break;
            }
            decision => settled.extend(renewal::settled_outcome(old, decision)),
        }
    }
    if settled.len() == due.len() {
        for outcome in settled {
            count(&mut report, &outcome);
            let row = RenewalRow::of(outcome);
            stream.row(&row, |out| row.write_text(out, width));
        }
        return stream.finish(&report);
    }
    // Keys are made ahead for the key type most renewals need.
    let pool_type = req.key.unwrap_or_else(|| most_common_key(&due));
    let keys = KeyPool::start(pool_type, req.jobs);
    let mut read = req.secrets.read(Some(context.secret))?;
    let password = read.take(context.secret, SecretUse::Existing)?;
    let ca = context.store.unlock(&password)?;
    drop(password);
    // With --pfx, every renewal is a PFX file only (its key inside it), as in a batch: no key file, no key
    // password. Without it, an encrypted key file each.
    let passwords = NewKeyPasswords::take_for(&mut read, &req.secrets, !req.secrets.has_pfx())?;
    if req.secrets.has_pfx() && req.secrets.key_pass_given() {
        term::note("--key-pass is not used: with --pfx, each renewal's key is only in its PFX");
    }
    let (key_password, pfx) = passwords.protection();
    let job = RenewalJob {
        out_dir: req.out_dir.clone(),
        validity: req.validity,
        key_type: req.key,
        crl_url: context.crl_url.clone(),
        key_password,
        pfx,
        jobs: req.jobs,
    };
    let bar = Bar::new(req.format);
    let lock = term::lock(&context.store)?;
    let ran = renewal::run(
        &context.store,
        &lock,
        &ca,
        &job,
        &due,
        &keys,
        &bar,
        &mut |outcome| {
            count(&mut report, &outcome);
            let row = RenewalRow::of(outcome);
            bar.suspend(|| stream.row(&row, |out| row.write_text(out, width)));
            Ok(())
        },
    );
    drop(keys);
    bar.finish();
    ran?;
    drop(lock);
    stream.finish(&report)
}

/// Counts `outcome` in the report's totals.
fn count(report: &mut RenewManyReport, outcome: &renewal::RenewalOutcome) {
    match outcome.status {
        RenewalStatus::Renewed => report.renewed += 1,
        RenewalStatus::Skipped => report.skipped += 1,
        RenewalStatus::Revoked => report.revoked += 1,
    }
}

impl RenewalRow {
    /// The row of one outcome.
    fn of(outcome: renewal::RenewalOutcome) -> Self {
        let old = outcome.old;
        RenewalRow {
            old_serial: old.serial,
            old_thumbprint: old.thumbprint,
            old_not_after: old.not_after,
            cn: old.cn,
            subject: old.subject,
            profile: old.profile,
            serial: outcome.new.as_ref().map(|n| n.serial.clone()),
            thumbprint: outcome.new.as_ref().map(|n| n.thumbprint),
            not_after: outcome.new.as_ref().map(|n| n.not_after),
            status: outcome.status.name(),
            files: path_texts(&outcome.files),
        }
    }
}

/// The key type most of `due` have.
fn most_common_key(due: &[Entry]) -> KeyType {
    KeyType::ALL
        .into_iter()
        .max_by_key(|kind| due.iter().filter(|e| e.issued.key == *kind).count())
        .unwrap_or(KeyType::Rsa2048)
}

impl RenewalRow {
    fn write_text(&self, out: &mut dyn Write, width: usize) -> io::Result<()> {
        let new = self
            .thumbprint
            .map_or_else(|| "-".to_string(), |t| t.to_string());
        let files = match self.status {
            "renewed" => self.files.join(" "),
            "skipped" => "(renewed earlier)".to_string(),
            _ => "(revoked: issue a new certificate instead)".to_string(),
        };
        writeln!(
            out,
            "{:<width$}  {}  {:<40}  {:<8}  {files}",
            self.cn, self.old_thumbprint, new, self.status
        )
    }
}

impl Report for RenewManyReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.due == 0 {
            return writeln!(
                out,
                "No valid certificate expires by {}; nothing renewed.",
                rfc3339(self.expiring_by)
            );
        }
        writeln!(out)?;
        let mut counts = format!(
            "{} of {} due by {} renewed, {} renewed earlier",
            self.renewed,
            self.due,
            rfc3339(self.expiring_by),
            self.skipped
        );
        if self.revoked > 0 {
            counts.push_str(&format!(", {} revoked (never renewed)", self.revoked));
        }
        writeln!(out, "{counts} (signed by {})", self.ca_subject)
    }
}
