//! `certkit-issue renew`, and the two shell scripts (the guide's setup flow and client rotation) run for real.

mod common;

use common::*;

fn script(env: &Env, name: &str, args: &[&str]) -> std::process::Output {
    env.script(name).args(args).output().expect("bash")
}

fn ok_script(env: &Env, name: &str, args: &[&str]) -> String {
    let out = script(env, name, args);
    assert!(
        out.status.success(),
        "{name} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

const PASSES: [&str; 6] = [
    "--ca-pass",
    "env:CA_PW",
    "--key-pass",
    "env:KEY_PW",
    "--pfx-pass",
    "env:PFX_PW",
];

#[test]
fn renew_keeps_subject_sans_profile_and_ekus_with_a_new_key() {
    let env = Env::new();
    env.init_ca("pki");
    env.ok(
        "certkit-issue",
        &cli(
            "server --ca pki --cn svc.example.com --dns *.example.com --ip 10.1.2.3 \
            --eku 1.3.6.1.5.5.7.3.2 --days 30 --out old --ca-pass env:CA_PW \
            --key-pass env:KEY_PW",
        ),
    );
    let old_thumb = env.openssl_thumbprint("old.pem");
    let serial = env.list("pki")[0]["serial"]
        .as_str()
        .expect("serial")
        .to_string();
    let out = env.ok(
        "certkit-issue",
        &[
            "renew",
            "--ca",
            "pki",
            &serial,
            "--out",
            "new",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ],
    );
    let new_thumb = env.openssl_thumbprint("new.pem");
    assert_contains(
        &out,
        &[
            &format!("old thumbprint  {old_thumb}"),
            &format!("new thumbprint  {new_thumb}"),
        ],
    );
    let (old, new) = (env.x509_text("old.pem"), env.x509_text("new.pem"));
    for ext in [
        "X509v3 Subject Alternative Name",
        "X509v3 Extended Key Usage",
        "X509v3 Key Usage",
        "X509v3 Basic Constraints",
    ] {
        assert_eq!(extension(&old, ext), extension(&new, ext), "{ext}");
    }
    assert_contains(
        &new,
        &cli(
            "'Subject: CN = svc.example.com' DNS:*.example.com 'IP Address:10.1.2.3' \
            'TLS Web Server Authentication, TLS Web Client Authentication'",
        ),
    );
    assert_ne!(
        env.openssl_ok(&["x509", "-in", "old.pem", "-noout", "-pubkey"]),
        env.openssl_ok(&["x509", "-in", "new.pem", "-noout", "-pubkey"])
    );
    let list = env.list("pki");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["renewal_of"], serial.as_str());
    assert_eq!(
        list[1]["status"], "valid",
        "the old certificate stays valid"
    );
}

#[test]
fn renew_finds_the_certificate_by_thumbprint_and_by_file() {
    let env = Env::new();
    env.init_ca("pki");
    env.issue_client("pki", "alice", "old");
    let new_thumb = env.openssl_thumbprint("old.pem");
    let by_thumb = env.json(
        "certkit-issue",
        &[
            "renew",
            "--ca",
            "pki",
            &new_thumb,
            "--out",
            "newer",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
            "--json",
        ],
    );
    assert_eq!(by_thumb["old_thumbprint"], new_thumb.as_str());
    let by_file = env.json(
        "certkit-issue",
        &cli(
            "renew --ca pki newer.cer --out newest --ca-pass env:CA_PW --key-pass \
            env:KEY_PW --json",
        ),
    );
    assert_eq!(by_file["old_thumbprint"], by_thumb["thumbprint"]);
}

#[test]
fn renewing_an_unknown_serial_is_a_clear_error() {
    let env = Env::new();
    env.init_ca("pki");
    let err = env.fails(
        "certkit-issue",
        &cli("renew --ca pki ABCDEF --out x --ca-pass env:CA_PW --key-pass env:KEY_PW"),
        2,
    );
    assert_contains(&err, &["serial ABCDEF is not in the inventory"]);
}

#[test]
fn splitmerge_setup_runs_the_whole_guide() {
    let env = Env::new();
    let template = format!(
        "{}/../examples/ServiceConfiguration.cscfg",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(env.path("people.txt"), "Alice Smith\r\nBob Jones\n\n").expect("write");
    let mut args = vec![
        "--dir",
        "deploy",
        "--service",
        "svc.cloudapp.net",
        "--people-file",
        "people.txt",
        "--cscfg-template",
        &template,
        "--allow-subnet",
        "100.100.0.0/16",
    ];
    args.extend_from_slice(&PASSES);
    // A bad subnet is refused before anything is made.
    let mut bad = args.clone();
    bad[9] = "100.100.3.4/16";
    let out = script(&env, "splitmerge-setup.sh", &bad);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["the network is 100.100.0.0/16"]);
    assert!(!env.path("deploy").exists());
    ok_script(&env, "splitmerge-setup.sh", &args);
    for file in [
        "deploy/upload/ssl.pfx",
        "deploy/upload/encryption.pfx",
        "deploy/upload/ca.cer",
        "deploy/clients/alice-smith.pfx",
        "deploy/clients/bob-jones.pfx",
    ] {
        assert!(env.path(file).exists(), "{file} missing");
    }
    assert_eq!(
        env.read("deploy/upload/ca.cer"),
        env.read("deploy/ca/ca.cer")
    );
    let out = env.tool(
        "python3",
        &[&peer("cscfg_read.py"), "deploy/ServiceConfiguration.cscfg"],
    );
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let web = &cfg["SplitMergeWeb"];
    assert_eq!(
        web["certificates"]["SSL"][0],
        env.openssl_thumbprint("deploy/keys/ssl.pem").as_str()
    );
    assert_eq!(
        web["certificates"]["CA"][0],
        env.openssl_thumbprint("deploy/ca/ca.pem").as_str()
    );
    let enc = env.openssl_thumbprint("deploy/keys/encryption.pem");
    assert_eq!(
        cfg["SplitMergeWorker"]["certificates"]["DataEncryptionPrimary"][0],
        enc.as_str()
    );
    assert_eq!(
        web["settings"]["DataEncryptionPrimaryCertificateThumbprint"],
        enc.as_str()
    );
    let allowed = format!(
        "{},{}",
        env.openssl_thumbprint("deploy/keys/client-alice-smith.pem"),
        env.openssl_thumbprint("deploy/keys/client-bob-jones.pem")
    );
    assert_eq!(
        web["settings"]["AllowedClientCertificateThumbprints"],
        allowed.as_str()
    );
    // HTTPS only from the given range; plain HTTP still denied.
    let network = &cfg["#network"];
    assert_eq!(
        network["access_controls"]["Restricted"],
        serde_json::json!([
            ["permit", "1", "100.100.0.0/16", "allow 100.100.0.0/16"],
            ["deny", "2", "0.0.0.0/0", "deny everything else"]
        ])
    );
    assert_eq!(
        network["endpoint_acls"],
        serde_json::json!([
            ["SplitMergeWeb", "HttpIn", "DenyAll"],
            ["SplitMergeWeb", "HttpsIn", "Restricted"]
        ])
    );
    // The client PFX carries the CA and opens in Python cryptography.
    let check = env.tool(
        "python3",
        &[&peer("pfx_check.py"), "deploy/clients/alice-smith.pfx"],
    );
    let view: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json");
    assert_eq!(view["key_matches"], true);
    assert_eq!(view["subject"], "CN=Alice Smith");
    // Running it again into the same folder refuses (the CA exists) and changes nothing.
    let cscfg = env.read("deploy/ServiceConfiguration.cscfg");
    let mut again = cli(
        "--dir deploy --service svc.cloudapp.net --people Carol --cscfg \
        deploy/ServiceConfiguration.cscfg",
    );
    again.extend_from_slice(&PASSES);
    assert!(!script(&env, "splitmerge-setup.sh", &again).status.success());
    assert_eq!(env.read("deploy/ServiceConfiguration.cscfg"), cscfg);
}

#[test]
fn rotation_is_idempotent_and_keeps_old_thumbprints_until_retire() {
    let env = Env::new();
    env.init_ca("pki");
    std::fs::copy(
        format!(
            "{}/../examples/ServiceConfiguration.cscfg",
            env!("CARGO_MANIFEST_DIR")
        ),
        env.path("svc.cscfg"),
    )
    .expect("copy");
    for (cn, days) in [("alice", "10"), ("bob", "20"), ("carol", "300")] {
        env.ok(
            "certkit-issue",
            &[
                "client",
                "--ca",
                "pki",
                "--cn",
                cn,
                "--days",
                days,
                "--key",
                "p256",
                "--out",
                cn,
                "--ca-pass",
                "env:CA_PW",
                "--key-pass",
                "env:KEY_PW",
            ],
        );
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
    let allowed = |env: &Env| -> Vec<String> {
        let out = env.tool("python3", &[&peer("cscfg_read.py"), "svc.cscfg"]);
        let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        cfg["SplitMergeWeb"]["settings"]["AllowedClientCertificateThumbprints"]
            .as_str()
            .expect("list")
            .split(',')
            .map(String::from)
            .collect()
    };
    let old: Vec<String> = ["alice", "bob", "carol"]
        .iter()
        .map(|c| env.openssl_thumbprint(&format!("{c}.pem")))
        .collect();
    let mut args = cli("--ca pki --cscfg svc.cscfg --out-dir renewed --within 30");
    args.extend_from_slice(&PASSES);
    let first = ok_script(&env, "rotate-client-certs.sh", &args);
    assert_contains(
        &first,
        &[
            "2 certificate(s) renewed",
            "renewed CN=alice",
            "renewed CN=bob",
        ],
    );
    let after_first = allowed(&env);
    assert_eq!(after_first.len(), 5, "{after_first:?}");
    assert_eq!(
        &after_first[..3],
        &old[..],
        "old thumbprints are kept, in order"
    );
    let pfx_files: Vec<String> = env
        .listing("renewed")
        .into_iter()
        .filter(|n| n.ends_with(".pfx"))
        .collect();
    assert_eq!(pfx_files.len(), 2, "{pfx_files:?}");
    for pfx in &pfx_files {
        let view: serde_json::Value = serde_json::from_slice(
            &env.tool(
                "python3",
                &[&peer("pfx_check.py"), &format!("renewed/{pfx}")],
            )
            .stdout,
        )
        .expect("json");
        assert_eq!(view["key_matches"], true);
        assert!(after_first.contains(&view["thumbprint"].as_str().expect("t").to_string()));
    }
    // Second run: nothing renewed, file byte-identical.
    let before = env.read("svc.cscfg");
    let second = ok_script(&env, "rotate-client-certs.sh", &args);
    assert_contains(&second, &["0 certificate(s) renewed", "already up to date"]);
    assert_eq!(env.read("svc.cscfg"), before);
    assert_eq!(env.list("pki").len(), 5);
    // --retire removes exactly the superseded thumbprints; again, nothing changes.
    args.push("--retire");
    ok_script(&env, "rotate-client-certs.sh", &args);
    let retired = allowed(&env);
    assert_eq!(retired.len(), 3, "{retired:?}");
    assert!(!retired.contains(&old[0]) && !retired.contains(&old[1]) && retired.contains(&old[2]));
    let before = env.read("svc.cscfg");
    ok_script(&env, "rotate-client-certs.sh", &args);
    assert_eq!(env.read("svc.cscfg"), before);
}

/// A P-256 CA with client certificates for alice, bob, carol and dave (10 days), erin (300 days) and a server
/// certificate (10 days); bob is revoked, carol renewed by hand.
fn ca_with_certificates_due(env: &Env) {
    env.init_ca_with("pki", &["--key", "p256"]);
    for (cn, days) in [
        ("alice", "10"),
        ("bob", "10"),
        ("carol", "10"),
        ("dave", "10"),
        ("erin", "300"),
    ] {
        env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256", "--days", days,
        ]);
    }
    env.issue(&cli(
        "server --ca pki --cn web.example.com --dns www.example.com --out web \
        --key p256 --days 10",
    ));
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"]);
    env.issue(&["renew", "--ca", "pki", "carol.cer", "--out", "carol2"]);
}

