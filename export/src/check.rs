//! `cscfg --check`: the guide's pre-deploy check of a service configuration, read-only (docs/cscfg-check.md).
//! Every thumbprint entry and setting is checked for what breaks a deployment; with the certificate files,
//! that each thumbprint names one of them and that it fits its role; with the CA folder, that the allow-list
//! holds only certificates the CA issued and still stands behind.

use serde::Serialize;
use time::OffsetDateTime;

use certkit_ca::cscfg::{RoleValues, parse_allow_list};
use certkit_ca::naming::is_invisible;
use certkit_ca::profile::names;
use certkit_ca::store::inventory::{Entry, Status};
use certkit_ca::{CertInfo, Thumbprint};

use crate::inspect::cert::CertFacts;
use crate::inspect::{Finding, Level, Role};

/// A finding in one role of the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct RoleFinding {
    /// The role's name.
    pub role: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
}

/// A certificate file given with `--certs`.
pub struct GivenCert {
    /// The file, as given.
    pub file: String,
    /// Its facts.
    pub facts: CertFacts,
}

/// The CA folder given with `--ca-dir`.
pub struct CaView {
    /// The CA certificate.
    pub cert: CertInfo,
    /// The root its chain ends in (the CA itself when it is a root): what the service trusts.
    pub root: CertInfo,
    /// What it issued among the certificates the file allows.
    pub entries: Vec<Entry>,
    /// The CRL distribution point it puts into new certificates.
    pub crl_url: Option<String>,
    /// Its earlier certificates (replaced by `renew` or `rekey`), from its history.
    pub earlier: Vec<CertInfo>,
}

/// What to check the configuration against.
pub struct Context<'a> {
    /// The certificate files, if given.
    pub certs: &'a [GivenCert],
    /// The CA, if given.
    pub ca: Option<&'a CaView>,
    /// Now.
    pub now: OffsetDateTime,
}

/// Why a written thumbprint would not work: `None` when it is 40 hex digits as written.
fn thumbprint_problem(raw: &str) -> Option<(Level, &'static str, String)> {
    if raw.trim().is_empty() {
        return Some((Level::Error, "thumbprint-empty", "is empty".into()));
    }
    match Thumbprint::parse(raw) {
        Err(_) => Some((
            Level::Error,
            "thumbprint-malformed",
            format!(
                "is not a SHA-1 thumbprint (40 hex digits): '{}'",
                raw.chars()
                    .filter(|c| !c.is_control() && !is_invisible(*c))
                    .collect::<String>()
            ),
        )),
        Ok(_) if raw.chars().all(|c| c.is_ascii_hexdigit()) => None,
        Ok(t) => {
            let what = if raw.chars().any(is_invisible) {
                "an invisible character (U+200E, pasted from the Windows certificate dialog)"
            } else if raw.contains(':') {
                "colons"
            } else {
                "spaces"
            };
            Some((
                Level::Error,
                "thumbprint-pasted",
                format!("carries {what}; write it as {t}"),
            ))
        }
    }
}

/// The role a thumbprint entry's certificate plays.
fn role_of(name: &str) -> Option<Role> {
    match name {
        names::SSL => Some(Role::Ssl),
        names::CA | names::TRUSTED_ROOTS => Some(Role::Ca),
        names::ENCRYPTION | names::ENCRYPTION_SETTING => Some(Role::Encryption),
        names::ALLOWED_CLIENTS => Some(Role::Client),
        _ => None,
    }
}

/// The settings whose values are thumbprints.
fn is_thumbprint_setting(name: &str) -> bool {
    name == names::TRUSTED_ROOTS || name.ends_with("CertificateThumbprint")
}

