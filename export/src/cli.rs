//! The `certkit-export` command line.

use std::path::{Path, PathBuf};

use certkit_ca::cli_support::print_json;
use certkit_ca::cscfg::Cscfg;
use certkit_ca::dates::rfc3339;
use certkit_ca::files::{self, PRIVATE, PUBLIC};
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::profile::{self, names};
use certkit_ca::secret::{self, SecretSource, SecretUse};
use certkit_ca::{Error, Result, Thumbprint};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::sources::{self, PfxPassword};

/// Write PFX and CER files, print thumbprints as configuration lines.
#[derive(Debug, Parser)]
#[command(name = "certkit-export", version)]
pub struct Cli {
    /// What to export.
    #[command(subcommand)]
    pub command: Command,
}

/// `certkit-export` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a password-protected PFX from a certificate and its key (pvk2pfx), or re-protect a PFX.
    Pfx(PfxArgs),
    /// Write a public certificate (.cer) from a DER, PEM or PFX file; --issuer finds the CA's certificate.
    Cer(CerArgs),
    /// Print SHA-1 thumbprints, plain or as ready-to-paste configuration lines.
    Thumbprint(ThumbprintArgs),
    /// Put thumbprints and settings into a ServiceConfiguration.cscfg, changing only those values.
    Cscfg(CscfgArgs),
}

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

/// `certkit-export cscfg`.
#[derive(Debug, clap::Args)]
pub struct CscfgArgs {
    /// The service configuration file to update in place (the previous version is kept as FILE.bak).
    #[arg(long, value_name = "FILE.cscfg")]
    pub file: PathBuf,
    /// TLS server certificate: sets <Certificate name="SSL">.
    #[arg(long, value_name = "CERT")]
    pub ssl: Option<PathBuf>,
    /// CA certificate: sets <Certificate name="CA"> and AdditionalTrustedRootCertificationAuthorities.
    #[arg(long, value_name = "CERT")]
    pub ca: Option<PathBuf>,
    /// Data encryption certificate: sets <Certificate name="DataEncryptionPrimary"> (and the
    /// DataEncryptionPrimaryCertificateThumbprint setting where a role has it).
    #[arg(long, value_name = "CERT")]
    pub encryption: Option<PathBuf>,
    /// Add a client certificate (file or thumbprint) to AllowedClientCertificateThumbprints (repeatable).
    #[arg(long, value_name = "CERT|THUMBPRINT")]
    pub allow: Vec<String>,
    /// Remove a client certificate (file or thumbprint, pasted from Windows is fine) (repeatable).
    #[arg(long, value_name = "CERT|THUMBPRINT")]
    pub disallow: Vec<String>,
    /// Set ClientCertificateRevocationCheck.
    #[arg(long, value_enum)]
    pub revocation_check: Option<RevocationCheck>,
    /// Turn client-certificate authentication on or off (off also points the CA entry at the SSL certificate).
    #[arg(long, value_enum, conflicts_with = "ca")]
    pub client_auth: Option<Switch>,
    /// Print a unified diff of what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Source of the PFX password, for certificates given as PFX files (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
}

