//! The values a profile file names: subject attributes, SAN kinds, key usage bits, EKU names, certificate
//! policies (and their extension's DER), and the `--subject KEY=VALUE` a request gives.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::certinfo::{EKU_CLIENT_AUTH, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH};
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::profile::Profile;

/// certificatePolicies (RFC 5280 4.2.1.4), 2.5.29.32, as rcgen takes an extension's OID.
pub const CERTIFICATE_POLICIES_OID: &[u64] = &[2, 5, 29, 32];

/// The certificatePolicies extension's value in a certificate (DER), if it has one: what a renewed or re-keyed
/// CA certificate keeps.
pub fn policies_extension_of(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    cert.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.32")
        .map(|e| e.value.to_vec())
}

/// The longest user notice RFC 5280 allows (explicitText, 200 characters).
const MAX_NOTICE_CHARS: usize = 200;
/// Named extended key usages a profile may give instead of their OIDs.
pub(super) const EKU_NAMES: [(&str, &str); 8] = [
    ("serverAuth", EKU_SERVER_AUTH),
    ("clientAuth", EKU_CLIENT_AUTH),
    ("codeSigning", "1.3.6.1.5.5.7.3.3"),
    ("emailProtection", "1.3.6.1.5.5.7.3.4"),
    ("timeStamping", "1.3.6.1.5.5.7.3.8"),
    ("OCSPSigning", "1.3.6.1.5.5.7.3.9"),
    ("documentEncryption", EKU_DOCUMENT_ENCRYPTION),
    ("smartcardLogon", crate::ad_mapping::EKU_SMARTCARD_LOGON),
];

/// A subject attribute beyond the CN that a profile may fix or allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubjectAttribute {
    /// countryName: two letters (ISO 3166).
    C,
    /// stateOrProvinceName.
    ST,
    /// localityName.
    L,
    /// organizationName.
    O,
    /// organizationalUnitName.
    OU,
}

impl SubjectAttribute {
    /// Every attribute, in the order a subject is written (before the CN).
    pub const ALL: [SubjectAttribute; 5] = [
        SubjectAttribute::C,
        SubjectAttribute::ST,
        SubjectAttribute::L,
        SubjectAttribute::O,
        SubjectAttribute::OU,
    ];

    /// Its short name, `OU`.
    pub fn name(self) -> &'static str {
        match self {
            SubjectAttribute::C => "C",
            SubjectAttribute::ST => "ST",
            SubjectAttribute::L => "L",
            SubjectAttribute::O => "O",
            SubjectAttribute::OU => "OU",
        }
    }

    /// The attribute of a short name (`OU`, case as written in X.500 names, any case accepted).
    pub fn of_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Checks a value: not empty, at most 64 characters (RFC 5280's upper bounds), no control or invisible
    /// character; a country is two ASCII letters.
    pub fn check_value(self, value: &str) -> Result<()> {
        let bad = |why: &str| {
            Err(bad_input(format!(
                "{}={value} is not a subject value: {why}",
                self.name()
            )))
        };
        if value.trim().is_empty() || value.trim() != value {
            return bad("it is empty or starts or ends with a space");
        }
        if value
            .chars()
            .any(|c| c.is_control() || crate::naming::is_invisible(c))
        {
            return bad("it holds a control or invisible character");
        }
        if self == SubjectAttribute::C {
            if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_uppercase()) {
                return bad("a country is two capital letters, e.g. C=DE");
            }
        } else if value.chars().count() > 64 {
            return bad("at most 64 characters");
        }
        Ok(())
    }
}

impl fmt::Display for SubjectAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind of subject alternative name a profile may allow or require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SanKind {
    /// DNS names (server).
    Dns,
    /// IP addresses (server).
    Ip,
    /// The e-mail address (client).
    Email,
    /// The user principal name (client).
    Upn,
    /// The SID URI (client).
    Sid,
    /// Other URIs (client).
    Uri,
}

