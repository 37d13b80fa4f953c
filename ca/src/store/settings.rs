//! `ca.json`: the settings kept beside the CA (its CRL URL; for a key on a token, the token's URI and module),
//! and where the CA key is.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::CaStore;
use super::layout::{CA_KEY, CA_SETTINGS};
use crate::error::{Error, Result};
use crate::token::{self, ModuleSearch, TokenInfo, TokenUri};

/// Settings kept beside the CA.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct CaSettings {
    /// CRL distribution point put into certificates this CA issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// Where the key is when it is on a PKCS#11 token (and there is no `ca.key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<TokenRecord>,
}

/// A CA key on a token, as `ca.json` records it: never the PIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The key's PKCS#11 URI, with its id.
    pub uri: String,
    /// The module used at init or move-key, tried before the well-known places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<PathBuf>,
}

impl TokenRecord {
    /// The recorded URI, parsed; `path` (ca.json) names it in errors.
    pub fn uri(&self, path: &Path) -> Result<TokenUri> {
        self.uri.parse().map_err(|e| {
            Error::malformed(path, format!("the recorded PKCS#11 URI is damaged ({e})"))
        })
    }
}

/// Where a CA's key is, as `init`, `show` and `move-key` report it.
#[derive(Clone, Debug, Serialize)]
pub struct KeyLocation {
    /// `file` (`ca.key`, encrypted) or `pkcs11` (on a token).
    pub storage: &'static str,
    /// The key file.
    pub file: Option<PathBuf>,
    /// The key's PKCS#11 URI.
    pub uri: Option<String>,
    /// The PKCS#11 module.
    pub module: Option<PathBuf>,
    /// Why that module.
    pub module_origin: Option<token::ModuleOrigin>,
    /// The token.
    pub token: Option<TokenInfo>,
    /// Why the token could not be found, when it could not.
    pub problem: Option<String>,
}

impl KeyLocation {
    /// A key in `file`.
    pub fn file(file: PathBuf) -> Self {
        KeyLocation {
            storage: "file",
            file: Some(file),
            uri: None,
            module: None,
            module_origin: None,
            token: None,
            problem: None,
        }
    }

    /// A key on `token`, recorded with `uri`.
    pub fn token(uri: String, token: &token::Token) -> Self {
        KeyLocation {
            storage: "pkcs11",
            file: None,
            uri: Some(uri),
            module: Some(token.module.clone()),
            module_origin: Some(token.origin),
            token: Some(token.info.clone()),
            problem: None,
        }
    }
}

impl CaStore {
    /// The CA settings (defaults if `ca.json` is missing).
    pub fn settings(&self) -> Result<CaSettings> {
        let path = self.path(CA_SETTINGS);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::malformed(&path, format!("damaged settings: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CaSettings::default()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Where the CA key is; for a token, found without logging in (for `show`: a token that cannot be found is
    /// reported as the location's problem, not as an error).
    pub fn key_location(&self) -> Result<KeyLocation> {
        let Some(record) = self.settings()?.pkcs11 else {
            return Ok(KeyLocation::file(self.path(CA_KEY)));
        };
        let uri = record.uri(&self.path(CA_SETTINGS))?;
        match token::open(&ModuleSearch::new(None, record.module.as_deref()), &uri) {
            Ok(token) => Ok(KeyLocation::token(record.uri, &token)),
            Err(e) => Ok(KeyLocation {
                storage: "pkcs11",
                file: None,
                uri: Some(record.uri),
                module: record.module,
                module_origin: None,
                token: None,
                problem: Some(e.to_string()),
            }),
        }
    }

    /// What secret opens the CA key: the key file's password, or the token's PIN.
    pub fn secret_kind(&self) -> Result<crate::secret::SecretKind> {
        Ok(match self.settings()?.pkcs11 {
            Some(_) => crate::secret::CA_PIN,
            None => crate::secret::CA_PASS,
        })
    }
}
