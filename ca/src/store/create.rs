//! Creating a CA: the key (in `ca.key` or on a token), the self-signed certificate, the first checkpoint and
//! the folder's files, all or nothing.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose,
};

use super::checkpoint::{CHECKPOINT, Checkpoint, Coverage, CoveredState};
use super::folder::lock_dir;
use super::inventory;
use super::layout::*;
use super::settings::{CaSettings, KeyLocation, KeyOrigin, TokenRecord};
use crate::certinfo::CertInfo;
use crate::constraints::NameConstraints;
use crate::dates::{Lifetime, Validity};
use crate::error::{Error, Result};
use crate::files::{self, NewFiles, PRIVATE, PUBLIC};
use crate::keys::{self, KeyType};
use crate::naming::{check_cn, check_crl_url};
use crate::secret::Secret;
use crate::serial::Serial;
use crate::signer::CaKey;
use crate::token::{self, ModuleSearch, TokenUri};

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
    /// Where clients fetch its certificate (authorityInfoAccess caIssuers in what it signs).
    pub aia_url: Option<String>,
    /// The names the certificates under it may have (none: any).
    pub constraints: NameConstraints,
}

impl CaSpec {
    /// Checks everything that needs no password: the name, the URL, the dates and the folder.
    pub fn validate(&self) -> Result<Validity> {
        check_cn(&self.cn)?;
        for url in self.crl_url.iter().chain(&self.aia_url) {
            check_crl_url(url)?;
        }
        let validity = Validity::starting_now(self.lifetime)?;
        check_can_init(&self.dir)?;
        Ok(validity)
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
    // Never inside another CA's folder (its issued/, keys/, history/...): that folder's files are its record,
    // and a CA in it would be copied, audited and backed up with it.
    let absolute = std::path::absolute(dir).map_err(|e| Error::io("find", dir, e))?;
    for above in absolute.ancestors().skip(1) {
        if above.join(CA_SETTINGS).is_file() || above.join(INVENTORY).is_file() {
            return Err(Error::BadInput(format!(
                "{} is inside the CA folder {}: give each CA a folder of its own, beside it (e.g. {})",
                dir.display(),
                above.display(),
                above
                    .parent()
                    .unwrap_or(above)
                    .join(dir.file_name().unwrap_or(dir.as_os_str()))
                    .display()
            )));
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
    /// Where its key is.
    pub key: KeyLocation,
}

/// Creates a CA. All or nothing, and race-free: a new folder is made under a temporary name beside it and moved
/// into place only when it is complete (never over a folder that appeared meanwhile), so two `init` runs for
/// one folder make one CA and a failed run removes only what it made itself. In a folder that exists already
/// the files are written under its lock. `wait` is called if another certkit process holds that lock.
pub fn init(spec: &CaSpec, key: &NewCaKey<'_>, wait: &mut dyn FnMut(&Path)) -> Result<Created> {
    let validity = spec.validate()?;
    in_new_folder(&spec.dir, wait, &mut |work, wait| {
        init_in(spec, key, validity, work, wait)
    })
}

/// What makes a CA's files in a folder (the folder, and what to call while waiting for its lock).
type MakeIn<'a, T> = dyn FnMut(&Path, &mut dyn FnMut(&Path)) -> Result<T> + 'a;

/// Runs `make` in the folder `dir` if it exists, else in a staging folder beside it, which `make` moves into
/// place last ([`place_if_staged`]: never over a folder that appeared meanwhile), so that a failed run removes
/// only what it made itself.
fn in_new_folder<T>(
    dir: &Path,
    wait: &mut dyn FnMut(&Path),
    make: &mut MakeIn<'_, T>,
) -> Result<T> {
    if dir.symlink_metadata().is_ok() {
        return make(dir, wait);
    }
    let parent = files::folder_of(dir);
    let cannot = |e| Error::io("create folder", dir, e);
    std::fs::create_dir_all(parent).map_err(cannot)?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .map_err(cannot)?;
    let created = make(staging.path(), wait)?;
    // The folder is in place: nothing is left to remove.
    let _placed = staging.keep();
    Ok(created)
}

/// Makes a CA folder in `dir` (which must not hold a CA) for an existing CA certificate and its key (restored
/// from a backup, or made in memory to be backed up before it goes onto a token): the key encrypted in `ca.key`
/// under a password, or imported into a token as sensitive and never extractable; a first checkpoint the key
/// signs, and an inventory that starts with `events`. All or nothing, as `init`: the folder appears complete,
/// with its first records, or not at all (a token key imported here is destroyed again if anything after it
/// fails).
pub fn restore(
    dir: &Path,
    cert: &CertInfo,
    key: rcgen::KeyPair,
    home: &NewCaKey<'_>,
    restored: (CaSettings, &[CertInfo]),
    events: &[super::records::Event],
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    let (restored, chain) = restored;
    check_can_init(dir)?;
    let key_type = KeyType::of_spki_der(&cert.spki_der)?;
    let mut key = Some(key);
    in_new_folder(dir, wait, &mut |work, wait| {
        let _lock = lock_dir(work, wait)?;
        check_can_init(work)?;
        let key = key
            .take()
            .ok_or(Error::Bug("a restored key placed twice"))?;
        let (placed, key_file, pkcs11, location) = match home {
            NewCaKey::File(password) => {
                let pem = keys::encrypt_pem(&key, password)?;
                let location = KeyLocation::file(dir.join(CA_KEY));
                (CaKey::File(key), Some(pem), None, location)
            }
            NewCaKey::Token { search, uri, pin } => {
                let token = token::open(search, uri)?;
                let pkcs8 = zeroize::Zeroizing::new(key.serialize_der());
                let (token_key, uri) = token.login(pin)?.import(uri, &pkcs8, cert)?;
                let record = TokenRecord {
                    uri: uri.to_string(),
                    module: Some(token.module.clone()),
                    origin: Some(KeyOrigin::Imported),
                };
                let location = KeyLocation::token(&record, &token);
                (CaKey::Token(token_key), None, Some(record), location)
            }
        };
        let result = (|| {
            if let CaKey::Token(token_key) = &placed {
                token_key.check_belongs_to(cert)?;
            }
            let settings = CaSettings {
                crl_url: restored.crl_url.clone(),
                pkcs11: pkcs11.clone(),
                aia_url: restored.aia_url.clone(),
                parent: restored.parent.clone(),
                binding: None,
                earlier_keys: Vec::new(),
            };
            // A CA below another gets its chain back with its parent: without it the constraints of the CAs
            // above would not be checked (and it signs nothing, see `CaStore::chain_above`).
            if !chain.is_empty() {
                let mut pem = cert.pem();
                for above in chain {
                    pem.push_str(&above.pem());
                }
                files::write_new(&work.join(CHAIN_PEM), pem.as_bytes(), PUBLIC)?;
            }
            let created = write_folder(
                dir,
                work,
                cert.clone(),
                &placed,
                key_type,
                key_file.clone(),
                &settings,
                location.clone(),
            )?;
            inventory::append(
                &work.join(INVENTORY),
                events,
                &inventory::ca_binding(&cert.der),
            )?;
            place_if_staged(work, dir)?;
            Ok(created)
        })();
        if result.is_err()
            && let CaKey::Token(token_key) = placed
        {
            token_key.destroy();
        }
        result
    })
}

/// A CA folder made to wait for its certificate (`init --request`): its key and the request for it.
#[derive(Debug)]
pub struct Requested {
    /// The request (PKCS#10, PEM) for the CA above to sign.
    pub csr_pem: String,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Where its key is.
    pub key: KeyLocation,
}

/// Makes a CA's key (in `ca.key` or on a token) and its certificate signing request (`ca.csr`), and nothing
/// that signs: the folder waits for the CA above to sign the request (`certkit-ca sign-ca`) and for `install`.
/// All or nothing, as `init`.
pub fn request(
    spec: &CaSpec,
    new_key: &NewCaKey<'_>,
    wait: &mut dyn FnMut(&Path),
) -> Result<Requested> {
    check_cn(&spec.cn)?;
    for url in spec.crl_url.iter().chain(&spec.aia_url) {
        check_crl_url(url)?;
    }
    check_can_init(&spec.dir)?;
    let dir = &spec.dir;
    in_new_folder(dir, wait, &mut |work, wait| {
        let _lock = lock_dir(work, wait)?;
        check_can_init(work)?;
        let (key, key_file, pkcs11, location) = match new_key {
            NewCaKey::File(password) => {
                let key = spec.key.generate()?;
                let pem = keys::encrypt_pem(&key, password)?;
                (
                    CaKey::File(key),
                    Some(pem),
                    None,
                    KeyLocation::file(dir.join(CA_KEY)),
                )
            }
            NewCaKey::Token { search, uri, pin } => {
                let token = token::open(search, uri)?;
                let (key, uri) = token.login(pin)?.generate(uri, spec.key)?;
                let record = TokenRecord {
                    uri: uri.to_string(),
                    module: Some(token.module.clone()),
                    origin: Some(KeyOrigin::MadeOnToken),
                };
                let location = KeyLocation::token(&record, &token);
                (CaKey::Token(key), None, Some(record), location)
            }
        };
        let result = (|| {
            let mut params = CertificateParams::default();
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, spec.cn.as_str());
            params.distinguished_name = dn;
            let csr = params
                .serialize_request(&key)
                .map_err(|e| key.explain(e, "signing the certificate request"))?;
            let csr_pem = csr
                .pem()
                .map_err(|e| Error::crypto("encoding the certificate request", e))?;
            let settings = CaSettings {
                crl_url: spec.crl_url.clone(),
                pkcs11: pkcs11.clone(),
                aia_url: spec.aia_url.clone(),
                parent: None,
                binding: None,
                earlier_keys: Vec::new(),
            };
            let mut set = NewFiles::new();
            if let Some(pem) = &key_file {
                set.add(work.join(CA_KEY), pem.as_bytes(), PRIVATE);
            }
            set.add(work.join(CA_SETTINGS), settings.to_file_bytes()?, PUBLIC);
            set.add(work.join(CA_REQUEST), csr_pem.as_bytes(), PUBLIC);
            let written = set.commit()?;
            place_if_staged(work, dir)?;
            Ok(Requested {
                csr_pem,
                files: written
                    .iter()
                    .filter_map(|p| p.file_name())
                    .map(|name| dir.join(name))
                    .collect(),
                key: location.clone(),
            })
        })();
        if result.is_err()
            && let CaKey::Token(token_key) = key
        {
            token_key.destroy();
        }
        result
    })
}

/// Installs the certificate the CA above signed into a folder made by `init --request`: the certificate must
/// be for the folder's key (its request's), a CA that may sign, valid now, and `chain` (the CA that signed it,
/// then those above, to a self-signed root) must verify it, as `openssl verify -x509_strict` does. Then the
/// folder gets `chain.pem` (the certificate and `chain`), its certificate, inventory and first checkpoint;
/// `ca.pem` last, which makes it a CA. Files an interrupted install left are written again.
pub fn install(
    dir: &Path,
    cert: &CertInfo,
    chain: &[CertInfo],
    secret: &Secret,
    module: Option<&Path>,
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    let _lock = lock_dir(dir, wait)?;
    if dir.join(CA_PEM).exists() {
        return Err(Error::BadInput(format!(
            "{} has its certificate already; install is for a folder made by certkit-ca init --request",
            dir.display()
        )));
    }
    let request_path = dir.join(CA_REQUEST);
    if !request_path.is_file() {
        return Err(Error::BadInput(format!(
            "{} waits for no certificate (it has no {CA_REQUEST}); make the folder with certkit-ca init --request",
            dir.display()
        )));
    }
    let request = crate::csr::read(&request_path)?;
    if rcgen::PublicKeyData::subject_public_key_info(&request.public_key) != cert.spki_der {
        return Err(Error::BadInput(format!(
            "the certificate {} is not for this CA's key (the key of {}): install the certificate signed from that request",
            cert.subject,
            request_path.display()
        )));
    }
    verify_chain(cert, chain)?;
    let mut settings = super::folder::read_settings(&dir.join(CA_SETTINGS))?.unwrap_or_default();
    let (key, key_origin) = match &settings.pkcs11 {
        None => {
            let path = dir.join(CA_KEY);
            (CaKey::File(keys::load_key(&path, secret)?), path)
        }
        Some(record) => {
            let uri = record.uri(&dir.join(CA_SETTINGS))?;
            let search = ModuleSearch::new(module, record.module.as_deref());
            let token = token::open(&search, &uri)?;
            let (key, _) = token.login(secret)?.existing(&uri, cert)?;
            (CaKey::Token(key), PathBuf::from(&record.uri))
        }
    };
    let location = match &settings.pkcs11 {
        None => KeyLocation::file(dir.join(CA_KEY)),
        Some(record) => {
            let uri = record.uri(&dir.join(CA_SETTINGS))?;
            let token = token::open(&ModuleSearch::new(module, record.module.as_deref()), &uri)?;
            KeyLocation::token(record, &token)
        }
    };
    // The key must be the certificate's, and the certificate a CA that may sign now.
    let signing = crate::signer::SigningCa::new(
        cert.clone(),
        key,
        settings.crl_url.clone(),
        &dir.join(CA_CER),
        &key_origin,
    )?;
    // What an interrupted install left (never a CA: ca.pem was not in place) is written again.
    for name in [
        CA_CER,
        CHAIN_PEM,
        INVENTORY,
        CHECKPOINT,
        super::index::INDEX,
    ] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        }
    }
    // ca.json names the parent; the first checkpoint signs it with the rest of the settings.
    let parent = super::settings::ParentRecord {
        subject: chain[0].subject.clone(),
        thumbprint: chain[0].thumbprint,
    };
    if settings.parent.as_ref() != Some(&parent) {
        settings.parent = Some(parent);
        files::replace(&dir.join(CA_SETTINGS), &settings.to_file_bytes()?, PUBLIC)?;
    }
    let mut pem = cert.pem();
    for above in chain {
        pem.push_str(&above.pem());
    }
    files::write_new(&dir.join(CHAIN_PEM), pem.as_bytes(), PUBLIC)?;
    // issued/ before ca.pem: once ca.pem is in place the folder is a CA and must be whole.
    if let Err(e) = std::fs::create_dir(dir.join(ISSUED_DIR))
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        return Err(Error::io("create folder", &dir.join(ISSUED_DIR), e));
    }
    files::sync_folders([dir.join(CHAIN_PEM).as_path()])?;
    let key_type = KeyType::of_spki_der(&cert.spki_der)?;
    write_folder(
        dir,
        dir,
        cert.clone(),
        signing.issuer().key(),
        key_type,
        None,
        &settings,
        location,
    )
}

