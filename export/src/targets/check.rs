//! Checking files made elsewhere against a target's rules (`inspect --for TARGET`): each broken rule is a
//! finding with the rule's code, the rule and its limit, and a command that makes a file the target takes.

use std::path::Path;

use super::rules::{Rule, rule};
use super::target::Target;
use crate::inspect::cert::CertFacts;
use crate::inspect::{Facts, Finding, Inspection, Level, pem_labels, shell_word};

/// id-kp-serverAuth, as `inspect` lists extended key usages.
const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

/// The finding of a broken rule: what the file is, then the rule as the target states it.
pub(crate) fn broken(
    code: &'static str,
    what: impl std::fmt::Display,
    fix: impl Into<String>,
) -> Finding {
    let rule = rule(code).map_or_else(String::new, |r: &Rule| {
        format!(": {} ({})", r.rule, r.target.name())
    });
    Finding::new(Level::Error, code, format!("{what}{rule}"), fix)
}

pub(crate) fn warned(
    code: &'static str,
    what: impl std::fmt::Display,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        level: Level::Warning,
        ..broken(code, what, fix)
    }
}

fn is_ca(cert: &CertFacts) -> bool {
    cert.basic_constraints.as_ref().is_some_and(|b| b.ca)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or("file".into(), |s| s.to_string_lossy().into_owned())
}

