//! `certkit-export cscfg`.

use std::path::PathBuf;

use certkit_ca::SecretSource;
use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;
use certkit_ca::{Error, Result};
use clap::ValueEnum;

use crate::commands::cscfg::{CheckRequest, ClientAuth, CscfgAction, CscfgRequest};

/// Values of ClientCertificateRevocationCheck (X509RevocationMode names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RevocationCheck {
    /// No revocation check (the service's default).
    #[value(name = "NoCheck")]
    NoCheck,
    /// Check online (needs a CRL distribution point, see certkit-ca crl).
    #[value(name = "Online")]
    Online,
    /// Check against cached CRLs.
    #[value(name = "Offline")]
    Offline,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Client certificates required.
    On,
    /// Client certificate authentication turned off.
    Off,
}

/// `certkit-export cscfg`.
#[derive(Debug, clap::Args)]
pub struct CscfgArgs {
    /// The service configuration file to update in place (the previous version is kept as FILE.bak).
    #[arg(long, value_name = "FILE.cscfg")]
    pub file: PathBuf,
    /// TLS server certificate: sets <Certificate name="SSL">.
    #[arg(long, value_name = "CERT")]
    pub ssl: Option<PathBuf>,
    /// CA certificate: sets <Certificate name="CA"> and AdditionalTrustedRootCertificationAuthorities.
    #[arg(long, alias = "ca", value_name = "CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Data encryption certificate: sets <Certificate name="DataEncryptionPrimary"> (and the
    /// DataEncryptionPrimaryCertificateThumbprint setting where a role has it).
    #[arg(long, value_name = "CERT")]
    pub encryption: Option<PathBuf>,
    /// Add a client certificate (file or thumbprint) to AllowedClientCertificateThumbprints (repeatable).
    #[arg(long, value_name = "CERT|THUMBPRINT")]
    pub allow: Vec<String>,
    /// Remove a client certificate (file or thumbprint, pasted from Windows is fine) (repeatable).
    #[arg(long, value_name = "CERT|THUMBPRINT")]
    pub disallow: Vec<String>,
    /// Set ClientCertificateRevocationCheck.
    #[arg(long, value_enum)]
    pub revocation_check: Option<RevocationCheck>,
    /// Turn client-certificate authentication on or off (off also points the CA entry at the SSL certificate).
    #[arg(long, value_enum, conflicts_with = "ca_cert")]
    pub client_auth: Option<Switch>,
    /// Print a unified diff of what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check the file before a deployment instead of editing it: empty, malformed or pasted thumbprints,
    /// entries that disagree; reads only, exit 1 when something would break the deployment.
    #[arg(long, conflicts_with_all = ["ssl", "ca_cert", "encryption", "allow", "disallow", "revocation_check", "client_auth", "dry_run"])]
    pub check: bool,
    /// With --check: the certificates to deploy (DER, PEM or PFX); every thumbprint must name one of them.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "check")]
    pub certs: Vec<PathBuf>,
    /// With --check: the CA folder; allow-list entries must be certificates it issued and has not revoked.
    #[arg(long, value_name = "DIR", requires = "check")]
    pub ca_dir: Option<PathBuf>,
    /// Source of the PFX password, for certificates given as PFX files (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl CscfgArgs {
    /// The validated request: a check, or an edit.
    pub fn request(self) -> Result<CscfgAction> {
        if self.check {
            return Ok(CscfgAction::Check(CheckRequest {
                file: self.file,
                certs: self.certs,
                ca_dir: self.ca_dir,
                pfx_pass: self.pfx_pass,
                format: Format::json_if(self.json.json),
            }));
        }
        let nothing = self.ssl.is_none()
            && self.ca_cert.is_none()
            && self.encryption.is_none()
            && self.allow.is_empty()
            && self.disallow.is_empty()
            && self.revocation_check.is_none()
            && self.client_auth.is_none();
        if nothing {
            return Err(Error::BadInput(
                "nothing to change: give --ssl, --ca-cert, --encryption, --allow, --disallow, --revocation-check or --client-auth (or --check to check the file)".into(),
            ));
        }
        Ok(CscfgAction::Edit(CscfgRequest {
            file: self.file,
            ssl: self.ssl,
            ca_cert: self.ca_cert,
            encryption: self.encryption,
            allow: self.allow,
            disallow: self.disallow,
            revocation_check: self.revocation_check.map(|r| match r {
                RevocationCheck::NoCheck => "NoCheck",
                RevocationCheck::Online => "Online",
                RevocationCheck::Offline => "Offline",
            }),
            client_auth: self.client_auth.map(|s| match s {
                Switch::On => ClientAuth::On,
                Switch::Off => ClientAuth::Off,
            }),
            dry_run: self.dry_run,
            pfx_pass: self.pfx_pass,
            format: Format::json_if(self.json.json),
        }))
    }
}
