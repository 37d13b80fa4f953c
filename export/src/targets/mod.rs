//! The places client certificates are checked now, each with its own rules for the files it takes
//! (docs/kits.md cites the public page of each rule). The rules are one table, [`RULES`]; `inspect --for`
//! checks files made elsewhere against them.

mod check;
mod rules;
mod target;

pub(crate) use check::{broken, warned};
pub use check::{findings_for_file, findings_for_set};
pub use rules::{RULES, Rule, rule};
pub use target::Target;
