//! OpenSSL's certificate database, `index.txt`, as `openssl ca`, easy-rsa and XCA write it: one line per
//! certificate, six fields separated by tabs: status (`V` valid, `R` revoked, `E` expired), notAfter, the
//! revocation (time, and a reason after a comma), the serial in hex, a file name (`unknown` in practice) and
//! the subject in OpenSSL's one-line form (`/CN=alice`). Read strictly: every line must be whole, and a
//! problem names its line.

use std::fmt::Write as _;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::serial::Serial;
use crate::store::inventory::RevocationReason;

/// What a line says of its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStatus {
    /// `V`: valid.
    Valid,
    /// `R`: revoked.
    Revoked,
    /// `E`: marked expired (`openssl ca -updatedb`).
    Expired,
}

impl LineStatus {
    /// The letter `index.txt` uses.
    pub fn letter(self) -> char {
        match self {
            LineStatus::Valid => 'V',
            LineStatus::Revoked => 'R',
            LineStatus::Expired => 'E',
        }
    }
}

/// A revocation as a line records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRevocation {
    /// When.
    pub at: OffsetDateTime,
    /// Why (`keyTime`, OpenSSL's key compromise with a compromise time, is `keyCompromise`).
    pub reason: RevocationReason,
}

/// One line of `index.txt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexLine {
    /// Its 1-based line number in the file.
    pub number: usize,
    /// `V`, `R` or `E`.
    pub status: LineStatus,
    /// The certificate's notAfter.
    pub not_after: OffsetDateTime,
    /// The revocation of an `R` line.
    pub revocation: Option<LineRevocation>,
    /// The serial.
    pub serial: Serial,
    /// The file name field (`unknown` unless the CA kept one).
    pub file: String,
    /// The subject in OpenSSL's one-line form, as written.
    pub subject: String,
}

/// What is wrong with one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The 1-based line number.
    pub line: usize,
    /// What, in words.
    pub what: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// Reads a whole `index.txt`. Empty lines are refused as any malformed line is (OpenSSL never writes them);
/// the first problem is returned, naming its line, and nothing else is kept.
pub fn parse(text: &[u8]) -> Result<Vec<IndexLine>, LineError> {
    let text = std::str::from_utf8(text).map_err(|e| {
        let line = text[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        LineError {
            line,
            what: "not UTF-8 text".into(),
        }
    })?;
    let mut lines = Vec::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return Ok(lines);
    }
    for (i, line) in body.split('\n').enumerate() {
        let number = i + 1;
        lines.push(parse_line(number, line).map_err(|what| LineError { line: number, what })?);
    }
    Ok(lines)
}

fn parse_line(number: usize, line: &str) -> Result<IndexLine, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() != 6 {
        return Err(format!(
            "expected 6 fields separated by tabs (status, expiry, revocation, serial, file, subject), found {}",
            fields.len()
        ));
    }
    let status = match fields[0] {
        "V" => LineStatus::Valid,
        "R" => LineStatus::Revoked,
        "E" => LineStatus::Expired,
        other => {
            return Err(format!("status '{}' is not V, R or E", shown(other)));
        }
    };
    let not_after = parse_time(fields[1]).map_err(|e| format!("expiry: {e}"))?;
    let revocation = match (status, fields[2]) {
        (LineStatus::Revoked, "") => {
            return Err("an R line without its revocation time".into());
        }
        (LineStatus::Revoked, text) => Some(parse_revocation(text)?),
        (_, "") => None,
        (_, text) => {
            return Err(format!(
                "a revocation ('{}') on a line whose status is not R",
                shown(text)
            ));
        }
    };
    let serial_text = fields[3];
    if serial_text.is_empty()
        || serial_text.len() > 40
        || !serial_text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(format!(
            "serial '{}' is not up to 40 hex digits",
            shown(serial_text)
        ));
    }
    let serial = Serial::parse(serial_text).map_err(|e| e.to_string())?;
    let subject = fields[5];
    if !subject.starts_with('/') && !subject.is_empty() {
        return Err(format!(
            "subject '{}' is not in OpenSSL's one-line form (/CN=...)",
            shown(subject)
        ));
    }
    if let Some(c) = fields[4]
        .chars()
        .chain(subject.chars())
        .find(|c| c.is_control())
    {
        return Err(format!(
            "a control character ({:#04x}) in the line",
            c as u32
        ));
    }
    Ok(IndexLine {
        number,
        status,
        not_after,
        revocation,
        serial,
        file: fields[4].to_string(),
        subject: subject.to_string(),
    })
}

