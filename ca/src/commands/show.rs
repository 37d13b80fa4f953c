//! `certkit-ca show`: the CA and a count of what it issued.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::constraints::NameConstraints;
use crate::dates::rfc3339;
use crate::error::Result;
use crate::keys::KeyType;
use crate::profile;
use crate::serial::Serial;
use crate::store::records::CustodyAction;
use crate::store::{KeyLocation, KeyOrigin};
use crate::term::{self, Format, Report, output::path_text};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca show` was asked to do.
#[derive(Debug)]
pub struct ShowRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// The CA, as `certkit-ca show` prints it.
#[derive(Debug, Serialize)]
pub struct ShowReport {
    /// The CA folder.
    #[serde(rename = "ca")]
    pub dir: String,
    /// The CA's subject.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Its key type.
    pub key: KeyType,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `valid` or `expired`.
    pub status: &'static str,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// CRL distribution point, if any.
    pub crl_url: Option<String>,
    /// OCSP responder the CA names in what it issues, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocsp_url: Option<String>,
    /// Certificates issued.
    pub issued: usize,
    /// Of which valid.
    pub valid: usize,
    /// Of which revoked.
    pub revoked: usize,
    /// Of which expired.
    pub expired: usize,
    /// Of which recorded but never delivered (an interrupted run).
    pub undelivered: usize,
    /// The two .cscfg lines for the CA.
    pub config_lines: [String; 2],
    /// The CAs above it, the one that signed it first and the root last (none for a root).
    pub chain: Vec<String>,
    /// Its name constraints' permitted subtrees (`DNS:`, `email:`, `IP:`), enforced when certkit issues.
    pub permitted_names: Vec<String>,
    /// Their excluded subtrees.
    pub excluded_names: Vec<String>,
    /// Where the CA key is (for a token: which module, token and key).
    pub key_location: KeyLocation,
    /// When the CA key was last backed up into shares (`certkit-ca backup`), if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_backup: Option<OffsetDateTime>,
    /// How that backup's secret was split, e.g. "3 of 5".
    pub backup_shares: Option<String>,
    /// Where the last backup was written, when nothing is there now (moved away, or an interrupted backup).
    #[serde(skip)]
    backup_not_found: Option<String>,
    /// When the last recovery drill ran, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_drill: Option<OffsetDateTime>,
    /// `passed`, or `failed: why`.
    pub last_drill_result: Option<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Shows the CA.
pub fn run(req: ShowRequest) -> Result<()> {
    // A folder made by init --request waits for its certificate: show what it is and what comes next.
    let request = req.ca.join(crate::store::layout::CA_REQUEST);
    if !req.ca.join(crate::store::layout::CA_PEM).exists() && request.is_file() {
        let csr = crate::csr::read(&request)?;
        let report = WaitingReport {
            ca: path_text(&req.ca),
            status: "waiting",
            cn: csr.cn,
            key: csr.key_type,
            request: path_text(&request),
            next: format!(
                "have the CA above sign it (certkit-ca sign-ca --ca ROOT --csr {}), then: certkit-ca install --ca {} --cert CERT --chain ROOT.cer",
                path_text(&request),
                path_text(&req.ca)
            ),
        };
        return term::render(&report, req.format);
    }
    let ca = term::open_ca(&req.ca, req.module.clone())?;
    let cert = ca.cert()?;
    let key = KeyType::of_spki_der(&cert.spki_der)?;
    let now = OffsetDateTime::now_utc();
    let counts = ca.counts(now)?;
    let custody = ca.custody_of_current_key()?;
    let backup = custody
        .iter()
        .rev()
        .find(|(_, r)| r.action == CustodyAction::Backup);
    let drill = custody
        .iter()
        .rev()
        .find(|(_, r)| r.action == CustodyAction::Drill);
    let constraints = NameConstraints::of_cert(&cert.der)?;
    let above = ca.chain_above(&cert)?;
    // What services trust is the root at the top of the chain (this CA, when it is one).
    let root_thumbprint = above.last().map_or(cert.thumbprint, |root| root.thumbprint);
    let chain = above.into_iter().map(|c| c.subject).collect();
    let report = ShowReport {
        chain,
        permitted_names: constraints.permitted_names(),
        excluded_names: constraints.excluded_names(),
        last_backup: backup.map(|(_, r)| r.time),
        backup_shares: backup.map(|(_, r)| r.shares.clone()),
        backup_not_found: backup
            .and_then(|(_, r)| r.file.clone())
            .filter(|f| !std::path::Path::new(f).exists()),
        last_drill: drill.map(|(_, r)| r.time),
        last_drill_result: drill.map(|(_, r)| match &r.failure {
            None => "passed".to_string(),
            Some(why) => format!("failed: {why}"),
        }),
        dir: path_text(&req.ca),
        config_lines: profile::ca_lines(&root_thumbprint),
        status: if cert.not_after < now {
            "expired"
        } else {
            "valid"
        },
        subject: cert.subject,
        serial: cert.serial,
        key,
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        sha256: cert.sha256,
        crl_url: ca.settings()?.crl_url,
        ocsp_url: ca.settings()?.ocsp_url,
        issued: counts.issued,
        valid: counts.valid,
        revoked: counts.revoked,
        expired: counts.expired,
        undelivered: counts.undelivered,
        key_location: ca.key_location()?,
        warnings: Vec::new(),
    };
    let report = ShowReport {
        warnings: undelivered_warning(report.undelivered, &req.ca)
            .into_iter()
            .collect(),
        ..report
    };
    term::render(&report, req.format)
}

/// The lines that say where the CA key is.
pub fn write_key_location(out: &mut dyn Write, key: &KeyLocation) -> io::Result<()> {
    if let Some(file) = &key.file {
        return writeln!(out, "  key file    {} (encrypted)", file.display());
    }
    if let Some(uri) = &key.uri {
        writeln!(out, "  key on      token, {uri}")?;
        let origin = match key.origin {
            Some(KeyOrigin::MadeOnToken) => "on the token: it never left it, so it has no backup",
            Some(KeyOrigin::Imported) => {
                "off the token and imported: its backups are the custody records (list --events)"
            }
            None => "not recorded (the CA was made before certkit recorded it)",
        };
        writeln!(out, "  key made    {origin}")?;
    }
    if let Some(token) = &key.token {
        writeln!(
            out,
            "  token       '{}' ({} {}, serial {})",
            token.label, token.manufacturer, token.model, token.serial
        )?;
    }
    if let Some(module) = &key.module {
        let origin = key
            .module_origin
            .map(|o| o.describe())
            .unwrap_or("recorded at init");
        writeln!(out, "  module      {} ({origin})", module.display())?;
    }
    if let Some(problem) = &key.problem {
        writeln!(out, "  token       NOT FOUND: {problem}")?;
    }
    Ok(())
}

/// The warning `show` and `list` give while certificates are recorded but undelivered: an interrupted run may
/// have left their keys where they were going.
pub fn undelivered_warning(undelivered: usize, dir: &std::path::Path) -> Option<String> {
    (undelivered > 0).then(|| {
        format!(
            "{undelivered} certificate(s) of this CA were recorded but never delivered (a run was interrupted); files holding their private keys may remain where they were going: run the same command again to finish, or revoke them (certkit-ca list --ca {} shows them as undelivered)",
            dir.display()
        )
    })
}

/// `show` on a CA folder that waits for its certificate (made by `init --request`).
#[derive(Debug, Serialize)]
pub struct WaitingReport {
    /// The CA folder.
    pub ca: String,
    /// `waiting`: the folder signs nothing until its certificate is installed.
    pub status: &'static str,
    /// The common name it asked for.
    pub cn: String,
    /// Its key type.
    pub key: KeyType,
    /// The request the CA above signs.
    pub request: String,
    /// What to do next.
    pub next: String,
}

impl Report for WaitingReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "CA in {} waits for its certificate", self.ca)?;
        writeln!(out, "  subject     CN={}", self.cn)?;
        writeln!(out, "  key         {}", self.key)?;
        writeln!(out, "  request     {}", self.request)?;
        writeln!(out, "Next: {}", self.next)
    }
}

impl Report for ShowReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let state = if self.status == "expired" {
            "EXPIRED"
        } else {
            "valid"
        };
        writeln!(out, "CA in {}", self.dir)?;
        writeln!(out, "  subject     {}", self.subject)?;
        writeln!(out, "  key         {}", self.key)?;
        write_key_location(out, &self.key_location)?;
        writeln!(out, "  serial      {}", self.serial)?;
        writeln!(
            out,
            "  valid       {} .. {} ({state})",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        for (i, above) in self.chain.iter().enumerate() {
            let what = if i + 1 == self.chain.len() {
                "root      "
            } else {
                "signed by "
            };
            writeln!(out, "  {what}  {above}")?;
        }
        term::output::constraint_lines(out, &self.permitted_names, &self.excluded_names)?;
        if let Some(url) = &self.crl_url {
            writeln!(out, "  CRL URL     {url}")?;
        }
        if let Some(url) = &self.ocsp_url {
            writeln!(out, "  OCSP URL    {url}")?;
        }
        let undelivered = match self.undelivered {
            0 => String::new(),
            n => format!(", {n} undelivered"),
        };
        writeln!(
            out,
            "  issued      {} certificates ({} valid, {} revoked, {} expired{undelivered})",
            self.issued, self.valid, self.revoked, self.expired
        )?;
        match (&self.last_backup, &self.backup_shares) {
            (Some(at), Some(shares)) => {
                let drill = match (&self.last_drill, &self.last_drill_result) {
                    (Some(when), Some(result)) => {
                        format!("; last drill {result} ({})", rfc3339(*when))
                    }
                    _ => "; no drill yet: certkit-ca restore --backup FILE --check".into(),
                };
                writeln!(
                    out,
                    "  backup      {} ({shares} shares){drill}",
                    rfc3339(*at)
                )?;
                if let Some(file) = &self.backup_not_found {
                    writeln!(
                        out,
                        "              written to {file}, which is not there now: moved away (keep it apart from the CA), or an interrupted backup (run certkit-ca backup again)"
                    )?;
                }
            }
            _ if self.key_location.file.is_some() => {
                writeln!(
                    out,
                    "  backup      none in shares: certkit-ca backup --shares N --threshold M"
                )?;
            }
            _ => {}
        }
        writeln!(out)?;
        for line in &self.config_lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
