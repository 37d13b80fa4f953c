//! `certkit-ca revoke`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
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
    /// With --ca-pass, the CA key signs a checkpoint over the revocation at once, so that nobody can remove it
    /// from the log unseen (without it, the next command that uses the key does).
    #[command(flatten)]
    pub key: CaKeyArgs,
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
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
