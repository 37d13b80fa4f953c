//! The smaller stumbles of a new user's first hour (issue 32), each fixed and pinned: a bad password source
//! said before any wait, an issuing CA that waits for its certificate shown, an expired CA told to renew (and
//! renewed), a certificate file given as the CA folder named as such, a big batch that prints no 82 KB line,
//! inspect's columns apart and EKUs named.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_bad_password_source_is_said_before_waiting_for_the_ca() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    // Another certkit process holds the CA's lock for a while (flock, from util-linux, on the same file).
    std::fs::write(env.path("people.csv"), "cn\nbob\n").expect("csv");
    // (--close: the sleep does not hold the lock or the test's output; killing flock frees both.)
    let mut holder = env
        .command("flock")
        .args(["--close", "pki/.lock", "sleep", "20"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("flock");
    std::thread::sleep(Duration::from_millis(300));
    for (bin, line) in [
        (
            "certkit-issue",
            "client --ca pki --cn b --out b --key p256 --ca-pass env:NOPE --key-pass env:KEY_PW",
        ),
        (
            "certkit-issue",
            "client --ca pki --cn b --out b --key p256 --ca-pass env:CA_PW --key-pass file:missing.txt",
        ),
        (
            "certkit-issue",
            "client --ca pki --batch people.csv --out-dir team --pfx --ca-pass env:CA_PW --pfx-pass env:NOPE",
        ),
        (
            "certkit-issue",
            "renew --ca pki --expiring-within 30 --out-dir r --ca-pass env:NOPE",
        ),
        ("certkit-ca", "revoke --ca pki 01 --ca-pass env:NOPE"),
        ("certkit-ca", "crl --ca pki --ca-pass env:NOPE"),
    ] {
        let started = Instant::now();
        let out = env.run(bin, &cli(line));
        let err = text(&out.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{line}: waited {:?} before saying: {err}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{line}: {err}");
        assert!(!err.contains("waiting for another"), "{line}: {err}");
        assert!(
            err.contains("environment variable NOPE is not set") || err.contains("missing.txt"),
            "{line}: {err}"
        );
    }
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn show_tells_what_an_issuing_ca_waiting_for_its_certificate_needs() {
    let env = Env::new();
    env.ok(
        "certkit-ca",
        &cli("init --ca issuing --cn 'Issuing CA' --key p256 --request issuing.csr --ca-pass env:CA_PW"),
    );
    let shown = env.ok("certkit-ca", &cli("show --ca issuing"));
    assert_contains(
        &shown,
        &[
            "waits for its certificate",
            "CN=Issuing CA",
            "issuing/ca.csr",
            "certkit-ca install --ca issuing",
        ],
    );
    let json = env.json("certkit-ca", &cli("show --ca issuing --json"));
    assert_eq!(json["status"], "waiting");
    assert_eq!(json["ca"], "issuing");
    // The request it names is the one openssl reads.
    let subject = env.openssl_ok(&cli("req -in issuing/ca.csr -noout -subject"));
    assert!(subject.contains("Issuing CA"), "{subject}");
}

#[test]
fn an_expired_ca_is_told_to_renew_and_renews() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256 --days 2"));
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --days 1",
    ));
    // Five days on (faketime, a standing clock): the CA has expired.
    let later = |bin: &str, line: &str| {
        let mut args = vec![
            "-f".to_string(),
            "+5d".to_string(),
            bin_dir().join(bin).display().to_string(),
        ];
        args.extend(cli(line).into_iter().map(String::from));
        env.tool(
            "faketime",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let out = later(
        "certkit-issue",
        "client --ca pki --cn bob --out bob --key p256 --ca-pass env:CA_PW --key-pass env:KEY_PW",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("expired on") && err.contains("certkit-ca renew --ca pki"),
        "{err}"
    );
    assert!(!err.contains("init"), "{err}");
    // What it says works: the same key gets a new certificate, and the CA issues again. (For longer
    // than the 365 days a certificate asks by default: with equal days the two would end within the
    // same second, and which came first would be luck.)
    let out = later(
        "certkit-ca",
        "renew --ca pki --days 730 --ca-pass env:CA_PW --json",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = later(
        "certkit-issue",
        "client --ca pki --cn bob --out bob --key p256 --ca-pass env:CA_PW --key-pass env:KEY_PW",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // openssl, at that time, takes bob's certificate under the renewed CA certificate.
    let at = (time_now() + 5 * 86_400).to_string();
    env.openssl_ok(&["verify", "-attime", &at, "-CAfile", "pki/ca.pem", "bob.pem"]);
}

fn time_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[test]
fn a_certificate_file_given_as_the_ca_folder_is_named_as_such() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    let err = env.fails("certkit-ca", &cli("show --ca pki/ca.cer"), 2);
    assert_contains(&err, &["pki/ca.cer is a file, not a CA folder", "--ca pki"]);
    assert!(!err.contains("create one"), "{err}");
}

#[test]
fn a_big_batch_points_to_the_command_instead_of_one_long_line() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    let mut csv = String::from("cn\n");
    for i in 0..25 {
        csv.push_str(&format!("person {i}\n"));
    }
    std::fs::write(env.path("people.csv"), csv).expect("csv");
    let out = env.ok(
        "certkit-issue",
        &cli("client --ca pki --batch people.csv --out-dir team --key p256 --pfx --ca-pass env:CA_PW --pfx-pass env:PFX_PW"),
    );
    let longest = out.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 300, "a line of {longest} characters");
    assert_contains(
        &out,
        &[
            "25 thumbprints",
            "certkit-export cscfg --file ServiceConfiguration.cscfg --allow team/*.cer",
        ],
    );
    // What it says works: every thumbprint lands in the .cscfg (checked with openssl's thumbprints).
    std::fs::copy(example_cscfg(), env.path("ServiceConfiguration.cscfg")).expect("copy");
    let cers: Vec<String> = env
        .listing("team")
        .into_iter()
        .filter(|f| f.ends_with(".cer"))
        .map(|f| format!("team/{f}"))
        .collect();
    let mut args = vec!["cscfg", "--file", "ServiceConfiguration.cscfg", "--allow"];
    args.extend(cers.iter().map(String::as_str));
    env.ok("certkit-export", &args);
    let cscfg = text(&env.read("ServiceConfiguration.cscfg"));
    for cer in &cers {
        assert!(cscfg.contains(&env.openssl_thumbprint(cer)), "{cer}");
    }
    // --json keeps the whole line.
    let json = env.json(
        "certkit-issue",
        &cli("client --ca pki --batch people.csv --out-dir team --key p256 --pfx --ca-pass env:CA_PW --pfx-pass env:PFX_PW --json"),
    );
    assert_eq!(json["allowed"].as_array().map(Vec::len), Some(25));
    assert!(
        json["config_line"]
            .as_str()
            .is_some_and(|l| l.len() > 25 * 40)
    );
}

#[test]
fn inspect_keeps_its_columns_apart_and_names_extended_key_usages() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --pfx",
    ));
    let shown = env.ok(
        "certkit-export",
        &cli("inspect alice.cer alice.pfx --from-pass env:PFX_PW"),
    );
    assert!(shown.contains("clientAuth (1.3.6.1.5.5.7.3.2)"), "{shown}");
    // Every "label value" line has at least two spaces between its label and its value.
    for line in shown.lines() {
        let trimmed = line.trim_start();
        for label in [
            "certificates",
            "friendlyName",
            "openssl3-legacy",
            "constraints",
            "ext. usage",
        ] {
            if let Some(rest) = trimmed.strip_prefix(label) {
                assert!(
                    rest.is_empty() || rest.starts_with("  "),
                    "columns run together: {line:?}"
                );
            }
        }
    }
}
