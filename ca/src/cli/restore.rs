//! `certkit-ca restore`.

use std::path::PathBuf;

use super::shared::JsonArg;
use crate::commands::restore::RestoreRequest;
use crate::secret::SecretSource;
use crate::term::Format;

/// `certkit-ca restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file made by certkit-ca backup.
    #[arg(long, value_name = "FILE")]
    pub backup: PathBuf,
    /// The new CA folder (it must hold no CA); with --check, the CA whose inventory records the drill.
    #[arg(long, value_name = "DIR", required_unless_present = "check")]
    pub ca: Option<PathBuf>,
    /// The recovery drill: combine the shares and open the backup in memory; write nothing but the drill's
    /// record (with --ca).
    #[arg(long)]
    pub check: bool,
    /// A share: file:PATH (a share file), env:VAR, fd:N or stdin (one share a line); repeat for each share
    /// (default: ask on the terminal, one at a time).
    #[arg(long, value_name = "SOURCE")]
    pub share: Vec<SecretSource>,
    /// Source of the restored CA key's new password: env:VAR, file:PATH, fd:N or stdin (default: ask twice).
    #[arg(long, value_name = "SOURCE", conflicts_with = "check")]
    pub ca_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RestoreArgs {
    /// The validated request.
    pub fn request(self) -> RestoreRequest {
        RestoreRequest {
            backup: self.backup,
            ca: self.ca,
            check: self.check,
            shares: self.share,
            ca_pass: self.ca_pass,
            format: Format::json_if(self.json.json),
        }
    }
}
