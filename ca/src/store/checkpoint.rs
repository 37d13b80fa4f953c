//! The signed checkpoint (`checkpoint.json`): what the CA key last vouched for. Someone who can write to the CA
//! folder but does not hold the CA key can neither cut records off before the last checkpoint, nor forge a
//! new one, nor change a setting it signed. Anyone can verify it with the CA certificate: the signature, in the
//! CA's own algorithm (RSA PKCS#1 v1.5 with SHA-256, or ECDSA with SHA-256 / SHA-384 for P-256 / P-384 CAs), is
//! over exactly this text:
//!
//! ```text
//! certkit checkpoint v2
//! head <SHA-256 of the last record covered>
//! count <records covered>
//! bytes <bytes of inventory.jsonl covered>
//! time <RFC 3339, UTC>
//! settings <SHA-256 of the signed settings, as compact JSON>
//! revoked <revocations among the records covered> <the chain of their "SERIAL TIME REASON" lines>
//! undelivered <certificates recorded but not delivered> <SHA-256 of their "SERIAL" lines>
//! ```
//!
//! Version 1 (certkit 0.2) signed only the first four lines (without `bytes`); it is still read and verified,
//! and the next command that uses the key writes version 2. The two digests of the last lines let a command
//! check a cheap summary of what matters most (what is revoked, what never reached its files) against the
//! signature instead of trusting a file anyone can write.

use std::path::Path;

use openssl::hash::MessageDigest;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::inventory::{ChainHash, Event, Log};
use super::records::RevokedRecord;
use super::settings::CaSettings;
use crate::dates::{now_utc_seconds, rfc3339};
use crate::error::{Error, Result};
use crate::files::sha256_hex;
use crate::keys::KeyType;
use crate::serial::Serial;

/// The checkpoint file in the CA folder.
pub const CHECKPOINT: &str = "checkpoint.json";

const FORMAT_V1: &str = "certkit-checkpoint-1";
const FORMAT_V2: &str = "certkit-checkpoint-2";

/// A count of records and a SHA-256 over the lines that describe them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: usize,
    /// The SHA-256, lowercase hex.
    pub sha256: String,
}

/// SHA-256 of nothing: where the revocation chain starts.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The line a revocation contributes to the checkpoint's revocation chain: `SERIAL TIME REASON`.
pub fn revocation_line(r: &RevokedRecord) -> String {
    format!("{} {} {}", r.serial, rfc3339(r.revoked_at), r.reason)
}

/// The revocation chain one revocation further: SHA-256 of the chain so far (hex), a newline and the line.
pub fn chain_revocation(chain: &str, r: &RevokedRecord) -> String {
    sha256_hex(format!("{chain}\n{}", revocation_line(r)).as_bytes())
}

/// What the checkpoint signs about the records it covers, besides their hash chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CoveredState {
    /// The revocations, in the order they were recorded, as a chain: starting from the SHA-256 of nothing,
    /// each revocation makes it the SHA-256 of the chain so far (hex), a newline and `SERIAL TIME REASON`. A
    /// chain, so that the next checkpoint extends the last one with the revocations recorded since.
    pub revoked: Tally,
    /// The certificates recorded ahead of a delivery that has not been recorded, in the order they were
    /// recorded: SHA-256 of a `SERIAL` line for each.
    pub undelivered: Tally,
}

impl CoveredState {
    /// The state of the first `count` lines of `log` (read whole: the audit, a CA without a version 2
    /// checkpoint yet).
    pub fn of(log: &Log, count: usize) -> Self {
        let lines = &log.lines[..count.min(log.lines.len())];
        Self::of_events(lines.iter().map(|l| &l.event))
    }

    /// The state of a log that holds `events`, in order (a log being made: `import`).
    pub fn of_events<'a>(events: impl Iterator<Item = &'a Event>) -> Self {
        let mut revoked = Tally {
            count: 0,
            sha256: EMPTY_SHA256.into(),
        };
        let mut pending: Vec<(Serial, bool)> = Vec::new();
        let mut at: std::collections::HashMap<Serial, usize> = std::collections::HashMap::new();
        for event in events {
            match event {
                Event::Issued(record) if record.pending => {
                    at.insert(record.serial.clone(), pending.len());
                    pending.push((record.serial.clone(), true));
                }
                Event::Delivered(done) => {
                    if let Some(&i) = at.get(&done.serial) {
                        pending[i].1 = false;
                    }
                }
                Event::Revoked(r) => {
                    revoked.count += 1;
                    revoked.sha256 = chain_revocation(&revoked.sha256, r);
                }
                _ => {}
            }
        }
        let undelivered: Vec<&Serial> = pending
            .iter()
            .filter(|(_, open)| *open)
            .map(|(s, _)| s)
            .collect();
        CoveredState {
            revoked,
            undelivered: undelivered_tally(undelivered),
        }
    }
}

