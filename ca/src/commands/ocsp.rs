//! `certkit-ca ocsp`: sign OCSP responses ahead for every certificate the CA issued; `certkit-ca ocsp serve`:
//! answer requests with them, holding no key.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::crl::{Scope, SeriesPlan};
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files;
use crate::ocsp::serve::{ServeConfig, defaults};
use crate::secret::{SecretSource, SecretUse};
use crate::store::{CaStore, guard};
use crate::term::{self, Format, Report, output::path_text, secrets};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca ocsp` was asked to do.
#[derive(Debug)]
pub struct OcspRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Where the responses go.
    pub out_dir: PathBuf,
    /// The windows.
    pub plan: SeriesPlan,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What `certkit-ca ocsp serve` was asked to do.
#[derive(Debug)]
pub struct ServeRequest {
    /// The series folder.
    pub from: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The CA certificate the responses must be signed by.
    pub ca_cert: PathBuf,
    /// The thumbprint it must have, if pinned.
    pub ca_pin: Option<Thumbprint>,
    /// Connections open at once.
    pub max_connections: usize,
}

/// One window that was signed.
#[derive(Debug, Serialize)]
pub struct WindowReport {
    /// Its file.
    pub file: String,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// Responses in it (one per certificate).
    pub responses: usize,
    /// Of which say revoked.
    pub revoked: usize,
}

/// A series that was signed.
#[derive(Debug, Serialize)]
pub struct OcspReport {
    /// The folder.
    pub out_dir: String,
    /// The copy of the CA certificate the responder checks the responses against.
    pub ca_cert: String,
    /// Its thumbprint, to pin it with `ocsp serve --ca-thumbprint`.
    pub ca_thumbprint: Thumbprint,
    /// When they were signed (producedAt).
    #[serde(with = "time::serde::rfc3339")]
    pub produced_at: OffsetDateTime,
    /// Each window, in order.
    pub windows: Vec<WindowReport>,
    /// When the last window runs out.
    #[serde(with = "time::serde::rfc3339")]
    pub reach: OffsetDateTime,
    /// The responder URL the CA's certificates name, if any.
    pub ocsp_url: Option<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Signs the series.
pub fn run(req: OcspRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?.with_module(req.module.clone());
    let dir = &req.out_dir;
    guard::check_output_dir(dir)?;
    let cert = ca.cert()?;
    let ca_copy = dir.join("ca.cer");
    check_ca_copy(&ca_copy, &cert)?;
    let settings = ca.settings()?;
    let password = secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    drop(password);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let lock = term::lock(&ca)?;
    // A re-keyed CA's responses are about what its current key issued (a CertID names the issuer's key).
    let scope = if settings.earlier_keys.is_empty() {
        Scope::Everything
    } else {
        Scope::IssuedByThisKey
    };
    let mut signed = crate::ocsp::series::sign_series(&ca, &lock, &signing, &req.plan, dir, scope)?;
    for key in &settings.earlier_keys {
        signed.warnings.push(format!(
            "the responses cover what the current key issued; what the earlier key {} issued is covered by its CRL (certkit-ca crl --ca {})",
            key.key_id,
            path_text(ca.dir())
        ));
    }
    if settings.ocsp_url.is_none() {
        signed.warnings.push(format!(
            "the CA names no OCSP responder in what it issues, so clients will not ask one: certkit-ca settings --ca {} --ocsp-url URL",
            path_text(ca.dir())
        ));
    }
    ca.checkpoint(&lock, &signing)?;
    drop(lock);
    files::replace(&ca_copy, &cert.der, files::PUBLIC)?;
    let reach = signed
        .windows
        .last()
        .map(|w| w.next_update)
        .ok_or(Error::Bug("a series of no windows was signed"))?;
    let report = OcspReport {
        out_dir: path_text(dir),
        ca_cert: path_text(&ca_copy),
        ca_thumbprint: cert.thumbprint,
        produced_at: signed.produced_at,
        windows: signed
            .windows
            .into_iter()
            .map(|w| WindowReport {
                file: path_text(&w.path),
                this_update: w.this_update,
                next_update: w.next_update,
                responses: w.responses,
                revoked: w.revoked,
            })
            .collect(),
        reach,
        ocsp_url: settings.ocsp_url,
        warnings: signed.warnings,
    };
    term::render(&report, req.format)
}

/// Refuses a folder that holds another CA's certificate: one folder per CA.
fn check_ca_copy(ca_copy: &Path, cert: &CertInfo) -> Result<()> {
    match std::fs::read(ca_copy) {
        Ok(bytes) if bytes != cert.der => Err(Error::BadInput(format!(
            "{} holds another CA certificate; give each CA a folder of its own for its OCSP responses",
            ca_copy.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("read", ca_copy, e)),
    }
}

/// Serves until stopped.
pub fn serve(req: ServeRequest) -> Result<()> {
    if !req.ca_cert.is_file() {
        return Err(Error::BadInput(format!(
            "{} not found: give --ca-cert (a copy of the CA certificate), or --from the folder certkit-ca ocsp wrote (it holds ca.cer)",
            req.ca_cert.display()
        )));
    }
    let ca = crate::certinfo::read_cert(&req.ca_cert)?;
    if let Some(pin) = &req.ca_pin
        && *pin != ca.thumbprint
    {
        return Err(Error::BadInput(format!(
            "{} has thumbprint {}, not {pin}: it is not the CA certificate you pinned; nothing is served",
            req.ca_cert.display(),
            ca.thumbprint
        )));
    }
    if !ca.is_ca {
        return Err(Error::BadInput(format!(
            "{} is not a CA certificate; give the CA's certificate (certkit-ca ocsp wrote a copy as ca.cer)",
            req.ca_cert.display()
        )));
    }
    crate::ocsp::serve::run(ServeConfig {
        from: req.from,
        listen: req.listen,
        ca,
        max_connections: req.max_connections,
        request_timeout: defaults::REQUEST_TIMEOUT,
        connection_lifetime: defaults::CONNECTION_LIFETIME,
        rescan: defaults::RESCAN,
        log: crate::ocsp::serve::LogSink(std::sync::Arc::new(|line: &str| {
            term::log_line("certkit-ca ocsp serve", line)
        })),
    })
}

impl Report for OcspReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Signed OCSP responses for {} window(s) into {}, current one after another until {}:",
            self.windows.len(),
            self.out_dir,
            rfc3339(self.reach)
        )?;
        for w in &self.windows {
            writeln!(
                out,
                "  {}  {} .. {}  {} certificate(s), {} revoked",
                w.file,
                rfc3339(w.this_update),
                rfc3339(w.next_update),
                w.responses,
                w.revoked
            )?;
        }
        let listen = match &self.ocsp_url {
            Some(url) => format!(" (answering at {url})"),
            None => String::new(),
        };
        writeln!(
            out,
            "Copy {} to the responder host, and run there{listen}: certkit-ca ocsp serve --from DIR --listen 0.0.0.0:80 --ca-thumbprint {}",
            self.out_dir, self.ca_thumbprint
        )?;
        writeln!(
            out,
            "A revocation or a new certificate from now on is not in these responses: sign a new series after it."
        )
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
