//! Revocation and CRLs: the CRL verified by the openssl CLI, `openssl verify -crl_check` and a TLS 1.2
//! handshake with CRL checking refusing the revoked client, CRL numbers, distribution points, and the
//! .cscfg allow-list edit.

mod common;

use common::*;

fn crl_number(env: &Env, crl: &str) -> String {
    let text = env.openssl_ok(&["crl", "-in", crl, "-inform", "DER", "-noout", "-crlnumber"]);
    text.trim().trim_start_matches("crlNumber=").to_string()
}

/// A CA with clients lost-laptop (revoked for keyCompromise) and alice, a server for localhost, and a
/// published CRL; returns the revoked certificate's issue JSON.
fn revoked_laptop(env: &Env) -> serde_json::Value {
    env.init_ca("pki");
    let lost = env.issue_client("pki", "lost-laptop", "lost");
    env.issue_client("pki", "alice", "alice");
    env.issue(&["server", "--ca", "pki", "--cn", "localhost", "--out", "srv"]);
    let out = env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            lost["serial"].as_str().expect("serial"),
            "--reason",
            "keyCompromise",
        ],
    );
    assert_contains(&out, &["Revoked", "keyCompromise", "certkit-ca crl"]);
    let crl = env.json(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
    );
    assert_eq!(crl["file"], "pki/ca.crl");
    assert_eq!(crl["revoked"], serde_json::json!([lost["serial"]]));
    lost
}

#[test]
fn the_crl_is_signed_v2_with_number_and_reason() {
    let env = Env::new();
    let lost = revoked_laptop(&env);
    // The CRL is signed by the CA, v2, with AKI, number, reason.
    assert_contains(
        &env.openssl_ok(&cli(
            "crl -in pki/ca.crl -inform DER -CAfile pki/ca.pem -noout",
        )),
        &["verify OK"],
    );
    let crl_text = env.openssl_ok(&cli("crl -in pki/ca.crl -inform DER -noout -text"));
    assert_contains(
        &crl_text,
        &[
            "Version 2 (0x1)",
            "X509v3 Authority Key Identifier",
            "X509v3 CRL Number",
            "Key Compromise",
            lost["serial"].as_str().expect("s"),
            "Next Update",
        ],
    );
}

#[test]
fn openssl_verify_with_the_crl_refuses_the_revoked_client() {
    let env = Env::new();
    revoked_laptop(&env);
    env.openssl_ok(&cli("crl -in pki/ca.crl -inform DER -out ca.crl.pem"));
    let revoked = env.openssl(&cli(
        "verify -crl_check -CAfile pki/ca.pem -CRLfile ca.crl.pem lost.pem",
    ));
    assert!(!revoked.status.success());
    assert_contains(
        &format!("{}{}", text(&revoked.stdout), text(&revoked.stderr)),
        &["certificate revoked"],
    );
    assert_contains(
        &env.openssl_ok(&cli(
            "verify -crl_check -CAfile pki/ca.pem -CRLfile ca.crl.pem alice.pem",
        )),
        &["alice.pem: OK"],
    );
}

#[test]
fn a_crl_checking_tls_server_refuses_the_revoked_client() {
    let env = Env::new();
    revoked_laptop(&env);
    // s_server spells the option -CRL; it reads the DER CRL certkit wrote, as published.
    let crl_args = ["-crl_check", "-CRL", "pki/ca.crl", "-CRLform", "DER"];
    let refused = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("lost.pem", "lost.key"),
        "pki/ca.pem",
        &crl_args,
    );
    assert!(
        !refused.ok,
        "revoked client got through:\n{}",
        refused.client_output
    );
    assert_contains(&refused.server_output, &["certificate revoked"]);
    let accepted = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("alice.pem", "alice.key"),
        "pki/ca.pem",
        &crl_args,
    );
    accepted.assert_ok();
}

#[test]
fn list_shows_the_revocation() {
    let env = Env::new();
    revoked_laptop(&env);
    // list shows the status.
    let list = env.json("certkit-ca", &["list", "--ca", "pki", "--json"]);
    let entry = list
        .as_array()
        .expect("a")
        .iter()
        .find(|e| e["cn"] == "lost-laptop")
        .expect("entry")
        .clone();
    assert_eq!(entry["status"], "revoked");
    assert_eq!(entry["revocation_reason"], "keyCompromise");
    assert_contains(
        &env.ok("certkit-ca", &["list", "--ca", "pki"]),
        &["revoked (keyCompromise)"],
    );
}