/// The undelivered tally of these serials, in the order they were recorded.
pub fn undelivered_tally<'a>(serials: impl IntoIterator<Item = &'a Serial>) -> Tally {
    let mut count = 0;
    let mut text = String::new();
    for serial in serials {
        count += 1;
        text.push_str(&format!("{serial}\n"));
    }
    Tally {
        count,
        sha256: sha256_hex(text.as_bytes()),
    }
}

/// A signed statement of how far the inventory went and what the CA's settings were.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// The format, `certkit-checkpoint-2` (or `-1` from certkit 0.2).
    pub format: String,
    /// The hash of the last record covered (the CA binding when there was none).
    pub head: ChainHash,
    /// How many records it covers.
    pub count: usize,
    /// How many bytes of the inventory it covers (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The CA's settings as signed (version 2): `ca.json` must say the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<CaSettings>,
    /// What the covered records say is revoked and undelivered (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<CoveredState>,
    /// The signature algorithm.
    pub algorithm: String,
    /// The signature, base64.
    pub signature: String,
}

/// What a new checkpoint covers.
pub struct Coverage<'a> {
    /// The hash of the last record.
    pub head: &'a str,
    /// Records covered.
    pub count: usize,
    /// Bytes of the inventory covered.
    pub bytes: u64,
    /// The settings the CA key vouches for.
    pub settings: &'a CaSettings,
    /// The revocations and undelivered certificates among the records covered.
    pub state: &'a CoveredState,
}

fn digest_for(key: KeyType) -> (MessageDigest, &'static str) {
    match key {
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            (MessageDigest::sha256(), "sha256WithRSAEncryption")
        }
        KeyType::P256 => (MessageDigest::sha256(), "ecdsa-with-SHA256"),
        KeyType::P384 => (MessageDigest::sha384(), "ecdsa-with-SHA384"),
    }
}

impl Checkpoint {
    /// Signs a checkpoint of `coverage` with `sign`, the CA key of type `key`.
    pub fn sign(
        sign: &dyn Fn(&[u8]) -> Result<Vec<u8>>,
        key: KeyType,
        coverage: &Coverage<'_>,
    ) -> Result<Self> {
        let mut checkpoint = Checkpoint {
            format: FORMAT_V2.into(),
            head: coverage.head.into(),
            count: coverage.count,
            bytes: Some(coverage.bytes),
            time: now_utc_seconds()?,
            settings: Some(coverage.settings.clone()),
            state: Some(coverage.state.clone()),
            algorithm: digest_for(key).1.into(),
            signature: String::new(),
        };
        let signature = sign(checkpoint.message()?.as_bytes())?;
        checkpoint.signature = openssl::base64::encode_block(&signature);
        Ok(checkpoint)
    }

    /// The exact text that is signed, or an error for a version 2 checkpoint that lacks one of its parts.
    pub fn message(&self) -> Result<String> {
        let time = rfc3339(self.time);
        if self.format == FORMAT_V1 {
            return Ok(format!(
                "certkit checkpoint v1\nhead {}\ncount {}\ntime {time}\n",
                self.head, self.count
            ));
        }
        let (Some(bytes), Some(settings), Some(state)) = (self.bytes, &self.settings, &self.state)
        else {
            return Err(Error::BadInput(
                "the checkpoint lacks its bytes, settings or state".into(),
            ));
        };
        Ok(format!(
            "certkit checkpoint v2\nhead {}\ncount {}\nbytes {bytes}\ntime {time}\nsettings {}\nrevoked {} {}\nundelivered {} {}\n",
            self.head,
            self.count,
            settings.sha256()?,
            state.revoked.count,
            state.revoked.sha256,
            state.undelivered.count,
            state.undelivered.sha256
        ))
    }

    /// True for a checkpoint of certkit 0.2, which did not sign the settings or the state.
    pub fn is_v1(&self) -> bool {
        self.format == FORMAT_V1
    }

    /// True if the key `spki_der` (a CA key's SubjectPublicKeyInfo) made the signature (over a well-formed
    /// checkpoint).
    pub fn verify(&self, spki_der: &[u8]) -> Result<bool> {
        if self.format != FORMAT_V1 && self.format != FORMAT_V2 {
            return Ok(false);
        }
        let Ok(message) = self.message() else {
            return Ok(false);
        };
        let key = openssl::pkey::PKey::public_key_from_der(spki_der)?;
        let (digest, algorithm) = digest_for(KeyType::of_public(&key)?);
        if self.algorithm != algorithm {
            return Ok(false);
        }
        let Ok(signature) = openssl::base64::decode_block(&self.signature) else {
            return Ok(false);
        };
        let mut verifier = openssl::sign::Verifier::new(digest, &key)?;
        Ok(verifier
            .verify_oneshot(&signature, message.as_bytes())
            .unwrap_or(false))
    }

    /// Reads the checkpoint file, if there is one.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(&bytes, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Parses a checkpoint file's bytes; `path` names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::malformed(
                path,
                format!("damaged checkpoint ({e}); run certkit-ca audit"),
            )
        })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::json("the checkpoint", e))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