/// Where the key of a folder made by `init --request` is (found without logging in).
pub fn waiting_key_location(dir: &Path) -> Result<KeyLocation> {
    let settings = super::folder::read_settings(&dir.join(CA_SETTINGS))?.unwrap_or_default();
    Ok(match &settings.pkcs11 {
        None => KeyLocation::file(dir.join(CA_KEY)),
        Some(record) => {
            let uri = record.uri(&dir.join(CA_SETTINGS))?;
            match token::open(&ModuleSearch::new(None, record.module.as_deref()), &uri) {
                Ok(token) => KeyLocation::token(record, &token),
                Err(e) => KeyLocation {
                    storage: "pkcs11",
                    file: None,
                    uri: Some(record.uri.clone()),
                    module: record.module.clone(),
                    module_origin: None,
                    token: None,
                    problem: Some(e.to_string()),
                    origin: record.origin,
                },
            }
        }
    })
}

/// What secret opens the key of a folder made by `init --request`: the key file's password, or the PIN of
/// the token its settings name.
pub fn waiting_secret_kind(dir: &Path) -> Result<crate::secret::SecretKind> {
    let settings = super::folder::read_settings(&dir.join(CA_SETTINGS))?.unwrap_or_default();
    Ok(match settings.pkcs11 {
        Some(_) => crate::secret::CA_PIN,
        None => crate::secret::CA_PASS,
    })
}

