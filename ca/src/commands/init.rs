//! `certkit-ca init`: create a self-signed CA.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Result;
use crate::keys::KeyType;
use crate::profile;
use crate::secret::{self, SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::{self, CaSpec};
use crate::term::{self, Format, Report, output::path_texts, secrets};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca init` was asked to do.
#[derive(Debug)]
pub struct InitRequest {
    /// The CA to make.
    pub spec: CaSpec,
    /// Where the new CA key password comes from (default: ask twice).
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// What `certkit-ca init` made.
#[derive(Debug, Serialize)]
pub struct InitReport {
    /// The CA's subject.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Its key type.
    pub key: KeyType,
    /// basicConstraints pathLenConstraint.
    pub pathlen: u8,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// CRL distribution point for the certificates it will issue.
    pub crl_url: Option<String>,
    /// Files written.
    pub files: Vec<String>,
    /// The two .cscfg lines for the CA.
    pub config_lines: [String; 2],
    #[serde(skip)]
    dir: PathBuf,
}

/// Creates the CA; asks for the password only once everything else has been checked.
pub fn run(req: InitRequest) -> Result<()> {
    req.spec.validate()?;
    let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::New)?;
    let created = store::init(&req.spec, &password, &mut term::waiting_for_lock)?;
    let cert = created.cert;
    let report = InitReport {
        config_lines: profile::ca_lines(&cert.thumbprint),
        subject: cert.subject,
        serial: cert.serial,
        key: req.spec.key,
        pathlen: req.spec.pathlen,
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        sha256: cert.sha256,
        crl_url: req.spec.crl_url.clone(),
        files: path_texts(&created.files),
        dir: req.spec.dir.clone(),
    };
    term::render(&report, req.format)
}

impl Report for InitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        use crate::dates::rfc3339;
        writeln!(out, "Created CA in {}", self.dir.display())?;
        writeln!(out, "  subject     {}", self.subject)?;
        writeln!(out, "  key         {} (pathlen {})", self.key, self.pathlen)?;
        writeln!(out, "  serial      {}", self.serial)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        for file in &self.files {
            writeln!(out, "  wrote       {file}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "Service configuration lines (ServiceConfiguration.cscfg):"
        )?;
        for line in &self.config_lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "Keep {} and its password safe and offline: whoever has both can issue certificates your service trusts.",
            self.dir.join(store::CA_KEY).display()
        )
    }
}
