//! The questions commands ask the index. Each answer says where in the log its record is (line and bytes), so
//! that a command can read that record again from the log before it acts on it.

use rusqlite::{Row, params};
use time::OffsetDateTime;

use super::file::{Index, sql};
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::serial::Serial;
use crate::store::records::{Entry, IssuedRecord, RevocationReason, RevokedRecord, Status};
use crate::thumbprint::Thumbprint;

/// Where the log holds a record: its line, and the byte range of that line.
pub type LogPlace = (usize, u64, u64);

/// A certificate as the index has it.
#[derive(Clone, Debug)]
pub struct IndexedCert {
    /// Its record (without the certificate itself), its status and its line.
    pub entry: Entry,
    /// Where its record starts in the log.
    pub start: u64,
    /// Where its record ends (past the newline).
    pub end: u64,
    /// The line of its revocation, if revoked.
    pub revoked_line: Option<usize>,
    /// The line of its delivery, for a certificate recorded ahead of delivery that was delivered.
    pub delivered_line: Option<usize>,
}

/// A certificate's row, without its record: where the record is in the log, the columns questions filter on,
/// and its status.
#[derive(Clone, Debug)]
pub struct IndexedRow {
    /// The line of its record.
    pub line: usize,
    /// Where its record starts in the log.
    pub start: u64,
    /// Where its record ends (past the newline).
    pub end: u64,
    serial: String,
    thumbprint: String,
    profile: String,
    not_after: i64,
    renewal_of: Option<String>,
    pending: bool,
    delivered: bool,
    revoked: Option<(i64, String)>,
}

const ROW_COLUMNS: &str = "certs.line, certs.start, certs.end, certs.serial, certs.thumbprint, certs.profile,
     certs.not_after, certs.renewal_of, certs.pending, certs.delivered_line, certs.revoked_at, certs.reason";

impl IndexedRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<std::result::Result<Self, String>> {
        let line: i64 = row.get(0)?;
        let start: i64 = row.get(1)?;
        let end: i64 = row.get(2)?;
        let delivered_line: Option<i64> = row.get(9)?;
        let revoked_at: Option<i64> = row.get(10)?;
        let reason: Option<String> = row.get(11)?;
        let (Ok(line), Ok(start), Ok(end)) = (
            usize::try_from(line),
            u64::try_from(start),
            u64::try_from(end),
        ) else {
            return Ok(Err(format!("line {line} has a negative place")));
        };
        Ok(Ok(IndexedRow {
            line,
            start,
            end,
            serial: row.get(3)?,
            thumbprint: row.get(4)?,
            profile: row.get(5)?,
            not_after: row.get(6)?,
            renewal_of: row.get(7)?,
            pending: row.get(8)?,
            delivered: delivered_line.is_some(),
            revoked: revoked_at.zip(reason),
        }))
    }

    /// The certificate of this row with `record` (read from the log), when the record is the one the row was
    /// made from (its serial, thumbprint, profile, expiry, renewal and delivery as the columns say).
    pub fn entry(&self, record: IssuedRecord) -> Option<Entry> {
        let fits = record.serial.to_string() == self.serial
            && record.thumbprint.to_string() == self.thumbprint
            && record.profile.to_string() == self.profile
            && record.not_after.unix_timestamp() == self.not_after
            && record.renewal_of.as_ref().map(ToString::to_string) == self.renewal_of
            && record.pending == self.pending;
        if !fits {
            return None;
        }
        let revoked = match &self.revoked {
            Some((at, reason)) => Some(RevokedRecord {
                serial: record.serial.clone(),
                revoked_at: OffsetDateTime::from_unix_timestamp(*at).ok()?,
                reason: RevocationReason::ALL
                    .into_iter()
                    .find(|r| r.name() == reason)?,
            }),
            None => None,
        };
        Some(Entry {
            delivered: !self.pending || self.delivered,
            issued: record,
            revoked,
            line: self.line,
        })
    }
}

/// How many certificates the CA recorded, by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All of them.
    pub issued: usize,
    /// Delivered, not revoked, not expired.
    pub valid: usize,
    /// Revoked.
    pub revoked: usize,
    /// Expired (and not revoked).
    pub expired: usize,
    /// Recorded, never delivered (and not revoked).
    pub undelivered: usize,
}

/// Which certificates a listing wants.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFilter {
    /// Only this profile.
    pub profile: Option<Profile>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only valid ones that expire by then.
    pub expiring_by: Option<OffsetDateTime>,
    /// Only those recorded before this line (where a listing goes on after a rebuild).
    pub before_line: Option<usize>,
    /// Each entry with its certificate (`IssuedRecord::cert_der`); without, a listing holds less.
    pub with_certificates: bool,
}