/// Checks that `chain` (the issuer of `cert`, then the CAs above it) verifies `cert` up to a self-signed root,
/// with the root as the only trust anchor and RFC 5280's strict rules (openssl's `-x509_strict`).
fn verify_chain(cert: &CertInfo, chain: &[CertInfo]) -> Result<()> {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::X509VerifyFlags;
    use openssl::x509::{X509, X509StoreContext};
    let Some(root) = chain.last() else {
        return Err(Error::BadInput(
            "give the chain of the CA above (--chain PARENT.cer, up to the root)".into(),
        ));
    };
    if root.issuer != root.subject || !root.is_signed_by(root)? {
        return Err(Error::BadInput(format!(
            "the chain ends with {}, which is not a self-signed root: give every CA up to the root with --chain",
            root.subject
        )));
    }
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(X509::from_der(&root.der)?)?;
    store.set_flags(X509VerifyFlags::X509_STRICT)?;
    let store = store.build();
    let mut untrusted = Stack::new()?;
    for above in &chain[..chain.len() - 1] {
        untrusted.push(X509::from_der(&above.der)?)?;
    }
    let leaf = X509::from_der(&cert.der)?;
    let mut context = X509StoreContext::new()?;
    let (ok, why) = context.init(&store, &leaf, &untrusted, |c| {
        let ok = c.verify_cert()?;
        Ok((ok, c.error().error_string().to_string()))
    })?;
    if !ok {
        return Err(Error::BadInput(format!(
            "the chain does not verify {} ({why}); give the certificate of the CA that signed it, and those above, with --chain",
            cert.subject
        )));
    }
    Ok(())
}

