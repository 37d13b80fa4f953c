//! Reading certificates and keys from the files a user has: DER, PEM, PEM bundles, PFX, encrypted keys.

use std::path::Path;

use certkit_ca::secret::OnDemand;
use certkit_ca::{CertInfo, Error, Result, Secret, certinfo, files, keys, pfx};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

/// The certificates of a file: the end-entity certificate first, then any others (chain).
pub struct CertFile {
    /// The main certificate.
    pub cert: CertInfo,
    /// Other certificates in the file.
    pub others: Vec<CertInfo>,
    /// The private key, for a PFX that holds one.
    pub key: Option<PKey<Private>>,
}

/// Reads a DER, PEM (bundle) or PFX file; the password is fetched only if the file is a PFX.
pub fn read_cert_file(path: &Path, password: &mut dyn OnDemand) -> Result<CertFile> {
    let bytes = files::read(path)?;
    if pfx::looks_like_pfx(&bytes) {
        let contents = pfx::read(path, &bytes, password.get()?)?;
        let mut others = contents
            .chain
            .iter()
            .map(|c| CertInfo::from_der(&c.to_der()?, path))
            .collect::<Result<Vec<_>>>()?;
        // Without a key OpenSSL cannot pair the certificate, so it lands among the others: take the end-entity one.
        let cert = match contents.cert {
            Some(cert) => CertInfo::from_der(&cert.to_der()?, path)?,
            None => {
                let index = others.iter().position(|c| !c.is_ca).unwrap_or(0);
                if others.is_empty() {
                    return Err(Error::malformed(path, "the PFX holds no certificate"));
                }
                others.remove(index)
            }
        };
        return Ok(CertFile {
            cert,
            others,
            key: contents.key,
        });
    }
    let ders = certinfo::parse_cert_ders(&bytes, path)?;
    let mut all = ders
        .iter()
        .map(|d| CertInfo::from_der(d, path))
        .collect::<Result<Vec<_>>>()?;
    let cert = all.remove(0);
    Ok(CertFile {
        cert,
        others: all,
        key: None,
    })
}

/// Decrypts an encrypted PKCS#8 key file into an OpenSSL key.
pub fn read_key(path: &Path, password: &Secret) -> Result<PKey<Private>> {
    let bytes = files::read(path)?;
    let pem = zeroize::Zeroizing::new(
        String::from_utf8(bytes).map_err(|_| Error::malformed(path, "not a PEM key file"))?,
    );
    let der = keys::decrypt_pem_to_der(path, &pem, password)?;
    PKey::private_key_from_pkcs8(der.as_bytes())
        .map_err(|_| Error::WrongPassword { path: path.into() })
}

/// Fails unless `key` is the private key of `cert`.
pub fn check_pair(
    key: &PKey<Private>,
    cert: &CertInfo,
    key_path: &Path,
    cert_path: &Path,
) -> Result<()> {
    if key.public_key_to_der()? != cert.spki_der {
        return Err(Error::BadInput(format!(
            "{} is not the key of {} ({}); give the key file that was made with this certificate",
            key_path.display(),
            cert_path.display(),
            cert.subject
        )));
    }
    Ok(())
}

/// An OpenSSL certificate from DER.
pub fn x509(cert: &CertInfo) -> Result<X509> {
    Ok(X509::from_der(&cert.der)?)
}

/// The self-signed root at the top of `cert`'s chain among `others` (`cert` itself when it is one): `Ok(root)`,
/// or `Err(last)` with the last certificate reached when the chain breaks off (its issuer is not among them).
pub fn root_of<'a>(
    cert: &'a CertInfo,
    others: &'a [CertInfo],
) -> Result<std::result::Result<&'a CertInfo, &'a CertInfo>> {
    let mut current = cert;
    // Never round a loop: a chain is at most every certificate long.
    for _ in 0..=others.len() {
        if current.issuer == current.subject {
            return Ok(Ok(current));
        }
        match find_issuer(current, others)? {
            Some(issuer) => current = issuer,
            None => return Ok(Err(current)),
        }
    }
    Ok(Err(current))
}

/// The certificate among `others` that issued `cert`.
pub fn find_issuer<'a>(cert: &CertInfo, others: &'a [CertInfo]) -> Result<Option<&'a CertInfo>> {
    for candidate in others {
        if cert.is_signed_by(candidate)? {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}
