//! `certkit-ca reindex`: rebuild the index from the inventory, and put back what `issued/` lost.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::store::{CaStore, Reindexed};
use crate::term::{self, Format, Report, output::path_text};

/// What `certkit-ca reindex` was asked to do.
#[derive(Debug)]
pub struct ReindexRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// How to print the result.
    pub format: Format,
}

/// What it did.
#[derive(Debug, Serialize)]
pub struct ReindexReport {
    /// The CA folder.
    pub ca: String,
    /// What was rebuilt and restored.
    #[serde(flatten)]
    pub done: Reindexed,
}

/// Rebuilds the index under the CA lock.
pub fn run(req: ReindexRequest) -> Result<()> {
    let store = CaStore::open(&req.ca)?;
    let lock = term::lock(&store)?;
    let done = store.reindex(&lock)?;
    drop(lock);
    term::render(
        &ReindexReport {
            ca: path_text(&req.ca),
            done,
        },
        req.format,
    )
}

impl Report for ReindexReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let d = &self.done;
        writeln!(
            out,
            "Rebuilt the index of the CA in {} from {} records ({} certificates)",
            self.ca, d.records, d.certificates
        )?;
        if d.copies_restored > 0 {
            writeln!(out, "  restored    {} issued/ copies", d.copies_restored)?;
        }
        if d.temporary_files > 0 {
            writeln!(
                out,
                "  removed     {} temporary files from issued/",
                d.temporary_files
            )?;
        }
        Ok(())
    }
}
