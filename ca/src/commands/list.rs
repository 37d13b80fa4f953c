//! `certkit-ca list`: what the CA issued, newest first.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::dates::rfc3339;
use crate::error::Result;
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::san::San;
use crate::serial::Serial;
use crate::store::CaStore;
use crate::store::inventory::{Entry, Status};
use crate::term::{self, Format, Report};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca list` was asked to do.
#[derive(Debug)]
pub struct ListRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Only this profile.
    pub profile: Option<Profile>,
    /// Only valid certificates expiring within this many days.
    pub expiring_within: Option<u32>,
    /// How to print the result.
    pub format: Format,
    /// Print CSV instead.
    pub csv: bool,
}

/// One issued certificate as `list` prints it.
#[derive(Debug, Serialize)]
pub struct ListRow {
    /// Serial number.
    pub serial: Serial,
    /// Subject.
    pub subject: String,
    /// Subject common name.
    pub cn: String,
    /// Profile.
    pub profile: Profile,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// Extended key usages beyond the profile's.
    pub extra_ekus: Vec<String>,
    /// Key type.
    pub key: KeyType,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// `valid`, `revoked`, `expired`, `undelivered`, or `forged` (a record the CA key has not vouched for whose
    /// certificate this CA did not sign).
    pub status: String,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// The serial it renews.
    pub renewal_of: Option<Serial>,
    /// Its CRL distribution point.
    pub crl_url: Option<String>,
}

impl ListRow {
    /// The row for an inventory entry, with its status at `now`.
    pub fn new(e: &Entry, now: OffsetDateTime) -> Self {
        let r = &e.issued;
        ListRow {
            serial: r.serial.clone(),
            subject: r.subject.clone(),
            cn: r.cn.clone(),
            profile: r.profile,
            sans: r.sans.clone(),
            extra_ekus: r.extra_ekus.clone(),
            key: r.key,
            not_before: r.not_before,
            not_after: r.not_after,
            thumbprint: r.thumbprint,
            status: e.status(now).to_string(),
            revoked_at: e.revoked.as_ref().map(|v| v.revoked_at),
            revocation_reason: e.revoked.as_ref().map(|v| v.reason.to_string()),
            renewal_of: r.renewal_of.clone(),
            crl_url: r.crl_url.clone(),
        }
    }
}

/// The certificates `list` prints, newest first.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ListReport(pub Vec<ListRow>);

/// Lists the inventory.
pub fn run(req: ListRequest) -> Result<()> {
    if let Some(days) = req.expiring_within
        && days > crate::dates::MAX_DAYS
    {
        return Err(crate::Error::BadInput(format!(
            "--expiring-within {days} is out of range: use 0 to {}",
            crate::dates::MAX_DAYS
        )));
    }
    let ca = CaStore::open(&req.ca)?;
    let now = OffsetDateTime::now_utc();
    // A record the CA key has not vouched for and that is not true is never shown as valid.
    let untrue = ca.untrue_records()?;
    for record in &untrue {
        term::warn(&format!(
            "inventory line {}: {}; it is listed as forged (see certkit-ca audit --ca {})",
            record.line,
            record.what,
            req.ca.display()
        ));
    }
    let mut rows: Vec<ListRow> = ca
        .entries()?
        .iter()
        .filter(|e| req.profile.is_none_or(|p| e.issued.profile == p))
        .filter(|e| {
            req.expiring_within.is_none_or(|days| {
                e.status(now) == Status::Valid
                    && e.issued.not_after <= now + Duration::days(days.into())
            })
        })
        .map(|e| {
            let mut row = ListRow::new(e, now);
            if untrue.iter().any(|u| u.serial == row.serial) {
                row.status = "forged".into();
            }
            row
        })
        .collect();
    rows.reverse();
    let undelivered = rows.iter().filter(|r| r.status == "undelivered").count();
    if let Some(warning) = super::show::undelivered_warning(undelivered, &req.ca) {
        term::warn(&warning);
    }
    if req.csv {
        return write_csv(&rows);
    }
    term::render(&ListReport(rows), req.format)
}

/// The rows as CSV: the JSON field names as the header, lists joined with spaces.
fn write_csv(rows: &[ListRow]) -> Result<()> {
    let mut out = csv::Writer::from_writer(io::stdout().lock());
    let header = [
        "serial",
        "subject",
        "cn",
        "profile",
        "sans",
        "extra_ekus",
        "key",
        "not_before",
        "not_after",
        "thumbprint",
        "status",
        "revoked_at",
        "revocation_reason",
        "renewal_of",
        "crl_url",
    ];
    let fail = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => crate::Error::Output(io),
        other => crate::Error::Encoding {
            what: "the CSV listing",
            detail: format!("{other:?}"),
        },
    };
    out.write_record(header).map_err(fail)?;
    for r in rows {
        let sans: Vec<String> = r.sans.iter().map(ToString::to_string).collect();
        out.write_record(
            [
                r.serial.to_string(),
                r.subject.clone(),
                r.cn.clone(),
                r.profile.to_string(),
                sans.join(" "),
                r.extra_ekus.join(" "),
                r.key.to_string(),
                rfc3339(r.not_before),
                rfc3339(r.not_after),
                r.thumbprint.to_string(),
                r.status.clone(),
                r.revoked_at.map(rfc3339).unwrap_or_default(),
                r.revocation_reason.clone().unwrap_or_default(),
                r.renewal_of
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.crl_url.clone().unwrap_or_default(),
            ]
            .map(spreadsheet_text),
        )
        .map_err(fail)?;
    }
    out.flush().map_err(crate::Error::Output)
}

/// A cell a spreadsheet shows as text, never evaluates: one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (a formula, or what Excel and LibreOffice start one with) gets a leading `'`, as OWASP's
/// CSV-injection guidance says. Subjects come from CSRs, so a requester chooses them.
fn spreadsheet_text(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

impl Report for ListReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.0.is_empty() {
            return writeln!(out, "No certificates match.");
        }
        let rows: Vec<[String; 6]> = self
            .0
            .iter()
            .map(|r| {
                let status = match &r.revocation_reason {
                    Some(reason) => format!("revoked ({reason})"),
                    None => r.status.clone(),
                };
                [
                    r.serial.to_string(),
                    r.profile.to_string(),
                    r.subject.clone(),
                    rfc3339(r.not_after),
                    status,
                    r.thumbprint.to_string(),
                ]
            })
            .collect();
        let header = [
            "SERIAL",
            "PROFILE",
            "SUBJECT",
            "NOT AFTER",
            "STATUS",
            "THUMBPRINT",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut line = |cells: [&str; 6]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            writeln!(out, "{}", padded.join("  ").trim_end())
        };
        line(header)?;
        for row in &rows {
            line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])?;
        }
        Ok(())
    }
}
