//! `certkit-ca rekey`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg, LifetimeArgs, ModuleArg};
use crate::commands::rekey::RekeyRequest;
use crate::keys::KeyType;
use crate::secret::SecretSource;
use crate::term::Format;
use crate::token::TokenUri;

/// `certkit-ca rekey`.
#[derive(Debug, clap::Args)]
pub struct RekeyArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The new CA certificate's validity (default: 3650 days from now).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// The new key's algorithm (default: the current key's).
    #[arg(long, value_enum)]
    pub key: Option<KeyType>,
    /// CRL distribution point URL for what the new key signs (needed when the CA has one: the old key's CRLs
    /// stay at the old URL).
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
    /// Only say what would change (no password, nothing written).
    #[arg(long)]
    pub plan: bool,
    /// A service configuration to look at: does it trust the current CA thumbprint (one or more).
    #[arg(long, num_args = 1.., value_name = "FILE.cscfg")]
    pub cscfg: Vec<PathBuf>,
    /// For a CA key on a token: where the new key is made, an RFC 7512 URI naming the same token and a new
    /// label, e.g. pkcs11:token=certkit-ca;object=MyCA-2 (a key file CA moves onto the token first: move-key).
    #[arg(long, value_name = "URI")]
    pub pkcs11: Option<TokenUri>,
    /// The token's module.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Source of the CA key password (the token PIN for a CA key on a token): env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Source of the password the CA's keys (the new and the kept old one) are encrypted under from now on
    /// (default: the current CA key password).
    #[arg(long, value_name = "SOURCE")]
    pub new_ca_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RekeyArgs {
    /// The validated request.
    pub fn request(self) -> RekeyRequest {
        RekeyRequest {
            ca: self.ca.ca,
            lifetime: self.lifetime.lifetime(crate::store::DEFAULT_CA_DAYS),
            key: self.key,
            crl_url: self.crl_url,
            plan: self.plan,
            cscfg: self.cscfg,
            ca_pass: self.ca_pass,
            new_ca_pass: self.new_ca_pass,
            pkcs11: self.pkcs11,
            module: self.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
