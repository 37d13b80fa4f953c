//! The CA folder: creating a CA, opening it, unlocking its key, and recording what it issues.
//!
//! Layout of a CA folder:
//! `ca.cer` (DER), `ca.pem`, `ca.key` (encrypted PKCS#8, 0600), `ca.json` (settings),
//! `inventory.jsonl` (issuance log), `issued/SERIAL.cer` (a copy of each certificate),
//! `crlnumber` (last CRL number), `.lock` (serialises writers).

use std::fs::File;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::dates::{Lifetime, Validity, rfc3339};
use crate::error::{Error, Result};
use crate::files::{self, NewFiles, PRIVATE, PUBLIC};
use crate::inventory::{self, Entry, Event, IssuedRecord};
use crate::keys::{self, KeyType};
use crate::secret::Secret;

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

/// Default path length: the CA signs end-entity certificates directly (makecert's `-h 1` allowed one
/// intermediate; certkit keeps that default for parity).
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

/// What `certkit-ca init` is asked to do.
#[derive(Clone, Debug)]
pub struct InitRequest {
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

/// A CA folder that exists.
#[derive(Clone, Debug)]
pub struct CaStore {
    dir: PathBuf,
}

/// Holding this keeps other certkit processes from writing to the CA folder; dropping it releases the lock.
pub struct StoreLock {
    _file: File,
}

/// A positive random 16-byte serial: the top bit clear keeps it positive, the next bit set keeps all 16 bytes.
pub fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes)?;
    bytes[0] = (bytes[0] & 0x7F) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Checks that `cn` is usable as a common name.
pub fn check_cn(cn: &str) -> Result<()> {
    if cn.trim().is_empty() {
        return Err(Error::BadInput("the common name (--cn) is empty".into()));
    }
    if cn.chars().count() > 64 {
        return Err(Error::BadInput(format!(
            "the common name '{cn}' is longer than 64 characters (the X.509 limit)"
        )));
    }
    if cn.chars().any(char::is_control) {
        return Err(Error::BadInput(
            "the common name contains control characters".into(),
        ));
    }
    Ok(())
}

/// Checks a CRL distribution point URL.
pub fn check_crl_url(url: &str) -> Result<()> {
    let ok =
        (url.starts_with("http://") || url.starts_with("https://") || url.starts_with("ldap://"))
            && url.len() > 8
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{url}' is not a CRL URL; give an http:// URL where the CRL will be published, e.g. http://pki.example.com/ca.crl"
        )))
    }
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
    /// Its key type.
    pub key: KeyType,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Creates a CA in `req.dir`. All or nothing: on failure no CA file is left behind (and a folder created here is
/// removed again).
pub fn init(req: &InitRequest, password: &Secret) -> Result<Created> {
    check_cn(&req.cn)?;
    if let Some(url) = &req.crl_url {
        check_crl_url(url)?;
    }
    let validity = Validity::starting_now(req.lifetime)?;
    check_can_init(&req.dir)?;
    let created_dir = !req.dir.exists();
    std::fs::create_dir_all(&req.dir).map_err(|e| Error::io("create folder", &req.dir, e))?;
    let result = init_in(req, password, validity);
    if result.is_err() && created_dir {
        let _ = std::fs::remove_dir_all(&req.dir);
    }
    result
}

fn init_in(req: &InitRequest, password: &Secret, validity: Validity) -> Result<Created> {
    let dir = &req.dir;
    let _lock = lock(dir)?;
    check_can_init(dir)?;
    let key = req.key.generate()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, req.cn.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(req.pathlen));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(random_serial()?);
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    let cert = params.self_signed(&key)?;
    let info = CertInfo::from_der(cert.der(), &dir.join(CA_CER))?;
    let key_pem = keys::encrypt_pem(&key, password)?;
    let settings = CaSettings {
        crl_url: req.crl_url.clone(),
    };
    let settings_json =
        serde_json::to_vec_pretty(&settings).map_err(|e| Error::crypto("settings", e))?;

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
    Ok(Created {
        cert: info,
        key: req.key,
        files,
    })
}

fn lock(dir: &Path) -> Result<StoreLock> {
    let path = dir.join(LOCK);
    let file = files::open_append(&path, PUBLIC)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another certkit process that is using the CA in {}...",
                dir.display()
            );
            file.lock().map_err(|e| Error::io("lock", &path, e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
    }
    Ok(StoreLock { _file: file })
}

