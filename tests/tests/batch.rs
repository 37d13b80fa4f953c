//! `certkit-issue client --batch`: per-person PFX passwords, resumable runs, whole-batch validation, and an
//! interrupted run that loses nothing.

mod common;

use common::*;

fn people(env: &Env, rows: &[&str]) {
    std::fs::write(
        env.path("people.csv"),
        format!("cn,email,out\n{}\n", rows.join("\n")),
    )
    .expect("write");
}

fn inventory_len(env: &Env) -> usize {
    env.list("pki").len()
}

fn pfx_view(env: &Env, file: &str, password: &str) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .args([&peer("pfx_check.py"), file])
        .current_dir(env.dir.path())
        .env("PFX_PW", password)
        .output()
        .expect("python3");
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The batch arguments of the three-person team with per-person PFX passwords in pw/.
const TEAM_BATCH: [&str; 13] = [
    "client",
    "--ca",
    "pki",
    "--batch",
    "people.csv",
    "--out-dir",
    "out",
    "--pfx",
    "--pfx-pass-dir",
    "pw",
    "--ca-pass",
    "env:CA_PW",
    "--key",
];

/// A CA, people.csv for Alice, Bob and Carol, and each one's PFX password in pw/<cn>.txt.
fn team(env: &Env) {
    env.init_ca("pki");
    people(
        env,
        &[
            "Alice Smith,alice@example.com,",
            "Bob Jones,,bob",
            "Carol,carol@example.com,carol-laptop",
        ],
    );
    std::fs::create_dir(env.path("pw")).expect("mkdir");
    for (cn, pw) in [
        ("Alice Smith", "alice's own password"),
        ("Bob Jones", "bob's own password"),
        ("Carol", "carol's own password"),
    ] {
        std::fs::write(env.path(&format!("pw/{cn}.txt")), format!("{pw}\n")).expect("write");
    }
}

fn team_batch(env: &Env) -> serde_json::Value {
    let mut args = TEAM_BATCH.to_vec();
    args.extend(["p256", "--jobs", "2", "--json"]);
    env.json("certkit-issue", &args)
}

#[test]
fn batch_with_per_person_pfx_passwords() {
    let env = Env::new();
    team(&env);
    let json = team_batch(&env);
    assert_eq!(json["issued"], 3);
    assert_eq!(
        env.listing("out"),
        [
            "alice-smith.cer",
            "alice-smith.pem",
            "alice-smith.pfx",
            "bob.cer",
            "bob.pem",
            "bob.pfx",
            "carol-laptop.cer",
            "carol-laptop.pem",
            "carol-laptop.pfx"
        ]
    );
    let mut thumbs = Vec::new();
    for (row, (out, pw, cn)) in [
        ("alice-smith", "alice's own password", "Alice Smith"),
        ("bob", "bob's own password", "Bob Jones"),
        ("carol-laptop", "carol's own password", "Carol"),
    ]
    .iter()
    .enumerate()
    {
        let thumb = env.openssl_thumbprint(&format!("out/{out}.pem"));
        assert_eq!(json["rows"][row]["thumbprint"], thumb.as_str());
        assert_eq!(json["rows"][row]["cn"], *cn);
        let view = pfx_view(&env, &format!("out/{out}.pfx"), pw);
        assert_eq!(view["key_matches"], true, "{out}");
        assert_eq!(view["thumbprint"], thumb.as_str());
        assert_eq!(view["additional"], serde_json::json!(["CN=Test CA"]));
        assert!(
            pfx_view(&env, &format!("out/{out}.pfx"), "bob's own password")
                .get("error")
                .is_some()
                || *out == "bob"
        );
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-purpose",
                "sslclient",
                "-CAfile",
                "pki/ca.pem",
                &format!("out/{out}.pem"),
            ]),
            &["OK"],
        );
        thumbs.push(thumb);
    }
    assert_contains(
        &env.x509_text("out/alice-smith.pem"),
        &["email:alice@example.com"],
    );
    assert_eq!(
        json["config_line"],
        format!(
            "<Setting name=\"AllowedClientCertificateThumbprints\" value=\"{}\" />",
            thumbs.join(",")
        )
    );
    assert_eq!(inventory_len(&env), 3);
}