/// `certkit-export pfx`.
#[derive(Debug, clap::Args)]
pub struct PfxArgs {
    /// The certificate (DER or PEM).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "from",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,
    /// Its encrypted private key (PEM, as certkit-issue writes).
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub key: Option<PathBuf>,
    /// Re-export an existing PFX (e.g. modern -> compat for Azure) instead of --cert/--key.
    #[arg(long, value_name = "FILE.pfx", conflicts_with = "cert")]
    pub from: Option<PathBuf>,
    /// CA certificate to include (repeatable): "include all certificates in the certification path".
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    /// Protection profile: compat for Windows/Azure Cloud Services, modern for Windows 10 1709+ and OpenSSL 3.
    #[arg(long, value_enum, default_value_t = PfxProfile::Compat)]
    pub profile: PfxProfile,
    /// friendlyName shown by Windows (default: the certificate's CN).
    #[arg(long, value_name = "FRIENDLY")]
    pub name: Option<String>,
    /// The PFX file to write.
    #[arg(long, value_name = "FILE.pfx")]
    pub out: PathBuf,
    /// Source of the key file's password (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub key_pass: Option<SecretSource>,
    /// Source of the new PFX password (default: ask twice). With --from, the old PFX's password comes from
    /// --from-pass.
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
    /// Source of the password of the PFX given with --from (default: ask).
    #[arg(long, value_name = "SOURCE", requires = "from")]
    pub from_pass: Option<SecretSource>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certkit-export cer`.
#[derive(Debug, clap::Args)]
pub struct CerArgs {
    /// Input: DER, PEM (or PEM bundle) or PFX.
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Write the issuing CA's certificate (from a PFX's chain or a PEM bundle) instead.
    #[arg(long)]
    pub issuer: bool,
    /// Write PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Source of the PFX password (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
}

/// How `thumbprint` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThumbprintFormat {
    /// `THUMBPRINT  FILE` per line.
    Plain,
    /// `<Certificate name="SSL" .../>` per file.
    Ssl,
    /// `<Certificate name="CA" .../>` and the AdditionalTrustedRootCertificationAuthorities setting.
    Ca,
    /// `<Certificate name="DataEncryptionPrimary" .../>` per file.
    Encryption,
    /// One AllowedClientCertificateThumbprints setting for all files.
    AllowedClients,
    /// JSON array of {file, subject, thumbprint, sha256, not_after}.
    Json,
}

/// `certkit-export thumbprint`.
#[derive(Debug, clap::Args)]
pub struct ThumbprintArgs {
    /// Certificates: DER, PEM or PFX.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long = "as", value_enum, default_value_t = ThumbprintFormat::Plain)]
    pub format: ThumbprintFormat,
    /// Source of the PFX password, used for every PFX given (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
}

/// Runs a parsed `certkit-export` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pfx(a) => export_pfx(a),
        Command::Cer(a) => export_cer(a),
        Command::Thumbprint(a) => thumbprints(a),
        Command::Cscfg(a) => update_cscfg(a),
    }
}

fn export_pfx(args: PfxArgs) -> Result<()> {
    if args.out.exists() {
        return Err(Error::Exists {
            path: args.out.clone(),
        });
    }
    let mut chain = Vec::new();
    for path in &args.chain {
        for der in certkit_ca::certinfo::read_cert_ders(path)? {
            chain.push(certkit_ca::CertInfo::from_der(&der, path)?);
        }
    }
    let (cert, key, cert_path) = match (&args.from, &args.cert, &args.key) {
        (Some(from), _, _) => {
            let mut password = PfxPassword::new(args.from_pass.as_ref());
            let file = sources::read_cert_file(from, &mut password)?;
            let key = file.key.ok_or_else(|| {
                Error::malformed(from, "the PFX holds no private key; export it again from Windows with \"Yes, export the private key\"")
            })?;
            sources::check_pair(&key, &file.cert, from, from)?;
            for other in file.others {
                if !chain.iter().any(|c| c.thumbprint == other.thumbprint) {
                    chain.push(other);
                }
            }
            (file.cert, key, from.clone())
        }
        (None, Some(cert_path), Some(key_path)) => {
            let cert = certkit_ca::certinfo::read_cert(cert_path)?;
            let key_password = secret::obtain(
                args.key_pass.as_ref(),
                secret::KEY_PASS,
                SecretUse::Existing,
            )?;
            let key = sources::read_key(key_path, &key_password)?;
            sources::check_pair(&key, &cert, key_path, cert_path)?;
            (cert, key, cert_path.clone())
        }
        _ => {
            return Err(Error::BadInput(
                "give --cert and --key, or --from FILE.pfx".into(),
            ));
        }
    };
    if !chain.is_empty()
        && sources::find_issuer(&cert, &chain)?.is_none()
        && cert.issuer != cert.subject
    {
        eprintln!(
            "warning: no --chain certificate issued {} (its issuer is {}); the PFX will not carry its CA",
            cert_path.display(),
            cert.issuer
        );
    }
    let name = args
        .name
        .clone()
        .or_else(|| cert.cn.clone())
        .unwrap_or_else(|| cert.subject.clone());
    let pfx_password = secret::obtain(args.pfx_pass.as_ref(), secret::PFX_PASS, SecretUse::New)?;
    let chain_x509 = chain
        .iter()
        .map(sources::x509)
        .collect::<Result<Vec<_>>>()?;
    let bytes = pfx::build(
        args.profile,
        &key,
        &sources::x509(&cert)?,
        &chain_x509,
        &name,
        &pfx_password,
    )?;
    files::write_new(&args.out, &bytes, PRIVATE)?;
    if args.json {
        print_json(&json!({
            "file": args.out.display().to_string(),
            "profile": args.profile.name(),
            "subject": cert.subject,
            "friendly_name": name,
            "chain": chain.iter().map(|c| c.subject.clone()).collect::<Vec<_>>(),
            "thumbprint": cert.thumbprint.to_string(),
            "not_after": rfc3339(cert.not_after),
        }));
        return Ok(());
    }
    println!("Wrote {}", args.out.display());
    println!("  subject     {}", cert.subject);
    println!("  name        {name}");
    for ca in &chain {
        println!("  chain       {}", ca.subject);
    }
    println!(
        "  profile     {}: {}",
        args.profile.name(),
        args.profile.description()
    );
    println!("  thumbprint  {}", cert.thumbprint);
    Ok(())
}

fn export_cer(args: CerArgs) -> Result<()> {
    if args.out.exists() {
        return Err(Error::Exists {
            path: args.out.clone(),
        });
    }
    let mut password = PfxPassword::new(args.pfx_pass.as_ref());
    let file = sources::read_cert_file(&args.input, &mut password)?;
    let chosen = if args.issuer {
        if file.cert.issuer == file.cert.subject {
            return Err(Error::BadInput(format!(
                "{} is self-signed ({}): it is its own issuer; export it without --issuer",
                args.input.display(),
                file.cert.subject
            )));
        }
        sources::find_issuer(&file.cert, &file.others)?.ok_or_else(|| {
            Error::malformed(
                &args.input,
                format!(
                    "holds no certificate of the issuer {}; export the PFX again with \"Include all certificates in the certification path\", or use the CA's own .cer",
                    file.cert.issuer
                ),
            )
        })?
    } else {
        &file.cert
    };
    let bytes = if args.pem {
        chosen.pem().into_bytes()
    } else {
        chosen.der.clone()
    };
    files::write_new(&args.out, &bytes, PUBLIC)?;
    println!(
        "Wrote {} ({})",
        args.out.display(),
        if args.pem { "PEM" } else { "DER" }
    );
    println!("  subject     {}", chosen.subject);
    println!("  thumbprint  {}", chosen.thumbprint);
    if args.issuer {
        println!();
        println!("Trust it as a root:");
        println!(
            "  Windows: certutil -addstore -f Root {}",
            args.out.display()
        );
        let inform = if args.pem { "PEM" } else { "DER" };
        println!(
            "  Debian/Ubuntu: openssl x509 -inform {inform} -in {} -out /usr/local/share/ca-certificates/{}.crt && update-ca-certificates",
            args.out.display(),
            file_stem(&args.out)
        );
    }
    Ok(())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "certkit-ca".into())
}

fn thumbprints(args: ThumbprintArgs) -> Result<()> {
    let mut password = PfxPassword::new(args.pfx_pass.as_ref());
    let mut certs = Vec::new();
    for path in &args.files {
        certs.push((path, sources::read_cert_file(path, &mut password)?.cert));
    }
    match args.format {
        ThumbprintFormat::Plain => {
            for (path, cert) in &certs {
                println!("{}  {}", cert.thumbprint, path.display());
            }
        }
        ThumbprintFormat::Ssl | ThumbprintFormat::Encryption => {
            let name = if args.format == ThumbprintFormat::Ssl {
                names::SSL
            } else {
                names::ENCRYPTION
            };
            for (_, cert) in &certs {
                println!("{}", profile::certificate_line(name, &cert.thumbprint));
            }
        }
        ThumbprintFormat::Ca => {
            for (_, cert) in &certs {
                for line in profile::ca_lines(&cert.thumbprint) {
                    println!("{line}");
                }
            }
        }
        ThumbprintFormat::AllowedClients => {
            let mut unique: Vec<Thumbprint> = Vec::new();
            for (_, cert) in &certs {
                if !unique.contains(&cert.thumbprint) {
                    unique.push(cert.thumbprint);
                }
            }
            let value = unique
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            println!("{}", profile::setting_line(names::ALLOWED_CLIENTS, &value));
        }
        ThumbprintFormat::Json => {
            let rows: Vec<_> = certs
                .iter()
                .map(|(path, cert)| {
                    json!({
                        "file": path.display().to_string(),
                        "subject": cert.subject,
                        "thumbprint": cert.thumbprint.to_string(),
                        "sha256": cert.sha256,
                        "not_after": rfc3339(cert.not_after),
                    })
                })
                .collect();
            print_json(&serde_json::Value::Array(rows));
        }
    }
    Ok(())
}

/// A certificate file's thumbprint, or a typed/pasted thumbprint.
fn resolve_thumbprint(reference: &str, password: &mut PfxPassword<'_>) -> Result<Thumbprint> {
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

fn update_cscfg(args: CscfgArgs) -> Result<()> {
    let mut password = PfxPassword::new(args.pfx_pass.as_ref());
    let mut thumb_of = |path: &Option<PathBuf>| -> Result<Option<Thumbprint>> {
        match path {
            Some(p) => Ok(Some(
                sources::read_cert_file(p, &mut password)?.cert.thumbprint,
            )),
            None => Ok(None),
        }
    };
    let ssl = thumb_of(&args.ssl)?;
    let ca = thumb_of(&args.ca)?;
    let encryption = thumb_of(&args.encryption)?;
    let allow = args
        .allow
        .iter()
        .map(|r| resolve_thumbprint(r, &mut password))
        .collect::<Result<Vec<_>>>()?;
    let disallow = args
        .disallow
        .iter()
        .map(|r| resolve_thumbprint(r, &mut password))
        .collect::<Result<Vec<_>>>()?;
    if ssl.is_none()
        && ca.is_none()
        && encryption.is_none()
        && allow.is_empty()
        && disallow.is_empty()
        && args.revocation_check.is_none()
        && args.client_auth.is_none()
    {
        return Err(Error::BadInput(
            "nothing to change: give --ssl, --ca, --encryption, --allow, --disallow, --revocation-check or --client-auth".into(),
        ));
    }
    let mut file = Cscfg::load(&args.file)?;
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
            eprintln!(
                "note: {t} was not in {}; nothing to remove",
                names::ALLOWED_CLIENTS
            );
        }
    }
    if let Some(mode) = args.revocation_check {
        let value = match mode {
            RevocationCheck::NoCheck => "NoCheck",
            RevocationCheck::Online => "Online",
            RevocationCheck::Offline => "Offline",
        };
        file.set_setting(names::REVOCATION_CHECK, value, true)?;
    }
    if let Some(switch) = args.client_auth {
        let value = if switch == Switch::On {
            "true"
        } else {
            "false"
        };
        file.set_setting(names::SETUP_WEBAPP, value, true)?;
        file.set_setting(names::SETUP_WEBSERVER, value, true)?;
        if switch == Switch::Off {
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
    for change in file.changes() {
        let show = |v: &str| {
            if v.is_empty() {
                "(empty)".to_string()
            } else {
                v.to_string()
            }
        };
        println!(
            "Role \"{}\": {}: {} -> {}",
            change.role,
            change.what,
            show(&change.old),
            show(&change.new)
        );
    }
    if file.changes().is_empty() {
        println!(
            "{} is already up to date; nothing written",
            args.file.display()
        );
        return Ok(());
    }
    if args.dry_run {
        print!("{}", file.diff());
        println!("Dry run: nothing written");
        return Ok(());
    }
    if let Some(backup) = file.save()? {
        println!(
            "Wrote {} (previous version in {})",
            args.file.display(),
            backup.display()
        );
    }
    Ok(())
}
