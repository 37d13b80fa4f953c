//! A CA ready to sign: its certificate checked for signing now, and its key (a decrypted key file or a key on
//! a PKCS#11 token).

use std::path::Path;

use rcgen::{
    CertificateParams, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm,
    SigningKey,
};
use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::constraints::NameConstraints;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::token::TokenKey;

/// The CA's private key: from `ca.key`, or on a token.
pub enum CaKey {
    /// Decrypted from the CA folder's `ca.key`.
    File(KeyPair),
    /// On a PKCS#11 token; it never leaves it.
    Token(TokenKey),
}

impl CaKey {
    /// Signs `message` with the CA's signature algorithm; a token's own reason when the token fails.
    pub fn sign_message(&self, message: &[u8], doing: &str) -> Result<Vec<u8>> {
        match self {
            CaKey::File(key) => key.sign(message).map_err(|e| Error::crypto(doing, e)),
            CaKey::Token(key) => key.sign_message(message),
        }
    }

    /// Turns an rcgen error from signing with this key into certkit's, with the token's reason if it failed.
    pub fn explain(&self, err: rcgen::Error, doing: &str) -> Error {
        match (self, &err) {
            (CaKey::Token(key), rcgen::Error::RemoteKeyError) => match key.take_error() {
                Some(reason) => Error::Token(reason),
                None => Error::crypto(doing, err),
            },
            _ => Error::crypto(doing, err),
        }
    }
}

impl PublicKeyData for CaKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            CaKey::File(key) => key.der_bytes(),
            CaKey::Token(key) => key.der_bytes(),
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            CaKey::File(key) => key.algorithm(),
            CaKey::Token(key) => key.algorithm(),
        }
    }
}

impl SigningKey for CaKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match self {
            CaKey::File(key) => key.sign(msg),
            CaKey::Token(key) => key.sign(msg),
        }
    }
}

/// A CA unlocked for signing.
pub struct SigningCa {
    /// The CA certificate.
    pub cert: CertInfo,
    /// The CA key type.
    pub key_type: KeyType,
    /// CRL distribution point the CA puts into what it issues, if any.
    pub crl_url: Option<String>,
    /// Where clients fetch the CA's certificate (authorityInfoAccess caIssuers in what it issues), if anywhere.
    pub aia_url: Option<String>,
    /// Where clients ask about revocation (authorityInfoAccess id-ad-ocsp in what it issues), if anywhere.
    pub ocsp_url: Option<String>,
    /// The names its certificates may have, from its certificate's nameConstraints.
    pub constraints: NameConstraints,
    /// The CAs above it (from its `chain.pem`): the one that signed it first, the root last; none for a root.
    pub above: Vec<CertInfo>,
    /// Their name constraints, which bind what it signs too.
    above_constraints: Vec<NameConstraints>,
    issuer: Issuer<'static, CaKey>,
}

impl std::fmt::Debug for SigningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCa")
            .field("subject", &self.cert.subject)
            .finish_non_exhaustive()
    }
}

impl SigningCa {
    /// Pairs a CA certificate with its key, after checking that the key belongs to it, that it is a CA valid
    /// now, and that it may sign certificates. `origin` and `key_origin` name the two in messages.
    pub fn new(
        cert: CertInfo,
        key: CaKey,
        crl_url: Option<String>,
        origin: &Path,
        key_origin: &Path,
    ) -> Result<Self> {
        Self::checked(cert, key, crl_url, origin, key_origin, false)
    }

    /// As [`SigningCa::new`]; with `lapsed_ok`, also for a CA whose certificate has expired and is being
    /// renewed (the same key signs its own renewal): every check but the validity period.
    pub fn checked(
        cert: CertInfo,
        key: CaKey,
        crl_url: Option<String>,
        origin: &Path,
        key_origin: &Path,
        lapsed_ok: bool,
    ) -> Result<Self> {
        match lapsed_ok {
            false => check_can_sign(&cert, origin)?,
            true => check_is_ca(&cert, origin)?,
        }
        if key.subject_public_key_info() != cert.spki_der {
            return Err(Error::CaUnusable(format!(
                "{} does not belong to {}; restore the matching key or certificate",
                key_origin.display(),
                origin.display()
            )));
        }
        let constraints = NameConstraints::of_cert(&cert.der)?;
        let key_type = KeyType::of_spki_der(&cert.spki_der)?;
        let issuer = Issuer::from_ca_cert_der(&cert.der.clone().into(), key)?;
        if !issuer.key_usages().is_empty()
            && !issuer.key_usages().contains(&KeyUsagePurpose::KeyCertSign)
        {
            return Err(Error::CaUnusable(format!(
                "{} may not sign certificates (no keyCertSign key usage)",
                origin.display()
            )));
        }
        Ok(SigningCa {
            cert,
            key_type,
            crl_url,
            aia_url: None,
            ocsp_url: None,
            constraints,
            above: Vec::new(),
            above_constraints: Vec::new(),
            issuer,
        })
    }

    /// The same CA, naming in everything it signs `aia_url` as where clients fetch its certificate and
    /// `ocsp_url` as where they ask about revocation.
    pub fn with_aia(mut self, aia_url: Option<String>, ocsp_url: Option<String>) -> Self {
        self.aia_url = aia_url;
        self.ocsp_url = ocsp_url;
        self
    }