/// Names of the folders `init` builds a new CA in before moving it into place start with this.
const STAGING_PREFIX: &str = ".certkit-init-";

/// Makes the CA's key and files in `work` (the CA folder, or the staging folder of a new one, which is moved
/// into place last). A token key made here is destroyed again if anything after it fails.
fn init_in(
    spec: &CaSpec,
    new_key: &NewCaKey<'_>,
    validity: Validity,
    work: &Path,
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    let dir = &spec.dir;
    let _lock = lock_dir(work, wait)?;
    check_can_init(work)?;
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
                origin: Some(KeyOrigin::MadeOnToken),
            };
            let location = KeyLocation::token(&record, &token);
            (CaKey::Token(key), None, Some((record, uri)), location)
        }
    };
    let result = init_files(spec, validity, work, &key, key_file, pkcs11, location)
        .and_then(|created| place_if_staged(work, dir).map(|()| created));
    if result.is_err()
        && let CaKey::Token(key) = key
    {
        key.destroy();
    }
    result
}

/// Moves `work`, when it is a staging folder, into place at `dir`.
fn place_if_staged(work: &Path, dir: &Path) -> Result<()> {
    if work == dir {
        Ok(())
    } else {
        place_folder(work, dir)
    }
}

/// Moves the complete staging folder `work` to `dir`, unless something appeared at `dir` meanwhile (another
/// `init`): then nothing is replaced and the error says what is there.
fn place_folder(work: &Path, dir: &Path) -> Result<()> {
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    match renameat2(AT_FDCWD, work, AT_FDCWD, dir, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => files::sync_folders([dir]),
        Err(nix::errno::Errno::EEXIST) => {
            check_can_init(dir)?;
            Err(Error::BadInput(format!(
                "{} was created by another process while this CA was being made; nothing was changed: run init again",
                dir.display()
            )))
        }
        Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {
            Err(Error::BadInput(format!(
                "the file system of {} cannot move a new folder into place without the risk of replacing another; create the folder first (mkdir {}) and run init again",
                dir.display(),
                dir.display()
            )))
        }
        Err(e) => Err(Error::io("create folder", dir, e.into())),
    }
}

