//! `certkit-ca install`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::install::InstallRequest;
use crate::term::Format;

/// `certkit-ca install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The CA folder made by certkit-ca init --request, or a CA below another taking its renewal (sign-ca --renew).
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Its certificate, as the CA above signed it (certkit-ca sign-ca).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// The CA above (one or more, or one bundle): the one that signed it first, the self-signed root last
    /// (needed for a folder made by init --request; a renewal keeps the folder's chain).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    /// What opens the CA key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl InstallArgs {
    /// The validated request.
    pub fn request(self) -> InstallRequest {
        InstallRequest {
            ca: self.ca.ca,
            cert: self.cert,
            chain: self.chain,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
