//! Custody of the CA key: a backup of it encrypted under a random 256-bit secret, the secret split into
//! SLIP-39 shares (any M of N custodians restore it, fewer learn nothing), and the shares gathered again to
//! restore the key or to prove in a drill that they still do. A hub over `backup_file` (the file) and
//! `gather` (shares as they arrive).

mod backup_file;
mod gather;

pub use backup_file::{BackupFile, BackupSettings, default_path, parse_scheme, scheme_text};
pub use gather::{Gathered, SharePile};

use zeroize::Zeroizing;

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::slip39::{self, Scheme, Share};

/// PBKDF2 iterations of the shares' own encryption: 10,000 x 2^this (the reference implementation's default).
const ITERATION_EXPONENT: u8 = 1;

/// A new backup and the shares that open it.
pub struct Split {
    /// The backup file's content.
    pub backup: BackupFile,
    /// The shares, by group.
    pub shares: Vec<Vec<Share>>,
}

/// Makes a fresh random secret, encrypts the CA key `key_der` (PKCS#8) of `cert` under it and splits it as
/// `scheme` says.
pub fn split_key(
    cert: CertInfo,
    key_der: &[u8],
    scheme: Scheme,
    settings: BackupSettings,
) -> Result<Split> {
    let mut secret = Zeroizing::new([0u8; 32]);
    openssl::rand::rand_bytes(&mut secret[..])?;
    let mut random = |buf: &mut [u8]| {
        // The system's random source does not fail once it has given the secret above.
        let _ = openssl::rand::rand_bytes(buf);
    };
    let shares = slip39::split(&secret[..], &scheme, b"", ITERATION_EXPONENT, &mut random)
        .map_err(Error::BadInput)?;
    let split = shares
        .first()
        .and_then(|g| g.first())
        .map(|s| s.identifier)
        .ok_or(Error::Bug("a split without shares"))?;
    let backup = BackupFile::new(cert, key_der, &secret[..], split, scheme, settings)?;
    Ok(Split { backup, shares })
}
