//! Re-keying the CA (`certkit-ca rekey`): a new key and a new self-signed CA certificate with the subject byte for
//! byte, and two cross-certificates (the new key certified by the old, the old by the new) so that a client that
//! trusts either CA certificate verifies what both keys sign. The old key stays, encrypted in `keys/KEYID.key`,
//! to sign CRLs for what it issued until `retire-key`. Everything is recorded and kept in `history/` before
//! `ca.pem` changes; an interrupted re-key is finished by the next command.

use std::path::PathBuf;

use rcgen::PublicKeyData;
use zeroize::Zeroizing;

use super::deliver::Delivery;
use super::folder::{CaStore, StoreLock};
use super::inventory::IssuedRecord;
use super::layout::*;
use super::renew::{params_like, subject_der};
use super::settings::{EarlierKey, TokenRecord};
use crate::certinfo::CertInfo;
use crate::dates::Validity;
use crate::error::{Error, Result};
use crate::files::{self, PRIVATE, PUBLIC};
use crate::keys::{KeyType, key_id};
use crate::profile::Profile;
use crate::signer::{CaKey, SigningCa};

/// The certificates a re-key makes.
#[derive(Debug, Clone)]
pub struct RekeyCerts {
    /// The new CA certificate: the new key, signed by itself.
    pub new: CertInfo,
    /// The new key certified by the old one (for clients that trust the old CA certificate).
    pub new_by_old: CertInfo,
    /// The old key certified by the new one (for clients that trust only the new CA certificate).
    pub old_by_new: CertInfo,
}

/// A re-key that was made.
#[derive(Debug)]
pub struct Rekeyed {
    /// The CA certificate it replaced.
    pub old: CertInfo,
    /// What it made.
    pub certs: RekeyCerts,
    /// Where the old key is kept (for CRLs): its file, or its token URI.
    pub old_key: PathBuf,
    /// Where the two cross-certificates are: the new key's, then the old key's.
    pub cross: [PathBuf; 2],
}

/// Where a re-key's keys are kept.
pub enum RekeyKeys {
    /// In files: both encrypted PKCS#8 PEM, under the CA password the CA has from now on.
    Files {
        /// The old key.
        old: Zeroizing<String>,
        /// The new key.
        new: Zeroizing<String>,
    },
    /// On the token that holds the old key: the new key's record (made on the token, beside the old one).
    Token(TokenRecord),
}

/// The certificates re-keying `ca` to `new_key` for `validity` makes. The cross-certificates end with the old
/// CA certificate (or the new one, if that ends first).
pub fn rekey_certs(ca: &SigningCa, new_key: &CaKey, validity: Validity) -> Result<RekeyCerts> {
    let old = &ca.cert;
    if old.issuer != old.subject {
        return Err(Error::BadInput(format!(
            "{} is signed by {}, not by itself: make a new key with certkit-ca init --request and have the CA above sign it",
            old.subject, old.issuer
        )));
    }
    let new_spki = new_key.subject_public_key_info();
    if new_spki == old.spki_der {
        return Err(Error::Bug("re-keying to the same key"));
    }
    let new_id = rcgen::KeyIdMethod::PreSpecified(crate::keys::subject_key_id(&new_spki)?);
    let mut params = params_like(old, validity)?;
    params.key_identifier_method = new_id.clone();
    let new = params
        .self_signed(new_key)
        .map_err(|e| new_key.explain(e, "signing the new CA certificate"))?;
    let new = CertInfo::from_der(new.der(), std::path::Path::new("(new CA certificate)"))?;
    let overlap = Validity {
        not_before: validity.not_before,
        not_after: validity.not_after.min(old.not_after),
    };
    let mut params = params_like(old, overlap)?;
    params.key_identifier_method = new_id;
    params.use_authority_key_identifier_extension = true;
    let new_by_old = params.signed_by(new_key, ca.issuer()).map_err(|e| {
        ca.issuer()
            .key()
            .explain(e, "signing the cross-certificate")
    })?;
    let new_by_old = CertInfo::from_der(
        new_by_old.der(),
        std::path::Path::new("(cross-certificate)"),
    )?;
    let new_params = {
        let mut p = params_like(old, validity)?;
        p.key_identifier_method =
            rcgen::KeyIdMethod::PreSpecified(new.subject_key_id.clone().unwrap_or_default());
        p
    };
    let new_issuer = rcgen::Issuer::from_params(&new_params, new_key);
    let mut params = params_like(old, overlap)?;
    params.use_authority_key_identifier_extension = true;
    if let Some(ski) = &old.subject_key_id {
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(ski.clone());
    }
    let old_by_new = params
        .signed_by(ca.issuer().key(), &new_issuer)
        .map_err(|e| new_key.explain(e, "signing the cross-certificate"))?;
    let old_by_new = CertInfo::from_der(
        old_by_new.der(),
        std::path::Path::new("(cross-certificate)"),
    )?;
    let subject = subject_der(&old.der)?;
    for cert in [&new, &new_by_old, &old_by_new] {
        if subject_der(&cert.der)? != subject {
            return Err(Error::Bug(
                "a re-key certificate does not have the CA's subject",
            ));
        }
    }
    if !new.is_signed_by_key(&new_spki)?
        || !new_by_old.is_signed_by_key(&old.spki_der)?
        || !old_by_new.is_signed_by_key(&new_spki)?
    {
        return Err(Error::Bug("a re-key certificate does not verify"));
    }
    Ok(RekeyCerts {
        new,
        new_by_old,
        old_by_new,
    })
}

