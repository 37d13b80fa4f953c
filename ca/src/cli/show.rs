//! `certkit-ca show`.

use super::shared::{CaDirArg, JsonArg, ModuleArg};
use crate::commands::show::ShowRequest;
use crate::term::Format;

/// `certkit-ca show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The token's module, for a CA key on a token.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ShowArgs {
    /// The validated request.
    pub fn request(self) -> ShowRequest {
        ShowRequest {
            ca: self.ca.ca,
            module: self.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
