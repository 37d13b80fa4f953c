//! A re-keyed CA over its lifetime: what an intruder drops or plants, old keys retired, two re-keys, NSS,
//! a token.

use super::*;

#[test]
fn a_lost_history_or_kept_key_is_said_and_an_intruders_certificate_brings_in_nothing() {
    let env = Env::new();
    let report = rekeyed(&env, &[]);
    // The cross-certificate the old key signed is what makes the new key the CA's: without it, ca.pem's key
    // is nobody's.
    let cross = report["cross_certificates"][0]["file"]
        .as_str()
        .expect("file")
        .to_string();
    let kept = env.read(&cross);
    std::fs::remove_file(env.path(&cross)).expect("remove");
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(&text(&audit.stdout), &["ca-replaced"]);
    std::fs::write(env.path(&cross), &kept).expect("restore");
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    // Without the old key, the CRL of what it signed cannot be made: said in one line, nothing signed.
    let old_key = report["old_key_file"]
        .as_str()
        .expect("old key")
        .to_string();
    let key = env.read(&old_key);
    std::fs::remove_file(env.path(&old_key)).expect("remove");
    let before = env.read("pki/ca.crl");
    let err = env.fails(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        2,
    );
    assert_contains(&err, &[&old_key]);
    assert_eq!(
        env.read("pki/ca.crl"),
        before,
        "a CRL was signed without the old key's"
    );
    std::fs::write(env.path(&old_key), &key).expect("restore");
    std::fs::set_permissions(env.path(&old_key), std::fs::Permissions::from_mode(0o600))
        .expect("mode");
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    // An intruder with a key of its own puts a self-signed certificate with the CA's name in ca.pem and in
    // history/, and signs the checkpoint again: it endorses nothing, so ca.pem is ca-replaced.
    env.tampered("pki");
    let planted = env.tool("python3", &[&peer("swap_ca_key.py"), "pki"]);
    assert!(planted.status.success(), "{}", text(&planted.stderr));
    std::fs::copy(env.path("pki/ca.cer"), env.path("pki/history/01.cer")).expect("plant");
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(&text(&audit.stdout), &["ca-replaced"]);
}

