//! The CA folder as a type: opening it, its files, its lock, appending to its log, signing checkpoints,
//! unlocking its key, finding a certificate.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::checkpoint::{CHECKPOINT, Checkpoint};
use super::inventory::{self, ChainHash, Entry, Event, Log};
use super::layout::*;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys;
use crate::secret::Secret;
use crate::serial::Serial;
use crate::signer::{CaKey, SigningCa};
use crate::thumbprint::Thumbprint;
use crate::token::{self, ModuleSearch};

/// A CA folder that exists.
#[derive(Clone, Debug)]
pub struct CaStore {
    dir: PathBuf,
}

/// Holding this keeps other certkit processes from writing to the CA folder; dropping it releases the lock.
pub struct StoreLock {
    _file: File,
}

pub(super) fn lock_dir(dir: &Path, wait: &mut dyn FnMut(&Path)) -> Result<StoreLock> {
    let path = dir.join(LOCK);
    let file = files::open_append(&path, PUBLIC)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            wait(dir);
            file.lock().map_err(|e| Error::io("lock", &path, e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
    }
    Ok(StoreLock { _file: file })
}

impl CaStore {
    /// Opens the CA in `dir`; fails with a message naming `certkit-ca init` if there is none.
    pub fn open(dir: &Path) -> Result<Self> {
        let missing = |name: &str| Error::NoCa {
            dir: dir.into(),
            file: name.into(),
        };
        if !dir.join(CA_PEM).is_file() {
            return Err(missing(CA_PEM));
        }
        let store = CaStore { dir: dir.into() };
        if !dir.join(CA_KEY).is_file() && store.settings()?.pkcs11.is_none() {
            return Err(missing(CA_KEY));
        }
        Ok(store)
    }

    /// The CA folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of a file in the CA folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Path of the stored copy of an issued certificate.
    pub fn issued_copy(&self, serial: &Serial) -> PathBuf {
        self.dir.join(ISSUED_DIR).join(format!("{serial}.cer"))
    }

    /// The CA certificate.
    pub fn cert(&self) -> Result<CertInfo> {
        crate::certinfo::read_cert(&self.path(CA_PEM))
    }

    /// What the inventory's first record is bound to: the SHA-256 of the CA certificate.
    pub fn binding(&self) -> Result<ChainHash> {
        Ok(inventory::ca_binding(&self.cert()?.der))
    }

    /// The inventory log as it is on disk, without the certificates its records carry.
    pub fn log(&self) -> Result<Log> {
        inventory::read(&self.path(INVENTORY), false)
    }

    /// Every certificate the CA recorded, in issuance order (records without the certificates they carry).
    pub fn entries(&self) -> Result<Vec<Entry>> {
        self.log()?.into_entries(&self.path(INVENTORY))
    }

    /// Appends events to the log. The caller holds the lock.
    pub fn append(&self, _lock: &StoreLock, events: &[Event]) -> Result<ChainHash> {
        inventory::append(&self.path(INVENTORY), events, &self.binding()?)
    }

    /// Signs a checkpoint of the inventory as it is now, if the last one does not cover it already.
    pub fn checkpoint(&self, _lock: &StoreLock, ca: &SigningCa) -> Result<()> {
        let binding = inventory::ca_binding(&ca.cert.der);
        let log = self.log()?;
        let head = log.head(&binding);
        let path = self.path(CHECKPOINT);
        if let Some(current) = Checkpoint::read(&path)?
            && current.head == head
            && current.count == log.lines.len()
        {
            return Ok(());
        }
        let checkpoint =
            Checkpoint::sign(&|m| ca.sign_bytes(m), ca.key_type, &head, log.lines.len())?;
        files::replace(&path, &checkpoint.to_bytes()?, PUBLIC)
    }

    /// Decrypts the CA key (or logs in to the token that holds it, `secret` being the PIN) and checks the CA
    /// can sign now: it is a CA, it is within its validity, and the key belongs to the certificate.
    pub fn unlock(&self, secret: &Secret) -> Result<SigningCa> {
        let cert = self.cert()?;
        let settings = self.settings()?;
        let (key, key_origin) = match &settings.pkcs11 {
            None => {
                let key_path = self.path(CA_KEY);
                (CaKey::File(keys::load_key(&key_path, secret)?), key_path)
            }
            Some(record) => {
                let uri = record.uri(&self.path(CA_SETTINGS))?;
                let token = token::open(&ModuleSearch::new(None, record.module.as_deref()), &uri)?;
                let (key, _) = token.login(secret)?.existing(&uri, &cert)?;
                (CaKey::Token(key), PathBuf::from(&record.uri))
            }
        };
        SigningCa::new(cert, key, settings.crl_url, &self.path(CA_PEM), &key_origin)
    }

    /// Finds an issued certificate by serial (hex), SHA-1 thumbprint, or certificate file (DER or PEM).
    pub fn find(&self, reference: &str) -> Result<Entry> {
        let entries = self.entries()?;
        let path = Path::new(reference);
        let (wanted, label) = if path.is_file() {
            let cert = crate::certinfo::read_cert(path)?;
            (
                Wanted::Thumbprint(cert.thumbprint),
                format!("the certificate in {reference}"),
            )
        } else if let Ok(t) = Thumbprint::parse(reference) {
            (Wanted::Thumbprint(t), format!("thumbprint {t}"))
        } else {
            let serial = Serial::parse(reference).map_err(|_| {
                Error::BadInput(format!(
                    "'{reference}' is not a serial number, a thumbprint or a certificate file"
                ))
            })?;
            let label = format!("serial {serial}");
            (Wanted::Serial(serial), label)
        };
        entries
            .into_iter()
            .find(|e| match &wanted {
                Wanted::Thumbprint(t) => e.issued.thumbprint == *t,
                Wanted::Serial(s) => e.issued.serial == *s,
            })
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "{label} is not in the inventory of {}; see \"certkit-ca list --ca {}\"",
                    self.dir.display(),
                    self.dir.display()
                ))
            })
    }
}

enum Wanted {
    Thumbprint(Thumbprint),
    Serial(Serial),
}
