//! `certkit-export tls12`.

use std::path::PathBuf;

use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;

use crate::commands::tls12::Tls12Request;

/// `certkit-export tls12`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["out", "roots"])))]
pub struct Tls12Args {
    /// Write the .reg file that turns on TLS 1.2 for SChannel's client and .NET Framework 4.x (import it with
    /// reg import FILE); never overwrites.
    #[arg(long, alias = "reg", value_name = "FILE.reg")]
    pub out: Option<PathBuf>,
    /// Check a trust store (a PEM bundle, or a folder of DER or PEM certificates such as /etc/ssl/certs) for the
    /// root CAs Azure's TLS endpoints chain to.
    #[arg(long, value_name = "PATH")]
    pub roots: Option<PathBuf>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl Tls12Args {
    /// The validated request.
    pub fn request(self) -> Tls12Request {
        Tls12Request {
            reg: self.out,
            roots: self.roots,
            format: Format::json_if(self.json.json),
        }
    }
}
