//! `certkit-ca report`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg, ModuleArg};
use crate::commands::report::ReportRequest;
use crate::term::Format;

/// `certkit-ca report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The HTML file to write (replaced atomically; one self-contained page, no script, nothing fetched).
    #[arg(long, alias = "html", value_name = "FILE")]
    pub out: PathBuf,
    /// The token's module, for a CA key on a token.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ReportArgs {
    /// The validated request.
    pub fn request(self) -> ReportRequest {
        ReportRequest {
            ca: self.ca.ca,
            html: self.out,
            module: self.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