impl CaStore {
    /// The key file of the CA key `spki_der`: `keys/KEYID.key` once the CA was re-keyed, else `ca.key`.
    pub fn key_file_of(&self, spki_der: &[u8]) -> Result<PathBuf> {
        let kept = self
            .path(KEYS_DIR)
            .join(format!("{}.key", key_id(spki_der)?));
        Ok(if kept.is_file() {
            kept
        } else {
            self.path(CA_KEY)
        })
    }

    /// Re-keys the CA of `ca` (unlocked from this folder, its key in `ca.key`): the settings name the old key
    /// (and the new CRL URL, if any), both keys are written to `keys/`, the three certificates kept in
    /// `history/` and recorded, then `ca.cer`, `ca.pem` and `ca.key` become the new ones. The caller signs a
    /// checkpoint with the new key.
    pub fn rekey_ca(
        &self,
        lock: &StoreLock,
        ca: &SigningCa,
        certs: &RekeyCerts,
        keys: &RekeyKeys,
        crl_url: Option<String>,
    ) -> Result<Rekeyed> {
        let old = &ca.cert;
        let old_id = key_id(&old.spki_der)?;
        let new_id = key_id(&certs.new.spki_der)?;
        let mut settings = self.settings()?;
        if settings.binding.is_none() {
            settings.binding = Some(self.binding()?);
        }
        if !settings.earlier_keys.iter().any(|k| k.key_id == old_id) {
            settings.earlier_keys.push(EarlierKey {
                key_id: old_id.clone(),
                crl_url: settings.crl_url.clone(),
                pkcs11: settings.pkcs11.clone(),
            });
        }
        if crl_url.is_some() {
            settings.crl_url = crl_url;
        }
        if let RekeyKeys::Token(record) = keys {
            settings.pkcs11 = Some(record.clone());
        }
        self.change_settings(lock, ca, &settings)?;
        let old_key = match keys {
            RekeyKeys::Files { old: old_pem, new } => {
                let dir = self.path(KEYS_DIR);
                make_folder(&dir)?;
                let old_key = dir.join(format!("{old_id}.key"));
                // A rerun after an interruption keeps the old key file the first run wrote.
                if !old_key.exists() {
                    files::write_new(&old_key, old_pem.as_bytes(), PRIVATE)?;
                }
                write_or_keep(&dir.join(format!("{new_id}.key")), new.as_bytes(), PRIVATE)?;
                old_key
            }
            RekeyKeys::Token(_) => PathBuf::from(
                settings
                    .earlier_keys
                    .iter()
                    .find(|k| k.key_id == old_id)
                    .and_then(|k| k.pkcs11.as_ref())
                    .map(|r| r.uri.clone())
                    .unwrap_or_default(),
            ),
        };
        // Recorded before it is kept anywhere (the write-ahead rule): first the cross-certificate the old key
        // signed, then, once it is in history/ (where it makes the new key the CA's), what the new key signed.
        let history = self.path(HISTORY_DIR);
        make_folder(&history)?;
        let kept = |c: &CertInfo| history.join(format!("{}.cer", c.serial));
        let cn = certs.new.cn.clone().unwrap_or_default();
        let record = |cert: &CertInfo| -> Result<Delivery> {
            Ok(Delivery {
                record: IssuedRecord::new(
                    cert,
                    &cn,
                    Profile::Ca,
                    Vec::new(),
                    KeyType::of_spki_der(&cert.spki_der)?,
                    None,
                    (cert.der == certs.new.der).then(|| old.serial.clone()),
                ),
                files: Vec::new(),
            })
        };
        let leftovers = self.leftovers()?;
        self.deliver(lock, &leftovers, vec![record(&certs.new_by_old)?])?;
        write_or_keep(&kept(&certs.new_by_old), &certs.new_by_old.der, PUBLIC)?;
        let leftovers = self.leftovers()?;
        self.deliver(
            lock,
            &leftovers,
            vec![record(&certs.new)?, record(&certs.old_by_new)?],
        )?;
        write_or_keep(&kept(&certs.old_by_new), &certs.old_by_new.der, PUBLIC)?;
        self.put_in_place(old, &certs.new)?;
        if let RekeyKeys::Files { new, .. } = keys {
            files::replace(&self.path(CA_KEY), new.as_bytes(), PRIVATE)?;
        }
        Ok(Rekeyed {
            old: old.clone(),
            certs: certs.clone(),
            old_key,
            cross: [kept(&certs.new_by_old), kept(&certs.old_by_new)],
        })
    }

