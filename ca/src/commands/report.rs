//! `certkit-ca report --html FILE`: one self-contained page for auditors: the CA's facts and chain, what needs
//! attention (the status), the audit verdict with the head hash, when certificates, the CA and its CRLs run
//! out (a chart of the next 24 months), the custody of the key, the revocations and the whole inventory,
//! grouped by the month of issue with a contents list. No script and nothing fetched: it opens offline and
//! prints (each section on its own pages, table headings repeated).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::status::{self, StatusRequest};
use crate::constraints::NameConstraints;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys::KeyType;
use crate::report::chart::{self, Marker, Month};
use crate::report::{Page, escape};
use crate::store::audit::{self, Audit, AuditOptions};
use crate::store::guard;
use crate::store::index::ListFilter;
use crate::store::inventory::{Entry, Status};
use crate::store::records::CustodyAction;
use crate::term::{self, Format, Report, output::path_text};

/// How many months the expiry chart shows.
pub const CHART_MONTHS: usize = 24;

/// What `certkit-ca report` was asked to do.
#[derive(Debug)]
pub struct ReportRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The HTML file to write.
    pub html: PathBuf,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What was written.
#[derive(Debug, Serialize)]
pub struct ReportSummary {
    /// The HTML file.
    pub html: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Certificates in the inventory table.
    pub certificates: usize,
    /// Of those, valid, revoked, expired, undelivered and forged.
    pub valid: usize,
    /// Revoked.
    pub revoked: usize,
    /// Expired.
    pub expired: usize,
    /// Undelivered.
    pub undelivered: usize,
    /// Listed as forged (a record the CA key has not vouched for whose certificate it did not sign).
    pub forged: usize,
    /// Whether the audit passed.
    pub audit_ok: bool,
    /// The head hash of the inventory.
    pub head: String,
    /// The status level (`OK`, `WARNING`, `CRITICAL`).
    pub status: String,
}

/// Counts by status as the inventory table shows them.
#[derive(Default)]
struct Tally {
    valid: usize,
    revoked: usize,
    expired: usize,
    undelivered: usize,
    forged: usize,
}