#[test]
fn list_names_the_signing_key_and_the_old_key_is_retired_once_what_it_signed_has_expired() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256", "--days", "400"]);
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --days 30",
    ));
    let before = env.list("pki");
    let old_id = before[0]["issuer_key"]
        .as_str()
        .expect("issuer_key")
        .to_string();
    let report = env.json(
        "certkit-ca",
        &["rekey", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
    );
    assert_eq!(report["old_key_id"], old_id.as_str());
    let new_id = report["key_id"].as_str().expect("key id").to_string();
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    // Each certificate names the key that signed it, as openssl reads its authority key identifier.
    for row in env.list("pki") {
        let cn = row["cn"].as_str().expect("cn");
        let expected = match cn {
            "bob" => &new_id,
            "alice" => &old_id,
            _ => continue,
        };
        assert_eq!(row["issuer_key"], expected.as_str(), "{cn}");
        let aki = env.openssl_ok(&[
            "x509",
            "-in",
            &format!("{cn}.pem"),
            "-noout",
            "-ext",
            "authorityKeyIdentifier",
        ]);
        assert!(
            aki.replace(':', "").contains(expected.as_str()),
            "{cn}: {aki}"
        );
    }
    let csv = env.ok("certkit-ca", &["list", "--ca", "pki", "--csv"]);
    assert!(
        csv.lines().next().expect("header").ends_with(",issuer_key"),
        "{csv}"
    );
    // While alice and the cross-certificate it signed are valid, the old key signs their CRLs: it is not
    // retired. (The cross-certificate lasts as long as the old CA certificate.)
    let retire = [
        "retire-key",
        "--ca",
        "pki",
        "--key-id",
        &old_id,
        "--ca-pass",
        "env:CA_PW",
    ];
    let err = env.fails("certkit-ca", &retire, 2);
    assert_contains(&err, &["2 certificate(s)", "not expired"]);
    let at_40 = ca_at(&env, "+40 days", &retire);
    assert_eq!(at_40.status.code(), Some(2), "{}", text(&at_40.stderr));
    assert_contains(&text(&at_40.stderr), &["1 certificate(s)"]);
    for bad in ["../../ca", &new_id] {
        env.fails(
            "certkit-ca",
            &[
                "retire-key",
                "--ca",
                "pki",
                "--key-id",
                bad,
                "--ca-pass",
                "env:CA_PW",
            ],
            2,
        );
    }
    assert!(env.path(&format!("pki/keys/{old_id}.key")).exists());
    // Once the old CA certificate has ended, so has everything its key signed (the cross-certificate too): crl
    // says the old key can go, and retire-key removes it.
    let crl = ca_at(
        &env,
        "+401 days",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
    );
    assert!(crl.status.success(), "{}", text(&crl.stderr));
    assert_contains(&text(&crl.stderr), &["retire-key", &old_id]);
    let crl: serde_json::Value = serde_json::from_slice(&crl.stdout).expect("json");
    assert!(crl.get("earlier_keys").is_none(), "{crl}");
    let retired = ca_at(
        &env,
        "+401 days",
        &[
            "retire-key",
            "--ca",
            "pki",
            "--key-id",
            &old_id.to_lowercase(),
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    assert!(retired.status.success(), "{}", text(&retired.stderr));
    assert!(!env.path(&format!("pki/keys/{old_id}.key")).exists());
    let settings: serde_json::Value =
        serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
    assert!(settings.get("earlier_keys").is_none(), "{settings}");
    // The CA goes on: what the old key signed still verifies under it (the history keeps its certificates).
    env.issue(&cli("client --ca pki --cn carol --out carol --key p256"));
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}

#[test]
fn after_two_rekeys_everything_verifies_under_the_newest_certificate_and_each_key_signs_its_crl() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let mut forward = Vec::new();
    for (i, cn) in ["alice", "bob"].iter().enumerate() {
        env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256",
        ]);
        let plan = env.json("certkit-ca", &["rekey", "--ca", "pki", "--plan", "--json"]);
        assert_eq!(
            plan["by_key"].as_array().expect("by_key").len(),
            i + 1,
            "{plan}"
        );
        assert_eq!(plan["chain_check"]["checked"], i + 1, "{plan}");
        assert_eq!(plan["chain_check"]["verified"], i + 1, "{plan}");
        let done = env.json(
            "certkit-ca",
            &["rekey", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
        );
        assert_eq!(done["chain_check"]["verified"], i + 1, "{done}");
        let name = format!("forward-{i}.pem");
        let file = done["cross_certificates"][1]["file"]
            .as_str()
            .expect("file")
            .to_string();
        env.openssl_ok(&["x509", "-inform", "DER", "-in", &file, "-out", &name]);
        forward.push(name);
    }
    env.issue(&cli("client --ca pki --cn carol --out carol --key p256"));
    // Trusting only the newest CA certificate, openssl walks alice's path through both cross-certificates.
    let bundle: Vec<u8> = forward.iter().flat_map(|f| env.read(f)).collect();
    std::fs::write(env.path("forward.pem"), bundle).expect("bundle");
    for leaf in ["alice.pem", "bob.pem", "carol.pem"] {
        let out = env.openssl_ok(&[
            "verify",
            "-x509_strict",
            "-CAfile",
            "pki/ca.pem",
            "-untrusted",
            "forward.pem",
            leaf,
        ]);
        assert_contains(&out, &[&format!("{leaf}: OK")]);
    }
    let crl = env.json(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
    );
    assert_eq!(
        crl["earlier_keys"].as_array().expect("earlier").len(),
        2,
        "{crl}"
    );
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}

#[test]
fn nss_trusting_either_ca_certificate_verifies_both_keys_leaves_through_the_cross_certificates() {
    let env = Env::new();
    rekeyed(&env, &[]);
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    let certutil = |args: &[&str]| {
        let out = env.tool("certutil", args);
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            text(&out.stderr)
        );
    };
    // One NSS database per case: the trusted CA certificate, and the cross-certificate (if any) as an
    // untrusted intermediate.
    let good = |name: &str, anchor: &str, cross: Option<&str>, leaf: &str| -> bool {
        let db = format!("sql:{name}");
        std::fs::create_dir(env.path(name)).expect("db");
        certutil(&["-N", "-d", &db, "--empty-password"]);
        certutil(&[
            "-A", "-d", &db, "-n", "anchor", "-t", "CT,C,C", "-a", "-i", anchor,
        ]);
        if let Some(cross) = cross {
            certutil(&[
                "-A", "-d", &db, "-n", "cross", "-t", ",,", "-a", "-i", cross,
            ]);
        }
        let der = format!("{name}-leaf.der");
        env.openssl_ok(&["x509", "-in", leaf, "-outform", "DER", "-out", &der]);
        let out = env.tool("vfychain", &["-d", &db, "-u", "0", &der]);
        format!("{}{}", text(&out.stdout), text(&out.stderr)).contains("Chain is good!")
    };
    assert!(good("db1", "old.pem", Some("new-by-old.pem"), "bob.pem"));
    assert!(!good("db2", "old.pem", None, "bob.pem"));
    assert!(good("db3", "new.pem", Some("old-by-new.pem"), "alice.pem"));
    assert!(!good("db4", "new.pem", None, "alice.pem"));
    assert!(good("db5", "old.pem", None, "alice.pem"));
    assert!(good("db6", "new.pem", None, "bob.pem"));
}

