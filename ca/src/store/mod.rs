//! The CA folder: creating a CA, opening it, unlocking its key, and recording what it signs
//! (docs/store-format.md).
//!
//! The write-ahead rule: every certificate the CA signs is recorded (with the certificate itself and the hashes
//! of the files it will be delivered in) and flushed to disk before any of those files appears anywhere. A run
//! killed before delivery leaves a harmless, visible "undelivered" record; the next command that takes the lock
//! reconciles what the crash left, and a rerun replaces only leftovers it can prove are its own.

pub mod audit;
pub mod checkpoint;
pub mod guard;
pub mod inventory;
pub mod layout;

pub use layout::*;

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose,
    PublicKeyData,
};
use serde::{Deserialize, Serialize};

use crate::certinfo::{CertInfo, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH};
use crate::dates::{Lifetime, Validity};
use crate::error::{Error, Result};
use crate::files::{self, NewFiles, PRIVATE, PUBLIC};
use crate::keys::{self, KeyType};
use crate::naming::{check_cn, check_crl_url};
use crate::profile::Profile;
use crate::secret::Secret;
use crate::serial::Serial;
use crate::signer::{CaKey, SigningCa};
use crate::thumbprint::Thumbprint;
use crate::token::{self, ModuleSearch, TokenInfo, TokenUri};
use checkpoint::{CHECKPOINT, Checkpoint};
use inventory::{ChainHash, DeliveredRecord, Entry, Event, IssuedRecord, Log, OutputRecord};

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

/// Where a new CA key is made, and the secret that opens it.
pub enum NewCaKey<'a> {
    /// In `ca.key`, encrypted with this password.
    File(&'a Secret),
    /// On a PKCS#11 token, logged in with this PIN.
    Token {
        /// Where to find the module.
        search: &'a ModuleSearch,
        /// The token and the key's label.
        uri: &'a TokenUri,
        /// The token's user PIN.
        pin: &'a Secret,
    },
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

/// What init created.
#[derive(Debug)]
pub struct Created {
    /// The new CA certificate.
    pub cert: CertInfo,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Where its key is.
    pub key: KeyLocation,
}

/// Creates a CA. All or nothing: on failure no CA file is left behind (and a folder created here is removed
/// again). `wait` is called if another certkit process holds the folder's lock.
pub fn init(spec: &CaSpec, key: &NewCaKey<'_>, wait: &mut dyn FnMut(&Path)) -> Result<Created> {
    let validity = spec.validate()?;
    let created_dir = !spec.dir.exists();
    std::fs::create_dir_all(&spec.dir).map_err(|e| Error::io("create folder", &spec.dir, e))?;
    let result = init_in(spec, key, validity, wait);
    if result.is_err() && created_dir {
        let _ = std::fs::remove_dir_all(&spec.dir);
    }
    result
}

fn init_in(
    spec: &CaSpec,
    new_key: &NewCaKey<'_>,
    validity: Validity,
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    let dir = &spec.dir;
    let _lock = lock_dir(dir, wait)?;
    check_can_init(dir)?;
    let (key, key_file, pkcs11, location) = match new_key {
        NewCaKey::File(password) => {
            let key = spec.key.generate()?;
            let pem = keys::encrypt_pem(&key, password)?;
            let location = KeyLocation::file(dir.join(CA_KEY));
            (CaKey::File(key), Some(pem), None, location)
        }
        NewCaKey::Token { search, uri, pin } => {
            let token = token::open(search, uri)?;
            let (key, uri) = token.login(pin)?.generate(uri, spec.key)?;
            let record = TokenRecord {
                uri: uri.to_string(),
                module: Some(token.module.clone()),
            };
            let location = KeyLocation::token(record.uri.clone(), &token);
            (CaKey::Token(key), None, Some((record, uri)), location)
        }
    };
    let result = init_files(spec, validity, &key, key_file, pkcs11, location);
    if result.is_err()
        && let CaKey::Token(key) = key
    {
        key.destroy();
    }
    result
}

/// Signs the CA certificate and the first checkpoint with `key` and writes the folder's files.
fn init_files(
    spec: &CaSpec,
    validity: Validity,
    key: &CaKey,
    key_file: Option<zeroize::Zeroizing<String>>,
    pkcs11: Option<(TokenRecord, TokenUri)>,
    location: KeyLocation,
) -> Result<Created> {
    let dir = &spec.dir;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, spec.cn.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(spec.pathlen));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(Serial::random()?.to_rcgen());
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    let cert = params
        .self_signed(key)
        .map_err(|e| key.explain(e, "self-signing the CA certificate"))?;
    let info = CertInfo::from_der(cert.der(), &dir.join(CA_CER))?;
    // The empty inventory's first checkpoint: nothing signed yet, bound to this CA.
    let checkpoint = Checkpoint::sign(
        &|m| key.sign_message(m, "signing the first checkpoint"),
        spec.key,
        &inventory::ca_binding(&info.der),
        0,
    )?;
    let record = match (key, pkcs11) {
        (CaKey::Token(token_key), Some((record, uri))) => {
            // The certificate goes on the token beside its key, as smart-card tools expect.
            token_key.store_certificate(&uri, &info)?;
            Some(record)
        }
        _ => None,
    };
    let settings = CaSettings {
        crl_url: spec.crl_url.clone(),
        pkcs11: record,
    };
    let settings_json =
        serde_json::to_vec_pretty(&settings).map_err(|e| Error::json("the CA settings", e))?;

    let mut set = NewFiles::new();
    if let Some(pem) = &key_file {
        set.add(dir.join(CA_KEY), pem.as_bytes(), PRIVATE);
    }
    set.add(dir.join(CA_CER), info.der.clone(), PUBLIC);
    set.add(dir.join(CA_PEM), info.pem(), PUBLIC);
    set.add(dir.join(CA_SETTINGS), settings_json, PUBLIC);
    set.add(dir.join(INVENTORY), Vec::new(), PUBLIC);
    set.add(dir.join(CHECKPOINT), checkpoint.to_bytes()?, PUBLIC);
    let files = set.commit()?;
    if let Err(e) = std::fs::create_dir(dir.join(ISSUED_DIR))
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        files::remove_all(&files);
        return Err(Error::io("create folder", &dir.join(ISSUED_DIR), e));
    }
    Ok(Created {
        cert: info,
        files,
        key: location,
    })
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

