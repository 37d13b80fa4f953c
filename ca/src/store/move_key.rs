//! Moving the CA key from `ca.key` onto a PKCS#11 token (`certkit-ca move-key`).

use std::path::{Path, PathBuf};

use rcgen::PublicKeyData;

use super::folder::{CaStore, StoreLock};
use super::layout::{CA_KEY, CA_PEM, CA_SETTINGS};
use super::settings::{KeyLocation, KeyOrigin, TokenRecord};
use crate::error::{Error, Result};
use crate::files;
use crate::keys;
use crate::secret::Secret;
use crate::signer::{CaKey, SigningCa};
use crate::thumbprint::Thumbprint;
use crate::token::{self, ModuleSearch, TokenUri};

/// Where `move_key` put the CA key.
#[derive(Debug)]
pub struct MovedKey {
    /// Where the key is now.
    pub key: KeyLocation,
    /// The key file removed.
    pub removed: PathBuf,
    /// The CA certificate's thumbprint (unchanged).
    pub thumbprint: Thumbprint,
}

/// Removes `ca.key` durably (the folder is synced), once the key is safe on a token.
fn remove_key_file(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    files::sync_folders([path])
}

impl CaStore {
    /// Moves the CA key from `ca.key` onto a token: imported as sensitive and never extractable, checked by a
    /// test signature against the CA certificate, recorded in `ca.json` (signed by the token key in a new
    /// checkpoint), and only then is `ca.key` removed.
    /// A move that was interrupted is finished by running it again (`password` is then not needed). The
    /// caller holds the lock.
    pub fn move_key(
        &self,
        lock: &StoreLock,
        password: Option<&Secret>,
        search: &ModuleSearch,
        uri: &TokenUri,
        pin: &Secret,
    ) -> Result<MovedKey> {
        let cert = self.cert()?;
        let key_path = self.path(CA_KEY);
        let settings_path = self.path(CA_SETTINGS);
        let mut settings = self.settings()?;
        if let Some(record) = &settings.pkcs11 {
            if !key_path.exists() {
                return Err(Error::Token(format!(
                    "the CA key is on a token already ({}); there is no ca.key to move",
                    record.uri
                )));
            }
            // An earlier move stopped after recording the token: check the token key, then finish.
            let recorded = record.uri(&settings_path)?;
            let search = ModuleSearch {
                recorded: record.module.clone(),
                ..search.clone()
            };
            let token = token::open(&search, &recorded)?;
            token.login(pin)?.existing(&recorded, &cert)?;
            remove_key_file(&key_path)?;
            return Ok(MovedKey {
                key: KeyLocation::token(record, &token),
                removed: key_path,
                thumbprint: cert.thumbprint,
            });
        }
        let password = password.ok_or(Error::Bug("moving a key file without its password"))?;
        let file_key = keys::load_key(&key_path, password)?;
        if file_key.subject_public_key_info() != cert.spki_der {
            return Err(Error::CaUnusable(format!(
                "{} does not belong to {}; restore the matching key before moving it",
                key_path.display(),
                self.path(CA_PEM).display()
            )));
        }
        let token = token::open(search, uri)?;
        let session = token.login(pin)?;
        let (key, uri) = if session.has_key(uri)? {
            // An earlier move imported the key and stopped before recording it.
            session.existing(uri, &cert)?
        } else {
            let pkcs8 = zeroize::Zeroizing::new(file_key.serialize_der());
            let (key, uri) = session.import(uri, &pkcs8, &cert)?;
            if let Err(e) = key.check_belongs_to(&cert) {
                key.destroy();
                return Err(e);
            }
            (key, uri)
        };
        drop(file_key);
        let record = TokenRecord {
            uri: uri.to_string(),
            module: Some(token.module.clone()),
            origin: Some(KeyOrigin::Imported),
        };
        settings.pkcs11 = Some(record.clone());
        // The token key itself signs the settings that name it.
        let signing = SigningCa::new(
            cert.clone(),
            CaKey::Token(key),
            settings.crl_url.clone(),
            &self.path(CA_PEM),
            Path::new(&uri.to_string()),
        )?;
        self.change_settings(lock, &signing, &settings)?;
        drop(signing);
        remove_key_file(&key_path)?;
        Ok(MovedKey {
            key: KeyLocation::token(&record, &token),
            removed: key_path,
            thumbprint: cert.thumbprint,
        })
    }
}