/// The findings of one file for `target`.
pub fn findings_for_file(
    target: Target,
    path: &Path,
    bytes: &[u8],
    inspection: &Inspection,
) -> Vec<Finding> {
    let file = shell_word(&path.display().to_string());
    let labels = pem_labels(bytes);
    let is_pem = !labels.is_empty();
    let mut out = Vec::new();
    match (target, &inspection.facts) {
        (Target::Appgw, Facts::Certificate { certificates, .. }) => {
            if bytes.len() as u64 > limit("appgw-file-too-large") {
                out.push(broken(
                    "appgw-file-too-large",
                    format!("{} is {} bytes", path.display(), bytes.len()),
                    "put each CA's chain (root and intermediates) in a file of its own",
                ));
            }
            if let Some(leaf) = certificates.iter().find(|c| !is_ca(c)) {
                out.push(broken(
                    "appgw-leaf-in-chain",
                    format!("{} holds {}, not a CA", path.display(), leaf.subject),
                    "keep only the CA certificates (root and intermediates) in the file; certkit-export cer --issuer writes the CA's",
                ));
            }
            let roots = certificates.iter().filter(|c| c.self_signed).count();
            if roots == 0 {
                out.push(broken(
                    "appgw-no-root",
                    format!("{} reaches no self-signed root", path.display()),
                    "add the root CA certificate to the file (cat intermediate.pem root.pem > trusted-client-ca.cer)",
                ));
            } else if roots > 1 {
                out.push(broken(
                    "appgw-several-chains",
                    format!("{} holds {roots} roots", path.display()),
                    "upload each chain as a file of its own (trusted-client-ca-1.cer, trusted-client-ca-2.cer)",
                ));
            }
        }
        (Target::Appgw, Facts::Pfx(_)) if bytes.len() as u64 > limit("appgw-pfx-too-large") => {
            out.push(broken(
                "appgw-pfx-too-large",
                format!("{} is {} bytes", path.display(), bytes.len()),
                "leave the root out of the listener PFX, or use a smaller key",
            ));
        }
        (Target::Appservice, Facts::Pfx(pfx)) => {
            let compat = pfx
                .compatibility
                .iter()
                .find(|v| v.consumer == "windows-legacy");
            if let Some(verdict) = compat.filter(|v| !v.ok) {
                out.push(broken(
                    "appservice-pfx-protection",
                    format!("{}: {}", path.display(), verdict.reason),
                    format!(
                        "certkit-export pfx --from {file} --profile compat --out {}",
                        shell_word(&format!("{}-compat.pfx", stem(path)))
                    ),
                ));
            }
            if pfx.has_key == Some(false) {
                out.push(broken(
                    "appservice-no-key",
                    format!("{} holds no private key", path.display()),
                    "export it again with its private key",
                ));
            }
            if let Some(leaf) = pfx.certificates.first() {
                if !pfx.certificates.iter().any(|c| c.self_signed) {
                    out.push(broken(
                        "appservice-chain-incomplete",
                        format!("{} holds no root", path.display()),
                        format!(
                            "certkit-export pfx --from {file} --chain ROOT.cer --profile compat --out {}",
                            shell_word(&format!("{}-chain.pfx", stem(path)))
                        ),
                    ));
                }
                let rsa_bits = leaf
                    .key
                    .strip_prefix("rsa")
                    .and_then(|b| b.parse::<u64>().ok());
                if rsa_bits.is_none_or(|b| b < limit("appservice-key")) {
                    out.push(broken(
                        "appservice-key",
                        format!("{} has a {} key", path.display(), leaf.key),
                        "issue it again with --key rsa2048 (or larger)",
                    ));
                }
                let server_auth = leaf
                    .extended_key_usage
                    .as_ref()
                    .is_none_or(|ekus| ekus.iter().any(|e| e == SERVER_AUTH));
                if !server_auth {
                    out.push(broken(
                        "appservice-not-server",
                        format!("{} is not a server certificate", path.display()),
                        "issue a server certificate: certkit-issue server",
                    ));
                }
            }
        }
        (Target::Apim, Facts::Certificate { certificates, .. }) => {
            if let Some(leaf) = certificates.iter().find(|c| !is_ca(c)) {
                out.push(broken(
                    "apim-not-ca",
                    format!("{} holds {}, not a CA", path.display(), leaf.subject),
                    "upload the CA certificate of the client certificates (certkit-export cer --issuer)",
                ));
            }
        }
        (Target::Keyvault | Target::Cses, _) if is_pem => {
            let file_key = labels.iter().find(|l| l.contains("PRIVATE KEY"));
            match file_key.map(String::as_str) {
                Some("RSA PRIVATE KEY" | "EC PRIVATE KEY") => out.push(broken(
                    "keyvault-pkcs1-key",
                    format!("{} holds a PKCS#1 or SEC1 key", path.display()),
                    format!(
                        "openssl pkcs8 -topk8 -nocrypt -in {file} -out {} (then append the certificate and chain)",
                        shell_word(&format!("{}-pkcs8.key", stem(path)))
                    ),
                )),
                Some("ENCRYPTED PRIVATE KEY") => out.push(broken(
                    "keyvault-encrypted-pem",
                    format!("{} holds an encrypted key", path.display()),
                    "import a PFX instead (certkit-export pfx), or decrypt the key: openssl pkcs8 -nocrypt",
                )),
                Some(_) => {}
                None => out.push(broken(
                    "keyvault-pem-contents",
                    format!("{} holds no private key", path.display()),
                    "put the PKCS#8 key first, then the certificate and its chain",
                )),
            }
            let strays: Vec<&String> = labels
                .iter()
                .filter(|l| !l.contains("PRIVATE KEY") && l.as_str() != "CERTIFICATE")
                .collect();
            if !strays.is_empty() {
                out.push(broken(
                    "keyvault-pem-contents",
                    format!("{} also holds {strays:?}", path.display()),
                    "keep only the key, the certificate and its chain",
                ));
            }
            out.extend(keyvault_key(path, &inspection.facts));
        }
        (Target::Keyvault | Target::Cses, Facts::Pfx(_)) => {
            out.extend(keyvault_key(path, &inspection.facts));
        }
        (Target::Nginx | Target::Haproxy, facts) => {
            let code = if target == Target::Nginx {
                "nginx-not-pem"
            } else {
                "haproxy-not-pem"
            };
            if !is_pem {
                let kind = if matches!(facts, Facts::Pfx(_)) {
                    "a PFX"
                } else {
                    "DER"
                };
                out.push(broken(
                    code,
                    format!("{} is {kind}", path.display()),
                    match facts {
                        Facts::Pfx(_) => format!(
                            "openssl pkcs12 -in {file} -out {} -noenc",
                            shell_word(&format!("{}.pem", stem(path)))
                        ),
                        _ => format!(
                            "openssl x509 -inform DER -in {file} -out {}",
                            shell_word(&format!("{}.pem", stem(path)))
                        ),
                    },
                ));
            } else if let Facts::Certificate { certificates, .. } = facts {
                if target == Target::Nginx
                    && certificates.len() > 1
                    && certificates.first().is_some_and(is_ca)
                    && certificates.iter().any(|c| !is_ca(c))
                {
                    out.push(broken(
                        "nginx-chain-order",
                        format!("{} starts with a CA certificate", path.display()),
                        "put the server certificate first, then its issuers",
                    ));
                }
                let leaf = certificates.first().is_some_and(|c| !is_ca(c));
                if target == Target::Haproxy
                    && leaf
                    && !labels.iter().any(|l| l.contains("PRIVATE KEY"))
                {
                    out.push(broken(
                        "haproxy-no-key",
                        format!("{} holds no private key", path.display()),
                        format!(
                            "cat {file} SERVER.key > {}",
                            shell_word(&format!("{}-crt.pem", stem(path)))
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// Key Vault's key types, from the certificate of a PEM or opened PFX.
fn keyvault_key(path: &Path, facts: &Facts) -> Vec<Finding> {
    let leaf = match facts {
        Facts::Certificate { certificates, .. } => certificates.first(),
        Facts::Pfx(pfx) => pfx.certificates.first(),
        _ => None,
    };
    let Some(leaf) = leaf else {
        return Vec::new();
    };
    let taken = ["rsa2048", "rsa3072", "rsa4096", "ec256", "ec384", "ec521"];
    if taken.contains(&leaf.key.as_str()) {
        return Vec::new();
    }
    vec![broken(
        "keyvault-key-type",
        format!("{} has a {} key", path.display(), leaf.key),
        "issue it again with --key rsa2048, rsa3072, rsa4096, p256 or p384",
    )]
}

/// The limit of the rule `code`.
fn limit(code: &str) -> u64 {
    rule(code).and_then(|r| r.limit).unwrap_or(u64::MAX)
}

/// The findings of a set of files given together for `target`: counts across files.
pub fn findings_for_set(target: Target, inspections: &[Inspection]) -> Vec<Finding> {
    let cas = inspections
        .iter()
        .filter(|i| matches!(&i.facts, Facts::Certificate { .. }))
        .count() as u64;
    match target {
        Target::Apim if cas > limit("apim-too-many-cas") => vec![broken(
            "apim-too-many-cas",
            format!("{cas} CA certificate files"),
            "keep the CAs that issue the clients of this instance",
        )],
        Target::Appgw if cas > limit("appgw-many-chains") => vec![warned(
            "appgw-many-chains",
            format!("{cas} chains"),
            "split the chains across SSL profiles",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::target::Target;

    /// Every code this file names (a string that starts with a target's name and a dash) is a rule of the
    /// table, and so has its row and source in docs/kits.md.
    #[test]
    fn every_code_named_is_a_rule() {
        let source = include_str!("check.rs");
        let code = source.split("mod tests").next().unwrap_or_default();
        let mut named = Vec::new();
        for literal in code.split('"').skip(1).step_by(2) {
            if Target::ALL
                .iter()
                .any(|t| literal.starts_with(&format!("{}-", t.name())))
            {
                named.push(literal);
            }
        }
        assert!(named.len() >= 15, "{named:?}");
        for code in named {
            assert!(super::rule(code).is_some(), "{code} is not in RULES");
        }
    }
}
