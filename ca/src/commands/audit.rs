//! `certkit-ca audit`: verify the CA folder and report every finding.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::store::CaStore;
use crate::store::audit::{self, Audit, AuditOptions, Level};
use crate::term::{self, Format, Report, output::path_text};

/// What `certkit-ca audit` was asked to do.
#[derive(Debug)]
pub struct AuditRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// What to compare the folder with.
    pub options: AuditOptions,
    /// How to print the result.
    pub format: Format,
}

/// The audit, as printed.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    /// The CA folder.
    pub ca: String,
    /// The CA's subject.
    pub subject: String,
    /// What the audit found.
    #[serde(flatten)]
    pub audit: Audit,
}

/// Audits the CA; exit 1 when any finding is an error.
pub fn run(req: AuditRequest) -> Result<()> {
    let store = CaStore::open(&req.ca)?;
    let report = AuditReport {
        ca: path_text(&req.ca),
        subject: store.cert()?.subject,
        audit: audit_with_progress(&store, &req)?,
    };
    term::render(&report, req.format)?;
    let errors = report
        .audit
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .count();
    if errors > 0 {
        return Err(Error::Failed(format!(
            "the audit of {} found {errors} problem(s) at error level; see the findings above",
            req.ca.display()
        )));
    }
    Ok(())
}

/// Runs the audit, with a progress bar while it reads the log when a person watches (stderr is a terminal)
/// and the report is text.
fn audit_with_progress(store: &CaStore, req: &AuditRequest) -> Result<Audit> {
    use std::io::IsTerminal;
    if req.format == Format::Json || !std::io::stderr().is_terminal() {
        return audit::audit(store, &req.options, &|_, _| {});
    }
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "auditing {wide_bar} {bytes}/{total_bytes} ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let audited = audit::audit(store, &req.options, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    audited
}

impl Report for AuditReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let a = &self.audit;
        writeln!(out, "Audit of the CA in {} ({})", self.ca, self.subject)?;
        writeln!(
            out,
            "  records     {} ({} certificates)",
            a.records, a.certificates
        )?;
        match &a.checkpoint {
            Some(c) => writeln!(
                out,
                "  checkpoint  {} records, signed {}{}",
                c.count,
                rfc3339(c.time),
                if c.signature_ok {
                    " by the CA (signature verified)"
                } else {
                    ", signature NOT valid"
                }
            )?,
            None => writeln!(out, "  checkpoint  none")?,
        }
        match &a.settings {
            Some(settings) => writeln!(
                out,
                "  settings    signed by the CA key: {}",
                settings_summary(settings)
            )?,
            None => writeln!(out, "  settings    not signed by the CA key yet")?,
        }
        for (i, h) in a.history.iter().enumerate() {
            writeln!(
                out,
                "  {} {} {:<17} key {}{}, until {}",
                if i == 0 { "history    " } else { "           " },
                h.serial,
                h.kind,
                h.key_id,
                match &h.signed_by {
                    Some(by) if by != &h.key_id => format!(" signed by key {by}"),
                    _ => String::new(),
                },
                rfc3339(h.not_after)
            )?;
        }
        writeln!(out, "  head        {}", a.head)?;
        if a.findings.is_empty() {
            writeln!(out, "  findings    none")?;
        }
        for finding in &a.findings {
            let level = match finding.level {
                Level::Error => "ERROR",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            let line = finding
                .line
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            writeln!(
                out,
                "  {level:<8} {line}{} [{}]",
                finding.message, finding.code
            )?;
        }
        writeln!(out)?;
        if a.ok {
            writeln!(
                out,
                "OK: the inventory, the checkpoint, issued/ and the CRL agree."
            )?;
        }
        writeln!(
            out,
            "Write the head hash into the key-ceremony log: {}",
            a.head
        )
    }
}

/// The signed settings in a few words.
fn settings_summary(settings: &crate::store::CaSettings) -> String {
    let mut parts = vec![match &settings.crl_url {
        Some(url) => format!("CRL URL {url}"),
        None => "no CRL URL".to_string(),
    }];
    if let Some(token) = &settings.pkcs11 {
        parts.push(format!("key {}", token.uri));
        if let Some(module) = &token.module {
            parts.push(format!("module {}", module.display()));
        }
    }
    parts.join(", ")
}
