//! Making, importing and finding the CA key on a token: sensitive and never extractable, and checked
//! against the CA certificate.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType as CkKeyType, ObjectClass, ObjectHandle,
};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use zeroize::Zeroizing;

use super::find::failed;
use super::key::TokenKey;
use super::session::{LoggedIn, ec_params, rsa_bits};
use super::uri::TokenUri;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::keys::KeyType;

impl LoggedIn {
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
    pub(super) fn public_spki(&self, handle: ObjectHandle, key_type: KeyType) -> Result<Vec<u8>> {
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

    pub(super) fn cert_template(
        uri: &TokenUri,
        id: &[u8],
        cert: &CertInfo,
    ) -> Result<Vec<Attribute>> {
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

pub(super) fn curve(key_type: KeyType) -> Result<Nid> {
    match key_type {
        KeyType::P256 => Ok(Nid::X9_62_PRIME256V1),
        KeyType::P384 => Ok(Nid::SECP384R1),
        _ => Err(Error::Bug("an EC curve asked of an RSA key type")),
    }
}
