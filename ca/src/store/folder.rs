//! The CA folder as a type: opening it, its files, its lock, appending to its log, signing checkpoints,
//! unlocking its key, finding a certificate.

use std::fs::File;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex, OnceLock};

use super::checkpoint::{
    CHECKPOINT, Checkpoint, Coverage, CoveredState, Tally, chain_revocation, undelivered_tally,
};
use super::index::{INDEX, Index, Refresh};
use super::inventory::{self, ChainHash, Event, LineRead};
use super::layout::*;
use super::log_append;
use super::settings::{CaSettings, KeyLocation};
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys;
use crate::secret::Secret;
use crate::serial::Serial;
use crate::signer::{CaKey, SigningCa};
use crate::token::{self, ModuleSearch};

/// Who is told when an index is rebuilt because it disagreed with the log (set once, by the binaries).
static REBUILT: OnceLock<fn(&Path, &str)> = OnceLock::new();

/// Has `notice` told (CA folder, why) whenever an index is rebuilt in the middle of a command; the first
/// caller's notice stays.
pub fn on_index_rebuilt(notice: fn(&Path, &str)) {
    let _ = REBUILT.set(notice);
}

/// A CA folder that exists.
#[derive(Clone, Debug)]
pub struct CaStore {
    dir: PathBuf,
    /// The PKCS#11 module the user named (`--pkcs11-module`), which overrides what the folder records.
    module: Option<PathBuf>,
    /// The inventory's index, opened on first use and shared by the clones of this store (a batch's threads).
    index: Arc<Mutex<IndexState>>,
}

