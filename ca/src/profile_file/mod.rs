//! Profile files (docs/profiles.md): `profiles/NAME.toml` in the CA folder says what a certificate issued
//! under NAME carries beyond its base profile (server, client or encryption) and what a request may ask for.
//! The file is read strictly (an unknown key is an error, not ignored), checked whole before the CA takes it,
//! and signed with the CA's settings, so what the CA issues under a name is what its key vouched for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::profile::Profile;

mod values;

pub use values::*;
use values::{EKU_NAMES, bad_input, check_http_url};

/// The folder of the CA that holds them.
pub const PROFILES_DIR: &str = "profiles";
/// The longest profile file certkit reads.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;

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
        return Err(bad_input(format!(
            "'{name}' is not a profile name: use 1 to 32 lower-case letters, digits, - and _, e.g. staff"
        )));
    }
    if Profile::ALL.iter().any(|p| p.name() == name) || ["compat", "modern"].contains(&name) {
        return Err(bad_input(format!(
            "'{name}' is a built-in profile: name the file's profile otherwise (its base can be {name})"
        )));
    }
    Ok(())
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
            return Err(bad_input(format!(
                "profile {name} is larger than {} KB: a profile file is a few lines",
                MAX_PROFILE_BYTES / 1024
            )));
        }
        let spec: ProfileSpec = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            bad_input(format!(
                "profile {name}, line {line}: {}",
                e.message().trim().replace('\n', "; ")
            ))
        })?;
        Self::of_spec(name, spec)
    }

    /// Checks a profile as given in a structure.
    pub fn of_spec(name: &str, spec: ProfileSpec) -> Result<Self> {
        check_name(name)?;
        let bad = |what: String| Err(bad_input(format!("profile {name}: {what}")));
        let wrap = |e: Error| bad_input(format!("profile {name}: {e}"));
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
        let refuse = |what: String| Err(bad_input(what));
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

#[cfg(test)]
mod tests;
