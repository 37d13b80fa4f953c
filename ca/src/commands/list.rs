//! `certkit-ca list`: what the CA issued, newest first.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::ad_mapping::{AdMapping, MappingReader};
use crate::dates::rfc3339;
use crate::error::Result;
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::san::San;
use crate::serial::Serial;
use crate::store::index::ListFilter;
use crate::store::inventory::{Entry, Status};
use crate::term::{self, Format};
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
    /// Only certificates with this status.
    pub status: Option<StatusFilter>,
    /// How to print the result.
    pub format: Format,
    /// Print CSV instead.
    pub csv: bool,
    /// List the custody trail of the CA key instead of certificates.
    pub events: bool,
}

/// A status `list --status` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Delivered, within validity, not revoked.
    Valid,
    /// Revoked, for whatever reason.
    Revoked,
    /// Past its end of validity.
    Expired,
    /// Recorded by a run that was interrupted before it delivered the files.
    Undelivered,
}

impl StatusFilter {
    /// Every status, in the order the help lists them.
    pub const ALL: [StatusFilter; 4] = [
        StatusFilter::Valid,
        StatusFilter::Revoked,
        StatusFilter::Expired,
        StatusFilter::Undelivered,
    ];

    /// Its name on the command line and in `--json`.
    pub fn name(self) -> &'static str {
        match self {
            StatusFilter::Valid => "valid",
            StatusFilter::Revoked => "revoked",
            StatusFilter::Expired => "expired",
            StatusFilter::Undelivered => "undelivered",
        }
    }

    /// One line on what it selects.
    pub fn description(self) -> &'static str {
        match self {
            StatusFilter::Valid => "Delivered, within its validity, not revoked",
            StatusFilter::Revoked => "Revoked, for whatever reason",
            StatusFilter::Expired => "Past its end of validity (and not revoked)",
            StatusFilter::Undelivered => {
                "Recorded by a run that was interrupted before it delivered the files"
            }
        }
    }

    fn status(self) -> Status {
        match self {
            StatusFilter::Valid => Status::Valid,
            StatusFilter::Revoked => {
                Status::Revoked(crate::store::inventory::RevocationReason::Unspecified)
            }
            StatusFilter::Expired => Status::Expired,
            StatusFilter::Undelivered => Status::Undelivered,
        }
    }
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
    /// Extended key usages: the profile's, then any given beyond it (as `certkit-issue` reports them).
    pub ekus: Vec<String>,
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
    /// The profile file it was issued by (`certkit-issue --profile NAME`), if any.
    pub profile_file: Option<String>,
    /// For a valid certificate whose renewal was delivered (valid too): the newest renewal's serial. It stays
    /// `valid` until it expires, but nothing needs doing about it.
    pub renewed_by: Option<Serial>,
    /// Its CRL distribution point.
    pub crl_url: Option<String>,
    /// The CA key that signed it (the subject key identifier of that key, uppercase hex), for a CA re-keyed
    /// since: which key's CRL lists it.
    pub issuer_key: Option<String>,
    /// For a client certificate (in JSON only): how Active Directory maps it, with the `altSecurityIdentities`
    /// values (docs/ad-mapping.md).
    pub ad_mapping: Option<AdMapping>,
}

/// Which CA key signed each certificate: one answer for a CA that has had one key, else each certificate's
/// authority key identifier.
enum IssuerKeys {
    One(String),
    Several,
}

impl IssuerKeys {
    fn of(ca: &crate::store::CaStore) -> Result<Self> {
        let lineage = ca.lineage()?;
        Ok(match lineage.keys.as_slice() {
            [only] => IssuerKeys::One(crate::keys::key_id(only)?),
            _ => IssuerKeys::Several,
        })
    }

    fn key_of(&self, e: &Entry) -> Option<String> {
        match self {
            IssuerKeys::One(id) => Some(id.clone()),
            IssuerKeys::Several => e
                .issued
                .cert_der()
                .and_then(|der| crate::certinfo::authority_key_id_of(&der))
                .map(|aki| crate::thumbprint::hex_upper(&aki)),
        }
    }
}

