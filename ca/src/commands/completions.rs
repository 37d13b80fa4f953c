//! `completions SHELL`, in all three binaries: the shell's completion script, generated from the clap
//! definitions so that it can never drift from them.

use std::io::Write;

use clap_complete::Shell;

use crate::error::{Error, Result};

/// Prints the completion script of `command` (a binary's whole clap definition) for `shell`.
pub fn run(shell: Shell, mut command: clap::Command) -> Result<()> {
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name.clone(), &mut script);
    if shell == Shell::Bash && name.contains('-') {
        script = fix_bash_labels(&script, &name);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// clap_complete's bash script spells the case labels of a hyphenated binary's subcommands differently from the
/// state it matches them against (`certkit__subcmd__ca__subcmd__init` against `certkit__ca__subcmd__init`), so
/// no subcommand option ever completes (clap-rs/clap#6421): the labels are respelled the way the state is.
fn fix_bash_labels(script: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let wrong = format!("{}__subcmd__", name.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", name.replace('-', "__"));
    text.replace(&wrong, &right).into_bytes()
}