/// Signs the CA certificate and the first checkpoint with `key` and writes the folder's files.
fn init_files(
    spec: &CaSpec,
    validity: Validity,
    work: &Path,
    key: &CaKey,
    key_file: Option<zeroize::Zeroizing<String>>,
    pkcs11: Option<(TokenRecord, TokenUri)>,
    location: KeyLocation,
) -> Result<Created> {
    let dir = &spec.dir;
    let info = self_signed_ca(spec, validity, key)?;
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
        aia_url: spec.aia_url.clone(),
        parent: None,
        binding: None,
        earlier_keys: Vec::new(),
    };
    write_folder(
        dir, work, info, key, spec.key, key_file, &settings, location,
    )
}

/// The self-signed certificate of the CA `spec` describes, signed by `key`.
pub fn self_signed_ca(spec: &CaSpec, validity: Validity, key: &CaKey) -> Result<CertInfo> {
    let mut params = ca_params(&spec.cn, spec.pathlen, validity, &spec.constraints)?;
    params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(crate::keys::subject_key_id(
        &rcgen::PublicKeyData::subject_public_key_info(key),
    )?);
    let cert = params
        .self_signed(key)
        .map_err(|e| key.explain(e, "self-signing the CA certificate"))?;
    CertInfo::from_der(cert.der(), &spec.dir.join(CA_CER))
}

