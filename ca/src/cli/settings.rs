//! `certkit-ca settings`.

use super::shared::{CaDirArg, CaKeyArgs, JsonArg};
use crate::commands::settings::{SettingsChange, SettingsRequest};
use crate::error::Result;
use crate::term::Format;

/// `certkit-ca settings`.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Name this OCSP responder (http://) in every certificate the CA signs from now on (authorityInfoAccess
    /// OCSP); the CA key signs the change.
    #[arg(long, value_name = "URL", conflicts_with = "no_ocsp_url")]
    pub ocsp_url: Option<String>,
    /// Name no OCSP responder from now on; the CA key signs the change.
    #[arg(long)]
    pub no_ocsp_url: bool,
    /// What opens the CA key (only to change a setting).
    #[command(flatten)]
    pub key: CaKeyArgs,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl SettingsArgs {
    /// The validated request.
    pub fn request(self) -> Result<SettingsRequest> {
        let change = match (self.ocsp_url, self.no_ocsp_url) {
            (Some(url), _) => {
                crate::naming::check_ocsp_url(&url)?;
                Some(SettingsChange::OcspUrl(Some(url)))
            }
            (None, true) => Some(SettingsChange::OcspUrl(None)),
            (None, false) => None,
        };
        Ok(SettingsRequest {
            ca: self.ca.ca,
            change,
            ca_pass: self.key.ca_pass,
            module: self.key.module.pkcs11_module,
            format: Format::json_if(self.json.json),
        })
    }
}
