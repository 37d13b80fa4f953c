//! The CA key on a PKCS#11 token (docs/pkcs11.md): finding the module and the token, logging in once, making
//! or importing the key as sensitive and never extractable, and signing with it through rcgen's
//! [`SigningKey`] trait. The key never leaves the token; only the PIN, read like a password, reaches it.

pub mod uri;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType as CkKeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};
use serde::Serialize;
use zeroize::Zeroizing;

pub use uri::{TokenUri, UriError};

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::secret::Secret;

/// The environment variable that names the PKCS#11 module when `--pkcs11-module` is not given.
pub const MODULE_ENV: &str = "CERTKIT_PKCS11_MODULE";

/// Where certkit looks for a module when none is named or recorded: SoftHSM2, OpenSC (smart cards and most
/// USB tokens) and Yubico's ykcs11, as Debian, Fedora and Homebrew install them.
pub const WELL_KNOWN_MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
    "/usr/local/lib/opensc-pkcs11.so",
    "/opt/homebrew/lib/opensc-pkcs11.so",
    "/usr/lib/x86_64-linux-gnu/libykcs11.so",
    "/usr/lib/aarch64-linux-gnu/libykcs11.so",
    "/usr/lib64/libykcs11.so",
    "/usr/local/lib/libykcs11.so",
    "/opt/homebrew/lib/libykcs11.dylib",
];

/// Why certkit chose the module it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleOrigin {
    /// `--pkcs11-module`.
    Flag,
    /// [`MODULE_ENV`].
    Environment,
    /// The URI's `module-path`.
    Uri,
    /// Recorded in the CA folder at init.
    Recorded,
    /// Found among [`WELL_KNOWN_MODULES`].
    WellKnown,
}

impl ModuleOrigin {
    /// How `show` says it.
    pub fn describe(self) -> &'static str {
        match self {
            ModuleOrigin::Flag => "given with --pkcs11-module",
            ModuleOrigin::Environment => "from CERTKIT_PKCS11_MODULE",
            ModuleOrigin::Uri => "from the URI's module-path",
            ModuleOrigin::Recorded => "recorded at init",
            ModuleOrigin::WellKnown => "found in a well-known place",
        }
    }
}

/// The places to find the module, in the order they are tried: the flag, the environment, the URI, the
/// record, the well-known paths. The first three are a choice: if the module named there fails, that is the
/// error. The record and the well-known paths are a search for the module that has the token.
#[derive(Clone, Debug, Default)]
pub struct ModuleSearch {
    /// `--pkcs11-module`.
    pub flag: Option<PathBuf>,
    /// The value of [`MODULE_ENV`].
    pub env: Option<PathBuf>,
    /// The module recorded in the CA folder.
    pub recorded: Option<PathBuf>,
}

impl ModuleSearch {
    /// A search with the flag given (if any), [`MODULE_ENV`] as set now, and the recorded module (if any).
    pub fn new(flag: Option<&Path>, recorded: Option<&Path>) -> Self {
        ModuleSearch {
            flag: flag.map(Path::to_path_buf),
            env: std::env::var_os(MODULE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            recorded: recorded.map(Path::to_path_buf),
        }
    }

    /// The module the user named (the flag, else the environment variable), which is used before anything a
    /// CA folder records.
    pub fn user_choice(&self) -> Option<&Path> {
        self.flag.as_deref().or(self.env.as_deref())
    }
}

/// A token's identity, as its module reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The token's label.
    pub label: String,
    /// The token's serial number.
    pub serial: String,
    /// The token's manufacturer.
    pub manufacturer: String,
    /// The token's model.
    pub model: String,
}

/// A token found through its module, not yet logged in.
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    /// The module's path.
    pub module: PathBuf,
    /// Why that module.
    pub origin: ModuleOrigin,
    /// Which token.
    pub info: TokenInfo,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A one-line message for a PKCS#11 failure while doing `doing`.