/// What taking the lock repaired after an earlier run was interrupted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Repairs {
    /// The certkit 0.1 inventory was rewritten with a hash chain (the original kept beside it).
    pub upgraded: bool,
    /// A torn last line of the inventory was cut off, or a complete one given its newline.
    pub tail_repaired: bool,
    /// `issued/` copies written again from their records.
    pub copies_restored: usize,
    /// Certificates found in `issued/` without a record, recorded (as undelivered).
    pub recorded: usize,
    /// Certificates whose delivery had finished, marked delivered.
    pub delivered: usize,
    /// Temporary files of interrupted writes removed.
    pub temporary_files: usize,
}

impl Repairs {
    /// True when nothing needed repair.
    pub fn is_empty(&self) -> bool {
        *self == Repairs::default()
    }

    /// One line for the user.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.upgraded {
            parts.push(format!(
                "upgraded {INVENTORY} to the hash-chained format (the original is kept as {INVENTORY_V1})"
            ));
        }
        if self.tail_repaired {
            parts.push(format!("repaired the last line of {INVENTORY}"));
        }
        let counted = [
            (
                self.copies_restored,
                "restored",
                "issued/ copy",
                "issued/ copies",
            ),
            (
                self.recorded,
                "recorded",
                "certificate found in issued/ (as undelivered)",
                "certificates found in issued/ (as undelivered)",
            ),
            (
                self.delivered,
                "marked",
                "certificate delivered",
                "certificates delivered",
            ),
            (
                self.temporary_files,
                "removed",
                "temporary file",
                "temporary files",
            ),
        ];
        for (n, verb, one, many) in counted {
            if n > 0 {
                parts.push(format!("{verb} {n} {}", if n == 1 { one } else { many }));
            }
        }
        parts.join("; ")
    }
}

/// The outputs of interrupted deliveries, which a rerun may replace: (resolved path, SHA-256) pairs from the
/// records of certificates that never reached all their files.
#[derive(Clone, Debug, Default)]
pub struct Leftovers(HashSet<(PathBuf, String)>);

impl Leftovers {
    /// The leftovers among `entries`: outputs of undelivered certificates whose delivery is incomplete.
    pub fn of(entries: &[Entry]) -> Self {
        let mut set = HashSet::new();
        for entry in entries.iter().filter(|e| !e.delivered) {
            let outputs = &entry.issued.outputs;
            if outputs.is_empty() || all_present(outputs) {
                continue;
            }
            for o in outputs {
                set.insert((PathBuf::from(&o.path), o.sha256.clone()));
            }
        }
        Leftovers(set)
    }