/// A CA unlocked for signing.
pub struct SigningCa {
    /// The CA certificate.
    pub cert: CertInfo,
    /// The CA key type.
    pub key_type: KeyType,
    /// The CA's settings.
    pub settings: CaSettings,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for SigningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCa")
            .field("subject", &self.cert.subject)
            .finish_non_exhaustive()
    }
}

impl SigningCa {
    /// Signs certificate parameters for `public_key`.
    pub fn sign(
        &self,
        params: &CertificateParams,
        public_key: &impl PublicKeyData,
    ) -> Result<CertInfo> {
        let cert = params.signed_by(public_key, &self.issuer)?;
        CertInfo::from_der(cert.der(), Path::new("(new certificate)"))
    }

    /// The rcgen issuer (for CRLs).
    pub fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
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

    /// Takes the CA's write lock (waits for other certkit processes).
    pub fn lock(&self) -> Result<StoreLock> {
        lock(&self.dir)
    }

    /// Decrypts the CA key and checks the CA can sign now: it is a CA, it is within its validity, and the key
    /// belongs to the certificate.
    pub fn unlock(&self, password: &Secret) -> Result<SigningCa> {
        let cert = self.cert()?;
        let key_path = self.path(CA_KEY);
        let key = keys::load_key(&key_path, password)?;
        if key.subject_public_key_info() != cert.spki_der {
            return Err(Error::CaUnusable(format!(
                "{} does not belong to {}; restore the matching key or certificate",
                key_path.display(),
                self.path(CA_PEM).display()
            )));
        }
        self.check_can_sign(&cert)?;
        let key_type = KeyType::of_spki_der(&cert.spki_der)?;
        let issuer = Issuer::from_ca_cert_der(&cert.der.clone().into(), key)?;
        if !issuer.key_usages().is_empty()
            && !issuer.key_usages().contains(&KeyUsagePurpose::KeyCertSign)
        {
            return Err(Error::CaUnusable(format!(
                "{} may not sign certificates (no keyCertSign key usage)",
                self.path(CA_PEM).display()
            )));
        }
        Ok(SigningCa {
            cert,
            key_type,
            settings: self.settings()?,
            issuer,
        })
    }

    /// Fails unless `cert` is a CA certificate valid now.
    pub fn check_can_sign(&self, cert: &CertInfo) -> Result<()> {
        let pem = self.path(CA_PEM);
        if !cert.is_ca {
            return Err(Error::CaUnusable(format!(
                "{} is not a CA certificate (basicConstraints CA:FALSE or missing); use a folder made by certkit-ca init",
                pem.display()
            )));
        }
        let now = OffsetDateTime::now_utc();
        if cert.not_after < now {
            return Err(Error::CaUnusable(format!(
                "the CA {} expired on {}; create a new CA with certkit-ca init",
                cert.subject,
                rfc3339(cert.not_after)
            )));
        }
        if cert.not_before > now {
            return Err(Error::CaUnusable(format!(
                "the CA {} is not valid before {}; check this machine's clock",
                cert.subject,
                rfc3339(cert.not_before)
            )));
        }
        Ok(())
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
        let copy = inventory::issued_copy(&self.dir, &record.serial);
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
}

/// Finds an issued certificate by serial (hex), SHA-1 thumbprint, or certificate file (DER or PEM).
pub fn find_entry(store: &CaStore, reference: &str) -> Result<Entry> {
    let entries = store.entries()?;
    let path = Path::new(reference);
    let (wanted, label) = if path.is_file() {
        let cert = crate::certinfo::read_cert(path)?;
        (
            Wanted::Thumbprint(cert.thumbprint),
            format!("the certificate in {reference}"),
        )
    } else if let Ok(t) = crate::thumbprint::Thumbprint::parse(reference) {
        (Wanted::Thumbprint(t), format!("thumbprint {t}"))
    } else {
        let serial: String = reference
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        if serial.is_empty() || !serial.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::BadInput(format!(
                "'{reference}' is not a serial number, a thumbprint or a certificate file"
            )));
        }
        (
            Wanted::Serial(serial.trim_start_matches('0').to_string()),
            format!("serial {serial}"),
        )
    };
    entries
        .into_iter()
        .find(|e| match &wanted {
            Wanted::Thumbprint(t) => e.issued.thumbprint == *t,
            Wanted::Serial(s) => e.issued.serial.trim_start_matches('0') == s,
        })
        .ok_or_else(|| {
            Error::NotFound(format!(
                "{label} is not in the inventory of {}; see \"certkit-ca list --dir {}\"",
                store.dir().display(),
                store.dir().display()
            ))
        })
}

enum Wanted {
    Thumbprint(crate::thumbprint::Thumbprint),
    Serial(String),
}