impl ListRow {
    /// The row for an inventory entry, with its status at `now`.
    fn new(e: &Entry, now: OffsetDateTime, issuer_keys: &IssuerKeys) -> Self {
        let r = &e.issued;
        ListRow {
            serial: r.serial.clone(),
            subject: r.subject.clone(),
            cn: r.cn.clone(),
            profile: r.profile,
            sans: r.sans.clone(),
            ekus: r
                .profile
                .eku()
                .map(String::from)
                .into_iter()
                .chain(r.extra_ekus.iter().cloned())
                .collect(),
            key: r.key,
            not_before: r.not_before,
            not_after: r.not_after,
            thumbprint: r.thumbprint,
            status: e.status(now).to_string(),
            revoked_at: e.revoked.as_ref().map(|v| v.revoked_at),
            revocation_reason: e.revoked.as_ref().map(|v| v.reason.to_string()),
            renewal_of: r.renewal_of.clone(),
            profile_file: r.profile_file.clone(),
            renewed_by: None,
            crl_url: r.crl_url.clone(),
            issuer_key: issuer_keys.key_of(e),
            ad_mapping: None,
        }
    }
}

/// Lists the inventory, newest first, as the index reads it: the first line appears at once and memory holds
/// one row at a time, however many certificates the CA issued.
pub fn run(req: ListRequest) -> Result<()> {
    if req.events {
        return super::events::run(&req.ca, req.format);
    }
    if let Some(days) = req.expiring_within
        && days > crate::dates::MAX_DAYS
    {
        return Err(crate::Error::BadInput(format!(
            "--expiring-within {days} is out of range: use 0 to {}",
            crate::dates::MAX_DAYS
        )));
    }
    let ca = term::open_ca(&req.ca, None)?;
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
    let issuer_keys = IssuerKeys::of(&ca)?;
    let json = matches!(req.format, Format::Json) && !req.csv;
    let filter = ListFilter {
        profile: req.profile,
        status: req.status.map(StatusFilter::status),
        expiring_by: req
            .expiring_within
            .map(|days| now + Duration::days(days.into())),
        before_line: None,
        with_certificates: matches!(issuer_keys, IssuerKeys::Several) || json,
    };
    // Written in 64 KB blocks: a locked stdout flushes at every line break, a write for each row.
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut table = Output::new(&req);
    let mut undelivered = 0;
    let successors = ca.successors(now)?;
    let mut mappings = MappingReader::default();
    let listed = ca.list(&filter, now, &mut |entry| {
        let mut row = ListRow::new(&entry, now, &issuer_keys);
        if json && row.profile == Profile::Client {
            row.ad_mapping = entry
                .issued
                .cert_der()
                .and_then(|der| mappings.read(&der).ok());
        }
        if row.status == "valid" {
            row.renewed_by = successors.get(&row.serial).map(|s| s.issued.serial.clone());
        }
        if untrue.iter().any(|u| u.serial == row.serial) {
            row.status = "forged".into();
        }
        if row.status == "undelivered" {
            undelivered += 1;
        }
        table.row(&mut out, row)?;
        Ok(true)
    });
    let finished = listed
        .and_then(|()| table.finish(&mut out))
        .and_then(|()| out.flush().map_err(output_error));
    if let Some(warning) = super::show::undelivered_warning(undelivered, &req.ca) {
        term::warn(&warning);
    }
    finished
}

/// The listing as it is printed: a JSON array, CSV, or a table, one row at a time.
enum Output {
    Json {
        rows: usize,
    },
    Csv {
        header: bool,
    },
    Table {
        pending: Vec<ListRow>,
        widths: Option<[usize; 5]>,
    },
}

/// Rows a table looks at to size its columns before it starts printing (the subject, last, takes what it needs).
const TABLE_SIZING_ROWS: usize = 64;

const TABLE_HEADER: [&str; 6] = [
    "SERIAL",
    "PROFILE",
    "NOT AFTER",
    "STATUS",
    "THUMBPRINT",
    "SUBJECT",
];

fn output_error(e: io::Error) -> crate::Error {
    crate::Error::Output(e)
}

impl Output {
    fn new(req: &ListRequest) -> Self {
        if req.csv {
            Output::Csv { header: false }
        } else if req.format == Format::Json {
            Output::Json { rows: 0 }
        } else {
            Output::Table {
                pending: Vec::new(),
                widths: None,
            }
        }
    }