    /// True if the file at `path` is one of them, byte for byte.
    pub fn holds(&self, path: &Path) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let resolved = guard::resolve(path);
        match std::fs::read(&resolved) {
            Ok(bytes) => self.0.contains(&(resolved, files::sha256_hex(&bytes))),
            Err(_) => false,
        }
    }
}

/// True if every output is in place with the bytes recorded.
fn all_present(outputs: &[OutputRecord]) -> bool {
    outputs
        .iter()
        .all(|o| std::fs::read(&o.path).is_ok_and(|bytes| files::sha256_hex(&bytes) == o.sha256))
}

/// One file a certificate is delivered in.
#[derive(Debug)]
pub struct OutputFile {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub bytes: Vec<u8>,
    /// Its mode (0600 for keys and PFX files).
    pub mode: u32,
}

/// A signed certificate and the files it is to be delivered in.
#[derive(Debug)]
pub struct Delivery {
    /// Its record (carrying the certificate).
    pub record: IssuedRecord,
    /// Its files.
    pub files: Vec<OutputFile>,
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

    /// The inventory log as it is on disk, without the certificates its records carry.
    pub fn log(&self) -> Result<Log> {
        inventory::read(&self.path(INVENTORY), false)
    }

    /// Every certificate the CA recorded, in issuance order (records without the certificates they carry).
    pub fn entries(&self) -> Result<Vec<Entry>> {
        self.log()?.into_entries(&self.path(INVENTORY))
    }

    /// Takes the CA's write lock (`wait` is called first if another certkit process holds it), then reconciles
    /// what an interrupted run left behind. Refuses to go on when the inventory or its checkpoint show
    /// tampering: nothing is written to a CA whose record cannot be trusted.
    pub fn lock(&self, wait: &mut dyn FnMut(&Path)) -> Result<(StoreLock, Repairs)> {
        let lock = lock_dir(&self.dir, wait)?;
        let repairs = self.reconcile(&lock)?;
        Ok((lock, repairs))
    }

    fn reconcile(&self, lock: &StoreLock) -> Result<Repairs> {
        let mut repairs = Repairs {
            temporary_files: self.remove_temporary_files()?,
            ..Repairs::default()
        };
        let path = self.path(INVENTORY);
        let cert = self.cert()?;
        let binding = inventory::ca_binding(&cert.der);
        let mut log = self.log()?;
        if log.is_legacy() {
            self.upgrade(&log, &binding, &cert)?;
            repairs.upgraded = true;
            log = self.log()?;
        }
        if inventory::repair_tail(&path)? {
            repairs.tail_repaired = true;
            log = self.log()?;
        }
        if let Some(first) = log.chain_breaks(&binding).first() {
            return Err(Error::Inventory {
                path,
                line: first.line,
                what: format!(
                    "{}; nothing was written. See \"certkit-ca audit --ca {}\"",
                    first.what,
                    self.dir.display()
                ),
            });
        }
        self.check_against_checkpoint(&log, &binding, &cert)?;
        let entries = log.into_entries(&path)?;
        repairs.copies_restored = self.restore_copies(&entries)?;
        let mut events = Vec::new();
        for entry in &entries {
            if !entry.delivered
                && !entry.issued.outputs.is_empty()
                && all_present(&entry.issued.outputs)
            {
                events.push(Event::Delivered(DeliveredRecord {
                    serial: entry.issued.serial.clone(),
                }));
                repairs.delivered += 1;
            }
        }
        for cert in self.unrecorded_copies(&entries, &cert)? {
            let mut record = found_record(&cert)?;
            record.pending = true;
            events.push(Event::Issued(record));
            repairs.recorded += 1;
        }
        if !events.is_empty() {
            self.append(lock, &events)?;
        }
        Ok(repairs)
    }

    /// Writes `issued/` copies that are missing again from the certificates their records carry.
    fn restore_copies(&self, entries: &[Entry]) -> Result<usize> {
        let missing: HashSet<&Serial> = entries
            .iter()
            .map(|e| &e.issued.serial)
            .filter(|s| !self.issued_copy(s).exists())
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut restored = 0;
        for line in inventory::read(&self.path(INVENTORY), true)?.lines {
            if let inventory::Event::Issued(record) = line.event
                && missing.contains(&record.serial)
                && let Some(der) = record.cert_der()
            {
                files::write_new(&self.issued_copy(&record.serial), &der, PUBLIC)?;
                restored += 1;
            }
        }
        Ok(restored)
    }

