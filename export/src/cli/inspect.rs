//! `certkit-export inspect`.

use std::path::PathBuf;

use certkit_ca::SecretSource;
use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;
use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::commands::inspect::InspectRequest;
use crate::inspect::Role;
use crate::targets::Target;

impl ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

impl ValueEnum for Target {
    fn value_variants<'a>() -> &'a [Self] {
        &Target::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

/// `certkit-export inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Files to inspect: certificates (DER, PEM, bundles), PFX, CSR, CRL or private keys.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Source of the PFX password, to open a PFX's certificates and key (default: ask on a terminal; without
    /// one, only what needs no password is shown).
    #[arg(long, alias = "pfx-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// CA certificates above the certificate (files or bundles; repeatable): its names are checked against their
    /// name constraints.
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    /// What the (first) certificate is for in the guide (default: guessed from its extensions).
    #[arg(long, value_enum)]
    pub role: Option<Role>,
    /// Check the files against the rules of this consumer (docs/kits.md): each broken rule is an error
    /// naming the rule, its limit and a command that makes a file it takes.
    #[arg(long, alias = "for", value_enum, value_name = "TARGET")]
    pub target: Option<Target>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl InspectArgs {
    /// The validated request.
    pub fn request(self) -> InspectRequest {
        InspectRequest {
            files: self.files,
            pfx_pass: self.from_pass,
            chain: self.chain,
            role: self.role,
            target: self.target,
            format: Format::json_if(self.json.json),
        }
    }
}