fn failed(doing: &str, err: CkError) -> Error {
    let detail = match &err {
        CkError::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect => {
                return Error::Token(
                    "the token refused the PIN; check it (--ca-pass or --pin) and try again. certkit never retries: tokens lock after a few wrong PINs".into(),
                );
            }
            RvError::PinLocked => {
                return Error::Token(
                    "the token's user PIN is locked after too many wrong tries; unlock it with the SO PIN (e.g. pkcs11-tool --init-pin --login --login-type so)".into(),
                );
            }
            RvError::PinExpired => {
                return Error::Token(
                    "the token's user PIN has expired; set a new one with the token's tools (e.g. pkcs11-tool --change-pin)".into(),
                );
            }
            RvError::UserPinNotInitialized => {
                return Error::Token(
                    "the token has no user PIN yet; initialise it (e.g. softhsm2-util --init-token, or pkcs11-tool --init-pin)".into(),
                );
            }
            RvError::TokenNotPresent | RvError::DeviceRemoved => {
                return Error::Token(
                    "the token was removed; plug it in and run the command again".into(),
                );
            }
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    };
    Error::Token(format!("PKCS#11: {doing} failed ({detail})"))
}

fn trimmed(text: &str) -> String {
    text.trim_end_matches([' ', '\0']).to_string()
}

