//! Help that teaches: each binary's subcommands grouped by task, examples at the end of every subcommand's
//! help, a footer naming the other two binaries and the first command to run, and a one-line note when a
//! command line uses an old spelling of a flag. The same `Guide` feeds the man pages (EXAMPLES, EXIT STATUS,
//! SEE ALSO), so what `--help` shows and what `man` shows cannot differ.

use std::ffi::OsString;

use clap::Command;

/// What a binary's help says beyond its clap definitions.
pub struct Guide {
    /// The binary's name (`certkit-ca`).
    pub program: &'static str,
    /// Headings, each with the subcommands under it, in the order a user meets them. Every subcommand is in
    /// exactly one group (a unit test of each binary checks it).
    pub groups: &'static [(&'static str, &'static [&'static str])],
    /// Example command lines by subcommand path (`init`, `crl publish`), two or three for each.
    pub examples: &'static [(&'static str, &'static [&'static str])],
    /// The first command a new user runs.
    pub first: &'static str,
}

/// The three binaries and what each is for, for the footer and SEE ALSO.
pub const BINARIES: [(&str, &str); 3] = [
    (
        "certkit-ca",
        "creates and keeps the CA: revocation, CRLs, OCSP, status, audit, backup",
    ),
    (
        "certkit-issue",
        "makes server, client and encryption certificates, signs requests, renews",
    ),
    (
        "certkit-export",
        "writes PFX and CER files, thumbprint lines, .cscfg edits and kits for services",
    ),
];

/// The exit codes every binary keeps (README, "Exit codes").
pub const EXIT_CODES: &str = "0 done (also: nothing to do); 1 the operation failed; 2 bad usage or bad input; \
     certkit-ca status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a usage error of status and crl publish)";

impl Guide {
    /// The examples of the subcommand at `path` (`crl publish`); empty when it has none.
    pub fn examples_of(&self, path: &str) -> &'static [&'static str] {
        self.examples
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, e)| *e)
            .unwrap_or(&[])
    }

    /// The footer: the other binaries, the first command, the exit codes.
    pub fn footer(&self) -> String {
        let mut text = String::from("The three certkit binaries:\n");
        for (name, what) in BINARIES {
            text.push_str(&format!("  {name:<15} {what}\n"));
        }
        text.push_str(&format!(
            "\nFirst time? Start with:\n  {}\n\nExit codes: {EXIT_CODES}.\nEach command has \
             examples in its help ({} COMMAND --help) and a man page (man {}-COMMAND).",
            self.first, self.program, self.program
        ));
        text
    }

    /// `cmd` with the grouped command list, the footer and every subcommand's examples.
    pub fn decorate(&self, cmd: Command) -> Command {
        let listing = self.listing(&cmd);
        let mut cmd = cmd
            .help_template(format!(
                "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{listing}Options:\n{{options}}{{after-help}}"
            ))
            .after_help(self.footer());
        for (path, examples) in self.examples {
            cmd = with_examples(cmd, &path.split(' ').collect::<Vec<_>>(), examples);
        }
        cmd
    }

    /// The subcommands under their group headings, each with the first part of its description.
    fn listing(&self, cmd: &Command) -> String {
        let width = self
            .groups
            .iter()
            .flat_map(|(_, names)| names.iter().map(|n| n.len()))
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for (heading, names) in self.groups {
            text.push_str(&format!("{heading}:\n"));
            for name in *names {
                let about = cmd
                    .find_subcommand(name)
                    .and_then(|s| s.get_about())
                    .map(|a| short_about(&a.to_string()))
                    .unwrap_or_default();
                text.push_str(&format!("  {name:<width$}  {about}\n"));
            }
            text.push('\n');
        }
        // clap's template reads `{...}` as a tag: a description never holds one, but make sure.
        text.replace(['{', '}'], "")
    }
}

/// A description up to its first clause: a line of the command list, not a paragraph.
fn short_about(about: &str) -> String {
    let first = about.lines().next().unwrap_or("");
    let cut = [": ", "; ", " (", ". "]
        .iter()
        .filter_map(|sep| first.find(sep))
        .min()
        .unwrap_or(first.len());
    first[..cut].trim_end_matches('.').to_string()
}

/// `cmd` with "Examples:" and `examples` at the end of the help of its subcommand at `path`.
fn with_examples(cmd: Command, path: &[&str], examples: &[&str]) -> Command {
    match path {
        [] => {
            let mut text = String::from("Examples:\n");
            for example in examples {
                text.push_str(&format!("  {example}\n"));
            }
            cmd.after_help(text.trim_end().to_string())
        }
        [first, rest @ ..] => {
            let rest = rest.to_vec();
            cmd.mut_subcommand(*first, move |sub| with_examples(sub, &rest, examples))
        }
    }
}

/// A note for each old spelling of a flag `args` uses (a hidden alias of the flag that replaced it), e.g.
/// `--within is an old spelling: use --expiring-within`. Scripts keep working; the note tells their owners.
pub fn deprecation_notes(cmd: &Command, args: &[OsString]) -> Vec<String> {
    let mut notes = Vec::new();
    let mut current = cmd;
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy().to_string());
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline_value) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            let Some(arg) = current.get_arguments().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|all| all.contains(&name))
            }) else {
                continue;
            };
            let visible = arg.get_visible_aliases().is_some_and(|v| v.contains(&name));
            if let Some(new) = arg.get_long().filter(|l| *l != name && !visible) {
                let path = current.get_bin_name().unwrap_or(current.get_name());
                let note = format!("{path}: --{name} is an old spelling: use --{new}");
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            // A flag's value is never a subcommand: skip one (a list flag's further values are positional
            // words the loop reads as such, and no subcommand follows them).
            if arg.get_action().takes_values() && !inline_value {
                words.next();
            }
        } else if !word.starts_with('-')
            && let Some(sub) = current.find_subcommand(&word)
        {
            current = sub;
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn tool() -> Command {
        Command::new("tool").subcommand(
            Command::new("status")
                .arg(
                    Arg::new("expiring-within")
                        .long("expiring-within")
                        .alias("within")
                        .action(ArgAction::Set),
                )
                .arg(Arg::new("cn").long("cn").action(ArgAction::Set)),
        )
    }

    fn notes(line: &str) -> Vec<String> {
        let mut cmd = tool();
        cmd.build();
        let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        deprecation_notes(&cmd, &args)
    }

    #[test]
    fn an_old_spelling_gets_one_note_naming_the_new_one() {
        assert_eq!(
            notes("tool status --within 30"),
            ["tool status: --within is an old spelling: use --expiring-within"]
        );
        assert_eq!(notes("tool status --within=30").len(), 1);
        assert!(notes("tool status --expiring-within 30").is_empty());
        // A value that looks like a flag's old name is a value.
        assert!(notes("tool status --cn --within").is_empty());
        // After `--`, nothing is a flag.
        assert!(notes("tool status -- --within").is_empty());
    }

    #[test]
    fn a_description_is_cut_at_its_first_clause() {
        assert_eq!(
            short_about("Create a self-signed CA (makecert -r, done right)."),
            "Create a self-signed CA"
        );
        assert_eq!(
            short_about("What needs attention, for a scheduler: exit 0 OK"),
            "What needs attention, for a scheduler"
        );
    }
}