fn serial_of(env: &Env, cert: &str) -> String {
    let thumbprint = env.openssl_thumbprint(cert);
    env.list("pki")
        .iter()
        .find(|e| e["thumbprint"] == thumbprint.as_str())
        .and_then(|e| e["serial"].as_str())
        .expect("recorded")
        .to_string()
}

#[test]
fn renewing_what_expires_soon_renews_each_due_certificate_once_and_never_a_revoked_one() {
    let env = Env::new();
    ca_with_certificates_due(&env);
    let report = env.issue(&cli(
        "renew --ca pki --expiring-within 30 --profile client --out-dir renewed --pfx",
    ));
    let rows = report["rows"].as_array().expect("rows");
    let status: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["cn"].as_str().expect("cn").to_string(),
                r["status"].as_str().expect("status").to_string(),
            )
        })
        .collect();
    // bob is revoked (never due), erin expires later, the server certificate is not a client's; carol's
    // renewal by hand counts.
    assert_eq!(
        status,
        [
            ("alice".to_string(), "renewed".to_string()),
            ("carol".to_string(), "skipped".to_string()),
            ("dave".to_string(), "renewed".to_string()),
        ]
    );
    assert_eq!(
        (&report["due"], &report["renewed"], &report["skipped"]),
        (&3.into(), &2.into(), &1.into())
    );
    assert_eq!(
        rows[1]["thumbprint"],
        env.openssl_thumbprint("carol2.cer").as_str()
    );
    for row in rows.iter().filter(|r| r["status"] == "renewed") {
        let cn = row["cn"].as_str().expect("cn");
        assert_eq!(
            row["old_serial"],
            serial_of(&env, &format!("{cn}.cer")).as_str()
        );
        assert_eq!(
            row["old_thumbprint"],
            env.openssl_thumbprint(&format!("{cn}.cer")).as_str()
        );
        let files: Vec<&str> = row["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f.as_str().expect("file"))
            .collect();
        let prefix = format!(
            "renewed/{cn}-{}-renewed",
            &row["old_serial"].as_str().expect("serial")[..8]
        );
        assert_eq!(
            files,
            // With --pfx, a renewal is its PFX (the key inside), as in a batch: no key file.
            ["cer", "pem", "pfx"].map(|ext| format!("{prefix}.{ext}"))
        );
        // openssl verifies the renewal against the CA; it has the old subject and a key of its own.
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-x509_strict",
                "-purpose",
                "sslclient",
                "-CAfile",
                "pki/ca.pem",
                &format!("{prefix}.pem"),
            ]),
            &["OK"],
        );
        assert_contains(
            &env.x509_text(&format!("{prefix}.pem")),
            &[&format!("Subject: CN = {cn}")],
        );
        assert_eq!(
            row["thumbprint"],
            env.openssl_thumbprint(&format!("{prefix}.pem")).as_str()
        );
        let pfx: serde_json::Value = serde_json::from_slice(
            &env.tool(
                "python3",
                &[&peer("pfx_check.py"), &format!("{prefix}.pfx")],
            )
            .stdout,
        )
        .expect("json");
        assert_eq!(pfx["key_matches"], true, "{cn}");
        assert_eq!(pfx["thumbprint"], row["thumbprint"], "{cn}");
        let renewal = env
            .list("pki")
            .into_iter()
            .find(|e| e["thumbprint"] == row["thumbprint"])
            .expect("recorded");
        assert_eq!(renewal["renewal_of"], row["old_serial"]);
    }
    // Again: everything is renewed already; nothing is made, nothing recorded.
    let inventory = env.read("pki/inventory.jsonl");
    let again = env.issue(&cli(
        "renew --ca pki --expiring-within 30 --profile client --out-dir renewed --pfx",
    ));
    assert_eq!(
        (&again["renewed"], &again["skipped"]),
        (&0.into(), &3.into())
    );
    assert_eq!(env.read("pki/inventory.jsonl"), inventory);
    // Without --profile the server certificate is due too, with its names.
    let all = env.issue(&cli(
        "renew --ca pki --expiring-within 30 --out-dir renewed",
    ));
    assert_eq!(all["renewed"], 1);
    let web = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["status"] == "renewed")
        .expect("web");
    assert_eq!(web["profile"], "server");
    let pem = web["files"][1].as_str().expect("pem");
    assert_contains(
        &env.x509_text(pem),
        &["DNS:www.example.com", "TLS Web Server Authentication"],
    );
}

