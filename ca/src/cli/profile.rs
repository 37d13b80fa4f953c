//! `certkit-ca profile add|list|show`.

use std::path::PathBuf;

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::profile::{AddRequest, ListRequest, ShowRequest};
use crate::error::Result;
use crate::term::Format;

/// `certkit-ca profile`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// What to do with the CA's profiles.
    #[command(subcommand)]
    pub action: ProfileAction,
}

/// `certkit-ca profile` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ProfileAction {
    /// Check a profile file (docs/profiles.md) and record it in the CA folder as profiles/NAME.toml, signed
    /// by the CA key with the CA's settings; certkit-issue --profile NAME then issues by it. Adding a file
    /// of a name the CA has replaces that profile from then on.
    Add(AddArgs),
    /// The CA's profiles, and whether each file is what the CA key signed.
    List(ListArgs),
    /// A profile as a file: one of the CA's, or a built-in one (server, client, encryption) to start from.
    Show(ShowArgs),
}

/// `certkit-ca profile add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// The profile file (TOML); its name without .toml is the profile's name (staff.toml: staff).
    #[arg(long, value_name = "FILE.toml")]
    pub from: PathBuf,
    /// What opens the CA key.
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// `certkit-ca profile list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// `certkit-ca profile show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The profile: server, client, encryption, or one of the CA's (with --ca).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The CA, for one of its profiles.
    #[arg(long = "ca", value_name = "DIR")]
    pub ca: Option<PathBuf>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

/// What `certkit-ca profile` was asked to do.
pub enum ProfileCommand {
    /// Record a profile.
    Add(AddRequest),
    /// List the CA's profiles.
    List(ListRequest),
    /// Show one.
    Show(ShowRequest),
}

impl ProfileArgs {
    /// The validated request.
    pub fn request(self) -> Result<ProfileCommand> {
        Ok(match self.action {
            ProfileAction::Add(args) => {
                // Its name is the file's: staff.toml is profile staff.
                let name = args
                    .from
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                crate::profile_file::check_name(&name)?;
                ProfileCommand::Add(AddRequest {
                    ca: args.ca.ca,
                    from: args.from,
                    name,
                    ca_pass: args.key.ca_pass,
                    module: args.key.module.pkcs11_module,
                    format: Format::json_if(args.json.json),
                })
            }
            ProfileAction::List(args) => ProfileCommand::List(ListRequest {
                ca: args.ca.ca,
                format: Format::json_if(args.json.json),
            }),
            ProfileAction::Show(args) => ProfileCommand::Show(ShowRequest {
                ca: args.ca,
                name: args.name,
                format: Format::json_if(args.json.json),
            }),
        })
    }
}