    /// The same CA with the CAs above it (checked by the caller to chain up from it), whose name constraints
    /// bind what it signs as its own do.
    pub fn with_above(mut self, above: Vec<CertInfo>) -> Result<Self> {
        self.above_constraints = above
            .iter()
            .map(|ca| NameConstraints::of_cert(&ca.der))
            .collect::<Result<_>>()?;
        self.above = above;
        Ok(self)
    }

    /// Signs certificate parameters for `public_key`.
    pub fn sign(
        &self,
        params: &CertificateParams,
        public_key: &impl PublicKeyData,
    ) -> Result<CertInfo> {
        // A name outside the CA's constraints, or those of a CA above it, is refused before anything is signed.
        self.constraints.check_params(params)?;
        for constraints in &self.above_constraints {
            constraints.check_params(params)?;
        }
        let mut params = params.clone();
        // A profile file's own OCSP URL comes as the certificate's authorityInfoAccess already.
        let has_aia = params
            .custom_extensions
            .iter()
            .any(|e| e.oid_components().eq(AIA_OID.iter().copied()));
        if !has_aia
            && let Some(extension) =
                authority_info_access(self.ocsp_url.as_deref(), self.aia_url.as_deref())
        {
            params.custom_extensions.push(extension);
        }
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(
            crate::keys::subject_key_id(&public_key.subject_public_key_info())?,
        );
        let cert = params
            .signed_by(public_key, &self.issuer)
            .map_err(|e| self.issuer.key().explain(e, "signing the certificate"))?;
        CertInfo::from_der(cert.der(), Path::new("(new certificate)"))
    }

    /// The pathLen a CA it signs gets: `asked`, or one less than its own (0 when it has no limit and none was
    /// asked); refused when its own pathLen allows no CA below it, or `asked` is not below its own.
    pub fn sub_ca_pathlen(&self, asked: Option<u8>) -> Result<u8> {
        if !self.cert.is_ca {
            return Err(Error::Bug("a CA certificate without CA:TRUE was unlocked"));
        }
        match (self.cert.path_len, asked) {
            (Some(0), _) => Err(Error::BadInput(format!(
                "{} has pathLen 0: it may sign no CA below it, only end-entity certificates; sign the CA with a CA above it",
                self.cert.subject
            ))),
            (Some(own), Some(asked)) if u32::from(asked) >= own => Err(Error::BadInput(format!(
                "--pathlen {asked} is not below the pathLen {own} of {}: use {} or less",
                self.cert.subject,
                own - 1
            ))),
            (Some(own), None) => Ok(u8::try_from(own - 1).unwrap_or(u8::MAX)),
            (_, Some(asked)) => Ok(asked),
            (None, None) => Ok(0),
        }
    }

    /// Signs `message` with the CA key, in the CA's own signature algorithm (for checkpoints).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.issuer
            .key()
            .sign_message(message, "signing with the CA key")
    }

    /// The rcgen issuer (for CRLs).
    pub fn issuer(&self) -> &Issuer<'static, CaKey> {
        &self.issuer
    }
}

/// Fails unless `cert` is a CA certificate.
fn check_is_ca(cert: &CertInfo, origin: &Path) -> Result<()> {
    if !cert.is_ca {
        return Err(Error::CaUnusable(format!(
            "{} is not a CA certificate (basicConstraints CA:FALSE or missing); use a folder made by certkit-ca init",
            origin.display()
        )));
    }
    Ok(())
}

/// Fails unless `cert` is a CA certificate valid now.
pub fn check_can_sign(cert: &CertInfo, origin: &Path) -> Result<()> {
    check_is_ca(cert, origin)?;
    let now = OffsetDateTime::now_utc();
    if cert.not_after < now {
        // Its key still proves who it is: a renewal gives it a new validity (same key, same subject).
        let folder = origin.parent().filter(|p| !p.as_os_str().is_empty());
        return Err(Error::CaUnusable(format!(
            "the CA {} expired on {}; renew it (the same key and subject): certkit-ca renew --ca {}",
            cert.subject,
            rfc3339(cert.not_after),
            folder.map_or_else(|| ".".to_string(), |p| p.display().to_string())
        )));
    }
    if cert.not_before > now {
        return Err(Error::CaUnusable(format!(
            "the CA {} is not valid before {}; check this machine's clock",
            cert.subject,
            rfc3339(cert.not_before)
        )));
    }
    Ok(())
}

/// The authorityInfoAccess extension's OID, 1.3.6.1.5.5.7.1.1.
const AIA_OID: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

/// The authorityInfoAccess extension naming the OCSP responder and where the CA's certificate is (either may be
/// absent; None when both are): one AccessDescription each, OCSP first as CAs write it.
pub fn authority_info_access(
    ocsp: Option<&str>,
    ca_issuers: Option<&str>,
) -> Option<rcgen::CustomExtension> {
    // id-ad-ocsp 1.3.6.1.5.5.7.48.1 and id-ad-caIssuers 1.3.6.1.5.5.7.48.2, DER.
    const OCSP: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    const CA_ISSUERS: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut descriptions = Vec::new();
    for (method, url) in [(OCSP, ocsp), (CA_ISSUERS, ca_issuers)] {
        if let Some(url) = url {
            let mut description = method.to_vec();
            // accessLocation: GeneralName uniformResourceIdentifier [6] IA5String.
            description.extend(crate::ber::der(0x86, url.as_bytes()));
            descriptions.extend(crate::ber::der(0x30, &description));
        }
    }
    if descriptions.is_empty() {
        return None;
    }
    Some(rcgen::CustomExtension::from_oid_content(
        AIA_OID,
        crate::ber::der(0x30, &descriptions),
    ))
}
