//! certkit-issue's command line: the clap definitions, one file per command, each turned once into a
//! validated request for the matching module in `commands`.

mod args;
mod client;
pub mod guide;
mod renew;
mod sign;

use clap::{Parser, Subcommand};

use certkit_ca::Result;

use crate::commands;

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
    Server(args::ServerArgs),
    /// TLS client certificate (EKU clientAuth), one per person, always CA-signed.
    Client(client::ClientArgs),
    /// Data encryption certificate (EKU Document Encryption): the guide's DataEncryptionPrimary.
    Encryption(args::EncryptionArgs),
    /// Sign a PKCS#10 request (CSR), so the requester's private key never leaves their machine.
    Sign(sign::SignArgs),
    /// Renew a certificate the CA issued, or every one that expires soon: new key, same subject, SANs, profile
    /// and EKUs. The old one stays valid (and listed) until it is revoked.
    Renew(renew::RenewArgs),
    /// Print the shell completion script (source it, or install it as the README says).
    Completions(certkit_ca::cli::shared::CompletionsArgs),
}

/// Runs a parsed `certkit-issue` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Server(a) => commands::issue::run(a.request()?),
        Command::Client(a) => match a.request()? {
            client::ClientRequest::One(req) => commands::issue::run(req),
            client::ClientRequest::Batch(req) => commands::batch::run(req),
        },
        Command::Encryption(a) => commands::issue::run(a.request()?),
        Command::Sign(a) => commands::sign::run(a.request()?),
        Command::Renew(a) => match a.request()? {
            renew::RenewWhat::One(req) => commands::renew::run(req),
            renew::RenewWhat::Many(req) => commands::renew::run_many(req),
        },
        Command::Completions(a) => certkit_ca::commands::completions::run(
            a.shell,
            <Cli as clap::CommandFactory>::command(),
        ),
    }
}
