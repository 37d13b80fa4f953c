//! The `certkit-ca` command line: create and keep the CA, list what it issued.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::cli_support::{LifetimeArgs, path_strings, print_json};
use crate::cscfg::Cscfg;
use crate::dates::rfc3339;
use crate::error::Result;
use crate::inventory::{Entry, RevocationReason, Status};
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
    /// Revoke a certificate (a lost laptop, a person who left); optionally remove it from a .cscfg allow-list.
    Revoke(RevokeArgs),
    /// Publish a CRL signed by the CA, listing every revoked certificate that has not expired.
    Crl(CrlArgs),
}

/// `certkit-ca revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// CA folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The certificate: its serial, its SHA-1 thumbprint, or the certificate file.
    #[arg(value_name = "SERIAL|THUMBPRINT|CERTFILE")]
    pub certificate: String,
    /// Why it is revoked (goes into the CRL).
    #[arg(long, value_enum, default_value = "unspecified")]
    pub reason: RevocationReason,
    /// Also remove its thumbprint from AllowedClientCertificateThumbprints in this service configuration.
    #[arg(long, value_name = "FILE.cscfg")]
    pub cscfg: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certkit-ca crl`.
#[derive(Debug, clap::Args)]
pub struct CrlArgs {
    /// CA folder.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = crate::crl::DEFAULT_CRL_DAYS)]
    pub days: u32,
    /// Where to write it (replaced atomically each time; default DIR/ca.crl, or DIR/ca.crl.pem with --pem).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// PEM instead of DER (Windows expects DER .crl).
    #[arg(long)]
    pub pem: bool,
    /// Source of the CA key password (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
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
        Command::Revoke(args) => revoke(args),
        Command::Crl(args) => crl(args),
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
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let status = match e.status(now) {
                Status::Revoked(reason) => format!("revoked ({reason})"),
                other => other.to_string(),
            };
            [
                e.issued.serial.clone(),
                e.issued.profile.to_string(),
                e.issued.subject.clone(),
                rfc3339(e.issued.not_after),
                status,
                e.issued.thumbprint.to_string(),
            ]
        })
        .collect();
    let header = [
        "SERIAL",
        "PROFILE",
        "SUBJECT",
        "NOT AFTER",
        "STATUS",
        "THUMBPRINT",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
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

fn revoke(args: RevokeArgs) -> Result<()> {
    let ca = CaStore::open(&args.dir)?;
    // Load the .cscfg first, so a broken file stops the command before anything is recorded.
    let mut cscfg = match &args.cscfg {
        Some(path) => Some(Cscfg::load(path)?),
        None => None,
    };
    let lock = ca.lock()?;
    let entry = crate::store::find_entry(&ca, &args.certificate)?;
    if let Some(file) = cscfg.as_mut() {
        file.edit_allowed_clients(&[], &[entry.issued.thumbprint])?;
    }
    let record = crate::crl::revoke(&ca, &lock, &entry, args.reason)?;
    drop(lock);
    let saved = match &cscfg {
        Some(file) => file.save().map_err(|e| {
            crate::Error::Cscfg {
                path: args.cscfg.clone().unwrap_or_default(),
                what: format!("the revocation was recorded, but the file could not be updated: {e}; remove the thumbprint with certkit-export cscfg --disallow"),
            }
        })?,
        None => None,
    };
    let removed = cscfg.as_ref().is_some_and(|f| !f.changes().is_empty());
    if args.json {
        print_json(&json!({
            "serial": entry.issued.serial,
            "subject": entry.issued.subject,
            "thumbprint": entry.issued.thumbprint.to_string(),
            "revoked_at": rfc3339(record.revoked_at),
            "reason": record.reason.to_string(),
            "cscfg": args.cscfg.as_ref().map(|p| p.display().to_string()),
            "removed_from_cscfg": removed,
        }));
        return Ok(());
    }
    println!("Revoked {} ({})", entry.issued.serial, entry.issued.subject);
    println!("  thumbprint  {}", entry.issued.thumbprint);
    println!("  reason      {}", record.reason);
    println!("  at          {}", rfc3339(record.revoked_at));
    match (&args.cscfg, removed) {
        (Some(path), true) => println!(
            "Removed it from AllowedClientCertificateThumbprints in {} (previous version in {})",
            path.display(),
            saved.map(|p| p.display().to_string()).unwrap_or_default()
        ),
        (Some(path), false) => println!(
            "It was not in AllowedClientCertificateThumbprints in {}; file unchanged",
            path.display()
        ),
        (None, _) => {}
    }
    println!(
        "Publish a new CRL so services that check revocation see it: certkit-ca crl --dir {}",
        args.dir.display()
    );
    Ok(())
}

fn crl(args: CrlArgs) -> Result<()> {
    let ca = CaStore::open(&args.dir)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::crl::default_path(&ca, args.pem));
    let password = secret::obtain(args.ca_pass.as_ref(), secret::CA_PASS, SecretUse::Existing)?;
    let signing = ca.unlock(&password)?;
    drop(password);
    let published = crate::crl::publish(&ca, &signing, args.days, &out, args.pem)?;
    if args.json {
        print_json(&json!({
            "file": published.path.display().to_string(),
            "crl_number": published.number,
            "this_update": rfc3339(published.this_update),
            "next_update": rfc3339(published.next_update),
            "revoked": published.serials,
        }));
        return Ok(());
    }
    println!(
        "Wrote {} ({})",
        published.path.display(),
        if args.pem { "PEM" } else { "DER" }
    );
    println!("  CRL number  {}", published.number);
    println!(
        "  valid       {} .. {}",
        rfc3339(published.this_update),
        rfc3339(published.next_update)
    );
    println!("  revoked     {} certificate(s)", published.serials.len());
    if let Some(url) = ca.settings()?.crl_url {
        println!(
            "Publish it at {url} before {}.",
            rfc3339(published.next_update)
        );
    }
    Ok(())
}