/// Checks every role of a configuration.
pub fn check(roles: &[RoleValues], ctx: &Context<'_>) -> Vec<RoleFinding> {
    let mut out = Vec::new();
    for role in roles {
        let mut add = |finding: Finding| {
            out.push(RoleFinding {
                role: role.role.clone(),
                finding,
            })
        };
        let client_auth_off = [names::SETUP_WEBAPP, names::SETUP_WEBSERVER]
            .iter()
            .all(|n| {
                role.setting(n)
                    .is_some_and(|v| v.eq_ignore_ascii_case("false"))
            });
        // Every single thumbprint, as written.
        let mut singles: Vec<(String, &str)> = role
            .certificates
            .iter()
            .map(|(name, t, _)| (format!("<Certificate name=\"{name}\">"), t.as_str()))
            .collect();
        singles.extend(
            role.settings
                .iter()
                .filter(|(name, _)| is_thumbprint_setting(name))
                .map(|(name, v)| (format!("Setting {name}"), v.as_str())),
        );
        for (what, raw) in &singles {
            if let Some((level, code, message)) = thumbprint_problem(raw) {
                add(Finding::new(
                    level,
                    code,
                    format!("{what}: the thumbprint {message}"),
                    "set it with certkit-export cscfg (it writes 40 uppercase hex digits)",
                ));
            }
        }
        for (name, _, algorithm) in &role.certificates {
            if algorithm.as_deref().is_some_and(|a| a != "sha1") {
                add(Finding::error(
                    "thumbprint-algorithm",
                    format!(
                        "<Certificate name=\"{name}\">: thumbprintAlgorithm is '{}', and Azure accepts only sha1",
                        algorithm.as_deref().unwrap_or_default()
                    ),
                    "set it with certkit-export cscfg (thumbprintAlgorithm=\"sha1\")",
                ));
            }
        }
        let same = |a: &str, b: &str| match (Thumbprint::parse(a), Thumbprint::parse(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => a.trim() == b.trim(),
        };
        if let (Some(ca), Some(roots)) = (
            role.certificate(names::CA),
            role.setting(names::TRUSTED_ROOTS),
        ) && !ca.trim().is_empty()
            && !roots.trim().is_empty()
            && !same(ca, roots)
            && !client_auth_off
        {
            add(Finding::error(
                "ca-mismatch",
                format!(
                    "<Certificate name=\"CA\"> ({}) and AdditionalTrustedRootCertificationAuthorities ({}) name different certificates",
                    ca.trim(),
                    roots.trim()
                ),
                "set both at once: certkit-export cscfg --ca-cert CA.cer",
            ));
        }
        if let (Some(cert), Some(setting)) = (
            role.certificate(names::ENCRYPTION),
            role.setting(names::ENCRYPTION_SETTING),
        ) && !cert.trim().is_empty()
            && !same(cert, setting)
        {
            add(Finding::error(
                "encryption-mismatch",
                format!(
                    "<Certificate name=\"DataEncryptionPrimary\"> and DataEncryptionPrimaryCertificateThumbprint name different certificates ({} and {})",
                    cert.trim(),
                    setting.trim()
                ),
                "set both at once: certkit-export cscfg --encryption ENC.cer",
            ));
        }
        let allowed = role.setting(names::ALLOWED_CLIENTS).map(parse_allow_list);
        match &allowed {
            Some(Err(what)) => add(Finding::error(
                "thumbprint-malformed",
                format!("Setting {}: {what}", names::ALLOWED_CLIENTS),
                "fix the entry by hand, then manage the list with certkit-export cscfg --allow/--disallow",
            )),
            Some(Ok(list)) if list.is_empty() && !client_auth_off => add(Finding::warning(
                "allow-list-empty",
                format!(
                    "Setting {} is empty: no client certificate can connect",
                    names::ALLOWED_CLIENTS
                ),
                "add the people's certificates: certkit-export cscfg --allow CERT",
            )),
            _ => {}
        }
        if let Some(value) = role.setting(names::ALLOWED_CLIENTS) {
            for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if let Some((_, "thumbprint-pasted", message)) = thumbprint_problem(entry) {
                    add(Finding::error(
                        "thumbprint-pasted",
                        format!("Setting {}: the entry {message}", names::ALLOWED_CLIENTS),
                        "manage the list with certkit-export cscfg --allow/--disallow (it normalises every entry)",
                    ));
                }
            }
        }
        let allow_list: Vec<Thumbprint> = match allowed {
            Some(Ok(list)) => list,
            _ => Vec::new(),
        };

        // Against the certificate files.
        if !ctx.certs.is_empty() {
            let find = |t: &Thumbprint| ctx.certs.iter().find(|c| c.facts.thumbprint == *t);
            let mut named: Vec<(String, Thumbprint, Role, Level)> = Vec::new();
            for (what, raw) in &singles {
                let name = what
                    .trim_start_matches("<Certificate name=\"")
                    .trim_end_matches("\">")
                    .trim_start_matches("Setting ");
                if let (Ok(t), Some(r)) = (Thumbprint::parse(raw), role_of(name)) {
                    named.push((what.clone(), t, r, Level::Error));
                }
            }
            for t in &allow_list {
                named.push((
                    format!("Setting {}", names::ALLOWED_CLIENTS),
                    *t,
                    Role::Client,
                    Level::Warning,
                ));
            }
            for (what, thumbprint, cert_role, level) in named {
                match find(&thumbprint) {
                    None => add(Finding::new(
                        level,
                        "thumbprint-unknown",
                        format!("{what}: {thumbprint} matches none of the certificate files given"),
                        "give the certificate with --certs, or set the entry from the file: certkit-export cscfg",
                    )),
                    Some(given) => {
                        let role_for_lint = if cert_role == Role::Ca
                            && given.facts.basic_constraints.as_ref().is_none_or(|b| !b.ca)
                        {
                            // With client authentication off the CA entry holds the SSL certificate.
                            None
                        } else {
                            Some(cert_role)
                        };
                        for finding in given.facts.lint(role_for_lint, None, 0, ctx.now) {
                            add(Finding {
                                message: format!("{what} ({}): {}", given.file, finding.message),
                                ..finding
                            });
                        }
                    }
                }
            }
        }

        // Against the CA folder.
        if let Some(ca) = ctx.ca {
            if let Some(written) = role.certificate(names::CA)
                && let Ok(t) = Thumbprint::parse(written)
                && t != ca.root.thumbprint
                && !client_auth_off
            {
                let (what, fix) = if ca.root.thumbprint == ca.cert.thumbprint {
                    (
                        format!(
                            "the CA in the folder given ({}, {})",
                            ca.cert.subject, ca.cert.thumbprint
                        ),
                        "set it: certkit-export cscfg --ca-cert CA/ca.cer",
                    )
                } else {
                    (
                        format!(
                            "the root of the CA in the folder given ({}, {}, above {})",
                            ca.root.subject, ca.root.thumbprint, ca.cert.subject
                        ),
                        "set it: certkit-export cscfg --ca-cert CA/chain.pem (the service trusts the root)",
                    )
                };
                match ca.earlier.iter().find(|c| c.thumbprint == t) {
                    // A rollover that reached the CA folder but not this file: the service still trusts the
                    // CA's certificate from before the renewal or re-key.
                    Some(earlier) => add(Finding::error(
                        "ca-earlier-certificate",
                        format!(
                            "<Certificate name=\"CA\"> is {t}, an earlier certificate of {} (serial {}, until {}), not its current one {}",
                            earlier.subject,
                            earlier.serial,
                            certkit_ca::dates::rfc3339(earlier.not_after),
                            ca.root.thumbprint
                        ),
                        "finish the rollover: certkit-export cscfg --ca-cert CA/ca.cer (upload the new .cer to the service first)",
                    )),
                    None => add(Finding::error(
                        "ca-not-this-ca",
                        format!("<Certificate name=\"CA\"> is {t}, not {what}"),
                        fix,
                    )),
                }
            }
            for t in &allow_list {
                let entry = ca.entries.iter().find(|e| e.issued.thumbprint == *t);
                match entry.map(|e| (e, e.status(ctx.now))) {
                    None => add(Finding::warning(
                        "allowed-not-issued",
                        format!(
                            "Setting {}: {t} was not issued by the CA {}",
                            names::ALLOWED_CLIENTS,
                            ca.cert.subject
                        ),
                        format!(
                            "remove it unless another CA issued it: certkit-export cscfg --disallow {t}"
                        ),
                    )),
                    Some((e, Status::Revoked(reason))) => add(Finding::error(
                        "allowed-revoked",
                        format!(
                            "Setting {}: {t} ({}) was revoked ({reason})",
                            names::ALLOWED_CLIENTS,
                            e.issued.subject
                        ),
                        format!("remove it: certkit-export cscfg --disallow {t}"),
                    )),
                    Some((e, Status::Expired)) => add(Finding::error(
                        "allowed-expired",
                        format!(
                            "Setting {}: {t} ({}) expired",
                            names::ALLOWED_CLIENTS,
                            e.issued.subject
                        ),
                        format!(
                            "renew it (certkit-issue renew) and remove it: certkit-export cscfg --disallow {t}"
                        ),
                    )),
                    Some((e, Status::Undelivered)) => add(Finding::error(
                        "allowed-undelivered",
                        format!(
                            "Setting {}: {t} ({}) was never delivered by the CA",
                            names::ALLOWED_CLIENTS,
                            e.issued.subject
                        ),
                        format!("remove it: certkit-export cscfg --disallow {t}"),
                    )),
                    Some((_, Status::Valid)) => {}
                }
            }
        }

        // Online revocation checks need a CRL distribution point in the client certificates.
        if role
            .setting(names::REVOCATION_CHECK)
            .is_some_and(|v| v.eq_ignore_ascii_case("Online"))
        {
            let from_ca = ctx.ca.map(|ca| {
                ca.crl_url.is_some()
                    || allow_list.iter().any(|t| {
                        ca.entries
                            .iter()
                            .any(|e| e.issued.thumbprint == *t && e.issued.crl_url.is_some())
                    })
            });
            let from_files = (!ctx.certs.is_empty()).then(|| {
                ctx.certs
                    .iter()
                    .filter(|c| allow_list.contains(&c.facts.thumbprint))
                    .any(|c| !c.facts.crl_distribution_points.is_empty())
            });
            if from_ca == Some(false) || (from_ca.is_none() && from_files == Some(false)) {
                add(Finding::error(
                    "revocation-online-no-crl",
                    "ClientCertificateRevocationCheck is Online, but the client certificates name no CRL distribution point: every client would be refused".to_string(),
                    "issue the client certificates from a CA made with --crl-url and publish its CRL there (certkit-ca crl), or set --revocation-check NoCheck",
                ));
            }
        }
    }
    out
}
