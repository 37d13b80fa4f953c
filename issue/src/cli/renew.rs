//! `certkit-issue renew`: one certificate, or every one that expires soon (`--expiring-within`).

use std::path::PathBuf;

use clap::ValueEnum;
use clap::builder::PossibleValue;

use certkit_ca::cli::shared::{CaDirArg, JsonArg, LifetimeArgs};
use certkit_ca::dates::{MAX_DAYS, Validity};
use certkit_ca::pfx::PfxProfile;
use certkit_ca::term::Format;
use certkit_ca::{Error, KeyType, Profile, Result};

use super::args::{DEFAULT_LEAF_DAYS, NewKeyArgs};
use crate::commands::renew::{RenewManyRequest, RenewRequest};

/// `certkit-issue renew`.
#[derive(Debug, clap::Args)]
// `--profile` selects certificates here; the old spelling of --pfx-profile lives on in its values.
#[command(mut_arg("pfx_profile", |arg| arg.alias(None)))]
pub struct RenewArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The certificate to renew: its serial, its SHA-1 thumbprint, or the certificate file.
    #[arg(
        value_name = "SERIAL|THUMBPRINT|CERTFILE",
        required_unless_present = "expiring_within",
        conflicts_with = "expiring_within"
    )]
    pub certificate: Option<String>,
    /// Output prefix: writes PREFIX.cer, PREFIX.pem, PREFIX.key (and PREFIX.pfx with --pfx).
    #[arg(long, value_name = "PREFIX", conflicts_with = "expiring_within")]
    pub out: Option<PathBuf>,
    /// Renew every valid certificate that expires within DAYS (0: today), unlocking the CA once.
    #[arg(long, value_name = "DAYS", requires = "out_dir")]
    pub expiring_within: Option<u32>,
    /// With --expiring-within: only certificates of this profile.
    #[arg(long, value_name = "PROFILE", value_enum)]
    pub profile: Option<ProfileArg>,
    /// With --expiring-within: the folder for every renewal's files (NAME-SERIAL-renewed.cer, .pem, .key, .pfx).
    #[arg(long, value_name = "DIR", requires = "expiring_within")]
    pub out_dir: Option<PathBuf>,
    /// With --expiring-within: worker threads, 1 to 256 (default: the number of cores).
    #[arg(long, value_name = "N", requires = "expiring_within", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Validity (default: 365 days).
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Key algorithm (default: the old certificate's).
    #[arg(long, value_enum)]
    pub key: Option<KeyType>,
    /// Renew even if the certificate already has a valid renewal.
    #[arg(long, conflicts_with = "expiring_within")]
    pub force: bool,
    /// Passwords and PFX options.
    #[command(flatten)]
    pub keys: NewKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// What `--profile` takes on `renew`: a certificate profile, or (hidden: the flag's old meaning on every
/// issuing command) a PFX profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileArg {
    /// Certificates of this profile.
    Certificate(Profile),
    /// `--pfx-profile`, as it was once spelt.
    Pfx(PfxProfile),
}

impl ProfileArg {
    const ALL: [ProfileArg; 6] = [
        ProfileArg::Certificate(Profile::Server),
        ProfileArg::Certificate(Profile::Client),
        ProfileArg::Certificate(Profile::Encryption),
        ProfileArg::Certificate(Profile::Ca),
        ProfileArg::Pfx(PfxProfile::Compat),
        ProfileArg::Pfx(PfxProfile::Modern),
    ];
}

impl ValueEnum for ProfileArg {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            ProfileArg::Certificate(p) => p.to_possible_value()?,
            ProfileArg::Pfx(p) => p.to_possible_value()?.hide(true),
        })
    }
}

/// One certificate, or every one that expires soon.
pub enum RenewWhat {
    /// `renew SERIAL|THUMBPRINT|CERTFILE --out PREFIX`.
    One(RenewRequest),
    /// `renew --expiring-within DAYS --out-dir DIR`.
    Many(RenewManyRequest),
}

impl RenewArgs {
    /// The validated request.
    pub fn request(mut self) -> Result<RenewWhat> {
        let validity = Validity::starting_now(self.lifetime.lifetime(DEFAULT_LEAF_DAYS))?;
        let format = Format::json_if(self.json.json);
        let mut profile = None;
        match self.profile {
            Some(ProfileArg::Certificate(Profile::Ca)) => {
                return Err(Error::BadInput(
                    "certkit-issue renews end-entity certificates; a CA below this one is signed again with certkit-ca sign-ca".into(),
                ));
            }
            Some(ProfileArg::Certificate(p)) => profile = Some(p),
            Some(ProfileArg::Pfx(p)) => {
                if !self.keys.pfx {
                    return Err(Error::BadInput(
                        "--profile compat|modern is the PFX profile: it needs --pfx (and is spelt --pfx-profile now)".into(),
                    ));
                }
                self.keys.pfx_profile = p;
            }
            None => {}
        }
        let Some(days) = self.expiring_within else {
            if profile.is_some() {
                return Err(Error::BadInput(
                    "--profile selects the certificates --expiring-within renews: give both, or renew one certificate without --profile".into(),
                ));
            }
            let (Some(certificate), Some(out)) = (self.certificate, self.out) else {
                return Err(Error::BadInput(
                    "give the certificate to renew and --out PREFIX, or --expiring-within DAYS and --out-dir DIR".into(),
                ));
            };
            return Ok(RenewWhat::One(RenewRequest {
                ca: self.ca.ca,
                certificate,
                out,
                validity,
                key: self.key,
                force: self.force,
                secrets: self.keys.secrets(),
                format,
            }));
        };
        if days > MAX_DAYS {
            return Err(Error::BadInput(format!(
                "--expiring-within {days} is out of range: use 0 to {MAX_DAYS}"
            )));
        }
        let out_dir = self.out_dir.ok_or_else(|| {
            Error::BadInput("--out-dir DIR is required with --expiring-within".into())
        })?;
        let jobs = self.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        Ok(RenewWhat::Many(RenewManyRequest {
            ca: self.ca.ca,
            within_days: days,
            profile,
            out_dir,
            jobs,
            validity,
            key: self.key,
            secrets: self.keys.secrets(),
            format,
        }))
    }
}
