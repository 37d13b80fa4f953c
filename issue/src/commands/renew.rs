//! `certkit-issue renew`: a new key and certificate with the same subject, SANs, profile and EKUs. The old
//! certificate is found and the new one recorded under one lock, and a certificate that already has a valid,
//! delivered renewal is not renewed twice (two overlapping scheduled rotations), unless `--force`.

use std::io::{self, Write};
use std::path::PathBuf;

use certkit_ca::dates::{Validity, rfc3339};
use certkit_ca::san::San;
use certkit_ca::secret::SecretUse;
use certkit_ca::store::inventory::{Entry, Status};
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{CaStore, Error, KeyType, Profile, Result, Serial, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use super::ca::{self, CaContext};
use super::issue::{NewKeyPasswords, NewKeySecrets, issue_one, new_key_plan};
use super::report::IssueReport;
use crate::engine::{Engine, Signer};
use crate::leaf::LeafSpec;

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
    #[serde(skip)]
    issued: Option<IssueReport>,
}

/// Renews the certificate.
pub fn run(req: RenewRequest) -> Result<()> {
    let context = ca::open(&req.ca, &req.validity, None, req.secrets.module.clone())?;
    let old = context.store.find(&req.certificate)?;
    if let Some(report) = renewed_already(&context.store, &old, req.force)? {
        return term::render(&report, req.format);
    }
    let spec = renewal_spec(&old, &req, &context)?;
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
        issued: Some(issued),
    };
    term::render(&report, req.format)
}

fn issued_key(req: &RenewRequest, old: KeyType) -> KeyType {
    req.key.unwrap_or(old)
}

/// Refuses a revoked certificate; reports an existing valid, delivered renewal unless `force`.
fn renewed_already(store: &CaStore, old: &Entry, force: bool) -> Result<Option<RenewReport>> {
    if let Some(revoked) = &old.revoked {
        return Err(Error::BadInput(format!(
            "{} ({}) was revoked ({}); issue a new certificate instead of renewing it",
            old.issued.serial, old.issued.subject, revoked.reason
        )));
    }
    if force {
        return Ok(None);
    }
    let now = OffsetDateTime::now_utc();
    let renewal = store
        .renewals_of(&old.issued.serial)?
        .into_iter()
        .rev()
        .find(|e| e.status(now) == Status::Valid);
    Ok(renewal.map(|r| RenewReport {
        subject: r.issued.subject.clone(),
        serial: r.issued.serial.clone(),
        profile: r.issued.profile,
        key: r.issued.key,
        sans: r.issued.sans.clone(),
        not_before: r.issued.not_before,
        not_after: r.issued.not_after,
        thumbprint: r.issued.thumbprint,
        renewal_of: old.issued.serial.clone(),
        old_thumbprint: old.issued.thumbprint,
        old_not_after: old.issued.not_after,
        already_renewed: true,
        files: vec![],
        config_line: r.issued.profile.config_line(&r.issued.thumbprint),
        issued: None,
    }))
}

/// The new certificate's content: the old one's subject, SANs, profile, EKUs and CRL URL.
fn renewal_spec(old: &Entry, req: &RenewRequest, context: &CaContext) -> Result<LeafSpec> {
    let record = &old.issued;
    let (mut dns, mut ips, mut email) = (Vec::new(), Vec::new(), None);
    for san in &record.sans {
        match san {
            San::Dns(name) => dns.push(name.clone()),
            San::Ip(ip) => ips.push(*ip),
            San::Email(addr) => email = Some(addr.clone()),
            San::Other(text) => {
                return Err(Error::BadInput(format!(
                    "recorded SAN {text} cannot be renewed by certkit"
                )));
            }
        }
    }
    let spec = LeafSpec {
        profile: record.profile,
        cn: record.cn.clone(),
        dns,
        ips,
        email,
        extra_ekus: record.extra_ekus.clone(),
        key_type: issued_key(req, record.key),
        validity: req.validity,
        crl_url: record.crl_url.clone().or(context.crl_url.clone()),
    };
    spec.validate()?;
    Ok(spec)
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
