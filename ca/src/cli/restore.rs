//! `certkit-ca restore`.

use std::path::PathBuf;

use super::shared::{JsonArg, ModuleArg};
use crate::commands::restore::RestoreRequest;
use crate::error::Result;
use crate::secret::SecretSource;
use crate::term::Format;
use crate::token::TokenUri;

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
    #[arg(long, num_args = 1.., value_name = "SOURCE")]
    pub share: Vec<SecretSource>,
    /// Source of the restored CA key's new password (with --pkcs11: the token's user PIN): env:VAR, file:PATH,
    /// fd:N or stdin (default: ask, twice for a new password).
    #[arg(long, value_name = "SOURCE", conflicts_with = "check")]
    pub ca_pass: Option<SecretSource>,
    /// Import the restored key into a PKCS#11 token (sensitive, never extractable) instead of ca.key: an RFC 7512
    /// URI naming the token and the key's label, e.g. pkcs11:token=certkit-ca;object=MyCA.
    #[arg(long, value_name = "URI", conflicts_with = "check")]
    pub pkcs11: Option<TokenUri>,
    /// The token's module.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RestoreArgs {
    /// The validated request.
    pub fn request(self) -> Result<RestoreRequest> {
        let token = self.module.token(self.pkcs11)?;
        Ok(RestoreRequest {
            token,
            backup: self.backup,
            ca: self.ca,
            check: self.check,
            shares: self.share,
            ca_pass: self.ca_pass,
            format: Format::json_if(self.json.json),
        })
    }
}
