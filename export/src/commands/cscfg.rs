//! `certkit-export cscfg`: put thumbprints and settings into a ServiceConfiguration.cscfg in place.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use certkit_ca::cscfg::Cscfg;
use certkit_ca::cscfg::network::{Binding, Rule, Subnet};
use certkit_ca::profile::names;
use certkit_ca::secret::OnDemand;
use certkit_ca::term::output::path_text;
use certkit_ca::term::secrets::PfxPassword;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{Error, Result, SecretSource, Thumbprint};
use serde::Serialize;

use crate::acl;
use crate::check::{CaView, Context, GivenCert, RoleFinding};
use crate::inspect::Level;
use crate::inspect::cert::CertFacts;
use crate::sources;

/// `--client-auth on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Client certificates required.
    On,
    /// Client certificate authentication turned off; the CA entry takes the SSL certificate.
    Off,
}

/// `--dos-concurrent N|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosConcurrent {
    /// Deny a host with more than this many concurrent requests.
    Max(u32),
    /// No limit.
    Off,
}

/// `--dos-rate N/MS|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosRate {
    /// Deny a host that sends more than `requests` requests in `interval_ms` milliseconds.
    Max {
        /// Requests per interval.
        requests: u32,
        /// The interval, in milliseconds.
        interval_ms: u32,
    },
    /// No limit.
    Off,
}

/// The Dynamic IP Security settings to change.
#[derive(Debug, Default)]
pub struct Dos {
    /// The concurrent-request limit.
    pub concurrent: Option<DosConcurrent>,
    /// The request-rate limit.
    pub rate: Option<DosRate>,
    /// DynamicIpRestrictionDenyAction.
    pub action: Option<&'static str>,
}

/// Who may reach an endpoint.
#[derive(Debug)]
pub enum NetworkChange {
    /// Only `allow` except `deny`, through the binding's access control.
    Restrict {
        /// The endpoint and access control.
        binding: Binding,
        /// Subnets let in, in order.
        allow: Vec<Subnet>,
        /// Subnets kept out, in order.
        deny: Vec<Subnet>,
    },
    /// Every address again.
    AllowAll(Binding),
}

/// What `certkit-export cscfg` was asked to do: edit the file, or check it.
#[derive(Debug)]
pub enum CscfgAction {
    /// Change values.
    Edit(Box<CscfgRequest>),
    /// Check before a deployment.
    Check(CheckRequest),
}

/// What `certkit-export cscfg --check` was asked to do.
#[derive(Debug)]
pub struct CheckRequest {
    /// The service configuration.
    pub file: PathBuf,
    /// The certificates to deploy.
    pub certs: Vec<PathBuf>,
    /// The CA folder.
    pub ca_dir: Option<PathBuf>,
    /// The PFX password's source, for certificates given as PFX files.
    pub pfx_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// What the check found.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The service configuration.
    pub file: String,
    /// The roles checked.
    pub roles: Vec<String>,
    /// Every finding, with its role.
    pub findings: Vec<RoleFinding>,
    /// True when nothing would break the deployment (no error-level finding).
    pub ok: bool,
}

/// Checks the service configuration; changes nothing. Exit 1 when something would break the deployment.
pub fn check(req: CheckRequest) -> Result<()> {
    let mut password = PfxPassword::new(req.pfx_pass.as_ref());
    let file = Cscfg::load(&req.file)?;
    let roles = file.roles()?;
    let network = file.network()?;
    let mut certs = Vec::new();
    for path in &req.certs {
        let read = sources::read_cert_file(path, &mut password)?;
        certs.push(GivenCert {
            file: path_text(path),
            facts: CertFacts::from_der(&read.cert.der, path)?,
        });
    }
    let ca = match &req.ca_dir {
        Some(dir) => {
            let store = certkit_ca::term::open_ca(dir, None)?;
            // Only the certificates the file allows are looked up, each through the index.
            let mut entries = Vec::new();
            for role in &roles {
                let allowed = role
                    .setting(certkit_ca::profile::names::ALLOWED_CLIENTS)
                    .and_then(|v| certkit_ca::cscfg::parse_allow_list(v).ok())
                    .unwrap_or_default();
                for thumbprint in allowed {
                    if let Some(entry) = store.entry_by_thumbprint(&thumbprint)? {
                        entries.push(entry);
                    }
                }
            }
            let cert = store.cert()?;
            let root = store
                .chain_above(&cert)?
                .pop()
                .unwrap_or_else(|| cert.clone());
            Some(CaView {
                cert,
                root,
                entries,
                crl_url: store.settings()?.crl_url,
                earlier: store.history()?,
            })
        }
        None => None,
    };
    let mut findings = crate::check::check(
        &roles,
        &Context {
            certs: &certs,
            ca: ca.as_ref(),
            now: time::OffsetDateTime::now_utc(),
        },
    );
    let names: Vec<String> = roles.iter().map(|r| r.role.clone()).collect();
    findings.extend(acl::findings(&network, &names));
    let report = CheckReport {
        file: path_text(&req.file),
        roles: roles.iter().map(|r| r.role.clone()).collect(),
        ok: !findings.iter().any(|f| f.finding.level == Level::Error),
        findings,
    };
    term::render(&report, req.format)?;
    if report.ok {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "{} would break the deployment; fix the errors above",
            report.file
        )))
    }
}

