//! Flag groups of certkit-issue's commands, and the `server` and `encryption` commands.

use std::path::PathBuf;

use certkit_ca::cli::shared::{CaKeyArgs, CrlUrlArg, EkuArgs, JsonArg, LifetimeArgs, SanArgs};
use certkit_ca::dates::Validity;
use certkit_ca::pfx::PfxProfile;
use certkit_ca::term::Format;
use certkit_ca::{Error, KeyType, Profile, Result, SecretSource};

use crate::by_profile::ProfileChoice;
use crate::commands::issue::{IssueRequest, NewKeySecrets, PfxRequest};
use crate::leaf::{Identity, LeafSpec};

/// Default leaf validity: one year, the guide's yearly rotation.
pub const DEFAULT_LEAF_DAYS: u32 = 365;

/// Who signs: `--ca DIR` or `--self-signed`.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SignerArgs {
    /// CA folder made by certkit-ca init.
    #[arg(long, value_name = "DIR")]
    pub ca: Option<PathBuf>,
    /// Sign with the certificate's own key (no CA).
    #[arg(long)]
    pub self_signed: bool,
}

/// Passwords and PFX options of a command that makes a new key.
#[derive(Debug, Clone, clap::Args)]
pub struct NewKeyArgs {
    /// What opens the CA key.
    #[command(flatten)]
    pub ca_key: CaKeyArgs,
    /// Source of the new key file's password (default: ask twice).
    #[arg(long, value_name = "SOURCE")]
    pub key_pass: Option<SecretSource>,
    /// Also write PREFIX.pfx (certificate, key and, when CA-signed, the CA).
    #[arg(long)]
    pub pfx: bool,
    /// Source of the new PFX password (default: ask twice).
    #[arg(long, value_name = "SOURCE", requires = "pfx")]
    pub pfx_pass: Option<SecretSource>,
    /// PFX protection profile.
    #[arg(long, alias = "profile", value_enum, default_value_t = PfxProfile::Compat, requires = "pfx")]
    pub pfx_profile: PfxProfile,
}

impl NewKeyArgs {
    /// The password sources and PFX choice.
    pub fn secrets(self) -> NewKeySecrets {
        NewKeySecrets {
            ca_pass: self.ca_key.ca_pass,
            module: self.ca_key.module.pkcs11_module,
            key_pass: self.key_pass,
            pfx: self.pfx.then_some(PfxRequest {
                profile: self.pfx_profile,
                pass: self.pfx_pass,
            }),
        }
    }
}

/// Who a client certificate's holder is to Active Directory (docs/ad-mapping.md).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IdentityArgs {
    /// User principal name for the SAN (otherName 1.3.6.1.4.1.311.20.2.3), e.g. alice@contoso.com.
    #[arg(long, value_name = "USER@DOMAIN")]
    pub upn: Option<String>,
    /// The account's SID, written as the SAN URI tag:microsoft.com,2022-09-14:sid:SID (AD's strong mapping).
    #[arg(long, value_name = "SID")]
    pub sid: Option<certkit_ca::ad_mapping::Sid>,
    /// With --sid: also the SID security extension 1.3.6.1.4.1.311.25.2, as AD CS writes it (KDCs before
    /// Windows Server 2019 read only this; with --batch, for every row with a sid).
    #[arg(long)]
    pub sid_extension: bool,
    /// URI for the SAN (one or more).
    #[arg(long, num_args = 1.., value_name = "URI")]
    pub uri: Vec<String>,
    /// Add the Smart Card Logon EKU (1.3.6.1.4.1.311.20.2.2) beside clientAuth, for Windows sign-in.
    #[arg(long)]
    pub smartcard_logon: bool,
}

impl IdentityArgs {
    /// The EKUs it adds.
    pub fn ekus(&self) -> Vec<String> {
        match self.smartcard_logon {
            true => vec![certkit_ca::ad_mapping::EKU_SMARTCARD_LOGON.to_string()],
            false => Vec::new(),
        }
    }

    /// The identity.
    pub fn identity(self) -> Identity {
        Identity {
            upn: self.upn,
            sid: self.sid,
            sid_extension: self.sid_extension,
            uris: self.uri,
        }
    }
}

/// Reads `--subject KEY=VALUE` (clap's value parser).
pub fn subject_value(
    text: &str,
) -> std::result::Result<(certkit_ca::profile_file::SubjectAttribute, String), String> {
    certkit_ca::profile_file::parse_subject(text).map_err(|e| e.to_string())
}

/// Adds `more` EKUs to `ekus`, each once.
pub fn with_ekus(mut ekus: Vec<String>, more: Vec<String>) -> Vec<String> {
    for eku in more {
        if !ekus.contains(&eku) {
            ekus.push(eku);
        }
    }
    ekus
}

