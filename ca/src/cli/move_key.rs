//! `certkit-ca move-key`.

use super::shared::{BackupSharesArgs, CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::move_key::MoveKeyRequest;
use crate::secret::SecretSource;
use crate::term::Format;
use crate::token::TokenUri;

/// `certkit-ca move-key`.
#[derive(Debug, clap::Args)]
pub struct MoveKeyArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The token and the label the key gets there: an RFC 7512 URI, e.g. pkcs11:token=certkit-ca;object=MyCA.
    #[arg(long, value_name = "URI")]
    pub pkcs11: TokenUri,
    /// The password of the ca.key being moved, and the token's module.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Source of the token's user PIN: env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pin: Option<SecretSource>,
    /// A backup into recovery shares before the key moves.
    #[command(flatten)]
    pub backup: BackupSharesArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl MoveKeyArgs {
    /// The validated request.
    pub fn request(self) -> MoveKeyRequest {
        let backup = self.backup.plan(&self.ca.ca);
        MoveKeyRequest {
            backup,
            ca: self.ca.ca,
            uri: self.pkcs11,
            module: self.key.module.pkcs11_module,
            ca_pass: self.key.ca_pass,
            pin: self.pin,
            format: Format::json_if(self.json.json),
        }
    }
}
