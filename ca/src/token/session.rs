//! A logged-in session on a token: the PIN given once, what the token can do, and the attributes every key
//! certkit makes or imports carries.

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use serde::Serialize;

use super::find::{Token, TokenInfo, failed};
use super::uri::TokenUri;
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::secret::Secret;

/// The DER of a named curve's OID, as CKA_EC_PARAMS holds it.
pub(super) fn ec_params(key_type: KeyType) -> Option<&'static [u8]> {
    match key_type {
        KeyType::P256 => Some(&[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
        KeyType::P384 => Some(&[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]),
        _ => None,
    }
}

pub(super) fn rsa_bits(key_type: KeyType) -> Option<u64> {
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
    pub(super) session: Session,
    pub(super) info: TokenInfo,
    pub(super) mechanisms: Vec<MechanismType>,
    pub(super) ctx: Pkcs11,
    pub(super) slot: Slot,
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
    pub(super) fn private_keys(&self, uri: &TokenUri) -> Result<Vec<ObjectHandle>> {
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

    pub(super) fn require(&self, mechanism: MechanismType, what: &str) -> Result<()> {
        if self.mechanisms.contains(&mechanism) {
            Ok(())
        } else {
            Err(Error::Token(format!(
                "the token '{}' cannot {what}; choose another --key type or another token",
                self.info.label
            )))
        }
    }

    pub(super) fn check_rsa_size(
        &self,
        mechanism: MechanismType,
        bits: u64,
        key_type: KeyType,
    ) -> Result<()> {
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
    pub(super) fn common(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Label(uri.object.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ]
    }

    pub(super) fn private_template(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
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

    pub(super) fn public_template(uri: &TokenUri, id: &[u8]) -> Vec<Attribute> {
        let mut attributes = Self::common(uri, id);
        attributes.extend([
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::Derive(false),
        ]);
        attributes
    }
}