/// The index as this process has it.
#[derive(Debug, Default)]
struct IndexState {
    index: Option<Index>,
    /// How it was brought up to date when it was opened, until someone asks (`CaStore::refresh_index`).
    refresh: Option<Refresh>,
    /// What was checked against the checkpoint already (`CaStore::verified_revocations`, ...).
    verified: Vec<String>,
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
        if dir.is_file() {
            // `--ca pki/ca.cer`: the CA's certificate, not its folder.
            let folder = dir.parent().filter(|p| !p.as_os_str().is_empty());
            return Err(Error::BadInput(format!(
                "{} is a file, not a CA folder: --ca takes the folder certkit-ca init made{}",
                dir.display(),
                match folder {
                    Some(f) if f.join(CA_PEM).is_file() => format!(" (here: --ca {})", f.display()),
                    _ => String::new(),
                }
            )));
        }
        if !dir.join(CA_PEM).is_file() {
            if dir.join(CA_REQUEST).is_file() {
                return Err(Error::CaUnusable(format!(
                    "{} waits for its certificate and signs nothing yet: have the CA above sign {} (certkit-ca sign-ca --csr), then run certkit-ca install --ca {} --cert CERT --chain PARENT.cer",
                    dir.display(),
                    dir.join(CA_REQUEST).display(),
                    dir.display()
                )));
            }
            return Err(missing(CA_PEM));
        }
        let store = CaStore {
            dir: dir.into(),
            module: None,
            index: Arc::default(),
        };
        if !dir.join(CA_KEY).is_file() && store.settings_file()?.pkcs11.is_none() {
            return Err(missing(CA_KEY));
        }
        Ok(store)
    }

    /// The same CA, with the PKCS#11 module the user named for its token (`--pkcs11-module`), if any.
    pub fn with_module(mut self, module: Option<PathBuf>) -> Self {
        self.module = module;
        self
    }

    /// Where the token's module is looked for: the user's choice (the flag, else `CERTKIT_PKCS11_MODULE`)
    /// before the module the signed settings record.
    pub(super) fn module_search(&self, recorded: Option<&Path>) -> ModuleSearch {
        ModuleSearch::new(self.module.as_deref(), recorded)
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

    /// Where the `issued/` copy of a certificate is staged while its delivery is under way (a crash may leave
    /// it; the next reconcile removes it).
    pub fn staged_copy(&self, serial: &Serial) -> PathBuf {
        self.dir
            .join(ISSUED_DIR)
            .join(format!("{TEMP_PREFIX}{serial}.cer"))
    }

    /// The CA certificate.
    pub fn cert(&self) -> Result<CertInfo> {
        crate::certinfo::read_cert(&self.path(CA_PEM))
    }

    /// What the inventory's first record is bound to: the SHA-256 of the CA's first certificate, which is the
    /// CA certificate until `renew` replaces it (then `ca.json` keeps the first one's hash, signed by every
    /// checkpoint since).
    pub fn binding(&self) -> Result<ChainHash> {
        match self.settings_file()?.binding {
            Some(binding) => Ok(binding),
            None => Ok(inventory::ca_binding(&self.cert()?.der)),
        }
    }

    /// Runs `f` with the inventory's index, opened (and brought up to date with the log) on first use.
    pub fn with_index<T>(&self, f: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        let mut state = self
            .index
            .lock()
            .map_err(|_| Error::Bug("the index's lock was poisoned"))?;
        if state.index.is_none() {
            let (index, refresh) =
                Index::open(&self.path(INDEX), &self.path(INVENTORY), &self.binding()?)?;
            state.index = Some(index);
            state.refresh = Some(refresh);
        }
        let index = state
            .index
            .as_mut()
            .ok_or(Error::Bug("the index was not kept"))?;
        f(index)
    }

    /// Opens the index now and says how it was brought up to date (once: later calls say nothing new).
    pub fn refresh_index(&self) -> Result<Refresh> {
        self.with_index(|_| Ok(()))?;
        let mut state = self
            .index
            .lock()
            .map_err(|_| Error::Bug("the index's lock was poisoned"))?;
        Ok(state.refresh.take().unwrap_or_default())
    }

    /// Rebuilds the index from the whole log (`certkit-ca reindex`, or when it disagrees with the log: `why`);
    /// returns how many lines it read.
    pub fn rebuild_index(&self, why: &str) -> Result<usize> {
        let binding = self.binding()?;
        let lines = self.with_index(|index| index.rebuild(&binding))?;
        let mut state = self
            .index
            .lock()
            .map_err(|_| Error::Bug("the index's lock was poisoned"))?;
        state.verified.clear();
        match REBUILT.get() {
            // Said at once when someone listens (a rebuild in the middle of a command).
            Some(notice) => notice(&self.dir, why),
            None => {
                state.refresh = Some(Refresh {
                    rebuilt: Some(why.to_string()),
                    applied: lines,
                });
            }
        }
        Ok(lines)
    }

    /// True if `what` was checked against the checkpoint already in this process.
    pub(super) fn was_verified(&self, what: &str) -> bool {
        self.index
            .lock()
            .is_ok_and(|state| state.verified.iter().any(|v| v == what))
    }

    /// Notes that `what` was checked against the checkpoint.
    pub(super) fn mark_verified(&self, what: &str) {
        if let Ok(mut state) = self.index.lock() {
            state.verified.push(what.to_string());
        }
    }

    /// Appends events to the log and brings the index up to date with them. The caller holds the lock.
    pub fn append(&self, _lock: &StoreLock, events: &[Event]) -> Result<ChainHash> {
        let head = log_append::append(&self.path(INVENTORY), events, &self.binding()?)?;
        let opened = self
            .index
            .lock()
            .map_err(|_| Error::Bug("the index's lock was poisoned"))?
            .index
            .is_some();
        // The log is what counts: an index that cannot follow is dropped and catches up (or is rebuilt) when
        // it is next opened.
        if opened && self.with_index(|index| index.catch_up()).is_err() {
            let _ = std::fs::remove_file(self.path(INDEX));
            if let Ok(mut state) = self.index.lock() {
                state.index = None;
            }
        }
        Ok(head)
    }

    /// Signs a checkpoint of the inventory as it is now, and of the settings, if the last checkpoint does not
    /// cover exactly that already. The caller holds the lock (and so has reconciled: every record after the
    /// last checkpoint was checked against the CA before this one can cover it).
    pub fn checkpoint(&self, _lock: &StoreLock, ca: &SigningCa) -> Result<()> {
        self.sign_checkpoint(ca, &self.settings()?)
    }

    /// Signs a checkpoint that covers the inventory as it is now and `settings`. Its revocation chain extends
    /// the last checkpoint's with the revocations recorded since (or is made from the whole log once, for a
    /// CA without a version 2 checkpoint), so signing costs what happened since the last one.
    fn sign_checkpoint(&self, ca: &SigningCa, settings: &CaSettings) -> Result<()> {
        let (head, count, bytes) = self.with_index(|index| {
            index.catch_up()?;
            Ok((index.head.clone(), index.lines, index.bytes))
        })?;
        let current = self.signed_checkpoint()?;
        let revoked = match current
            .as_ref()
            .filter(|c| c.state.is_some() && c.bytes.is_some())
        {
            Some(last) => {
                let state = last
                    .state
                    .as_ref()
                    .ok_or(Error::Bug("a checkpoint without state"))?;
                self.revocations_since(last, &state.revoked)?
            }
            None => {
                let log = inventory::read(&self.path(INVENTORY), false)?;
                CoveredState::of(&log, log.lines.len()).revoked
            }
        };
        let undelivered = self.undelivered()?;
        let state = CoveredState {
            revoked,
            undelivered: undelivered_tally(undelivered.iter().map(|e| &e.issued.serial)),
        };
        if let Some(current) = &current
            && current.head == head
            && current.count == count
            && current.settings.as_ref() == Some(settings)
            && current.state.as_ref() == Some(&state)
        {
            return Ok(());
        }
        let coverage = Coverage {
            head: &head,
            count,
            bytes,
            settings,
            state: &state,
        };
        let checkpoint = Checkpoint::sign(&|m| ca.sign_bytes(m), ca.key_type, &coverage)?;
        files::replace(&self.path(CHECKPOINT), &checkpoint.to_bytes()?, PUBLIC)
    }

    /// `chain`, the revocation chain `last` signed, extended with the revocations recorded after it: the log
    /// after `last` read one line at a time (a batch may have recorded a hundred thousand certificates since).
    fn revocations_since(&self, last: &Checkpoint, chain: &Tally) -> Result<Tally> {
        let path = self.path(INVENTORY);
        let mut chain = chain.clone();
        let offset = last
            .bytes
            .ok_or(Error::Bug("a checkpoint without its length"))?;
        inventory::visit(
            &path,
            offset,
            last.count + 1,
            false,
            &mut |read| match read {
                LineRead::Line(line) => {
                    if let Event::Revoked(r) = &line.event {
                        chain.count += 1;
                        chain.sha256 = chain_revocation(&chain.sha256, r);
                    }
                    Ok(true)
                }
                LineRead::Damaged(line, what) => Err(Error::Inventory {
                    path: path.clone(),
                    line,
                    what: format!(
                        "the record cannot be read ({what}); nothing was signed. See \"certkit-ca audit\""
                    ),
                }),
                LineRead::Torn => Ok(false),
            },
        )?;
        Ok(chain)
    }

    /// Changes the CA's settings: the new `ca.json` is staged as `ca.json.new`, the CA key signs a checkpoint
    /// that covers it, and only then is it moved into place. A crash in between leaves the old settings in
    /// force (the staged file is removed) or the new ones signed (the next command that takes the lock moves
    /// the staged file into place); never settings that nothing signed.
    pub fn change_settings(
        &self,
        _lock: &StoreLock,
        ca: &SigningCa,
        settings: &CaSettings,
    ) -> Result<()> {
        let next = self.path(CA_SETTINGS_NEXT);
        files::replace(&next, &settings.to_file_bytes()?, PUBLIC)?;
        self.sign_checkpoint(ca, settings)?;
        files::rename_into_place(&next, &self.path(CA_SETTINGS))
    }

    /// `ca.json` as it is on disk, unchecked (defaults if it is missing): for the audit, and to tell whether
    /// the CA key is on a token before anything is loaded.
    pub fn settings_file(&self) -> Result<CaSettings> {
        read_settings(&self.path(CA_SETTINGS)).map(Option::unwrap_or_default)
    }

    /// The settings staged by a settings change that was interrupted, if any.
    pub fn staged_settings(&self) -> Result<Option<CaSettings>> {
        read_settings(&self.path(CA_SETTINGS_NEXT))
    }

    /// The last checkpoint, with its signature verified against the CA certificate; an error if the CA's key
    /// did not sign it.
    pub fn signed_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let path = self.path(CHECKPOINT);
        let Some(checkpoint) = Checkpoint::read(&path)? else {
            return Ok(None);
        };
        // Signed by ca.pem's key, or (a re-key stopped before signing the next one) by another of the CA's keys.
        let current = self.cert()?;
        if !checkpoint.verify(&current.spki_der)?
            && !self
                .lineage()?
                .keys
                .iter()
                .any(|k| checkpoint.verify(k).unwrap_or(false))
        {
            return Err(Error::Inventory {
                path: self.path(INVENTORY),
                line: checkpoint.count,
                what: format!(
                    "{} is not signed by this CA's key; nothing was read from or written to the CA. See \"certkit-ca audit --ca {}\"",
                    path.display(),
                    self.dir.display()
                ),
            });
        }
        Ok(Some(checkpoint))
    }

    /// The CA's settings as its key signed them. `ca.json` must say the same: settings decide what the
    /// certificates say and what code runs, so a file anyone who can write to the folder may change is never
    /// taken on its own word. The exceptions: a CA whose key has not signed its settings yet (made before
    /// certkit 0.3; the next command that uses the key signs them), a settings change an interrupted command
    /// left staged and signed, and a token module the user names (`--pkcs11-module`), which replaces the one
    /// recorded.
    pub fn settings(&self) -> Result<CaSettings> {
        let file = self.settings_file()?;
        let Some(signed) = self.signed_checkpoint()?.and_then(|c| c.settings) else {
            return Ok(file);
        };
        if file == signed || self.staged_settings()?.as_ref() == Some(&signed) {
            return Ok(signed);
        }
        if file.differ_only_in_module(&signed) && self.module_search(None).user_choice().is_some() {
            return Ok(signed);
        }
        Err(Error::SettingsChanged {
            path: self.path(CA_SETTINGS),
            what: file.differences(&signed).join("; "),
            fix: if file.differ_only_in_module(&signed) {
                " or name the module yourself with --pkcs11-module PATH"
            } else {
                ""
            },
        })
    }

    /// Decrypts the CA key (or logs in to the token that holds it, `secret` being the PIN) and checks the CA
    /// can sign now: it is a CA, it is within its validity, and the key belongs to the certificate.
    pub fn unlock(&self, secret: &Secret) -> Result<SigningCa> {
        self.unlock_checked(secret, false)
    }

    /// As [`CaStore::unlock`], also for a CA whose certificate has expired: for its renewal, which its own key
    /// signs (`certkit-ca renew`).
    pub fn unlock_to_renew(&self, secret: &Secret) -> Result<SigningCa> {
        self.unlock_checked(secret, true)
    }

    fn unlock_checked(&self, secret: &Secret, lapsed_ok: bool) -> Result<SigningCa> {
        let cert = self.cert()?;
        let settings = self.settings()?;
        // A re-key that stopped before ca.pem changed: the key of ca.pem is an earlier key on the token.
        let earlier = settings
            .earlier_keys
            .iter()
            .find(|k| crate::keys::key_id(&cert.spki_der).is_ok_and(|id| id == k.key_id))
            .and_then(|k| k.pkcs11.as_ref());
        let (key, key_origin) = match earlier.or(settings.pkcs11.as_ref()) {
            None => {
                let key_path = self.key_file_of(&cert.spki_der)?;
                (CaKey::File(keys::load_key(&key_path, secret)?), key_path)
            }
            Some(record) => {
                let uri = record.uri(&self.path(CA_SETTINGS))?;
                let token = token::open(&self.module_search(record.module.as_deref()), &uri)?;
                let (key, _) = token.login(secret)?.existing(&uri, &cert)?;
                (CaKey::Token(key), PathBuf::from(&record.uri))
            }
        };
        let above = self.chain_above(&cert)?;
        SigningCa::checked(
            cert,
            key,
            settings.crl_url,
            &self.path(CA_PEM),
            &key_origin,
            lapsed_ok,
        )?
        .with_aia(settings.aia_url, settings.ocsp_url)
        .with_above(above)
    }

    /// The CAs above this one, from `chain.pem` (written by `install`): the one that signed it first, the root
    /// last; none for a root. Each must have signed the one below it, or the file was changed; and a CA that is
    /// not self-signed must have its whole chain up to a self-signed root, or the name constraints of the CAs
    /// above could not be checked (a deleted or cut `chain.pem` would switch them off).
    pub fn chain_above(&self, cert: &CertInfo) -> Result<Vec<CertInfo>> {
        let above = self.chain_as_written(cert)?;
        match chain_gap(cert, &above)? {
            Some(gap) => Err(Error::CaUnusable(gap)),
            None => Ok(above),
        }
    }

    /// [`CaStore::chain_above`] without the demand that it reach a root: what `chain.pem` holds, each link
    /// checked (for `audit`, which reports a changed chain and a missing part apart).
    pub fn chain_as_written(&self, cert: &CertInfo) -> Result<Vec<CertInfo>> {
        let path = self.path(CHAIN_PEM);
        // Missing or emptied: nothing above (a CA that is not a root then has a gap, see `chain_gap`).
        if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
            return Ok(Vec::new());
        }
        let mut above = Vec::new();
        for der in crate::certinfo::read_cert_ders(&path)? {
            let listed = CertInfo::from_der(&der, &path)?;
            // The CA's own certificate heads the file (an earlier one, until a renewal rewrites it).
            if listed.spki_der != cert.spki_der || listed.subject != cert.subject {
                above.push(listed);
            }
        }
        let mut below = cert;
        for ca in &above {
            if !below.is_signed_by(ca)? {
                return Err(Error::CaUnusable(format!(
                    "{} was changed: {} is not signed by {}; put back the chain install wrote",
                    path.display(),
                    below.subject,
                    ca.subject
                )));
            }
            below = ca;
        }
        Ok(above)
    }
}

