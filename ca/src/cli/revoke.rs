//! `certkit-ca revoke`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg};
use crate::commands::revoke::RevokeRequest;
use crate::store::inventory::RevocationReason;
use crate::term::Format;

/// `certkit-ca revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The certificate: its serial, its SHA-1 thumbprint, or the certificate file.
    #[arg(value_name = "SERIAL|THUMBPRINT|CERTFILE")]
    pub certificate: String,
    /// Why it is revoked (goes into the CRL).
    #[arg(long, value_enum, default_value = "unspecified")]
    pub reason: RevocationReason,
    /// Also remove its thumbprint from AllowedClientCertificateThumbprints in this service configuration.
    #[arg(long, value_name = "FILE.cscfg")]
    pub cscfg: Option<PathBuf>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RevokeArgs {
    /// The validated request.
    pub fn request(self) -> RevokeRequest {
        RevokeRequest {
            ca: self.ca.ca,
            certificate: self.certificate,
            reason: self.reason,
            cscfg: self.cscfg,
            format: Format::json_if(self.json.json),
        }
    }
}
