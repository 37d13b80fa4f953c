//! The `certkit-issue` command line.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use certkit_ca::cli_support::{LifetimeArgs, path_strings, print_json};
use certkit_ca::dates::{Validity, rfc3339};
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::secret::{self, SecretSource, SecretUse};
use certkit_ca::store::SigningCa;
use certkit_ca::{CaStore, Error, KeyType, Profile, Result, Secret};
use clap::{Parser, Subcommand};
use rcgen::KeyPair;
use serde_json::json;

use crate::issuance::{self, Issued, OutputPlan, Signer};
use crate::leaf::LeafSpec;

/// Default leaf validity: one year, the guide's yearly rotation.
pub const DEFAULT_LEAF_DAYS: u32 = 365;

/// Issue server, client and encryption certificates.
#[derive(Debug, Parser)]
#[command(name = "certkit-issue", version)]
pub struct Cli {
    /// What to issue.
    #[command(subcommand)]
    pub command: Command,
}

/// `certkit-issue` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// TLS server certificate (EKU serverAuth), CA-signed or self-signed: the guide's SSL certificate.
    Server(ServerArgs),
    /// TLS client certificate (EKU clientAuth), one per person, always CA-signed.
    Client(ClientArgs),
    /// Data encryption certificate (EKU Document Encryption): the guide's DataEncryptionPrimary.
    Encryption(EncryptionArgs),
    /// Sign a PKCS#10 request (CSR), so the requester's private key never leaves their machine.
    Sign(SignArgs),
    /// Renew a certificate the CA issued: new key, same subject, SANs, profile and EKUs. The old one stays
    /// valid (and listed) until it is revoked.
    Renew(RenewArgs),
}

/// `certkit-issue renew`.
#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// CA folder made by certkit-ca init.
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// The certificate to renew: its serial, its SHA-1 thumbprint, or the certificate file.
    #[arg(value_name = "SERIAL|THUMBPRINT|CERTFILE")]
    pub certificate: String,
    /// Output prefix: writes PREFIX.cer, PREFIX.pem, PREFIX.key (and PREFIX.pfx with --pfx).
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Validity (default: 365 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm (default: the old certificate's).
    #[arg(long, value_enum)]
    pub key: Option<KeyType>,
    /// Passwords and PFX options.
    #[command(flatten)]
    pub keys: NewKeyArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Who signs: `--ca DIR` or `--self-signed`.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SignerArgs {
    /// CA folder made by certkit-ca init.
    #[arg(long, value_name = "DIR")]
    pub ca: Option<PathBuf>,
    /// Sign with the certificate's own key (no CA).
    #[arg(long)]
    pub self_signed: bool,
}

/// Options every issuing command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Common name of the subject (required, except with client --batch).
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Output prefix: writes PREFIX.cer (DER), PREFIX.pem, PREFIX.key (and PREFIX.pfx with --pfx).
    #[arg(long, value_name = "PREFIX")]
    pub out: Option<PathBuf>,
    /// Validity (default: 365 days; never past the CA's own expiry).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm (Azure Cloud Services needs RSA).
    #[arg(long, value_enum, default_value_t = KeyType::Rsa2048)]
    pub key: KeyType,
    /// Extra extended key usage OID (repeatable), e.g. 1.3.6.1.5.5.7.3.4.
    #[arg(long, value_name = "OID")]
    pub eku: Vec<String>,
    /// CRL distribution point URL (default: the CA's --crl-url, if any).
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
    /// Passwords and PFX options.
    #[command(flatten)]
    pub keys: NewKeyArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Passwords and PFX options of a command that makes a new key.
#[derive(Debug, Clone, clap::Args)]
pub struct NewKeyArgs {
    /// Source of the CA key password: env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Source of the new key file's password (default: ask twice).
    #[arg(long, value_name = "SOURCE")]
    pub key_pass: Option<SecretSource>,
    /// Also write PREFIX.pfx (certificate, key and, when CA-signed, the CA).
    #[arg(long)]
    pub pfx: bool,
    /// Source of the new PFX password (default: ask twice).
    #[arg(long, value_name = "SOURCE", requires = "pfx")]
    pub pfx_pass: Option<SecretSource>,
    /// PFX protection profile.
    #[arg(long = "profile", value_enum, default_value_t = PfxProfile::Compat, requires = "pfx")]
    pub pfx_profile: PfxProfile,
}

/// `certkit-issue server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Who signs.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Extra DNS name for the SAN (repeatable; wildcards such as *.cloudapp.net allowed).
    #[arg(long, value_name = "NAME")]
    pub dns: Vec<String>,
    /// IP address for the SAN (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub ip: Vec<IpAddr>,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `certkit-issue client`.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// CA folder made by certkit-ca init.
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// E-mail address for the SAN.
    #[arg(long, value_name = "ADDR", conflicts_with = "batch")]
    pub email: Option<String>,
    /// Issue one certificate per row of this CSV file (header: cn[,email][,out]).
    #[arg(long, value_name = "FILE.csv", requires = "out_dir")]
    pub batch: Option<PathBuf>,
    /// With --batch: the folder for every row's files (OUT.cer, OUT.pem, and OUT.pfx or OUT.key).
    #[arg(long, value_name = "DIR", requires = "batch")]
    pub out_dir: Option<PathBuf>,
    /// With --batch --pfx: one PFX password per person, read from DIR/<cn>.txt (first line).
    #[arg(
        long,
        value_name = "DIR",
        requires = "batch",
        conflicts_with = "pfx_pass"
    )]
    pub pfx_pass_dir: Option<PathBuf>,
    /// With --batch: worker threads generating keys (default: the number of cores).
    #[arg(long, value_name = "N", requires = "batch")]
    pub jobs: Option<usize>,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `certkit-issue encryption`.