    /// Removes `.certkit-*` files (writes a crash interrupted) from the CA folder and `issued/`.
    fn remove_temporary_files(&self) -> Result<usize> {
        let mut removed = 0;
        for dir in [self.dir.clone(), self.path(ISSUED_DIR)] {
            let Ok(listing) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(TEMP_PREFIX)
                    && entry.file_type().is_ok_and(|t| t.is_file())
                {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| Error::io("remove", &entry.path(), e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Rewrites a certkit 0.1 inventory with a hash chain, keeping every field of every record, adding the
    /// certificate itself from `issued/` where the copy matches the record. The original stays beside it.
    fn upgrade(&self, log: &Log, binding: &str, ca: &CertInfo) -> Result<()> {
        let path = self.path(INVENTORY);
        if log.lines.iter().any(|l| l.prev.is_some()) {
            let line = log
                .lines
                .iter()
                .find(|l| l.prev.is_none())
                .map_or(0, |l| l.number);
            return Err(Error::Inventory {
                path,
                line,
                what: "the record has no hash chain, but others have: the inventory was edited"
                    .into(),
            });
        }
        let original = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let text = String::from_utf8_lossy(&original);
        let mut values = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(mut value) = serde_json::from_str::<serde_json::Value>(line) else {
                // A torn last line of a 0.1 inventory: it was never acted on.
                continue;
            };
            if let Some(map) = value.as_object_mut()
                && map.get("event").and_then(|e| e.as_str()) == Some("issued")
                && let Some(serial) = map.get("serial").and_then(|s| s.as_str())
                && let Ok(serial) = Serial::parse(serial)
                && let Ok(der) = std::fs::read(self.issued_copy(&serial))
                && let Ok(copy) = CertInfo::from_der(&der, Path::new("issued copy"))
                && map.get("thumbprint").and_then(|t| t.as_str())
                    == Some(copy.thumbprint.to_string().as_str())
                && copy.is_signed_by(ca)?
            {
                map.insert(
                    "der".into(),
                    serde_json::Value::String(openssl::base64::encode_block(&der)),
                );
            }
            values.push(value);
        }
        let backup = self.path(INVENTORY_V1);
        match std::fs::read(&backup) {
            Ok(existing) if existing == original => {}
            Ok(_) => {
                return Err(Error::BadInput(format!(
                    "{} exists and is not a copy of {}; move it away so the upgrade can keep the original there",
                    backup.display(),
                    path.display()
                )));
            }
            Err(_) => files::write_new(&backup, &original, PUBLIC)?,
        }
        files::replace(
            &path,
            inventory::chained_text(&values, binding)?.as_bytes(),
            PUBLIC,
        )
    }

    /// Refuses a log that no longer holds what the last checkpoint signed, or a checkpoint the CA did not sign.
    fn check_against_checkpoint(&self, log: &Log, binding: &str, ca: &CertInfo) -> Result<()> {
        let path = self.path(CHECKPOINT);
        let Some(checkpoint) = Checkpoint::read(&path)? else {
            return Ok(());
        };
        let refuse = |what: String| {
            Err(Error::Inventory {
                path: self.path(INVENTORY),
                line: checkpoint.count,
                what: format!(
                    "{what}; nothing was written. See \"certkit-ca audit --ca {}\"",
                    self.dir.display()
                ),
            })
        };
        if !checkpoint.verify(ca)? {
            return refuse(format!("{} is not signed by this CA's key", path.display()));
        }
        let covered = match checkpoint.count {
            0 => Some(binding.to_string()),
            n => log.lines.get(n - 1).map(|l| l.hash.clone()),
        };
        if checkpoint.count == 0 && covered.as_deref() != Some(checkpoint.head.as_str()) {
            return Err(Error::CaUnusable(format!(
                "{} is not the certificate this CA's checkpoint was made for: the CA certificate was replaced; restore it from a backup (see \"certkit-ca audit --ca {}\")",
                self.path(CA_PEM).display(),
                self.dir.display()
            )));
        }
        if covered.as_deref() != Some(checkpoint.head.as_str()) {
            return refuse(format!(
                "the log no longer holds the {} record(s) the checkpoint of {} signed",
                checkpoint.count,
                crate::dates::rfc3339(checkpoint.time)
            ));
        }
        Ok(())
    }

    /// Certificates in `issued/` that no record names and that this CA signed.
    fn unrecorded_copies(&self, entries: &[Entry], ca: &CertInfo) -> Result<Vec<CertInfo>> {
        let recorded: HashSet<&Serial> = entries.iter().map(|e| &e.issued.serial).collect();
        let mut found = Vec::new();
        let Ok(listing) = std::fs::read_dir(self.path(ISSUED_DIR)) else {
            return Ok(found);
        };
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(serial) = name
                .strip_suffix(".cer")
                .and_then(|s| Serial::parse(s).ok())
            else {
                continue;
            };
            if recorded.contains(&serial) {
                continue;
            }
            let Ok(der) = std::fs::read(entry.path()) else {
                continue;
            };
            if let Ok(cert) = CertInfo::from_der(&der, &entry.path())
                && cert.serial == serial
                && cert.is_signed_by(ca)?
            {
                found.push(cert);
            }
        }
        Ok(found)
    }

    /// The outputs of interrupted deliveries, which a rerun may replace.
    pub fn leftovers(&self) -> Result<Leftovers> {
        Ok(Leftovers::of(&self.entries()?))
    }

    /// Refuses output paths that are in a CA folder, or that exist and are not leftovers of an interrupted
    /// delivery; run before asking for passwords (and again, under the lock, when delivering).
    pub fn check_outputs_free(&self, paths: &[PathBuf]) -> Result<()> {
        let leftovers = self.leftovers()?;
        for path in paths {
            guard::check_output(path, &[])?;
            if path.symlink_metadata().is_ok() && !leftovers.holds(path) {
                return Err(Error::Exists { path: path.clone() });
            }
        }
        Ok(())
    }

    /// Delivers signed certificates by the write-ahead rule: (1) their records, carrying the certificates and
    /// the hashes of their files, are appended and flushed; (2) their `issued/` copies and files are staged and
    /// flushed together; (3) the copies, then the files are moved into place; (4) `delivered` events are
    /// appended. A crash at any point leaves every signed certificate recorded. An existing file is replaced
    /// only if it is a leftover of an interrupted delivery (`leftovers`). Returns the files of each delivery.
    pub fn deliver(
        &self,
        lock: &StoreLock,
        leftovers: &Leftovers,
        deliveries: Vec<Delivery>,
    ) -> Result<Vec<Vec<PathBuf>>> {
        let mut records = Vec::new();
        let mut outputs = Vec::new();
        // Each output folder is checked and resolved once, however many files go into it.
        let mut folders: std::collections::HashMap<PathBuf, PathBuf> =
            std::collections::HashMap::new();
        for delivery in deliveries {
            let mut record = delivery.record;
            let der = record
                .cert_der()
                .ok_or(Error::Bug("a delivery without its certificate"))?;
            record.outputs.clear();
            let mut files_of = Vec::new();
            for file in delivery.files {
                let folder = files::folder_of(&file.path).to_path_buf();
                let resolved_folder = match folders.get(&folder) {
                    Some(resolved) => resolved.clone(),
                    None => {
                        guard::check_output_dir(&folder)?;
                        let resolved = std::fs::canonicalize(&folder)
                            .map_err(|e| Error::io("open folder", &folder, e))?;
                        folders.insert(folder, resolved.clone());
                        resolved
                    }
                };
                let name = file
                    .path
                    .file_name()
                    .ok_or(Error::Bug("an output without a file name"))?;
                let replace = file.path.symlink_metadata().is_ok();
                if replace {
                    // An existing file may be a link out of the folder: check what it points to as well.
                    guard::check_output(&file.path, &[])?;
                    if !leftovers.holds(&file.path) {
                        return Err(Error::Exists { path: file.path });
                    }
                }
                record.outputs.push(OutputRecord {
                    path: resolved_folder.join(name).display().to_string(),
                    sha256: files::sha256_hex(&file.bytes),
                });
                files_of.push((file, replace));
            }
            record.pending = true;
            records.push((record, der));
            outputs.push(files_of);
        }
        let events: Vec<Event> = records
            .iter()
            .map(|(r, _)| Event::Issued(r.clone()))
            .collect();
        self.append(lock, &events)?;

        let mut copies = Vec::new();
        for (record, der) in &records {
            copies.push(files::stage(
                &self.issued_copy(&record.serial),
                der,
                PUBLIC,
            )?);
        }
        let mut staged = Vec::new();
        for files_of in &outputs {
            let mut group = Vec::new();
            for (file, replace) in files_of {
                group.push((files::stage(&file.path, &file.bytes, file.mode)?, *replace));
            }
            staged.push(group);
        }
        files::flush(copies.iter().chain(staged.iter().flatten().map(|(s, _)| s)))?;
        for copy in copies {
            let target = copy.target().to_path_buf();
            match copy.place_new() {
                Ok(()) => {}
                // Restored by a reconcile from the record: the same certificate.
                Err(Error::Exists { .. }) if target.exists() => {}
                Err(err) => return Err(err),
            }
        }
        files::sync_folders([self.path(ISSUED_DIR).join("x").as_path()])?;
        let mut delivered: Vec<Vec<PathBuf>> = Vec::new();
        let mut placed_new: Vec<PathBuf> = Vec::new();
        for group in staged {
            let mut paths = Vec::new();
            for (file, replace) in group {
                let target = file.target().to_path_buf();
                let result = if replace {
                    file.place_over()
                } else {
                    file.place_new()
                };
                if let Err(err) = result {
                    // The certificates stay recorded (undelivered); the files placed so far go again.
                    files::remove_all(&placed_new);
                    return Err(err);
                }
                if !replace {
                    placed_new.push(target.clone());
                }
                paths.push(target);
            }
            delivered.push(paths);
        }
        files::sync_folders(delivered.iter().flatten().map(PathBuf::as_path))?;
        let done: Vec<Event> = records
            .iter()
            .map(|(r, _)| {
                Event::Delivered(DeliveredRecord {
                    serial: r.serial.clone(),
                })
            })
            .collect();
        self.append(lock, &done)?;
        Ok(delivered)
    }

    /// Records a certificate of this CA found at an output (left by certkit 0.1, which wrote outputs before
    /// recording), with `files` as its outputs, undelivered, so that a rerun may replace them.
    pub fn record_found(
        &self,
        lock: &StoreLock,
        cert: &CertInfo,
        files_found: &[PathBuf],
    ) -> Result<()> {
        let mut record = found_record(cert)?;
        record.pending = true;
        for path in files_found {
            let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
            record.outputs.push(OutputRecord {
                path: guard::resolve(path).display().to_string(),
                sha256: files::sha256_hex(&bytes),
            });
        }
        self.append(lock, &[Event::Issued(record)])?;
        files::write_new(&self.issued_copy(&cert.serial), &cert.der, PUBLIC)
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

    /// Moves the CA key from `ca.key` onto a token: imported as sensitive and never extractable, checked by a
    /// test signature against the CA certificate, recorded in `ca.json`, and only then is `ca.key` removed.
    /// A move that was interrupted is finished by running it again (`password` is then not needed). The
    /// caller holds the lock.
    pub fn move_key(
        &self,
        _lock: &StoreLock,
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
                key: KeyLocation::token(record.uri.clone(), &token),
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
        settings.pkcs11 = Some(TokenRecord {
            uri: uri.to_string(),
            module: Some(token.module.clone()),
        });
        let json =
            serde_json::to_vec_pretty(&settings).map_err(|e| Error::json("the CA settings", e))?;
        files::replace(&settings_path, &json, PUBLIC)?;
        drop(key);
        remove_key_file(&key_path)?;
        Ok(MovedKey {
            key: KeyLocation::token(uri.to_string(), &token),
            removed: key_path,
            thumbprint: cert.thumbprint,
        })
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

/// The record of a certificate of this CA found on disk without one: its profile judged by its EKUs.
fn found_record(cert: &CertInfo) -> Result<IssuedRecord> {
    let (profile, own) = if cert.ekus.iter().any(|e| e == EKU_SERVER_AUTH) {
        (Profile::Server, EKU_SERVER_AUTH)
    } else if cert.ekus.iter().any(|e| e == EKU_DOCUMENT_ENCRYPTION) {
        (Profile::Encryption, EKU_DOCUMENT_ENCRYPTION)
    } else {
        (Profile::Client, crate::certinfo::EKU_CLIENT_AUTH)
    };
    let extra = cert.ekus.iter().filter(|e| *e != own).cloned().collect();
    Ok(IssuedRecord::new(
        cert,
        cert.cn.as_deref().unwrap_or_default(),
        profile,
        extra,
        KeyType::of_spki_der(&cert.spki_der)?,
        None,
        None,
    ))
}

enum Wanted {
    Thumbprint(Thumbprint),
    Serial(Serial),
}
