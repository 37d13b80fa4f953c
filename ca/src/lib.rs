//! certkit core: the offline CA store and everything the three certkit binaries share.
//!
//! `certkit-ca` is built on this library directly; `certkit-issue` and `certkit-export` build on it and never
//! on each other. The library modules (everything but `cli`, `commands` and `term`) do not print, prompt or
//! know clap; `docs/architecture.md` maps them. They keep these invariants:
//! - private keys on disk are encrypted PKCS#8 (PBKDF2-HMAC-SHA256, 600,000 iterations) with mode 0600;
//! - passwords come from a source flag or a terminal prompt, are zeroized after use and never printed;
//! - no file is overwritten silently, and every write is atomic (temporary file, fsync, rename);
//! - every certificate a CA issues is recorded in its inventory before it is reported done.
#![forbid(unsafe_code)]

pub mod ad_mapping;
pub mod ber;
pub mod certinfo;
pub mod constraints;
pub mod crl;
pub mod crl_file;
pub mod cscfg;
pub mod csr;
pub mod custody;
pub mod dates;
pub mod digest;
pub mod error;
pub mod files;
pub mod keys;
pub mod naming;
pub mod ocsp;
pub mod openssl_ca;
pub mod pfx;
pub mod profile;
pub mod profile_file;
pub mod report;
pub mod san;
pub mod secret;
pub mod serial;
pub mod signer;
pub mod slip39;
pub mod store;
pub mod thumbprint;
pub mod token;

pub mod cli;
pub mod commands;
pub mod term;

pub use certinfo::CertInfo;
pub use error::{Error, Result};
pub use keys::KeyType;
pub use profile::Profile;
pub use secret::{Secret, SecretSource};
pub use serial::Serial;
pub use store::CaStore;
pub use thumbprint::Thumbprint;
