//! One vocabulary across the three binaries (docs/vocabulary.md): a walk over every command's clap definition.

mod common;

use std::collections::BTreeMap;

use clap::CommandFactory;
use common::*;

/// One long flag of one command.
#[derive(Debug, Clone)]
struct Flag {
    command: String,
    long: String,
    takes_value: bool,
    value_name: String,
    possible: Vec<String>,
    aliases: Vec<String>,
    hidden_aliases: Vec<String>,
}

fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<Flag>, leaves: &mut Vec<(String, bool)>) {
    let mut has_json = false;
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_hide_set() {
            continue;
        }
        let takes_value = arg.get_action().takes_values();
        has_json |= long == "json";
        let all: Vec<String> = arg
            .get_all_aliases()
            .unwrap_or_default()
            .iter()
            .map(|a| a.to_string())
            .collect();
        let visible: Vec<String> = arg
            .get_visible_aliases()
            .unwrap_or_default()
            .iter()
            .map(|a| a.to_string())
            .collect();
        out.push(Flag {
            command: path.to_string(),
            long: long.to_string(),
            takes_value,
            value_name: if takes_value {
                arg.get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            },
            possible: if takes_value {
                arg.get_possible_values()
                    .iter()
                    .filter(|p| !p.is_hide_set())
                    .map(|p| p.get_name().to_string())
                    .collect()
            } else {
                vec![]
            },
            hidden_aliases: all
                .iter()
                .filter(|a| !visible.contains(a))
                .cloned()
                .collect(),
            aliases: all,
        });
    }
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    if subs.is_empty() {
        leaves.push((path.to_string(), has_json));
    }
    for sub in subs {
        walk(sub, &format!("{path} {}", sub.get_name()), out, leaves);
    }
}

fn all_flags() -> (Vec<Flag>, Vec<(String, bool)>) {
    let mut flags = Vec::new();
    let mut leaves = Vec::new();
    walk(
        &certkit_ca::cli::Cli::command(),
        "certkit-ca",
        &mut flags,
        &mut leaves,
    );
    walk(
        &certkit_issue::cli::Cli::command(),
        "certkit-issue",
        &mut flags,
        &mut leaves,
    );
    walk(
        &certkit_export::cli::Cli::command(),
        "certkit-export",
        &mut flags,
        &mut leaves,
    );
    (flags, leaves)
}

/// The table of docs/vocabulary.md: flag -> the value names it may take (empty for a switch).
fn documented() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vocabulary.md"
    ))
    .expect("docs/vocabulary.md");
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("| `--")?;
            let (flag, rest) = rest.split_once("` | ")?;
            let value = match rest.strip_prefix("| ") {
                Some(_) => String::new(),
                None => rest.split(" | ").next().unwrap_or("").replace("\\|", "|"),
            };
            let names = value
                .split(", ")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            Some((flag.to_string(), names))
        })
        .collect()
}

/// The flags that mean something else in one command (docs/vocabulary.md, "The two exceptions").
const EXCEPTIONS: [(&str, &str); 2] = [
    ("profile", "certkit-export pfx"),
    ("role", "certkit-export cscfg"),
];

