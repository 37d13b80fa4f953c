//! `certkit-ca retire-key`: remove an earlier CA key a re-key kept, once every certificate it signed has
//! expired.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::secret::{SecretSource, SecretUse};
use crate::store::RetiredKey;
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
    /// The key file removed (none for a key on a token).
    pub removed: Option<String>,
    /// For a key on a token: its URI, which the CA no longer names (certkit never deletes a token key).
    pub token_uri: Option<String>,
    /// For a key on a token: the command that deletes it from the token.
    pub delete_with: Option<String>,
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
    let retired = store.retire_key(&lock, &signing, &key_id)?;
    store.checkpoint(&lock, &signing)?;
    drop(lock);
    let report = match retired {
        RetiredKey::File(path) => RetiredReport {
            key_id,
            removed: Some(path_text(&path)),
            token_uri: None,
            delete_with: None,
        },
        RetiredKey::Token(record) => {
            let label = record
                .uri(&store.path(crate::store::CA_SETTINGS))
                .map(|u| u.object)
                .unwrap_or_default();
            let module = record
                .module
                .as_deref()
                .map(path_text)
                .unwrap_or_else(|| "MODULE".into());
            RetiredReport {
                key_id,
                removed: None,
                delete_with: Some(format!(
                    "pkcs11-tool --module {module} --login --delete-object --type privkey --label {label}"
                )),
                token_uri: Some(record.uri),
            }
        }
    };
    term::render(&report, req.format)
}

impl Report for RetiredReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        match (&self.removed, &self.token_uri) {
            (Some(file), _) => writeln!(
                out,
                "Retired the earlier CA key {}: removed {file}; the CA signs no more CRLs with it",
                self.key_id
            ),
            (None, Some(uri)) => {
                writeln!(
                    out,
                    "Retired the earlier CA key {}: the CA no longer names {uri} and signs no more CRLs with it",
                    self.key_id
                )?;
                if let Some(command) = &self.delete_with {
                    writeln!(
                        out,
                        "  certkit never deletes a token key; to delete it: {command}"
                    )?;
                }
                Ok(())
            }
            (None, None) => writeln!(out, "Retired the earlier CA key {}", self.key_id),
        }
    }
}
