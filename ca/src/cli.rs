//! The `certkit-ca` command line: create and keep the CA, list what it issued.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::cli_support::{LifetimeArgs, path_strings, print_json};
use crate::dates::rfc3339;
use crate::error::Result;
use crate::inventory::{Entry, Status};
use crate::keys::KeyType;
use crate::profile::{self, Profile};
use crate::secret::{self, SecretSource, SecretUse};
use crate::store::{self, CaStore, InitRequest};

/// Create and keep an offline certificate authority.
#[derive(Debug, Parser)]
#[command(name = "certkit-ca", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `certkit-ca` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a self-signed CA (makecert -r -cy authority, done right).
    Init(InitArgs),
    /// Show the CA: subject, key, validity, thumbprint, certificates issued.
    Show(ShowArgs),
    /// List the certificates the CA issued, newest first.
    List(ListArgs),
}

/// `certkit-ca init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// CA folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Common name of the CA, e.g. "MyCA".
    #[arg(long, value_name = "NAME")]
    pub cn: String,
    /// Validity (default: 3650 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyType::Rsa2048)]
    pub key: KeyType,
    /// Path length constraint (makecert -h).
    #[arg(long, value_name = "N", default_value_t = store::DEFAULT_PATHLEN)]
    pub pathlen: u8,
    /// CRL distribution point URL to put into certificates this CA issues.
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
    /// Source of the new CA key password: env:VAR, file:PATH, fd:N or stdin (default: ask twice on the terminal).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certkit-ca show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// CA folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certkit-ca list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// CA folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Only certificates of this profile.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Only valid certificates that expire within this many days.
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed `certkit-ca` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init(args),
        Command::Show(args) => show(args),
        Command::List(args) => list(args),
    }
}

fn init(args: InitArgs) -> Result<()> {
    store::check_can_init(&args.dir)?;
    let request = InitRequest {
        dir: args.dir.clone(),
        cn: args.cn.clone(),
        lifetime: args.lifetime.lifetime(store::DEFAULT_CA_DAYS),
        key: args.key,
        pathlen: args.pathlen,
        crl_url: args.crl_url.clone(),
    };
    // Validate everything that needs no password before asking for one.
    store::check_cn(&request.cn)?;
    if let Some(url) = &request.crl_url {
        store::check_crl_url(url)?;
    }
    crate::dates::Validity::starting_now(request.lifetime)?;
    let password = secret::obtain(args.ca_pass.as_ref(), secret::CA_PASS, SecretUse::New)?;
    let created = store::init(&request, &password)?;
    let cert = &created.cert;
    let lines = profile::ca_lines(&cert.thumbprint);
    if args.json {
        print_json(&json!({
            "subject": cert.subject,
            "serial": cert.serial,
            "key": created.key.to_string(),
            "pathlen": args.pathlen,
            "not_before": rfc3339(cert.not_before),
            "not_after": rfc3339(cert.not_after),
            "thumbprint": cert.thumbprint.to_string(),
            "sha256": cert.sha256,
            "crl_url": args.crl_url,
            "files": path_strings(&created.files),
            "config_lines": lines,
        }));
        return Ok(());
    }
    println!("Created CA in {}", args.dir.display());
    println!("  subject     {}", cert.subject);
    println!("  key         {} (pathlen {})", created.key, args.pathlen);
    println!("  serial      {}", cert.serial);
    println!(
        "  valid       {} .. {}",
        rfc3339(cert.not_before),
        rfc3339(cert.not_after)
    );
    println!("  thumbprint  {}", cert.thumbprint);
    for file in &created.files {
        println!("  wrote       {}", file.display());
    }
    println!();
    println!("Service configuration lines (ServiceConfiguration.cscfg):");
    for line in &lines {
        println!("{line}");
    }
    println!();
    println!(
        "Keep {} and its password safe and offline: whoever has both can issue certificates your service trusts.",
        args.dir.join(store::CA_KEY).display()
    );
    Ok(())
}

