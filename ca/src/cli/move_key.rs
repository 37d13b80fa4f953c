//! `certkit-ca move-key`.

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use std::path::PathBuf;

use crate::commands::backup::BackupPlan;
use crate::commands::move_key::MoveKeyRequest;
use crate::custody;
use crate::secret::SecretSource;
use crate::slip39::{MAX_SHARES, Scheme};
use crate::term::Format;
use crate::token::TokenUri;

/// `certkit-ca move-key`.
#[derive(Debug, clap::Args)]
pub struct MoveKeyArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The token and the label the key gets there: an RFC 7512 URI, e.g. pkcs11:token=certkit-ca;object=MyCA.
    #[arg(long, value_name = "URI")]
    pub pkcs11: TokenUri,
    /// The password of the ca.key being moved, and the token's module.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Source of the token's user PIN: env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub pin: Option<SecretSource>,
    /// Back the key up into this many SLIP-39 recovery shares before it moves (as certkit-ca backup does): once
    /// on the token it can never be read out again.
    #[arg(long, value_name = "N", requires = "threshold",
          value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)))]
    pub backup_shares: Option<u8>,
    /// How many of the recovery shares restore the key (M, from 2 to N).
    #[arg(long, value_name = "M", requires = "backup_shares",
          value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)))]
    pub threshold: Option<u8>,
    /// The backup file (default: DIR-backup.key beside the CA folder).
    #[arg(long, value_name = "FILE", requires = "backup_shares")]
    pub out: Option<PathBuf>,
    /// Write the shares to DIR/share-I-of-N.txt instead of showing them on the terminal.
    #[arg(long, value_name = "DIR", requires = "backup_shares")]
    pub share_dir: Option<PathBuf>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl MoveKeyArgs {
    /// The validated request.
    pub fn request(self) -> MoveKeyRequest {
        let backup = self
            .backup_shares
            .zip(self.threshold)
            .map(|(n, m)| BackupPlan {
                scheme: Scheme::single(m, n),
                group_names: Vec::new(),
                out: self
                    .out
                    .clone()
                    .unwrap_or_else(|| custody::default_path(&self.ca.ca)),
                share_dir: self.share_dir.clone(),
            });
        MoveKeyRequest {
            backup,
            ca: self.ca.ca,
            uri: self.pkcs11,
            module: self.key.module.pkcs11_module,
            ca_pass: self.key.ca_pass,
            pin: self.pin,
            format: Format::json_if(self.json.json),
        }
    }
}
