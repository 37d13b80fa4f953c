//! `certkit-ca renew`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg, LifetimeArgs};
use crate::commands::renew::RenewCaRequest;
use crate::secret::SecretSource;
use crate::term::Format;

/// `certkit-ca renew`.
#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The new validity (default: 3650 days from now).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Only say what would change (no password, nothing written).
    #[arg(long)]
    pub plan: bool,
    /// A service configuration to look at: does it trust the current CA thumbprint (one or more).
    #[arg(long, num_args = 1.., value_name = "FILE.cscfg")]
    pub cscfg: Vec<PathBuf>,
    /// For a CA below another (an issuing CA): the CA folder on this machine that signed it, which signs the
    /// renewal (its key is unlocked with --parent-pass).
    #[arg(long, value_name = "DIR")]
    pub parent: Option<PathBuf>,
    /// Source of the parent CA's key password (or token PIN): env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE", requires = "parent")]
    pub parent_pass: Option<SecretSource>,
    /// What opens the CA key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl RenewArgs {
    /// The validated request.
    pub fn request(self) -> RenewCaRequest {
        RenewCaRequest {
            ca: self.ca.ca,
            lifetime: self.lifetime.lifetime(crate::store::DEFAULT_CA_DAYS),
            asked: (self.lifetime.days.is_some() || self.lifetime.expires.is_some())
                .then(|| self.lifetime.lifetime(crate::store::DEFAULT_SUB_CA_DAYS)),
            parent: self.parent,
            parent_pass: self.parent_pass,
            plan: self.plan,
            cscfg: self.cscfg,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        }
    }
}
