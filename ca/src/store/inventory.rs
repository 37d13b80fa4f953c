//! The CA's inventory: an append-only JSON Lines log of issuance and revocation events (`inventory.jsonl`).
//!
//! Why a log: appending one line under the CA lock is O(1) per certificate (a batch of thousands does not
//! rewrite a growing file), each append is flushed to disk before the certificate is reported, and the file
//! is an audit trail a security officer can read. A line torn by a crash is the last one, was never
//! reported done, and is dropped on the next write.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::san::San;
use crate::serial::Serial;
use crate::thumbprint::Thumbprint;

/// One issued certificate, as recorded when it was issued.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IssuedRecord {
    /// Serial number.
    pub serial: Serial,
    /// Subject, e.g. `CN=Alice`.
    pub subject: String,
    /// Subject common name.
    pub cn: String,
    /// Profile it was issued with.
    pub profile: Profile,
    /// Subject alternative names (`DNS:`, `IP:`, `email:`).
    pub sans: Vec<San>,
    /// Extended key usages added with `--eku`, beyond the profile's own.
    #[serde(default)]
    pub extra_ekus: Vec<String>,
    /// Key type of the certificate's public key.
    pub key: KeyType,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// CRL distribution point URL put into the certificate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// Serial of the certificate this one renews, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_of: Option<Serial>,
}

impl IssuedRecord {
    /// The record of `cert`, issued to `cn` with `profile`; `extra_ekus` are those beyond the profile's own.
    pub fn new(
        cert: &CertInfo,
        cn: &str,
        profile: Profile,
        extra_ekus: Vec<String>,
        key: KeyType,
        crl_url: Option<String>,
        renewal_of: Option<Serial>,
    ) -> Self {
        IssuedRecord {
            serial: cert.serial.clone(),
            subject: cert.subject.clone(),
            cn: cn.to_string(),
            profile,
            sans: cert.sans.clone(),
            extra_ekus,
            key,
            not_before: cert.not_before,
            not_after: cert.not_after,
            thumbprint: cert.thumbprint,
            crl_url,
            renewal_of,
        }
    }
}

/// Why a certificate was revoked (RFC 5280 reason codes that apply to an end-entity certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevocationReason {
    /// No reason given.
    #[serde(rename = "unspecified")]
    Unspecified,
    /// The private key was lost or exposed (a lost laptop).
    #[serde(rename = "keyCompromise")]
    KeyCompromise,
    /// The person left or changed role.
    #[serde(rename = "affiliationChanged")]
    AffiliationChanged,
    /// Replaced by a new certificate.
    #[serde(rename = "superseded")]
    Superseded,
    /// No longer needed.
    #[serde(rename = "cessationOfOperation")]
    CessationOfOperation,
}

impl RevocationReason {
    /// Every reason, in the order the help lists them.
    pub const ALL: [RevocationReason; 5] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
    ];

    /// Its RFC 5280 name, as the command line and the inventory spell it.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
        }
    }

    /// One line on when to use it.
    pub fn description(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "No reason given",
            RevocationReason::KeyCompromise => {
                "The private key was lost or exposed (a lost laptop)"
            }
            RevocationReason::AffiliationChanged => "The person left or changed role",
            RevocationReason::Superseded => "Replaced by a new certificate",
            RevocationReason::CessationOfOperation => "No longer needed",
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A revocation, as recorded.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RevokedRecord {
    /// Serial of the revoked certificate.
    pub serial: Serial,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// One line of the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    /// A certificate was issued.
    Issued(IssuedRecord),
    /// A certificate was revoked.
    Revoked(RevokedRecord),
}

/// A certificate's current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Within its validity and not revoked.
    Valid,
    /// Revoked (whatever its dates).
    Revoked(RevocationReason),
    /// Past its notAfter.
    Expired,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Valid => f.write_str("valid"),
            Status::Revoked(_) => f.write_str("revoked"),
            Status::Expired => f.write_str("expired"),
        }
    }
}