impl ListFilter {
    /// Whether `entry` is one this filter wants at `now`.
    pub fn wants(&self, entry: &Entry, now: OffsetDateTime) -> bool {
        let status = entry.status(now);
        self.profile.is_none_or(|p| entry.issued.profile == p)
            && self.status.is_none_or(|s| s.same_kind(status))
            && self
                .expiring_by
                .is_none_or(|by| status == Status::Valid && entry.issued.not_after <= by)
            && self.before_line.is_none_or(|line| entry.line < line)
    }
}

/// The columns a certificate is read with; every query is `SELECT {COLUMNS} FROM {FROM} ...`.
const COLUMNS: &str =
    "certs.serial, certs.line, certs.start, certs.end, certs.pending, certs.delivered_line,
     certs.revoked_line, certs.revoked_at, certs.reason, records.json, certs.thumbprint, certs.profile,
     certs.not_after, certs.renewal_of";
const FROM: &str = "certs JOIN records ON records.line = certs.line";

/// The condition on the status columns for `status` at `now` (as SQL; `?now` is bound by the caller).
fn status_condition(status: Status) -> &'static str {
    match status {
        Status::Revoked(_) => "certs.revoked_line IS NOT NULL",
        Status::Undelivered => {
            "certs.revoked_line IS NULL AND certs.pending = 1 AND certs.delivered_line IS NULL"
        }
        Status::Expired => {
            "certs.revoked_line IS NULL AND (certs.pending = 0 OR certs.delivered_line IS NOT NULL)
             AND certs.not_after < :now"
        }
        Status::Valid => {
            "certs.revoked_line IS NULL AND (certs.pending = 0 OR certs.delivered_line IS NOT NULL)
             AND certs.not_after >= :now"
        }
    }
}

impl Index {
    fn row(&self, row: &Row<'_>) -> rusqlite::Result<std::result::Result<IndexedCert, String>> {
        let serial: String = row.get(0)?;
        let line: i64 = row.get(1)?;
        let start: i64 = row.get(2)?;
        let end: i64 = row.get(3)?;
        let pending: bool = row.get(4)?;
        let delivered_line: Option<i64> = row.get(5)?;
        let revoked_line: Option<i64> = row.get(6)?;
        let revoked_at: Option<i64> = row.get(7)?;
        let reason: Option<String> = row.get(8)?;
        let record: String = row.get(9)?;
        let thumbprint: String = row.get(10)?;
        let profile: String = row.get(11)?;
        let not_after: i64 = row.get(12)?;
        let renewal_of: Option<String> = row.get(13)?;
        let made = || -> std::result::Result<IndexedCert, String> {
            let issued: IssuedRecord = serde_json::from_str(&record).map_err(|e| e.to_string())?;
            // What the questions filter on must be what the record says.
            if issued.serial.to_string() != serial
                || issued.thumbprint.to_string() != thumbprint
                || issued.profile.to_string() != profile
                || issued.not_after.unix_timestamp() != not_after
                || issued.renewal_of.as_ref().map(ToString::to_string) != renewal_of
                || issued.pending != pending
            {
                return Err(format!("the row of line {line} is not its record"));
            }
            let revoked = match (revoked_at, reason) {
                (Some(at), Some(reason)) => Some(RevokedRecord {
                    serial: Serial::parse(&serial).map_err(|e| e.to_string())?,
                    revoked_at: OffsetDateTime::from_unix_timestamp(at)
                        .map_err(|e| e.to_string())?,
                    reason: RevocationReason::ALL
                        .into_iter()
                        .find(|r| r.name() == reason)
                        .ok_or_else(|| format!("unknown reason {reason}"))?,
                }),
                _ => None,
            };
            Ok(IndexedCert {
                entry: Entry {
                    delivered: !pending || delivered_line.is_some(),
                    issued,
                    revoked,
                    line: line as usize,
                },
                start: start as u64,
                end: end as u64,
                revoked_line: revoked_line.map(|l| l as usize),
                delivered_line: delivered_line.map(|l| l as usize),
            })
        };
        Ok(made())
    }

    /// Runs a query for certificates; a row the index cannot turn back into a record is an index error.
    fn certs(
        &self,
        query: &str,
        bind: &[(&str, &dyn rusqlite::ToSql)],
    ) -> Result<Vec<IndexedCert>> {
        let mut found = Vec::new();
        self.each(query, bind, &mut |cert| {
            found.push(cert);
            Ok(true)
        })?;
        Ok(found)
    }

