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
    help: String,
    /// A list flag (appends) and whether one occurrence takes several values.
    appends: bool,
    several_values: bool,
    /// The command also takes operands (positional arguments), which a flag of several values would swallow.
    command_has_operands: bool,
}

fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<Flag>, leaves: &mut Vec<(String, bool)>) {
    let mut has_json = false;
    let has_operands = cmd.get_positionals().next().is_some();
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
            help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
            appends: matches!(arg.get_action(), clap::ArgAction::Append),
            several_values: arg.get_num_args().is_some_and(|n| n.max_values() > 1),
            command_has_operands: has_operands,
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

/// The flags that mean something else in one command (docs/vocabulary.md, "The one exception").
const EXCEPTIONS: [(&str, &str); 1] = [("role", "certkit-export cscfg")];

/// A concept, the one flag it has, and how a flag for it is recognised.
type Concept = (&'static str, &'static str, fn(&Flag) -> bool);

/// The concepts that once had several flags (issue 32), each with the one flag it has now and how a flag for
/// it is recognised from its value name and help, whatever it is called: a new flag for an old concept fails
/// `every_concept_has_one_flag`.
const CONCEPTS: &[Concept] = &[
    ("the window of days before expiry", "expiring-within", |f| {
        f.help.to_lowercase().contains("expire within")
    }),
    ("the one file a command writes", "out", |f| {
        let help = f.help.to_lowercase();
        f.value_name.starts_with("FILE")
            && [
                "file to write",
                "where to write",
                "write the .reg file",
                "the published crl to replace",
                "the backup file (default",
            ]
            .iter()
            .any(|p| help.contains(p))
    }),
    (
        "the password that opens an existing PFX or key",
        "from-pass",
        |f| {
            let help = f.help.to_lowercase();
            f.value_name == "SOURCE"
                && help.contains("password")
                && (help.contains("pfx")
                    || help.contains("key file")
                    || help.contains("server key"))
                && !help.contains("new")
        },
    ),
    ("the CA folder", "ca", |f| {
        let help = f.help.to_lowercase();
        let help = help.strip_prefix("with --check: ").unwrap_or(&help);
        let first_clause = help.split('(').next().unwrap_or("");
        f.value_name == "DIR"
            && first_clause.contains("ca folder")
            && !help.contains("signed it")
            && !help.contains("signs")
            && !help.contains("above")
    }),
    ("the consumer a file or kit is for", "target", |f| {
        f.value_name == "TARGET"
    }),
    ("how a PFX is protected", "pfx-profile", |f| {
        f.possible.contains(&"compat".to_string())
    }),
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
    // The rule above must be able to fail: --role really does differ in certkit-export cscfg.
    let (flags, _) = all_flags();
    let role = |cmd: &str| {
        flags
            .iter()
            .find(|f| f.long == "role" && f.command == cmd)
            .map(|f| (f.takes_value, f.possible.clone()))
            .expect("--role")
    };
    assert_ne!(role("certkit-export cscfg"), role("certkit-export inspect"));
}

#[test]
fn every_concept_has_one_flag() {
    let (flags, _) = all_flags();
    let mut problems = Vec::new();
    for (concept, name, is) in CONCEPTS {
        let found: Vec<&Flag> = flags.iter().filter(|f| is(f)).collect();
        // Each rule recognises its flag somewhere (a rule that matches nothing could never fail).
        if !found.iter().any(|f| f.long == *name) {
            problems.push(format!(
                "{concept}: no --{name} recognised; the rule is stale"
            ));
        }
        for flag in found.iter().filter(|f| f.long != *name) {
            problems.push(format!(
                "{concept} is --{name}, but {} calls it --{}",
                flag.command, flag.long
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_concept_rules_would_see_a_second_name() {
    // The old spellings, as flags of their own, are each caught by a rule.
    let old = |long: &str, value_name: &str, help: &str| Flag {
        command: "certkit-ca test".into(),
        long: long.into(),
        takes_value: true,
        value_name: value_name.into(),
        possible: vec![],
        aliases: vec![],
        hidden_aliases: vec![],
        help: help.into(),
        appends: false,
        several_values: false,
        command_has_operands: false,
    };
    for flag in [
        old(
            "within",
            "DAYS",
            "Warn about certificates that expire within this many days",
        ),
        old("html", "FILE", "The HTML file to write"),
        old(
            "reg",
            "FILE.reg",
            "Write the .reg file that turns on TLS 1.2",
        ),
        old("to", "FILE", "The published CRL to replace"),
        old(
            "pfx-pass",
            "SOURCE",
            "Source of the PFX password (default: ask)",
        ),
        old("key-pass", "SOURCE", "Source of the server key's password"),
        old("ca-dir", "DIR", "With --check: the CA folder"),
        old("for", "TARGET", "The consumer"),
    ] {
        assert!(
            CONCEPTS
                .iter()
                .any(|(_, name, is)| is(&flag) && *name != flag.long),
            "--{} would not be caught",
            flag.long
        );
    }
}

#[test]
fn every_list_flag_takes_several_values() {
    // `--allow a.cer b.cer c.cer`, not one flag per certificate; where a command also takes operands, a flag
    // of several values would swallow them, so there each value has its flag (inspect's --chain).
    let (flags, _) = all_flags();
    let one_each: Vec<String> = flags
        .iter()
        .filter(|f| f.appends && f.takes_value && !f.several_values && !f.command_has_operands)
        .map(|f| format!("{} --{}", f.command, f.long))
        .collect();
    assert!(one_each.is_empty(), "one value per flag: {one_each:?}");
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
    // On renew, --profile picks certificates (--expiring-within), and on server, client and encryption it names
    // a profile file (issue 33); its hidden values compat and modern keep the old spelling of --pfx-profile
    // working (tests/tests/renew_and_scripts.rs runs it).
    for cmd in ["server", "client", "encryption", "renew"] {
        assert!(
            alias_of(&format!("certkit-issue {cmd}"), "pfx-profile").is_empty(),
            "certkit-issue {cmd}"
        );
    }
    assert_eq!(alias_of("certkit-export pfx", "key-file"), ["key"]);
    // Issue 32: one name per concept; the names each replaced stay as hidden aliases.
    for (cmd, long, old) in [
        ("certkit-ca status", "expiring-within", "within"),
        ("certkit-ca report", "out", "html"),
        ("certkit-ca crl publish", "out", "to"),
        ("certkit-export tls12", "out", "reg"),
        ("certkit-export cscfg", "ca", "ca-dir"),
        ("certkit-export cscfg", "from-pass", "pfx-pass"),
        ("certkit-export cer", "from-pass", "pfx-pass"),
        ("certkit-export thumbprint", "from-pass", "pfx-pass"),
        ("certkit-export inspect", "from-pass", "pfx-pass"),
        ("certkit-export inspect", "target", "for"),
        ("certkit-export pfx", "from-pass", "key-pass"),
        ("certkit-export pfx", "pfx-profile", "profile"),
        ("certkit-export kit", "from-pass", "key-pass"),
    ] {
        assert_eq!(alias_of(cmd, long), [old], "{cmd} --{long}");
    }
    // cscfg's --ca was the CA certificate in certkit 0.1; now the CA folder (a file given to it is still taken
    // as the certificate, with a note: scripts_written_for_the_old_spellings_still_run).
    assert!(alias_of("certkit-export cscfg", "ca-cert").is_empty());
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
    let run = env.run(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca", "pki/ca.cer"],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_contains(
        &text(&run.stderr),
        &["note: certkit-export cscfg: --ca CERT is an old spelling: use --ca-cert CERT"],
    );
    assert!(
        String::from_utf8(env.read("svc.cscfg"))
            .expect("utf8")
            .contains(&env.openssl_thumbprint("pki/ca.cer"))
    );
}

#[test]
fn every_old_spelling_still_works_and_says_its_new_name() {
    let env = Env::new();
    env.ok(
        "certkit-ca",
        &cli("init --ca pki --cn Old --key p256 --ca-pass env:CA_PW"),
    );
    env.ok(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --cn alice --out alice --key p256 --pfx",
        )),
    );
    // Each old spelling: the command does its work, and stderr names the new spelling in one line.
    let cases: &[(&str, &str, &str)] = &[
        (
            "certkit-ca",
            "status --ca pki --within 5 --json",
            "certkit-ca status: --within is an old spelling: use --expiring-within",
        ),
        (
            "certkit-ca",
            "report --ca pki --html r.html",
            "certkit-ca report: --html is an old spelling: use --out",
        ),
        (
            "certkit-export",
            "tls12 --reg tls.reg",
            "certkit-export tls12: --reg is an old spelling: use --out",
        ),
        (
            "certkit-export",
            "cer --in alice.pfx --out a.cer --pfx-pass env:PFX_PW",
            "certkit-export cer: --pfx-pass is an old spelling: use --from-pass",
        ),
        (
            "certkit-export",
            "thumbprint alice.pfx --pfx-pass env:PFX_PW",
            "certkit-export thumbprint: --pfx-pass is an old spelling: use --from-pass",
        ),
        (
            "certkit-export",
            "inspect pki/ca.pem --for apim",
            "certkit-export inspect: --for is an old spelling: use --target",
        ),
        (
            "certkit-export",
            "pfx --cert alice.cer --key-file alice.key --key-pass env:KEY_PW --pfx-pass env:PFX_PW --out b.pfx --profile modern",
            "certkit-export pfx: --key-pass is an old spelling: use --from-pass\ncertkit-export pfx: --profile is an old spelling: use --pfx-profile",
        ),
    ];
    for (bin, line, note) in cases {
        let out = env.run(bin, &cli(line));
        let stderr = text(&out.stderr);
        // status exits 0 or 1 (a warning); every other command succeeds.
        assert!(
            out.status.code() == Some(0)
                || (line.starts_with("status") && out.status.code() == Some(1)),
            "{bin} {line}: {stderr}"
        );
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("old spelling"))
                .collect::<Vec<_>>(),
            note.lines()
                .map(|n| format!("note: {n}"))
                .collect::<Vec<_>>(),
            "{bin} {line}"
        );
    }
    assert!(
        env.path("r.html").exists() && env.path("tls.reg").exists() && env.path("a.cer").exists()
    );
    assert_contains(
        &env.openssl_ok(&cli("pkcs12 -info -in b.pfx -passin env:PFX_PW -noout")),
        &["AES-256-CBC"],
    );
    // The old --ca-dir of cscfg --check.
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    let out = env.run(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --check --ca-dir pki --json"),
    );
    assert_contains(
        &text(&out.stderr),
        &["note: certkit-export cscfg: --ca-dir is an old spelling: use --ca"],
    );
    // The new spellings say nothing of the kind.
    let out = env.run("certkit-ca", &cli("status --ca pki --expiring-within 5"));
    assert!(!text(&out.stderr).contains("old spelling"));
}
