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
use super::log_append;
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
    /// Its OCSP responder (authorityInfoAccess id-ad-ocsp in what it signs).
    pub ocsp_url: Option<String>,
    /// The names the certificates under it may have (none: any).
    pub constraints: NameConstraints,
    /// Its own certificate policies (`--policy`, `--cps`).
    pub policies: Vec<crate::profile_file::Policy>,
}

impl CaSpec {
    /// Checks everything that needs no password: the name, the URL, the dates and the folder.
    pub fn validate(&self) -> Result<Validity> {
        check_cn(&self.cn)?;
        for url in self.crl_url.iter().chain(&self.aia_url) {
            check_crl_url(url)?;
        }
        if let Some(url) = &self.ocsp_url {
            crate::naming::check_ocsp_url(url)?;
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
pub(super) fn in_new_folder<T>(
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
                ocsp_url: restored.ocsp_url.clone(),
                parent: restored.parent.clone(),
                binding: None,
                earlier_keys: Vec::new(),
                profiles: Default::default(),
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
                None,
            )?;
            log_append::append(
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

/// Names of the folders `init` builds a new CA in before moving it into place start with this.
const STAGING_PREFIX: &str = ".certkit-init-";

/// Makes the CA's key and files in `work` (the CA folder, or the staging folder of a new one, which is moved
/// into place last). A token key made here is destroyed again if anything after it fails.
pub(super) fn init_in(
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
pub(super) fn place_if_staged(work: &Path, dir: &Path) -> Result<()> {
    if work == dir {
        Ok(())
    } else {
        place_folder(work, dir)
    }
}

/// Moves a complete new folder `work` (made beside `dir`) to `dir`, never over anything that is there.
pub fn place_new_folder(work: &Path, dir: &Path) -> Result<()> {
    place_folder(work, dir)
}

/// Moves the complete staging folder `work` to `dir`, unless something appeared at `dir` meanwhile (another
/// `init`): then nothing is replaced and the error says what is there.
pub(super) fn place_folder(work: &Path, dir: &Path) -> Result<()> {
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
pub(super) fn init_files(
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
        ocsp_url: spec.ocsp_url.clone(),
        parent: None,
        binding: None,
        earlier_keys: Vec::new(),
        profiles: Default::default(),
    };
    write_folder(
        dir, work, info, key, spec.key, key_file, &settings, location, None,
    )
}

/// The self-signed certificate of the CA `spec` describes, signed by `key`.
pub fn self_signed_ca(spec: &CaSpec, validity: Validity, key: &CaKey) -> Result<CertInfo> {
    let mut params = ca_params(
        &spec.cn,
        spec.pathlen,
        validity,
        &spec.constraints,
        &spec.policies,
    )?;
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
    policies: &[crate::profile_file::Policy],
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
    if !policies.is_empty() {
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                crate::profile_file::CERTIFICATE_POLICIES_OID,
                crate::profile_file::Policy::extension_value(policies)?,
            ));
    }
    Ok(params)
}

/// The log a new CA folder starts with (`import`): its text, chained to the CA, and what it holds.
pub(super) struct StartingLog<'a> {
    /// The inventory's text.
    pub text: &'a str,
    /// Its last line's hash.
    pub head: &'a str,
    /// Its lines.
    pub count: usize,
    /// Its revocations and undelivered certificates.
    pub state: &'a CoveredState,
}

/// Signs the first checkpoint with `key` and writes the folder's files for the CA certificate `info`: an empty
/// inventory, or the one `start` gives, which the checkpoint covers. `ca.pem` is written last: the folder is a CA
/// only once everything else is in place.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_folder(
    dir: &Path,
    work: &Path,
    info: CertInfo,
    key: &CaKey,
    key_type: KeyType,
    key_file: Option<zeroize::Zeroizing<String>>,
    settings: &CaSettings,
    location: KeyLocation,
    start: Option<&StartingLog<'_>>,
) -> Result<Created> {
    let binding = inventory::ca_binding(&info.der);
    let empty = CoveredState::of(&inventory::Log::default(), 0);
    let (text, head, count, state) = match start {
        Some(s) => (s.text, s.head, s.count, s.state),
        None => ("", binding.as_str(), 0, &empty),
    };
    // The first checkpoint: bound to this CA, with its settings, over the log it starts with (none signed yet).
    let checkpoint = Checkpoint::sign(
        &|m| key.sign_message(m, "signing the first checkpoint"),
        key_type,
        &Coverage {
            head,
            count,
            bytes: text.len() as u64,
            settings,
            state,
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
    set.add(work.join(INVENTORY), text.as_bytes().to_vec(), PUBLIC);
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