    /// The CA's earlier keys that `ca.json` says are kept, each unlocked with `password` to sign CRLs for what
    /// it issued; none for a key whose certificate has expired (so has everything it issued).
    pub fn earlier_signers(
        &self,
        password: &crate::secret::Secret,
    ) -> Result<Vec<(EarlierKey, Option<SigningCa>)>> {
        let earlier = self.settings()?.earlier_keys;
        if earlier.is_empty() {
            return Ok(Vec::new());
        }
        let lineage = self.lineage()?;
        let now = time::OffsetDateTime::now_utc();
        let unexpired = self.unexpired_by_key(now)?;
        let current = key_id(&self.cert()?.spki_der)?;
        let mut signers = Vec::new();
        for key in earlier {
            // A re-key that stopped before ca.pem changed names the key that still signs as an earlier one.
            if key.key_id == current {
                continue;
            }
            let (pair, origin) = match &key.pkcs11 {
                Some(record) => {
                    let uri = record.uri(&self.path(super::layout::CA_SETTINGS))?;
                    let token =
                        crate::token::open(&self.module_search(record.module.as_deref()), &uri)?;
                    (EarlierPair::Token(token, uri), PathBuf::from(&record.uri))
                }
                None => {
                    let path = self.path(KEYS_DIR).join(format!("{}.key", key.key_id));
                    (
                        EarlierPair::File(crate::keys::load_key(&path, password)?),
                        path,
                    )
                }
            };
            let cert = lineage
                .certs
                .iter()
                .filter(|c| {
                    key_id(&c.spki_der).is_ok_and(|id| id == key.key_id)
                        && (c.authority_key_id.is_none() || c.authority_key_id == c.subject_key_id)
                })
                .max_by_key(|c| c.not_after)
                .cloned()
                .ok_or_else(|| {
                    Error::CaUnusable(format!(
                        "no certificate of the CA in {HISTORY_DIR}/ holds the earlier key {}; restore the CA folder from a backup",
                        key.key_id
                    ))
                })?;
            if cert.not_after <= now || !unexpired.contains_key(&key.key_id) {
                signers.push((key, None));
                continue;
            }
            let ca_key = match pair {
                EarlierPair::File(pair) => {
                    if pair.subject_public_key_info() != cert.spki_der {
                        return Err(Error::CaUnusable(format!(
                            "{} is not the earlier key {}; restore it from a backup",
                            origin.display(),
                            key.key_id
                        )));
                    }
                    CaKey::File(pair)
                }
                EarlierPair::Token(token, uri) => {
                    CaKey::Token(token.login(password)?.existing(&uri, &cert)?.0)
                }
            };
            let history = self.path(HISTORY_DIR).join(format!("{}.cer", cert.serial));
            let signing = SigningCa::new(cert, ca_key, key.crl_url.clone(), &history, &origin)?;
            signers.push((key, Some(signing)));
        }
        Ok(signers)
    }

