//! Reading certificates (DER, PEM, PEM bundles) and the facts certkit prints about them.

use std::path::Path;

use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::naming::escape_hidden;
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
    /// basicConstraints pathLenConstraint (None: no limit, or not a CA).
    pub path_len: Option<u32>,
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
        Ok(Self::of(der, &cert))
    }

    /// The facts of a parsed certificate.
    fn of(der: &[u8], cert: &X509Certificate<'_>) -> Self {
        let (sans, ekus) = names_and_usages(cert);
        let mut is_ca = false;
        let mut path_len = None;
        let mut subject_key_id = None;
        let mut authority_key_id = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    is_ca = bc.ca;
                    path_len = bc.path_len_constraint;
                }
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
        CertInfo {
            der: der.to_vec(),
            subject: crate::naming::rfc4514(cert.subject()),
            cn,
            issuer: crate::naming::rfc4514(cert.issuer()),
            serial: Serial::from_der_integer(cert.raw_serial()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            thumbprint: Thumbprint::of_der(der),
            sha256: hex_upper(&crate::digest::sha256(der)),
            sans,
            ekus,
            is_ca,
            path_len,
            subject_key_id,
            authority_key_id,
            spki_der: cert.public_key().raw.to_vec(),
        }
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

    /// True if the key `spki_der` (a SubjectPublicKeyInfo) verifies this certificate's signature.
    pub fn is_signed_by_key(&self, spki_der: &[u8]) -> Result<bool> {
        let child = openssl::x509::X509::from_der(&self.der)?;
        let key = openssl::pkey::PKey::public_key_from_der(spki_der)?;
        Ok(child.verify(&key).unwrap_or(false))
    }

    /// The certificate as PEM text.
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }
}

/// A certificate's subject alternative names and extended key usages (as dotted OIDs).
fn names_and_usages(cert: &X509Certificate<'_>) -> (Vec<San>, Vec<String>) {
    let mut sans = Vec::new();
    let mut ekus = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(d) => sans.push(San::Dns(d.to_string())),
                        GeneralName::RFC822Name(e) => sans.push(San::Email(e.to_string())),
                        GeneralName::IPAddress(ip) => sans.push(ip_san(ip)),
                        GeneralName::URI(uri) => {
                            sans.push(San::Uri(escape_hidden(uri).unwrap_or(uri.to_string())))
                        }
                        GeneralName::OtherName(oid, value) => sans.push(other_name(oid, value)),
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
            _ => {}
        }
    }
    (sans, ekus)
}

/// An otherName: a user principal name as `UPN:`, anything else by its type.
fn other_name(oid: &x509_parser::der_parser::oid::Oid<'_>, value: &[u8]) -> San {
    let oid = oid.to_id_string();
    match crate::ad_mapping::upn_of_other_name(value) {
        Some(upn) if oid == crate::ad_mapping::OID_UPN => {
            San::Upn(escape_hidden(&upn).unwrap_or(upn))
        }
        _ => San::Other(format!("otherName:{oid}")),
    }
}

/// The facts an inventory record states about its certificate, read from the certificate: what the audit
/// compares for every record (without the rest of [`CertInfo`], which it does not need).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordFacts {
    /// Serial number.
    pub serial: Serial,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// Subject, RFC 4514.
    pub subject: String,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Its key's type, if certkit knows it.
    pub key: Option<crate::keys::KeyType>,
    /// Extended key usages.
    pub ekus: Vec<String>,
    /// basicConstraints CA flag.
    pub is_ca: bool,
}

impl RecordFacts {
    /// Parses `der` once: its facts, and whether the CA of `issuer` issued it (its signature verified or
    /// vouched for, as `signature` says). None if it is not a certificate.
    pub fn checked(der: &[u8], issuer: &IssuerCheck, signature: Signature) -> Option<(Self, bool)> {
        let (rest, cert) = X509Certificate::from_der(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let (sans, ekus) = names_and_usages(&cert);
        let facts = RecordFacts {
            serial: Serial::from_der_integer(cert.raw_serial()),
            thumbprint: Thumbprint::of_der(der),
            subject: crate::naming::rfc4514(cert.subject()),
            sans,
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            key: crate::keys::KeyType::of_spki(cert.public_key()).ok(),
            ekus,
            is_ca: cert.is_ca(),
        };
        Some((facts, issuer.issued_parsed(&cert, signature)))
    }
}

/// How a check of a certificate's issuer treats its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// The CA key's signature is verified.
    Verify,
    /// Something the CA key signed already vouches for the certificate's bytes (a checkpoint covering the
    /// inventory line that carries it): its issuer name and algorithm are compared, its signature is not
    /// verified again.
    Vouched,
}

