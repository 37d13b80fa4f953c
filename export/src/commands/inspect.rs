//! `certkit-export inspect`: what each file is, whether it will load where it is going, what is wrong with it.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use certkit_ca::secret::{self, SecretUse};
use certkit_ca::term::{self, Format, Report, secrets};
use certkit_ca::{Error, Result, Secret, SecretSource, files};
use serde::Serialize;

use crate::inspect::cert::CertFacts;
use crate::inspect::{self, Facts, Inspection, Level, Role};
use crate::targets::{self, Target};

/// What `certkit-export inspect` was asked to do.
#[derive(Debug)]
pub struct InspectRequest {
    /// The files.
    pub files: Vec<PathBuf>,
    /// Where the PFX password comes from.
    pub pfx_pass: Option<SecretSource>,
    /// CA certificates above the inspected ones, for their name constraints.
    pub chain: Vec<PathBuf>,
    /// The role of the certificates.
    pub role: Option<Role>,
    /// The consumer whose rules the files are checked against (`--for`).
    pub target: Option<Target>,
    /// How to print.
    pub format: Format,
}

/// Every file's inspection.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct InspectReport {
    files: Vec<Inspection>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Inspects the files; exit 1 when any has an error-level finding.
pub fn run(req: InspectRequest) -> Result<()> {
    let now = time::OffsetDateTime::now_utc();
    let chain = inspect::chain::read(&req.chain)?;
    let mut password: Option<Secret> = match &req.pfx_pass {
        Some(_) => Some(secrets::obtain(
            req.pfx_pass.as_ref(),
            secret::PFX_PASS,
            SecretUse::Existing,
        )?),
        None => None,
    };
    let mut report = InspectReport {
        files: Vec::new(),
        warnings: Vec::new(),
    };
    for path in &req.files {
        let bytes = files::read(path)?;
        let is_pfx = certkit_ca::pfx::structure::parse(&bytes).is_ok();
        if is_pfx && password.is_none() {
            if std::io::stdin().is_terminal() {
                password = Some(secrets::obtain(
                    None,
                    secret::PFX_PASS,
                    SecretUse::Existing,
                )?);
            } else {
                report.warnings.push(format!(
                    "{}: a PFX, shown without opening it; give --from-pass to check its key and certificates",
                    path.display()
                ));
            }
        }
        let mut inspection = inspect::inspect(path, &bytes, password.as_ref(), req.role, now)?;
        if !chain.is_empty()
            && let Some(leaf) = inspect::chain::leaf(path, &bytes, password.as_ref())
        {
            inspection
                .findings
                .extend(inspect::chain::findings(&leaf, &chain));
        }
        if let Some(target) = req.target {
            let found = targets::findings_for_file(target, path, &bytes, &inspection);
            inspection.findings.extend(found);
        }
        report.files.push(inspection);
    }
    // Counts across the files (APIM's ten CAs, Application Gateway's chains) are reported on the first.
    if let Some(target) = req.target {
        let found = targets::findings_for_set(target, &report.files);
        if let Some(first) = report.files.first_mut() {
            first.findings.extend(found);
        }
    }
    term::render(&report, req.format)?;
    let failing = report.files.iter().filter(|f| f.has_errors()).count();
    if failing > 0 {
        return Err(Error::Failed(format!(
            "{failing} of {} file(s) have error-level findings",
            report.files.len()
        )));
    }
    Ok(())
}