    /// The certificates the CA key `key_id` signed that have not expired at `now` (revoked ones too: they stay
    /// on its CRLs until they expire): how many, and when the last of them expires.
    pub fn unexpired_signed_by(
        &self,
        key_id: &str,
        now: time::OffsetDateTime,
    ) -> Result<(usize, Option<time::OffsetDateTime>)> {
        Ok(self
            .unexpired_by_key(now)?
            .remove(key_id)
            .unwrap_or((0, None)))
    }

    /// [`CaStore::unexpired_signed_by`] for every key that signed anything, in one reading of the log: by key
    /// identifier ([`key_id`]). Each certificate's authority key identifier names its key in whichever method
    /// the program that signed it used (certkit's RFC 7093 one; the SHA-1 one of `openssl ca`, easy-rsa and
    /// XCA for an imported CA): both, and the subject key identifier of each certificate of the lineage, lead
    /// to the key. A certificate without one (or naming no key of the lineage) is matched by its signature.
    pub fn unexpired_by_key(
        &self,
        now: time::OffsetDateTime,
    ) -> Result<std::collections::BTreeMap<String, (usize, Option<time::OffsetDateTime>)>> {
        let lineage = self.lineage()?;
        let mut names: std::collections::HashMap<Vec<u8>, String> =
            std::collections::HashMap::new();
        for spki in &lineage.keys {
            let id = key_id(spki)?;
            names.insert(crate::keys::subject_key_id(spki)?, id.clone());
            names.insert(crate::keys::sha1_key_id(spki)?, id);
        }
        for cert in &lineage.certs {
            if let Some(ski) = &cert.subject_key_id {
                names.insert(ski.clone(), key_id(&cert.spki_der)?);
            }
        }
        let mut by_key = std::collections::BTreeMap::new();
        let filter = super::index::ListFilter {
            with_certificates: true,
            ..Default::default()
        };
        self.list(&filter, now, &mut |entry| {
            if entry.issued.not_after <= now {
                return Ok(true);
            }
            let Some(der) = entry.issued.cert_der() else {
                return Ok(true);
            };
            let named =
                crate::certinfo::authority_key_id_of(&der).and_then(|aki| names.get(&aki).cloned());
            let key = match named {
                Some(id) => Some(id),
                None => {
                    let cert = CertInfo::from_der(&der, &self.path(INVENTORY))?;
                    lineage
                        .keys
                        .iter()
                        .find(|spki| cert.is_signed_by_key(spki).unwrap_or(false))
                        .map(|spki| key_id(spki))
                        .transpose()?
                }
            };
            if let Some(id) = key {
                let (count, last): &mut (usize, Option<time::OffsetDateTime>) =
                    by_key.entry(id).or_default();
                *count += 1;
                *last = (*last).max(Some(entry.issued.not_after));
            }
            Ok(true)
        })?;
        Ok(by_key)
    }

