//! `certkit-ca crl`: sign a CRL, or a series of CRLs ahead.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::crl::{Scope, SeriesPlan};
use crate::crl_file::CrlFile;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files;
use crate::secret::{SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::{CaStore, guard};
use crate::term::{self, Format, Report, output::path_text, secrets};

/// What `certkit-ca crl` was asked to do.
#[derive(Debug)]
pub struct CrlRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// One CRL, or a series.
    pub output: CrlOutput,
    /// PEM instead of DER.
    pub pem: bool,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What to sign, and where it goes.
#[derive(Debug)]
pub enum CrlOutput {
    /// One CRL valid for `days`, at `out` (default in the CA folder).
    One {
        /// Days until nextUpdate.
        days: u32,
        /// Where to write it.
        out: Option<PathBuf>,
    },
    /// A series signed ahead, into `dir`.
    Series {
        /// How many, how often, how much overlap.
        plan: SeriesPlan,
        /// The folder.
        dir: PathBuf,
    },
}

/// A CRL that was signed.
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
    /// The key that signed it (its subject key identifier).
    pub key_id: String,
    /// Where it is to be published (the CRL distribution point of what that key signed).
    pub crl_url: Option<String>,
    /// A re-keyed CA's CRLs signed by its earlier keys, one each, for the certificates each issued.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_keys: Vec<CrlReport>,
    #[serde(skip)]
    pem: bool,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// The CRLs of a series that were signed.
#[derive(Debug, Serialize)]
pub struct SeriesReport {
    /// The folder they are in.
    pub out_dir: String,
    /// The copy of the CA certificate that `crl publish` checks them against.
    pub ca_cert: String,
    /// Its thumbprint, to pin it with `crl publish --ca-thumbprint`.
    pub ca_thumbprint: crate::thumbprint::Thumbprint,
    /// Each CRL, in the order they become current.
    pub crls: Vec<CrlReport>,
    /// When the last one runs out.
    #[serde(with = "time::serde::rfc3339")]
    pub reach: OffsetDateTime,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Signs the CRL or the series.
pub fn run(req: CrlRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?.with_module(req.module.clone());
    match &req.output {
        CrlOutput::One { days, out } => one(&ca, &req, *days, out.as_deref()),
        CrlOutput::Series { plan, dir } => series(&ca, &req, plan, dir),
    }
}

/// One CRL.
fn one(ca: &CaStore, req: &CrlRequest, days: u32, out: Option<&Path>) -> Result<()> {
    let owned = [
        crate::crl::default_path(ca, false),
        crate::crl::default_path(ca, true),
    ];
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::crl::default_path(ca, req.pem));
    guard::check_output(&out, &owned)?;
    let given = out.clone();
    // Republishing replaces the previous CRL (through a link, at its target); nothing else is replaced.
    let out = if out.symlink_metadata().is_ok() {
        let target = guard::resolve(&out);
        check_is_our_crl(ca, &target, &out)?;
        target
    } else {
        out
    };
    let password = secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    // A re-keyed CA: each key still kept signs a CRL of what it issued, beside the current key's.
    let earlier = ca.earlier_signers(&password)?;
    drop(password);
    let scope = if earlier.is_empty() {
        Scope::Everything
    } else {
        Scope::IssuedByThisKey
    };
    let lock = term::lock(ca)?;
    let signed = crate::crl::sign_for(ca, &lock, &signing, days, &out, req.pem, scope)?;
    let mut earlier_reports = Vec::new();
    for (key, earlier_signing) in &earlier {
        let Some(earlier_signing) = earlier_signing else {
            continue;
        };
        // Beside the CRL as the user named it (where it is published, when that is a link elsewhere), through
        // a link of its own at its target; only an earlier CRL of this CA is replaced.
        let named = earlier_crl_path(&given, &key.key_id);
        // Beside the CA's own CRL in its folder (ca-KEYID.crl is the CA's as ca.crl is), or checked as any
        // output is.
        if !owned.contains(&given) {
            guard::check_output(&named, &[])?;
        }
        let path = if named.symlink_metadata().is_ok() {
            let target = guard::resolve(&named);
            check_is_our_crl(ca, &target, &named)?;
            target
        } else {
            named
        };
        let signed = crate::crl::sign_for(
            ca,
            &lock,
            earlier_signing,
            days,
            &path,
            req.pem,
            Scope::IssuedByThisKey,
        )?;
        for crl in signed.crls {
            let mut report = CrlReport::of(crl, req.pem);
            report.key_id = key.key_id.clone();
            report.crl_url = key.crl_url.clone();
            earlier_reports.push(report);
        }
    }
    ca.checkpoint(&lock, &signing)?;
    drop(lock);
    let Some(crl) = signed.crls.into_iter().next() else {
        return Err(Error::Bug("one CRL was signed but none came back"));
    };
    let mut report = CrlReport::of(crl, req.pem);
    report.key_id = crate::keys::key_id(&signing.cert.spki_der)?;
    report.crl_url = signing.crl_url.clone();
    report.warnings = signed.warnings;
    for (key, earlier_signing) in &earlier {
        if earlier_signing.is_none() {
            report.warnings.push(format!(
                "every certificate the earlier key {} signed has expired, so it signs no more CRLs: certkit-ca retire-key --ca {} --key-id {} removes it",
                key.key_id,
                path_text(ca.dir()),
                key.key_id
            ));
        }
    }
    report.earlier_keys = earlier_reports;
    term::render(&report, req.format)
}

/// Where an earlier key's CRL goes: beside the current key's, its name ending in the key's identifier
/// (`ca-KEYID.crl` beside `ca.crl`).
fn earlier_crl_path(out: &Path, key_id: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.find('.') {
        Some(i) => name.split_at(i),
        None => (name.as_str(), ""),
    };
    out.with_file_name(format!("{stem}-{key_id}{ext}"))
}

/// A series, into `dir` with a copy of the CA certificate.
fn series(ca: &CaStore, req: &CrlRequest, plan: &SeriesPlan, dir: &Path) -> Result<()> {
    guard::check_output_dir(dir)?;
    let cert = ca.cert()?;
    let ca_copy = dir.join("ca.cer");
    match std::fs::read(&ca_copy) {
        Ok(bytes) if bytes != cert.der => {
            return Err(Error::BadInput(format!(
                "{} holds another CA certificate; give each CA a folder of its own for its CRLs",
                ca_copy.display()
            )));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &ca_copy, e)),
    }
    let password = secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    drop(password);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let lock = term::lock(ca)?;
    // A re-keyed CA's series is the current key's; its earlier keys sign one CRL each (`crl` without --series).
    let earlier = ca.settings()?.earlier_keys;
    let scope = if earlier.is_empty() {
        Scope::Everything
    } else {
        Scope::IssuedByThisKey
    };
    let mut signed = crate::crl::sign_series(ca, &lock, &signing, plan, dir, req.pem, scope)?;
    for key in &earlier {
        signed.warnings.push(format!(
            "the series covers what the current key issued; the earlier key {} signs its own CRL: run certkit-ca crl --ca {}",
            key.key_id,
            path_text(ca.dir())
        ));
    }
    ca.checkpoint(&lock, &signing)?;
    drop(lock);
    files::replace(&ca_copy, &cert.der, files::PUBLIC)?;
    let key_id = crate::keys::key_id(&cert.spki_der)?;
    let reach = signed
        .crls
        .last()
        .map(|c| c.next_update)
        .ok_or(Error::Bug("a series of no CRLs was signed"))?;
    let report = SeriesReport {
        out_dir: path_text(dir),
        ca_cert: path_text(&ca_copy),
        ca_thumbprint: cert.thumbprint,
        crls: signed
            .crls
            .into_iter()
            .map(|c| {
                let mut report = CrlReport::of(c, req.pem);
                report.key_id.clone_from(&key_id);
                report.crl_url.clone_from(&signing.crl_url);
                report
            })
            .collect(),
        reach,
        warnings: signed.warnings,
    };
    term::render(&report, req.format)
}

