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
use crate::store::{self, CaSpec, KeyLocation, NewCaKey};
use crate::term::{self, Format, Report, output::path_texts, secrets};
use crate::thumbprint::Thumbprint;
use crate::token::{ModuleSearch, TokenUri};

/// What `certkit-ca init` was asked to do.
#[derive(Debug)]
pub struct InitRequest {
    /// The CA to make.
    pub spec: CaSpec,
    /// The token to make the key on, if not in `ca.key`.
    pub token: Option<TokenChoice>,
    /// Where the new CA key password (or the token PIN) comes from (default: ask).
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// A token for the CA key, as `--pkcs11` and `--pkcs11-module` name it.
#[derive(Debug)]
pub struct TokenChoice {
    /// The token and the key's label.
    pub uri: TokenUri,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
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
    /// Where the CA key is.
    pub key_location: KeyLocation,
    #[serde(skip)]
    dir: PathBuf,
}

/// Creates the CA; asks for the password only once everything else has been checked.
pub fn run(req: InitRequest) -> Result<()> {
    req.spec.validate()?;
    let created = match &req.token {
        None => {
            let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::New)?;
            store::init(
                &req.spec,
                &NewCaKey::File(&password),
                &mut term::waiting_for_lock,
            )?
        }
        Some(choice) => {
            let pin = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PIN, SecretUse::Existing)?;
            let search = ModuleSearch::new(choice.module.as_deref(), None);
            let key = NewCaKey::Token {
                search: &search,
                uri: &choice.uri,
                pin: &pin,
            };
            let created = store::init(&req.spec, &key, &mut term::waiting_for_lock)?;
            term::warn(
                "the CA key was made on the token and cannot be read out, so it has no backup: if the token is lost, so is the CA. To keep M-of-N recovery shares, make the key in ca.key, back it up (certkit-ca backup), then move-key it onto the token (docs/custody.md)",
            );
            created
        }
    };
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
        key_location: created.key,
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
        match (&self.key_location.token, &self.key_location.uri) {
            (Some(token), Some(uri)) => {
                writeln!(
                    out,
                    "The CA key was made on the token '{}' (serial {}) as {uri}: it cannot be copied off it.",
                    token.label, token.serial
                )?;
                writeln!(
                    out,
                    "It has NO BACKUP unless your token supports one: if the token is lost or wiped, this CA can never sign again."
                )
            }
            _ => writeln!(
                out,
                "Keep {} and its password safe and offline: whoever has both can issue certificates your service trusts.",
                self.dir.join(store::CA_KEY).display()
            ),
        }
    }
}
