//! certkit-ca's command bodies: each takes a validated request, calls the library, and renders one report.

pub mod audit;
pub mod backup;
pub mod completions;
pub mod crl;
pub mod crl_publish;
pub mod events;
pub mod import;
pub mod init;
pub mod install;
pub mod list;
pub mod move_key;
pub mod ocsp;
pub mod parent;
pub mod profile;
pub mod reindex;
pub mod rekey;
pub mod renew;
pub mod report;
pub mod restore;
pub mod retire_key;
pub mod revoke;
pub mod settings;
pub mod show;
pub mod sign_ca;
pub mod status;
