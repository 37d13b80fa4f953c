//! `certkit-export pfx`.

use std::path::PathBuf;

use certkit_ca::cli::shared::JsonArg;
use certkit_ca::pfx::PfxProfile;
use certkit_ca::term::Format;
use certkit_ca::{Error, Result, SecretSource};

use crate::commands::pfx::{PfxInput, PfxRequest};

/// `certkit-export pfx`.
#[derive(Debug, clap::Args)]
pub struct PfxArgs {
    /// The certificate (DER or PEM).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "from",
        requires = "key_file"
    )]
    pub cert: Option<PathBuf>,
    /// Its encrypted private key (PEM, as certkit-issue writes).
    #[arg(long, alias = "key", value_name = "FILE", conflicts_with = "from")]
    pub key_file: Option<PathBuf>,
    /// Re-export an existing PFX (e.g. modern -> compat for Azure) instead of --cert/--key-file.
    #[arg(long, value_name = "FILE.pfx", conflicts_with = "cert")]
    pub from: Option<PathBuf>,
    /// CA certificate to include (one or more): "include all certificates in the certification path".
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    /// Protection profile: compat for Windows/Azure Cloud Services, modern for Windows 10 1709+ and OpenSSL 3.
    #[arg(long, alias = "profile", value_enum, default_value_t = PfxProfile::Compat)]
    pub pfx_profile: PfxProfile,
    /// friendlyName shown by Windows (default: the certificate's CN).
    #[arg(long, value_name = "FRIENDLY")]
    pub name: Option<String>,
    /// The PFX file to write.
    #[arg(long, value_name = "FILE.pfx")]
    pub out: PathBuf,
    /// Source of the new PFX password (default: ask twice).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
    /// Source of the password that opens what is read: the --key-file, or the PFX given with --from (default:
    /// ask).
    #[arg(long, alias = "key-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl PfxArgs {
    /// The validated request.
    pub fn request(self) -> Result<PfxRequest> {
        let input = match (self.from, self.cert, self.key_file) {
            (Some(pfx), _, _) => PfxInput::Pfx {
                file: pfx,
                pass: self.from_pass,
            },
            (None, Some(cert), Some(key)) => PfxInput::CertAndKey {
                cert,
                key,
                pass: self.from_pass,
            },
            _ => {
                return Err(Error::BadInput(
                    "give --cert and --key-file, or --from FILE.pfx".into(),
                ));
            }
        };
        Ok(PfxRequest {
            input,
            chain: self.chain,
            profile: self.pfx_profile,
            name: self.name,
            out: self.out,
            pfx_pass: self.pfx_pass,
            format: Format::json_if(self.json.json),
        })
    }
}