#[test]
fn crl_numbers_grow_and_pem_output_works() {
    let env = Env::new();
    env.init_ca("pki");
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(crl_number(&env, "pki/ca.crl"), "0x01");
    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --ca-pass env:CA_PW --out published.crl --days 7"),
    );
    assert_eq!(crl_number(&env, "published.crl"), "0x02");
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--pem"],
    );
    let pem = String::from_utf8(env.read("pki/ca.crl.pem")).expect("utf8");
    assert!(pem.starts_with("-----BEGIN X509 CRL-----"));
    assert_contains(
        &env.openssl_ok(&cli(
            "crl -in pki/ca.crl.pem -CAfile pki/ca.pem -noout -crlnumber",
        )),
        &["crlNumber=0x03", "verify OK"],
    );
    let out = env
        .cmd("certkit-ca")
        .args(["crl", "--ca", "pki", "--ca-pass", "env:WRONG"])
        .env("WRONG", "not the password")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        crl_number(&env, "pki/ca.crl"),
        "0x01",
        "a failed run must not replace the CRL"
    );
}

#[test]
fn crl_url_goes_into_issued_certificates() {
    let env = Env::new();
    env.ok(
        "certkit-ca",
        &cli(
            "init --ca pki --cn CA --crl-url http://pki.example.com/ca.crl --ca-pass \
            env:CA_PW",
        ),
    );
    env.issue_client("pki", "alice", "alice");
    let text = env.x509_text("alice.pem");
    assert_eq!(
        extension(&text, "X509v3 CRL Distribution Points").map(|_| ()),
        Some(())
    );
    assert_contains(&text, &["URI:http://pki.example.com/ca.crl"]);
    env.ok(
        "certkit-issue",
        &cli("server --ca pki --cn s.example.com --crl-url \
            http://other.example.com/x.crl --out s --ca-pass env:CA_PW --key-pass \
            env:KEY_PW"),
    );
    assert_contains(
        &env.x509_text("s.pem"),
        &["URI:http://other.example.com/x.crl"],
    );
    assert!(!env.x509_text("pki/ca.pem").contains("CRL Distribution"));
    env.fails(
        "certkit-ca",
        &cli("init --ca bad --cn CA --crl-url 'not a url' --ca-pass env:CA_PW"),
        2,
    );
}

#[test]
fn revoke_with_cscfg_removes_exactly_that_thumbprint() {
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
    for cn in ["alice", "bob", "carol"] {
        env.issue_client("pki", cn, cn);
    }
    env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --allow alice.cer --allow bob.cer --allow carol.cer"),
    );
    let before = String::from_utf8(env.read("svc.cscfg")).expect("utf8");
    let bob = env.openssl_thumbprint("bob.pem");
    let json = env.json(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason affiliationChanged --cscfg svc.cscfg --json"),
    );
    assert_eq!(json["removed_from_cscfg"], true);
    let after = String::from_utf8(env.read("svc.cscfg")).expect("utf8");
    assert_eq!(after, before.replace(&format!(",{bob}"), ""));
    // Revoking twice, or an unknown serial, is a clear error.
    let err = env.fails("certkit-ca", &["revoke", "--ca", "pki", &bob], 2);
    assert_contains(&err, &["already revoked", "affiliationChanged"]);
    let err = env.fails(
        "certkit-ca",
        &["revoke", "--ca", "pki", "0123456789ABCDEF"],
        2,
    );
    assert_contains(&err, &["not in the inventory"]);
    // Renewing a revoked certificate is refused.
    let err = env.fails(
        "certkit-issue",
        &cli("renew --ca pki bob.cer --out bob2 --ca-pass env:CA_PW --key-pass env:KEY_PW"),
        2,
    );
    assert_contains(&err, &["was revoked"]);
    // The revocation is recorded first; a broken .cscfg is reported afterwards (exit 2) and the revocation
    // stands.
    std::fs::write(env.path("broken.cscfg"), "<ServiceConfiguration").expect("write");
    let out = env.run(
        "certkit-ca",
        &cli("revoke --ca pki carol.cer --cscfg broken.cscfg --json"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_contains(
        &err,
        &cli("broken.cscfg 'malformed XML' 'the revocation of' stands"),
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["removed_from_cscfg"], false);
    assert!(
        shown["cscfg_error"]
            .as_str()
            .expect("error")
            .contains("malformed XML")
    );
    let carol = env
        .list("pki")
        .into_iter()
        .find(|e| e["cn"] == "carol")
        .expect("carol");
    assert_eq!(carol["status"], "revoked");
    assert_eq!(env.read("broken.cscfg"), b"<ServiceConfiguration");
}
