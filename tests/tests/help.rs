//! Help that teaches (issue 32): every binary's commands grouped by task, every command's help ending with
//! examples that parse, a footer naming the other binaries, and the man pages carrying the same.

mod common;

use common::*;

use certkit_tests::binaries;

/// Every command path below `cmd` ("init", "crl", "crl publish").
fn paths(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let path = format!("{prefix} {}", sub.get_name()).trim().to_string();
        out.push(path.clone());
        paths(sub, &path, out);
    }
}

#[test]
fn every_command_is_in_one_group_and_has_examples_that_parse() {
    let mut problems = Vec::new();
    for (command, guide) in binaries() {
        let top: Vec<&str> = command
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|n| *n != "help")
            .collect();
        for name in &top {
            let groups = guide
                .groups
                .iter()
                .filter(|(_, names)| names.contains(name))
                .count();
            if groups != 1 {
                problems.push(format!("{} {name} is in {groups} groups", guide.program));
            }
        }
        for (_, names) in guide.groups {
            for name in *names {
                if !top.contains(name) {
                    problems.push(format!("{} has no command {name}", guide.program));
                }
            }
        }
        let mut all = Vec::new();
        paths(&command, "", &mut all);
        for path in &all {
            let examples = guide.examples_of(path);
            if !(2..=3).contains(&examples.len()) {
                problems.push(format!(
                    "{} {path} has {} examples (two or three)",
                    guide.program,
                    examples.len()
                ));
            }
            for example in examples {
                let words = shlex::split(example).unwrap_or_default();
                // An example runs the command it documents, and clap takes it as written.
                let expected: Vec<String> = std::iter::once(guide.program.to_string())
                    .chain(path.split(' ').map(String::from))
                    .collect();
                if words[..expected.len().min(words.len())] != expected[..] {
                    problems.push(format!("{example:?} is not an example of {path}"));
                }
                let words: Vec<String> = words.into_iter().take_while(|w| w != ">").collect();
                if let Err(e) = guide.decorate(command.clone()).try_get_matches_from(&words) {
                    problems.push(format!("{example:?} does not parse: {}", e.kind()));
                }
            }
        }
        for (path, _) in guide.examples {
            if !all.iter().any(|p| p == path) {
                problems.push(format!(
                    "{} has examples for no command {path}",
                    guide.program
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_help_groups_commands_names_the_other_binaries_and_ends_with_examples() {
    let env = Env::new();
    let help = env.ok("certkit-ca", &["--help"]);
    assert_contains(
        &help,
        &[
            "Set up:\n  init ",
            "Daily:",
            "Monitor:\n  status ",
            "Lifecycle:",
            "Custody:",
            "Maintenance:",
            "certkit-issue ",
            "certkit-export ",
            "First time? Start with:\n  certkit-ca init --ca pki",
        ],
    );
    // The groups come in the order a user meets them.
    let at = |s: &str| help.find(s).expect(s);
    assert!(at("Set up:") < at("Daily:") && at("Daily:") < at("Monitor:"));
    assert!(at("Lifecycle:") < at("Custody:") && at("Custody:") < at("Maintenance:"));
    // A bare binary prints the same help (exit 0).
    assert_eq!(env.ok("certkit-ca", &[]), help);
    for (bin, sub, example) in [
        (
            "certkit-ca",
            "status",
            "certkit-ca status --ca pki --expiring-within 45",
        ),
        (
            "certkit-issue",
            "client",
            "certkit-issue client --ca pki --batch people.csv",
        ),
        ("certkit-export", "kit", "certkit-export kit --refresh kit"),
    ] {
        let help = env.ok(bin, &[sub, "--help"]);
        let tail = &help[help.rfind("Examples:\n").expect("Examples:")..];
        assert!(tail.contains(example), "{bin} {sub}: {tail}");
    }
    // Defaults are shown.
    assert_contains(&env.ok("certkit-ca", &["crl", "--help"]), &["[default: 1]"]);
}

#[test]
fn the_man_pages_have_examples_exit_status_and_see_also() {
    let env = Env::new();
    for page in [
        "certkit-ca",
        "certkit-issue-client",
        "certkit-ca-crl-publish",
        "certkit-export-kit",
    ] {
        let path = format!("{}/../man/{page}.1", env!("CARGO_MANIFEST_DIR"));
        let out = env.tool("man", &["-P", "cat", "-l", &path]);
        let text = text(&out.stdout);
        assert_contains(&text, &["EXAMPLES", "EXIT STATUS", "SEE ALSO", "certkit-"]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("2 CRITICAL, 3 UNKNOWN"), "{page}: {text}");
    }
    let out = env.tool(
        "man",
        &[
            "-P",
            "cat",
            "-l",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../man/certkit-issue-renew.1"),
        ],
    );
    assert_contains(
        &text(&out.stdout),
        &[
            "certkit-issue renew --ca pki --expiring-within 30 --profile client --out-dir renewed --pfx",
        ],
    );
}