fn show(args: ShowArgs) -> Result<()> {
    let ca = CaStore::open(&args.dir)?;
    let cert = ca.cert()?;
    let key = KeyType::of_spki_der(&cert.spki_der)?;
    let entries = ca.entries()?;
    let now = OffsetDateTime::now_utc();
    let count =
        |wanted: fn(&Status) -> bool| entries.iter().filter(|e| wanted(&e.status(now))).count();
    let (valid, revoked, expired) = (
        count(|s| *s == Status::Valid),
        count(|s| matches!(s, Status::Revoked(_))),
        count(|s| *s == Status::Expired),
    );
    let settings = ca.settings()?;
    let state = if cert.not_after < now {
        "EXPIRED"
    } else {
        "valid"
    };
    if args.json {
        print_json(&json!({
            "dir": args.dir.display().to_string(),
            "subject": cert.subject,
            "serial": cert.serial,
            "key": key.to_string(),
            "not_before": rfc3339(cert.not_before),
            "not_after": rfc3339(cert.not_after),
            "status": state.to_lowercase(),
            "thumbprint": cert.thumbprint.to_string(),
            "sha256": cert.sha256,
            "crl_url": settings.crl_url,
            "issued": entries.len(),
            "valid": valid,
            "revoked": revoked,
            "expired": expired,
            "config_lines": profile::ca_lines(&cert.thumbprint),
        }));
        return Ok(());
    }
    println!("CA in {}", args.dir.display());
    println!("  subject     {}", cert.subject);
    println!("  key         {key}");
    println!("  serial      {}", cert.serial);
    println!(
        "  valid       {} .. {} ({state})",
        rfc3339(cert.not_before),
        rfc3339(cert.not_after)
    );
    println!("  thumbprint  {}", cert.thumbprint);
    if let Some(url) = &settings.crl_url {
        println!("  CRL URL     {url}");
    }
    println!(
        "  issued      {} certificates ({valid} valid, {revoked} revoked, {expired} expired)",
        entries.len()
    );
    println!();
    for line in profile::ca_lines(&cert.thumbprint) {
        println!("{line}");
    }
    Ok(())
}

fn list(args: ListArgs) -> Result<()> {
    let ca = CaStore::open(&args.dir)?;
    let now = OffsetDateTime::now_utc();
    let mut entries: Vec<Entry> = ca
        .entries()?
        .into_iter()
        .filter(|e| args.profile.is_none_or(|p| e.issued.profile == p))
        .filter(|e| {
            args.expiring_within.is_none_or(|days| {
                e.status(now) == Status::Valid
                    && e.issued.not_after <= now + Duration::days(days.into())
            })
        })
        .collect();
    entries.reverse();
    if args.json {
        let rows: Vec<_> = entries.iter().map(|e| entry_json(e, now)).collect();
        print_json(&serde_json::Value::Array(rows));
        return Ok(());
    }
    if entries.is_empty() {
        println!("No certificates match.");
        return Ok(());
    }
    println!(
        "{:<32}  {:<10}  {:<24}  {:<20}  {:<21}  THUMBPRINT",
        "SERIAL", "PROFILE", "SUBJECT", "NOT AFTER", "STATUS"
    );
    for e in &entries {
        let status = match e.status(now) {
            Status::Revoked(reason) => format!("revoked ({reason})"),
            other => other.to_string(),
        };
        println!(
            "{:<32}  {:<10}  {:<24}  {:<20}  {:<21}  {}",
            e.issued.serial,
            e.issued.profile.to_string(),
            e.issued.subject,
            rfc3339(e.issued.not_after),
            status,
            e.issued.thumbprint
        );
    }
    Ok(())
}

/// The JSON object `certkit-ca list --json` prints for one certificate.
pub fn entry_json(e: &Entry, now: OffsetDateTime) -> serde_json::Value {
    let r = &e.issued;
    json!({
        "serial": r.serial,
        "subject": r.subject,
        "cn": r.cn,
        "profile": r.profile.to_string(),
        "sans": r.sans,
        "extra_ekus": r.extra_ekus,
        "key": r.key.to_string(),
        "not_before": rfc3339(r.not_before),
        "not_after": rfc3339(r.not_after),
        "thumbprint": r.thumbprint.to_string(),
        "status": e.status(now).to_string(),
        "revoked_at": e.revoked.as_ref().map(|v| rfc3339(v.revoked_at)),
        "revocation_reason": e.revoked.as_ref().map(|v| v.reason.to_string()),
        "renewal_of": r.renewal_of,
        "crl_url": r.crl_url,
    })
}
