//! Hostile input, secrets and scripts: each test is a finding of the security review (issue 11), written to
//! fail on certkit 0.1 and pass since.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn p256_ca(env: &Env) {
    env.init_ca_with("pki", &["--key", "p256"]);
}

// 1. A revoked certificate comes back.

#[test]
fn a_rerun_batch_reports_revoked_rows_and_leaves_them_out_of_the_allow_line() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::write(env.path("people.csv"), "cn\nalice\nbob\ncarol\n").expect("csv");
    let batch = [
        "client",
        "--ca",
        "pki",
        "--batch",
        "people.csv",
        "--out-dir",
        "team",
        "--key",
        "p256",
        "--pfx",
    ];
    let first = env.issue(&batch);
    let bob = first["rows"][1]["thumbprint"]
        .as_str()
        .expect("bob")
        .to_string();
    env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            "team/bob.cer",
            "--reason",
            "keyCompromise",
        ],
    );
    let again = env.issue(&batch);
    assert_eq!(again["rows"][1]["status"], "revoked");
    assert!(
        !again["config_line"].as_str().expect("line").contains(&bob),
        "the revoked thumbprint is back in the allow line: {}",
        again["config_line"]
    );
    assert_eq!(
        again["allowed"].as_array().expect("allowed").len(),
        2,
        "{again}"
    );
    let text = env.ok(
        "certkit-issue",
        &Env::with_passwords(&batch[..])
            .into_iter()
            .filter(|a| *a != "--json")
            .collect::<Vec<_>>(),
    );
    assert_contains(&text, &["revoked"]);
    let allow_line = text
        .lines()
        .find(|l| l.contains("AllowedClientCertificateThumbprints\" value"))
        .expect("allow line");
    assert!(!allow_line.contains(&bob), "{allow_line}");
}

// 2. `cscfg --dry-run` prints secrets.

#[test]
fn a_dry_run_shows_no_unchanged_setting_value() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    env.issue(&[
        "encryption",
        "--self-signed",
        "--cn",
        "enc",
        "--out",
        "enc",
        "--key",
        "p256",
    ]);
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    for json in [false, true] {
        // DataEncryptionPrimaryCertificateThumbprint sits right below the connection string.
        let mut args = vec![
            "cscfg",
            "--file",
            "svc.cscfg",
            "--allow",
            "alice.cer",
            "--encryption",
            "enc.cer",
            "--dry-run",
        ];
        if json {
            args.push("--json");
        }
        let out = env.ok("certkit-export", &args);
        for secret in ["mypassword", "myuserid", "myservername", "mydatabasename"] {
            assert!(
                !out.contains(secret),
                "the dry run printed {secret}:\n{out}"
            );
        }
        assert_contains(&out, &[&env.openssl_thumbprint("alice.cer")]);
    }
}

// 3. Path traversal through the CN.

#[test]
fn a_cn_cannot_reach_outside_the_password_folder() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::create_dir(env.path("pw")).expect("mkdir");
    std::fs::write(env.path("secret.txt"), "not a pfx password file\n").expect("write");
    for cn in ["../secret", "/etc/passwd", "pw/../../secret"] {
        std::fs::write(
            env.path("people.csv"),
            format!("cn,out\n\"{cn}\",someone\n"),
        )
        .expect("csv");
        let err = env.fails(
            "certkit-issue",
            &[
                "client",
                "--ca",
                "pki",
                "--batch",
                "people.csv",
                "--out-dir",
                "team",
                "--pfx",
                "--pfx-pass-dir",
                "pw",
                "--ca-pass",
                "env:CA_PW",
                "--key",
                "p256",
            ],
            2,
        );
        assert_contains(&err, &["line 2", "pw/someone.txt"]);
        assert!(
            !err.contains("secret.txt") && !err.contains("passwd"),
            "{err}"
        );
        assert!(!env.path("team").exists());
    }
}

// 4. Panics: a closed pipe, huge numbers.

