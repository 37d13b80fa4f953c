//! An issuing CA made in two steps: its key and request (`init --request`), then the certificate its parent
//! signed (`install`), checked to chain up to a self-signed root and to match the key.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType};

use super::checkpoint::CHECKPOINT;
use super::create::{
    CaSpec, Created, NewCaKey, check_can_init, in_new_folder, place_if_staged, write_folder,
};
use super::folder::lock_dir;
use super::layout::*;
use super::settings::{CaSettings, KeyLocation, KeyOrigin, TokenRecord};
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files::{self, NewFiles, PRIVATE, PUBLIC};
use crate::keys::{self, KeyType};
use crate::naming::{check_cn, check_crl_url};
use crate::secret::Secret;
use crate::signer::CaKey;
use crate::token::{self, ModuleSearch};

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
    if let Some(url) = &spec.ocsp_url {
        crate::naming::check_ocsp_url(url)?;
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
                ocsp_url: spec.ocsp_url.clone(),
                parent: None,
                binding: None,
                earlier_keys: Vec::new(),
                profiles: Default::default(),
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
        None,
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
