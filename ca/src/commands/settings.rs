//! `certkit-ca settings`: the CA's signed settings (`ca.json`), shown, or changed under the CA key.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::secret::{SecretSource, SecretUse};
use crate::store::CaStore;
use crate::term::{self, Format, Report, output::path_text, secrets};

/// What `certkit-ca settings` was asked to do.
#[derive(Debug)]
pub struct SettingsRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The change, if any (none: show them).
    pub change: Option<SettingsChange>,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// A change to the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsChange {
    /// The OCSP responder named in what the CA signs (None: none).
    OcspUrl(Option<String>),
}

/// The settings, as they are after the command.
#[derive(Debug, Serialize)]
pub struct SettingsReport {
    /// The CA folder.
    #[serde(rename = "ca")]
    pub dir: String,
    /// The CRL distribution point.
    pub crl_url: Option<String>,
    /// The AIA caIssuers URL.
    pub aia_url: Option<String>,
    /// The OCSP responder URL.
    pub ocsp_url: Option<String>,
    /// What this run changed (`ocsp_url`), empty when it only showed them.
    pub changed: Vec<String>,
}

/// Shows or changes the settings.
pub fn run(req: SettingsRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?.with_module(req.module.clone());
    let mut settings = ca.settings()?;
    let mut changed = Vec::new();
    // A change to what is there already is no change: nothing to unlock (a script may say it every run).
    let wanted = req
        .change
        .as_ref()
        .filter(|SettingsChange::OcspUrl(url)| settings.ocsp_url != *url);
    if let Some(SettingsChange::OcspUrl(url)) = wanted {
        let password =
            secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
        let signing = ca.unlock(&password)?;
        drop(password);
        let lock = term::lock(&ca)?;
        // Read again under the lock: another command may have changed them meanwhile.
        settings = ca.settings()?;
        settings.ocsp_url.clone_from(url);
        ca.change_settings(&lock, &signing, &settings)?;
        drop(lock);
        changed.push("ocsp_url".to_string());
    }
    let report = SettingsReport {
        dir: path_text(ca.dir()),
        crl_url: settings.crl_url,
        aia_url: settings.aia_url,
        ocsp_url: settings.ocsp_url,
        changed,
    };
    term::render(&report, req.format)
}

impl Report for SettingsReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        writeln!(out, "Settings of the CA in {}:", self.dir)?;
        writeln!(out, "  CRL URL     {}", show(&self.crl_url))?;
        writeln!(out, "  AIA URL     {}", show(&self.aia_url))?;
        writeln!(out, "  OCSP URL    {}", show(&self.ocsp_url))?;
        if !self.changed.is_empty() {
            writeln!(
                out,
                "The CA key signed the change; certificates signed from now on carry it (those issued before keep what they say)."
            )?;
            if self.ocsp_url.is_some() {
                writeln!(
                    out,
                    "Sign the responses for them: certkit-ca ocsp --ca {} --out-dir DIR",
                    self.dir
                )?;
            }
        }
        Ok(())
    }
}