    fn row(&mut self, out: &mut dyn Write, row: ListRow) -> Result<()> {
        match self {
            Output::Json { rows } => {
                let json = serde_json::to_vec_pretty(&row)
                    .map_err(|e| crate::Error::json("a listing row", e))?;
                let lead: &[u8] = if *rows == 0 { b"[\n  " } else { b",\n  " };
                *rows += 1;
                out.write_all(lead).map_err(output_error)?;
                // Each line of the row indented by two more spaces, inside the array.
                for (i, line) in json.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        out.write_all(b"\n  ").map_err(output_error)?;
                    }
                    out.write_all(line).map_err(output_error)?;
                }
                Ok(())
            }
            Output::Csv { header } => {
                if !*header {
                    *header = true;
                    write_csv_record(out, &CSV_HEADER.map(String::from))?;
                }
                write_csv_record(out, &csv_cells(&row))
            }
            Output::Table { pending, widths } => match widths {
                Some(widths) => write_table_row(out, widths, &table_cells(&row)),
                None => {
                    pending.push(row);
                    if pending.len() < TABLE_SIZING_ROWS {
                        return Ok(());
                    }
                    let sized = size_table(pending);
                    write_table_row(out, &sized, &TABLE_HEADER.map(String::from))?;
                    for row in pending.drain(..) {
                        write_table_row(out, &sized, &table_cells(&row))?;
                    }
                    *widths = Some(sized);
                    Ok(())
                }
            },
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> Result<()> {
        match self {
            Output::Json { rows: 0 } => writeln!(out, "[]").map_err(output_error)?,
            Output::Json { .. } => writeln!(out, "\n]").map_err(output_error)?,
            Output::Csv { header } => {
                if !*header {
                    write_csv_record(out, &CSV_HEADER.map(String::from))?;
                }
            }
            Output::Table { pending, widths } => {
                if widths.is_none() {
                    if pending.is_empty() {
                        writeln!(out, "No certificates match.").map_err(output_error)?;
                    } else {
                        let sized = size_table(pending);
                        write_table_row(out, &sized, &TABLE_HEADER.map(String::from))?;
                        for row in pending.drain(..) {
                            write_table_row(out, &sized, &table_cells(&row))?;
                        }
                    }
                }
            }
        }
        out.flush().map_err(output_error)
    }
}

fn table_cells(r: &ListRow) -> [String; 6] {
    let status = match (&r.revocation_reason, &r.renewed_by) {
        (Some(reason), _) => format!("revoked ({reason})"),
        (None, Some(by)) => format!("renewed by {by}"),
        (None, None) => r.status.clone(),
    };
    [
        r.serial.to_string(),
        r.profile.to_string(),
        rfc3339(r.not_after),
        status,
        r.thumbprint.to_string(),
        r.subject.clone(),
    ]
}

fn size_table(rows: &[ListRow]) -> [usize; 5] {
    let mut widths = [0; 5];
    for (width, head) in widths.iter_mut().zip(TABLE_HEADER) {
        *width = head.len();
    }
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(table_cells(row)) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

fn write_table_row(out: &mut dyn Write, widths: &[usize; 5], cells: &[String; 6]) -> Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        line.push_str(&format!("{cell:<width$}  "));
    }
    line.push_str(&cells[5]);
    writeln!(out, "{}", term::terminal_safe(line.trim_end())).map_err(output_error)
}

const CSV_HEADER: [&str; 17] = [
    "serial",
    "subject",
    "cn",
    "profile",
    "sans",
    "ekus",
    "key",
    "not_before",
    "not_after",
    "thumbprint",
    "status",
    "revoked_at",
    "revocation_reason",
    "renewal_of",
    "renewed_by",
    "crl_url",
    "issuer_key",
];

/// A row's CSV cells: the JSON field names' values, lists joined with spaces.
fn csv_cells(r: &ListRow) -> [String; 17] {
    let sans: Vec<String> = r.sans.iter().map(ToString::to_string).collect();
    [
        r.serial.to_string(),
        r.subject.clone(),
        r.cn.clone(),
        r.profile.to_string(),
        sans.join(" "),
        r.ekus.join(" "),
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
        r.renewed_by
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        r.crl_url.clone().unwrap_or_default(),
        r.issuer_key.clone().unwrap_or_default(),
    ]
    .map(spreadsheet_text)
}

fn write_csv_record(out: &mut dyn Write, cells: &[String; 17]) -> Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    writer
        .write_record(cells)
        .map_err(|e| crate::Error::Encoding {
            what: "the CSV listing",
            detail: e.to_string(),
        })?;
    let bytes = writer.into_inner().map_err(|e| crate::Error::Encoding {
        what: "the CSV listing",
        detail: e.to_string(),
    })?;
    out.write_all(&bytes).map_err(output_error)
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
