//! certkit-issue: end-entity certificates for the Split-Merge guide's jobs (TLS server, client per person,
//! data encryption), CA-signed or self-signed, with RFC 5280 profiles.
//!
//! Invariants: every certificate has critical basicConstraints CA:FALSE, critical keyUsage fitting its key type,
//! SKI and AKI, a positive random 16-byte serial and a notAfter no later than its CA's; a CA-signed certificate
//! is written and recorded in the CA's inventory together, or not at all, by the one issuance engine
//! ([`engine`]). The library modules (everything but `cli` and `commands`) do not print, prompt or know clap.
#![forbid(unsafe_code)]

pub mod batch;
pub mod by_profile;
pub mod engine;
pub mod leaf;
pub mod outputs;
pub mod pipeline;
pub mod renewal;

pub mod cli;
pub mod commands;