impl CrlReport {
    fn of(crl: crate::crl::Signed, pem: bool) -> CrlReport {
        CrlReport {
            file: path_text(&crl.path),
            crl_number: crl.number,
            this_update: crl.this_update,
            next_update: crl.next_update,
            revoked: crl.serials,
            key_id: String::new(),
            earlier_keys: Vec::new(),
            pem,
            crl_url: None,
            warnings: Vec::new(),
        }
    }
}

/// Refuses to replace `target` (given as `given`) unless it is a CRL signed by this CA.
fn check_is_our_crl(ca: &CaStore, target: &Path, given: &Path) -> Result<()> {
    let refuse = || {
        Error::BadInput(format!(
            "{} exists and is not a CRL of this CA; certkit replaces only its own CRL when it republishes: choose another --out",
            given.display()
        ))
    };
    let crl = CrlFile::read(target).map_err(|_| refuse())?;
    // Signed by the CA's current key or an earlier one (a re-keyed CA's CRLs).
    if ca.lineage()?.certs.iter().any(|c| crl.signed_by(c)) {
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
        if !self.earlier_keys.is_empty() {
            writeln!(out, "  signed by   key {}", self.key_id)?;
        }
        if let Some(url) = &self.crl_url {
            writeln!(
                out,
                "Publish it at {url} before {}.",
                rfc3339(self.next_update)
            )?;
        }
        for earlier in &self.earlier_keys {
            writeln!(
                out,
                "For what the earlier key {} signed: {}, CRL number {}, {} revoked, valid until {}",
                earlier.key_id,
                earlier.file,
                earlier.crl_number,
                earlier.revoked.len(),
                rfc3339(earlier.next_update)
            )?;
            if let Some(url) = &earlier.crl_url {
                writeln!(out, "  publish it at {url}")?;
            }
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl Report for SeriesReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Signed {} CRLs into {}, current one after another until {}:",
            self.crls.len(),
            self.out_dir,
            rfc3339(self.reach)
        )?;
        for crl in &self.crls {
            writeln!(
                out,
                "  {}  number {}  {} .. {}  {} revoked",
                crl.file,
                crl.crl_number,
                rfc3339(crl.this_update),
                rfc3339(crl.next_update),
                crl.revoked.len()
            )?;
        }
        writeln!(
            out,
            "Copy {} (with {}) to the web server, and run there from cron: certkit-ca crl publish --from DIR --out PATH --ca-thumbprint {}",
            self.out_dir, self.ca_cert, self.ca_thumbprint
        )?;
        writeln!(
            out,
            "A revocation from now on is not in these CRLs: sign a new series after it."
        )
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