    /// Retires the earlier CA key `key_id` once nothing it signed is unexpired: `ca.json` stops naming it (a
    /// settings change the current key `ca` signs), then `keys/KEYID.key` is removed. A retirement that stopped
    /// in between is finished by running it again. Returns the file removed.
    pub fn retire_key(&self, lock: &StoreLock, ca: &SigningCa, id: &str) -> Result<RetiredKey> {
        let path = self.path(KEYS_DIR).join(format!("{id}.key"));
        let mut settings = self.settings()?;
        let named = settings.earlier_keys.iter().any(|k| k.key_id == id);
        if id == key_id(&ca.cert.spki_der)? {
            return Err(Error::BadInput(format!(
                "{id} is the CA's current key; only an earlier key is retired (certkit-ca rekey makes a new one first)"
            )));
        }
        if !named && !path.exists() {
            // Retired already (a rerun after an interruption): a key of the CA's lineage, kept no more.
            let lineage = self.lineage()?;
            for key in &lineage.keys {
                if key_id(key)? == id {
                    return Ok(RetiredKey::File(path));
                }
            }
            let kept: Vec<&str> = settings
                .earlier_keys
                .iter()
                .map(|k| k.key_id.as_str())
                .collect();
            return Err(Error::BadInput(format!(
                "the CA keeps no earlier key {id}{}",
                if kept.is_empty() {
                    String::new()
                } else {
                    format!(" (it keeps {})", kept.join(", "))
                }
            )));
        }
        if named {
            let now = time::OffsetDateTime::now_utc();
            let (count, last) = self.unexpired_signed_by(id, now)?;
            if let Some(last) = last {
                return Err(Error::BadInput(format!(
                    "{count} certificate(s) the key {id} signed have not expired (the last on {}): its CRLs are needed until then; retire it after that",
                    crate::dates::rfc3339(last)
                )));
            }
            let token = settings
                .earlier_keys
                .iter()
                .find(|k| k.key_id == id)
                .and_then(|k| k.pkcs11.clone());
            settings.earlier_keys.retain(|k| k.key_id != id);
            self.change_settings(lock, ca, &settings)?;
            // certkit never deletes a token key: the token's owner does, once the CA no longer names it.
            if let Some(record) = token {
                return Ok(RetiredKey::Token(record));
            }
        }
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            files::sync_folders([path.as_path()])?;
        }
        Ok(RetiredKey::File(path))
    }

    /// Makes `ca.key` the current key's file again where a re-key stopped before copying it (`keys/KEYID.key`
    /// of `ca.pem`'s key). Returns whether it did.
    pub(super) fn finish_key_copy(&self) -> Result<bool> {
        let current = self.cert()?;
        let kept = self.key_file_of(&current.spki_der)?;
        if kept == self.path(CA_KEY) {
            return Ok(false);
        }
        let bytes = files::read(&kept)?;
        if std::fs::read(self.path(CA_KEY)).ok().as_deref() == Some(&bytes[..]) {
            return Ok(false);
        }
        files::replace(&self.path(CA_KEY), &bytes, PRIVATE)?;
        Ok(true)
    }
}

/// An earlier key that was retired.
#[derive(Debug)]
pub enum RetiredKey {
    /// Its file, removed.
    File(PathBuf),
    /// On a token: the CA no longer names it; the token still holds it until its owner deletes it.
    Token(TokenRecord),
}

/// An earlier key, opened.
enum EarlierPair {
    File(rcgen::KeyPair),
    Token(crate::token::Token, crate::token::TokenUri),
}

/// Creates `dir` if it is not there.
pub(super) fn make_folder(dir: &std::path::Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(Error::io("create folder", dir, e))
        }
        _ => Ok(()),
    }
}

/// Writes `bytes` to a new file at `path`; a file there with these very bytes (a rerun) is kept, any other is
/// refused.
pub(super) fn write_or_keep(path: &std::path::Path, bytes: &[u8], mode: u32) -> Result<()> {
    match std::fs::read(path) {
        Ok(there) if there == bytes => Ok(()),
        Ok(_) => Err(Error::CaUnusable(format!(
            "{} is already there with other contents; restore the CA folder from a backup",
            path.display()
        ))),
        Err(_) => files::write_new(path, bytes, mode),
    }
}
