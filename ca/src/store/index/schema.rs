//! The index's tables, and how one line of the log changes them.
//!
//! `certs` has one row per certificate the log records: where its record is in the log (line and byte range),
//! the columns the questions filter on (thumbprint, profile, dates, renewal, status), and the record itself as
//! JSON without the certificate. `crls` has one row per CRL recorded (where it is in the log), `custody` one per custody step and `ocsp` one per OCSP window (where it is in the log). `meta` says how far into the log the index
//! went. A certificate's status is in the columns: `revoked_line` (revoked), `pending` without `delivered_line`
//! (undelivered), `not_after` (expired).

use rusqlite::{Transaction, params};

use crate::store::inventory::{Event, LogLine};

/// The index's format; a file of another format is rebuilt.
pub const VERSION: i64 = 5;

/// Drops whatever the file holds and creates the tables, empty.
///
/// `certs` rows are small (the questions scan them); the records themselves are in `records`. `live` counts,
/// per day of expiry, the certificates that are delivered and not revoked, kept by triggers as rows change, so
/// that how many are valid or expire soon costs the number of days, not of certificates.
pub fn create(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS meta;
         DROP TABLE IF EXISTS certs;
         DROP TABLE IF EXISTS records;
         DROP TABLE IF EXISTS live;
         DROP TABLE IF EXISTS crls;
         DROP TABLE IF EXISTS custody;
         DROP TABLE IF EXISTS ocsp;
         CREATE TABLE meta (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             binding TEXT NOT NULL,
             lines INTEGER NOT NULL,
             bytes INTEGER NOT NULL,
             head TEXT NOT NULL,
             certs INTEGER NOT NULL DEFAULT 0
         );
         CREATE TABLE certs (
             line INTEGER PRIMARY KEY,
             serial TEXT NOT NULL UNIQUE,
             thumbprint TEXT NOT NULL,
             start INTEGER NOT NULL,
             end INTEGER NOT NULL,
             profile TEXT NOT NULL,
             not_after INTEGER NOT NULL,
             renewal_of TEXT,
             pending INTEGER NOT NULL,
             delivered_line INTEGER,
             revoked_line INTEGER,
             revoked_at INTEGER,
             reason TEXT
         );
         CREATE TABLE records (line INTEGER PRIMARY KEY, json TEXT NOT NULL);
         CREATE TABLE live (day INTEGER PRIMARY KEY, count INTEGER NOT NULL);
         CREATE TABLE crls (line INTEGER PRIMARY KEY, number INTEGER NOT NULL, sha256 TEXT NOT NULL,
             start INTEGER NOT NULL, end INTEGER NOT NULL);
         CREATE TABLE custody (line INTEGER PRIMARY KEY, start INTEGER NOT NULL, end INTEGER NOT NULL);
         CREATE TABLE ocsp (line INTEGER PRIMARY KEY, start INTEGER NOT NULL, end INTEGER NOT NULL);
         CREATE INDEX certs_thumbprint ON certs (thumbprint);
         CREATE INDEX certs_not_after ON certs (not_after);
         CREATE INDEX certs_profile ON certs (profile, line);
         CREATE INDEX certs_renewal_of ON certs (renewal_of) WHERE renewal_of IS NOT NULL;
         CREATE INDEX certs_revoked ON certs (revoked_line) WHERE revoked_line IS NOT NULL;
         CREATE INDEX certs_undelivered ON certs (line) WHERE pending = 1 AND delivered_line IS NULL;
         CREATE INDEX certs_delivered ON certs (delivered_line) WHERE delivered_line IS NOT NULL;
         CREATE TRIGGER certs_counted AFTER INSERT ON certs BEGIN
             UPDATE meta SET certs = certs + 1 WHERE id = 1;
         END;
         CREATE TRIGGER live_added AFTER INSERT ON certs
             WHEN NEW.revoked_line IS NULL AND (NEW.pending = 0 OR NEW.delivered_line IS NOT NULL) BEGIN
             INSERT INTO live (day, count) VALUES (NEW.not_after / 86400, 1)
                 ON CONFLICT (day) DO UPDATE SET count = count + 1;
         END;
         CREATE TRIGGER live_changed AFTER UPDATE OF revoked_line, delivered_line ON certs
             WHEN (OLD.revoked_line IS NULL AND (OLD.pending = 0 OR OLD.delivered_line IS NOT NULL))
               != (NEW.revoked_line IS NULL AND (NEW.pending = 0 OR NEW.delivered_line IS NOT NULL)) BEGIN
             INSERT INTO live (day, count)
                 VALUES (NEW.not_after / 86400,
                         CASE WHEN NEW.revoked_line IS NULL THEN 1 ELSE -1 END)
                 ON CONFLICT (day) DO UPDATE SET count = count + excluded.count;
         END;",
    )?;
    conn.pragma_update(None, "user_version", VERSION)
}

