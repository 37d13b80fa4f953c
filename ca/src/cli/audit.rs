//! `certkit-ca audit`.

use super::shared::{CaDirArg, JsonArg};
use crate::commands::audit::AuditRequest;
use crate::term::Format;

/// `certkit-ca audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl AuditArgs {
    /// The validated request.
    pub fn request(self) -> AuditRequest {
        AuditRequest {
            ca: self.ca.ca,
            format: Format::json_if(self.json.json),
        }
    }
}