#[derive(Debug, clap::Args)]
pub struct EncryptionArgs {
    /// Who signs.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `certkit-issue sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// CA folder made by certkit-ca init.
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// The certificate signing request (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub csr: PathBuf,
    /// Profile whose extensions the certificate gets (the request's own extensions are ignored).
    #[arg(long, value_enum)]
    pub profile: Profile,
    /// Output prefix: writes PREFIX.cer and PREFIX.pem.
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Extra DNS name (server profile; repeatable).
    #[arg(long, value_name = "NAME")]
    pub dns: Vec<String>,
    /// IP address (server profile; repeatable).
    #[arg(long, value_name = "ADDR")]
    pub ip: Vec<IpAddr>,
    /// E-mail address (client profile).
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// Validity (default: 365 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Extra extended key usage OID (repeatable).
    #[arg(long, value_name = "OID")]
    pub eku: Vec<String>,
    /// CRL distribution point URL (default: the CA's).
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
    /// Source of the CA key password (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed `certkit-issue` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Server(a) => issue_new(Profile::Server, a.signer.ca, a.dns, a.ip, None, a.common),
        Command::Client(a) if a.batch.is_some() => crate::batch_cli::run(a),
        Command::Client(a) => issue_new(
            Profile::Client,
            Some(a.ca),
            vec![],
            vec![],
            a.email,
            a.common,
        ),
        Command::Encryption(a) => issue_new(
            Profile::Encryption,
            a.signer.ca,
            vec![],
            vec![],
            None,
            a.common,
        ),
        Command::Sign(a) => sign_csr(a),
        Command::Renew(a) => renew(a),
    }
}

/// An opened CA and the validity a new certificate gets from it.
pub(crate) struct CaContext {
    pub(crate) store: CaStore,
    pub(crate) crl_url: Option<String>,
}

