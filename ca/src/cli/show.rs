//! `certkit-ca show`.

use super::shared::{CaDirArg, JsonArg};
use crate::commands::show::ShowRequest;
use crate::term::Format;

/// `certkit-ca show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ShowArgs {
    /// The validated request.
    pub fn request(self) -> ShowRequest {
        ShowRequest {
            ca: self.ca.ca,
            format: Format::json_if(self.json.json),
        }
    }
}
