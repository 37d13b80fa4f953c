//! Golden tests for the words users read: each binary's help and the most common error lines. A change to them
//! must be deliberate: rerun with CERTKIT_BLESS=1 to rewrite tests/golden/, then review the diff.

mod common;

use common::*;

fn check(env: &Env, name: &str, bin: &str, args: &[&str]) {
    let out = env.run(bin, args);
    let shown = format!(
        "exit {}\n{}{}",
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr)
    );
    let path = format!("{}/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("CERTKIT_BLESS").is_some() {
        std::fs::write(&path, &shown).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("{path} is missing: run the tests with CERTKIT_BLESS=1 and review it")
    });
    assert_eq!(
        shown, expected,
        "{name} changed; if that is intended, rerun with CERTKIT_BLESS=1 and review the diff"
    );
}

#[test]
fn help_texts() {
    let env = Env::new();
    check(&env, "certkit-ca-help", "certkit-ca", &["--help"]);
    check(
        &env,
        "certkit-ca-init-help",
        "certkit-ca",
        &["init", "--help"],
    );
    check(&env, "certkit-issue-help", "certkit-issue", &["--help"]);
    check(
        &env,
        "certkit-issue-client-help",
        "certkit-issue",
        &["client", "--help"],
    );
    check(&env, "certkit-export-help", "certkit-export", &["--help"]);
    check(
        &env,
        "certkit-export-cscfg-help",
        "certkit-export",
        &["cscfg", "--help"],
    );
}

#[test]
fn error_lines() {
    let env = Env::new();
    check(
        &env,
        "error-pass-refused",
        "certkit-ca",
        &cli("init --ca pki --cn X --ca-pass pass:secret"),
    );
    check(
        &env,
        "error-no-terminal",
        "certkit-ca",
        &["init", "--ca", "pki", "--cn", "X"],
    );
    check(
        &env,
        "error-no-ca",
        "certkit-issue",
        &cli("client --ca nowhere --cn a --out a --ca-pass env:CA_PW --key-pass env:KEY_PW"),
    );
    check(
        &env,
        "error-days-zero",
        "certkit-ca",
        &cli("init --ca pki --cn X --days 0 --ca-pass env:CA_PW"),
    );
    check(
        &env,
        "error-missing-arg",
        "certkit-export",
        &["pfx", "--cert", "a.cer"],
    );
    check(
        &env,
        "error-bad-thumbprint",
        "certkit-export",
        &["cscfg", "--file", "x.cscfg", "--disallow", "12 34"],
    );
}

/// The tests write command lines as a user types them; `cli` splits them as the tests expect.
#[test]
fn the_tests_command_lines_split_as_written() {
    assert_eq!(
        cli("init --ca pki --cn 'Crash CA' --key p256"),
        ["init", "--ca", "pki", "--cn", "Crash CA", "--key", "p256"]
    );
    assert_eq!(cli("  a  'b  c' '' d "), ["a", "b  c", "", "d"]);
    assert!(cli("").is_empty());
}

/// A bare binary asks nothing: it prints its help on stdout and exits 0. A usage error of the commands
/// monitoring systems run (`status`, `crl publish`) exits 3, UNKNOWN to Nagios, never 2 (CRITICAL); other
/// commands' usage errors exit 2.
#[test]
fn a_bare_binary_helps_and_monitoring_commands_fail_usage_as_unknown() {
    let env = Env::new();
    for bin in ["certkit-ca", "certkit-issue", "certkit-export"] {
        let out = env.run(bin, &[]);
        assert_eq!(out.status.code(), Some(0), "{bin}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("Usage:"),
            "{bin}: {}",
            text(&out.stdout)
        );
        assert!(
            !text(&out.stdout).contains('\u{1b}'),
            "no colour into a pipe"
        );
        assert!(out.stderr.is_empty(), "{bin}: {}", text(&out.stderr));
    }
    for (args, code) in [
        ("status --ca pki --expiring-within abc", 3),
        ("crl publish --from crls --bogus", 3),
        ("list --ca pki --bogus", 2),
    ] {
        let err = env.fails("certkit-ca", &cli(args), code);
        assert!(err.starts_with("certkit-ca: error: "), "{err}");
    }
}
