//! certkit-ca's command line: the clap definitions, mirroring the command tree (one file per command), each
//! turned once into a validated request for the matching module in `commands`.

pub mod guide;
pub mod shared;
pub mod values;

mod audit;
mod backup;
mod crl;
mod import;
mod init;
mod install;
mod list;
mod move_key;
mod ocsp;
mod profile;
mod reindex;
mod rekey;
mod renew;
mod report;
mod restore;
mod retire_key;
mod revoke;
mod settings;
mod show;
mod sign_ca;
mod status;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::error::Result;

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
    Init(Box<init::InitArgs>),
    /// Show the CA: subject, key, validity, thumbprint, certificates issued.
    Show(show::ShowArgs),
    /// What needs attention, for a scheduler: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring plugins' codes).
    Status(status::StatusArgs),
    /// List the certificates the CA issued, newest first.
    List(list::ListArgs),
    /// Put the certificate the CA above signed into a folder made by init --request, after checking it and its chain.
    Install(install::InstallArgs),
    /// Renew the CA certificate: the same key and subject, a new serial and validity; everything issued stays valid.
    Renew(renew::RenewArgs),
    /// Re-key the CA: a new key and certificate (same subject) and two cross-certificates; the old key stays to sign CRLs.
    Rekey(rekey::RekeyArgs),
    /// Remove an earlier CA key a re-key kept for CRLs, once every certificate it signed has expired.
    RetireKey(retire_key::RetireKeyArgs),
    /// Sign a CA below this one (an issuing CA under an offline root) from its request, and record it (profile ca).
    SignCa(sign_ca::SignCaArgs),
    /// Revoke a certificate (a lost laptop, a person who left); optionally remove it from a .cscfg allow-list.
    Revoke(revoke::RevokeArgs),
    /// Sign a CRL listing every revoked certificate that has not expired, or a series ahead; crl publish puts one in place.
    Crl(crl::CrlArgs),
    /// Show the CA's signed settings, or change one (--ocsp-url) under the CA key.
    Settings(settings::SettingsArgs),
    /// Profile files: what certificates issued by a name carry and what a request may ask (add, list, show).
    Profile(profile::ProfileArgs),
    /// Sign OCSP responses ahead for every certificate the CA issued (a series of windows at one unlock); ocsp serve answers with them, with no key.
    Ocsp(ocsp::OcspArgs),
    /// Verify the CA folder: the inventory's hash chain, the signed checkpoint, issued/ and the CRL.
    Audit(audit::AuditArgs),
    /// Move the CA key from ca.key onto a PKCS#11 token (same certificate, same thumbprint).
    MoveKey(move_key::MoveKeyArgs),
    /// Write an HTML report for auditors: the CA, its status and audit, what runs out when, custody, revocations, the inventory.
    Report(report::ReportArgs),
    /// Rebuild the inventory's index from the inventory, and put back issued/ copies that are missing.
    Reindex(reindex::ReindexArgs),
    /// Back up the CA key: encrypted under a random secret split into M-of-N SLIP-39 shares for custodians.
    Backup(backup::BackupArgs),
    /// Restore the CA key from a backup and its shares into a new CA folder; --check runs the recovery drill.
    Restore(restore::RestoreArgs),
    /// Bring in a CA kept by easy-rsa, openssl ca or XCA, with its whole history, every certificate checked against its key.
    Import(Box<import::ImportArgs>),
    /// Write the CA's history as openssl ca keeps it (index.txt, serial, crlnumber, newcerts/), for openssl ca and openssl ocsp.
    ExportIndex(import::ExportIndexArgs),
    /// Print the shell completion script (source it, or install it as the README says).
    Completions(shared::CompletionsArgs),
}

/// Runs a parsed `certkit-ca` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => match args.request()? {
            init::InitCommand::Init(req) => commands::init::run(req),
            init::InitCommand::Request(req) => commands::install::request(req),
            init::InitCommand::UnderParent(req) => commands::parent::run(req),
        },
        Command::Show(args) => commands::show::run(args.request()),
        Command::Status(args) => commands::status::run(args.request()),
        Command::List(args) => commands::list::run(args.request()),
        Command::Install(args) => commands::install::run(args.request()),
        Command::Renew(args) => commands::renew::run(args.request()),
        Command::Rekey(args) => commands::rekey::run(args.request()),
        Command::RetireKey(args) => commands::retire_key::run(args.request()?),
        Command::SignCa(args) => commands::sign_ca::run(args.request()?),
        Command::Revoke(args) => commands::revoke::run(args.request()),
        Command::Crl(args) => match args.request()? {
            crl::CrlCommand::Sign(req) => commands::crl::run(req),
            crl::CrlCommand::Publish(req) => commands::crl_publish::run(req),
        },
        Command::Settings(args) => commands::settings::run(args.request()?),
        Command::Profile(args) => match args.request()? {
            profile::ProfileCommand::Add(req) => commands::profile::add(req),
            profile::ProfileCommand::List(req) => commands::profile::list(req),
            profile::ProfileCommand::Show(req) => commands::profile::show(req),
        },
        Command::Ocsp(args) => match args.request()? {
            ocsp::OcspCommand::Sign(req) => commands::ocsp::run(req),
            ocsp::OcspCommand::Serve(req) => commands::ocsp::serve(req),
        },
        Command::Audit(args) => commands::audit::run(args.request()?),
        Command::MoveKey(args) => commands::move_key::run(args.request()),
        Command::Reindex(args) => commands::reindex::run(args.request()),
        Command::Report(args) => commands::report::run(args.request()),
        Command::Backup(args) => commands::backup::run(args.request()),
        Command::Restore(args) => commands::restore::run(args.request()?),
        Command::Import(args) => commands::import::run(args.request()?),
        Command::ExportIndex(args) => commands::import::export_index(args.request()),
        Command::Completions(args) => {
            commands::completions::run(args.shell, <Cli as clap::CommandFactory>::command())
        }
    }
}