fn write_cert(out: &mut dyn Write, cert: &CertFacts, indent: &str) -> io::Result<()> {
    use certkit_ca::dates::rfc3339;
    writeln!(out, "{indent}subject      {}", cert.subject)?;
    writeln!(
        out,
        "{indent}issuer       {}{}",
        cert.issuer,
        if cert.self_signed {
            " (self-signed)"
        } else {
            ""
        }
    )?;
    writeln!(out, "{indent}serial       {}", cert.serial)?;
    writeln!(
        out,
        "{indent}valid        {} .. {}",
        rfc3339(cert.not_before),
        rfc3339(cert.not_after)
    )?;
    writeln!(out, "{indent}key          {}", cert.key)?;
    writeln!(out, "{indent}signature    {}", cert.signature_algorithm)?;
    match &cert.basic_constraints {
        Some(bc) => writeln!(
            out,
            "{indent}constraints  CA:{}{}{}",
            if bc.ca { "TRUE" } else { "FALSE" },
            bc.pathlen
                .map(|n| format!(", pathlen {n}"))
                .unwrap_or_default(),
            if bc.critical { " (critical)" } else { "" }
        )?,
        None => writeln!(out, "{indent}constraints  (none)")?,
    }
    let list = |items: &Option<Vec<String>>| match items {
        Some(items) if items.is_empty() => "(empty)".to_string(),
        Some(items) => items.join(", "),
        None => "(none)".to_string(),
    };
    writeln!(out, "{indent}key usage    {}", list(&cert.key_usage))?;
    let named: Option<Vec<String>> = cert
        .extended_key_usage
        .as_ref()
        .map(|ekus| ekus.iter().map(|oid| eku_shown(oid)).collect());
    writeln!(out, "{indent}ext. usage   {}", list(&named))?;
    if !cert.subject_alt_names.is_empty() {
        writeln!(
            out,
            "{indent}SANs         {}",
            cert.subject_alt_names.join(", ")
        )?;
    }
    writeln!(
        out,
        "{indent}SKI / AKI    {} / {}",
        cert.subject_key_id.as_deref().unwrap_or("(none)"),
        cert.authority_key_id.as_deref().unwrap_or("(none)")
    )?;
    for url in &cert.crl_distribution_points {
        writeln!(out, "{indent}CRL          {url}")?;
    }
    for url in &cert.ocsp_urls {
        writeln!(out, "{indent}OCSP         {url}")?;
    }
    for url in &cert.ca_issuers_urls {
        writeln!(out, "{indent}CA issuers   {url}")?;
    }
    if let Some(mapping) = &cert.ad_mapping {
        use certkit_ca::ad_mapping::StrongMapping;
        let sid = mapping
            .sid
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let how = match mapping.strong_mapping {
            StrongMapping::SidExtension => format!("strong: SID extension ({sid})"),
            StrongMapping::SidUri => {
                format!("strong: SID URI ({sid}; KDCs on Windows Server 2019 and later, not 2016)")
            }
            StrongMapping::ExplicitOnly => {
                "weak: no SID inside; only an explicit altSecurityIdentities entry maps it"
                    .to_string()
            }
        };
        writeln!(out, "{indent}AD mapping   {how}")?;
        let ids = &mapping.alt_security_identities;
        writeln!(out, "{indent}             {}", ids.issuer_serial_number)?;
        if let Some(ski) = &ids.ski {
            writeln!(out, "{indent}             {ski}")?;
        }
    }
    writeln!(out, "{indent}thumbprint   {}", cert.thumbprint)
}

