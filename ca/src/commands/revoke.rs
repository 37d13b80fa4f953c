//! `certkit-ca revoke`: record a revocation, and optionally take the thumbprint out of a .cscfg allow-list.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cscfg::Cscfg;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::serial::Serial;
use crate::store::CaStore;
use crate::store::inventory::RevocationReason;
use crate::term::{self, Format, Report, output::path_text};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca revoke` was asked to do.
#[derive(Debug)]
pub struct RevokeRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Serial, thumbprint or certificate file.
    pub certificate: String,
    /// Why.
    pub reason: RevocationReason,
    /// A service configuration to take the thumbprint out of.
    pub cscfg: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What was revoked.
#[derive(Debug, Serialize)]
pub struct RevokeReport {
    /// Serial of the revoked certificate.
    pub serial: Serial,
    /// Its subject.
    pub subject: String,
    /// Its thumbprint.
    pub thumbprint: Thumbprint,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
    /// The service configuration given, if any.
    pub cscfg: Option<String>,
    /// True if its thumbprint was removed from the allow-list there.
    pub removed_from_cscfg: bool,
    #[serde(skip)]
    backup: Option<String>,
    #[serde(skip)]
    ca: String,
}

/// Revokes the certificate.
pub fn run(req: RevokeRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?;
    // Load the .cscfg first, so a broken file stops the command before anything is recorded.
    let mut cscfg = match &req.cscfg {
        Some(path) => Some(Cscfg::load(path)?),
        None => None,
    };
    let lock = ca.lock(&mut term::waiting_for_lock)?;
    let entry = ca.find(&req.certificate)?;
    if let Some(file) = cscfg.as_mut() {
        file.edit_allowed_clients(&[], &[entry.issued.thumbprint])?;
    }
    let record = crate::crl::revoke(&ca, &lock, &entry, req.reason)?;
    drop(lock);
    let saved = match &cscfg {
        Some(file) => file.save().map_err(|e| Error::Cscfg {
            path: req.cscfg.clone().unwrap_or_default(),
            what: format!(
                "the revocation was recorded, but the file could not be updated: {e}; remove the thumbprint with certkit-export cscfg --disallow"
            ),
        })?,
        None => None,
    };
    let report = RevokeReport {
        serial: entry.issued.serial,
        subject: entry.issued.subject,
        thumbprint: entry.issued.thumbprint,
        revoked_at: record.revoked_at,
        reason: record.reason,
        cscfg: req.cscfg.as_deref().map(path_text),
        removed_from_cscfg: cscfg.as_ref().is_some_and(|f| !f.changes().is_empty()),
        backup: saved.as_deref().map(path_text),
        ca: path_text(&req.ca),
    };
    term::render(&report, req.format)
}

impl Report for RevokeReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Revoked {} ({})", self.serial, self.subject)?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        writeln!(out, "  reason      {}", self.reason)?;
        writeln!(out, "  at          {}", rfc3339(self.revoked_at))?;
        match (&self.cscfg, self.removed_from_cscfg) {
            (Some(path), true) => writeln!(
                out,
                "Removed it from AllowedClientCertificateThumbprints in {path} (previous version in {})",
                self.backup.as_deref().unwrap_or_default()
            )?,
            (Some(path), false) => writeln!(
                out,
                "It was not in AllowedClientCertificateThumbprints in {path}; file unchanged"
            )?,
            (None, _) => {}
        }
        writeln!(
            out,
            "Publish a new CRL so services that check revocation see it: certkit-ca crl --ca {}",
            self.ca
        )
    }
}
