//! What an issuing command prints about the certificate it made.

use std::io::{self, Write};

use certkit_ca::ad_mapping::{AdMapping, StrongMapping};
use certkit_ca::dates::rfc3339;
use certkit_ca::pfx::PfxProfile;
use certkit_ca::san::San;
use certkit_ca::term::Report;
use certkit_ca::term::output::path_texts;
use certkit_ca::{KeyType, Profile, Serial, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use crate::engine::Issued;

/// A certificate that was issued, as `server`, `client`, `encryption` and `sign` print it.
#[derive(Debug, Serialize)]
pub struct IssueReport {
    /// Subject.
    pub subject: String,
    /// Subject common name.
    pub cn: Option<String>,
    /// Serial.
    pub serial: Serial,
    /// Profile.
    pub profile: Profile,
    /// Key type.
    pub key: KeyType,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// Extended key usages.
    pub ekus: Vec<String>,
    /// Issuer's subject (its own when self-signed).
    pub issuer: String,
    /// True when self-signed.
    pub self_signed: bool,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// The PFX profile, when a PFX was written.
    pub pfx_profile: Option<PfxProfile>,
    /// Files written.
    pub files: Vec<String>,
    /// The ready-to-paste .cscfg line.
    pub config_line: String,
    /// For a client certificate: how Active Directory maps it, with the ready-to-paste `altSecurityIdentities`
    /// values and PowerShell line (docs/ad-mapping.md).
    pub ad_mapping: Option<AdMapping>,
    #[serde(skip)]
    warnings: Vec<String>,
}

impl IssueReport {
    /// The report for `issued`; `issuer` is None when self-signed.
    pub fn new(
        issued: Issued,
        profile: Profile,
        key: KeyType,
        issuer: Option<String>,
        pfx_profile: Option<PfxProfile>,
        warnings: Vec<String>,
    ) -> Self {
        let cert = issued.cert;
        let ad_mapping = match profile {
            Profile::Client => AdMapping::of_der(&cert.der).ok(),
            _ => None,
        };
        IssueReport {
            ad_mapping,
            config_line: profile.config_line(&cert.thumbprint),
            self_signed: issuer.is_none(),
            issuer: issuer.unwrap_or_else(|| cert.subject.clone()),
            subject: cert.subject,
            cn: cert.cn,
            serial: cert.serial,
            profile,
            key,
            sans: cert.sans,
            ekus: cert.ekus,
            not_before: cert.not_before,
            not_after: cert.not_after,
            thumbprint: cert.thumbprint,
            sha256: cert.sha256,
            pfx_profile,
            files: path_texts(&issued.files),
            warnings,
        }
    }
}

/// What Active Directory makes of a client certificate, and the lines that map it to an account explicitly.
pub fn write_ad_mapping(out: &mut dyn Write, mapping: &AdMapping) -> io::Result<()> {
    let how = match mapping.strong_mapping {
        StrongMapping::SidExtension => {
            "strongly mapped by the SID extension; or map it explicitly on the account:"
        }
        StrongMapping::SidUri => {
            "strongly mapped by the SID URI (KDCs on Windows Server 2019 and later); or map it explicitly on the \
             account:"
        }
        StrongMapping::ExplicitOnly => {
            "no SID inside (--sid): to sign in to Active Directory, map it explicitly on the account:"
        }
    };
    writeln!(out, "Active Directory: {how}")?;
    let ids = &mapping.alt_security_identities;
    writeln!(out, "  altSecurityIdentities  {}", ids.issuer_serial_number)?;
    if let Some(ski) = &ids.ski {
        writeln!(out, "  altSecurityIdentities  {ski}")?;
    }
    writeln!(out, "  {}", ids.set_aduser)
}

/// The sentence that says where a profile's configuration line goes.
fn config_hint(profile: Profile) -> &'static str {
    match profile {
        Profile::Server => "Service configuration line (the SSL certificate):",
        Profile::Encryption => "Service configuration line (the data encryption certificate):",
        Profile::Ca => "Service configuration line (a CA the service trusts):",
        Profile::Unknown => "Configuration line (an imported certificate):",
        Profile::Client => {
            "Add this thumbprint to AllowedClientCertificateThumbprints (comma-separated), e.g. with \
             \"certkit-export cscfg --allow\":"
        }
    }
}

impl Report for IssueReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let by = if self.self_signed {
            "self-signed".to_string()
        } else {
            format!("signed by {}", self.issuer)
        };
        writeln!(out, "Issued {} certificate ({by})", self.profile)?;
        writeln!(out, "  subject     {}", self.subject)?;
        if !self.sans.is_empty() {
            let sans: Vec<String> = self.sans.iter().map(ToString::to_string).collect();
            writeln!(out, "  SANs        {}", sans.join(", "))?;
        }
        writeln!(out, "  key         {}", self.key)?;
        writeln!(out, "  serial      {}", self.serial)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        if let Some(p) = self.pfx_profile {
            writeln!(out, "  PFX         {}: {}", p.name(), p.description())?;
        }
        for file in &self.files {
            writeln!(out, "  wrote       {file}")?;
        }
        writeln!(out)?;
        writeln!(out, "{}", config_hint(self.profile))?;
        writeln!(out, "{}", self.config_line)?;
        if let Some(mapping) = &self.ad_mapping {
            writeln!(out)?;
            write_ad_mapping(out, mapping)?;
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