impl SanKind {
    /// Its name in profile files and messages.
    pub fn name(self) -> &'static str {
        match self {
            SanKind::Dns => "dns",
            SanKind::Ip => "ip",
            SanKind::Email => "email",
            SanKind::Upn => "upn",
            SanKind::Sid => "sid",
            SanKind::Uri => "uri",
        }
    }

    /// The flag that gives it.
    pub fn flag(self) -> &'static str {
        match self {
            SanKind::Dns => "--dns",
            SanKind::Ip => "--ip",
            SanKind::Email => "--email",
            SanKind::Upn => "--upn",
            SanKind::Sid => "--sid",
            SanKind::Uri => "--uri",
        }
    }

    /// The kinds a certificate of `base` can carry.
    pub fn of_base(base: Profile) -> &'static [SanKind] {
        match base {
            Profile::Server => &[SanKind::Dns, SanKind::Ip],
            Profile::Client => &[SanKind::Email, SanKind::Upn, SanKind::Sid, SanKind::Uri],
            Profile::Encryption | Profile::Ca | Profile::Unknown => &[],
        }
    }
}

/// A key usage bit a profile may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyUsage {
    /// digitalSignature.
    DigitalSignature,
    /// nonRepudiation (contentCommitment).
    NonRepudiation,
    /// keyEncipherment (RSA keys only).
    KeyEncipherment,
    /// dataEncipherment (RSA keys only).
    DataEncipherment,
    /// keyAgreement (EC keys only).
    KeyAgreement,
}

impl KeyUsage {
    /// Its name in profile files.
    pub fn name(self) -> &'static str {
        match self {
            KeyUsage::DigitalSignature => "digitalSignature",
            KeyUsage::NonRepudiation => "nonRepudiation",
            KeyUsage::KeyEncipherment => "keyEncipherment",
            KeyUsage::DataEncipherment => "dataEncipherment",
            KeyUsage::KeyAgreement => "keyAgreement",
        }
    }

    /// Whether a key of `key` type can do it (RSA enciphers; EC agrees on keys).
    pub fn fits(self, key: KeyType) -> bool {
        match self {
            KeyUsage::KeyEncipherment | KeyUsage::DataEncipherment => key.is_rsa(),
            KeyUsage::KeyAgreement => !key.is_rsa(),
            KeyUsage::DigitalSignature | KeyUsage::NonRepudiation => true,
        }
    }
}

/// A certificate policy: its OID, and where its practice statement is and what notice to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy's OID, dotted.
    pub oid: String,
    /// The certification practice statement's URL (id-qt-cps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cps: Option<String>,
    /// A user notice's explicit text (id-qt-unotice, UTF8String, at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl Policy {
    /// Checks the OID, the URL and the notice.
    pub fn check(&self) -> Result<()> {
        policy_oid_der(&self.oid)?;
        if let Some(cps) = &self.cps {
            check_http_url(cps, "cps")?;
        }
        if let Some(notice) = &self.notice {
            if notice.is_empty() || notice.chars().count() > MAX_NOTICE_CHARS {
                return Err(bad_input(format!(
                    "the notice of policy {} must be 1 to {MAX_NOTICE_CHARS} characters (RFC 5280)",
                    self.oid
                )));
            }
            if notice
                .chars()
                .any(|c| c.is_control() || crate::naming::is_invisible(c))
            {
                return Err(bad_input(format!(
                    "the notice of policy {} holds a control or invisible character",
                    self.oid
                )));
            }
        }
        Ok(())
    }

    /// The certificatePolicies extension's value (DER) for `policies`: each policy with its CPS URI
    /// (IA5String) and user notice (explicitText as UTF8String, as RFC 5280 recommends).
    pub fn extension_value(policies: &[Policy]) -> Result<Vec<u8>> {
        use der::Encode;
        use der::asn1::{Any, Ia5String, ObjectIdentifier};
        use x509_cert::ext::pkix::certpolicy::{
            CertificatePolicies, DisplayText, PolicyInformation, PolicyQualifierInfo, UserNotice,
        };
        const CPS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.2.1");
        const NOTICE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.2.2");
        let encoding = |e: der::Error| bad_input(format!("a certificate policy: {e}"));
        let mut infos = Vec::new();
        for policy in policies {
            policy.check()?;
            let mut qualifiers = Vec::new();
            if let Some(cps) = &policy.cps {
                let text = Ia5String::new(cps).map_err(encoding)?;
                qualifiers.push(PolicyQualifierInfo {
                    policy_qualifier_id: CPS,
                    qualifier: Some(Any::encode_from(&text).map_err(encoding)?),
                });
            }
            if let Some(notice) = &policy.notice {
                let notice = UserNotice {
                    notice_ref: None,
                    explicit_text: Some(DisplayText::Utf8String(notice.clone())),
                };
                qualifiers.push(PolicyQualifierInfo {
                    policy_qualifier_id: NOTICE,
                    qualifier: Some(Any::encode_from(&notice).map_err(encoding)?),
                });
            }
            infos.push(PolicyInformation {
                policy_identifier: ObjectIdentifier::new(&policy.oid)
                    .map_err(|_| bad_input(format!("'{}' is not a policy OID", policy.oid)))?,
                policy_qualifiers: (!qualifiers.is_empty()).then_some(qualifiers),
            });
        }
        CertificatePolicies(infos).to_der().map_err(encoding)
    }
}