#[test]
fn a_file_ca_moved_onto_a_token_is_rekeyed_there_and_both_token_keys_sign_their_crls() {
    use common::token::{TOKEN, list_objects, softhsm};
    let env = Env::new();
    softhsm(&env);
    let uri = |label: &str| format!("pkcs11:token={TOKEN};object={label}");
    env.init_ca_with(
        "pki",
        &cli("--key p256 --crl-url http://pki.example.com/ca.crl"),
    );
    env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
    std::fs::copy(env.path("pki/ca.pem"), env.path("old.pem")).expect("copy");
    // A key file CA is not re-keyed onto a token in one step: it is moved first.
    let err = env.fails(
        "certkit-ca",
        &[
            "rekey",
            "--ca",
            "pki",
            "--pkcs11",
            &uri("CA-2"),
            "--ca-pass",
            "env:CA_PW",
            "--crl-url",
            "http://pki.example.com/ca-2.crl",
        ],
        2,
    );
    assert_contains(&err, &["move-key"]);
    env.ok(
        "certkit-ca",
        &[
            "move-key",
            "--ca",
            "pki",
            "--pkcs11",
            &uri("CA-1"),
            "--ca-pass",
            "env:CA_PW",
            "--pin",
            "env:TOKEN_PIN",
        ],
    );
    let err = env.fails(
        "certkit-ca",
        &cli("rekey --ca pki --ca-pass env:TOKEN_PIN --crl-url http://pki.example.com/ca-2.crl"),
        2,
    );
    assert_contains(&err, &["--pkcs11"]);
    // The label is taken: nothing changes.
    env.fails(
        "certkit-ca",
        &[
            "rekey",
            "--ca",
            "pki",
            "--pkcs11",
            &uri("CA-1"),
            "--ca-pass",
            "env:TOKEN_PIN",
            "--crl-url",
            "http://pki.example.com/ca-2.crl",
        ],
        2,
    );
    assert_eq!(env.read("pki/ca.pem"), env.read("old.pem"));
    let report = env.json(
        "certkit-ca",
        &[
            "rekey",
            "--ca",
            "pki",
            "--pkcs11",
            &uri("CA-2"),
            "--ca-pass",
            "env:TOKEN_PIN",
            "--crl-url",
            "http://pki.example.com/ca-2.crl",
            "--json",
        ],
    );
    assert!(
        report["old_key_file"]
            .as_str()
            .expect("old")
            .contains("object=CA-1"),
        "{report}"
    );
    assert!(!env.path("pki/ca.key").exists());
    assert!(
        !env.path("pki/keys").exists(),
        "a token CA keeps no key files"
    );
    let objects = list_objects(&env);
    assert_contains(&objects, &["CA-1", "CA-2"]);
    env.issue(&cli(
        "client --ca pki --cn bob --out bob --key p256 --ca-pass env:TOKEN_PIN",
    ));
    std::fs::copy(env.path("pki/ca.pem"), env.path("new.pem")).expect("copy");
    let forward = report["cross_certificates"][1]["file"]
        .as_str()
        .expect("file")
        .to_string();
    env.openssl_ok(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        &forward,
        "-out",
        "old-by-new.pem",
    ]);
    assert_contains(
        &env.openssl_ok(&cli(
            "verify -x509_strict -CAfile new.pem -untrusted old-by-new.pem alice.pem",
        )),
        &["alice.pem: OK"],
    );
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    let crl = env.json(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:TOKEN_PIN", "--json"],
    );
    let old_crl = crl["earlier_keys"][0]["file"]
        .as_str()
        .expect("old crl")
        .to_string();
    assert_eq!(
        crl["earlier_keys"][0]["revoked"]
            .as_array()
            .expect("list")
            .len(),
        1
    );
    for (file, anchor) in [("pki/ca.crl", "new.pem"), (old_crl.as_str(), "old.pem")] {
        let out = env.tool(
            "openssl",
            &[
                "crl", "-inform", "DER", "-in", file, "-noout", "-CAfile", anchor,
            ],
        );
        assert!(
            text(&out.stderr).contains("verify OK"),
            "{file}: {}",
            text(&out.stderr)
        );
    }
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}

#[test]
fn an_intruder_who_drops_the_old_key_from_ca_json_stops_no_crl_unseen() {
    let env = Env::new();
    rekeyed(&env, &[]);
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    // Without the earlier key in ca.json, the old key's CRL (which lists alice) would no longer be signed.
    env.tampered("pki");
    let path = env.path("pki/ca.json");
    let mut settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("ca.json")).expect("json");
    settings
        .as_object_mut()
        .expect("object")
        .remove("earlier_keys");
    std::fs::write(&path, serde_json::to_vec_pretty(&settings).expect("json")).expect("write");
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(&text(&audit.stdout), &["settings-changed"]);
    let err = env.fails(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        1,
    );
    assert_contains(
        &err,
        &["ca.json", "the earlier keys none where the CA key signed"],
    );
}
