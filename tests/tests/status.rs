//! `certkit-ca status`: each fact at each level, and the exit codes of monitoring plugins (0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN), with lapses made by short validity and by looking ahead (`--at`).

mod common;

use common::*;

/// `status` with `args`: its exit code, first line, and JSON (run a second time with `--json`).
fn status(env: &Env, args: &[&str]) -> (i32, String, serde_json::Value) {
    let mut all = vec!["status", "--ca", "pki"];
    all.extend(args);
    let out = env.run("certkit-ca", &all);
    let code = out.status.code().expect("exit code");
    let first = text(&out.stdout).lines().next().unwrap_or("").to_string();
    all.push("--json");
    let json = env.run("certkit-ca", &all);
    assert_eq!(
        json.status.code(),
        Some(code),
        "the same exit code with --json"
    );
    let json = serde_json::from_slice(&json.stdout).expect("json");
    (code, first, json)
}

fn fact<'a>(json: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    json["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} fact in {json}"))
}

#[test]
fn each_lapse_sets_the_level_and_the_exit_code() {
    let env = Env::new();
    env.init_ca_with(
        "pki",
        &cli("--key p256 --days 400 --crl-url http://pki.example.com/ca.crl"),
    );
    // A CRL URL in every certificate but no CRL: a warning.
    let (code, first, json) = status(&env, &[]);
    assert_eq!(code, 1, "{first}");
    assert!(first.starts_with("CERTKIT WARNING - "), "{first}");
    assert_eq!(fact(&json, "crl")["level"], "WARNING");
    assert_eq!(json["level"], "WARNING");

    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --days 10 --ca-pass env:CA_PW"),
    );
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --days 20",
    ));
    env.issue(&cli(
        "client --ca pki --cn bob --out bob --key p256 --days 90",
    ));
    // Everything fine for the next few days (the CA's 400 days are over a year only with --within 30).
    let (code, first, json) = status(&env, &["--within", "5"]);
    assert_eq!(code, 0, "{first}");
    assert!(first.starts_with("CERTKIT OK - CN=Test CA"), "{first}");
    assert_eq!(fact(&json, "checkpoint")["level"], "OK");
    // Alice's certificate expires within 30 days: a warning that names her and says how to renew.
    let (code, first, json) = status(&env, &[]);
    assert_eq!(code, 1, "{first}");
    assert_eq!(json["expiring"].as_array().expect("expiring").len(), 1);
    assert_eq!(json["expiring"][0]["subject"], "CN=alice");
    assert_contains(
        &first,
        &[
            "1 certificate(s) expire within 30 days",
            "certkit-issue renew",
        ],
    );
    // In eight days the CRL is in its last week; in eleven it has run out: critical.
    let (code, _, json) = status(&env, &["--within", "5", "--at", &in_days(8)]);
    assert_eq!((code, &fact(&json, "crl")["level"]), (1, &"WARNING".into()));
    let (code, first, json) = status(&env, &["--within", "5", "--at", &in_days(11)]);
    assert_eq!(code, 2, "{first}");
    assert_eq!(fact(&json, "crl")["level"], "CRITICAL");
    assert!(
        first.starts_with("CERTKIT CRITICAL - the CA's last CRL"),
        "{first}"
    );
    // The CA certificate: a warning within a year of its end, critical after it.
    let (_, _, json) = status(&env, &["--within", "5", "--crl", "pki/ca.crl"]);
    assert_eq!(fact(&json, "ca-certificate")["level"], "OK");
    assert_eq!(fact(&json, "crl-file")["level"], "OK");
    let (_, _, json) = status(&env, &["--within", "5", "--at", &in_days(40)]);
    assert_eq!(fact(&json, "ca-certificate")["level"], "WARNING");
    let (code, _, json) = status(&env, &["--at", &in_days(401)]);
    assert_eq!(code, 2);
    assert_eq!(fact(&json, "ca-certificate")["level"], "CRITICAL");
}

/// The date `days` from today, as `--at` takes it.
fn in_days(days: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("+{days} days"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    text(&out.stdout).trim().to_string()
}

#[test]
fn a_published_crl_of_another_ca_or_a_damaged_folder_is_critical() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.init_ca_with("other", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "other", "--ca-pass", "env:CA_PW"],
    );
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let (code, _, json) = status(&env, &["--crl", "pki/ca.crl"]);
    assert_eq!(code, 0, "{json}");
    let (code, first, json) = status(&env, &["--crl", "other/ca.crl", "--crl", "missing.crl"]);
    assert_eq!(code, 2, "{first}");
    let files: Vec<&serde_json::Value> = json["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .filter(|f| f["check"] == "crl-file")
        .collect();
    assert_contains(
        files[0]["message"].as_str().expect("message"),
        &["not signed by this CA"],
    );
    assert_contains(
        files[1]["message"].as_str().expect("message"),
        &["cannot be read"],
    );

    // A checkpoint the CA key did not sign: critical, not unknown.
    env.tampered("pki");
    let text_now = String::from_utf8(env.read("pki/checkpoint.json")).expect("utf8");
    let mut checkpoint: serde_json::Value = serde_json::from_str(&text_now).expect("json");
    checkpoint["time"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(env.path("pki/checkpoint.json"), checkpoint.to_string()).expect("write");
    let (code, first, json) = status(&env, &[]);
    assert_eq!(code, 2, "{first}");
    assert_eq!(fact(&json, "checkpoint")["level"], "CRITICAL");
    assert_contains(&first, &["not signed by this CA's key"]);

    // A day before the CA existed (a clock behind): critical. A window past the year 9999: unknown.
    let (code, first, _) = status(&env, &["--at", "2000-01-01"]);
    assert_eq!(code, 2, "{first}");
    assert_contains(&first, &["is not valid until", "clock"]);
    let out = env.run(
        "certkit-ca",
        &cli("status --ca pki --at 9999-12-31 --within 36500"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert_contains(&text(&out.stderr), &["past the year 9999"]);
    // No CA at all: unknown.
    let out = env.run("certkit-ca", &["status", "--ca", "nowhere"]);
    assert_eq!(out.status.code(), Some(3));
    assert_contains(&text(&out.stderr), &["no CA in nowhere"]);
}

#[test]
fn a_failed_or_missing_drill_of_a_backed_up_key_is_a_warning() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &cli("backup --ca pki --shares 3 --threshold 2 --share-dir shares --ca-pass env:CA_PW"),
    );
    let (code, _, json) = status(&env, &[]);
    assert_eq!(code, 1);
    assert_contains(
        fact(&json, "drill")["message"].as_str().expect("message"),
        &["never tried"],
    );
    env.ok(
        "certkit-ca",
        &cli("restore --backup pki-backup.key --check --ca pki --share \
            file:shares/share-1-of-3.txt --share file:shares/share-3-of-3.txt"),
    );
    let (code, _, json) = status(&env, &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(fact(&json, "drill")["level"], "OK");
    let (_, _, json) = status(&env, &["--at", &in_days(400)]);
    assert_contains(
        fact(&json, "drill")["message"].as_str().expect("message"),
        &["over a year ago"],
    );
}
