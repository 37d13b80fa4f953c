//! `certkit-ca list`.

use super::shared::CaDirArg;
use crate::commands::list::{ListRequest, StatusFilter};
use crate::profile::Profile;
use crate::term::Format;

/// `certkit-ca list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Only certificates of this profile.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Only valid certificates that expire within this many days.
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,
    /// Only certificates with this status.
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Print a JSON array instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (a header and one row per certificate) for a spreadsheet.
    #[arg(long)]
    pub csv: bool,
    /// List the custody trail of the CA key instead: backups made, recovery drills passed or failed, restores.
    #[arg(long, conflicts_with_all = ["profile", "expiring_within", "status", "csv"])]
    pub events: bool,
}

impl ListArgs {
    /// The validated request.
    pub fn request(self) -> ListRequest {
        ListRequest {
            ca: self.ca.ca,
            profile: self.profile,
            expiring_within: self.expiring_within,
            status: self.status,
            format: Format::json_if(self.json),
            csv: self.csv,
            events: self.events,
        }
    }
}
