//! The inventory's index (`index.sqlite`): what the log says, arranged for the questions commands ask (a serial,
//! a thumbprint, what is revoked or undelivered, what expires soon, the newest first), so that a command that
//! touches one certificate does not read the history of all of them.
//!
//! The log stays the one source of truth. The index is derived from it, line by line, and may be deleted at any
//! time: it records how far into the log it went (lines, bytes, and the hash of the line it ends on), and on
//! every open it checks that the log still ends that line at that byte, reads only what the log gained since,
//! and rebuilds itself from the log when it is missing, damaged, of another CA, or does not match (the caller
//! says so in one line). It is written without fsync: a crash costs at most a rebuild, never a record. What it
//! answers about revocations and undelivered certificates is checked against the CA key's checkpoint before a
//! command acts on it (`CaStore::verified_revocations`), and every record a command acts on is read again from
//! the log; `audit` never uses it.

mod file;
mod query;
mod schema;

pub use file::{INDEX, Index, Refresh};
pub use query::{Counts, IndexedCert, IndexedRow, ListFilter, LogPlace};

#[cfg(test)]
mod tests;