#[test]
fn a_rerun_of_the_same_batch_issues_nothing_and_touches_nothing() {
    let env = Env::new();
    team(&env);
    let first = team_batch(&env);
    let thumbs: Vec<&str> = first["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["thumbprint"].as_str().expect("thumbprint"))
        .collect();
    let before: Vec<Vec<u8>> = env
        .listing("out")
        .iter()
        .map(|n| env.read(&format!("out/{n}")))
        .collect();
    let mut args = TEAM_BATCH.to_vec();
    args.push("p256");
    let again = env.ok("certkit-issue", &args);
    assert_contains(&again, &["0 issued, 3 skipped", &thumbs.join(",")]);
    assert_eq!(inventory_len(&env), 3);
    let after: Vec<Vec<u8>> = env
        .listing("out")
        .iter()
        .map(|n| env.read(&format!("out/{n}")))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn batch_without_pfx_writes_encrypted_key_files() {
    let env = Env::new();
    env.init_ca("pki");
    people(&env, &["dave,,", "erin,,"]);
    env.ok(
        "certkit-issue",
        &cli(
            "client --ca pki --batch people.csv --out-dir out --key-pass env:KEY_PW \
            --ca-pass env:CA_PW --key p256",
        ),
    );
    assert_eq!(
        env.listing("out"),
        [
            "dave.cer", "dave.key", "dave.pem", "erin.cer", "erin.key", "erin.pem"
        ]
    );
    assert_eq!(
        env.openssl_ok(&cli("pkey -in out/dave.key -passin env:KEY_PW -pubout")),
        env.openssl_ok(&["x509", "-in", "out/dave.pem", "-noout", "-pubkey"])
    );
}

#[test]
fn a_bad_row_fails_the_whole_batch_before_any_key_is_made() {
    let env = Env::new();
    env.init_ca("pki");
    for (rows, needle) in [
        (
            vec!["alice,,", ",x@example.com,"],
            "line 3: the CN is empty",
        ),
        (
            vec!["alice,,", "bob,,", "Alice,,"],
            "line 4: the CN 'Alice' already appears on line 2",
        ),
        (vec!["alice,not-an-email,"], "line 2:"),
    ] {
        people(&env, &rows);
        let err = env.fails(
            "certkit-issue",
            &cli(
                "client --ca pki --batch people.csv --out-dir out --pfx --pfx-pass \
                env:PFX_PW --ca-pass env:CA_PW",
            ),
            2,
        );
        assert_contains(&err, &["people.csv", needle]);
        assert!(!env.path("out").exists());
        assert_eq!(inventory_len(&env), 0);
    }
    // A missing per-person password is found before any key too.
    people(&env, &["alice,,", "bob,,"]);
    std::fs::create_dir(env.path("pw")).expect("mkdir");
    std::fs::write(env.path("pw/alice.txt"), "alice password 1\n").expect("write");
    let err = env.fails(
        "certkit-issue",
        &cli(
            "client --ca pki --batch people.csv --out-dir out --pfx --pfx-pass-dir pw \
            --ca-pass env:CA_PW",
        ),
        2,
    );
    assert_contains(&err, &["no PFX password file for 'bob'"]);
    assert!(!env.path("out").exists());
}

#[test]
fn an_interrupted_batch_loses_nothing_and_the_rerun_completes_it() {
    let env = Env::new();
    env.init_ca("pki");
    let rows: Vec<String> = (0..40).map(|i| format!("person{i},,")).collect();
    people(&env, &rows.iter().map(String::as_str).collect::<Vec<_>>());
    let args = [
        "client",
        "--ca",
        "pki",
        "--batch",
        "people.csv",
        "--out-dir",
        "out",
        "--pfx",
        "--pfx-pass",
        "env:PFX_PW",
        "--ca-pass",
        "env:CA_PW",
        "--jobs",
        "2",
    ];
    // Killed in the middle of placing files: every rename of a batch places a file of a group that is
    // recorded but not yet marked delivered, so the kill always leaves undelivered certificates behind.
    let killed = env.killed_at("renameat2", 30, "certkit-issue", &args);
    assert!(!killed.status.success(), "the batch was not killed");
    let delivered_before = env
        .list("pki")
        .iter()
        .filter(|e| e["status"] == "valid")
        .count();
    assert!(
        delivered_before < 40,
        "the batch finished before it could be interrupted"
    );
    let rerun = env.ok("certkit-issue", &args);
    let list = env.list("pki");
    let (undelivered, delivered): (Vec<_>, Vec<_>) =
        list.iter().partition(|e| e["status"] == "undelivered");
    assert_eq!(delivered.len(), 40, "each row delivered exactly once");
    assert!(!undelivered.is_empty(), "the kill left nothing undelivered");
    let mut cns: Vec<&str> = delivered
        .iter()
        .map(|e| e["cn"].as_str().expect("cn"))
        .collect();
    cns.sort();
    cns.dedup();
    assert_eq!(cns.len(), 40);
    let mut handed_out = Vec::new();
    for i in 0..40 {
        let thumb = env.openssl_thumbprint(&format!("out/person{i}.pem"));
        assert!(
            delivered.iter().any(|e| e["thumbprint"] == thumb.as_str()),
            "person{i} not recorded as delivered"
        );
        assert!(env.path(&format!("out/person{i}.pfx")).exists());
        handed_out.push(thumb);
    }
    // What the kill left undelivered is in nobody's files and in no allow line.
    for entry in &undelivered {
        let thumb = entry["thumbprint"].as_str().expect("thumbprint");
        assert!(
            !handed_out.iter().any(|t| t == thumb),
            "{thumb} was delivered"
        );
        assert!(!rerun.contains(thumb), "{thumb} is in the rerun's output");
    }
    assert_contains(&rerun, &["AllowedClientCertificateThumbprints"]);
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}