/// Runs a certkit command with stdout a pipe nobody reads (its read end closed).
fn with_closed_stdout(env: &Env, bin_name: &str, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    env.cmd(bin_name)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run")
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    for (bin_name, args) in [
        ("certkit-ca", vec!["list", "--ca", "pki"]),
        ("certkit-ca", vec!["list", "--ca", "pki", "--json"]),
        ("certkit-ca", vec!["list", "--ca", "pki", "--csv"]),
        ("certkit-ca", vec!["show", "--ca", "pki"]),
        ("certkit-ca", vec!["audit", "--ca", "pki"]),
        ("certkit-export", vec!["thumbprint", "alice.cer"]),
        ("certkit-ca", vec!["--help"]),
    ] {
        let out = with_closed_stdout(&env, bin_name, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{bin_name} {args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{bin_name} {args:?}");
    }
    // A command that did its work and then cannot print: the work stands, exit 0.
    let out = with_closed_stdout(
        &env,
        "certkit-issue",
        &Env::with_passwords(&[
            "client", "--ca", "pki", "--cn", "bob", "--out", "bob", "--key", "p256",
        ]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(env.list("pki").iter().any(|e| e["cn"] == "bob"));
}

#[test]
fn huge_numbers_are_one_line_errors_naming_the_flag_and_the_range() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::write(env.path("people.csv"), "cn\nalice\n").expect("csv");
    for (bin_name, args, flag, range) in [
        (
            "certkit-ca",
            vec![
                "init",
                "--ca",
                "big",
                "--cn",
                "X",
                "--days",
                "3000000",
                "--ca-pass",
                "env:CA_PW",
            ],
            "--days",
            "1 to 36525",
        ),
        (
            "certkit-ca",
            vec![
                "crl",
                "--ca",
                "pki",
                "--days",
                "3000000",
                "--ca-pass",
                "env:CA_PW",
            ],
            "--days",
            "1 to 36525",
        ),
        (
            "certkit-ca",
            vec!["list", "--ca", "pki", "--expiring-within", "4000000000"],
            "--expiring-within",
            "0 to 36525",
        ),
        (
            "certkit-issue",
            Env::with_passwords(&[
                "client", "--ca", "pki", "--cn", "a", "--out", "a", "--days", "99999999",
            ]),
            "--days",
            "1 to 36525",
        ),
        (
            "certkit-issue",
            Env::with_passwords(&[
                "client",
                "--ca",
                "pki",
                "--batch",
                "people.csv",
                "--out-dir",
                "o",
                "--jobs",
                "100000000",
            ]),
            "--jobs",
            "1..=256",
        ),
        (
            "certkit-issue",
            Env::with_passwords(&[
                "client",
                "--ca",
                "pki",
                "--batch",
                "people.csv",
                "--out-dir",
                "o",
                "--jobs",
                "0",
            ]),
            "--jobs",
            "1..=256",
        ),
    ] {
        let err = env.fails(bin_name, &args, 2);
        assert_contains(&err, &[flag, range]);
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!env.path("big").exists() && !env.path("a.cer").exists() && !env.path("o").exists());
}

// 5. Password sources.

#[test]
fn a_byte_order_mark_in_a_password_file_is_not_part_of_the_password() {
    let env = Env::new();
    std::fs::write(env.path("pw.txt"), format!("\u{feff}{CA_PW}\r\n")).expect("write");
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "pki",
            "--cn",
            "X",
            "--key",
            "p256",
            "--ca-pass",
            "file:pw.txt",
        ],
    );
    assert!(
        env.openssl(&[
            "pkey",
            "-in",
            "pki/ca.key",
            "-passin",
            "env:CA_PW",
            "-noout"
        ])
        .status
        .success(),
        "the BOM became part of the password"
    );
}

/// True if `openssl` opens the key file with `password` and the PFX with `pfx_password`.
fn opens(env: &Env, key: &str, password: &str, pfx: &str, pfx_password: &str) -> (bool, bool) {
    let key_ok = Command::new("openssl")
        .args(["pkey", "-in", key, "-passin", "env:P", "-noout"])
        .env("P", password)
        .current_dir(env.dir.path())
        .output()
        .expect("openssl")
        .status
        .success();
    let pfx_ok = Command::new("openssl")
        .args(["pkcs12", "-in", pfx, "-passin", "env:P", "-noout"])
        .env("P", pfx_password)
        .current_dir(env.dir.path())
        .output()
        .expect("openssl")
        .status
        .success();
    (key_ok, pfx_ok)
}

#[test]
fn one_fd_or_file_given_to_two_flags_yields_successive_lines() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::write(
        env.path("two.txt"),
        "first line password\nsecond line password\n",
    )
    .expect("write");
    let out = env.tool(
        "bash",
        &[
            "-c",
            &format!(
                "'{}' client --ca pki --cn fd --out fd --key p256 --pfx --ca-pass env:CA_PW --key-pass fd:3 --pfx-pass fd:3 3<two.txt",
                bin("certkit-issue").display()
            ),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        opens(
            &env,
            "fd.key",
            "first line password",
            "fd.pfx",
            "second line password"
        ),
        (true, true)
    );
    env.ok(
        "certkit-issue",
        &[
            "client",
            "--ca",
            "pki",
            "--cn",
            "file",
            "--out",
            "file",
            "--key",
            "p256",
            "--pfx",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "file:two.txt",
            "--pfx-pass",
            "file:two.txt",
        ],
    );
    assert_eq!(
        opens(
            &env,
            "file.key",
            "first line password",
            "file.pfx",
            "second line password"
        ),
        (true, true)
    );
}

#[test]
fn stdin_sources_are_read_in_the_same_order_by_every_command() {
    let env = Env::new();
    p256_ca(&env);
    // The documented order: --ca-pass, --key-pass, --pfx-pass.
    let lines = format!("{CA_PW}\nkey line password\npfx line password\n");
    let run = |args: &[&str], input: &str| {
        let mut child = env
            .cmd("certkit-issue")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let single = run(
        &[
            "client",
            "--ca",
            "pki",
            "--cn",
            "one",
            "--out",
            "one",
            "--key",
            "p256",
            "--pfx",
            "--pfx-pass",
            "stdin",
            "--key-pass",
            "stdin",
            "--ca-pass",
            "stdin",
        ],
        &lines,
    );
    assert!(single.status.success(), "{}", text(&single.stderr));
    assert_eq!(
        opens(
            &env,
            "one.key",
            "key line password",
            "one.pfx",
            "pfx line password"
        ),
        (true, true)
    );
    std::fs::write(env.path("people.csv"), "cn\nteam1\n").expect("csv");
    let batch = run(
        &[
            "client",
            "--ca",
            "pki",
            "--batch",
            "people.csv",
            "--out-dir",
            "team",
            "--key",
            "p256",
            "--pfx",
            "--pfx-pass",
            "stdin",
            "--ca-pass",
            "stdin",
        ],
        &format!("{CA_PW}\npfx line password\n"),
    );
    assert!(batch.status.success(), "{}", text(&batch.stderr));
    assert!(
        Command::new("openssl")
            .args([
                "pkcs12",
                "-in",
                "team/team1.pfx",
                "-passin",
                "env:P",
                "-noout"
            ])
            .env("P", "pfx line password")
            .current_dir(env.dir.path())
            .output()
            .expect("openssl")
            .status
            .success()
    );
}

#[test]
fn a_password_source_error_never_repeats_what_was_typed() {
    let env = Env::new();
    for source in ["fd:hunter2", "hunter2", "file:", "env:", "pass:hunter2"] {
        let err = env.fails(
            "certkit-ca",
            &["init", "--ca", "pki", "--cn", "X", "--ca-pass", source],
            2,
        );
        assert!(!err.contains("hunter2"), "{source}: {err}");
    }
}

// 6. Names that lie.

#[test]
fn names_with_control_or_bidi_characters_are_refused() {
    let env = Env::new();
    p256_ca(&env);
    for cn in [
        "evil\u{202e}gnp.exe",
        "tab\there",
        "zero\u{200b}width",
        "iso\u{2066}late",
    ] {
        let err = env.fails(
            "certkit-issue",
            &Env::with_passwords(&[
                "client", "--ca", "pki", "--cn", cn, "--out", "x", "--key", "p256",
            ]),
            2,
        );
        assert_contains(&err, &["common name"]);
    }
    std::fs::write(env.path("people.csv"), "cn\n\"evil\u{202e}gnp.exe\"\n").expect("csv");
    env.fails(
        "certkit-issue",
        &Env::with_passwords(&[
            "client",
            "--ca",
            "pki",
            "--batch",
            "people.csv",
            "--out-dir",
            "o",
            "--key",
            "p256",
        ]),
        2,
    );
    env.openssl_p256_csr("e", "/CN=evil\u{202e}gnp.exe");
    env.fails(
        "certkit-issue",
        &[
            "sign",
            "--ca",
            "pki",
            "--csr",
            "e.csr",
            "--profile",
            "client",
            "--out",
            "e",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert!(env.list("pki").is_empty());
}

#[test]
fn subjects_are_shown_with_rfc4514_escaping() {
    let env = Env::new();
    p256_ca(&env);
    env.openssl_p256_csr("bob", "/CN=Bob\\, O=Contoso");
    let json = env.json(
        "certkit-issue",
        &[
            "sign",
            "--ca",
            "pki",
            "--csr",
            "bob.csr",
            "--profile",
            "client",
            "--out",
            "bob",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    assert_eq!(json["subject"], "CN=Bob\\, O=Contoso");
    assert_eq!(env.list("pki")[0]["subject"], "CN=Bob\\, O=Contoso");
    assert_contains(
        &env.ok("certkit-ca", &["list", "--ca", "pki"]),
        &["CN=Bob\\, O=Contoso"],
    );
    // openssl agrees it is one CN attribute.
    assert_contains(
        &env.openssl_ok(&[
            "x509", "-in", "bob.pem", "-noout", "-subject", "-nameopt", "RFC2253",
        ]),
        &["subject=CN=Bob\\, O=Contoso"],
    );
}

// 7. Scripts.

#[test]
fn the_rotation_script_leaves_stdin_to_the_user() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    for cn in ["alice", "bob"] {
        env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256", "--days", "5",
        ]);
        env.ok(
            "certkit-export",
            &[
                "cscfg",
                "--file",
                "svc.cscfg",
                "--allow",
                &format!("{cn}.cer"),
            ],
        );
    }
    let mut child = env
        .script("rotate-client-certs.sh")
        .args([
            "--ca",
            "pki",
            "--cscfg",
            "svc.cscfg",
            "--out-dir",
            "renewed",
            "--ca-pass",
            "stdin",
            "--key-pass",
            "env:KEY_PW",
            "--pfx-pass",
            "env:PFX_PW",
        ])
        .env_remove("CA_PW")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{CA_PW}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_contains(&text(&out.stdout), &["2 certificate(s) renewed"]);
}

#[test]
fn the_setup_script_checks_every_name_before_it_creates_anything() {
    let env = Env::new();
    let setup = |people: &str, pfx_pass: &str| {
        env.script("splitmerge-setup.sh")
            .args([
                "--dir",
                "deploy",
                "--service",
                "svc.cloudapp.net",
                "--people",
                people,
                "--cscfg-template",
                &example_cscfg(),
                "--ca-pass",
                "env:CA_PW",
                "--key-pass",
                "env:KEY_PW",
                "--pfx-pass",
                pfx_pass,
            ])
            .output()
            .expect("bash")
    };
    let run = |people: &str| setup(people, "env:PFX_PW");
    let out = run("Alice Smith,alice smith");
    assert!(!out.status.success());
    assert_contains(&text(&out.stderr), &["alice-smith"]);
    assert!(!env.path("deploy").exists(), "{:?}", env.listing("deploy"));
    // A run that fails half-way resumes when run again.
    assert!(!setup("Alice,Bob", "env:UNSET_PFX_PW").status.success());
    assert!(
        env.path("deploy/ca/ca.pem").exists(),
        "the CA was made before the failure"
    );
    let ca_cert = env.read("deploy/ca/ca.pem");
    // Other options than those of the unfinished setup are refused.
    let other = run("Alice,Carol");
    assert!(!other.status.success());
    assert_contains(&text(&other.stderr), &["unfinished setup", "other options"]);
    // What an interrupted step left behind is moved aside, not used and not deleted.
    std::fs::write(env.path("deploy/keys/ssl.key"), "half-written").expect("write");
    let out = run("Alice,Bob");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_contains(&text(&out.stdout), &["Resuming", "Moved the unfinished"]);
    assert_eq!(env.read("deploy/ca/ca.pem"), ca_cert, "the CA was kept");
    let aside: Vec<String> = env
        .listing("deploy/keys")
        .into_iter()
        .filter(|name| name.starts_with("unfinished-"))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", env.listing("deploy/keys"));
    assert_eq!(
        env.read(&format!("deploy/keys/{}/ssl.key", aside[0])),
        b"half-written"
    );
    for file in [
        "deploy/upload/ssl.pfx",
        "deploy/clients/alice.pfx",
        "deploy/clients/bob.pfx",
        "deploy/upload/encryption.pfx",
    ] {
        assert!(env.path(file).exists(), "{file}");
    }
    env.tool(
        "openssl",
        &["x509", "-in", "deploy/keys/ssl.pem", "-noout", "-subject"],
    );
    // A finished setup is never run over.
    let again = run("Alice,Bob");
    assert!(!again.status.success());
    assert_contains(&text(&again.stderr), &["is complete"]);
}

// 8. Hostile files.

#[test]
fn absurd_key_derivation_parameters_are_refused_before_deriving() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    for (name, pem) in [
        ("scrypt-n0.key", der::scrypt_key(0)),
        ("scrypt-huge.key", der::scrypt_key(1 << 40)),
        ("pbkdf2-huge.key", der::pbkdf2_key((1 << 31) - 1)),
        ("pbkdf2-zero.key", der::pbkdf2_key(0)),
    ] {
        std::fs::write(env.path(name), pem).expect("write");
        let err = refused_without_deriving(
            &env,
            &[
                "pfx",
                "--cert",
                "alice.cer",
                "--key-file",
                name,
                "--out",
                "a.pfx",
                "--key-pass",
                "env:KEY_PW",
                "--pfx-pass",
                "env:PFX_PW",
            ],
        );
        assert_contains(&err, &[name, "the key asks for", "certkit accepts"]);
        assert!(!env.path("a.pfx").exists());
    }
    // A PFX whose MAC claims 2^31 - 1 iterations.
    env.ok(
        "certkit-export",
        &[
            "pfx",
            "--cert",
            "alice.cer",
            "--key-file",
            "alice.key",
            "--out",
            "good.pfx",
            "--key-pass",
            "env:KEY_PW",
            "--pfx-pass",
            "env:PFX_PW",
        ],
    );
    std::fs::write(
        env.path("slow.pfx"),
        der::pfx_with_mac_iterations(&env.read("good.pfx"), (1 << 31) - 1),
    )
    .expect("write");
    let err = refused_without_deriving(
        &env,
        &["thumbprint", "slow.pfx", "--pfx-pass", "env:PFX_PW"],
    );
    assert_contains(&err, &["slow.pfx", "2147483647", "iterations"]);
}

/// Runs `certkit-export` on input whose key derivation would take hours, and returns its one-line error: it
/// must refuse the parameters (exit 2) rather than derive. coreutils `timeout` ends a run that derives after
/// a minute (exit 124) so the test fails instead of hanging; how fast the refusal is is not measured here.
fn refused_without_deriving(env: &Env, args: &[&str]) -> String {
    let mut argv = vec![
        "60".to_string(),
        bin("certkit-export").display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let out = env.tool(
        "timeout",
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "error should be one line: {err}"
    );
    err
}

#[test]
fn a_cscfg_attribute_with_long_whitespace_around_the_equals_sign_is_edited() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    let original = std::fs::read_to_string(example_cscfg()).expect("example");
    let spaced = original.replace(
        "<Setting name=\"AllowedClientCertificateThumbprints\" value=\"\" />",
        &format!(
            "<Setting name=\"AllowedClientCertificateThumbprints\" value{}={}\"\" />",
            " ".repeat(3000),
            "\t".repeat(3000)
        ),
    );
    std::fs::write(env.path("svc.cscfg"), &spaced).expect("write");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--allow", "alice.cer"],
    );
    let thumb = env.openssl_thumbprint("alice.cer");
    assert_eq!(
        String::from_utf8(env.read("svc.cscfg")).expect("utf8"),
        spaced.replacen(
            &format!("{}\"\"", "\t".repeat(3000)),
            &format!("{}\"{thumb}\"", "\t".repeat(3000)),
            1
        )
    );
}

#[test]
fn a_hand_edited_serial_is_reported_with_its_line() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    env.tampered("pki");
    let text = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
    let serial = env.list("pki")[0]["serial"]
        .as_str()
        .expect("serial")
        .to_string();
    let edited = format!("{}\u{e9}{}", &serial[..4], &serial[5..]);
    std::fs::write(
        env.path("pki/inventory.jsonl"),
        text.replace(&serial, &edited),
    )
    .expect("write");
    let err = env.fails(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        1,
    );
    // Every record names the serial, so every one is damaged; the error names one of their lines (the last
    // one is read first: a command reads the log's end, not its whole history).
    assert_contains(&err, &["inventory", "is not a serial number"]);
    assert!(
        ["line 1:", "line 2:", "line 3:"]
            .iter()
            .any(|line| err.contains(line)),
        "{err}"
    );
}
