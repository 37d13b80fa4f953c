//! Writes the man pages of certkit-ca, certkit-issue and certkit-export and every subcommand, from their clap
//! definitions (clap_mangen), into the folder given: `scripts/man.sh` runs it into `man/`, and
//! `tests/tests/man.rs` checks that `man/` is current.

use std::path::PathBuf;

use clap::CommandFactory;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: certkit-man DIR");
        std::process::exit(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("certkit-man: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    for command in [
        certkit_ca::cli::Cli::command(),
        certkit_issue::cli::Cli::command(),
        certkit_export::cli::Cli::command(),
    ] {
        if let Err(e) = clap_mangen::generate_to(command, &dir) {
            eprintln!(
                "certkit-man: cannot write the man pages into {}: {e}",
                dir.display()
            );
            std::process::exit(1);
        }
    }
}
