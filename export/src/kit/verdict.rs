//! The kit's files checked against the target's rules before anything is written: the rules `inspect --for`
//! checks on files made elsewhere, and what only the CA can tell (OCSP and CRL URLs, CRLs in force).

use std::path::Path;

use certkit_ca::{Result, Secret};
use serde::Serialize;
use time::OffsetDateTime;

use super::contents::KitFile;
use super::material::CaMaterial;
use crate::inspect::{self, Finding, Level};
use crate::targets::{self, RULES, Target, broken, warned};

/// One rule of the target and how the kit stands against it.
#[derive(Clone, Debug, Serialize)]
pub struct RuleVerdict {
    /// The rule's code.
    pub code: &'static str,
    /// What the consumer takes.
    pub rule: &'static str,
    /// Its limit, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The public page that states it.
    pub source: &'static str,
    /// `ok`, `warning` or `broken`.
    pub verdict: &'static str,
}

/// What the CA's options say about revocation for the target.
#[derive(Clone, Copy, Debug)]
pub struct Demands {
    /// Refuse (not only warn) a client CA whose certificates name no OCSP responder (Application Gateway).
    pub require_revocation: bool,
}

/// The findings of the kit's files and of the CA for `target`.
pub fn check(
    target: Target,
    files: &[KitFile],
    out_dir: &Path,
    pfx_password: Option<&Secret>,
    ca: &CaMaterial,
    demands: Demands,
    now: OffsetDateTime,
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut inspections = Vec::new();
    for file in files.iter().filter(|f| f.checked && !f.bytes.is_empty()) {
        let path = out_dir.join(&file.name);
        let inspection = inspect::inspect(&path, &file.bytes, pfx_password, None, now)?;
        findings.extend(targets::findings_for_file(
            target,
            &path,
            &file.bytes,
            &inspection,
        ));
        inspections.push(inspection);
    }
    // Counts across files are of the CA files a consumer uploads one by one.
    let uploads: Vec<_> = inspections
        .into_iter()
        .filter(|i| {
            let name = Path::new(&i.file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with("trusted-client-ca") || name.starts_with("ca-")
        })
        .collect();
    findings.extend(targets::findings_for_set(target, &uploads));
    findings.extend(ca_findings(target, ca, demands));
    Ok(findings)
}

fn ca_findings(target: Target, ca: &CaMaterial, demands: Demands) -> Vec<Finding> {
    let dir = inspect::shell_word(&ca.dir.display().to_string());
    let mut out = Vec::new();
    match target {
        Target::Appgw => {
            let without = ca.clients.iter().filter(|c| !c.has_ocsp).count();
            let what = if ca.ocsp_url.is_none() {
                Some("the CA names no OCSP responder".to_string())
            } else if without > 0 {
                Some(format!(
                    "{without} of {} valid client certificates name no OCSP responder",
                    ca.clients.len()
                ))
            } else {
                None
            };
            if let Some(what) = what {
                let fix = format!(
                    "certkit-ca settings --ca {dir} --ocsp-url URL, serve it (certkit-ca ocsp serve), and renew the client certificates issued before"
                );
                out.push(if demands.require_revocation {
                    broken("appgw-no-ocsp", what, fix)
                } else {
                    warned("appgw-no-ocsp", what, fix)
                });
            }
        }
        Target::Apim => {
            let without = ca.clients.iter().filter(|c| !c.has_crl).count();
            if ca.crl_url.is_none() || without > 0 {
                out.push(warned(
                    "apim-no-crl",
                    if ca.crl_url.is_none() {
                        "the CA names no CRL URL".to_string()
                    } else {
                        format!(
                            "{without} of {} valid client certificates name no CRL",
                            ca.clients.len()
                        )
                    },
                    format!(
                        "certkit-ca settings --ca {dir} --crl-url URL and renew the client certificates, or set validate-revocation=\"false\" in the policy"
                    ),
                ));
            }
        }
        Target::Nginx | Target::Haproxy | Target::Appservice => {
            for missing in ca.missing_crls() {
                let what = format!("no CRL of {} in force", missing.cert.subject);
                let fix = if ca.issuers.iter().any(|i| i.cert.der == missing.cert.der) {
                    format!("sign one: certkit-ca crl --ca {dir} (or crl publish from a series)")
                } else {
                    "give the CRL of that CA with --crl FILE (certkit-ca crl --ca ITS-FOLDER)"
                        .to_string()
                };
                out.push(match target {
                    Target::Nginx => broken("nginx-crl-missing", what, fix),
                    Target::Haproxy => broken("haproxy-crl-missing", what, fix),
                    _ => Finding::warning(
                        "crl-missing",
                        format!("{what}: the app cannot check revocation"),
                        fix,
                    ),
                });
            }
        }
        Target::Keyvault | Target::Cses => {}
    }
    out
}

/// Every rule of `target` with the kit's verdict on it.
pub fn verdicts(target: Target, findings: &[Finding]) -> Vec<RuleVerdict> {
    let owner = if target == Target::Cses {
        Target::Keyvault
    } else {
        target
    };
    RULES
        .iter()
        .filter(|r| r.target == owner)
        .map(|r| {
            let mine = findings.iter().filter(|f| f.code == r.code);
            let verdict = mine.fold("ok", |v, f| match (v, f.level) {
                (_, Level::Error) | ("broken", _) => "broken",
                _ => "warning",
            });
            RuleVerdict {
                code: r.code,
                rule: r.rule,
                limit: r.limit,
                source: r.source,
                verdict,
            }
        })
        .collect()
}
