//! `certkit-export cer`.

use std::path::PathBuf;

use certkit_ca::SecretSource;
use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;

use crate::commands::cer::CerRequest;

/// `certkit-export cer`.
#[derive(Debug, clap::Args)]
pub struct CerArgs {
    /// Input: DER, PEM (or PEM bundle) or PFX.
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Write the issuing CA's certificate (from a PFX's chain or a PEM bundle) instead.
    #[arg(long, conflicts_with = "root")]
    pub issuer: bool,
    /// Write the root at the top of the chain (from a PFX's chain or a PEM bundle) instead: what services trust.
    #[arg(long)]
    pub root: bool,
    /// Write PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Source of the PFX password (default: ask).
    #[arg(long, alias = "pfx-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl CerArgs {
    /// The validated request.
    pub fn request(self) -> CerRequest {
        CerRequest {
            input: self.input,
            issuer: self.issuer,
            root: self.root,
            pem: self.pem,
            out: self.out,
            pfx_pass: self.from_pass,
            format: Format::json_if(self.json.json),
        }
    }
}
