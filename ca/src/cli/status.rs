//! `certkit-ca status`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg, ModuleArg};
use crate::commands::status::StatusRequest;
use crate::term::Format;

/// `certkit-ca status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Warn about certificates that expire within this many days (a renewed one is listed as renewed).
    #[arg(long, alias = "within", value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expiring_within: u32,
    /// Look as of this day (YYYY-MM-DD, from its start, UTC) or time (RFC 3339) instead of now: what will have
    /// lapsed by then.
    #[arg(long, value_name = "DATE", value_parser = super::values::moment)]
    pub at: Option<time::OffsetDateTime>,
    /// Warn when the CRLs or OCSP responses signed ahead run out within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = crate::commands::status::CRL_WARN_DAYS as u32,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub warn_days: u32,
    /// A published CRL file to check too (signed by this CA, not stale); one or more.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// The token's module, for a CA key on a token.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl StatusArgs {
    /// The validated request.
    pub fn request(self) -> StatusRequest {
        StatusRequest {
            ca: self.ca.ca,
            within: self.expiring_within,
            warn_days: self.warn_days,
            at: self.at,
            crls: self.crl,
            module: self.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
