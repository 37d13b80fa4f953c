//! `certkit-ca revoke`: record a revocation, then optionally take the thumbprint out of a .cscfg allow-list.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::cscfg::Cscfg;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::secret::{SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::inventory::RevocationReason;
use crate::store::{CaStore, guard};
use crate::term::{self, Format, Report, output::path_text, secrets};
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
    /// The CA key's password (or token PIN), to sign a checkpoint over the revocation.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
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
    /// Why the service configuration could not be updated (the revocation stands).
    pub cscfg_error: Option<String>,
    /// True when the CA key signed a checkpoint over the revocation (`--ca-pass`).
    pub checkpoint_signed: bool,
    /// The command that puts the revocation into a CRL: a new series when CRLs were signed ahead.
    pub sign_crl: String,
    /// When CRLs were signed ahead, until when they run (without this revocation).
    #[serde(with = "time::serde::rfc3339::option")]
    pub series_until: Option<OffsetDateTime>,
    /// When OCSP responses were signed ahead and still run: the command that signs a series holding the
    /// revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_ocsp: Option<String>,
    /// The thisUpdate of each window of that series still to come or current, which says good for it.
    #[serde(skip_serializing_if = "Vec::is_empty", with = "rfc3339_list")]
    pub ocsp_windows_without: Vec<OffsetDateTime>,
    #[serde(skip)]
    warnings: Vec<String>,
    #[serde(skip)]
    backup: Option<String>,
}

mod rfc3339_list {
    use serde::Serializer;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(list: &[OffsetDateTime], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|t| crate::dates::rfc3339(*t)))
    }
}

/// Revokes the certificate. The revocation is recorded first; a problem with the .cscfg is reported afterwards
/// (exit code of that problem), and the revocation stands.
pub fn run(req: RevokeRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?.with_module(req.module.clone());
    if let Some(path) = &req.cscfg {
        guard::check_output(path, &[])?;
    }
    // With the key at hand, the revocation is signed over at once (the key is unlocked before the lock is
    // taken, so a prompt never holds other commands up).
    let signing = match &req.ca_pass {
        Some(source) => {
            let secret = secrets::obtain(Some(source), ca.secret_kind()?, SecretUse::Existing)?;
            Some(ca.unlock(&secret)?)
        }
        None => None,
    };
    let lock = term::lock(&ca)?;
    let entry = ca.find(&req.certificate)?;
    let record = crate::crl::revoke(&ca, &lock, &entry, req.reason)?;
    if let Some(signing) = &signing {
        ca.checkpoint(&lock, signing)?;
    }
    drop(lock);
    let (sign_crl, series_until) = crl_to_sign(&ca, &req.ca, record.revoked_at)?;
    let mut warnings: Vec<String> = series_until
        .map(|until| {
            vec![format!(
                "the CRLs signed ahead (current until {}) do not hold this revocation: sign a new series: {sign_crl}",
                rfc3339(until)
            )]
        })
        .unwrap_or_default();
    let (sign_ocsp, ocsp_windows_without) = match ocsp_to_sign(&ca, &req.ca, record.revoked_at)? {
        Some((command, windows)) => {
            warnings.push(format!(
                "the OCSP responses signed ahead say good for it in {} window(s) (from {} until {}): sign a new series: {command}",
                windows.len(),
                windows.first().map(|w| rfc3339(w.this_update)).unwrap_or_default(),
                windows.last().map(|w| rfc3339(w.next_update)).unwrap_or_default()
            ));
            (
                Some(command),
                windows.iter().map(|w| w.this_update).collect(),
            )
        }
        None => (None, Vec::new()),
    };
    let edited = req
        .cscfg
        .as_deref()
        .map(|path| remove_from_cscfg(path, entry.issued.thumbprint));
    let (removed, backup, cscfg_error) = match &edited {
        Some(Ok((removed, backup))) => (*removed, backup.as_deref().map(path_text), None),
        Some(Err(err)) => (false, None, Some(cscfg_problem(err))),
        None => (false, None, None),
    };
    let report = RevokeReport {
        serial: entry.issued.serial.clone(),
        subject: entry.issued.subject,
        thumbprint: entry.issued.thumbprint,
        revoked_at: record.revoked_at,
        reason: record.reason,
        cscfg: req.cscfg.as_deref().map(path_text),
        removed_from_cscfg: removed,
        cscfg_error: cscfg_error.clone(),
        checkpoint_signed: signing.is_some(),
        sign_crl,
        series_until,
        sign_ocsp,
        ocsp_windows_without,
        warnings,
        backup,
    };
    term::render(&report, req.format)?;
    match (edited, &req.cscfg) {
        (Some(Err(err)), Some(path)) => Err(Error::Cscfg {
            path: path.clone(),
            what: format!(
                "not updated ({}); the revocation of {} stands: fix the file, then remove the thumbprint with \"certkit-export cscfg --file {} --disallow {}\"",
                cscfg_problem(&err),
                entry.issued.serial,
                path.display(),
                entry.issued.thumbprint
            ),
        }),
        _ => Ok(()),
    }
}

