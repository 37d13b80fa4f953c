//! The integrity facts of `status`: what the audit finds, and a folder that holds a CA but cannot be read as
//! one. Every integrity failure is CRITICAL, so that no file an intruder deletes silences monitoring.

use super::facts::{Fact, Level, broken};
use crate::error::Error;
use crate::store::CaStore;
use crate::term::output::path_text;

/// Whether `dir` holds any of a CA's files (so a failure to read it is damage, not a wrong folder).
pub(super) fn holds_a_ca(dir: &std::path::Path) -> bool {
    crate::store::CA_FILES
        .iter()
        .chain(&[crate::store::checkpoint::CHECKPOINT])
        .any(|f| dir.join(f).symlink_metadata().is_ok())
}

/// The one fact about a CA folder that cannot be read as a CA: critical, saying why.
pub(super) fn damaged(e: Error) -> Fact {
    Fact {
        check: "ca-folder",
        level: Level::Critical,
        message: format!(
            "the CA folder is damaged or was tampered with: {e}; run certkit-ca audit"
        ),
        until: None,
    }
}

/// What the audit finds (the whole integrity check: the hash chain, the checkpoint, settings, lineage,
/// copies): every error is critical.
pub(super) fn integrity(store: &CaStore) -> Fact {
    let audit = match crate::store::audit::audit(store, &Default::default(), &|_, _| {}) {
        Ok(audit) => audit,
        Err(e) => return broken("integrity", e),
    };
    let errors: Vec<String> = audit
        .findings
        .iter()
        .filter(|f| f.level == crate::store::audit::Level::Error)
        .map(|f| format!("{} ({})", f.code, f.message))
        .collect();
    if errors.is_empty() {
        Fact {
            check: "integrity",
            level: Level::Ok,
            message: format!(
                "the audit passes: {} records, head {}",
                audit.records, audit.head
            ),
            until: None,
        }
    } else {
        Fact {
            check: "integrity",
            level: Level::Critical,
            message: format!(
                "the audit finds {} error(s): {}; run certkit-ca audit --ca {}",
                errors.len(),
                errors.join("; "),
                path_text(store.dir())
            ),
            until: None,
        }
    }
}
