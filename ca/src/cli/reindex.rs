//! `certkit-ca reindex`.

use super::shared::{CaDirArg, JsonArg};
use crate::commands::reindex::ReindexRequest;
use crate::term::Format;

/// `certkit-ca reindex`.
#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ReindexArgs {
    /// The validated request.
    pub fn request(self) -> ReindexRequest {
        ReindexRequest {
            ca: self.ca.ca,
            format: Format::json_if(self.json.json),
        }
    }
}
