//! Reading and checking PKCS#10 certificate signing requests.

use std::path::Path;

use crate::error::{Error, Result};
use crate::keys::KeyType;
use openssl::nid::Nid;
use openssl::x509::X509Req;

/// What certkit takes from a request: the subject's CN and public key. Its extensions are ignored; the profile
/// decides them.
#[derive(Debug)]
pub struct CsrRequest {
    /// Subject common name.
    pub cn: String,
    /// Type of the requester's key.
    pub key_type: KeyType,
    /// The requester's public key.
    pub public_key: rcgen::SubjectPublicKeyInfo,
}

/// Reads a PEM or DER request and checks its signature (proof the requester holds the key).
pub fn read(path: &Path) -> Result<CsrRequest> {
    parse(&crate::files::read(path)?, path)
}

/// Parses a PEM or DER request and checks its signature; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<CsrRequest> {
    let not_csr = || {
        Error::malformed(
            path,
            "not a certificate signing request (PKCS#10, PEM or DER); make one with \"openssl req -new\"",
        )
    };
    let req = if bytes.first() == Some(&0x30) {
        X509Req::from_der(bytes).map_err(|_| not_csr())?
    } else {
        X509Req::from_pem(bytes).map_err(|_| not_csr())?
    };
    let key = req.public_key().map_err(|_| not_csr())?;
    if !req.verify(&key).unwrap_or(false) {
        return Err(Error::malformed(
            path,
            "the request's signature does not verify: it was altered or damaged; ask for a new request",
        ));
    }
    let cn = req
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .ok_or_else(|| {
            Error::malformed(
                path,
                "the request's subject has no CN; make it with -subj \"/CN=NAME\"",
            )
        })?;
    let key_type = KeyType::of_public(&key).map_err(|e| Error::malformed(path, e.to_string()))?;
    let spki = key.public_key_to_der()?;
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(&spki)
        .map_err(|e| Error::malformed(path, format!("unsupported public key: {e}")))?;
    Ok(CsrRequest {
        cn,
        key_type,
        public_key,
    })
}
