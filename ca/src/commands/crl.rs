//! `certkit-ca crl`: sign and publish a CRL.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::secret::{SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::{CaStore, guard};
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
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
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
    let ca = CaStore::open(&req.ca)?.with_module(req.module.clone());
    let owned = [
        crate::crl::default_path(&ca, false),
        crate::crl::default_path(&ca, true),
    ];
    let out = req
        .out
        .clone()
        .unwrap_or_else(|| crate::crl::default_path(&ca, req.pem));
    guard::check_output(&out, &owned)?;
    // Republishing replaces the previous CRL (through a link, at its target); nothing else is replaced.
    let out = if out.symlink_metadata().is_ok() {
        let target = guard::resolve(&out);
        check_is_our_crl(&ca, &target, &out)?;
        target
    } else {
        out
    };
    let password = secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    drop(password);
    let lock = term::lock(&ca)?;
    let published = crate::crl::publish(&ca, &lock, &signing, req.days, &out, req.pem)?;
    ca.checkpoint(&lock, &signing)?;
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

/// Refuses to replace `target` (given as `given`) unless it is a CRL signed by this CA.
fn check_is_our_crl(ca: &CaStore, target: &std::path::Path, given: &std::path::Path) -> Result<()> {
    let refuse = || {
        Error::BadInput(format!(
            "{} exists and is not a CRL of this CA; certkit replaces only its own CRL when it republishes: choose another --out",
            given.display()
        ))
    };
    let bytes = std::fs::read(target).map_err(|_| refuse())?;
    let crl = openssl::x509::X509Crl::from_der(&bytes)
        .or_else(|_| openssl::x509::X509Crl::from_pem(&bytes))
        .map_err(|_| refuse())?;
    let key = openssl::pkey::PKey::public_key_from_der(&ca.cert()?.spki_der)?;
    if crl.verify(&key).unwrap_or(false) {
        Ok(())
    } else {
        Err(refuse())
    }
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
