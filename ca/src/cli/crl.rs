//! `certkit-ca crl` and `certkit-ca crl publish`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::crl::{CrlOutput, CrlRequest};
use crate::commands::crl_publish::PublishRequest;
use crate::error::Result;
use crate::term::Format;

/// `certkit-ca crl`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CrlArgs {
    /// Put a CRL signed ahead into place, with no key (for the web server's cron).
    #[command(subcommand)]
    pub action: Option<CrlAction>,
    /// The CA.
    #[command(flatten)]
    pub ca: Option<CaDirArg>,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = crate::crl::DEFAULT_CRL_DAYS)]
    pub days: u32,
    /// Where to write it (replaced atomically each time; default CA/ca.crl, or CA/ca.crl.pem with --pem).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sign this many CRLs ahead at one unlock, whose windows follow each other (needs --every and --out-dir).
    #[arg(long, value_name = "N", requires_all = ["every", "out_dir"], conflicts_with_all = ["days", "out"])]
    pub series: Option<u32>,
    /// Days from one CRL of the series to the next (thisUpdate to thisUpdate).
    #[arg(long, value_name = "DAYS", requires = "series")]
    pub every: Option<u32>,
    /// Days each CRL of the series stays valid past the next one's start [default: 1].
    #[arg(long, value_name = "DAYS", requires = "series")]
    pub overlap: Option<u32>,
    /// Folder for the series (made if missing): one file per CRL, named by when it becomes current, and ca.cer.
    #[arg(long, value_name = "DIR", requires = "series")]
    pub out_dir: Option<PathBuf>,
    /// PEM instead of DER (Windows expects DER .crl).
    #[arg(long)]
    pub pem: bool,
    /// What opens the CA key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// `certkit-ca crl` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CrlAction {
    /// Put the CRL that is current now, out of a folder signed ahead (crl --series), in place of the published
    /// one; needs no key. Exit 0 done, 1 the CRLs run out within --warn-days, 2 none is current.
    Publish(PublishArgs),
}

/// `certkit-ca crl publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The folder of CRLs signed ahead (crl --series --out-dir).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The published CRL to replace (atomically, only by a newer CRL of the same CA).
    #[arg(long, alias = "to", value_name = "FILE")]
    pub out: PathBuf,
    /// The CA certificate the CRLs must be signed by: a copy kept apart from FROM (whoever can write FROM could
    /// replace FROM/ca.cer). Or pin FROM/ca.cer with --ca-thumbprint.
    #[arg(long, value_name = "CERT", required_unless_present = "ca_thumbprint")]
    pub ca_cert: Option<PathBuf>,
    /// The SHA-1 thumbprint FROM/ca.cer must have (what crl --series prints): the trust anchor is never taken
    /// from the folder being checked on its own word.
    #[arg(long, value_name = "SHA1", conflicts_with = "ca_cert", value_parser = super::values::ca_thumbprint)]
    pub ca_thumbprint: Option<crate::thumbprint::Thumbprint>,
    /// Exit 1 when the CRLs run out within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = crate::commands::crl_publish::WARN_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub warn_days: u32,
    /// Look at what would be published at this day (YYYY-MM-DD, from its start, UTC) or time (RFC 3339);
    /// nothing is written.
    #[arg(long, value_name = "DATE", value_parser = super::values::moment)]
    pub at: Option<time::OffsetDateTime>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// What `certkit-ca crl` was asked to do.
pub enum CrlCommand {
    /// Sign (`certkit-ca crl`).
    Sign(CrlRequest),
    /// Publish (`certkit-ca crl publish`).
    Publish(PublishRequest),
}

impl CrlArgs {
    /// The validated request.
    pub fn request(self) -> Result<CrlCommand> {
        if let Some(CrlAction::Publish(args)) = self.action {
            return Ok(CrlCommand::Publish(PublishRequest {
                ca_pin: args.ca_thumbprint,
                ca_cert: args.ca_cert.unwrap_or_else(|| args.from.join("ca.cer")),
                from: args.from,
                to: args.out,
                warn_days: args.warn_days,
                at: args.at,
                format: Format::json_if(args.json.json),
            }));
        }
        let Some(ca) = self.ca else {
            return Err(crate::Error::BadInput(
                "the CA folder is missing: give --ca DIR (or \"certkit-ca crl publish\" to publish without the key)".into(),
            ));
        };
        let output = match (self.series, self.every, self.out_dir) {
            (Some(count), Some(every), Some(dir)) => CrlOutput::Series {
                plan: crate::crl::SeriesPlan::new(
                    count,
                    every,
                    self.overlap.unwrap_or(crate::crl::DEFAULT_OVERLAP_DAYS),
                )?,
                dir,
            },
            _ => CrlOutput::One {
                days: self.days,
                out: self.out,
            },
        };
        Ok(CrlCommand::Sign(CrlRequest {
            ca: ca.ca,
            output,
            pem: self.pem,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }))
    }
}
