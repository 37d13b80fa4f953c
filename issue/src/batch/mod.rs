//! Batch issuance of client certificates from a CSV file, at the speed of key generation.
//!
//! The CA key is unlocked once. Worker threads (one per core by default) generate keys, sign and build the
//! PFX or encrypted key through the issuance engine; the calling thread commits what has arrived in groups, by
//! the write-ahead rule (records first, then files), so an interrupted batch loses no record. Rows whose
//! certificate an earlier run delivered are skipped, so running the same batch again issues nothing new, and
//! rows an interrupted run left half-written are made again. A hub: the file's rows in `rows`, the run in
//! `run`.

mod rows;
mod run;

pub use rows::{BatchRow, BatchRows, parse_rows, read_rows, slug};
pub use run::{
    BatchJob, CertSummary, KeyProtection, PfxPasswords, Profiles, RowOutcome, RowStatus, row_spec,
    run,
};