/// The certificate parameters of a CA named `cn`: critical basicConstraints CA:TRUE with `pathlen`, critical
/// keyCertSign + cRLSign, a random serial, `validity`, and its name constraints (critical) when it has any.
pub fn ca_params(
    cn: &str,
    pathlen: u8,
    validity: Validity,
    constraints: &NameConstraints,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(pathlen));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(Serial::random()?.to_rcgen());
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    if !constraints.is_empty() {
        params.name_constraints = Some(constraints.to_rcgen());
    }
    Ok(params)
}

/// Signs the first checkpoint with `key` and writes the folder's files for the CA certificate `info`.
#[allow(clippy::too_many_arguments)]
fn write_folder(
    dir: &Path,
    work: &Path,
    info: CertInfo,
    key: &CaKey,
    key_type: KeyType,
    key_file: Option<zeroize::Zeroizing<String>>,
    settings: &CaSettings,
    location: KeyLocation,
) -> Result<Created> {
    // The empty inventory's first checkpoint: nothing signed yet, bound to this CA, with its settings.
    let checkpoint = Checkpoint::sign(
        &|m| key.sign_message(m, "signing the first checkpoint"),
        key_type,
        &Coverage {
            head: &inventory::ca_binding(&info.der),
            count: 0,
            bytes: 0,
            settings,
            state: &CoveredState::of(&inventory::Log::default(), 0),
        },
    )?;
    let mut set = NewFiles::new();
    if let Some(pem) = &key_file {
        set.add(work.join(CA_KEY), pem.as_bytes(), PRIVATE);
    }
    set.add(work.join(CA_CER), info.der.clone(), PUBLIC);
    // An installed CA's settings are in place already (`init --request` wrote them).
    if !work.join(CA_SETTINGS).exists() {
        set.add(work.join(CA_SETTINGS), settings.to_file_bytes()?, PUBLIC);
    }
    set.add(work.join(INVENTORY), Vec::new(), PUBLIC);
    set.add(work.join(CHECKPOINT), checkpoint.to_bytes()?, PUBLIC);
    // Last: a folder is a CA once ca.pem is in place (`install` relies on it).
    set.add(work.join(CA_PEM), info.pem(), PUBLIC);
    let written = set.commit()?;
    if let Err(e) = std::fs::create_dir(work.join(ISSUED_DIR))
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        files::remove_all(&written);
        return Err(Error::io("create folder", &work.join(ISSUED_DIR), e));
    }
    // The index starts with the log, so that the first command has nothing to build.
    let index = super::index::Index::open(
        &work.join(super::index::INDEX),
        &work.join(INVENTORY),
        &inventory::ca_binding(&info.der),
    );
    if let Err(e) = index {
        files::remove_all(&written);
        let _ = std::fs::remove_file(work.join(super::index::INDEX));
        return Err(e);
    }
    // Named where they will be once the folder is in place.
    let files = written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|name| dir.join(name))
        .collect();
    Ok(Created {
        cert: info,
        files,
        key: location,
    })
}
