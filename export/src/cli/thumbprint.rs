//! `certkit-export thumbprint`.

use std::path::PathBuf;

use certkit_ca::SecretSource;
use clap::ValueEnum;

use crate::commands::thumbprint::{Lines, ThumbprintRequest};

/// How `thumbprint` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThumbprintFormat {
    /// `THUMBPRINT  FILE` per line.
    Plain,
    /// `<Certificate name="SSL" .../>` per file.
    Ssl,
    /// `<Certificate name="CA" .../>` and the AdditionalTrustedRootCertificationAuthorities setting.
    Ca,
    /// `<Certificate name="DataEncryptionPrimary" .../>` per file.
    Encryption,
    /// One AllowedClientCertificateThumbprints setting for all files.
    AllowedClients,
    /// The same as --json (kept for scripts written before --json existed).
    #[value(hide = true)]
    Json,
}

/// `certkit-export thumbprint`.
#[derive(Debug, clap::Args)]
pub struct ThumbprintArgs {
    /// Certificates: DER, PEM or PFX.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long = "as", value_enum, default_value_t = ThumbprintFormat::Plain)]
    pub format: ThumbprintFormat,
    /// Source of the PFX password, used for every PFX given (default: ask).
    #[arg(long, alias = "pfx-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// Print a JSON array of {file, subject, thumbprint, sha256, not_after} instead of lines.
    #[arg(long)]
    pub json: bool,
}

impl ThumbprintArgs {
    /// The validated request.
    pub fn request(self) -> ThumbprintRequest {
        let lines = match self.format {
            _ if self.json => None,
            ThumbprintFormat::Json => None,
            ThumbprintFormat::Plain => Some(Lines::Plain),
            ThumbprintFormat::Ssl => Some(Lines::Ssl),
            ThumbprintFormat::Ca => Some(Lines::Ca),
            ThumbprintFormat::Encryption => Some(Lines::Encryption),
            ThumbprintFormat::AllowedClients => Some(Lines::AllowedClients),
        };
        ThumbprintRequest {
            files: self.files,
            lines,
            pfx_pass: self.from_pass,
        }
    }
}
