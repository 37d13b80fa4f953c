//! What a PFX says about itself before anyone knows its password: how its contents and bags are encrypted,
//! with which iteration counts, and how it is MACed. Read with certkit's own BER reader, so that hostile
//! parameters (an absurd iteration count) are found before OpenSSL derives a single key, and so that a file can
//! be judged for Windows, .NET or OpenSSL without opening it.

use crate::ber::{self, BerError, Tlv, tag};

/// A password-based encryption or MAC, as a PFX declares it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Protection {
    /// The algorithm, e.g. `pbeWithSHA1And3-KeyTripleDES-CBC`, `PBES2 AES-256-CBC`, `HMAC-SHA1`.
    pub algorithm: String,
    /// The key derivation, e.g. `PKCS#12 KDF (SHA-1)`, `PBKDF2-HMAC-SHA256`.
    pub kdf: String,
    /// Iterations of the key derivation.
    pub iterations: u64,
    /// How many times the derivation runs for it (a PKCS#12 PBE derives the key and the IV separately).
    pub derivations: u64,
}

/// The kind of a bag.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BagKind {
    /// A private key in the clear.
    Key,
    /// A private key encrypted with a password.
    ShroudedKey,
    /// A certificate.
    Certificate,
    /// A CRL.
    Crl,
    /// A secret.
    Secret,
    /// Nested safe contents.
    SafeContents,
    /// Something else.
    Other,
}

/// One bag of an unencrypted content.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Bag {
    /// What it holds.
    pub kind: BagKind,
    /// How a shrouded key is encrypted.
    pub protection: Option<Protection>,
    /// Its friendlyName attribute.
    pub friendly_name: Option<String>,
    /// Its localKeyID attribute, hex.
    pub local_key_id: Option<String>,
    /// A certificate bag's certificate (DER).
    #[serde(skip)]
    pub certificate: Option<Vec<u8>>,
}

/// One entry of the authenticated safe.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Content {
    /// Bags readable without the password (shrouded keys are still encrypted each).
    Data {
        /// The bags.
        bags: Vec<Bag>,
    },
    /// Bags encrypted together with a password.
    Encrypted {
        /// How.
        protection: Protection,
    },
    /// Bags protected with a public key (rare in PFX files; certkit does not open these).
    Enveloped,
}

/// The visible structure of a PFX.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Structure {
    /// The authenticated safe's entries.
    pub contents: Vec<Content>,
    /// The MAC over them.
    pub mac: Option<Protection>,
}

impl Structure {
    /// Every password-based protection in the file: the MAC, encrypted contents, shrouded keys.
    pub fn protections(&self) -> Vec<&Protection> {
        let mut all: Vec<&Protection> = self.mac.iter().collect();
        for content in &self.contents {
            match content {
                Content::Encrypted { protection } => all.push(protection),
                Content::Data { bags } => {
                    all.extend(bags.iter().filter_map(|b| b.protection.as_ref()))
                }
                Content::Enveloped => {}
            }
        }
        all
    }
}

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
const PBES2: &str = "1.2.840.113549.1.5.13";
const PBKDF2: &str = "1.2.840.113549.1.5.12";
const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
const X509_CERTIFICATE: &str = "1.2.840.113549.1.9.22.1";

