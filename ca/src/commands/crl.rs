//! `certkit-ca crl`: sign and publish a CRL.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::dates::rfc3339;
use crate::error::Result;
use crate::secret::{self, SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::CaStore;
use crate::term::{self, Format, Report, output::path_text, secrets};

/// What `certkit-ca crl` was asked to do.
#[derive(Debug)]
pub struct CrlRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Days until nextUpdate.
    pub days: u32,
    /// Where to write it (default in the CA folder).
    pub out: Option<PathBuf>,
    /// PEM instead of DER.
    pub pem: bool,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// The CRL that was published.
#[derive(Debug, Serialize)]
pub struct CrlReport {
    /// Where it was written.
    pub file: String,
    /// Its CRL number.
    pub crl_number: u64,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// Serials listed.
    pub revoked: Vec<Serial>,
    #[serde(skip)]
    pem: bool,
    #[serde(skip)]
    crl_url: Option<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Publishes the CRL.
pub fn run(req: CrlRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?;
    let out = req
        .out
        .clone()
        .unwrap_or_else(|| crate::crl::default_path(&ca, req.pem));
    let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    drop(password);
    let lock = ca.lock(&mut term::waiting_for_lock)?;
    let published = crate::crl::publish(&ca, &lock, &signing, req.days, &out, req.pem)?;
    drop(lock);
    let report = CrlReport {
        file: path_text(&published.path),
        crl_number: published.number,
        this_update: published.this_update,
        next_update: published.next_update,
        revoked: published.serials,
        pem: req.pem,
        crl_url: signing.crl_url.clone(),
        warnings: published.warnings,
    };
    term::render(&report, req.format)
}

impl Report for CrlReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Wrote {} ({})",
            self.file,
            if self.pem { "PEM" } else { "DER" }
        )?;
        writeln!(out, "  CRL number  {}", self.crl_number)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.this_update),
            rfc3339(self.next_update)
        )?;
        writeln!(out, "  revoked     {} certificate(s)", self.revoked.len())?;
        if let Some(url) = &self.crl_url {
            writeln!(
                out,
                "Publish it at {url} before {}.",
                rfc3339(self.next_update)
            )?;
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