impl Report for InspectReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        for (i, file) in self.files.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            match &file.facts {
                Facts::Certificate {
                    format,
                    certificates,
                } => {
                    writeln!(
                        out,
                        "{}: certificate ({}, {} in the file)",
                        file.file,
                        format.to_uppercase(),
                        certificates.len()
                    )?;
                    for (n, cert) in certificates.iter().enumerate() {
                        if n > 0 {
                            writeln!(out, "  --")?;
                        }
                        write_cert(out, cert, "  ")?;
                    }
                }
                Facts::Pfx(pfx) => {
                    writeln!(out, "{}: PFX (PKCS#12)", file.file)?;
                    for part in &pfx.protection {
                        let extra = match (&part.friendly_name, &part.local_key_id) {
                            (Some(name), Some(id)) => {
                                format!(", friendlyName {name}, localKeyID {id}")
                            }
                            (Some(name), None) => format!(", friendlyName {name}"),
                            (None, Some(id)) => format!(", localKeyID {id}"),
                            (None, None) => String::new(),
                        };
                        writeln!(
                            out,
                            "  {:<14}{}, {}, {} iterations{extra}",
                            part.part, part.algorithm, part.kdf, part.iterations
                        )?;
                    }
                    if pfx.opened {
                        writeln!(
                            out,
                            "  key           {}",
                            match (pfx.has_key, pfx.key_matches) {
                                (Some(true), Some(true)) => "present, matches the certificate",
                                (Some(true), _) => "present, DOES NOT match the certificate",
                                _ => "none",
                            }
                        )?;
                        if let Some(name) = &pfx.friendly_name {
                            writeln!(out, "  friendlyName  {name}")?;
                        }
                        for (n, cert) in pfx.certificates.iter().enumerate() {
                            writeln!(out, "  {}", if n == 0 { "certificate:" } else { "chain:" })?;
                            write_cert(out, cert, "    ")?;
                        }
                    }
                    writeln!(out, "  will it load?")?;
                    for verdict in &pfx.compatibility {
                        writeln!(
                            out,
                            "    {:<17}{}  {}",
                            verdict.consumer,
                            if verdict.ok { "yes" } else { "NO " },
                            verdict.reason
                        )?;
                    }
                    if let Some(fix) = &pfx.fix {
                        writeln!(out, "  fix: {fix}")?;
                    }
                }
                Facts::Csr(csr) => {
                    writeln!(out, "{}: certificate signing request", file.file)?;
                    writeln!(out, "  subject      {}", csr.subject)?;
                    writeln!(out, "  key          {}", csr.key)?;
                    writeln!(
                        out,
                        "  signature    {} ({})",
                        csr.signature_algorithm,
                        if csr.signature_ok {
                            "verifies"
                        } else {
                            "DOES NOT verify"
                        }
                    )?;
                }
                Facts::Crl(crl) => {
                    writeln!(out, "{}: CRL", file.file)?;
                    writeln!(out, "  issuer       {}", crl.issuer)?;
                    writeln!(
                        out,
                        "  updated      {} (next {})",
                        crl.this_update,
                        crl.next_update.as_deref().unwrap_or("not given")
                    )?;
                    if let Some(number) = &crl.crl_number {
                        writeln!(out, "  CRL number   {number}")?;
                    }
                    writeln!(out, "  revoked      {} certificate(s)", crl.revoked.len())?;
                    writeln!(out, "  signature    {}", crl.signature_algorithm)?;
                }
                Facts::Key(key) => {
                    writeln!(out, "{}: private key ({})", file.file, key.format)?;
                    match &key.encryption {
                        Some(e) => {
                            let work = match (e.iterations, e.scrypt) {
                                (_, Some([n, r, p])) => format!("N={n} r={r} p={p}"),
                                (Some(i), None) => format!("{i} iterations"),
                                (None, None) => String::new(),
                            };
                            writeln!(
                                out,
                                "  encrypted    {} {} {work}, {}",
                                e.scheme, e.kdf, e.cipher
                            )?;
                        }
                        None => writeln!(
                            out,
                            "  encrypted    NO ({})",
                            key.key.as_deref().unwrap_or("unknown key")
                        )?,
                    }
                }
            }
            if file.findings.is_empty() {
                writeln!(out, "  findings     none")?;
            }
            for finding in &file.findings {
                let level = match finding.level {
                    Level::Error => "error",
                    Level::Warning => "warning",
                };
                writeln!(out, "  {level:<8}{}: {}", finding.code, finding.message)?;
                writeln!(out, "          fix: {}", finding.fix)?;
            }
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// An extended key usage as people know it, with its OID: `clientAuth (1.3.6.1.5.5.7.3.2)`; an OID certkit
/// has no name for as it is.
fn eku_shown(oid: &str) -> String {
    let name = match oid {
        "1.3.6.1.5.5.7.3.1" => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        "1.3.6.1.4.1.311.20.2.2" => "smartcardLogon",
        "1.3.6.1.4.1.311.80.1" => "Document Encryption",
        "1.3.6.1.4.1.311.10.3.4" => "Encrypting File System",
        "2.5.29.37.0" => "anyExtendedKeyUsage",
        _ => return oid.to_string(),
    };
    format!("{name} ({oid})")
}

#[cfg(test)]
mod tests {
    #[test]
    fn extended_key_usages_are_named() {
        assert_eq!(
            super::eku_shown("1.3.6.1.5.5.7.3.2"),
            "clientAuth (1.3.6.1.5.5.7.3.2)"
        );
        assert_eq!(super::eku_shown("1.2.3.4"), "1.2.3.4");
    }
}
