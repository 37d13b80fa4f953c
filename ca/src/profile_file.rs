//! Profile files (docs/profiles.md): `profiles/NAME.toml` in the CA folder says what a certificate issued
//! under NAME carries beyond its base profile (server, client or encryption) and what a request may ask for.
//! The file is read strictly (an unknown key is an error, not ignored), checked whole before the CA takes it,
//! and signed with the CA's settings, so what the CA issues under a name is what its key vouched for.

use std::collections::BTreeMap;
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

/// The folder of the CA that holds them.
pub const PROFILES_DIR: &str = "profiles";
/// The longest profile file certkit reads.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;
/// The longest user notice RFC 5280 allows (explicitText, 200 characters).
const MAX_NOTICE_CHARS: usize = 200;
/// Named extended key usages a profile may give instead of their OIDs.
const EKU_NAMES: [(&str, &str); 8] = [
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
            Err(Error::BadInput(format!(
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
            Profile::Encryption | Profile::Ca => &[],
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
                return Err(Error::BadInput(format!(
                    "the notice of policy {} must be 1 to {MAX_NOTICE_CHARS} characters (RFC 5280)",
                    self.oid
                )));
            }
            if notice
                .chars()
                .any(|c| c.is_control() || crate::naming::is_invisible(c))
            {
                return Err(Error::BadInput(format!(
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
        let encoding = |e: der::Error| Error::BadInput(format!("a certificate policy: {e}"));
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
                policy_identifier: ObjectIdentifier::new(&policy.oid).map_err(|_| {
                    Error::BadInput(format!("'{}' is not a policy OID", policy.oid))
                })?,
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
        _ => Err(Error::BadInput(format!(
            "'{oid}' is not an OID; write it dotted, e.g. 1.3.6.1.4.1.99999.1.1"
        ))),
    }
}

fn check_http_url(url: &str, what: &str) -> Result<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > 8
        && url.len() <= 2048
        && url.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "{what} '{url}' is not an http:// or https:// URL without spaces"
        )))
    }
}

/// Subject rules as a profile file writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectRules {
    /// Attributes every certificate gets, whatever the request says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixed: BTreeMap<SubjectAttribute, String>,
    /// Attributes a request may give (`--subject OU=Sales`), with the values allowed (`"*"`: any value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed: BTreeMap<SubjectAttribute, Vec<String>>,
    /// Attributes a request must give (each also in `allowed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<SubjectAttribute>,
}

/// Subject alternative name rules as a profile file writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanRules {
    /// The kinds a request may give (absent: every kind its base takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<SanKind>>,
    /// The kinds a request must give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<SanKind>,
}

/// A profile file as written (docs/profiles.md lists every key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// The built-in profile it starts from: server, client or encryption.
    pub base: Profile,
    /// One line on what it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The extended key usages (names or dotted OIDs); must keep the base's own. Absent: the base's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ekus: Option<Vec<String>>,
    /// The key usage bits. Absent: the base's for the key type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<KeyUsage>>,
    /// The longest validity, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    /// The key types a certificate may have. Absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_types: Option<Vec<KeyType>>,
    /// Subject attributes beyond the CN.
    #[serde(default, skip_serializing_if = "is_default")]
    pub subject: SubjectRules,
    /// Subject alternative names.
    #[serde(default, skip_serializing_if = "is_default")]
    pub san: SanRules,
    /// Certificate policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// The OCSP responder named in its certificates (else the CA's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_url: Option<String>,
    /// The CRL distribution point named in its certificates (else the CA's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    value == &T::default()
}

/// A checked profile file and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileFile {
    /// Its name (`profiles/NAME.toml`).
    pub name: String,
    /// What it says, checked.
    pub spec: ProfileSpec,
    /// The EKUs it writes, dotted, the base's first.
    pub ekus: Vec<String>,
}

/// Checks a profile name: 1 to 32 of a-z, 0-9, `-`, `_`, starting with a letter or digit, and not a built-in
/// profile's name.
pub fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !plain {
        return Err(Error::BadInput(format!(
            "'{name}' is not a profile name: use 1 to 32 lower-case letters, digits, - and _, e.g. staff"
        )));
    }
    if Profile::ALL.iter().any(|p| p.name() == name) || ["compat", "modern"].contains(&name) {
        return Err(Error::BadInput(format!(
            "'{name}' is a built-in profile: name the file's profile otherwise (its base can be {name})"
        )));
    }
    Ok(())
}

/// The dotted OID of an EKU given by name or dotted.
pub fn eku_oid(text: &str) -> Result<String> {
    if let Some((_, oid)) = EKU_NAMES.iter().find(|(name, _)| *name == text) {
        return Ok((*oid).to_string());
    }
    match policy_oid_der(text) {
        Ok(()) => Ok(text.to_string()),
        Err(_) => Err(Error::BadInput(format!(
            "'{text}' is not an EKU: use a dotted OID or one of {}",
            EKU_NAMES.map(|(name, _)| name).join(", ")
        ))),
    }
}

/// The line and column of byte `at` in `text`, counted from 1.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

