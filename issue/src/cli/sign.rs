//! `certkit-issue sign`.

use std::path::PathBuf;

use certkit_ca::Result;
use certkit_ca::cli::shared::{
    CaDirArg, CaKeyArgs, CrlUrlArg, EkuArgs, JsonArg, LifetimeArgs, SanArgs,
};
use certkit_ca::dates::Validity;
use certkit_ca::profile_file::SubjectAttribute;
use certkit_ca::term::Format;

use super::args::{DEFAULT_LEAF_DAYS, IdentityArgs, subject_value, with_ekus};
use crate::by_profile::ProfileChoice;
use crate::commands::sign::SignRequest;

/// `certkit-issue sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The certificate signing request (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub csr: PathBuf,
    /// Profile whose extensions the certificate gets (the request's own extensions are ignored): server,
    /// client, encryption, or one of the CA's profile files (certkit-ca profile list).
    #[arg(long, value_name = "PROFILE", value_parser = super::args::ProfileChoiceParser)]
    pub profile: ProfileChoice,
    /// A subject attribute beyond the CN, as the profile file allows (one or more): C, ST, L, O or OU.
    #[arg(long, num_args = 1.., value_name = "KEY=VALUE", value_parser = subject_value)]
    pub subject: Vec<(SubjectAttribute, String)>,
    /// Output prefix: writes PREFIX.cer and PREFIX.pem.
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Extra names (server profile).
    #[command(flatten)]
    pub sans: SanArgs,
    /// E-mail address (client profile).
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// Who the person is to Active Directory (client profile).
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Validity (default: 365 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Extra extended key usages.
    #[command(flatten)]
    pub eku: EkuArgs,
    /// CRL distribution point.
    #[command(flatten)]
    pub crl_url: CrlUrlArg,
    /// What opens the CA key.
    #[command(flatten)]
    pub ca_key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl SignArgs {
    /// The validated request.
    pub fn request(self) -> Result<SignRequest> {
        let identity_ekus = self.identity.ekus();
        let identity = self.identity.identity();
        Ok(SignRequest {
            ca: self.ca.ca,
            csr: self.csr,
            profile: self.profile,
            subject: self.subject,
            out: self.out,
            dns: self.sans.dns,
            ips: self.sans.ip,
            email: self.email,
            identity,
            validity: Validity::starting_now(self.lifetime.lifetime(DEFAULT_LEAF_DAYS))?,
            extra_ekus: with_ekus(self.eku.eku, identity_ekus),
            crl_url: self.crl_url.crl_url,
            ca_pass: self.ca_key.ca_pass,
            module: self.ca_key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        })
    }
}