/// The DER of a dotted OID, or why it is not one.
fn policy_oid_der(oid: &str) -> Result<()> {
    let parsed = der::asn1::ObjectIdentifier::new(oid);
    match parsed {
        Ok(_) if oid.split('.').count() >= 2 => Ok(()),
        _ => Err(bad_input(format!(
            "'{oid}' is not an OID; write it dotted, e.g. 1.3.6.1.4.1.99999.1.1"
        ))),
    }
}

pub(super) fn check_http_url(url: &str, what: &str) -> Result<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > 8
        && url.len() <= 2048
        && url.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(bad_input(format!(
            "{what} '{url}' is not an http:// or https:// URL without spaces"
        )))
    }
}

/// The dotted OID of an EKU given by name or dotted.
pub fn eku_oid(text: &str) -> Result<String> {
    if let Some((_, oid)) = EKU_NAMES.iter().find(|(name, _)| *name == text) {
        return Ok((*oid).to_string());
    }
    match policy_oid_der(text) {
        Ok(()) => Ok(text.to_string()),
        Err(_) => Err(bad_input(format!(
            "'{text}' is not an EKU: use a dotted OID or one of {}",
            EKU_NAMES.map(|(name, _)| name).join(", ")
        ))),
    }
}

/// Parses `KEY=VALUE` as `--subject` takes it.
pub fn parse_subject(text: &str) -> Result<(SubjectAttribute, String)> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(bad_input(format!(
            "--subject {text}: write KEY=VALUE, e.g. --subject OU=Sales (KEY is one of C, ST, L, O, OU)"
        )));
    };
    let Some(attribute) = SubjectAttribute::of_name(key.trim()) else {
        return Err(bad_input(format!(
            "--subject {text}: {key} is not a subject attribute certkit sets; use C, ST, L, O or OU (the CN is --cn)"
        )));
    };
    attribute.check_value(value)?;
    Ok((attribute, value.to_string()))
}

/// The subject attributes beyond the CN a certificate has (C, ST, L, O, OU), in subject order.
pub fn subject_attributes(der: &[u8]) -> Vec<(SubjectAttribute, String)> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for attribute in cert.subject().iter_attributes() {
        let key = match attribute.attr_type().to_id_string().as_str() {
            "2.5.4.6" => SubjectAttribute::C,
            "2.5.4.8" => SubjectAttribute::ST,
            "2.5.4.7" => SubjectAttribute::L,
            "2.5.4.10" => SubjectAttribute::O,
            "2.5.4.11" => SubjectAttribute::OU,
            _ => continue,
        };
        if let Ok(value) = attribute.as_str() {
            found.push((key, value.to_string()));
        }
    }
    found
}

/// A refusal, on one line whatever the value it names holds: a control or invisible character from a profile
/// file (TOML escapes can write any) or a command line is shown as `\XX`.
pub(super) fn bad_input(message: String) -> Error {
    Error::BadInput(crate::naming::escape_hidden(&message).unwrap_or(message))
}
