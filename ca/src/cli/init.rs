//! `certkit-ca init`.

use std::path::PathBuf;

use super::shared::{
    BackupSharesArgs, CaPolicyArgs, JsonArg, LifetimeArgs, ModuleArg, NameConstraintArgs,
};
use crate::commands::init::InitRequest;
use crate::commands::install::KeyRequest;
use crate::commands::parent::ParentRequest;
use crate::keys::KeyType;
use crate::secret::SecretSource;
use crate::store::{self, CaSpec};
use crate::term::Format;
use crate::token::TokenUri;

/// `certkit-ca init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// CA folder (created if missing).
    #[arg(long = "ca", alias = "dir", value_name = "DIR")]
    pub ca: PathBuf,
    /// Common name of the CA, e.g. "MyCA".
    #[arg(long, value_name = "NAME")]
    pub cn: String,
    /// Validity (default: 3650 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyType::Rsa2048)]
    pub key: KeyType,
    /// Path length constraint (makecert -h) [default: 1; with --parent, one less than the parent's].
    #[arg(long, value_name = "N")]
    pub pathlen: Option<u8>,
    /// CRL distribution point URL to put into certificates this CA issues.
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
    /// Where clients can fetch this CA's certificate (its .cer): an authorityInfoAccess caIssuers URL put into
    /// certificates this CA issues, so a client that lacks the issuing CA can build the path.
    #[arg(long, value_name = "URL")]
    pub aia_url: Option<String>,
    /// Where clients ask about revocation: an authorityInfoAccess OCSP URL (http://) put into certificates this
    /// CA issues; certkit-ca ocsp signs the responses ahead and certkit-ca ocsp serve answers there.
    #[arg(long, value_name = "URL")]
    pub ocsp_url: Option<String>,
    /// Make the key on a PKCS#11 token, never on disk: an RFC 7512 URI naming the token and the key's label, e.g. pkcs11:token=certkit-ca;object=MyCA.
    #[arg(long, value_name = "URI")]
    pub pkcs11: Option<TokenUri>,
    /// The token's module.
    #[command(flatten)]
    pub module: ModuleArg,
    /// Source of the new CA key password (with --pkcs11: the token's user PIN): env:VAR, file:PATH, fd:N or stdin (default: ask, twice for a new password).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// The names the certificates under this CA may have.
    #[command(flatten)]
    pub constraints: NameConstraintArgs,
    /// The CA certificate's own policies.
    #[command(flatten)]
    pub policies: CaPolicyArgs,
    /// A backup of the new key into recovery shares: with --pkcs11 the key is made in memory, backed up, then
    /// imported into the token (where it can never be read out again).
    #[command(flatten)]
    pub backup: BackupSharesArgs,
    /// Make only the key and a certificate signing request for the CA above (written to FILE and to the
    /// folder's ca.csr); the folder signs nothing until certkit-ca install puts its certificate in.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["days", "expires", "pathlen", "backup_shares", "permit_dns", "exclude_dns", "permit_email", "permit_ip", "exclude_ip", "policy"])]
    pub request: Option<PathBuf>,
    /// The CA above, on this machine, that signs this one (an issuing CA under a root): its key is unlocked
    /// once, it records the new CA (profile ca), and the new folder keeps the chain.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["request", "backup_shares"])]
    pub parent: Option<PathBuf>,
    /// Source of the parent CA's key password (or token PIN): env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE", requires = "parent")]
    pub parent_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl InitArgs {
    /// The validated request, every default settled.
    pub fn request(self) -> crate::error::Result<InitCommand> {
        let token = self.module.token(self.pkcs11)?;
        let backup = self.backup.plan(&self.ca);
        let spec = CaSpec {
            dir: self.ca,
            cn: self.cn,
            lifetime: self.lifetime.lifetime(store::DEFAULT_CA_DAYS),
            key: self.key,
            pathlen: self.pathlen.unwrap_or(store::DEFAULT_PATHLEN),
            crl_url: self.crl_url,
            aia_url: self.aia_url,
            ocsp_url: self.ocsp_url,
            constraints: self.constraints.constraints()?,
            policies: self.policies.policies()?,
        };
        let format = Format::json_if(self.json.json);
        if let Some(parent) = self.parent {
            let lifetime = (self.lifetime.days.is_some() || self.lifetime.expires.is_some())
                .then(|| self.lifetime.lifetime(store::DEFAULT_SUB_CA_DAYS));
            return Ok(InitCommand::UnderParent(ParentRequest {
                spec,
                token,
                parent,
                parent_pass: self.parent_pass,
                pathlen: self.pathlen,
                lifetime,
                ca_pass: self.ca_pass,
                format,
            }));
        }
        Ok(match self.request {
            Some(out) => InitCommand::Request(KeyRequest {
                spec,
                token,
                out,
                ca_pass: self.ca_pass,
                format,
            }),
            None => InitCommand::Init(InitRequest {
                spec,
                token,
                backup,
                ca_pass: self.ca_pass,
                format,
            }),
        })
    }
}

/// What `certkit-ca init` was asked to do.
pub enum InitCommand {
    /// A CA: key and certificate.
    Init(InitRequest),
    /// The key and a request for the CA above (`--request`).
    Request(KeyRequest),
    /// A CA signed by the CA above on this machine (`--parent`).
    UnderParent(ParentRequest),
}
