//! `certkit-issue renew`.

use std::path::PathBuf;

use certkit_ca::cli::shared::{CaDirArg, JsonArg, LifetimeArgs};
use certkit_ca::dates::Validity;
use certkit_ca::term::Format;
use certkit_ca::{KeyType, Result};

use super::args::{DEFAULT_LEAF_DAYS, NewKeyArgs};
use crate::commands::renew::RenewRequest;

/// `certkit-issue renew`.
#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
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
    /// Renew even if the certificate already has a valid renewal.
    #[arg(long)]
    pub force: bool,
    /// Passwords and PFX options.
    #[command(flatten)]
    pub keys: NewKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RenewArgs {
    /// The validated request.
    pub fn request(self) -> Result<RenewRequest> {
        Ok(RenewRequest {
            ca: self.ca.ca,
            certificate: self.certificate,
            out: self.out,
            validity: Validity::starting_now(self.lifetime.lifetime(DEFAULT_LEAF_DAYS))?,
            key: self.key,
            force: self.force,
            secrets: self.keys.secrets(),
            format: Format::json_if(self.json.json),
        })
    }
}