impl ProfileFile {
    /// Parses and checks a profile file's text; `name` is its name.
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        check_name(name)?;
        if text.len() > MAX_PROFILE_BYTES {
            return Err(Error::BadInput(format!(
                "profile {name} is larger than {} KB: a profile file is a few lines",
                MAX_PROFILE_BYTES / 1024
            )));
        }
        let spec: ProfileSpec = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            Error::BadInput(format!(
                "profile {name}, line {line}: {}",
                e.message().trim().replace('\n', "; ")
            ))
        })?;
        Self::of_spec(name, spec)
    }

    /// Checks a profile as given in a structure.
    pub fn of_spec(name: &str, spec: ProfileSpec) -> Result<Self> {
        check_name(name)?;
        let bad = |what: String| Err(Error::BadInput(format!("profile {name}: {what}")));
        let wrap = |e: Error| Error::BadInput(format!("profile {name}: {e}"));
        let Some(base_eku) = spec.base.eku().filter(|_| spec.base.is_end_entity()) else {
            return bad("base must be server, client or encryption (a CA below is signed with certkit-ca sign-ca)".into());
        };
        let mut ekus = vec![base_eku.to_string()];
        if let Some(given) = &spec.ekus {
            let mut dotted = Vec::new();
            for eku in given {
                dotted.push(eku_oid(eku).map_err(wrap)?);
            }
            if !dotted.iter().any(|oid| oid == base_eku) {
                return bad(format!(
                    "ekus must keep {base_eku}, the EKU of base {} (it is what makes it a {} certificate)",
                    spec.base, spec.base
                ));
            }
            for oid in dotted {
                if ekus.contains(&oid) {
                    if oid != base_eku {
                        return bad(format!("ekus names {oid} twice"));
                    }
                } else {
                    ekus.push(oid);
                }
            }
        }
        if let Some(usages) = &spec.key_usage
            && usages.is_empty()
        {
            return bad("key_usage is empty: leave it out to use the base's".into());
        }
        if let Some(days) = spec.max_days
            && !(1..=crate::dates::MAX_DAYS).contains(&days)
        {
            return bad(format!(
                "max_days {days} is out of range: use 1 to {}",
                crate::dates::MAX_DAYS
            ));
        }
        if let Some(types) = &spec.key_types {
            if types.is_empty() {
                return bad("key_types is empty: leave it out to allow every key type".into());
            }
            if let Some(usages) = &spec.key_usage
                && let Some(key) = types
                    .iter()
                    .find(|key| usages.iter().any(|u| !u.fits(**key)))
            {
                return bad(format!(
                    "key_usage has a bit a {key} key cannot do (RSA keys encipher, EC keys agree on keys)"
                ));
            }
        }
        for (attribute, value) in &spec.subject.fixed {
            attribute.check_value(value).map_err(wrap)?;
            if spec.subject.allowed.contains_key(attribute) {
                return bad(format!("{attribute} is both fixed and allowed: pick one"));
            }
        }
        for (attribute, values) in &spec.subject.allowed {
            if values.is_empty() {
                return bad(format!(
                    "subject.allowed.{attribute} lists no value (use [\"*\"] for any value)"
                ));
            }
            for value in values.iter().filter(|v| v.as_str() != "*") {
                attribute.check_value(value).map_err(wrap)?;
            }
        }
        for attribute in &spec.subject.required {
            if !spec.subject.allowed.contains_key(attribute) {
                return bad(format!(
                    "subject.required names {attribute}, which subject.allowed does not list"
                ));
            }
        }
        let takes = SanKind::of_base(spec.base);
        let allowed = spec.san.allowed.as_deref().unwrap_or(takes);
        if let Some(kind) = allowed.iter().find(|k| !takes.contains(k)) {
            return bad(format!(
                "san.allowed names {}, which a {} certificate cannot carry",
                kind.name(),
                spec.base
            ));
        }
        if let Some(kind) = spec.san.required.iter().find(|k| !allowed.contains(k)) {
            return bad(format!(
                "san.required names {}, which san.allowed does not allow",
                kind.name()
            ));
        }
        for policy in &spec.policies {
            policy.check().map_err(wrap)?;
        }
        if let Some(url) = &spec.ocsp_url {
            check_http_url(url, "ocsp_url").map_err(wrap)?;
        }
        if let Some(url) = &spec.crl_url {
            crate::naming::check_crl_url(url).map_err(wrap)?;
        }
        if let Some(text) = &spec.description
            && text.chars().any(char::is_control)
        {
            return bad("description holds a control character".into());
        }
        Ok(ProfileFile {
            name: name.to_string(),
            spec,
            ekus,
        })
    }

    /// The file's text as certkit writes it (`profile show`).
    pub fn to_toml(spec: &ProfileSpec) -> Result<String> {
        toml::to_string(spec).map_err(|_| Error::Bug("a profile could not be written as TOML"))
    }

    /// What a built-in profile does, written as a profile file.
    pub fn builtin_spec(base: Profile) -> ProfileSpec {
        ProfileSpec {
            base,
            description: Some(base.description().to_string()),
            ekus: base.eku().map(|oid| {
                vec![
                    EKU_NAMES
                        .iter()
                        .find(|(_, known)| *known == oid)
                        .map_or(oid, |(name, _)| *name)
                        .to_string(),
                ]
            }),
            key_usage: None,
            max_days: None,
            key_types: None,
            subject: SubjectRules::default(),
            san: SanRules::default(),
            policies: Vec::new(),
            ocsp_url: None,
            crl_url: None,
        }
    }

    /// Checks a request against the profile before anything is made: the subject attributes it gives, the
    /// SAN kinds it has, its key type and its validity in days. A refusal names the rule and the value.
    pub fn check_request(&self, request: &ProfileRequest<'_>) -> Result<()> {
        let name = &self.name;
        let refuse = |what: String| Err(Error::BadInput(what));
        let rules = &self.spec.subject;
        for (attribute, value) in request.subject {
            if let Some(fixed) = rules.fixed.get(attribute) {
                if fixed != value {
                    return refuse(format!(
                        "{attribute}={value} is not allowed by profile {name}: {attribute} is always {fixed}"
                    ));
                }
                continue;
            }
            match rules.allowed.get(attribute) {
                None => {
                    return refuse(format!(
                        "{attribute}={value} is not allowed by profile {name}: it lets a request give {}",
                        given_attributes(rules)
                    ));
                }
                Some(values) if values.iter().any(|v| v == "*" || v == value) => {}
                Some(values) => {
                    return refuse(format!(
                        "{attribute}={value} is not allowed by profile {name}: allowed {attribute} values are {}",
                        values.join(", ")
                    ));
                }
            }
        }
        for attribute in &rules.required {
            if !request.subject.iter().any(|(a, _)| a == attribute) {
                return refuse(format!(
                    "profile {name} requires {attribute}: add --subject {attribute}=VALUE (allowed: {})",
                    rules
                        .allowed
                        .get(attribute)
                        .map_or(String::new(), |v| v.join(", "))
                ));
            }
        }
        let takes = SanKind::of_base(self.spec.base);
        let allowed = self.spec.san.allowed.as_deref().unwrap_or(takes);
        if let Some(kind) = request.sans.iter().find(|k| !allowed.contains(k)) {
            return refuse(format!(
                "{} is not allowed by profile {name}: it allows {}",
                kind.flag(),
                kinds_text(allowed)
            ));
        }
        if let Some(kind) = self
            .spec
            .san
            .required
            .iter()
            .find(|k| !request.sans.contains(k))
        {
            return refuse(format!(
                "profile {name} requires a {} name: add {} (it requires {})",
                kind.name(),
                kind.flag(),
                kinds_text(&self.spec.san.required)
            ));
        }
        if let Some(types) = &self.spec.key_types
            && !types.contains(&request.key_type)
        {
            return refuse(format!(
                "a {} key is not allowed by profile {name}: allowed key types are {}",
                request.key_type,
                types
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(max) = self.spec.max_days
            && request.days > i64::from(max)
        {
            return refuse(format!(
                "{} days is not allowed by profile {name}: its certificates live at most {max} days; give --days {max} or fewer",
                request.days
            ));
        }
        Ok(())
    }

    /// The subject attributes a certificate gets: the fixed ones and those given, in the order a subject is
    /// written.
    pub fn subject(&self, given: &[(SubjectAttribute, String)]) -> Vec<(SubjectAttribute, String)> {
        SubjectAttribute::ALL
            .into_iter()
            .filter_map(|attribute| {
                self.spec
                    .subject
                    .fixed
                    .get(&attribute)
                    .or_else(|| given.iter().find(|(a, _)| *a == attribute).map(|(_, v)| v))
                    .map(|value| (attribute, value.clone()))
            })
            .collect()
    }
}

fn given_attributes(rules: &SubjectRules) -> String {
    if rules.allowed.is_empty() {
        "no subject attribute beyond the CN".to_string()
    } else {
        rules
            .allowed
            .keys()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn kinds_text(kinds: &[SanKind]) -> String {
    if kinds.is_empty() {
        "no subject alternative name".to_string()
    } else {
        kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a request asks of a profile.
#[derive(Debug)]
pub struct ProfileRequest<'a> {
    /// Subject attributes given (`--subject`).
    pub subject: &'a [(SubjectAttribute, String)],
    /// The kinds of SAN it has.
    pub sans: &'a [SanKind],
    /// Its key type.
    pub key_type: KeyType,
    /// Its validity, in whole days (rounded up).
    pub days: i64,
}

/// Parses `KEY=VALUE` as `--subject` takes it.
pub fn parse_subject(text: &str) -> Result<(SubjectAttribute, String)> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(Error::BadInput(format!(
            "--subject {text}: write KEY=VALUE, e.g. --subject OU=Sales (KEY is one of C, ST, L, O, OU)"
        )));
    };
    let Some(attribute) = SubjectAttribute::of_name(key.trim()) else {
        return Err(Error::BadInput(format!(
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

#[cfg(test)]
mod tests;