/// `TIME` or `TIME,REASON` or `TIME,REASON,ARGUMENT` (OpenSSL's `keyTime`/`CAkeyTime` carry the compromise
/// time, `certificateHold` its instruction).
fn parse_revocation(text: &str) -> Result<LineRevocation, String> {
    let mut parts = text.splitn(3, ',');
    let at =
        parse_time(parts.next().unwrap_or_default()).map_err(|e| format!("revocation: {e}"))?;
    let reason = match parts.next() {
        None | Some("unspecified") => RevocationReason::Unspecified,
        Some("keyCompromise") | Some("keyTime") => RevocationReason::KeyCompromise,
        Some("CACompromise") | Some("CAkeyTime") => RevocationReason::CaCompromise,
        Some("affiliationChanged") => RevocationReason::AffiliationChanged,
        Some("superseded") => RevocationReason::Superseded,
        Some("cessationOfOperation") => RevocationReason::CessationOfOperation,
        Some("certificateHold") => RevocationReason::CertificateHold,
        Some("removeFromCRL") => {
            return Err(
                "reason removeFromCRL: a hold released; run 'openssl ca -valid' on the certificate or mark the line V, then import again"
                    .into(),
            );
        }
        Some(other) => return Err(format!("unknown revocation reason '{}'", shown(other))),
    };
    if let Some(argument) = parts.next() {
        match reason {
            RevocationReason::KeyCompromise | RevocationReason::CaCompromise => {
                parse_time(argument).map_err(|e| format!("compromise time: {e}"))?;
            }
            RevocationReason::CertificateHold => {}
            _ => {
                return Err(format!(
                    "unexpected text after the reason ('{}')",
                    shown(argument)
                ));
            }
        }
    }
    Ok(LineRevocation { at, reason })
}

/// `YYMMDDHHMMSSZ` (UTCTime: 50-99 is 19xx) or `YYYYMMDDHHMMSSZ` (GeneralizedTime), as OpenSSL writes them.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    let bad = || format!("'{}' is not a time such as 261231235959Z", shown(text));
    let digits = text.strip_suffix('Z').ok_or_else(bad)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, String> {
        digits
            .get(range)
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)
    };
    let (year, rest) = match digits.len() {
        12 => {
            let yy = number(0..2)? as i32;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        14 => (number(0..4)? as i32, 4),
        _ => return Err(bad()),
    };
    let month = Month::try_from(number(rest..rest + 2)? as u8).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, number(rest + 2..rest + 4)? as u8)
        .map_err(|_| bad())?;
    let time = Time::from_hms(
        number(rest + 4..rest + 6)? as u8,
        number(rest + 6..rest + 8)? as u8,
        number(rest + 8..rest + 10)? as u8,
    )
    .map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_utc())
}

/// A time as OpenSSL writes it in `index.txt`: UTCTime before 2050, GeneralizedTime from then on.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    let mut out = String::new();
    if (1950..2050).contains(&year) {
        let _ = write!(out, "{:02}", year % 100);
    } else {
        let _ = write!(out, "{year:04}");
    }
    let _ = write!(
        out,
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    out
}

/// A reason as OpenSSL's `index.txt` spells it.
pub fn reason_text(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::CaCompromise => "CACompromise",
        other => other.name(),
    }
}

/// One line of `index.txt` (without its newline), as `openssl ca` writes it.
pub fn format_line(line: &IndexLine) -> String {
    let revocation = line
        .revocation
        .map(|r| match r.reason {
            // OpenSSL reads an R line without a reason as unspecified, and writes it that way.
            RevocationReason::Unspecified => format_time(r.at),
            reason => format!("{},{}", format_time(r.at), reason_text(reason)),
        })
        .unwrap_or_default();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        line.status.letter(),
        format_time(line.not_after),
        revocation,
        serial_hex(&line.serial),
        line.file,
        line.subject
    )
}

/// A serial as OpenSSL writes it: upper-case hex, an even number of digits (`00` for zero).
pub fn serial_hex(serial: &Serial) -> String {
    if serial.bytes().is_empty() {
        return "00".into();
    }
    serial.bytes().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// `text` cut short and with control characters shown as `\XX`, for a one-line message.
fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 60 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            let _ = write!(out, "\\{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