/// Reads the structure of a PFX (DER or BER).
pub fn parse(bytes: &[u8]) -> Result<Structure, BerError> {
    let (pfx, rest) = ber::read(bytes)?;
    if !rest.is_empty() {
        return Err(BerError("there are bytes after the PFX"));
    }
    let pfx = pfx.expect_tag(tag::SEQUENCE, "a PFX is a SEQUENCE")?;
    let parts = pfx.children()?;
    let version = parts.first().ok_or(BerError("the PFX is empty"))?.uint()?;
    if version != 3 {
        return Err(BerError("this is not a PKCS#12 version 3 file"));
    }
    let auth_safe = parts
        .get(1)
        .ok_or(BerError("the PFX has no authenticated safe"))?;
    let (content_type, content) = content_info(auth_safe)?;
    if content_type != DATA {
        return Err(BerError(
            "the PFX's contents are signed with a public key, which certkit does not read",
        ));
    }
    let safe = octet_string_content(content.ok_or(BerError("the PFX's contents are missing"))?)?;
    let (safe, _) = ber::read(&safe)?;
    let mut contents = Vec::new();
    for info in safe
        .expect_tag(tag::SEQUENCE, "the authenticated safe is not a SEQUENCE")?
        .children()?
    {
        let (kind, value) = content_info(&info)?;
        contents.push(match kind.as_str() {
            DATA => {
                let inner =
                    octet_string_content(value.ok_or(BerError("a data content is empty"))?)?;
                let (safe_contents, _) = ber::read(&inner)?;
                Content::Data {
                    bags: bags(&safe_contents, 0)?,
                }
            }
            ENCRYPTED_DATA => {
                let data = value.ok_or(BerError("an encrypted content is empty"))?;
                let parts = data.children()?;
                let info = parts
                    .get(1)
                    .ok_or(BerError("an encrypted content has no content info"))?;
                let info_parts = info.children()?;
                let algorithm = info_parts
                    .get(1)
                    .ok_or(BerError("an encrypted content names no algorithm"))?;
                Content::Encrypted {
                    protection: pbe(algorithm)?,
                }
            }
            ENVELOPED_DATA => Content::Enveloped,
            _ => {
                return Err(BerError(
                    "the authenticated safe holds an unknown content type",
                ));
            }
        });
    }
    let mac = match parts.get(2) {
        Some(mac_data) => Some(mac(mac_data)?),
        None => None,
    };
    Ok(Structure { contents, mac })
}

/// The octets of a PFX's authenticated safe (what its MAC is computed over), for a PFX whose contents are
/// protected by a password (not signed).
pub fn auth_safe_octets(bytes: &[u8]) -> Result<Vec<u8>, BerError> {
    let (pfx, _) = ber::read(bytes)?;
    let parts = pfx.children()?;
    let auth_safe = parts
        .get(1)
        .ok_or(BerError("the PFX has no authenticated safe"))?;
    let (content_type, content) = content_info(auth_safe)?;
    if content_type != DATA {
        return Err(BerError(
            "the PFX's contents are not password-protected data",
        ));
    }
    octet_string_content(content.ok_or(BerError("the PFX's contents are missing"))?)
}

/// A ContentInfo's type and its `[0] EXPLICIT` content.
fn content_info<'a>(info: &'a Tlv<'a>) -> Result<(String, Option<Tlv<'a>>), BerError> {
    let parts = info.children()?;
    let kind = parts
        .first()
        .ok_or(BerError("a content info is empty"))?
        .oid()?;
    let content = match parts.get(1) {
        Some(explicit) if explicit.tag == tag::CONTEXT_0 => {
            let inner = explicit.children()?;
            inner.into_iter().next().map(|t| Tlv {
                tag: t.tag,
                content: std::borrow::Cow::Owned(t.content.into_owned()),
            })
        }
        Some(_) => return Err(BerError("a content info's content is not tagged [0]")),
        None => None,
    };
    Ok((kind, content))
}

fn octet_string_content(value: Tlv<'_>) -> Result<Vec<u8>, BerError> {
    Ok(value
        .expect_tag(tag::OCTET_STRING, "an OCTET STRING was expected")?
        .content
        .into_owned())
}

