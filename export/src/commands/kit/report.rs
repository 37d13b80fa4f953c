//! What `kit` prints: every file and what happened to it, the rules with their verdicts, the findings, the
//! steps, and the edits of a policy or a service configuration.

use std::io::{self, Write};
use std::path::Path;

use certkit_ca::cscfg::Cscfg;
use certkit_ca::term::output::path_text;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{Error, Result, Thumbprint, files};
use serde::Serialize;
use time::OffsetDateTime;

use crate::inspect::{Finding, Level};
use crate::kit::{KitFile, Outcome, Policy, RuleVerdict};
use crate::targets::Target;

/// One file of the kit in the report.
#[derive(Debug, Serialize)]
pub struct FileLine {
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// What it is for.
    pub what: String,
    /// Whether it holds a private key (0600).
    pub private: bool,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// What happened to it.
    pub outcome: Outcome,
}

/// The server certificate in the kit.
#[derive(Debug, Serialize)]
pub struct ServerLine {
    /// Its subject.
    pub subject: String,
    /// Its thumbprint.
    pub thumbprint: Thumbprint,
    /// Its end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the refresh put it in (a renewal).
    pub renewed: bool,
}

/// The policy edit.
#[derive(Debug, Serialize)]
pub struct PolicyLine {
    /// The policy file.
    pub file: String,
    /// Identities added.
    pub added: usize,
    /// Identities removed.
    pub removed: usize,
    /// The previous file, when it was written.
    pub backup: Option<String>,
    /// The unified diff (with --dry-run).
    pub diff: Option<String>,
}

/// The service configuration edit (cses).
#[derive(Debug, Serialize)]
pub struct CscfgLine {
    /// The .cscfg file.
    pub file: String,
    /// Each value changed: role, what, old and new.
    pub changes: Vec<certkit_ca::cscfg::Change>,
    /// The previous file, when it was written.
    pub backup: Option<String>,
    /// The unified diff (with --dry-run).
    pub diff: Option<String>,
}

/// What `kit` did.
#[derive(Debug, Serialize)]
pub struct KitReport {
    /// The kit folder.
    pub kit: String,
    /// The consumer.
    pub target: Target,
    /// The CA folder.
    pub ca: String,
    /// Whether this was a refresh.
    pub refresh: bool,
    /// Whether nothing was written (--dry-run, or a broken rule).
    pub dry_run: bool,
    /// Whether the files were written.
    pub written: bool,
    /// The server certificate, when the kit holds one.
    pub server: Option<ServerLine>,
    /// The valid client certificates the kit admits.
    pub clients: usize,
    /// Every file.
    pub files: Vec<FileLine>,
    /// Every rule of the target, with the verdict.
    pub rules: Vec<RuleVerdict>,
    /// What is wrong or may go wrong.
    pub findings: Vec<Finding>,
    /// What to do with the files (certkit runs none of it).
    pub steps: Vec<String>,
    /// The API Management policy edit.
    pub policy: Option<PolicyLine>,
    /// The service configuration edit (cses).
    pub cscfg: Option<CscfgLine>,
    #[serde(skip)]
    pub(super) warnings: Vec<String>,
}

pub(super) fn refuse_if_broken(report: &KitReport, format: Format) -> Result<()> {
    let broken: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .collect();
    if broken.is_empty() {
        return Ok(());
    }
    term::render(report, format)?;
    let first = broken[0];
    Err(Error::Failed(format!(
        "the {} kit breaks {} rule(s), so nothing was written: {} ({}); fix: {}",
        report.target.name(),
        broken.len(),
        first.code,
        first.message,
        first.fix
    )))
}

pub(super) fn file_lines(
    dir: &Path,
    files: &[KitFile],
    outcomes: &[(String, Outcome)],
) -> Vec<FileLine> {
    files
        .iter()
        .map(|f| FileLine {
            name: f.name.clone(),
            path: path_text(&dir.join(&f.name)),
            what: f.what.clone(),
            private: f.private,
            sha256: files::sha256_hex(&f.bytes),
            outcome: outcomes
                .iter()
                .find(|(n, _)| *n == f.name)
                .map_or(Outcome::Planned, |(_, o)| *o),
        })
        .collect()
}

