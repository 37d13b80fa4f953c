//! certkit-export's command line: the clap definitions, one file per command, each turned once into a
//! validated request for the matching module in `commands`.

mod cer;
mod cscfg;
pub mod guide;
mod inspect;
mod kit;
mod pfx;
mod thumbprint;
mod tls12;

use clap::{Parser, Subcommand};

use certkit_ca::Result;

use crate::commands;

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
    Pfx(pfx::PfxArgs),
    /// Write a public certificate (.cer) from a DER, PEM or PFX file; --issuer finds the CA's certificate.
    Cer(cer::CerArgs),
    /// Print SHA-1 thumbprints, plain or as ready-to-paste configuration lines.
    Thumbprint(thumbprint::ThumbprintArgs),
    /// Put thumbprints and settings into a ServiceConfiguration.cscfg, changing only those values.
    Cscfg(cscfg::CscfgArgs),
    /// Say what certificate, PFX, CSR, CRL or key files are, whether they will load where they go, and what is wrong.
    Inspect(inspect::InspectArgs),
    /// The files one consumer of client certificates takes (appgw, appservice, apim, keyvault, cses, nginx,
    /// haproxy), checked against its rules, and kept up to date with --refresh.
    Kit(kit::KitArgs),
    /// TLS 1.2 readiness: the registry file for old Windows, and Azure's root CAs in a trust store.
    Tls12(tls12::Tls12Args),
    /// Print the shell completion script (source it, or install it as the README says).
    Completions(certkit_ca::cli::shared::CompletionsArgs),
}

/// Runs a parsed `certkit-export` command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pfx(a) => commands::pfx::run(a.request()?),
        Command::Cer(a) => commands::cer::run(a.request()),
        Command::Thumbprint(a) => commands::thumbprint::run(a.request()),
        Command::Cscfg(a) => match a.request()? {
            commands::cscfg::CscfgAction::Edit(req) => commands::cscfg::run(*req),
            commands::cscfg::CscfgAction::Check(req) => commands::cscfg::check(req),
        },
        Command::Inspect(a) => commands::inspect::run(a.request()),
        Command::Kit(a) => commands::kit::run(a.request()?),
        Command::Tls12(a) => commands::tls12::run(a.request()),
        Command::Completions(a) => certkit_ca::commands::completions::run(
            a.shell,
            <Cli as clap::CommandFactory>::command(),
        ),
    }
}