    /// Runs a query for certificates and hands each to `each` as it comes; `each` returns false to stop.
    fn each(
        &self,
        query: &str,
        bind: &[(&str, &dyn rusqlite::ToSql)],
        each: &mut dyn FnMut(IndexedCert) -> Result<bool>,
    ) -> Result<()> {
        let mut statement = self.conn.prepare_cached(query).map_err(sql(&self.log))?;
        let mut rows = statement.query(bind).map_err(sql(&self.log))?;
        while let Some(row) = rows.next().map_err(sql(&self.log))? {
            let cert = self
                .row(row)
                .map_err(sql(&self.log))?
                .map_err(|what| Error::Index {
                    path: self.log.with_file_name(super::file::INDEX),
                    what: format!("a row of the index cannot be read ({what})"),
                })?;
            if !each(cert)? {
                break;
            }
        }
        Ok(())
    }

    /// The certificate of this serial.
    pub fn by_serial(&self, serial: &Serial) -> Result<Option<IndexedCert>> {
        let serial = serial.to_string();
        let query = format!("SELECT {COLUMNS} FROM {FROM} WHERE certs.serial = :serial");
        Ok(self.certs(&query, &[(":serial", &serial)])?.pop())
    }

    /// The certificate of this thumbprint.
    pub fn by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<IndexedCert>> {
        let thumbprint = thumbprint.to_string();
        let query =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE certs.thumbprint = :t ORDER BY certs.line");
        Ok(self
            .certs(&query, &[(":t", &thumbprint)])?
            .into_iter()
            .next())
    }

