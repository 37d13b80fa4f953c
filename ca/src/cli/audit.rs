//! `certkit-ca audit`.

use std::path::PathBuf;

use super::shared::{CaDirArg, JsonArg};
use crate::commands::audit::AuditRequest;
use crate::store::audit::{AuditOptions, read_expected_heads};
use crate::term::Format;

/// `certkit-ca audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// A published CRL of this CA to compare with the folder (one or more): a CRL with a number the inventory
    /// does not record, or listing a revocation it lacks, shows the folder was rolled back.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// A head hash written down outside the folder (the key-ceremony log), or a file of them (one or more):
    /// each must still be in the inventory.
    #[arg(long, num_args = 1.., value_name = "HASH|FILE")]
    pub expect_head: Vec<String>,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl AuditArgs {
    /// The validated request.
    pub fn request(self) -> crate::error::Result<AuditRequest> {
        Ok(AuditRequest {
            ca: self.ca.ca,
            options: AuditOptions {
                crls: self.crl,
                expected_heads: read_expected_heads(&self.expect_head)?,
            },
            format: Format::json_if(self.json.json),
        })
    }
}
