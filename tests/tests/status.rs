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
    let (code, first, json) = status(&env, &["--expiring-within", "5"]);
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
    let (code, _, json) = status(&env, &["--expiring-within", "5", "--at", &in_days(8)]);
    assert_eq!((code, &fact(&json, "crl")["level"]), (1, &"WARNING".into()));
    let (code, first, json) = status(&env, &["--expiring-within", "5", "--at", &in_days(11)]);
    assert_eq!(code, 2, "{first}");
    assert_eq!(fact(&json, "crl")["level"], "CRITICAL");
    assert!(
        first.starts_with("CERTKIT CRITICAL - the CA's last CRL"),
        "{first}"
    );
    // The CA certificate: a warning within a year of its end, critical after it.
    let (_, _, json) = status(&env, &["--expiring-within", "5", "--crl", "pki/ca.crl"]);
    assert_eq!(fact(&json, "ca-certificate")["level"], "OK");
    assert_eq!(fact(&json, "crl-file")["level"], "OK");
    let (_, _, json) = status(&env, &["--expiring-within", "5", "--at", &in_days(40)]);
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
        &cli("status --ca pki --at 9999-12-31 --expiring-within 36500"),
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

#[test]
fn a_rotation_that_renewed_everything_due_ends_green() {
    // Issue 32: after renew --expiring-within renewed what was due, status no longer warns about the old
    // certificates: it lists them as renewed, with the new serials; list and the report say so too. Revoking
    // a renewal brings its old certificate back into the warning (the seam between renewal and revocation).
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    for cn in ["alice", "bob"] {
        env.issue(&cli(&format!(
            "client --ca pki --cn {cn} --out {cn} --key p256 --days 10"
        )));
    }
    env.issue(&cli(
        "client --ca pki --cn carol --out carol --key p256 --days 200",
    ));
    let (code, first, json) = status(&env, &["--expiring-within", "30"]);
    assert_eq!(code, 1, "{first}");
    assert_eq!(json["expiring"].as_array().map(Vec::len), Some(2));

    // The rotation: PFX files only, no key password read, no key file written.
    let renewed = env.json(
        "certkit-issue",
        &cli(
            "renew --ca pki --expiring-within 30 --profile client --out-dir renewed --pfx \
             --ca-pass env:CA_PW --pfx-pass env:PFX_PW --json",
        ),
    );
    assert_eq!(renewed["renewed"], 2, "{renewed}");
    let files = env.listing("renewed");
    assert!(
        files.iter().all(|f| !f.ends_with(".key")) && files.iter().any(|f| f.ends_with(".pfx")),
        "{files:?}"
    );
    let new_serial = |cn: &str| -> String {
        renewed["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["cn"] == cn)
            .and_then(|r| r["serial"].as_str())
            .expect("serial")
            .to_string()
    };
    // Each renewal opens with the PFX password and holds its key (openssl, not certkit).
    for f in files.iter().filter(|f| f.ends_with(".pfx")) {
        let out = env.openssl_ok(&[
            "pkcs12",
            "-in",
            &format!("renewed/{f}"),
            "-passin",
            "env:PFX_PW",
            "-nodes",
        ]);
        assert!(out.contains("PRIVATE KEY"), "{f}");
    }

    let (code, first, json) = status(&env, &["--expiring-within", "30"]);
    assert_eq!(code, 0, "{first}");
    assert!(first.starts_with("CERTKIT OK - "), "{first}");
    assert_eq!(json["expiring"], serde_json::json!([]));
    let mut shown: Vec<(String, String)> = json["renewed"]
        .as_array()
        .expect("renewed")
        .iter()
        .map(|r| {
            (
                r["renewed_by"].as_str().unwrap_or("").to_string(),
                r["subject"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    shown.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        shown,
        [
            (new_serial("alice"), "CN=alice".to_string()),
            (new_serial("bob"), "CN=bob".to_string())
        ]
    );
    assert_contains(
        &fact(&json, "certificates")["message"].to_string(),
        &["0 certificate(s) expire within 30 days (2 more renewed already)"],
    );
    let text_out = env.ok("certkit-ca", &cli("status --ca pki --expiring-within 30"));
    assert!(
        text_out.contains(&format!("(by {}", new_serial("alice"))),
        "{text_out}"
    );

    // list: the old certificates are still valid, and renewed by the new ones.
    let list = env.list("pki");
    let row = |cn: &str, renewal: bool| {
        list.iter()
            .find(|r| r["cn"] == cn && r["renewal_of"].is_null() != renewal)
            .unwrap_or_else(|| panic!("{cn} in {list:?}"))
            .clone()
    };
    assert_eq!(
        row("alice", false)["renewed_by"],
        new_serial("alice").as_str()
    );
    assert_eq!(row("alice", false)["status"], "valid");
    assert!(row("alice", true)["renewed_by"].is_null());
    assert!(row("carol", false)["renewed_by"].is_null());
    let table = env.ok("certkit-ca", &cli("list --ca pki"));
    assert!(
        table.contains(&format!("renewed by {}", new_serial("bob"))),
        "{table}"
    );

    // Bob's renewal is revoked: his old certificate is due again, and status says so.
    env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            &new_serial("bob"),
            "--reason",
            "keyCompromise",
        ],
    );
    let (code, _, json) = status(&env, &["--expiring-within", "30"]);
    assert_eq!(code, 1);
    assert_eq!(json["expiring"][0]["subject"], "CN=bob");
    assert_eq!(json["renewed"].as_array().map(Vec::len), Some(1));
    // And a rerun of the rotation renews bob again, asking for no password it does not need: with nothing
    // due, no password at all (no source given, no terminal: it would fail if it asked).
    env.json(
        "certkit-issue",
        &cli(
            "renew --ca pki --expiring-within 30 --profile client --out-dir again --pfx \
             --ca-pass env:CA_PW --pfx-pass env:PFX_PW --json",
        ),
    );
    let nothing = env.json(
        "certkit-issue",
        &cli("renew --ca pki --expiring-within 30 --profile client --out-dir third --pfx --json"),
    );
    assert_eq!(
        (nothing["renewed"].as_u64(), nothing["skipped"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(!env.path("third").exists());
}