/// Loads `module` and returns the token in it that `uri` names: `Ok(None)` when the module has no such token.
fn find_in(module: &Path, origin: ModuleOrigin, uri: &TokenUri) -> Result<Option<Token>> {
    if !module.is_file() {
        return Err(Error::Token(format!(
            "PKCS#11 module {} not found; give the module's path with --pkcs11-module or {MODULE_ENV}",
            module.display()
        )));
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        Error::Token(format!(
            "cannot load the PKCS#11 module {} ({e}); give a module built for this machine with --pkcs11-module",
            module.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(&format!("initialising {}", module.display()), e)),
    }
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| failed("listing the tokens", e))?;
    let mut found = Vec::new();
    for slot in slots {
        let Ok(token) = ctx.get_token_info(slot) else {
            continue;
        };
        let info = TokenInfo {
            label: trimmed(token.label()),
            serial: trimmed(token.serial_number()),
            manufacturer: trimmed(token.manufacturer_id()),
            model: trimmed(token.model()),
        };
        let matches =
            |wanted: &Option<String>, have: &str| wanted.as_deref().is_none_or(|w| w == have);
        if matches(&uri.token, &info.label)
            && matches(&uri.serial, &info.serial)
            && matches(&uri.manufacturer, &info.manufacturer)
            && matches(&uri.model, &info.model)
        {
            found.push((slot, info));
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => {
            let (slot, info) = found.remove(0);
            Ok(Some(Token {
                ctx,
                slot,
                module: module.to_path_buf(),
                origin,
                info,
            }))
        }
        _ => Err(Error::Token(format!(
            "several tokens in {} match {uri}: {}; add serial= to the URI",
            module.display(),
            found
                .iter()
                .map(|(_, i)| format!("'{}' (serial {})", i.label, i.serial))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn tokens_named(uri: &TokenUri) -> String {
    match &uri.token {
        Some(label) => format!("no token labelled '{label}'"),
        None => "no token".into(),
    }
}

/// Finds the module and the token that `uri` names (see [`ModuleSearch`]).
pub fn open(search: &ModuleSearch, uri: &TokenUri) -> Result<Token> {
    let chosen = [
        (search.flag.as_ref(), ModuleOrigin::Flag),
        (search.env.as_ref(), ModuleOrigin::Environment),
        (uri.module_path.as_ref(), ModuleOrigin::Uri),
    ];
    if let Some((Some(module), origin)) = chosen.into_iter().find(|(m, _)| m.is_some()) {
        return find_in(module, origin, uri)?.ok_or_else(|| {
            Error::Token(format!(
                "{} in the PKCS#11 module {} ({}); check the URI, or list the tokens with pkcs11-tool --module {} --list-token-slots",
                tokens_named(uri),
                module.display(),
                origin.describe(),
                module.display()
            ))
        });
    }
    let mut tried = Vec::new();
    let recorded = search
        .recorded
        .iter()
        .filter(|m| m.is_file())
        .map(|m| (m.as_path(), ModuleOrigin::Recorded));
    let known = WELL_KNOWN_MODULES
        .iter()
        .map(Path::new)
        .filter(|m| m.is_file())
        .map(|m| (m, ModuleOrigin::WellKnown));
    for (module, origin) in recorded.chain(known) {
        match find_in(module, origin, uri) {
            Ok(Some(token)) => return Ok(token),
            Ok(None) | Err(Error::Token(_)) => tried.push(module.display().to_string()),
            Err(other) => return Err(other),
        }
    }
    let looked = if tried.is_empty() {
        "no PKCS#11 module is installed in a well-known place".to_string()
    } else {
        format!("looked in {}", tried.join(", "))
    };
    Err(Error::Token(format!(
        "{} found ({looked}); give the module with --pkcs11-module PATH or {MODULE_ENV}",
        tokens_named(uri)
    )))
}

/// The DER of a named curve's OID, as CKA_EC_PARAMS holds it.
fn ec_params(key_type: KeyType) -> Option<&'static [u8]> {
    match key_type {
        KeyType::P256 => Some(&[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
        KeyType::P384 => Some(&[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]),
        _ => None,
    }
}

fn rsa_bits(key_type: KeyType) -> Option<u64> {
    match key_type {
        KeyType::Rsa2048 => Some(2048),
        KeyType::Rsa3072 => Some(3072),
        KeyType::Rsa4096 => Some(4096),
        _ => None,
    }
}

impl Token {
    /// Opens a session and logs the user in with `pin` (once: a wrong PIN is never retried).
    pub fn login(&self, pin: &Secret) -> Result<LoggedIn> {
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| failed("opening a session", e))?;
        let pin = AuthPin::from(pin.expose());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(failed("logging in", e)),
        }
        Ok(LoggedIn {
            session,
            info: self.info.clone(),
            mechanisms: self
                .ctx
                .get_mechanism_list(self.slot)
                .map_err(|e| failed("listing the token's mechanisms", e))?,
            ctx: self.ctx.clone(),
            slot: self.slot,
        })
    }
}

/// A logged-in session on a token.
pub struct LoggedIn {
    session: Session,
    info: TokenInfo,
    mechanisms: Vec<MechanismType>,
    ctx: Pkcs11,
    slot: Slot,
}

/// What a key object on the token says about itself (as `pkcs11-tool --list-objects` shows it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyProtection {
    /// CKA_SENSITIVE.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE.
    pub extractable: bool,
}

impl LoggedIn {
    fn private_keys(&self, uri: &TokenUri) -> Result<Vec<ObjectHandle>> {
        let mut template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(uri.object.as_bytes().to_vec()),
        ];
        if let Some(id) = &uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        self.session
            .find_objects(&template)
            .map_err(|e| failed("searching the token", e))
    }

    /// Fails if the token holds a private key that `uri` names already.
    pub fn check_free(&self, uri: &TokenUri) -> Result<()> {
        if self.private_keys(uri)?.is_empty() {
            Ok(())
        } else {
            Err(Error::Token(format!(
                "the token '{}' holds a key labelled '{}' already; choose another object= name (certkit never reuses or deletes a token key)",
                self.info.label, uri.object
            )))
        }
    }

    fn require(&self, mechanism: MechanismType, what: &str) -> Result<()> {
        if self.mechanisms.contains(&mechanism) {
            Ok(())
        } else {
            Err(Error::Token(format!(
                "the token '{}' cannot {what}; choose another --key type or another token",
                self.info.label
            )))
        }
    }

    fn check_rsa_size(&self, mechanism: MechanismType, bits: u64, key_type: KeyType) -> Result<()> {
        let info = self
            .ctx
            .get_mechanism_info(self.slot, mechanism)
            .map_err(|e| failed("reading the token's RSA key sizes", e))?;
        let (min, max) = (info.min_key_size() as u64, info.max_key_size() as u64);
        // Some modules report sizes in bytes, not bits; only a plain bit range is checked.
        if max >= 1024 && !(min..=max).contains(&bits) {
            return Err(Error::Token(format!(
                "the token '{}' cannot make {} keys (its RSA keys are {min} to {max} bits); choose another --key type",
                self.info.label,
                key_type.name()
            )));
        }
        Ok(())
    }

    /// The attributes every CA key object gets: on the token, private, labelled and identified as `uri` says.
    fn common(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Label(uri.object.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ]
    }

    fn private_template(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
        let mut attributes = Self::common(uri, id);
        attributes.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            // A CA key signs and does nothing else.
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ]);
        attributes
    }

    fn public_template(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
        let mut attributes = Self::common(uri, id);
        attributes.extend([
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::Derive(false),
        ]);
        attributes
    }

    /// Makes a key pair on the token: the private key sensitive and never extractable. Returns the key, and
    /// the URI with the key's id.
    pub fn generate(self, uri: &TokenUri, key_type: KeyType) -> Result<(TokenKey, TokenUri)> {
        self.check_free(uri)?;
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => {
                let mut id = vec![0u8; 8];
                openssl::rand::rand_bytes(&mut id)?;
                id
            }
        };
        let mut public = Self::public_template(uri, &id);
        let private = Self::private_template(uri, &id);
        let mechanism = if let Some(bits) = rsa_bits(key_type) {
            self.require(MechanismType::RSA_PKCS_KEY_PAIR_GEN, "make RSA keys")?;
            self.require(MechanismType::SHA256_RSA_PKCS, "sign with RSA and SHA-256")?;
            self.check_rsa_size(MechanismType::RSA_PKCS_KEY_PAIR_GEN, bits, key_type)?;
            public.push(Attribute::ModulusBits(bits.into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
            Mechanism::RsaPkcsKeyPairGen
        } else {
            self.require(MechanismType::ECC_KEY_PAIR_GEN, "make EC keys")?;
            self.require(MechanismType::ECDSA, "sign with ECDSA")?;
            public.push(Attribute::EcParams(
                ec_params(key_type)
                    .ok_or(Error::Bug("an EC key type without a curve"))?
                    .to_vec(),
            ));
            Mechanism::EccKeyPairGen
        };
        let (public_handle, private_handle) = self
            .session
            .generate_key_pair(&mechanism, &public, &private)
            .map_err(|e| match e {
                CkError::Pkcs11(
                    RvError::AttributeValueInvalid | RvError::TemplateInconsistent,
                    _,
                ) => Error::Token(format!(
                    "the token '{}' cannot make a {} key; choose another --key type",
                    self.info.label,
                    key_type.name()
                )),
                other => failed("making the key pair on the token", other),
            })?;
        let spki = match self.public_spki(public_handle, key_type) {
            Ok(spki) => spki,
            Err(e) => {
                let _ = self.session.destroy_object(private_handle);
                let _ = self.session.destroy_object(public_handle);
                return Err(e);
            }
        };
        let uri = TokenUri {
            id: Some(id),
            ..uri.clone()
        };
        let key = TokenKey::new(self, private_handle, key_type, spki, vec![public_handle])?;
        Ok((key, uri))
    }

    /// The SubjectPublicKeyInfo of a public key object.
    fn public_spki(&self, handle: ObjectHandle, key_type: KeyType) -> Result<Vec<u8>> {
        let read = |types: &[AttributeType]| {
            self.session
                .get_attributes(handle, types)
                .map_err(|e| failed("reading the new public key", e))
        };
        let key: PKey<Public> = if rsa_bits(key_type).is_some() {
            let (mut n, mut e) = (None, None);
            for attribute in read(&[AttributeType::Modulus, AttributeType::PublicExponent])? {
                match attribute {
                    Attribute::Modulus(v) => n = Some(BigNum::from_slice(&v)?),
                    Attribute::PublicExponent(v) => e = Some(BigNum::from_slice(&v)?),
                    _ => {}
                }
            }
            let (Some(n), Some(e)) = (n, e) else {
                return Err(Error::Token(
                    "the token did not give the new RSA public key".into(),
                ));
            };
            PKey::from_rsa(Rsa::from_public_components(n, e)?)?
        } else {
            let point = read(&[AttributeType::EcPoint])?
                .into_iter()
                .find_map(|a| match a {
                    Attribute::EcPoint(v) => Some(v),
                    _ => None,
                })
                .ok_or_else(|| {
                    Error::Token("the token did not give the new EC public key".into())
                })?;
            // CKA_EC_POINT is a DER OCTET STRING holding the point; some tokens give the bare point.
            let bare = match crate::ber::read(&point) {
                Ok((wrapped, rest))
                    if rest.is_empty()
                        && wrapped.tag == crate::ber::tag::OCTET_STRING
                        && wrapped.content.first() == Some(&0x04) =>
                {
                    wrapped.content.to_vec()
                }
                _ => point,
            };
            let group = EcGroup::from_curve_name(curve(key_type)?)?;
            let mut ctx = BigNumContext::new()?;
            let point = EcPoint::from_bytes(&group, &bare, &mut ctx)?;
            PKey::from_ec_key(EcKey::from_public_key(&group, &point)?)?
        };
        Ok(key.public_key_to_der()?)
    }

    /// Imports a private key (PKCS#8 DER) as sensitive and never extractable, with its public key and the CA
    /// certificate beside it, under the URI's label. Returns the key, and the URI with the key's id.
    pub fn import(
        self,
        uri: &TokenUri,
        pkcs8: &[u8],
        cert: &CertInfo,
    ) -> Result<(TokenKey, TokenUri)> {
        self.check_free(uri)?;
        let key_type = KeyType::of_spki_der(&cert.spki_der)?;
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => cert
                .subject_key_id
                .clone()
                .filter(|ski| !ski.is_empty())
                .unwrap_or_else(|| openssl::sha::sha1(&cert.spki_der).to_vec()),
        };
        let key: PKey<Private> = PKey::private_key_from_pkcs8(pkcs8)?;
        let mut private = Self::private_template(uri, &id);
        let mut public = Self::public_template(uri, &id);
        public.push(Attribute::Class(ObjectClass::PUBLIC_KEY));
        private.push(Attribute::Class(ObjectClass::PRIVATE_KEY));
        // The key's parts are copied into the template and the copies dropped right after the call.
        let secret = |bn: &openssl::bn::BigNumRef| Zeroizing::new(bn.to_vec());
        if let Ok(rsa) = key.rsa() {
            self.require(MechanismType::SHA256_RSA_PKCS, "sign with RSA and SHA-256")?;
            let parts = [
                rsa.d(),
                rsa.p().ok_or(Error::Bug("an RSA key without its primes"))?,
                rsa.q().ok_or(Error::Bug("an RSA key without its primes"))?,
                rsa.dmp1()
                    .ok_or(Error::Bug("an RSA key without its CRT parts"))?,
                rsa.dmq1()
                    .ok_or(Error::Bug("an RSA key without its CRT parts"))?,
                rsa.iqmp()
                    .ok_or(Error::Bug("an RSA key without its CRT parts"))?,
            ]
            .map(secret);
            private.extend([
                Attribute::KeyType(CkKeyType::RSA),
                Attribute::Modulus(rsa.n().to_vec()),
                Attribute::PublicExponent(rsa.e().to_vec()),
                Attribute::PrivateExponent(parts[0].to_vec()),
                Attribute::Prime1(parts[1].to_vec()),
                Attribute::Prime2(parts[2].to_vec()),
                Attribute::Exponent1(parts[3].to_vec()),
                Attribute::Exponent2(parts[4].to_vec()),
                Attribute::Coefficient(parts[5].to_vec()),
            ]);
            public.extend([
                Attribute::KeyType(CkKeyType::RSA),
                Attribute::Modulus(rsa.n().to_vec()),
                Attribute::PublicExponent(rsa.e().to_vec()),
            ]);
        } else {
            let ec = key.ec_key()?;
            self.require(MechanismType::ECDSA, "sign with ECDSA")?;
            let params = ec_params(key_type)
                .ok_or(Error::Bug("an EC key of a curve certkit does not make"))?
                .to_vec();
            let size = if key_type == KeyType::P256 { 32 } else { 48 };
            let scalar = Zeroizing::new(ec.private_key().to_vec_padded(size)?);
            let mut ctx = BigNumContext::new()?;
            let point = ec.public_key().to_bytes(
                ec.group(),
                PointConversionForm::UNCOMPRESSED,
                &mut ctx,
            )?;
            let mut wrapped = vec![
                0x04,
                u8::try_from(point.len()).map_err(|_| Error::Bug("an EC point too long"))?,
            ];
            wrapped.extend_from_slice(&point);
            private.extend([
                Attribute::KeyType(CkKeyType::EC),
                Attribute::EcParams(params.clone()),
                Attribute::Value(scalar.to_vec()),
            ]);
            public.extend([
                Attribute::KeyType(CkKeyType::EC),
                Attribute::EcParams(params),
                Attribute::EcPoint(wrapped),
            ]);
        }
        let private_handle = self
            .session
            .create_object(&private)
            .map_err(|e| failed("importing the key into the token", e))?;
        drop(private);
        let mut made = Vec::new();
        for template in [public, Self::cert_template(uri, &id, cert)?] {
            match self.session.create_object(&template) {
                Ok(handle) => made.push(handle),
                Err(e) => {
                    let _ = self.session.destroy_object(private_handle);
                    for handle in made {
                        let _ = self.session.destroy_object(handle);
                    }
                    return Err(failed(
                        "storing the public key and certificate on the token",
                        e,
                    ));
                }
            }
        }
        let uri = TokenUri {
            id: Some(id),
            ..uri.clone()
        };
        let key = TokenKey::new(self, private_handle, key_type, cert.spki_der.clone(), made)?;
        Ok((key, uri))
    }

    fn cert_template(uri: &TokenUri, id: &[u8], cert: &CertInfo) -> Result<Vec<Attribute>> {
        let subject = openssl::x509::X509::from_der(&cert.der)?
            .subject_name()
            .to_der()?;
        let mut template = Self::common(uri, id);
        template.extend([
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Private(false),
            Attribute::Subject(subject),
            Attribute::Value(cert.der.clone()),
        ]);
        Ok(template)
    }

    /// Whether the token holds a private key that `uri` names.
    pub fn has_key(&self, uri: &TokenUri) -> Result<bool> {
        Ok(!self.private_keys(uri)?.is_empty())
    }

    /// The CA key `uri` names, checked to belong to `cert` by a test signature; with the URI completed by the
    /// key's id.
    pub fn existing(self, uri: &TokenUri, cert: &CertInfo) -> Result<(TokenKey, TokenUri)> {
        let mut keys = self.private_keys(uri)?;
        let handle = match keys.len() {
            0 => {
                return Err(Error::Token(format!(
                    "the token '{}' holds no key {uri}; check the token is the CA's (the key may have been deleted: a token key has no copy)",
                    self.info.label
                )));
            }
            1 => keys.remove(0),
            _ => {
                return Err(Error::Token(format!(
                    "the token '{}' holds several keys labelled '{}'; add id= to the URI in ca.json",
                    self.info.label, uri.object
                )));
            }
        };
        let id = self
            .session
            .get_attributes(handle, &[AttributeType::Id])
            .map_err(|e| failed("reading the key's id", e))?
            .into_iter()
            .find_map(|a| match a {
                Attribute::Id(id) if !id.is_empty() => Some(id),
                _ => None,
            });
        let uri = TokenUri {
            id: id.or_else(|| uri.id.clone()),
            ..uri.clone()
        };
        let key_type = KeyType::of_spki_der(&cert.spki_der)?;
        let key = TokenKey::new(self, handle, key_type, cert.spki_der.clone(), Vec::new())?;
        key.check_belongs_to(cert)?;
        Ok((key, uri))
    }
}

fn curve(key_type: KeyType) -> Result<Nid> {
    match key_type {
        KeyType::P256 => Ok(Nid::X9_62_PRIME256V1),
        KeyType::P384 => Ok(Nid::SECP384R1),
        _ => Err(Error::Bug("an EC curve asked of an RSA key type")),
    }
}

/// A CA private key on a token: rcgen signs certificates, CRLs and checkpoints with it through
/// [`SigningKey`]. One session, logged in once, serves every signature; threads take turns.
pub struct TokenKey {
    session: Mutex<LoggedIn>,
    handle: ObjectHandle,
    key_type: KeyType,
    spki: Vec<u8>,
    /// The public key as rcgen wants it: PKCS#1 RSAPublicKey or the EC point.
    public: Vec<u8>,
    /// Objects made with the key (public key, certificate), removed with it by [`TokenKey::destroy`].
    companions: Mutex<Vec<ObjectHandle>>,
    /// The reason of the last failed signature (rcgen's error type cannot carry it).
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    fn new(
        session: LoggedIn,
        handle: ObjectHandle,
        key_type: KeyType,
        spki: Vec<u8>,
        companions: Vec<ObjectHandle>,
    ) -> Result<Self> {
        let key = PKey::public_key_from_der(&spki)?;
        let public = if let Ok(rsa) = key.rsa() {
            rsa.public_key_to_der_pkcs1()?
        } else {
            let ec = key.ec_key()?;
            let mut ctx = BigNumContext::new()?;
            ec.public_key()
                .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)?
        };
        Ok(TokenKey {
            session: Mutex::new(session),
            handle,
            key_type,
            spki,
            public,
            companions: Mutex::new(companions),
            last_error: Mutex::new(None),
        })
    }

    /// The token this key is on.
    pub fn token(&self) -> Result<TokenInfo> {
        Ok(self.lock()?.info.clone())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, LoggedIn>> {
        self.session
            .lock()
            .map_err(|_| Error::Bug("a token session was poisoned by a panic"))
    }

    /// Signs `message`: PKCS#1 v1.5 with SHA-256 for RSA, ECDSA with SHA-256 or SHA-384 for EC (the token's
    /// r||s turned into the DER ECDSA-Sig-Value that certificates carry).
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>> {
        let session = self.lock()?;
        if rsa_bits(self.key_type).is_some() {
            return session
                .session
                .sign(&Mechanism::Sha256RsaPkcs, self.handle, message)
                .map_err(|e| failed("signing with the token key", e));
        }
        let digest = match self.key_type {
            KeyType::P384 => openssl::hash::hash(MessageDigest::sha384(), message)?,
            _ => openssl::hash::hash(MessageDigest::sha256(), message)?,
        };
        let raw = session
            .session
            .sign(&Mechanism::Ecdsa, self.handle, &digest)
            .map_err(|e| failed("signing with the token key", e))?;
        drop(session);
        ecdsa_der(&raw)
    }

    /// Fails unless a test signature by the token verifies with `cert`'s public key.
    pub fn check_belongs_to(&self, cert: &CertInfo) -> Result<()> {
        let mut challenge = [0u8; 32];
        openssl::rand::rand_bytes(&mut challenge)?;
        let signature = self.sign_message(&challenge)?;
        let public = PKey::public_key_from_der(&cert.spki_der)?;
        let digest = if self.key_type == KeyType::P384 {
            MessageDigest::sha384()
        } else {
            MessageDigest::sha256()
        };
        let mut verifier = openssl::sign::Verifier::new(digest, &public)?;
        verifier.update(&challenge)?;
        if verifier.verify(&signature).unwrap_or(false) {
            Ok(())
        } else {
            Err(Error::Token(format!(
                "the key on the token does not belong to the CA certificate {}; check the URI names the CA's key",
                cert.subject
            )))
        }
    }

    /// CKA_SENSITIVE and CKA_EXTRACTABLE of the private key, as the token reports them.
    pub fn protection(&self) -> Result<KeyProtection> {
        let session = self.lock()?;
        let attributes = session
            .session
            .get_attributes(
                self.handle,
                &[AttributeType::Sensitive, AttributeType::Extractable],
            )
            .map_err(|e| failed("reading the key's attributes", e))?;
        let mut protection = KeyProtection {
            sensitive: false,
            extractable: true,
        };
        for attribute in attributes {
            match attribute {
                Attribute::Sensitive(v) => protection.sensitive = v,
                Attribute::Extractable(v) => protection.extractable = v,
                _ => {}
            }
        }
        Ok(protection)
    }

    /// Stores the CA certificate on the token beside the key (init).
    pub fn store_certificate(&self, uri: &TokenUri, cert: &CertInfo) -> Result<()> {
        let id = uri.id.clone().unwrap_or_default();
        let template = LoggedIn::cert_template(uri, &id, cert)?;
        let handle = self
            .lock()?
            .session
            .create_object(&template)
            .map_err(|e| failed("storing the CA certificate on the token", e))?;
        self.companions
            .lock()
            .map_err(|_| Error::Bug("a token session was poisoned by a panic"))?
            .push(handle);
        Ok(())
    }

    /// Removes the key and what was made with it from the token: undoes an init or a move that failed.
    pub fn destroy(self) {
        let companions = self.companions.into_inner().unwrap_or_default();
        if let Ok(session) = self.session.into_inner() {
            for handle in companions.into_iter().chain([self.handle]) {
                let _ = session.session.destroy_object(handle);
            }
        }
    }

    /// The key's SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// The DER ECDSA-Sig-Value of a raw r||s signature.
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(Error::Token(format!(
            "the token gave an ECDSA signature of {} bytes, not r||s",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    Ok(
        EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?
            .to_der()?,
    )
}

impl PublicKeyData for TokenKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.key_type.signature_algorithm()
    }
}

impl SigningKey for TokenKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        self.sign_message(msg).map_err(|e| {
            if let Ok(mut last) = self.last_error.lock() {
                *last = Some(e.to_string());
            }
            rcgen::Error::RemoteKeyError
        })
    }
}

impl TokenKey {
    /// Why the last signature failed, if one did.
    pub fn take_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|mut e| e.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ecdsa_signatures_become_der() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero in DER
        raw[63] = 1;
        let der = ecdsa_der(&raw).expect("der");
        let sig = EcdsaSig::from_der(&der).expect("parse");
        assert_eq!(sig.r().to_vec()[0], 0x80);
        assert_eq!(sig.s().to_vec(), vec![1]);
        assert!(ecdsa_der(&[1, 2, 3]).is_err());
    }
}