/// The bags of a SafeContents (nested safe contents are read too, a few levels deep).
fn bags(safe_contents: &Tlv<'_>, depth: usize) -> Result<Vec<Bag>, BerError> {
    if depth > 4 {
        return Err(BerError("safe contents nest too deeply"));
    }
    let mut out = Vec::new();
    for bag in safe_contents
        .clone()
        .expect_tag(tag::SEQUENCE, "the safe contents are not a SEQUENCE")?
        .children()?
    {
        let parts = bag.children()?;
        let bag_id = parts.first().ok_or(BerError("a bag is empty"))?.oid()?;
        let value = match parts.get(1) {
            Some(explicit) if explicit.tag == tag::CONTEXT_0 => {
                explicit.children()?.into_iter().next()
            }
            _ => None,
        }
        .ok_or(BerError("a bag has no value"))?;
        let (friendly_name, local_key_id) = match parts.get(2) {
            Some(attributes) => bag_attributes(attributes)?,
            None => (None, None),
        };
        let mut found = Bag {
            kind: BagKind::Other,
            protection: None,
            friendly_name,
            local_key_id,
            certificate: None,
        };
        match bag_id.strip_prefix("1.2.840.113549.1.12.10.1.") {
            Some("1") => found.kind = BagKind::Key,
            Some("2") => {
                found.kind = BagKind::ShroudedKey;
                let algorithm = value
                    .children()?
                    .into_iter()
                    .next()
                    .ok_or(BerError("a shrouded key names no algorithm"))?;
                found.protection = Some(pbe(&algorithm)?);
            }
            Some("3") => {
                found.kind = BagKind::Certificate;
                let cert = value.children()?;
                if cert.first().map(Tlv::oid).transpose()?.as_deref() == Some(X509_CERTIFICATE)
                    && let Some(explicit) = cert.get(1)
                    && let Some(der) = explicit.children()?.into_iter().next()
                {
                    found.certificate = Some(octet_string_content(der)?);
                }
            }
            Some("4") => found.kind = BagKind::Crl,
            Some("5") => found.kind = BagKind::Secret,
            Some("6") => {
                out.extend(bags(&value, depth + 1)?);
                found.kind = BagKind::SafeContents;
            }
            _ => {}
        }
        out.push(found);
    }
    Ok(out)
}

fn bag_attributes(attributes: &Tlv<'_>) -> Result<(Option<String>, Option<String>), BerError> {
    let mut friendly_name = None;
    let mut local_key_id = None;
    for attribute in attributes.children()? {
        let parts = attribute.children()?;
        let Some(kind) = parts.first() else { continue };
        let Some(values) = parts.get(1) else { continue };
        let Some(value) = values.children()?.into_iter().next() else {
            continue;
        };
        match kind.oid()?.as_str() {
            FRIENDLY_NAME if value.tag == tag::BMP_STRING => {
                let units: Vec<u16> = value
                    .content
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                friendly_name = Some(String::from_utf16_lossy(&units));
            }
            LOCAL_KEY_ID if value.tag == tag::OCTET_STRING => {
                local_key_id = Some(crate::thumbprint::hex_upper(&value.content));
            }
            _ => {}
        }
    }
    Ok((friendly_name, local_key_id))
}

/// A password-based encryption algorithm identifier: PKCS#12 PBE or PBES2.
fn pbe(algorithm: &Tlv<'_>) -> Result<Protection, BerError> {
    let parts = algorithm.children()?;
    let oid = parts
        .first()
        .ok_or(BerError("an algorithm identifier is empty"))?
        .oid()?;
    let params = parts
        .get(1)
        .ok_or(BerError("an encryption has no parameters"))?;
    if oid == PBES2 {
        let p = params.children()?;
        let kdf = p
            .first()
            .ok_or(BerError("PBES2 without a key derivation"))?
            .children()?;
        if kdf.first().map(Tlv::oid).transpose()?.as_deref() != Some(PBKDF2) {
            return Err(BerError("PBES2 with a key derivation other than PBKDF2"));
        }
        let kdf_params = kdf
            .get(1)
            .ok_or(BerError("PBKDF2 without parameters"))?
            .children()?;
        let iterations = kdf_params
            .get(1)
            .ok_or(BerError("PBKDF2 without an iteration count"))?
            .uint()?;
        let prf = kdf_params
            .iter()
            .skip(2)
            .find(|t| t.tag == tag::SEQUENCE)
            .map(|t| {
                t.children()
                    .and_then(|c| c.first().map_or(Err(BerError("an empty PRF")), Tlv::oid))
            })
            .transpose()?;
        let cipher = p
            .get(1)
            .ok_or(BerError("PBES2 without a cipher"))?
            .children()?
            .first()
            .ok_or(BerError("PBES2 without a cipher"))?
            .oid()?;
        return Ok(Protection {
            algorithm: format!("PBES2 {}", name(&cipher)),
            kdf: format!("PBKDF2-{}", prf.as_deref().map_or("HMAC-SHA1", name)),
            iterations,
            derivations: 1,
        });
    }
    let p = params.children()?;
    let iterations = p
        .get(1)
        .ok_or(BerError("a PBE without an iteration count"))?
        .uint()?;
    Ok(Protection {
        algorithm: name(&oid).to_string(),
        kdf: if oid.starts_with("1.2.840.113549.1.12.1.") {
            "PKCS#12 KDF (SHA-1)".into()
        } else {
            "PBKDF1".into()
        },
        iterations,
        // PKCS#12 PBE derives the key and the IV with two runs of its KDF.
        derivations: 2,
    })
}