#[test]
fn every_flag_is_documented_and_means_one_thing() {
    let (flags, _) = all_flags();
    let table = documented();
    let mut problems = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<&Flag>> = BTreeMap::new();
    for flag in &flags {
        match table.get(&flag.long) {
            None => problems.push(format!(
                "--{} ({}) is not in docs/vocabulary.md",
                flag.long, flag.command
            )),
            Some(names) if flag.takes_value && !names.contains(&flag.value_name) => {
                problems.push(format!(
                    "--{} <{}> ({}): docs/vocabulary.md allows {names:?}",
                    flag.long, flag.value_name, flag.command
                ))
            }
            Some(names) if !flag.takes_value && !names.is_empty() => problems.push(format!(
                "--{} ({}) is a switch, but docs/vocabulary.md gives it a value",
                flag.long, flag.command
            )),
            Some(_) => {}
        }
        if !EXCEPTIONS.contains(&(flag.long.as_str(), flag.command.as_str())) {
            by_name.entry(&flag.long).or_default().push(flag);
        }
    }
    for (name, uses) in &by_name {
        let first = uses[0];
        for other in &uses[1..] {
            if other.takes_value != first.takes_value || other.possible != first.possible {
                problems.push(format!(
                    "--{name} means two things: {:?} in {} but {:?} in {}",
                    first.possible, first.command, other.possible, other.command
                ));
            }
        }
    }
    for row in table.keys() {
        if !flags.iter().any(|f| &f.long == row) {
            problems.push(format!(
                "docs/vocabulary.md lists --{row}, which no command has"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_walk_would_see_a_flag_with_two_meanings() {
    // The rule above must be able to fail: --profile really does differ in certkit-export pfx.
    let (flags, _) = all_flags();
    let profile = |cmd: &str| {
        flags
            .iter()
            .find(|f| f.long == "profile" && f.command == cmd)
            .map(|f| f.possible.clone())
            .expect("--profile")
    };
    assert_ne!(profile("certkit-export pfx"), profile("certkit-issue sign"));
}

#[test]
fn every_command_prints_json_on_request() {
    let (_, leaves) = all_flags();
    // `completions` prints a shell script, not a result; `ocsp serve` runs until stopped and logs.
    let missing: Vec<&String> = leaves
        .iter()
        .filter(|(c, json)| !json && !c.ends_with(" completions") && !c.ends_with(" ocsp serve"))
        .map(|(c, _)| c)
        .collect();
    assert!(missing.is_empty(), "no --json: {missing:?}");
}

#[test]
fn old_spellings_are_hidden_aliases() {
    let (flags, _) = all_flags();
    let alias_of = |cmd: &str, long: &str| -> Vec<String> {
        flags
            .iter()
            .find(|f| f.command == cmd && f.long == long)
            .map(|f| f.hidden_aliases.clone())
            .unwrap_or_default()
    };
    for cmd in ["init", "show", "list", "revoke", "crl"] {
        assert_eq!(
            alias_of(&format!("certkit-ca {cmd}"), "ca"),
            ["dir"],
            "certkit-ca {cmd}"
        );
    }
    for cmd in ["server", "client", "encryption"] {
        assert_eq!(
            alias_of(&format!("certkit-issue {cmd}"), "pfx-profile"),
            ["profile"],
            "certkit-issue {cmd}"
        );
    }
    // On renew, --profile picks certificates (--expiring-within); its hidden values compat and modern keep the
    // old spelling working (tests/tests/renew_and_scripts.rs runs it).
    assert!(alias_of("certkit-issue renew", "pfx-profile").is_empty());
    assert_eq!(alias_of("certkit-export pfx", "key-file"), ["key"]);
    assert_eq!(alias_of("certkit-export cscfg", "ca-cert"), ["ca"]);
    assert!(
        flags.iter().all(|f| f.aliases == f.hidden_aliases),
        "aliases are for old spellings and stay out of the help"
    );
}

#[test]
fn scripts_written_for_the_old_spellings_still_run() {
    let env = Env::new();
    env.ok(
        "certkit-ca",
        &cli("init --dir pki --cn Old --key p256 --ca-pass env:CA_PW"),
    );
    env.ok(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --cn alice --out alice --key p256 --pfx --profile modern",
        )),
    );
    assert_contains(
        &env.openssl_ok(&cli("pkcs12 -info -in alice.pfx -passin env:PFX_PW -noout")),
        &["AES-256-CBC"],
    );
    assert_eq!(
        env.json("certkit-ca", &["list", "--dir", "pki", "--json"])[0]["cn"],
        "alice"
    );
    env.ok(
        "certkit-export",
        &cli(
            "pfx --cert alice.cer --key alice.key --out again.pfx --key-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ),
    );
    let rows = env.json(
        "certkit-export",
        &["thumbprint", "alice.cer", "--as", "json"],
    );
    assert_eq!(
        rows[0]["thumbprint"],
        env.openssl_thumbprint("alice.cer").as_str()
    );
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca", "pki/ca.cer"],
    );
    assert!(
        String::from_utf8(env.read("svc.cscfg"))
            .expect("utf8")
            .contains(&env.openssl_thumbprint("pki/ca.cer"))
    );
}
