//! `kit.json`: what a kit was made from and of, so `kit --refresh` can bring it up to date and can tell a
//! file it wrote from one changed by hand.

use std::path::{Path, PathBuf};

use certkit_ca::{Error, Result, Thumbprint, files};
use serde::{Deserialize, Serialize};

use super::contents::{Identities, KeyFormat};
use crate::targets::Target;

/// The name of the record in a kit folder.
pub const KIT_JSON: &str = "kit.json";

/// The format version of `kit.json` certkit writes.
pub const VERSION: u32 = 1;

/// One file of the kit as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Its name in the kit folder.
    pub name: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// While a refresh is placing files: the hash it had before (either is certkit's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
}

/// What a kit was made from, and its files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KitRecord {
    /// The format version.
    pub kit: u32,
    /// The consumer.
    pub target: Target,
    /// The CA folder, absolute.
    pub ca: PathBuf,
    /// The prefix of the server certificate in the kit, absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<PathBuf>,
    /// The thumbprint of the server certificate in the kit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_thumbprint: Option<Thumbprint>,
    /// Its subject (a renewal has the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_subject: Option<String>,
    /// The key format (Key Vault and Cloud Services).
    pub format: KeyFormat,
    /// Whether a client CA without OCSP is refused (Application Gateway).
    #[serde(default)]
    pub require_revocation: bool,
    /// The API Management policy file the kit keeps the identities of, absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PathBuf>,
    /// The service configuration the kit keeps the thumbprints of (cses), absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cscfg: Option<PathBuf>,
    /// How the identities are written.
    pub identities: Identities,
    /// CRL files of the CAs above, absolute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crls: Vec<PathBuf>,
    /// The files, in the order written.
    pub files: Vec<RecordedFile>,
}

/// Whether `name` is a plain file name: not empty, no path separator, not `.` or `..`, not the record itself.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name != KIT_JSON
        && !name.contains(['/', '\\', '\0'])
}

impl KitRecord {
    /// Reads `DIR/kit.json`.
    pub fn read(dir: &Path) -> Result<KitRecord> {
        let path = dir.join(KIT_JSON);
        if !path.exists() {
            return Err(Error::BadInput(format!(
                "{} is not a kit ({} is missing); make one with certkit-export kit --target TARGET --ca DIR --out-dir {}",
                dir.display(),
                KIT_JSON,
                dir.display()
            )));
        }
        KitRecord::parse(&files::read(&path)?, &path)
    }

    /// Reads a kit record's bytes; `path` names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<KitRecord> {
        let record: KitRecord = serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed(path, format!("not a kit record ({e})")))?;
        if record.kit != VERSION {
            return Err(Error::malformed(
                path,
                format!(
                    "kit format {} (this certkit reads {VERSION}); use the certkit that made it",
                    record.kit
                ),
            ));
        }
        // A refresh writes and removes the files the record names: only plain names in the kit folder.
        if let Some(bad) = record.files.iter().find(|f| !is_plain_name(&f.name)) {
            return Err(Error::malformed(
                path,
                format!(
                    "names the file {:?}, which is not a plain file name in the kit folder; make the kit again",
                    bad.name
                ),
            ));
        }
        Ok(record)
    }

    /// Its bytes as written.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|_| Error::Bug("a kit record that cannot be written"))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The recorded file named `name`.
    pub fn file(&self, name: &str) -> Option<&RecordedFile> {
        self.files.iter().find(|f| f.name == name)
    }
}