/// The MacData: its digest and iterations (default 1).
fn mac(mac_data: &Tlv<'_>) -> Result<Protection, BerError> {
    let parts = mac_data.children()?;
    let digest_info = parts
        .first()
        .ok_or(BerError("the MAC data is empty"))?
        .children()?;
    let digest = digest_info
        .first()
        .ok_or(BerError("the MAC names no digest"))?
        .children()?
        .first()
        .ok_or(BerError("the MAC names no digest"))?
        .oid()?;
    let iterations = match parts.get(2) {
        Some(count) => count.uint()?,
        None => 1,
    };
    Ok(Protection {
        algorithm: format!("HMAC-{}", name(&digest)),
        kdf: "PKCS#12 KDF".into(),
        iterations,
        derivations: 1,
    })
}

/// Names of the algorithms PFX files use, by OID.
pub fn name(oid: &str) -> &str {
    match oid {
        "1.2.840.113549.1.12.1.1" => "pbeWithSHA1And128BitRC4",
        "1.2.840.113549.1.12.1.2" => "pbeWithSHA1And40BitRC4",
        "1.2.840.113549.1.12.1.3" => "pbeWithSHA1And3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.4" => "pbeWithSHA1And2-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.5" => "pbeWithSHA1And128BitRC2-CBC",
        "1.2.840.113549.1.12.1.6" => "pbeWithSHA1And40BitRC2-CBC",
        "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC",
        "2.16.840.1.101.3.4.1.2" => "AES-128-CBC",
        "2.16.840.1.101.3.4.1.22" => "AES-192-CBC",
        "2.16.840.1.101.3.4.1.42" => "AES-256-CBC",
        "1.2.840.113549.3.7" => "DES-EDE3-CBC",
        "1.3.14.3.2.7" => "DES-CBC",
        "1.2.840.113549.3.2" => "RC2-CBC",
        "1.2.392.200011.61.1.1.1.2" => "CAMELLIA-128-CBC",
        "1.2.392.200011.61.1.1.1.3" => "CAMELLIA-192-CBC",
        "1.2.392.200011.61.1.1.1.4" => "CAMELLIA-256-CBC",
        "2.16.840.1.101.3.4.2.4" => "SHA224",
        "2.16.840.1.101.3.4.2.5" => "SHA512-224",
        "2.16.840.1.101.3.4.2.6" => "SHA512-256",
        "1.2.840.113549.2.8" => "HMAC-SHA224",
        "1.2.840.113549.2.12" => "HMAC-SHA512-224",
        "1.2.840.113549.2.13" => "HMAC-SHA512-256",
        "1.3.14.3.2.26" => "SHA1",
        "2.16.840.1.101.3.4.2.1" => "SHA256",
        "2.16.840.1.101.3.4.2.2" => "SHA384",
        "2.16.840.1.101.3.4.2.3" => "SHA512",
        "1.2.840.113549.2.7" => "HMAC-SHA1",
        "1.2.840.113549.2.9" => "HMAC-SHA256",
        "1.2.840.113549.2.10" => "HMAC-SHA384",
        "1.2.840.113549.2.11" => "HMAC-SHA512",
        "1.2.840.113549.2.5" => "MD5",
        other => other,
    }
}
