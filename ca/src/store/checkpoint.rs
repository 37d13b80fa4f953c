//! The signed checkpoint: the inventory's head hash, its record count and the time, signed by the CA key
//! (`checkpoint.json`). Someone who can write to the CA folder but does not hold the CA key can neither cut
//! records off before the last checkpoint nor forge a new one. Anyone can verify it with the CA certificate:
//!
//! ```text
//! certkit checkpoint v1
//! head <64 hex digits>
//! count <number of records>
//! time <RFC 3339, UTC>
//! ```
//!
//! is the exact message signed, with the CA's own signature algorithm (RSA PKCS#1 v1.5 with SHA-256, or
//! ECDSA with SHA-256 / SHA-384 for P-256 / P-384 CAs).

use std::path::Path;

use openssl::hash::MessageDigest;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::inventory::ChainHash;
use crate::certinfo::CertInfo;
use crate::dates::{now_utc_seconds, rfc3339};
use crate::error::{Error, Result};
use crate::keys::KeyType;

/// The checkpoint file in the CA folder.
pub const CHECKPOINT: &str = "checkpoint.json";

/// A signed statement of how far the inventory went.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// The format, `certkit-checkpoint-1`.
    pub format: String,
    /// The hash of the last record covered (the CA binding when there was none).
    pub head: ChainHash,
    /// How many records it covers.
    pub count: usize,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The signature algorithm.
    pub algorithm: String,
    /// The signature, base64.
    pub signature: String,
}

const FORMAT: &str = "certkit-checkpoint-1";

/// The exact text that is signed.
pub fn message(head: &str, count: usize, time: OffsetDateTime) -> String {
    format!(
        "certkit checkpoint v1\nhead {head}\ncount {count}\ntime {}\n",
        rfc3339(time)
    )
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
    /// Signs a checkpoint of `count` records ending in `head` with `sign`, the CA key of type `key`.
    pub fn sign(
        sign: &dyn Fn(&[u8]) -> Result<Vec<u8>>,
        key: KeyType,
        head: &str,
        count: usize,
    ) -> Result<Self> {
        let time = now_utc_seconds()?;
        let signature = sign(message(head, count, time).as_bytes())?;
        Ok(Checkpoint {
            format: FORMAT.into(),
            head: head.into(),
            count,
            time,
            algorithm: digest_for(key).1.into(),
            signature: openssl::base64::encode_block(&signature),
        })
    }

    /// True if the CA certificate's key made the signature.
    pub fn verify(&self, ca: &CertInfo) -> Result<bool> {
        if self.format != FORMAT {
            return Ok(false);
        }
        let key = openssl::pkey::PKey::public_key_from_der(&ca.spki_der)?;
        let (digest, algorithm) = digest_for(KeyType::of_public(&key)?);
        if self.algorithm != algorithm {
            return Ok(false);
        }
        let Ok(signature) = openssl::base64::decode_block(&self.signature) else {
            return Ok(false);
        };
        let mut verifier = openssl::sign::Verifier::new(digest, &key)?;
        Ok(verifier
            .verify_oneshot(
                &signature,
                message(&self.head, self.count, self.time).as_bytes(),
            )
            .unwrap_or(false))
    }

    /// Reads the checkpoint file, if there is one.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::malformed(
                    path,
                    format!("damaged checkpoint ({e}); run certkit-ca audit"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::json("the checkpoint", e))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