/// Options every issuing command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Common name of the subject (required, except with client --batch).
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Output prefix: writes PREFIX.cer (DER), PREFIX.pem, PREFIX.key (and PREFIX.pfx with --pfx).
    #[arg(long, value_name = "PREFIX")]
    pub out: Option<PathBuf>,
    /// Validity (default: 365 days; never past the CA's own expiry).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm (Azure Cloud Services needs RSA).
    #[arg(long, value_enum, default_value_t = KeyType::Rsa2048)]
    pub key: KeyType,
    /// Extra extended key usages.
    #[command(flatten)]
    pub eku: EkuArgs,
    /// Issue by one of the CA's profile files (certkit-ca profile list): the request is checked against it
    /// and the certificate carries what it says.
    #[arg(long, value_name = "PROFILE", value_parser = ProfileChoiceParser)]
    pub profile: Option<ProfileChoice>,
    /// A subject attribute beyond the CN, as the profile file allows (one or more): C, ST, L, O or OU.
    #[arg(long, num_args = 1.., value_name = "KEY=VALUE", value_parser = subject_value)]
    pub subject: Vec<(certkit_ca::profile_file::SubjectAttribute, String)>,
    /// CRL distribution point.
    #[command(flatten)]
    pub crl_url: CrlUrlArg,
    /// Passwords and PFX options.
    #[command(flatten)]
    pub keys: NewKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl CommonArgs {
    /// The profile file `--profile` names for a certificate of `profile` (None: the built-in one). Its old
    /// meaning, `--profile compat|modern` for the PFX profile, is still taken with `--pfx`.
    pub fn profile_file(&mut self, profile: Profile) -> Result<Option<String>> {
        match self.profile.take() {
            None => Ok(None),
            Some(ProfileChoice::File(name)) => Ok(Some(name)),
            Some(ProfileChoice::Pfx(pfx)) => {
                if !self.keys.pfx {
                    return Err(Error::BadInput(
                        "--profile compat|modern is the PFX profile: it needs --pfx (and is spelt --pfx-profile now)".into(),
                    ));
                }
                certkit_ca::term::note(&format!(
                    "--profile {name} is an old spelling: use --pfx-profile {name}",
                    name = pfx.name()
                ));
                self.keys.pfx_profile = pfx;
                Ok(None)
            }
            Some(ProfileChoice::Builtin(builtin)) if builtin == profile => Ok(None),
            Some(ProfileChoice::Builtin(builtin)) => Err(Error::BadInput(format!(
                "--profile {builtin} does not fit certkit-issue {profile}: issue it with certkit-issue {builtin}"
            ))),
        }
    }

    /// The request for one certificate of `profile`, signed by `ca` (None: self-signed).
    pub fn request(
        mut self,
        profile: Profile,
        ca: Option<PathBuf>,
        sans: SanArgs,
        email: Option<String>,
        identity: IdentityArgs,
    ) -> Result<IssueRequest> {
        let by_profile = self.profile_file(profile)?;
        let cn = self
            .cn
            .ok_or_else(|| Error::BadInput("--cn NAME is required".into()))?;
        let out = self
            .out
            .ok_or_else(|| Error::BadInput("--out PREFIX is required".into()))?;
        if ca.is_none() && self.crl_url.crl_url.is_some() {
            return Err(Error::BadInput(
                "--crl-url needs --ca: a self-signed certificate has no CRL".into(),
            ));
        }
        let validity = Validity::starting_now(self.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
        let identity_ekus = identity.ekus();
        let identity = identity.identity();
        Ok(IssueRequest {
            ca,
            spec: LeafSpec {
                profile,
                cn,
                dns: sans.dns,
                ips: sans.ip,
                email,
                identity,
                extra_ekus: with_ekus(self.eku.eku, identity_ekus),
                key_type: self.key,
                validity,
                crl_url: self.crl_url.crl_url,
                subject: self.subject,
                profile_file: None,
            },
            by_profile,
            out,
            secrets: self.keys.secrets(),
            format: Format::json_if(self.json.json),
        })
    }
}

/// `certkit-issue server`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("pfx_profile", |arg| arg.alias(None)))]
pub struct ServerArgs {
    /// Who signs.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Extra names.
    #[command(flatten)]
    pub sans: SanArgs,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl ServerArgs {
    /// The validated request.
    pub fn request(self) -> Result<IssueRequest> {
        self.common.request(
            Profile::Server,
            self.signer.ca,
            self.sans,
            None,
            IdentityArgs::default(),
        )
    }
}

/// `certkit-issue encryption`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("pfx_profile", |arg| arg.alias(None)))]
pub struct EncryptionArgs {
    /// Who signs.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl EncryptionArgs {
    /// The validated request.
    pub fn request(self) -> Result<IssueRequest> {
        self.common.request(
            Profile::Encryption,
            self.signer.ca,
            SanArgs::default(),
            None,
            IdentityArgs::default(),
        )
    }
}

/// `--profile`'s value parser: any built-in profile or profile file name, with the built-in ones (and, hidden,
/// the PFX profiles of the flag's old meaning) as its possible values, as `list --profile` has them.
#[derive(Clone, Copy, Debug)]
pub struct ProfileChoiceParser;

impl clap::builder::TypedValueParser for ProfileChoiceParser {
    type Value = crate::by_profile::ProfileChoice;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<crate::by_profile::ProfileChoice, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "--profile takes a profile name in UTF-8\n",
            )
            .with_cmd(cmd)
        })?;
        crate::by_profile::ProfileChoice::parse(text).map_err(|e| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n"))
                .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::ValueEnum;
        let builtin = certkit_ca::Profile::ALL
            .into_iter()
            .filter_map(|p| p.to_possible_value());
        let pfx = [
            certkit_ca::pfx::PfxProfile::Compat,
            certkit_ca::pfx::PfxProfile::Modern,
        ]
        .into_iter()
        .filter_map(|p| p.to_possible_value().map(|v| v.hide(true)));
        Some(Box::new(builtin.chain(pfx)))
    }
}
