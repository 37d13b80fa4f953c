//! The CA folder: creating a CA, opening it, unlocking its key, and recording what it issues.
//!
//! Layout of a CA folder (docs/store-format.md):
//! `ca.cer` (DER), `ca.pem`, `ca.key` (encrypted PKCS#8, 0600), `ca.json` (settings),
//! `inventory.jsonl` (issuance log), `issued/SERIAL.cer` (a copy of each certificate),
//! `crlnumber` (last CRL number), `.lock` (serialises writers).

pub mod inventory;

use std::fs::File;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose,
};
use serde::{Deserialize, Serialize};

use crate::certinfo::CertInfo;
use crate::dates::{Lifetime, Validity};
use crate::error::{Error, Result};
use crate::files::{self, NewFiles, PRIVATE, PUBLIC};
use crate::keys::{self, KeyType};
use crate::naming::{check_cn, check_crl_url};
use crate::secret::Secret;
use crate::serial::Serial;
use crate::signer::SigningCa;
use crate::thumbprint::Thumbprint;
use inventory::{Entry, Event, IssuedRecord};

/// The CA certificate, DER (what Windows imports as .cer).
pub const CA_CER: &str = "ca.cer";
/// The CA certificate, PEM.
pub const CA_PEM: &str = "ca.pem";
/// The CA private key, encrypted PKCS#8 PEM.
pub const CA_KEY: &str = "ca.key";
/// The CA's settings.
pub const CA_SETTINGS: &str = "ca.json";
/// The issuance log.
pub const INVENTORY: &str = "inventory.jsonl";
/// Folder of issued certificate copies.
pub const ISSUED_DIR: &str = "issued";
/// Last CRL number issued.
pub const CRL_NUMBER: &str = "crlnumber";
const LOCK: &str = ".lock";

/// The files whose presence means "a CA lives here".
const CA_FILES: [&str; 5] = [CA_KEY, CA_CER, CA_PEM, CA_SETTINGS, INVENTORY];

/// Default path length: makecert's `-h 1` allowed one intermediate below the CA; certkit keeps that default
/// for parity with the guide.
pub const DEFAULT_PATHLEN: u8 = 1;
/// Default CA validity: ten years, long enough to outlive many yearly leaf rotations.
pub const DEFAULT_CA_DAYS: u32 = 3650;

/// Settings kept beside the CA.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct CaSettings {
    /// CRL distribution point put into certificates this CA issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
}

/// What `certkit-ca init` is asked to make.
#[derive(Clone, Debug)]
pub struct CaSpec {
    /// The CA folder (created if missing).
    pub dir: PathBuf,
    /// Common name of the CA.
    pub cn: String,
    /// How long the CA is valid.
    pub lifetime: Lifetime,
    /// Key algorithm.
    pub key: KeyType,
    /// basicConstraints pathLenConstraint.
    pub pathlen: u8,
    /// CRL distribution point for certificates it will issue.
    pub crl_url: Option<String>,
}

impl CaSpec {
    /// Checks everything that needs no password: the name, the URL, the dates and the folder.
    pub fn validate(&self) -> Result<Validity> {
        check_cn(&self.cn)?;
        if let Some(url) = &self.crl_url {
            check_crl_url(url)?;
        }
        let validity = Validity::starting_now(self.lifetime)?;
        check_can_init(&self.dir)?;
        Ok(validity)
    }
}

/// A CA folder that exists.
#[derive(Clone, Debug)]
pub struct CaStore {
    dir: PathBuf,
}

/// Holding this keeps other certkit processes from writing to the CA folder; dropping it releases the lock.
pub struct StoreLock {
    _file: File,
}

/// Fails if `dir` already holds any CA file.
pub fn check_can_init(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadInput(format!(
            "{} exists and is not a folder",
            dir.display()
        )));
    }
    for name in CA_FILES {
        if dir.join(name).exists() {
            return Err(Error::CaExists {
                dir: dir.into(),
                file: name.into(),
            });
        }
    }
    Ok(())
}

