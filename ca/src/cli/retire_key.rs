//! `certkit-ca retire-key`.

use super::shared::{CaDirArg, JsonArg};
use crate::commands::retire_key::RetireKeyRequest;
use crate::error::{Error, Result};
use crate::secret::SecretSource;
use crate::term::Format;

/// `certkit-ca retire-key`.
#[derive(Debug, clap::Args)]
pub struct RetireKeyArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The earlier key's identifier, as rekey, crl and list print it (its subject key identifier in hex).
    #[arg(long, value_name = "KEYID")]
    pub key_id: String,
    /// Source of the CA key password (the current key signs the change): env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RetireKeyArgs {
    /// The validated request: a key identifier is hex digits (a name, never a path).
    pub fn request(self) -> Result<RetireKeyRequest> {
        let key_id = self.key_id.to_ascii_uppercase();
        if key_id.len() < 2 || key_id.len() > 128 || !key_id.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(Error::BadInput(format!(
                "--key-id {}: a key identifier is hex digits, as rekey, crl and list print it",
                self.key_id.escape_debug()
            )));
        }
        Ok(RetireKeyRequest {
            ca: self.ca.ca,
            key_id,
            ca_pass: self.ca_pass,
            format: Format::json_if(self.json.json),
        })
    }
}
