//! `certkit-ca crl`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::crl::CrlRequest;
use crate::term::Format;

/// `certkit-ca crl`.
#[derive(Debug, clap::Args)]
pub struct CrlArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Days until nextUpdate.
    #[arg(long, value_name = "N", default_value_t = crate::crl::DEFAULT_CRL_DAYS)]
    pub days: u32,
    /// Where to write it (replaced atomically each time; default CA/ca.crl, or CA/ca.crl.pem with --pem).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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

impl CrlArgs {
    /// The validated request.
    pub fn request(self) -> CrlRequest {
        CrlRequest {
            ca: self.ca.ca,
            days: self.days,
            out: self.out,
            pem: self.pem,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
