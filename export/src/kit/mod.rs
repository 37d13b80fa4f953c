//! `certkit-export kit`: the files one consumer of client certificates takes (Application Gateway, App
//! Service, API Management, Key Vault, Cloud Services (extended support), nginx, HAProxy), made from the CA
//! folder, checked against the consumer's rules before anything is written, recorded in `kit.json` and
//! brought up to date by `kit --refresh` after a renewal or a revocation (docs/kits.md).

mod apim_policy;
mod contents;
mod material;
mod place;
mod record;
mod verdict;

pub use apim_policy::{Identity, IdentityChange, Policy};
pub use contents::{
    Identities, KeyFormat, KitFile, azure_name, ca_files, needs_server, server_files, steps,
    takes_server,
};
pub use material::{CaMaterial, ClientCert, ServerMaterial, TrustedCa, cert_file, with_suffix};
pub use place::{Outcome, recorded, refresh, write_new};
pub use record::{KIT_JSON, KitRecord, RecordedFile, VERSION, is_plain_name};
pub use verdict::{Demands, RuleVerdict, check, verdicts};
