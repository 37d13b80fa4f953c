//! `certkit-ca retire-key`: remove an earlier CA key a re-key kept, once every certificate it signed has
//! expired.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::secret::{SecretSource, SecretUse};
use crate::term::{self, Format, Report, output::path_text, secrets};

/// What `certkit-ca retire-key` was asked to do.
#[derive(Debug)]
pub struct RetireKeyRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The key's identifier (as `rekey`, `crl` and `list` print it).
    pub key_id: String,
    /// The CA key password (the current key signs the settings that stop naming the old one).
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// What was retired.
#[derive(Debug, Serialize)]
pub struct RetiredReport {
    /// The key.
    pub key_id: String,
    /// The key file removed.
    pub removed: String,
}

/// Retires the key.
pub fn run(req: RetireKeyRequest) -> Result<()> {
    let store = term::open_ca(&req.ca, None)?;
    let key_id = req.key_id;
    let password = secrets::obtain(
        req.ca_pass.as_ref(),
        store.secret_kind()?,
        SecretUse::Existing,
    )?;
    let signing = store.unlock(&password)?;
    drop(password);
    let lock = term::lock(&store)?;
    let removed = store.retire_key(&lock, &signing, &key_id)?;
    store.checkpoint(&lock, &signing)?;
    drop(lock);
    term::render(
        &RetiredReport {
            key_id,
            removed: path_text(&removed),
        },
        req.format,
    )
}

impl Report for RetiredReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Retired the earlier CA key {}: removed {}; the CA signs no more CRLs with it",
            self.key_id, self.removed
        )
    }
}