#[test]
fn renewing_what_expires_soon_unlocks_the_ca_once_and_asks_nothing_when_nothing_is_due() {
    let env = Env::new();
    ca_with_certificates_due(&env);
    // Nothing expires within 0 days: no password source is given and no terminal is there, yet it succeeds.
    let none = env.json(
        "certkit-issue",
        &cli("renew --ca pki --expiring-within 0 --out-dir renewed --json"),
    );
    assert_eq!(
        (&none["due"], &none["rows"]),
        (&0.into(), &serde_json::json!([]))
    );
    assert!(!env.path("renewed").exists());
    // A password on a descriptor can be read once: one unlock for every certificate due.
    std::fs::write(env.path("pw.txt"), format!("{CA_PW}\n")).expect("write");
    let out = env.tool(
        "bash",
        &[
            "-c",
            &format!(
                "'{}' renew --ca pki --expiring-within 30 --out-dir renewed --ca-pass fd:3 --key-pass env:KEY_PW --json 3<pw.txt",
                bin("certkit-issue").display()
            ),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["renewed"], 3);
}

#[test]
fn renewing_what_expires_soon_refuses_bad_requests_before_it_writes() {
    let env = Env::new();
    ca_with_certificates_due(&env);
    let inventory = env.read("pki/inventory.jsonl");
    for (args, says) in [
        (
            &["renew", "--ca", "pki", "--expiring-within", "30"][..],
            "--out-dir",
        ),
        (
            &cli("renew --ca pki --expiring-within 99999999 --out-dir o")[..],
            "out of range",
        ),
        (
            &cli("renew --ca pki alice.cer --out a2 --profile client")[..],
            "--expiring-within",
        ),
        (
            &cli("renew --ca pki alice.cer --expiring-within 3 --out-dir o")[..],
            "cannot be used with",
        ),
        (
            &cli("renew --ca pki --expiring-within 3 --out-dir o --force")[..],
            "cannot be used with",
        ),
    ] {
        let err = env.fails("certkit-issue", &Env::with_passwords(args), 2);
        assert_contains(&err, &[says]);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // A file in the way of one renewal stops them all before any key is made or record written.
    let alice = serial_of(&env, "alice.cer");
    std::fs::create_dir(env.path("renewed")).expect("mkdir");
    std::fs::write(
        env.path(&format!("renewed/alice-{}-renewed.pem", &alice[..8])),
        "mine",
    )
    .expect("write");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "renew --ca pki --expiring-within 30 --out-dir renewed",
        )),
        1,
    );
    assert_contains(&err, &["alice-", "exists"]);
    assert_eq!(env.read("pki/inventory.jsonl"), inventory);
    assert_eq!(env.listing("renewed").len(), 1);
}

#[test]
fn the_old_spelling_of_pfx_profile_still_works_on_renew() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
    env.issue(&cli(
        "renew --ca pki alice.cer --out a2 --pfx --profile modern",
    ));
    let info = env.openssl_ok(&cli("pkcs12 -in a2.pfx -info -noout -passin env:PFX_PW"));
    assert_contains(&info, &["AES-256-CBC"]);
}
