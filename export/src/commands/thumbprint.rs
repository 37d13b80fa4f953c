//! `certkit-export thumbprint`: SHA-1 thumbprints, plain or as ready-to-paste configuration lines.

use std::io::{self, Write};
use std::path::PathBuf;

use certkit_ca::profile::{self, names};
use certkit_ca::term::output::path_text;
use certkit_ca::term::secrets::PfxPassword;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{Result, SecretSource, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use crate::sources;

/// Which lines to print (None in the request means JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// `THUMBPRINT  FILE`.
    Plain,
    /// `<Certificate name="SSL" .../>` per file.
    Ssl,
    /// The CA's two lines per file.
    Ca,
    /// `<Certificate name="DataEncryptionPrimary" .../>` per file.
    Encryption,
    /// One AllowedClientCertificateThumbprints setting for all files.
    AllowedClients,
}

/// What `certkit-export thumbprint` was asked to do.
#[derive(Debug)]
pub struct ThumbprintRequest {
    /// Certificate files.
    pub files: Vec<PathBuf>,
    /// The lines to print, or None for JSON.
    pub lines: Option<Lines>,
    /// The PFX password's source, for PFX files.
    pub pfx_pass: Option<SecretSource>,
}

/// One certificate's thumbprint.
#[derive(Debug, Serialize)]
pub struct ThumbprintRow {
    /// The file.
    pub file: String,
    /// The certificate's subject.
    pub subject: String,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// The thumbprints, with how to print them as text.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ThumbprintReport {
    rows: Vec<ThumbprintRow>,
    #[serde(skip)]
    lines: Lines,
}

/// Prints the thumbprints.
pub fn run(req: ThumbprintRequest) -> Result<()> {
    let mut password = PfxPassword::new(req.pfx_pass.as_ref());
    let mut rows = Vec::new();
    for path in &req.files {
        let cert = sources::read_cert_file(path, &mut password)?.cert;
        rows.push(ThumbprintRow {
            file: path_text(path),
            subject: cert.subject,
            thumbprint: cert.thumbprint,
            sha256: cert.sha256,
            not_after: cert.not_after,
        });
    }
    let report = ThumbprintReport {
        rows,
        lines: req.lines.unwrap_or(Lines::Plain),
    };
    term::render(&report, Format::json_if(req.lines.is_none()))
}

impl Report for ThumbprintReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        match self.lines {
            Lines::Plain => {
                for row in &self.rows {
                    writeln!(out, "{}  {}", row.thumbprint, row.file)?;
                }
            }
            Lines::Ssl | Lines::Encryption => {
                let name = if self.lines == Lines::Ssl {
                    names::SSL
                } else {
                    names::ENCRYPTION
                };
                for row in &self.rows {
                    writeln!(out, "{}", profile::certificate_line(name, &row.thumbprint))?;
                }
            }
            Lines::Ca => {
                for row in &self.rows {
                    for line in profile::ca_lines(&row.thumbprint) {
                        writeln!(out, "{line}")?;
                    }
                }
            }
            Lines::AllowedClients => {
                let mut unique: Vec<Thumbprint> = Vec::new();
                for row in &self.rows {
                    if !unique.contains(&row.thumbprint) {
                        unique.push(row.thumbprint);
                    }
                }
                let value = unique
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                writeln!(
                    out,
                    "{}",
                    profile::setting_line(names::ALLOWED_CLIENTS, &value)
                )?;
            }
        }
        Ok(())
    }
}
