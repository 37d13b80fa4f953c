//! certkit-export: the pvk2pfx, certificate-export and thumbprint-copying steps of the guide.
//!
//! Invariants: a PFX is written only after the key is proven to match its certificate, in a profile
//! Windows/Azure reads (never RC2); a thumbprint is always SHA-1 over the DER in 40 uppercase hex digits;
//! no output file is overwritten, and a failure leaves none behind. The library modules (`sources`, `inspect`, `check`, `acl`, `tls12`) do
//! not print, prompt or know clap.
#![forbid(unsafe_code)]

pub mod acl;
pub mod check;
pub mod inspect;
pub mod kit;
pub mod sources;
pub mod targets;
pub mod tls12;

pub mod cli;
pub mod commands;
