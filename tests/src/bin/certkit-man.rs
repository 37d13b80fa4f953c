//! Writes the man pages of certkit-ca, certkit-issue and certkit-export and every subcommand, from their clap
//! definitions (clap_mangen) and their guides (the examples of `--help`), into the folder given:
//! `scripts/man.sh` runs it into `man/`, and `tests/tests/man.rs` checks that `man/` is current. Each page has
//! NAME, SYNOPSIS, DESCRIPTION, OPTIONS (and the subcommands), EXAMPLES, EXIT STATUS, SEE ALSO and VERSION.

use std::io::Write;
use std::path::{Path, PathBuf};

use certkit_ca::term::help::{BINARIES, EXIT_CODES, Guide};
use clap_mangen::Man;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: certkit-man DIR");
        std::process::exit(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("certkit-man: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    for (command, guide) in certkit_tests::binaries() {
        let mut command = command.disable_help_subcommand(true);
        command.build();
        if let Err(e) = pages(&command, "", guide, &dir) {
            eprintln!(
                "certkit-man: cannot write the man pages into {}: {e}",
                dir.display()
            );
            std::process::exit(1);
        }
    }
}

/// The page of `command` (at `path` below the binary: "", "crl", "crl publish") and of each subcommand.
fn pages(command: &clap::Command, path: &str, guide: &Guide, dir: &Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_path = format!("{path} {}", sub.get_name()).trim().to_string();
        pages(sub, &sub_path, guide, dir)?;
    }
    let man = Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    let examples: Vec<String> = if path.is_empty() {
        vec![
            guide
                .first
                .split("  ")
                .next()
                .unwrap_or(guide.first)
                .to_string(),
        ]
    } else {
        guide
            .examples_of(path)
            .iter()
            .map(|e| e.to_string())
            .collect()
    };
    if !examples.is_empty() {
        writeln!(page, ".SH EXAMPLES")?;
        for example in &examples {
            writeln!(page, ".PP\n.nf\n{}\n.fi", roff_text(example))?;
        }
    }
    writeln!(page, ".SH \"EXIT STATUS\"\n.PP\n{}", roff_text(EXIT_CODES))?;
    let mut see_also: Vec<String> = Vec::new();
    if !path.is_empty() {
        see_also.push(format!("{}(1)", guide.program));
    }
    see_also.extend(
        BINARIES
            .iter()
            .filter(|(name, _)| *name != guide.program)
            .map(|(name, _)| format!("{name}(1)")),
    );
    see_also.extend(["openssl(1)".to_string()]);
    writeln!(
        page,
        ".SH \"SEE ALSO\"\n.PP\n{}\n.PP\n{}",
        roff_text(&see_also.join(", ")),
        roff_text(
            "The README's tutorial, and docs/ in the source or /usr/share/doc/certkit/docs/ where the package is installed."
        )
    )?;
    if command.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    std::fs::write(dir.join(man.get_filename()), page)
}

/// `text` as roff body text: backslashes and hyphens escaped, no line starting with a control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.chars().next() {
        Some('.') | Some('\'') => format!("\\&{escaped}"),
        _ => escaped,
    }
}
