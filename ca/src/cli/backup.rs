//! `certkit-ca backup`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg};
use crate::commands::backup::BackupRequest;
use crate::secret::SecretSource;
use crate::slip39::{MAX_SHARES, Scheme};
use crate::term::Format;

/// `certkit-ca backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// How many shares to make, one per custodian (N, at most 16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)))]
    pub shares: u8,
    /// How many of the shares restore the key (M, from 2 to N); fewer learn nothing.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)))]
    pub threshold: u8,
    /// The backup file (default: DIR-backup.key beside the CA folder; never inside it).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write each share to DIR/share-I-of-N.txt (mode 0600) instead of showing them on the terminal; print
    /// them and delete the files.
    #[arg(long, value_name = "DIR")]
    pub share_dir: Option<PathBuf>,
    /// Source of the CA key password: env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl BackupArgs {
    /// The validated request.
    pub fn request(self) -> BackupRequest {
        BackupRequest {
            ca: self.ca.ca,
            scheme: Scheme::single(self.threshold, self.shares),
            out: self.out,
            share_dir: self.share_dir,
            ca_pass: self.ca_pass,
            format: Format::json_if(self.json.json),
        }
    }
}