/// Why a line could not be applied.
pub enum ApplyError {
    /// SQLite failed.
    Sql(rusqlite::Error),
    /// The line contradicts what came before it (a serial recorded twice, an event for an unknown serial).
    Record(String),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Sql(e)
    }
}

/// Applies one line of the log.
pub fn apply(tx: &Transaction<'_>, line: &LogLine) -> Result<(), ApplyError> {
    let number = line.number as i64;
    match &line.event {
        Event::Issued(record) | Event::Imported(record) => {
            let mut stored = record.clone();
            stored.der = None;
            let json = serde_json::to_string(&stored)
                .map_err(|e| ApplyError::Record(format!("the record cannot be indexed: {e}")))?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO certs (serial, thumbprint, line, start, end, profile, not_after,
                     renewal_of, pending)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    record.serial.to_string(),
                    record.thumbprint.to_string(),
                    number,
                    line.start as i64,
                    line.end as i64,
                    record.profile.to_string(),
                    record.not_after.unix_timestamp(),
                    record.renewal_of.as_ref().map(ToString::to_string),
                    record.pending,
                ],
            )?;
            if inserted > 0 {
                tx.execute(
                    "INSERT INTO records (line, json) VALUES (?1, ?2)",
                    params![number, json],
                )?;
            }
            if inserted == 0 {
                return Err(ApplyError::Record(format!(
                    "serial {} is recorded a second time (certkit never does that); nothing was written. See \"certkit-ca audit\"",
                    record.serial
                )));
            }
        }
        Event::Revoked(r) => {
            let changed = tx.execute(
                "UPDATE certs SET revoked_line = ?2, revoked_at = ?3, reason = ?4 WHERE serial = ?1",
                params![
                    r.serial.to_string(),
                    number,
                    r.revoked_at.unix_timestamp(),
                    r.reason.name()
                ],
            )?;
            if changed == 0 {
                return Err(ApplyError::Record(format!(
                    "revocation of unknown serial {}",
                    r.serial
                )));
            }
        }
        Event::Delivered(d) => {
            let changed = tx.execute(
                "UPDATE certs SET delivered_line = ?2 WHERE serial = ?1",
                params![d.serial.to_string(), number],
            )?;
            if changed == 0 {
                return Err(ApplyError::Record(format!(
                    "delivery of unknown serial {}",
                    d.serial
                )));
            }
        }
        Event::Crl(crl) => {
            tx.execute(
                "INSERT OR REPLACE INTO crls (line, number, sha256, start, end) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    number,
                    crl.number as i64,
                    crl.sha256,
                    line.start as i64,
                    line.end as i64
                ],
            )?;
        }
        Event::Custody(_) => {
            tx.execute(
                "INSERT OR REPLACE INTO custody (line, start, end) VALUES (?1, ?2, ?3)",
                params![number, line.start as i64, line.end as i64],
            )?;
        }
        // What an imported index said of a certificate whose file was gone: no certificate to find.
        Event::Missing(_) => {}
        Event::Ocsp(_) => {
            tx.execute(
                "INSERT OR REPLACE INTO ocsp (line, start, end) VALUES (?1, ?2, ?3)",
                params![number, line.start as i64, line.end as i64],
            )?;
        }
    }
    Ok(())
}