/// What is missing when `above` (the CAs above `cert`, from `chain.pem`) does not reach a self-signed root:
/// the error text, naming the certificate whose issuer is not there and the fix.
pub fn chain_gap(cert: &CertInfo, above: &[CertInfo]) -> Result<Option<String>> {
    let top = above.last().unwrap_or(cert);
    if top.is_signed_by(top)? {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} is missing or cut short: '{}' is signed by '{}', which it does not hold, so the name constraints of the CAs above cannot be checked and this CA signs nothing; put back the chain up to the root (certkit-ca install --cert CA.cer --chain ROOT-CHAIN.pem, or from a backup)",
        CHAIN_PEM, top.subject, top.issuer
    )))
}

impl CaStore {
    /// Where the CA key is; for a token, found without logging in (for `show`: a token that cannot be found is
    /// reported as the location's problem, not as an error).
    pub fn key_location(&self) -> Result<KeyLocation> {
        let Some(record) = self.settings()?.pkcs11 else {
            return Ok(KeyLocation::file(self.path(CA_KEY)));
        };
        let uri = record.uri(&self.path(CA_SETTINGS))?;
        match token::open(&self.module_search(record.module.as_deref()), &uri) {
            Ok(token) => Ok(KeyLocation::token(&record, &token)),
            Err(e) => Ok(KeyLocation {
                storage: "pkcs11",
                file: None,
                uri: Some(record.uri),
                module: record.module,
                module_origin: None,
                token: None,
                problem: Some(e.to_string()),
                origin: record.origin,
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

/// Reads a settings file, if it exists.
pub(super) fn read_settings(path: &Path) -> Result<Option<CaSettings>> {
    match std::fs::read(path) {
        Ok(bytes) => CaSettings::parse(&bytes, path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}