/// The command that puts a revocation made at `now` into a CRL, and the end of the series signed ahead that does
/// not hold it, when the CA's last CRLs are such a series still running.
fn crl_to_sign(
    ca: &CaStore,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<(String, Option<OffsetDateTime>)> {
    let plain = format!("certkit-ca crl --ca {}", path_text(dir));
    let Some((_, last)) = ca.last_crl()? else {
        return Ok((plain, None));
    };
    match last.series {
        Some(series) if last.next_update > now => Ok((
            format!(
                "certkit-ca crl --ca {} --series {} --every {} --overlap {} --out-dir {}",
                path_text(dir),
                series.count,
                series.every_days,
                series.overlap_days,
                series.out_dir
            ),
            Some(last.next_update),
        )),
        _ => Ok((plain, None)),
    }
}

/// When the CA's last OCSP series still runs at `now`: the command that signs it again, and its windows that
/// have not ended (signed before the revocation, they say good).
fn ocsp_to_sign(
    ca: &CaStore,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<Option<(String, Vec<crate::crl::Window>)>> {
    let Some((_, last)) = ca.last_ocsp()? else {
        return Ok(None);
    };
    if last.next_update <= now {
        return Ok(None);
    }
    let series = &last.series;
    let plan = crate::crl::SeriesPlan::of(
        "OCSP windows",
        series.count,
        series.every_days,
        series.overlap_days,
    )?;
    let windows: Vec<crate::crl::Window> = plan
        .windows(last.produced_at)
        .into_iter()
        .filter(|w| w.next_update > now)
        .collect();
    let command = format!(
        "certkit-ca ocsp --ca {} --series {} --every {} --overlap {} --out-dir {}",
        path_text(dir),
        series.count,
        series.every_days,
        series.overlap_days,
        series.out_dir
    );
    Ok(Some((command, windows)))
}

/// Takes `thumbprint` out of the allow-list; returns whether it was there and the backup written.
fn remove_from_cscfg(path: &Path, thumbprint: Thumbprint) -> Result<(bool, Option<PathBuf>)> {
    let mut file = Cscfg::load(path)?;
    file.edit_allowed_clients(&[], &[thumbprint])?;
    let removed = !file.changes().is_empty();
    Ok((removed, file.save()?))
}

/// What went wrong with the .cscfg, without repeating its name.
fn cscfg_problem(err: &Error) -> String {
    match err {
        Error::Cscfg { what, .. } | Error::Malformed { what, .. } => what.clone(),
        other => other.to_string(),
    }
}

impl Report for RevokeReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Revoked {} ({})", self.serial, self.subject)?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        writeln!(out, "  reason      {}", self.reason)?;
        writeln!(out, "  at          {}", rfc3339(self.revoked_at))?;
        match (&self.cscfg, self.removed_from_cscfg, &self.cscfg_error) {
            (Some(path), true, _) => writeln!(
                out,
                "Removed it from AllowedClientCertificateThumbprints in {path} (previous version in {})",
                self.backup.as_deref().unwrap_or_default()
            )?,
            (Some(path), false, None) => writeln!(
                out,
                "It was not in AllowedClientCertificateThumbprints in {path}; file unchanged"
            )?,
            _ => {}
        }
        if self.checkpoint_signed {
            writeln!(
                out,
                "The CA key signed a checkpoint over the revocation: removing it from the log now shows in the audit."
            )?;
        }
        writeln!(
            out,
            "Publish a new CRL so services that check revocation see it: {}",
            self.sign_crl
        )
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
