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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)),
          required_unless_present = "group", requires = "threshold", conflicts_with = "group")]
    pub shares: Option<u8>,
    /// How many of the shares restore the key (M, from 2 to N); fewer learn nothing.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u8).range(2..=i64::from(MAX_SHARES)),
          requires = "shares")]
    pub threshold: Option<u8>,
    /// A group of custodians instead, e.g. officers=2-of-3 or safe=1-of-1 (repeat for each group; SLIP-39
    /// groups: any M of the group's N make its part).
    #[arg(long, num_args = 1.., value_name = "NAME=M-of-N", value_parser = parse_group)]
    pub group: Vec<Group>,
    /// How many groups restore the key (default: all of them).
    #[arg(long, value_name = "G", requires = "group", value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_SHARES)))]
    pub group_threshold: Option<u8>,
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

/// One `--group NAME=M-of-N`.
#[derive(Clone, Debug)]
pub struct Group {
    name: String,
    threshold: u8,
    shares: u8,
}

fn parse_group(text: &str) -> Result<Group, String> {
    let usage = || format!("'{text}' is not a group: use NAME=M-of-N, e.g. officers=2-of-3");
    let (name, counts) = text.split_once('=').ok_or_else(usage)?;
    let (m, n) = counts.split_once("-of-").ok_or_else(usage)?;
    let plain = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        return Err(format!(
            "group name '{name}' must be 1 to 32 letters, digits, '-' or '_' (it names the share files)"
        ));
    }
    Ok(Group {
        name: name.to_string(),
        threshold: m.parse().map_err(|_| usage())?,
        shares: n.parse().map_err(|_| usage())?,
    })
}

impl BackupArgs {
    /// The validated request.
    pub fn request(self) -> BackupRequest {
        let (scheme, group_names) = match (self.shares, self.threshold) {
            (Some(n), Some(m)) => (Scheme::single(m, n), Vec::new()),
            _ => (
                Scheme {
                    group_threshold: self.group_threshold.unwrap_or(self.group.len() as u8),
                    groups: self.group.iter().map(|g| (g.threshold, g.shares)).collect(),
                },
                self.group.into_iter().map(|g| g.name).collect(),
            ),
        };
        BackupRequest {
            ca: self.ca.ca,
            scheme,
            group_names,
            out: self.out,
            share_dir: self.share_dir,
            ca_pass: self.ca_pass,
            format: Format::json_if(self.json.json),
        }
    }
}
