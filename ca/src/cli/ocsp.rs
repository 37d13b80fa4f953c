//! `certkit-ca ocsp` and `certkit-ca ocsp serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::ocsp::{OcspRequest, ServeRequest};
use crate::error::Result;
use crate::term::Format;

/// Days from one OCSP window to the next unless `--every` says otherwise: a week, as public CAs do.
pub const DEFAULT_EVERY_DAYS: u32 = 7;

/// `certkit-ca ocsp`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct OcspArgs {
    /// Serve the responses signed ahead over HTTP, with no key.
    #[command(subcommand)]
    pub action: Option<OcspAction>,
    /// The CA.
    #[command(flatten)]
    pub ca: Option<CaDirArg>,
    /// Folder for the responses (made if missing): one file per window, named by when it starts, and ca.cer.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// How many windows to sign ahead at one unlock, one after the other [default: 1].
    #[arg(long, value_name = "N")]
    pub series: Option<u32>,
    /// Days from one window's thisUpdate to the next one's [default: 7].
    #[arg(long, value_name = "DAYS")]
    pub every: Option<u32>,
    /// Days each window's responses stay valid past the next window's start [default: 1].
    #[arg(long, value_name = "DAYS")]
    pub overlap: Option<u32>,
    /// What opens the CA key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// `certkit-ca ocsp` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum OcspAction {
    /// Answer OCSP requests (HTTP POST and GET, RFC 6960 and RFC 5019) with the responses certkit-ca ocsp
    /// signed ahead: the current window of the newest series in FROM, each response checked against the CA
    /// certificate before it is served. Needs no key and no password; picks up a new series without a
    /// restart. Nonces are ignored (the responses are signed ahead, RFC 5019). A serial the CA never issued,
    /// or another CA's, gets unauthorized. GET /health answers 200 while a window is current. Stops on
    /// SIGTERM, letting open requests finish.
    Serve(ServeArgs),
}

/// `certkit-ca ocsp serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The folder certkit-ca ocsp --out-dir wrote (a copy of it).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Address and port to listen on, e.g. 0.0.0.0:8080 or 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The CA certificate the responses must be signed by [default: FROM/ca.cer]; a copy kept apart from
    /// FROM, or pin FROM/ca.cer with --ca-thumbprint.
    #[arg(long, value_name = "CERT")]
    pub ca_cert: Option<PathBuf>,
    /// The SHA-1 thumbprint the CA certificate must have (certkit-ca ocsp prints it).
    #[arg(long, value_name = "SHA1", value_parser = super::values::ca_thumbprint)]
    pub ca_thumbprint: Option<crate::thumbprint::Thumbprint>,
    /// The most connections open at once; more are closed as they arrive.
    #[arg(long, value_name = "N", default_value_t = crate::ocsp::serve::defaults::MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
}

/// What `certkit-ca ocsp` was asked to do.
pub enum OcspCommand {
    /// Sign a series.
    Sign(OcspRequest),
    /// Serve.
    Serve(ServeRequest),
}

impl OcspArgs {
    /// The validated request.
    pub fn request(self) -> Result<OcspCommand> {
        if let Some(OcspAction::Serve(args)) = self.action {
            return Ok(OcspCommand::Serve(ServeRequest {
                ca_cert: args.ca_cert.unwrap_or_else(|| args.from.join("ca.cer")),
                ca_pin: args.ca_thumbprint,
                from: args.from,
                listen: args.listen,
                max_connections: args.max_connections as usize,
            }));
        }
        let Some(ca) = self.ca else {
            return Err(crate::Error::BadInput(
                "the CA folder is missing: give --ca DIR --out-dir DIR (or \"certkit-ca ocsp serve\" to answer requests without the key)".into(),
            ));
        };
        let Some(out_dir) = self.out_dir else {
            return Err(crate::Error::BadInput(
                "the folder for the responses is missing: give --out-dir DIR (the folder certkit-ca ocsp serve --from reads)".into(),
            ));
        };
        let plan = crate::crl::SeriesPlan::of(
            "OCSP windows",
            self.series.unwrap_or(1),
            self.every.unwrap_or(DEFAULT_EVERY_DAYS),
            self.overlap.unwrap_or(crate::crl::DEFAULT_OVERLAP_DAYS),
        )?;
        Ok(OcspCommand::Sign(OcspRequest {
            ca: ca.ca,
            out_dir,
            plan,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }))
    }
}
