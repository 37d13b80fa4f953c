//! `ca.json`: the settings kept beside the CA (its CRL URL; for a key on a token, the token's URI and module),
//! and where the CA key is. The settings decide what certificates say and, for a token, what code runs, so the
//! CA key signs them (in the checkpoint) and a command uses them only as signed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::token::{self, TokenInfo, TokenUri};

/// Settings kept beside the CA.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct CaSettings {
    /// CRL distribution point put into certificates this CA issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// Where the key is when it is on a PKCS#11 token (and there is no `ca.key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<TokenRecord>,
    /// Where clients fetch this CA's certificate (authorityInfoAccess caIssuers in what it signs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aia_url: Option<String>,
    /// Where clients ask about revocation (authorityInfoAccess id-ad-ocsp in what it signs): the responder
    /// that serves the OCSP responses it signs ahead (`certkit-ca ocsp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_url: Option<String>,
    /// The CA that signed this one, for a CA below a root (`install`, `init --parent`); its chain is in
    /// `chain.pem`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRecord>,
    /// What the inventory's first record is bound to once the CA certificate was renewed (`certkit-ca renew`):
    /// the SHA-256 of the CA's first certificate (before that, of `ca.cer` itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// The CA's earlier keys still kept to sign CRLs for what they issued (`certkit-ca rekey`, until
    /// `certkit-ca retire-key`), each in `keys/KEYID.key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_keys: Vec<EarlierKey>,
    /// The profile files the CA issues by (`certkit-ca profile add`): each name with the SHA-256 of its
    /// `profiles/NAME.toml`, so the CA key's signature covers what each says.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub profiles: std::collections::BTreeMap<String, String>,
}

/// An earlier CA key, as `ca.json` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierKey {
    /// Its subject key identifier, uppercase hex.
    pub key_id: String,
    /// The CRL distribution point the certificates it signed name (where its CRLs are published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// Where the key is when it is on a token (else in `keys/KEYID.key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<TokenRecord>,
}

/// The CA above, as `ca.json` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentRecord {
    /// Its subject.
    pub subject: String,
    /// Its SHA-1 thumbprint.
    pub thumbprint: crate::thumbprint::Thumbprint,
}

/// A CA key on a token, as `ca.json` records it: never the PIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The key's PKCS#11 URI, with its id.
    pub uri: String,
    /// The module used at init or move-key, tried before the well-known places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<PathBuf>,
    /// Whether the key was made on the token or imported into it (not recorded before certkit 0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<KeyOrigin>,
}

/// How a token key came to be there, which decides whether it can have a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyOrigin {
    /// Made on the token (`init --pkcs11`): it never left it, so it has no backup.
    MadeOnToken,
    /// Made elsewhere and imported (`move-key`, `init --pkcs11 --backup-shares`, `restore --pkcs11`): a backup
    /// may have been made before (the inventory's custody records say).
    Imported,
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
    /// For a token key: made on the token (`made-on-token`) or imported (`imported`), when recorded.
    pub origin: Option<KeyOrigin>,
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
            origin: None,
        }
    }

    /// A key on `token`, as `record` names it.
    pub fn token(record: &TokenRecord, token: &token::Token) -> Self {
        KeyLocation {
            storage: "pkcs11",
            file: None,
            uri: Some(record.uri.clone()),
            origin: record.origin,
            module: Some(token.module.clone()),
            module_origin: Some(token.origin),
            token: Some(token.info.clone()),
            problem: None,
        }
    }
}

impl CaSettings {
    /// Parses `ca.json`'s bytes; `path` names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed(path, format!("damaged settings: {e}")))
    }

    /// The settings as the checkpoint signs them: compact JSON, fields in their declared order
    /// (`jq -cj .settings checkpoint.json` prints the same).
    pub fn canonical(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::json("the CA settings", e))
    }

    /// SHA-256 of [`CaSettings::canonical`], lowercase hex.
    pub fn sha256(&self) -> Result<String> {
        Ok(crate::files::sha256_hex(self.canonical()?.as_bytes()))
    }

    /// The file `ca.json` holds them in.
    pub fn to_file_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self).map_err(|e| Error::json("the CA settings", e))
    }

    /// What differs between these settings (`ca.json`) and `signed`, one phrase per setting, naming both values.
    pub fn differences(&self, signed: &CaSettings) -> Vec<String> {
        let show = |v: Option<String>| v.unwrap_or_else(|| "none".into());
        let mut found = Vec::new();
        if self.crl_url != signed.crl_url {
            found.push(format!(
                "crl_url {} where the CA key signed {}",
                show(self.crl_url.clone()),
                show(signed.crl_url.clone())
            ));
        }
        let uri = |s: &CaSettings| s.pkcs11.as_ref().map(|t| t.uri.clone());
        let module = |s: &CaSettings| {
            s.pkcs11
                .as_ref()
                .and_then(|t| t.module.as_ref())
                .map(|m| m.display().to_string())
        };
        if uri(self) != uri(signed) {
            found.push(format!(
                "the token key {} where the CA key signed {}",
                show(uri(self)),
                show(uri(signed))
            ));
        }
        if module(self) != module(signed) {
            found.push(format!(
                "the PKCS#11 module {} where the CA key signed {}",
                show(module(self)),
                show(module(signed))
            ));
        }
        if self.aia_url != signed.aia_url {
            found.push(format!(
                "aia_url {} where the CA key signed {}",
                show(self.aia_url.clone()),
                show(signed.aia_url.clone())
            ));
        }
        if self.ocsp_url != signed.ocsp_url {
            found.push(format!(
                "ocsp_url {} where the CA key signed {}",
                show(self.ocsp_url.clone()),
                show(signed.ocsp_url.clone())
            ));
        }
        let ids = |s: &CaSettings| {
            let ids: Vec<&str> = s.earlier_keys.iter().map(|k| k.key_id.as_str()).collect();
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        };
        if self.earlier_keys != signed.earlier_keys {
            found.push(format!(
                "the earlier keys {} where the CA key signed {}",
                ids(self),
                ids(signed)
            ));
        }
        if self.profiles != signed.profiles {
            let names = |s: &CaSettings| {
                s.profiles
                    .iter()
                    .map(|(name, sha)| format!("{name} ({})", &sha[..sha.len().min(12)]))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            found.push(format!(
                "the profiles [{}] where the CA key signed [{}]",
                names(self),
                names(signed)
            ));
        }
        if found.is_empty() && self != signed {
            found.push(
                "the parent or the inventory's binding differs from what the CA key signed".into(),
            );
        }
        found
    }

    /// True when these settings differ from `signed` in the token's module and nothing else.
    pub fn differ_only_in_module(&self, signed: &CaSettings) -> bool {
        let without = |s: &CaSettings| {
            let mut s = s.clone();
            if let Some(t) = &mut s.pkcs11 {
                t.module = None;
            }
            s
        };
        self != signed && without(self) == without(signed)
    }
}