    /// The certificates that renew this serial, oldest first.
    pub fn renewals_of(&self, serial: &Serial) -> Result<Vec<IndexedCert>> {
        let serial = serial.to_string();
        let query = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE certs.renewal_of = :serial ORDER BY certs.line"
        );
        self.certs(&query, &[(":serial", &serial)])
    }

    /// Every certificate that renews another, in log order.
    pub fn renewals(&self) -> Result<Vec<IndexedCert>> {
        let query = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE certs.renewal_of IS NOT NULL ORDER BY certs.line"
        );
        self.certs(&query, &[])
    }

    /// The certificates recorded ahead of a delivery that is not recorded (revoked or not), in log order.
    pub fn undelivered(&self) -> Result<Vec<IndexedCert>> {
        let query = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE certs.pending = 1 AND certs.delivered_line IS NULL ORDER BY certs.line"
        );
        self.certs(&query, &[])
    }

    /// The certificates that were undelivered after the first `count` lines of the log, in log order: those
    /// undelivered still, and those delivered since (both found through their own index).
    pub fn undelivered_at(&self, count: usize) -> Result<Vec<IndexedCert>> {
        let count = count as i64;
        // Each half names its partial index: without it SQLite walks the whole table in line order (the
        // ORDER BY and `line <= :count` make that look cheap), which cost a read of every row per command.
        let query = format!(
            "SELECT {COLUMNS} FROM certs INDEXED BY certs_undelivered JOIN records ON records.line = certs.line
                 WHERE certs.pending = 1 AND certs.delivered_line IS NULL AND certs.line <= :count
             UNION ALL
             SELECT {COLUMNS} FROM certs INDEXED BY certs_delivered JOIN records ON records.line = certs.line
                 WHERE certs.delivered_line > :count AND certs.pending = 1 AND certs.line <= :count
             ORDER BY 2"
        );
        self.certs(&query, &[(":count", &count)])
    }

    /// The revoked certificates, in the order they were revoked.
    pub fn revoked(&self) -> Result<Vec<IndexedCert>> {
        let query = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE certs.revoked_line IS NOT NULL ORDER BY certs.revoked_line"
        );
        self.certs(&query, &[])
    }

    /// The certificates revoked on a line after `line`, in the order they were revoked.
    pub fn revoked_after(&self, line: usize) -> Result<Vec<IndexedCert>> {
        let line = line as i64;
        let query = format!(
            "SELECT {COLUMNS} FROM certs INDEXED BY certs_revoked JOIN records ON records.line = certs.line
             WHERE certs.revoked_line > :line ORDER BY certs.revoked_line"
        );
        self.certs(&query, &[(":line", &line)])
    }

    /// The certificates recorded on a line after `line`, in log order.
    pub fn recorded_after(&self, line: usize) -> Result<Vec<IndexedCert>> {
        let line = line as i64;
        let query =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE certs.line > :line ORDER BY certs.line");
        self.certs(&query, &[(":line", &line)])
    }

    /// Every certificate that `filter` wants, newest first, handed to `each` as it is read (a listing starts at
    /// once and holds one row at a time); `each` returns false to stop. Rows come without their records: the
    /// caller reads each from the log.
    pub fn list(
        &self,
        filter: &ListFilter,
        now: OffsetDateTime,
        each: &mut dyn FnMut(IndexedRow) -> Result<bool>,
    ) -> Result<()> {
        let mut conditions = vec!["1 = 1"];
        if filter.profile.is_some() {
            conditions.push("certs.profile = :profile");
        }
        if let Some(status) = filter.status {
            conditions.push(status_condition(status));
        }
        if filter.expiring_by.is_some() {
            conditions.push(status_condition(Status::Valid));
            conditions.push("certs.not_after <= :by");
        }
        if filter.before_line.is_some() {
            conditions.push("certs.line < :before");
        }
        let query = format!(
            "SELECT {ROW_COLUMNS} FROM certs WHERE {} ORDER BY certs.line DESC",
            conditions.join(" AND ")
        );
        let now = now.unix_timestamp();
        let profile = filter.profile.map(|p| p.to_string());
        let by = filter.expiring_by.map(OffsetDateTime::unix_timestamp);
        let before = filter.before_line.map(|l| l as i64);
        let mut bind: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
        if query.contains(":now") {
            bind.push((":now", &now));
        }
        if let Some(profile) = &profile {
            bind.push((":profile", profile));
        }
        if let Some(by) = &by {
            bind.push((":by", by));
        }
        if let Some(before) = &before {
            bind.push((":before", before));
        }
        let mut statement = self.conn.prepare_cached(&query).map_err(sql(&self.log))?;
        let mut rows = statement.query(bind.as_slice()).map_err(sql(&self.log))?;
        while let Some(row) = rows.next().map_err(sql(&self.log))? {
            let read = IndexedRow::read(row).map_err(sql(&self.log))?;
            let row = read.map_err(|what| Error::Index {
                path: self.log.with_file_name(super::file::INDEX),
                what: format!("a row of the index cannot be read ({what})"),
            })?;
            if !each(row)? {
                break;
            }
        }
        Ok(())
    }

    /// How many certificates have each status at `now`: from counters the index keeps (certificates, and the
    /// live ones per day of expiry), the revoked and undelivered ones through their own indexes.
    pub fn counts(&self, now: OffsetDateTime) -> Result<Counts> {
        let one = |query: &str, bind: &[(&str, &dyn rusqlite::ToSql)]| -> Result<usize> {
            let mut statement = self.conn.prepare_cached(query).map_err(sql(&self.log))?;
            let n: i64 = statement
                .query_row(bind, |r| r.get::<_, Option<i64>>(0))
                .map_err(sql(&self.log))?
                .unwrap_or(0);
            Ok(n.max(0) as usize)
        };
        let now_s = now.unix_timestamp();
        let today = now_s.div_euclid(86_400);
        let issued = one("SELECT certs FROM meta WHERE id = 1", &[])?;
        let revoked = one(
            "SELECT COUNT(*) FROM certs WHERE revoked_line IS NOT NULL",
            &[],
        )?;
        let undelivered = one(
            "SELECT COUNT(*) FROM certs WHERE pending = 1 AND delivered_line IS NULL
                 AND revoked_line IS NULL",
            &[],
        )?;
        // Live certificates expiring after today, and those of today that are still within validity.
        let later = one(
            "SELECT SUM(count) FROM live WHERE day > :today",
            &[(":today", &today)],
        )?;
        let today_left = one(
            &format!(
                "SELECT COUNT(*) FROM certs WHERE not_after >= :now AND not_after < :tomorrow AND {}",
                status_condition(Status::Valid)
            ),
            &[(":now", &now_s), (":tomorrow", &((today + 1) * 86_400))],
        )?;
        let valid = later + today_left;
        Ok(Counts {
            issued,
            valid,
            revoked,
            undelivered,
            expired: issued.saturating_sub(valid + revoked + undelivered),
        })
    }

    /// Where the custody steps are in the log (line, start, end), in log order.
    pub fn custody(&self) -> Result<Vec<(usize, u64, u64)>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT line, start, end FROM custody ORDER BY line")
            .map_err(sql(&self.log))?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as usize,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(sql(&self.log))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql(&self.log))
    }

    /// The highest CRL number the log records.
    pub fn last_crl_number(&self) -> Result<Option<u64>> {
        self.conn
            .query_row("SELECT MAX(number) FROM crls", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|n| n.map(|n| n as u64))
            .map_err(sql(&self.log))
    }

    /// Where the log records its last OCSP window (line, start, end).
    pub fn last_ocsp(&self) -> Result<Option<LogPlace>> {
        self.last_of("ocsp")
    }

    /// Where the log records its last CRL (line, start, end).
    pub fn last_crl(&self) -> Result<Option<LogPlace>> {
        self.last_of("crls")
    }

    /// Where the log records the last row of `table` (line, start, end).
    fn last_of(&self, table: &'static str) -> Result<Option<LogPlace>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                &format!("SELECT line, start, end FROM {table} ORDER BY line DESC LIMIT 1"),
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as usize,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .optional()
            .map_err(sql(&self.log))
    }

    /// The SHA-256 the log records for CRL number `number`.
    pub fn crl(&self, number: u64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT sha256 FROM crls WHERE number = ?1",
                params![number as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&self.log))
    }
}
