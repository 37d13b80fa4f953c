//! Integration tests live in `tests/`; `src/bin/certkit-bench-bound.rs` is the benchmark helper behind
//! scripts/bench.sh, and `src/bin/certkit-man.rs` writes the man pages. What both the man pages and the tests
//! need is here.

use certkit_ca::term::help::Guide;
use clap::CommandFactory;

/// Each binary's clap definition with its guide (the grouped commands and examples its help shows).
pub fn binaries() -> [(clap::Command, &'static Guide); 3] {
    [
        (
            certkit_ca::cli::Cli::command(),
            &certkit_ca::cli::guide::GUIDE,
        ),
        (
            certkit_issue::cli::Cli::command(),
            &certkit_issue::cli::guide::GUIDE,
        ),
        (
            certkit_export::cli::Cli::command(),
            &certkit_export::cli::guide::GUIDE,
        ),
    ]
}
