//! `certkit-export cscfg`.

use std::path::PathBuf;

use certkit_ca::SecretSource;
use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;
use certkit_ca::{Error, Result};
use clap::ValueEnum;

use certkit_ca::cscfg::network::{self, Binding, Subnet};

use crate::commands::cscfg::{
    CheckRequest, ClientAuth, CscfgAction, CscfgRequest, Dos, DosConcurrent, DosRate, NetworkChange,
};

/// Values of ClientCertificateRevocationCheck (X509RevocationMode names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RevocationCheck {
    /// No revocation check (the service's default).
    #[value(name = "NoCheck")]
    NoCheck,
    /// Check online (needs a CRL distribution point, see certkit-ca crl).
    #[value(name = "Online")]
    Online,
    /// Check against cached CRLs.
    #[value(name = "Offline")]
    Offline,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Client certificates required.
    On,
    /// Client certificate authentication turned off.
    Off,
}

/// What a request denied by Dynamic IP Security gets (DynamicIpRestrictionDenyAction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DosAction {
    /// Drop the connection (the guide's default).
    #[value(name = "AbortRequest")]
    AbortRequest,
    /// HTTP 403.
    #[value(name = "Forbidden")]
    Forbidden,
    /// HTTP 401.
    #[value(name = "Unauthorized")]
    Unauthorized,
    /// HTTP 404.
    #[value(name = "NotFound")]
    NotFound,
}

impl DosAction {
    fn name(self) -> &'static str {
        match self {
            DosAction::AbortRequest => "AbortRequest",
            DosAction::Forbidden => "Forbidden",
            DosAction::Unauthorized => "Unauthorized",
            DosAction::NotFound => "NotFound",
        }
    }
}

fn subnet(s: &str) -> std::result::Result<Subnet, String> {
    s.parse().map_err(|e: network::SubnetError| e.to_string())
}

fn count(s: &str, what: &str) -> std::result::Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{what} must be a whole number from 1 to {}",
            u32::MAX
        )),
    }
}

fn dos_concurrent(s: &str) -> std::result::Result<DosConcurrent, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(DosConcurrent::Off);
    }
    count(s, "the number of concurrent requests").map(DosConcurrent::Max)
}

fn dos_rate(s: &str) -> std::result::Result<DosRate, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(DosRate::Off);
    }
    let (requests, interval) = s
        .split_once('/')
        .ok_or("give REQUESTS/MILLISECONDS, e.g. 100/2000, or off")?;
    Ok(DosRate::Max {
        requests: count(requests, "the number of requests")?,
        interval_ms: count(interval, "the interval in milliseconds")?,
    })
}