/// An issued certificate with its revocation, if any.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The issuance record.
    pub issued: IssuedRecord,
    /// The revocation, if revoked.
    pub revoked: Option<RevokedRecord>,
}

impl Entry {
    /// The status at time `now`.
    pub fn status(&self, now: OffsetDateTime) -> Status {
        match &self.revoked {
            Some(r) => Status::Revoked(r.reason),
            None if self.issued.not_after < now => Status::Expired,
            None => Status::Valid,
        }
    }
}

/// Reads the log and folds it into entries in issuance order.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut entries: Vec<Entry> = Vec::new();
    for (index, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: String| Error::Inventory {
            path: path.to_path_buf(),
            line: index + 1,
            what,
        };
        match serde_json::from_str::<Event>(line).map_err(|e| bad(e.to_string()))? {
            Event::Issued(record) => entries.push(Entry {
                issued: record,
                revoked: None,
            }),
            Event::Revoked(rev) => {
                let entry = entries
                    .iter_mut()
                    .find(|e| e.issued.serial == rev.serial)
                    .ok_or_else(|| bad(format!("revocation of unknown serial {}", rev.serial)))?;
                entry.revoked = Some(rev);
            }
        }
    }
    Ok(entries)
}

/// Appends events to the log and flushes them to disk. The caller holds the CA lock.
pub fn append(path: &Path, events: &[Event]) -> Result<()> {
    let mut file = crate::files::open_append(path, crate::files::PUBLIC)?;
    drop_torn_tail(&mut file, path)?;
    let mut text = String::new();
    for event in events {
        text.push_str(
            &serde_json::to_string(event).map_err(|e| Error::json("an inventory record", e))?,
        );
        text.push('\n');
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io("append to", path, e))
}

/// A crash in the middle of an append leaves a last line without its newline: cut it off. Reads only the
/// tail of the file, so an append costs the same however long the inventory is.
fn drop_torn_tail(file: &mut File, path: &Path) -> Result<()> {
    let read_err = |e| Error::io("read", path, e);
    let len = file.metadata().map_err(read_err)?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(read_err)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Walk back block by block to the last complete line.
    let mut end = len;
    let mut block = vec![0u8; 4096];
    let keep = loop {
        if end == 0 {
            break 0;
        }
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(chunk))
            .map_err(read_err)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            break start + i as u64 + 1;
        }
        end = start;
    };
    file.set_len(keep).map_err(|e| Error::io("repair", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(serial: &str) -> IssuedRecord {
        IssuedRecord {
            serial: Serial::parse(serial).expect("serial"),
            subject: "CN=A".into(),
            cn: "A".into(),
            profile: Profile::Client,
            sans: vec![],
            extra_ekus: vec![],
            key: KeyType::Rsa2048,
            not_before: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::now_utc() + time::Duration::days(1),
            thumbprint: Thumbprint::of_der(serial.as_bytes()),
            crl_url: None,
            renewal_of: None,
        }
    }

    #[test]
    fn torn_last_line_is_ignored_and_repaired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        append(&path, &[Event::Issued(record("01"))]).expect("append");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"{\"event\":\"iss"))
            .expect("tear");
        assert_eq!(read(&path).expect("read").len(), 1);
        append(&path, &[Event::Issued(record("02"))]).expect("append");
        let entries = read(&path).expect("read");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].issued.serial.to_string(), "02");
    }

    #[test]
    fn revocation_folds_into_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        let rev = RevokedRecord {
            serial: Serial::parse("01").expect("serial"),
            revoked_at: OffsetDateTime::UNIX_EPOCH,
            reason: RevocationReason::KeyCompromise,
        };
        append(&path, &[Event::Issued(record("01")), Event::Revoked(rev)]).expect("append");
        let entries = read(&path).expect("read");
        assert_eq!(
            entries[0].status(OffsetDateTime::now_utc()),
            Status::Revoked(RevocationReason::KeyCompromise)
        );
    }
}