impl Report for CheckReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{}: {} role(s): {}",
            self.file,
            self.roles.len(),
            self.roles.join(", ")
        )?;
        let mut shown = self.roles.clone();
        for f in &self.findings {
            if !shown.contains(&f.role) {
                shown.push(f.role.clone());
            }
        }
        for role in &shown {
            let mine: Vec<&RoleFinding> =
                self.findings.iter().filter(|f| &f.role == role).collect();
            if mine.is_empty() {
                writeln!(out, "  {role}: OK")?;
                continue;
            }
            writeln!(out, "  {role}:")?;
            for f in mine {
                let level = match f.finding.level {
                    Level::Error => "error",
                    Level::Warning => "warning",
                };
                writeln!(
                    out,
                    "    {level:<8}{}: {}",
                    f.finding.code, f.finding.message
                )?;
                writeln!(out, "            fix: {}", f.finding.fix)?;
            }
        }
        if self.ok {
            writeln!(out, "Nothing would break the deployment.")?;
        }
        Ok(())
    }
}

/// What `certkit-export cscfg` was asked to change.
#[derive(Debug)]
pub struct CscfgRequest {
    /// The service configuration.
    pub file: PathBuf,
    /// The SSL certificate.
    pub ssl: Option<PathBuf>,
    /// The CA certificate.
    pub ca_cert: Option<PathBuf>,
    /// The data encryption certificate.
    pub encryption: Option<PathBuf>,
    /// Client certificates (files or thumbprints) to allow.
    pub allow: Vec<String>,
    /// Client certificates (files or thumbprints) to remove.
    pub disallow: Vec<String>,
    /// ClientCertificateRevocationCheck value.
    pub revocation_check: Option<&'static str>,
    /// Client-certificate authentication on or off.
    pub client_auth: Option<ClientAuth>,
    /// Who may reach an endpoint.
    pub network: Option<NetworkChange>,
    /// Dynamic IP Security settings.
    pub dos: Dos,
    /// Show the diff, write nothing.
    pub dry_run: bool,
    /// Write even when the edit brings in an error `--check` would report.
    pub force: bool,
    /// The PFX password's source, for certificates given as PFX files.
    pub pfx_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// What `cscfg` changed.
#[derive(Debug, Serialize)]
pub struct CscfgReport {
    /// The service configuration.
    pub file: String,
    /// Every value that changed.
    pub changes: Vec<certkit_ca::cscfg::Change>,
    /// True with --dry-run.
    pub dry_run: bool,
    /// True if the file was rewritten.
    pub written: bool,
    /// The previous version, when the file was rewritten.
    pub backup: Option<String>,
    /// The unified diff, with --dry-run.
    pub diff: Option<String>,
    /// What may be wrong with the result (also printed on stderr), e.g. plain HTTP let in.
    pub warnings: Vec<String>,
}

/// A certificate file's thumbprint, or a typed/pasted thumbprint.
fn resolve_thumbprint(reference: &str, password: &mut dyn OnDemand) -> Result<Thumbprint> {
    let path = Path::new(reference);
    if path.is_file() {
        return Ok(sources::read_cert_file(path, password)?.cert.thumbprint);
    }
    Thumbprint::parse(reference).map_err(|_| {
        Error::BadInput(format!(
            "'{}' is neither a certificate file nor a SHA-1 thumbprint (40 hex digits)",
            reference.trim()
        ))
    })
}

/// What `--check` finds in `file` as it stands, against the certificate files the edit read (entries naming
/// none of them are not the edit's business: `thumbprint-unknown` is left out).
fn edit_findings(file: &Cscfg, given: &[GivenCert]) -> Result<Vec<RoleFinding>> {
    Ok(crate::check::check(
        &file.roles()?,
        &Context {
            certs: given,
            ca: None,
            now: time::OffsetDateTime::now_utc(),
        },
    )
    .into_iter()
    .filter(|f| f.finding.code != "thumbprint-unknown")
    .collect())
}

/// Whether two findings say the same thing of the same role.
fn same_finding(a: &RoleFinding, b: &RoleFinding) -> bool {
    a.role == b.role && a.finding.code == b.finding.code && a.finding.message == b.finding.message
}

/// Sets the Dynamic IP Security settings in every role that has them.
fn set_dos(file: &mut Cscfg, dos: &Dos) -> Result<()> {
    let flag = |on: bool| if on { "true" } else { "false" };
    match dos.concurrent {
        Some(DosConcurrent::Max(n)) => {
            file.set_setting(names::DOS_DENY_CONCURRENT, flag(true), true)?;
            file.set_setting(names::DOS_MAX_CONCURRENT, &n.to_string(), true)?;
        }
        Some(DosConcurrent::Off) => {
            file.set_setting(names::DOS_DENY_CONCURRENT, flag(false), true)?;
        }
        None => {}
    }
    match dos.rate {
        Some(DosRate::Max {
            requests,
            interval_ms,
        }) => {
            file.set_setting(names::DOS_DENY_RATE, flag(true), true)?;
            file.set_setting(names::DOS_MAX_REQUESTS, &requests.to_string(), true)?;
            file.set_setting(names::DOS_INTERVAL, &interval_ms.to_string(), true)?;
        }
        Some(DosRate::Off) => {
            file.set_setting(names::DOS_DENY_RATE, flag(false), true)?;
        }
        None => {}
    }
    if let Some(action) = dos.action {
        file.set_setting(names::DOS_ACTION, action, true)?;
    }
    Ok(())
}

/// Edits the service configuration.
pub fn run(req: CscfgRequest) -> Result<()> {
    let mut warnings = match &req.network {
        Some(NetworkChange::Restrict { allow, deny, .. }) => acl::redundant(allow, deny),
        _ => Vec::new(),
    };
    let mut password = PfxPassword::new(req.pfx_pass.as_ref());
    // Every certificate file the edit reads, for the checks of the edited document.
    let mut given: Vec<GivenCert> = Vec::new();
    let mut thumb_of =
        |path: &Option<PathBuf>, given: &mut Vec<GivenCert>| -> Result<Option<Thumbprint>> {
            match path {
                Some(p) => {
                    let cert = sources::read_cert_file(p, &mut password)?.cert;
                    given.push(GivenCert {
                        file: path_text(p),
                        facts: CertFacts::from_der(&cert.der, p)?,
                    });
                    Ok(Some(cert.thumbprint))
                }
                None => Ok(None),
            }
        };
    let ssl = thumb_of(&req.ssl, &mut given)?;
    let encryption = thumb_of(&req.encryption, &mut given)?;
    // The service trusts a root: given an issuing CA with its chain (chain.pem, a PFX), the root of that chain.
    let ca = match &req.ca_cert {
        Some(path) => {
            let read = sources::read_cert_file(path, &mut password)?;
            match sources::root_of(&read.cert, &read.others)? {
                Ok(root) => {
                    if root.thumbprint != read.cert.thumbprint {
                        term::note(&format!(
                            "{} is an issuing CA: the service trusts its root {} ({})",
                            read.cert.subject, root.subject, root.thumbprint
                        ));
                    }
                    Some(root.thumbprint)
                }
                Err(last) => {
                    return Err(Error::BadInput(format!(
                        "{}: {} is not a root (it was signed by {}), and the file does not hold the chain up to one: give the root's certificate (certkit-export cer --root) or the CA folder's chain.pem",
                        path.display(),
                        last.subject,
                        last.issuer
                    )));
                }
            }
        }
        None => None,
    };
    let allow = req
        .allow
        .iter()
        .map(|r| resolve_thumbprint(r, &mut password))
        .collect::<Result<Vec<_>>>()?;
    for reference in &req.allow {
        let path = Path::new(reference);
        if path.is_file() {
            let cert = sources::read_cert_file(path, &mut password)?.cert;
            given.push(GivenCert {
                file: path_text(path),
                facts: CertFacts::from_der(&cert.der, path)?,
            });
        }
    }
    let disallow = req
        .disallow
        .iter()
        .map(|r| resolve_thumbprint(r, &mut password))
        .collect::<Result<Vec<_>>>()?;
    let mut file = Cscfg::load(&req.file)?;
    let before = edit_findings(&file, &given)?;
    if let Some(t) = ssl {
        file.set_certificate(names::SSL, &t)?;
    }
    if let Some(t) = ca {
        file.set_certificate(names::CA, &t)?;
        file.set_setting(names::TRUSTED_ROOTS, &t.to_string(), true)?;
    }
    if let Some(t) = encryption {
        file.set_certificate(names::ENCRYPTION, &t)?;
        file.set_setting(names::ENCRYPTION_SETTING, &t.to_string(), false)?;
    }
    if !allow.is_empty() || !disallow.is_empty() {
        for t in file.edit_allowed_clients(&allow, &disallow)? {
            term::note(&format!(
                "{t} was not in {}; nothing to remove",
                names::ALLOWED_CLIENTS
            ));
        }
    }
    if let Some(value) = req.revocation_check {
        file.set_setting(names::REVOCATION_CHECK, value, true)?;
    }
    if let Some(switch) = req.client_auth {
        let value = if switch == ClientAuth::On {
            "true"
        } else {
            "false"
        };
        file.set_setting(names::SETUP_WEBAPP, value, true)?;
        file.set_setting(names::SETUP_WEBSERVER, value, true)?;
        if switch == ClientAuth::Off {
            // The guide: with client authentication off, the CA entry takes the SSL certificate's thumbprint.
            let ssl_thumb = match ssl {
                Some(t) => t,
                None => {
                    let current = file.certificate(names::SSL)?.ok_or_else(|| {
                        Error::BadInput(
                            "--client-auth off needs the SSL certificate: give --ssl CERT".into(),
                        )
                    })?;
                    Thumbprint::parse(&current)?
                }
            };
            file.set_certificate(names::CA, &ssl_thumb)?;
        }
    }
    match &req.network {
        Some(NetworkChange::Restrict {
            binding,
            allow,
            deny,
        }) => file.restrict_endpoint(binding, &Rule::list(allow, deny))?,
        Some(NetworkChange::AllowAll(binding)) => file.open_endpoint(binding)?,
        None => {}
    }
    set_dos(&mut file, &req.dos)?;
    let roles: Vec<String> = file.roles()?.into_iter().map(|r| r.role).collect();
    warnings.extend(
        acl::findings(&file.network()?, &roles)
            .into_iter()
            .map(|f| {
                format!(
                    "role \"{}\": {}; {}",
                    f.role, f.finding.message, f.finding.fix
                )
            }),
    );
    // The checks of --check on the edited document: an error the edit brings in is refused unless --force.
    let brought_in: Vec<RoleFinding> = edit_findings(&file, &given)?
        .into_iter()
        .filter(|f| !before.iter().any(|b| same_finding(b, f)))
        .collect();
    for f in &brought_in {
        if f.finding.level != Level::Error {
            warnings.push(format!(
                "role \"{}\": {}; {}",
                f.role, f.finding.message, f.finding.fix
            ));
        }
    }
    if let Some(error) = brought_in.iter().find(|f| f.finding.level == Level::Error)
        && !req.force
        && !req.dry_run
    {
        return Err(Error::BadInput(format!(
            "{}: the edit would break the deployment: role \"{}\": {} ({}); nothing was written. {}; or write it anyway with --force",
            req.file.display(),
            error.role,
            error.finding.message,
            error.finding.code,
            error.finding.fix
        )));
    }
    for warning in &warnings {
        term::warn(warning);
    }
    let changes = file.changes().to_vec();
    let (diff, backup) = if changes.is_empty() {
        (None, None)
    } else if req.dry_run {
        (Some(file.diff()), None)
    } else {
        (None, file.save()?)
    };
    let report = CscfgReport {
        file: path_text(&req.file),
        written: backup.is_some(),
        backup: backup.as_deref().map(path_text),
        changes,
        dry_run: req.dry_run,
        diff,
        warnings,
    };
    term::render(&report, req.format)
}

impl Report for CscfgReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let show = |v: &str| {
            if v.is_empty() {
                "(empty)".to_string()
            } else {
                v.to_string()
            }
        };
        for change in &self.changes {
            writeln!(
                out,
                "Role \"{}\": {}: {} -> {}",
                change.role,
                change.what,
                show(&change.old),
                show(&change.new)
            )?;
        }
        if self.changes.is_empty() {
            return writeln!(out, "{} is already up to date; nothing written", self.file);
        }
        if let Some(diff) = &self.diff {
            write!(out, "{diff}")?;
            writeln!(out, "Dry run: nothing written")?;
        }
        if let Some(backup) = &self.backup {
            writeln!(out, "Wrote {} (previous version in {backup})", self.file)?;
        }
        Ok(())
    }
}
