//! `certkit-export tls12`: the registry file for TLS 1.2 on old Windows, and Azure's roots in a trust store.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use certkit_ca::files::{self, PUBLIC};
use certkit_ca::term::output::path_text;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{CertInfo, Error, Result, certinfo};
use serde::Serialize;

use crate::tls12::{self, RootStatus};

/// What `certkit-export tls12` was asked to do.
#[derive(Debug)]
pub struct Tls12Request {
    /// Where to write the .reg file.
    pub reg: Option<PathBuf>,
    /// The trust store to check.
    pub roots: Option<PathBuf>,
    /// How to print.
    pub format: Format,
}

/// The trust store's check.
#[derive(Debug, Serialize)]
pub struct RootsReport {
    /// The store, as given.
    pub store: String,
    /// How many distinct certificates it holds.
    pub certificates: usize,
    /// Each of Azure's roots.
    pub roots: Vec<RootStatus>,
}

/// What `tls12` did.
#[derive(Debug, Serialize)]
pub struct Tls12Report {
    /// The .reg file written.
    pub reg: Option<String>,
    /// The trust store's check.
    pub roots: Option<RootsReport>,
    /// False when a root Azure still needs is missing or expired.
    pub ok: bool,
}

/// The distinct certificates of a PEM bundle, or of every file in a folder (links followed; files that hold
/// no certificate are skipped).
fn read_store(path: &Path) -> Result<Vec<CertInfo>> {
    let mut ders: Vec<Vec<u8>> = Vec::new();
    if path.is_dir() {
        let listing = std::fs::read_dir(path).map_err(|e| Error::io("read folder", path, e))?;
        let mut entries: Vec<PathBuf> = listing.flatten().map(|e| e.path()).collect();
        entries.sort();
        for file in entries.iter().filter(|p| p.is_file()) {
            if let Ok(bytes) = std::fs::read(file)
                && let Ok(found) = certinfo::parse_cert_ders(&bytes, file)
            {
                ders.extend(found);
            }
        }
    } else {
        ders = certinfo::parse_cert_ders(&files::read(path)?, path)?;
    }
    let mut certs: Vec<CertInfo> = Vec::new();
    for der in ders {
        if let Ok(cert) = CertInfo::from_der(&der, path)
            && !certs.iter().any(|c| c.thumbprint == cert.thumbprint)
        {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(Error::malformed(
            path,
            "holds no certificate; give a PEM bundle or a folder of certificate files (e.g. /etc/ssl/certs)",
        ));
    }
    Ok(certs)
}

/// Writes the .reg file and/or checks the trust store; exit 1 when a root Azure needs is missing.
pub fn run(req: Tls12Request) -> Result<()> {
    let roots = match &req.roots {
        Some(path) => {
            let certs = read_store(path)?;
            Some(RootsReport {
                store: path_text(path),
                certificates: certs.len(),
                roots: tls12::check_roots(&certs, time::OffsetDateTime::now_utc()),
            })
        }
        None => None,
    };
    if let Some(path) = &req.reg {
        certkit_ca::store::guard::check_output(path, &[])?;
        files::write_new(path, &tls12::reg_bytes(), PUBLIC)?;
    }
    let ok = roots
        .as_ref()
        .is_none_or(|r| r.roots.iter().all(|s| s.status == "present" || !s.needed));
    let report = Tls12Report {
        reg: req.reg.as_deref().map(path_text),
        roots,
        ok,
    };
    term::render(&report, req.format)?;
    if ok {
        Ok(())
    } else {
        Err(Error::Failed(
            "a root CA that Azure's TLS endpoints chain to is missing from the trust store; add it (Windows Update, or the ca-certificates package)".into(),
        ))
    }
}

impl Report for Tls12Report {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(reg) = &self.reg {
            writeln!(
                out,
                "Wrote {reg} (UTF-16LE, regedit 5 format). On each old Windows machine, as administrator:"
            )?;
            writeln!(out, "  reg import {reg}")?;
            for (key, values) in tls12::REGISTRY {
                let values: Vec<String> = values.iter().map(|(n, v)| format!("{n}={v}")).collect();
                writeln!(out, "  {key}: {}", values.join(", "))?;
            }
        }
        if let Some(roots) = &self.roots {
            if self.reg.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}: {} certificates", roots.store, roots.certificates)?;
            for root in &roots.roots {
                let note = match (root.status, root.needed) {
                    ("present", _) => String::new(),
                    (_, false) => format!(" (expired on {}: no longer needed)", root.expires),
                    _ => " <- needed for Azure's TLS endpoints".into(),
                };
                writeln!(
                    out,
                    "  {:<8} {}  {}{note}",
                    root.status, root.thumbprint, root.name
                )?;
            }
        }
        Ok(())
    }
}