pub(crate) fn open_ca(
    dir: &Path,
    validity: &Validity,
    crl_flag: Option<String>,
) -> Result<CaContext> {
    let store = CaStore::open(dir)?;
    let cert = store.cert()?;
    store.check_can_sign(&cert)?;
    issuance::check_within_ca(validity.not_after, &cert)?;
    let crl_url = match crl_flag {
        Some(url) => Some(url),
        None => store.settings()?.crl_url,
    };
    if let Some(url) = &crl_url {
        certkit_ca::store::check_crl_url(url)?;
    }
    Ok(CaContext { store, crl_url })
}

fn issue_new(
    profile: Profile,
    ca_dir: Option<PathBuf>,
    dns: Vec<String>,
    ips: Vec<IpAddr>,
    email: Option<String>,
    common: CommonArgs,
) -> Result<()> {
    let cn = common
        .cn
        .clone()
        .ok_or_else(|| Error::BadInput("--cn NAME is required".into()))?;
    let out = common
        .out
        .clone()
        .ok_or_else(|| Error::BadInput("--out PREFIX is required".into()))?;
    let validity = Validity::starting_now(common.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
    let context = match &ca_dir {
        Some(dir) => Some(open_ca(dir, &validity, common.crl_url.clone())?),
        None if common.crl_url.is_some() => {
            return Err(Error::BadInput(
                "--crl-url needs --ca: a self-signed certificate has no CRL".into(),
            ));
        }
        None => None,
    };
    let spec = LeafSpec {
        profile,
        cn,
        dns,
        ips,
        email,
        extra_ekus: common.eku.clone(),
        key_type: common.key,
        validity,
        crl_url: context.as_ref().and_then(|c| c.crl_url.clone()),
    };
    spec.validate()?;
    if profile == Profile::Encryption && !common.key.is_rsa() {
        eprintln!(
            "warning: an {} key cannot do key encipherment; Azure Cloud Services wants RSA for DataEncryptionPrimary",
            common.key
        );
    }
    let issued = issue_with_new_key(context.as_ref(), &spec, out, &common.keys, None)?;
    report(
        &issued,
        profile,
        common.key,
        common.keys.pfx.then_some(common.keys.pfx_profile),
        common.json,
    );
    Ok(())
}

/// Makes a key, signs `spec` (by the CA in `context`, else self-signed), writes PREFIX.cer/.pem/.key (and
/// .pfx) and records a CA-signed certificate; asks for the CA password first, then the new ones.
fn issue_with_new_key(
    context: Option<&CaContext>,
    spec: &LeafSpec,
    out: PathBuf,
    keys: &NewKeyArgs,
    renewal_of: Option<String>,
) -> Result<Issued> {
    let plan = OutputPlan {
        prefix: out,
        with_key: true,
        with_pfx: keys.pfx,
    };
    plan.check_free()?;
    let unlocked = match context {
        Some(c) => {
            let password =
                secret::obtain(keys.ca_pass.as_ref(), secret::CA_PASS, SecretUse::Existing)?;
            Some(c.store.unlock(&password)?)
        }
        None => None,
    };
    let key_password = secret::obtain(keys.key_pass.as_ref(), secret::KEY_PASS, SecretUse::New)?;
    let pfx_password = match keys.pfx {
        true => Some(secret::obtain(
            keys.pfx_pass.as_ref(),
            secret::PFX_PASS,
            SecretUse::New,
        )?),
        false => None,
    };
    let signer = match (context, &unlocked) {
        (Some(c), Some(ca)) => Signer::Ca {
            store: &c.store,
            ca,
        },
        _ => Signer::SelfSigned,
    };
    let key = spec.key_type.generate()?;
    let cert = issuance::sign(spec, &key, &signer, Some(&key))?;
    let pfx_bytes = match &pfx_password {
        Some(pw) => Some(build_pfx(
            &key,
            &cert,
            unlocked.as_ref(),
            &spec.cn,
            keys.pfx_profile,
            pw,
        )?),
        None => None,
    };
    let record = unlocked
        .as_ref()
        .map(|_| issuance::record_for(spec, &cert, renewal_of));
    let files = issuance::write_and_record(
        &plan,
        &cert,
        Some((&key, &key_password)),
        pfx_bytes,
        &signer,
        record,
    )?;
    Ok(Issued {
        issuer: unlocked
            .as_ref()
            .map_or(cert.subject.clone(), |ca| ca.cert.subject.clone()),
        self_signed: unlocked.is_none(),
        cert,
        files,
    })
}

/// Builds the PFX for a freshly issued certificate; the CA certificate goes in as the chain.
pub fn build_pfx(
    key: &KeyPair,
    cert: &certkit_ca::CertInfo,
    ca: Option<&SigningCa>,
    friendly_name: &str,
    profile: PfxProfile,
    password: &Secret,
) -> Result<Vec<u8>> {
    let der = zeroize::Zeroizing::new(key.serialize_der());
    let pkey = openssl::pkey::PKey::private_key_from_pkcs8(&der)?;
    let x509 = openssl::x509::X509::from_der(&cert.der)?;
    let chain = match ca {
        Some(ca) => vec![openssl::x509::X509::from_der(&ca.cert.der)?],
        None => vec![],
    };
    pfx::build(profile, &pkey, &x509, &chain, friendly_name, password)
}

fn sign_csr(args: SignArgs) -> Result<()> {
    let validity = Validity::starting_now(args.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
    let context = open_ca(&args.ca, &validity, args.crl_url.clone())?;
    let request = crate::csr::read(&args.csr)?;
    let spec = LeafSpec {
        profile: args.profile,
        cn: request.cn.clone(),
        dns: args.dns,
        ips: args.ip,
        email: args.email,
        extra_ekus: args.eku,
        key_type: request.key_type,
        validity,
        crl_url: context.crl_url.clone(),
    };
    spec.validate()?;
    let plan = OutputPlan {
        prefix: args.out.clone(),
        with_key: false,
        with_pfx: false,
    };
    plan.check_free()?;
    let password = secret::obtain(args.ca_pass.as_ref(), secret::CA_PASS, SecretUse::Existing)?;
    let ca = context.store.unlock(&password)?;
    drop(password);
    let signer = Signer::Ca {
        store: &context.store,
        ca: &ca,
    };
    let cert = issuance::sign(&spec, &request.public_key, &signer, None)?;
    let record = issuance::record_for(&spec, &cert, None);
    let files = issuance::write_and_record(&plan, &cert, None, None, &signer, Some(record))?;
    let issued = Issued {
        issuer: ca.cert.subject.clone(),
        self_signed: false,
        cert,
        files,
    };
    report(&issued, args.profile, request.key_type, None, args.json);
    Ok(())
}

fn renew(args: RenewArgs) -> Result<()> {
    let validity = Validity::starting_now(args.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
    let context = open_ca(&args.ca, &validity, None)?;
    let old = certkit_ca::store::find_entry(&context.store, &args.certificate)?;
    if let Some(revoked) = &old.revoked {
        return Err(Error::BadInput(format!(
            "{} ({}) was revoked ({}); issue a new certificate instead of renewing it",
            old.issued.serial, old.issued.subject, revoked.reason
        )));
    }
    let record = &old.issued;
    let (mut dns, mut ips, mut email) = (Vec::new(), Vec::new(), None);
    for san in &record.sans {
        match san.split_once(':') {
            Some(("DNS", name)) => dns.push(name.to_string()),
            Some(("IP", ip)) => ips.push(ip.parse().map_err(|_| {
                Error::BadInput(format!("recorded SAN {san} is not an IP address"))
            })?),
            Some(("email", addr)) => email = Some(addr.to_string()),
            _ => {
                return Err(Error::BadInput(format!(
                    "recorded SAN {san} cannot be renewed by certkit"
                )));
            }
        }
    }
    let key_type = args.key.unwrap_or(record.key);
    let spec = LeafSpec {
        profile: record.profile,
        cn: record.cn.clone(),
        dns,
        ips,
        email,
        extra_ekus: record.extra_ekus.clone(),
        key_type,
        validity,
        crl_url: record.crl_url.clone().or(context.crl_url.clone()),
    };
    spec.validate()?;
    let issued = issue_with_new_key(
        Some(&context),
        &spec,
        args.out.clone(),
        &args.keys,
        Some(record.serial.clone()),
    )?;
    let (cert, files) = (&issued.cert, &issued.files);
    if args.json {
        print_json(&json!({
            "subject": cert.subject,
            "serial": cert.serial,
            "profile": record.profile.to_string(),
            "key": key_type.to_string(),
            "sans": cert.sans,
            "not_before": rfc3339(cert.not_before),
            "not_after": rfc3339(cert.not_after),
            "thumbprint": cert.thumbprint.to_string(),
            "renewal_of": record.serial,
            "old_thumbprint": record.thumbprint.to_string(),
            "old_not_after": rfc3339(record.not_after),
            "files": path_strings(files),
            "config_line": record.profile.config_line(&cert.thumbprint),
        }));
        return Ok(());
    }
    println!("Renewed {} ({})", record.serial, record.subject);
    println!(
        "  old thumbprint  {} (valid until {}, stays valid until revoked)",
        record.thumbprint,
        rfc3339(record.not_after)
    );
    println!("  new thumbprint  {}", cert.thumbprint);
    println!();
    report(
        &issued,
        record.profile,
        key_type,
        args.keys.pfx.then_some(args.keys.pfx_profile),
        false,
    );
    Ok(())
}

/// The ready-to-paste configuration line for a profile, with a sentence saying where it goes.
pub fn config_hint(profile: Profile) -> &'static str {
    match profile {
        Profile::Server => "Service configuration line (the SSL certificate):",
        Profile::Encryption => "Service configuration line (the data encryption certificate):",
        Profile::Client => {
            "Add this thumbprint to AllowedClientCertificateThumbprints (comma-separated), e.g. with \
             \"certkit-export cscfg --allow\":"
        }
    }
}

/// Prints what was issued, as text or JSON.
pub fn report(
    issued: &Issued,
    profile: Profile,
    key: KeyType,
    pfx_profile: Option<PfxProfile>,
    as_json: bool,
) {
    let cert = &issued.cert;
    let line = profile.config_line(&cert.thumbprint);
    if as_json {
        print_json(&json!({
            "subject": cert.subject,
            "cn": cert.cn,
            "serial": cert.serial,
            "profile": profile.to_string(),
            "key": key.to_string(),
            "sans": cert.sans,
            "ekus": cert.ekus,
            "issuer": issued.issuer,
            "self_signed": issued.self_signed,
            "not_before": rfc3339(cert.not_before),
            "not_after": rfc3339(cert.not_after),
            "thumbprint": cert.thumbprint.to_string(),
            "sha256": cert.sha256,
            "pfx_profile": pfx_profile.map(PfxProfile::name),
            "files": path_strings(&issued.files),
            "config_line": line,
        }));
        return;
    }
    let by = if issued.self_signed {
        "self-signed".to_string()
    } else {
        format!("signed by {}", issued.issuer)
    };
    println!("Issued {profile} certificate ({by})");
    println!("  subject     {}", cert.subject);
    if !cert.sans.is_empty() {
        println!("  SANs        {}", cert.sans.join(", "));
    }
    println!("  key         {key}");
    println!("  serial      {}", cert.serial);
    println!(
        "  valid       {} .. {}",
        rfc3339(cert.not_before),
        rfc3339(cert.not_after)
    );
    println!("  thumbprint  {}", cert.thumbprint);
    if let Some(p) = pfx_profile {
        println!("  PFX         {}: {}", p.name(), p.description());
    }
    for file in &issued.files {
        println!("  wrote       {}", file.display());
    }
    println!();
    println!("{}", config_hint(profile));
    println!("{line}");
}
