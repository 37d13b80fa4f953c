//! `certkit-ca sign-ca`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, CaPolicyArgs, JsonArg, LifetimeArgs, NameConstraintArgs};
use crate::commands::sign_ca::{SignCaRequest, SignCaWhat};
use crate::error::{Error, Result};
use crate::term::Format;

/// `certkit-ca sign-ca`.
#[derive(Debug, clap::Args)]
pub struct SignCaArgs {
    /// The signing CA (e.g. the offline root).
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The lower CA's certificate signing request (PEM or DER).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "renew",
        conflicts_with = "renew"
    )]
    pub csr: Option<PathBuf>,
    /// Renew a CA this CA signed: its current certificate (PEM or DER); the renewal has its key, subject and
    /// constraints (its folder takes it with certkit-ca install --cert).
    #[arg(long, value_name = "CA.cer")]
    pub renew: Option<PathBuf>,
    /// Output prefix: writes PREFIX.cer (DER) and PREFIX.pem.
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Path length constraint of the lower CA (default: one less than the signing CA's).
    #[arg(long, value_name = "N")]
    pub pathlen: Option<u8>,
    /// Validity (default: 1825 days, and never past the signing CA's end).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// The names the certificates under the lower CA may have.
    #[command(flatten)]
    pub constraints: NameConstraintArgs,
    /// The lower CA certificate's policies.
    #[command(flatten)]
    pub policies: CaPolicyArgs,
    /// What opens the signing CA's key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl SignCaArgs {
    /// The validated request.
    pub fn request(self) -> Result<SignCaRequest> {
        let lifetime = (self.lifetime.days.is_some() || self.lifetime.expires.is_some())
            .then(|| self.lifetime.lifetime(crate::store::DEFAULT_SUB_CA_DAYS));
        if self.renew.is_some()
            && (self.pathlen.is_some()
                || !self.constraints.constraints()?.is_empty()
                || !self.policies.policy.is_empty())
        {
            return Err(Error::BadInput(
                "--renew keeps the CA's pathLen, name constraints and policies; leave out --pathlen, the name constraints and --policy".into(),
            ));
        }
        let what = match (self.csr, self.renew) {
            (_, Some(cert)) => SignCaWhat::Renewal(cert),
            (Some(csr), None) => SignCaWhat::Request(csr),
            (None, None) => {
                return Err(Error::BadInput(
                    "give the lower CA's request with --csr FILE, or its certificate to renew with --renew FILE".into(),
                ));
            }
        };
        Ok(SignCaRequest {
            ca: self.ca.ca,
            what,
            out: self.out,
            pathlen: self.pathlen,
            lifetime,
            constraints: self.constraints.constraints()?,
            policies: self.policies.policies()?,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        })
    }
}