/// `certkit-export cscfg`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("acl").multiple(true).args(["allow_subnet", "deny_subnet", "allow_all_https"]))]
pub struct CscfgArgs {
    /// The service configuration file to update in place (the previous version is kept as FILE.bak).
    #[arg(long, value_name = "FILE.cscfg")]
    pub file: PathBuf,
    /// TLS server certificate: sets <Certificate name="SSL">.
    #[arg(long, value_name = "CERT")]
    pub ssl: Option<PathBuf>,
    /// CA certificate: sets <Certificate name="CA"> and AdditionalTrustedRootCertificationAuthorities.
    #[arg(long, value_name = "CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Data encryption certificate: sets <Certificate name="DataEncryptionPrimary"> (and the
    /// DataEncryptionPrimaryCertificateThumbprint setting where a role has it).
    #[arg(long, value_name = "CERT")]
    pub encryption: Option<PathBuf>,
    /// Add a client certificate (file or thumbprint) to AllowedClientCertificateThumbprints (one or more).
    #[arg(long, num_args = 1.., value_name = "CERT|THUMBPRINT")]
    pub allow: Vec<String>,
    /// Remove a client certificate (file or thumbprint, pasted from Windows is fine) (one or more).
    #[arg(long, num_args = 1.., value_name = "CERT|THUMBPRINT")]
    pub disallow: Vec<String>,
    /// Set ClientCertificateRevocationCheck.
    #[arg(long, value_enum)]
    pub revocation_check: Option<RevocationCheck>,
    /// Turn client-certificate authentication on or off (off also points the CA entry at the SSL certificate).
    #[arg(long, value_enum, conflicts_with = "ca_cert")]
    pub client_auth: Option<Switch>,
    /// Let only this IP range reach the HTTPS endpoint (CIDR, IPv4 or IPv6; one or more, in order); all other
    /// addresses are denied.
    #[arg(long, num_args = 1.., value_name = "CIDR", value_parser = subnet)]
    pub allow_subnet: Vec<Subnet>,
    /// Keep this IP range out of the HTTPS endpoint (CIDR; one or more); checked before the allowed ranges.
    #[arg(long, num_args = 1.., value_name = "CIDR", value_parser = subnet)]
    pub deny_subnet: Vec<Subnet>,
    /// Let every address reach the HTTPS endpoint again (the guide's default, AllowAll).
    #[arg(long, conflicts_with_all = ["allow_subnet", "deny_subnet"])]
    pub allow_all_https: bool,
    /// The access control the subnets go into [default: Restricted].
    #[arg(long, value_name = "NAME", requires = "acl")]
    pub acl_name: Option<String>,
    /// The endpoint to guard, as named in the service definition [default: HttpsIn].
    #[arg(long, value_name = "NAME", requires = "acl")]
    pub endpoint: Option<String>,
    /// The role whose endpoint is guarded [default: SplitMergeWeb].
    #[arg(long, value_name = "ROLE", requires = "acl")]
    pub role: Option<String>,
    /// Deny a host with more than N concurrent requests, or off (IIS Dynamic IP Security).
    #[arg(long, value_name = "N|off", value_parser = dos_concurrent)]
    pub dos_concurrent: Option<DosConcurrent>,
    /// Deny a host that sends more than N requests in MS milliseconds (e.g. 100/2000), or off.
    #[arg(long, value_name = "N/MS|off", value_parser = dos_rate)]
    pub dos_rate: Option<DosRate>,
    /// What a denied request gets.
    #[arg(long, value_enum, value_name = "DOS_ACTION")]
    pub dos_action: Option<DosAction>,
    /// Print a unified diff of what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the edit even when the checks of --check find an error it brings in (e.g. Online revocation
    /// checks for clients whose certificates name no CRL); such an error is otherwise refused.
    #[arg(long)]
    pub force: bool,
    /// Check the file before a deployment instead of editing it: empty, malformed or pasted thumbprints,
    /// entries that disagree; reads only, exit 1 when something would break the deployment.
    #[arg(long, conflicts_with_all = ["ssl", "ca_cert", "encryption", "allow", "disallow", "revocation_check", "client_auth", "dry_run", "force", "acl", "dos_concurrent", "dos_rate", "dos_action"])]
    pub check: bool,
    /// With --check: the certificates to deploy (DER, PEM or PFX); every thumbprint must name one of them.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "check")]
    pub certs: Vec<PathBuf>,
    /// With --check: the CA folder; allow-list entries must be certificates it issued and has not revoked.
    #[arg(long, alias = "ca-dir", value_name = "DIR")]
    pub ca: Option<PathBuf>,
    /// Source of the PFX password, for certificates given as PFX files (default: ask).
    #[arg(long, alias = "pfx-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl CscfgArgs {
    /// The validated request: a check, or an edit.
    pub fn request(mut self) -> Result<CscfgAction> {
        // certkit 0.1 spelled --ca-cert `--ca`: a certificate file given to --ca is still taken as one.
        if let Some(ca) = self.ca.take_if(|path| path.is_file() && !self.check) {
            if self.ca_cert.is_some() {
                return Err(Error::BadInput(
                    "--ca names the CA folder and --ca-cert the CA certificate: give the certificate once, with --ca-cert".into(),
                ));
            }
            certkit_ca::term::note(
                "certkit-export cscfg: --ca CERT is an old spelling: use --ca-cert CERT (--ca now names the CA folder)",
            );
            self.ca_cert = Some(ca);
        }
        if let Some(ca) = &self.ca
            && !self.check
        {
            return Err(Error::BadInput(format!(
                "--ca {} names the CA folder, which only --check reads; for <Certificate name=\"CA\"> give --ca-cert {}",
                crate::inspect::shell_word(&ca.display().to_string()),
                crate::inspect::shell_word(&ca.join("ca.cer").display().to_string())
            )));
        }
        if self.check {
            return Ok(CscfgAction::Check(CheckRequest {
                file: self.file,
                certs: self.certs,
                ca_dir: self.ca,
                pfx_pass: self.from_pass,
                format: Format::json_if(self.json.json),
            }));
        }
        let nothing = self.ssl.is_none()
            && self.ca_cert.is_none()
            && self.encryption.is_none()
            && self.allow.is_empty()
            && self.disallow.is_empty()
            && self.revocation_check.is_none()
            && self.client_auth.is_none()
            && self.allow_subnet.is_empty()
            && self.deny_subnet.is_empty()
            && !self.allow_all_https
            && self.dos_concurrent.is_none()
            && self.dos_rate.is_none()
            && self.dos_action.is_none();
        if nothing {
            return Err(Error::BadInput(
                "nothing to change: give --ssl, --ca-cert, --encryption, --allow, --disallow, --revocation-check, --client-auth, --allow-subnet, --deny-subnet, --allow-all-https or a --dos-* setting (or --check to check the file)".into(),
            ));
        }
        let binding = Binding {
            role: self.role.unwrap_or_else(|| network::DEFAULT_ROLE.into()),
            endpoint: self
                .endpoint
                .unwrap_or_else(|| network::DEFAULT_ENDPOINT.into()),
            access_control: self
                .acl_name
                .unwrap_or_else(|| network::DEFAULT_ACCESS_CONTROL.into()),
        };
        for (flag, value) in [
            ("--role", &binding.role),
            ("--endpoint", &binding.endpoint),
            ("--acl-name", &binding.access_control),
        ] {
            if value.trim().is_empty()
                || value.chars().any(char::is_control)
                || value.trim() != value
            {
                return Err(Error::BadInput(format!(
                    "{flag} must be a name without surrounding spaces or control characters"
                )));
            }
        }
        let network = if self.allow_all_https {
            Some(NetworkChange::AllowAll(binding))
        } else if self.allow_subnet.is_empty() && self.deny_subnet.is_empty() {
            None
        } else {
            crate::acl::check_request(&self.allow_subnet, &self.deny_subnet)?;
            Some(NetworkChange::Restrict {
                binding,
                allow: self.allow_subnet,
                deny: self.deny_subnet,
            })
        };
        Ok(CscfgAction::Edit(Box::new(CscfgRequest {
            file: self.file,
            ssl: self.ssl,
            ca_cert: self.ca_cert,
            encryption: self.encryption,
            allow: self.allow,
            disallow: self.disallow,
            revocation_check: self.revocation_check.map(|r| match r {
                RevocationCheck::NoCheck => "NoCheck",
                RevocationCheck::Online => "Online",
                RevocationCheck::Offline => "Offline",
            }),
            client_auth: self.client_auth.map(|s| match s {
                Switch::On => ClientAuth::On,
                Switch::Off => ClientAuth::Off,
            }),
            network,
            dos: Dos {
                concurrent: self.dos_concurrent,
                rate: self.dos_rate,
                action: self.dos_action.map(DosAction::name),
            },
            dry_run: self.dry_run,
            force: self.force,
            pfx_pass: self.from_pass,
            format: Format::json_if(self.json.json),
        })))
    }
}