/// Writes the report.
pub fn run(req: ReportRequest) -> Result<()> {
    guard::check_output(&req.html, &[])?;
    // Only an earlier report is replaced; any other file there (a key, a config) is left as it is.
    match std::fs::read(&req.html) {
        Ok(bytes) if !crate::report::is_report(&bytes) => {
            return Err(Error::Exists {
                path: req.html.clone(),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &req.html, e)),
    }
    let store = term::open_ca(&req.ca, req.module.clone())?;
    let now = OffsetDateTime::now_utc();
    // The audit reads every record; it runs beside the listing, on a store of its own.
    let (audited, page, tally) = std::thread::scope(|scope| {
        let auditor = scope.spawn(|| {
            let store = crate::store::CaStore::open(&req.ca)?.with_module(req.module.clone());
            audit::audit(
                &store,
                &AuditOptions {
                    crls: Vec::new(),
                    expected_heads: Vec::new(),
                },
                &|_, _| {},
            )
        });
        let inventory = inventory(&store, now);
        let audited = auditor
            .join()
            .map_err(|_| Error::Bug("the audit thread panicked"))?;
        inventory.map(|(page, tally)| (audited, page, tally))
    })?;
    let audited = audited?;
    let status = status::gather(&StatusRequest {
        ca: req.ca.clone(),
        within: 30,
        warn_days: status::CRL_WARN_DAYS as u32,
        at: Some(now),
        crls: Vec::new(),
        module: req.module.clone(),
        format: Format::Text,
    })?;
    let cert = store.cert()?;
    let mut out = Page::new(&format!("certkit report: {}", cert.subject));
    out.markup("<header>\n<h1>Certificate authority report</h1>\n<p class=\"meta\">");
    out.text(&format!(
        "{} \u{2014} written {} by certkit-ca report from {}",
        cert.subject,
        rfc3339(now),
        path_text(&req.ca)
    ));
    out.markup("</p>\n");
    counts(&mut out, &tally);
    out.markup("</header>\n");
    ca_section(&mut out, &store, now)?;
    status_section(&mut out, &status);
    audit_section(&mut out, &audited);
    lapses_section(&mut out, &store, &page, cert.not_after, now)?;
    custody_section(&mut out, &store)?;
    revocations_section(&mut out, &store)?;
    out.heading(
        "inventory",
        &format!("Inventory ({} certificates)", page.rows),
        false,
    );
    out.markup("<nav class=\"months\">");
    for (month, n) in page.months.iter().rev() {
        out.markup(&format!(
            "<a href=\"#issued-{0}\">{0}</a> ({n})<br>",
            escape(month)
        ));
    }
    out.markup("</nav>\n");
    out.markup(&page.html);
    let html = out.finish();
    files::replace(&req.html, html.as_bytes(), PUBLIC)?;
    let summary = ReportSummary {
        html: path_text(&req.html),
        bytes: html.len(),
        certificates: page.rows,
        valid: tally.valid,
        revoked: tally.revoked,
        expired: tally.expired,
        undelivered: tally.undelivered,
        forged: tally.forged,
        audit_ok: audited.ok,
        head: audited.head,
        status: format!("{:?}", status.level).to_uppercase(),
    };
    term::render(&summary, req.format)
}

/// The inventory as HTML, grouped by month of issue, with what the chart needs.
struct InventoryPage {
    html: String,
    rows: usize,
    /// Month of issue -> certificates issued in it.
    months: BTreeMap<String, usize>,
    /// Valid certificates by month of expiry, counted from this month.
    expiring: Vec<usize>,
    /// Valid certificates that expire after the chart's last month.
    later: usize,
}

/// The year and month of `t` as `YYYY-MM`, and as a month count.
fn month_of(t: OffsetDateTime) -> (String, i64) {
    (
        format!("{:04}-{:02}", t.year(), u8::from(t.month())),
        i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1,
    )
}

/// Streams the inventory, newest first, into grouped tables.
fn inventory(store: &crate::store::CaStore, now: OffsetDateTime) -> Result<(InventoryPage, Tally)> {
    let untrue = store.untrue_records()?;
    // A valid certificate whose renewal was delivered is shown as renewed, not as one more thing to do.
    let successors = store.successors(now)?;
    let this_month = month_of(now).1;
    let mut page = InventoryPage {
        html: String::with_capacity(1 << 20),
        rows: 0,
        months: BTreeMap::new(),
        expiring: vec![0; CHART_MONTHS],
        later: 0,
    };
    let mut tally = Tally::default();
    let mut open: Option<String> = None;
    let mut section = Page::fragment();
    store.list(&ListFilter::default(), now, &mut |entry: Entry| {
        let issued = month_of(entry.issued.not_before).0;
        if open.as_deref() != Some(issued.as_str()) {
            if open.is_some() {
                section.end_table();
                section.markup("</section>\n");
            }
            section.markup(&format!(
                "<section class=\"month\" id=\"issued-{0}\">\n<h3>Issued in {0}</h3>\n",
                escape(&issued)
            ));
            section.table(&[
                "Serial",
                "Subject",
                "Profile",
                "Not after",
                "Status",
                "SHA-1 thumbprint",
            ]);
            open = Some(issued.clone());
        }
        *page.months.entry(issued).or_default() += 1;
        let forged = untrue.iter().any(|u| u.serial == entry.issued.serial);
        let status = entry.status(now);
        let shown = match status {
            _ if forged => {
                tally.forged += 1;
                "forged".to_string()
            }
            Status::Valid => {
                tally.valid += 1;
                let ahead = month_of(entry.issued.not_after).1 - this_month;
                match usize::try_from(ahead)
                    .ok()
                    .and_then(|i| page.expiring.get_mut(i))
                {
                    Some(slot) => *slot += 1,
                    None => page.later += 1,
                }
                match successors.get(&entry.issued.serial) {
                    Some(renewal) => format!("renewed by {}", renewal.issued.serial),
                    None => "valid".to_string(),
                }
            }
            Status::Revoked(reason) => {
                tally.revoked += 1;
                format!("revoked ({reason})")
            }
            Status::Expired => {
                tally.expired += 1;
                "expired".to_string()
            }
            Status::Undelivered => {
                tally.undelivered += 1;
                "undelivered".to_string()
            }
        };
        let class = format!(
            "status-{}",
            if forged {
                "forged".to_string()
            } else if shown.starts_with("renewed") {
                "renewed".to_string()
            } else {
                status.to_string()
            }
        );
        section.row(&[
            (&entry.issued.serial.to_string(), "mono"),
            (&entry.issued.subject, ""),
            (&entry.issued.profile.to_string(), ""),
            (&rfc3339(entry.issued.not_after), ""),
            (&shown, &class),
            (&entry.issued.thumbprint.to_string(), "mono thumbprint"),
        ]);
        page.rows += 1;
        Ok(true)
    })?;
    if open.is_some() {
        section.end_table();
        section.markup("</section>\n");
    } else {
        section.markup("<p>The CA has issued no certificate.</p>\n");
    }
    page.html = section.into_markup();
    Ok((page, tally))
}

/// The counts line at the top.
fn counts(out: &mut Page, tally: &Tally) {
    let total = tally.valid + tally.revoked + tally.expired + tally.undelivered + tally.forged;
    out.markup("<div class=\"counts\">");
    for (id, name, n) in [
        ("issued", "issued", total),
        ("valid", "valid", tally.valid),
        ("revoked", "revoked", tally.revoked),
        ("expired", "expired", tally.expired),
        ("undelivered", "undelivered", tally.undelivered),
        ("forged", "forged", tally.forged),
    ] {
        if id == "forged" && n == 0 {
            continue;
        }
        out.markup(&format!("<span><b id=\"count-{id}\">{n}</b> {name}</span>"));
    }
    out.markup("</div>\n");
}

fn ca_section(out: &mut Page, store: &crate::store::CaStore, now: OffsetDateTime) -> Result<()> {
    let cert = store.cert()?;
    let settings = store.settings()?;
    let constraints = NameConstraints::of_cert(&cert.der)?;
    let key = KeyType::of_spki_der(&cert.spki_der)?;
    let location = store.key_location()?;
    out.heading("ca", "The CA", true);
    let names = |list: Vec<String>| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    out.facts(&[
        ("Subject", cert.subject.clone()),
        ("Serial", cert.serial.to_string()),
        ("Key", key.to_string()),
        (
            "Valid",
            format!(
                "{} to {} ({} days left)",
                rfc3339(cert.not_before),
                rfc3339(cert.not_after),
                (cert.not_after - now).whole_days()
            ),
        ),
        ("SHA-1 thumbprint", cert.thumbprint.to_string()),
        ("SHA-256", cert.sha256.clone()),
        (
            "CRL URL",
            settings.crl_url.clone().unwrap_or_else(|| "none".into()),
        ),
        ("Permitted names", names(constraints.permitted_names())),
        ("Excluded names", names(constraints.excluded_names())),
        (
            "Key kept",
            match (&location.file, &location.uri) {
                (Some(file), _) => format!("{} (encrypted)", file.display()),
                (None, Some(uri)) => format!("on a token: {uri}"),
                _ => location.storage.to_string(),
            },
        ),
    ]);
    out.markup("<h3>Chain</h3>\n<ol>\n<li>");
    out.text(&format!(
        "{} \u{2014} self-signed root, SHA-1 {}",
        cert.subject, cert.thumbprint
    ));
    out.markup("</li>\n</ol>\n");
    Ok(())
}

fn status_section(out: &mut Page, status: &status::StatusReport) {
    out.heading("status", "What needs attention", false);
    out.markup("<p>");
    out.text(&status.summary);
    out.markup("</p>\n");
    out.table(&["Level", "Check", "What"]);
    for fact in &status.facts {
        let level = format!("{:?}", fact.level).to_uppercase();
        let class = format!("level-{}", level.to_lowercase());
        out.row(&[(&level, &class), (fact.check, ""), (&fact.message, "")]);
    }
    out.end_table();
}

fn audit_section(out: &mut Page, audited: &Audit) {
    out.heading("audit", "Audit", false);
    out.markup(&format!(
        "<p class=\"verdict {}\" id=\"audit-verdict\">",
        if audited.ok { "pass" } else { "fail" }
    ));
    out.text(if audited.ok {
        "PASSED: the inventory's hash chain, the signed checkpoint and the issued copies verify"
    } else {
        "FAILED: see the findings below"
    });
    out.markup("</p>\n");
    let mut facts = vec![
        ("Records", audited.records.to_string()),
        ("Certificates", audited.certificates.to_string()),
        ("Head hash", audited.head.clone()),
    ];
    match &audited.checkpoint {
        Some(c) => facts.push((
            "Checkpoint",
            format!(
                "signed {} over {} records ({})",
                rfc3339(c.time),
                c.count,
                if c.signature_ok {
                    "signature verifies"
                } else {
                    "signature does NOT verify"
                }
            ),
        )),
        None => facts.push(("Checkpoint", "none signed yet".into())),
    }
    out.facts(&facts);
    if !audited.findings.is_empty() {
        out.table(&["Level", "Code", "Line", "Finding"]);
        for f in &audited.findings {
            let level = format!("{:?}", f.level).to_lowercase();
            let line = f.line.map(|l| l.to_string()).unwrap_or_default();
            out.row(&[
                (&level, &format!("level-{level}")),
                (f.code, "mono"),
                (&line, ""),
                (&f.message, ""),
            ]);
        }
        out.end_table();
    }
}

fn lapses_section(
    out: &mut Page,
    store: &crate::store::CaStore,
    page: &InventoryPage,
    ca_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<()> {
    out.heading("lapses", "What runs out, month by month", false);
    let (_, first) = month_of(now);
    let months: Vec<Month> = page
        .expiring
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let m = first + i as i64;
            Month {
                label: format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1),
                count: *count,
            }
        })
        .collect();
    let position = |t: OffsetDateTime| {
        let (_, m) = month_of(t);
        let into = f64::from(t.day() - 1) / 31.0;
        (m - first) as f64 + into
    };
    let mut markers = Vec::new();
    let mut beyond = Vec::new();
    if page.later > 0 {
        beyond.push(format!("{} valid certificate(s) expire later", page.later));
    }
    let mut mark = |t: OffsetDateTime, label: String| {
        let at = position(t);
        if (0.0..CHART_MONTHS as f64).contains(&at) {
            markers.push(Marker { at, label });
        } else {
            beyond.push(format!("{label}: {}", rfc3339(t)));
        }
    };
    mark(ca_end, "CA certificate ends".into());
    if let Some((_, crl)) = store.last_crl()? {
        let what = if crl.series.is_some() {
            "CRLs signed ahead end"
        } else {
            "last CRL ends"
        };
        mark(crl.next_update, what.into());
    }
    out.markup(&chart::expiry_chart(&months, &markers));
    out.markup("\n<p class=\"meta\">Valid certificates by the month they expire");
    if !beyond.is_empty() {
        out.text(&format!("; outside the chart: {}", beyond.join("; ")));
    }
    out.markup(".</p>\n");
    if months.iter().any(|m| m.count > 0) {
        out.table(&["Month", "Certificates that expire"]);
        for m in months.iter().filter(|m| m.count > 0) {
            out.row(&[(&m.label, ""), (&m.count.to_string(), "")]);
        }
        out.end_table();
    }
    Ok(())
}

