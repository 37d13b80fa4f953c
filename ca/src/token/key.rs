//! The CA key on a token as rcgen signs with it ([`SigningKey`]): one session, logged in once, threads take
//! turns.

use std::sync::Mutex;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectHandle};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::PointConversionForm;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};

use super::find::{TokenInfo, failed};
use super::session::{KeyProtection, LoggedIn, rsa_bits};
use super::uri::TokenUri;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::keys::KeyType;

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
    pub(super) fn new(
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