/// Checks that certificates were issued by one CA, fast enough to go over a whole inventory: the CA's name and
/// keys are parsed once, and each certificate's signature is verified with aws-lc.
pub struct IssuerCheck {
    subject: Vec<u8>,
    keys: Vec<IssuerKey>,
}

/// One of the CA's keys, ready to verify.
struct IssuerKey {
    algorithm: &'static str,
    key: aws_lc_rs::signature::UnparsedPublicKey<Vec<u8>>,
}

impl IssuerCheck {
    /// The check for certificates issued by `ca`'s key.
    pub fn new(ca: &CertInfo) -> Result<Self> {
        Self::with_keys(ca, std::slice::from_ref(&ca.spki_der))
    }

    /// The check for certificates issued in `ca`'s name by any of `keys` (SubjectPublicKeyInfo DER: the keys
    /// of a re-keyed CA's lineage).
    pub fn with_keys(ca: &CertInfo, keys: &[Vec<u8>]) -> Result<Self> {
        use aws_lc_rs::signature;
        let (_, cert) = X509Certificate::from_der(&ca.der)
            .map_err(|e| Error::crypto("reading the CA certificate", e))?;
        let mut parsed = Vec::new();
        for spki_der in keys {
            let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
                .map_err(|e| Error::crypto("reading a CA key", e))?;
            let (algorithm, verification): (_, &'static dyn signature::VerificationAlgorithm) =
                match crate::keys::KeyType::of_spki_der(spki_der)? {
                    crate::keys::KeyType::P256 => {
                        ("1.2.840.10045.4.3.2", &signature::ECDSA_P256_SHA256_ASN1)
                    }
                    crate::keys::KeyType::P384 => {
                        ("1.2.840.10045.4.3.3", &signature::ECDSA_P384_SHA384_ASN1)
                    }
                    _ => (
                        "1.2.840.113549.1.1.11",
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                    ),
                };
            parsed.push(IssuerKey {
                algorithm,
                key: signature::UnparsedPublicKey::new(
                    verification,
                    spki.subject_public_key.data.to_vec(),
                ),
            });
        }
        Ok(IssuerCheck {
            subject: cert.subject().as_raw().to_vec(),
            keys: parsed,
        })
    }

    /// True if the CA issued `der`: its issuer is the CA's subject (byte for byte), its signature algorithm
    /// a CA key's, and that key verifies its signature.
    pub fn issued(&self, der: &[u8]) -> bool {
        X509Certificate::from_der(der)
            .is_ok_and(|(_, cert)| self.issued_parsed(&cert, Signature::Verify))
    }

    /// True if one of the CA's keys made `signature` over `message` with the algorithm `algorithm` (a dotted
    /// OID): a CRL's or an OCSP response's signature.
    pub fn signed(&self, algorithm: &str, message: &[u8], signature: &[u8]) -> bool {
        self.keys
            .iter()
            .any(|k| k.algorithm == algorithm && k.key.verify(message, signature).is_ok())
    }

    /// [`IssuerCheck::issued`] for a certificate parsed already.
    fn issued_parsed(&self, cert: &X509Certificate<'_>, signature: Signature) -> bool {
        let algorithm = cert.signature_algorithm.algorithm.to_id_string();
        cert.issuer().as_raw() == self.subject.as_slice()
            && self.keys.iter().any(|k| {
                k.algorithm == algorithm
                    && (signature == Signature::Vouched
                        || k.key
                            .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
                            .is_ok())
            })
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

/// The authority key identifier of the certificate `der`, if it is one and has that extension.
pub fn authority_key_id_of(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
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