fn custody_section(out: &mut Page, store: &crate::store::CaStore) -> Result<()> {
    out.heading("custody", "Custody of the CA key", false);
    let events = store.custody_events()?;
    if events.is_empty() {
        out.markup("<p>No backup, restore or recovery drill is recorded.</p>\n");
        return Ok(());
    }
    out.table(&["When", "What", "Shares", "Backup SHA-256", "Result"]);
    for (_, r) in &events {
        let what = match r.action {
            CustodyAction::Backup => "backup",
            CustodyAction::Restore => "restore",
            CustodyAction::Drill => "recovery drill",
        };
        let result = r
            .failure
            .as_deref()
            .map(|why| format!("failed: {why}"))
            .unwrap_or_else(|| "done".into());
        out.row(&[
            (&rfc3339(r.time), ""),
            (what, ""),
            (&r.shares, ""),
            (&r.backup_sha256, "mono"),
            (&result, ""),
        ]);
    }
    out.end_table();
    Ok(())
}

fn revocations_section(out: &mut Page, store: &crate::store::CaStore) -> Result<()> {
    out.heading("revocations", "Revocations", false);
    let revoked = store.revoked()?;
    if revoked.is_empty() {
        out.markup("<p>No certificate has been revoked.</p>\n");
        return Ok(());
    }
    out.table(&["Revoked", "Reason", "Serial", "Subject", "SHA-1 thumbprint"]);
    for e in revoked.iter().rev() {
        let Some(r) = &e.revoked else { continue };
        out.row(&[
            (&rfc3339(r.revoked_at), ""),
            (&r.reason.to_string(), "status-revoked"),
            (&e.issued.serial.to_string(), "mono"),
            (&e.issued.subject, ""),
            (&e.issued.thumbprint.to_string(), "mono"),
        ]);
    }
    out.end_table();
    Ok(())
}

impl Report for ReportSummary {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Wrote {} ({} bytes)", self.html, self.bytes)?;
        writeln!(
            out,
            "  certificates  {} ({} valid, {} revoked, {} expired, {} undelivered{})",
            self.certificates,
            self.valid,
            self.revoked,
            self.expired,
            self.undelivered,
            if self.forged > 0 {
                format!(", {} forged", self.forged)
            } else {
                String::new()
            }
        )?;
        writeln!(
            out,
            "  audit         {} (head {})",
            if self.audit_ok { "passed" } else { "FAILED" },
            self.head
        )?;
        writeln!(out, "  status        {}", self.status)
    }
}
