//! Reading certificates (DER, PEM, PEM bundles) and the facts certkit prints about them.

use std::path::Path;

use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::san::San;
use crate::serial::Serial;
use crate::thumbprint::{Thumbprint, hex_upper};

/// OID of the serverAuth extended key usage.
pub const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
/// OID of the clientAuth extended key usage.
pub const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// OID of Microsoft's Document Encryption extended key usage.
pub const EKU_DOCUMENT_ENCRYPTION: &str = "1.3.6.1.4.1.311.80.1";

/// What certkit needs to know about one certificate.
#[derive(Clone, Debug)]
pub struct CertInfo {
    /// The certificate's DER bytes.
    pub der: Vec<u8>,
    /// Subject as an RFC 4514 string, e.g. `CN=Alice` (escaped; see `naming::rfc4514`).
    pub subject: String,
    /// The subject's first common name, if any.
    pub cn: Option<String>,
    /// Issuer as an RFC 4514 string.
    pub issuer: String,
    /// Serial number.
    pub serial: Serial,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint in uppercase hex.
    pub sha256: String,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// Extended key usages as dotted OIDs.
    pub ekus: Vec<String>,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    /// Subject key identifier.
    pub subject_key_id: Option<Vec<u8>>,
    /// Authority key identifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
}

impl CertInfo {
    /// Parses a DER certificate; `origin` names it in errors.
    pub fn from_der(der: &[u8], origin: &Path) -> Result<Self> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
            Error::malformed(origin, format!("not a valid X.509 certificate ({e})"))
        })?;
        if !rest.is_empty() {
            return Err(Error::malformed(
                origin,
                "trailing bytes after the certificate; the file is damaged",
            ));
        }
        let mut sans = Vec::new();
        let mut ekus = Vec::new();
        let mut is_ca = false;
        let mut subject_key_id = None;
        let mut authority_key_id = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(d) => sans.push(San::Dns(d.to_string())),
                            GeneralName::RFC822Name(e) => sans.push(San::Email(e.to_string())),
                            GeneralName::IPAddress(ip) => sans.push(ip_san(ip)),
                            other => sans.push(San::Other(format!("{other}"))),
                        }
                    }
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    // x509-parser turns the well-known purposes into flags; every one is an OID here.
                    let known = [
                        (eku.any, "2.5.29.37.0"),
                        (eku.server_auth, EKU_SERVER_AUTH),
                        (eku.client_auth, EKU_CLIENT_AUTH),
                        (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                        (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                        (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                        (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                    ];
                    ekus.extend(
                        known
                            .iter()
                            .filter(|(on, _)| *on)
                            .map(|(_, oid)| oid.to_string()),
                    );
                    ekus.extend(eku.other.iter().map(|oid| oid.to_id_string()));
                }
                ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
                ParsedExtension::SubjectKeyIdentifier(id) => subject_key_id = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
                }
                _ => {}
            }
        }
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string);
        Ok(CertInfo {
            der: der.to_vec(),
            subject: crate::naming::rfc4514(cert.subject()),
            cn,
            issuer: crate::naming::rfc4514(cert.issuer()),
            serial: Serial::from_der_integer(cert.raw_serial()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            thumbprint: Thumbprint::of_der(der),
            sha256: hex_upper(&openssl::sha::sha256(der)),
            sans,
            ekus,
            is_ca,
            subject_key_id,
            authority_key_id,
            spki_der: cert.public_key().raw.to_vec(),
        })
    }

    /// True if `issuer` issued this certificate: its subject is this certificate's issuer and its key verifies
    /// this certificate's signature.
    pub fn is_signed_by(&self, issuer: &CertInfo) -> Result<bool> {
        if self.issuer != issuer.subject {
            return Ok(false);
        }
        let child = openssl::x509::X509::from_der(&self.der)?;
        let key = openssl::x509::X509::from_der(&issuer.der)?.public_key()?;
        Ok(child.verify(&key).unwrap_or(false))
    }

    /// The certificate as PEM text.
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }
}

fn ip_san(raw: &[u8]) -> San {
    if let Ok(v4) = <[u8; 4]>::try_from(raw) {
        San::Ip(std::net::Ipv4Addr::from(v4).into())
    } else if let Ok(v6) = <[u8; 16]>::try_from(raw) {
        San::Ip(std::net::Ipv6Addr::from(v6).into())
    } else {
        San::Other(format!("IP:{}", hex_upper(raw)))
    }
}

/// PEM-encodes DER with a label, 64 characters a line.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = openssl::base64::encode_block(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads every certificate in a DER file or a PEM file (one or many `CERTIFICATE` blocks).
pub fn read_cert_ders(path: &Path) -> Result<Vec<Vec<u8>>> {
    parse_cert_ders(&crate::files::read(path)?, path)
}

/// The certificates in DER or PEM bytes (one or many `CERTIFICATE` blocks); `path` names them in errors.
pub fn parse_cert_ders(bytes: &[u8], path: &Path) -> Result<Vec<Vec<u8>>> {
    if bytes.is_empty() {
        return Err(Error::malformed(path, "the file is empty"));
    }
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::malformed(path, "neither a DER certificate nor PEM text"))?;
    if !text.contains("-----BEGIN") {
        return Err(Error::malformed(
            path,
            "neither a DER certificate nor PEM text",
        ));
    }
    let stack = openssl::x509::X509::stack_from_pem(bytes)
        .map_err(|_| Error::malformed(path, "damaged PEM: a CERTIFICATE block cannot be read"))?;
    if stack.is_empty() {
        return Err(Error::malformed(
            path,
            "no CERTIFICATE block in the PEM file",
        ));
    }
    stack
        .iter()
        .map(|c| c.to_der().map_err(Error::from))
        .collect()
}

/// Reads the one certificate of a DER or PEM file (the first of a bundle).
pub fn read_cert(path: &Path) -> Result<CertInfo> {
    let ders = read_cert_ders(path)?;
    CertInfo::from_der(&ders[0], path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.cer");
        std::fs::write(&path, [0x30, 0x82, 0x01]).expect("write");
        assert!(matches!(read_cert(&path), Err(Error::Malformed { .. })));
        std::fs::write(&path, "hello").expect("write");
        assert!(matches!(read_cert(&path), Err(Error::Malformed { .. })));
    }
}
