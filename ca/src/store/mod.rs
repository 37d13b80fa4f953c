//! The CA folder: creating a CA, opening it, unlocking its key, and recording what it signs
//! (docs/store-format.md).
//!
//! The write-ahead rule: every certificate the CA signs is recorded (with the certificate itself and the hashes
//! of the files it will be delivered in) and flushed to disk before any of those files appears anywhere. A run
//! killed before delivery leaves a harmless, visible "undelivered" record; the next command that takes the lock
//! reconciles what the crash left, and a rerun replaces only leftovers it can prove are its own.

pub mod audit;
mod chain_check;
pub mod checkpoint;
mod create;
mod deliver;
mod folder;
pub mod guard;
mod import;
pub mod index;
pub mod inventory;
mod issuing;
pub mod layout;
mod lineage;
pub(crate) mod log_append;
mod lookup;
mod move_key;
mod profiles;
pub(crate) mod reconcile;
pub mod records;
mod reindex;
mod rekey;
mod rekey_repair;
mod renew;
mod settings;

pub use chain_check::{ChainCheck, ChainFailure};
pub use create::{
    CaSpec, Created, NewCaKey, ca_params, check_can_init, init, place_new_folder, restore,
    self_signed_ca,
};
pub use deliver::{Delivery, Leftovers, OutputFile};
pub use folder::{CaStore, StoreLock, chain_gap, on_index_rebuilt};
pub use import::{ImportedKey, import};
pub use issuing::{Requested, install, request, waiting_key_location, waiting_secret_kind};
pub use layout::*;
pub use lineage::Lineage;
pub use move_key::MovedKey;
pub use profiles::{ProfileEntry, ProfileState, read_profile_text};
pub use reconcile::{Repairs, UntrueRecord};
pub use reindex::Reindexed;
pub use rekey::{RekeyCerts, RekeyKeys, Rekeyed, RetiredKey, rekey_certs};
pub use rekey_repair::Unfinished;
pub use renew::{Renewed, renewal_below, renewal_of};
pub use settings::{CaSettings, EarlierKey, KeyLocation, KeyOrigin, ParentRecord, TokenRecord};

/// Default path length: makecert's `-h 1` allowed one intermediate below the CA; certkit keeps that default
/// for parity with the guide.
pub const DEFAULT_PATHLEN: u8 = 1;
/// Default CA validity: ten years, long enough to outlive many yearly leaf rotations.
pub const DEFAULT_CA_DAYS: u32 = 3650;
/// Validity of a CA signed by another (`sign-ca`) unless asked otherwise: five years, never past its parent.
pub const DEFAULT_SUB_CA_DAYS: u32 = 1825;