pub(super) fn clear_key_warning(target: Target, files: &[KitFile], dir: &Path) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.private && !f.name.ends_with(".pfx"))
        .map(|f| {
            let path = dir.join(&f.name);
            match target {
                Target::Keyvault | Target::Cses => format!(
                    "{} holds the server key in the clear (mode 0600): import it, then remove it (shred -u {})",
                    path.display(),
                    crate::inspect::shell_word(&path.display().to_string())
                ),
                _ => format!(
                    "{} holds the server key in the clear (mode 0600), as {} reads it: keep the kit folder readable by the server's user only",
                    path.display(),
                    target.name()
                ),
            }
        })
        .collect()
}

/// Saves the policy and service configuration edits, each with its `.bak`, into the report.
pub(super) fn save_edits(
    report: &mut KitReport,
    policy: Option<&Policy>,
    cscfg: Option<&Cscfg>,
) -> Result<()> {
    if let (Some(p), Some(line)) = (policy, report.policy.as_mut()) {
        line.backup = p.save()?.map(|b| path_text(&b));
    }
    if let (Some(f), Some(line)) = (cscfg, report.cscfg.as_mut()) {
        line.backup = f.save()?.map(|b| path_text(&b));
    }
    Ok(())
}

impl Report for KitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let doing = match (self.refresh, self.written) {
            (true, true) => "Refreshed",
            (false, true) => "Wrote",
            (_, false) => "Would write (nothing written)",
        };
        writeln!(
            out,
            "{doing} the {} kit in {} from the CA in {}",
            self.target.name(),
            self.kit,
            self.ca
        )?;
        if let Some(server) = &self.server {
            writeln!(
                out,
                "  server    {} ({}, until {}){}",
                server.subject,
                server.thumbprint,
                certkit_ca::dates::rfc3339(server.not_after),
                if server.renewed { ": renewed" } else { "" }
            )?;
        }
        writeln!(
            out,
            "  clients   {} valid client certificate(s)",
            self.clients
        )?;
        let width = self.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for f in &self.files {
            let outcome = match f.outcome {
                Outcome::Written => "written",
                Outcome::Replaced => "replaced",
                Outcome::Unchanged => "unchanged",
                Outcome::Removed => "removed",
                Outcome::Planned => "planned",
            };
            writeln!(out, "  {outcome:<10}{:<width$}  {}", f.name, f.what)?;
        }
        if let Some(policy) = &self.policy {
            writeln!(
                out,
                "  policy    {}: {} identity(ies) added, {} removed{}",
                policy.file,
                policy.added,
                policy.removed,
                policy
                    .backup
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" (previous file kept as {b})"))
            )?;
            if let Some(diff) = &policy.diff {
                write!(out, "{diff}")?;
            }
        }
        if let Some(cscfg) = &self.cscfg {
            writeln!(
                out,
                "  cscfg     {}: {} value(s) changed{}",
                cscfg.file,
                cscfg.changes.len(),
                cscfg
                    .backup
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" (previous file kept as {b})"))
            )?;
            for change in &cscfg.changes {
                writeln!(out, "            {}: {}", change.role, change.what)?;
            }
            if let Some(diff) = &cscfg.diff {
                write!(out, "{diff}")?;
            }
        }
        let kept = self.rules.iter().filter(|r| r.verdict == "ok").count();
        writeln!(
            out,
            "Rules of {}: {kept} of {} met",
            self.target.name(),
            self.rules.len()
        )?;
        for f in &self.findings {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            writeln!(out, "  {level:<8}{}: {}", f.code, f.message)?;
            writeln!(out, "          fix: {}", f.fix)?;
        }
        if self.written || !self.findings.iter().any(|f| f.level == Level::Error) {
            writeln!(out, "Next:")?;
            for step in &self.steps {
                writeln!(out, "  {step}")?;
            }
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