/// What init created.
#[derive(Debug)]
pub struct Created {
    /// The new CA certificate.
    pub cert: CertInfo,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Creates a CA. All or nothing: on failure no CA file is left behind (and a folder created here is removed
/// again). `wait` is called if another certkit process holds the folder's lock.
pub fn init(spec: &CaSpec, password: &Secret, wait: &mut dyn FnMut(&Path)) -> Result<Created> {
    let validity = spec.validate()?;
    let created_dir = !spec.dir.exists();
    std::fs::create_dir_all(&spec.dir).map_err(|e| Error::io("create folder", &spec.dir, e))?;
    let result = init_in(spec, password, validity, wait);
    if result.is_err() && created_dir {
        let _ = std::fs::remove_dir_all(&spec.dir);
    }
    result
}

fn init_in(
    spec: &CaSpec,
    password: &Secret,
    validity: Validity,
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    let dir = &spec.dir;
    let _lock = lock_dir(dir, wait)?;
    check_can_init(dir)?;
    let key = spec.key.generate()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, spec.cn.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(spec.pathlen));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(Serial::random()?.to_rcgen());
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    let cert = params.self_signed(&key)?;
    let info = CertInfo::from_der(cert.der(), &dir.join(CA_CER))?;
    let key_pem = keys::encrypt_pem(&key, password)?;
    let settings = CaSettings {
        crl_url: spec.crl_url.clone(),
    };
    let settings_json =
        serde_json::to_vec_pretty(&settings).map_err(|e| Error::json("the CA settings", e))?;

    let mut set = NewFiles::new();
    set.add(dir.join(CA_KEY), key_pem.as_bytes(), PRIVATE);
    set.add(dir.join(CA_CER), info.der.clone(), PUBLIC);
    set.add(dir.join(CA_PEM), info.pem(), PUBLIC);
    set.add(dir.join(CA_SETTINGS), settings_json, PUBLIC);
    set.add(dir.join(INVENTORY), Vec::new(), PUBLIC);
    let files = set.commit()?;
    if let Err(e) = std::fs::create_dir(dir.join(ISSUED_DIR))
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        files::remove_all(&files);
        return Err(Error::io("create folder", &dir.join(ISSUED_DIR), e));
    }
    Ok(Created { cert: info, files })
}

fn lock_dir(dir: &Path, wait: &mut dyn FnMut(&Path)) -> Result<StoreLock> {
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
        for name in [CA_PEM, CA_KEY] {
            if !dir.join(name).is_file() {
                return Err(Error::NoCa {
                    dir: dir.into(),
                    file: name.into(),
                });
            }
        }
        Ok(CaStore { dir: dir.into() })
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

    /// Takes the CA's write lock; `wait` is called first if another certkit process holds it.
    pub fn lock(&self, wait: &mut dyn FnMut(&Path)) -> Result<StoreLock> {
        lock_dir(&self.dir, wait)
    }

    /// Decrypts the CA key and checks the CA can sign now: it is a CA, it is within its validity, and the key
    /// belongs to the certificate.
    pub fn unlock(&self, password: &Secret) -> Result<SigningCa> {
        let cert = self.cert()?;
        let key_path = self.path(CA_KEY);
        let key = keys::load_key(&key_path, password)?;
        SigningCa::new(
            cert,
            key,
            self.settings()?.crl_url,
            &self.path(CA_PEM),
            &key_path,
        )
    }

    /// Every certificate the CA recorded, in issuance order.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        inventory::read(&self.path(INVENTORY))
    }

    /// Records an issued certificate: stores a copy under `issued/` and appends it to the log, flushed to disk.
    /// The caller holds the lock.
    pub fn record_issued(
        &self,
        _lock: &StoreLock,
        cert: &CertInfo,
        record: IssuedRecord,
    ) -> Result<()> {
        let issued = self.path(ISSUED_DIR);
        if !issued.is_dir() {
            std::fs::create_dir_all(&issued).map_err(|e| Error::io("create folder", &issued, e))?;
        }
        let copy = self.issued_copy(&record.serial);
        files::write_new(&copy, &cert.der, PUBLIC)?;
        if let Err(err) = inventory::append(&self.path(INVENTORY), &[Event::Issued(record)]) {
            let _ = std::fs::remove_file(&copy);
            return Err(err);
        }
        Ok(())
    }

    /// Appends events (revocations) to the log. The caller holds the lock.
    pub fn append(&self, _lock: &StoreLock, events: &[Event]) -> Result<()> {
        inventory::append(&self.path(INVENTORY), events)
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
            let label = format!(
                "serial {}",
                reference
                    .chars()
                    .filter(|c| *c != ':' && !c.is_whitespace())
                    .collect::<String>()
                    .to_uppercase()
            );
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
