//! `certkit-issue renew`: a new key and certificate with the same subject, SANs, profile and EKUs.

use std::io::{self, Write};
use std::path::PathBuf;

use certkit_ca::dates::{Validity, rfc3339};
use certkit_ca::san::San;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{Error, KeyType, Profile, Result, Serial, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use super::ca;
use super::issue::{NewKeySecrets, issue_with_new_key};
use super::report::IssueReport;
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
    /// Files written.
    pub files: Vec<String>,
    /// The ready-to-paste .cscfg line.
    pub config_line: String,
    #[serde(skip)]
    issued: IssueReport,
}

/// Renews the certificate.
pub fn run(req: RenewRequest) -> Result<()> {
    let context = ca::open(&req.ca, &req.validity, None)?;
    let old = context.store.find(&req.certificate)?;
    if let Some(revoked) = &old.revoked {
        return Err(Error::BadInput(format!(
            "{} ({}) was revoked ({}); issue a new certificate instead of renewing it",
            old.issued.serial, old.issued.subject, revoked.reason
        )));
    }
    let record = old.issued;
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
    let key_type = req.key.unwrap_or(record.key);
    let spec = LeafSpec {
        profile: record.profile,
        cn: record.cn.clone(),
        dns,
        ips,
        email,
        extra_ekus: record.extra_ekus.clone(),
        key_type,
        validity: req.validity,
        crl_url: record.crl_url.clone().or(context.crl_url.clone()),
    };
    spec.validate()?;
    let pfx_profile = req.secrets.pfx.as_ref().map(|p| p.profile);
    let (issued, issuer) = issue_with_new_key(
        Some(&context),
        spec,
        req.out,
        &req.secrets,
        Some(record.serial.clone()),
    )?;
    let issued = IssueReport::new(
        issued,
        record.profile,
        key_type,
        issuer,
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
        renewal_of: record.serial,
        old_thumbprint: record.thumbprint,
        old_not_after: record.not_after,
        files: issued.files.clone(),
        config_line: issued.config_line.clone(),
        issued,
    };
    term::render(&report, req.format)
}

impl Report for RenewReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Renewed {} ({})", self.renewal_of, self.issued.subject)?;
        writeln!(
            out,
            "  old thumbprint  {} (valid until {}, stays valid until revoked)",
            self.old_thumbprint,
            rfc3339(self.old_not_after)
        )?;
        writeln!(out, "  new thumbprint  {}", self.thumbprint)?;
        writeln!(out)?;
        self.issued.write_text(out)
    }
}
