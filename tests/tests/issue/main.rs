//! `certkit-issue`: every profile parsed by the openssl CLI, chains verified, a real TLS 1.2 mutual-auth
//! handshake, CSR signing, clean failures, and parallel issuance against one CA.

mod ad_mapping;
#[path = "../common/mod.rs"]
mod common;
mod profiles;
mod refusals;

use common::*;

const KEY_ARGS: [&str; 4] = ["--ca-pass", "env:CA_PW", "--key-pass", "env:KEY_PW"];

fn ski(text: &str) -> String {
    extension(text, "X509v3 Subject Key Identifier")
        .expect("SKI")
        .split(" | ")
        .nth(1)
        .expect("value")
        .to_string()
}

fn aki(text: &str) -> String {
    extension(text, "X509v3 Authority Key Identifier")
        .expect("AKI")
        .split(" | ")
        .nth(1)
        .expect("value")
        .trim_start_matches("keyid:")
        .to_string()
}

fn inventory_lines(env: &Env, ca: &str) -> usize {
    String::from_utf8(env.read(&format!("{ca}/inventory.jsonl")))
        .expect("utf8")
        .lines()
        .count()
}

#[test]
fn server_profile_has_every_documented_extension() {
    let env = Env::new();
    env.init_ca("pki");
    let json = env.issue(&cli(
        "server --ca pki --cn myservice.cloudapp.net --dns *.cloudapp.net --dns \
        www.example.com --ip 127.0.0.1 --out ssl",
    ));
    let text = env.x509_text("ssl.pem");
    assert_contains(
        &text,
        &cli(
            "'Version: 3 (0x2)' 'Signature Algorithm: sha256WithRSAEncryption' \
            'Issuer: CN = Test CA' 'Subject: CN = myservice.cloudapp.net' \
            'Public-Key: (2048 bit)'",
        ),
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:FALSE")
    );
    assert_eq!(
        extension(&text, "X509v3 Key Usage").as_deref(),
        Some("X509v3 Key Usage: critical | Digital Signature, Key Encipherment")
    );
    assert_eq!(
        extension(&text, "X509v3 Extended Key Usage").as_deref(),
        Some("X509v3 Extended Key Usage: | TLS Web Server Authentication")
    );
    assert_eq!(
        extension(&text, "X509v3 Subject Alternative Name").as_deref(),
        Some(
            "X509v3 Subject Alternative Name: | DNS:myservice.cloudapp.net, DNS:*.cloudapp.net, DNS:www.example.com, IP Address:127.0.0.1"
        )
    );
    assert_eq!(
        aki(&text),
        ski(&env.x509_text("pki/ca.pem")),
        "AKI must equal the CA's SKI"
    );
    assert_ne!(ski(&text), aki(&text));
    assert_eq!(
        json["thumbprint"],
        env.openssl_thumbprint("ssl.pem").as_str()
    );
    assert_eq!(
        json["thumbprint"],
        env.openssl_thumbprint("ssl.cer").as_str()
    );
    assert_eq!(json["profile"], "server");
    assert_eq!(
        json["config_line"],
        format!(
            r#"<Certificate name="SSL" thumbprint="{}" thumbprintAlgorithm="sha1" />"#,
            json["thumbprint"].as_str().expect("t")
        )
    );
    let serial = json["serial"].as_str().expect("serial");
    assert_eq!(serial.len(), 32);
    assert!(u8::from_str_radix(&serial[..2], 16).expect("hex") < 0x80);
    assert_contains(
        &env.openssl_ok(&cli(
            "verify -x509_strict -purpose sslserver -CAfile pki/ca.pem ssl.pem",
        )),
        &["ssl.pem: OK"],
    );
    // The key file is encrypted, 0600, and is the certificate's key.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(env.path("ssl.key"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        env.openssl_ok(&["pkey", "-in", "ssl.key", "-passin", "env:KEY_PW", "-pubout"]),
        env.openssl_ok(&["x509", "-in", "ssl.pem", "-noout", "-pubkey"])
    );
}

#[test]
fn client_profile_and_text_output() {
    let env = Env::new();
    env.init_ca("pki");
    let out = env.ok(
        "certkit-issue",
        &cli(
            "client --ca pki --cn 'Alice Smith' --email alice@example.com --out alice \
            --ca-pass env:CA_PW --key-pass env:KEY_PW",
        ),
    );
    let text = env.x509_text("alice.pem");
    assert_eq!(
        extension(&text, "X509v3 Extended Key Usage").as_deref(),
        Some("X509v3 Extended Key Usage: | TLS Web Client Authentication")
    );
    assert_eq!(
        extension(&text, "X509v3 Key Usage").as_deref(),
        Some("X509v3 Key Usage: critical | Digital Signature, Key Encipherment")
    );
    assert_eq!(
        extension(&text, "X509v3 Subject Alternative Name").as_deref(),
        Some("X509v3 Subject Alternative Name: | email:alice@example.com")
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:FALSE")
    );
    assert_contains(
        &env.openssl_ok(&cli(
            "verify -x509_strict -purpose sslclient -CAfile pki/ca.pem alice.pem",
        )),
        &["alice.pem: OK"],
    );
    let thumb = env.openssl_thumbprint("alice.cer");
    assert_contains(
        &out,
        &[
            &format!("thumbprint  {thumb}"),
            "AllowedClientCertificateThumbprints",
            "subject     CN=Alice Smith",
            "SANs        email:alice@example.com",
        ],
    );
    assert!(!out.contains(KEY_PW) && !out.contains(CA_PW));
}

#[test]
fn encryption_profile_and_ec_keys() {
    let env = Env::new();
    env.init_ca("pki");
    let json = env.issue(&cli("encryption --ca pki --cn DataEnc --out enc"));
    let text = env.x509_text("enc.pem");
    assert_eq!(
        extension(&text, "X509v3 Key Usage").as_deref(),
        Some("X509v3 Key Usage: critical | Key Encipherment, Data Encipherment")
    );
    assert_eq!(
        extension(&text, "X509v3 Extended Key Usage").as_deref(),
        Some("X509v3 Extended Key Usage: | 1.3.6.1.4.1.311.80.1")
    );
    assert!(extension(&text, "X509v3 Subject Alternative Name").is_none());
    assert_eq!(
        json["config_line"],
        format!(
            r#"<Certificate name="DataEncryptionPrimary" thumbprint="{}" thumbprintAlgorithm="sha1" />"#,
            env.openssl_thumbprint("enc.pem")
        )
    );
    // EC keys never get key or data encipherment.
    env.issue(&cli("client --ca pki --cn ec --key p256 --out ec"));
    let ec = env.x509_text("ec.pem");
    assert_contains(
        &ec,
        &[
            "NIST CURVE: P-256",
            "Signature Algorithm: sha256WithRSAEncryption",
        ],
    );
    assert_eq!(
        extension(&ec, "X509v3 Key Usage").as_deref(),
        Some("X509v3 Key Usage: critical | Digital Signature")
    );
    // --eku adds OIDs.
    env.issue(&cli(
        "client --ca pki --cn mail --eku 1.3.6.1.5.5.7.3.4 --out mail",
    ));
    assert_eq!(
        extension(&env.x509_text("mail.pem"), "X509v3 Extended Key Usage").as_deref(),
        Some("X509v3 Extended Key Usage: | TLS Web Client Authentication, E-mail Protection")
    );
}

#[test]
fn self_signed_certificates_verify_against_themselves_and_are_not_recorded() {
    let env = Env::new();
    let json = env.issue(&cli(
        "server --self-signed --cn myservice.cloudapp.net --out ssl",
    ));
    assert_eq!(json["self_signed"], true);
    let text = env.x509_text("ssl.pem");
    assert_contains(
        &text,
        &[
            "Issuer: CN = myservice.cloudapp.net",
            "Subject: CN = myservice.cloudapp.net",
        ],
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:FALSE")
    );
    assert_contains(
        &env.openssl_ok(&cli("verify -purpose sslserver -CAfile ssl.pem ssl.pem")),
        &["ssl.pem: OK"],
    );
    env.issue(&["encryption", "--self-signed", "--cn", "enc", "--out", "enc"]);
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "enc.pem", "enc.pem"]),
        &["enc.pem: OK"],
    );
    // client certificates are always CA-signed
    let out = env.run(
        "certkit-issue",
        &cli("client --self-signed --cn x --out x --key-pass env:KEY_PW"),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tls12_mutual_auth_handshake_accepts_our_client_and_refuses_a_foreign_one() {
    let env = Env::new();
    env.init_ca("pki");
    env.init_ca("other");
    env.issue(&cli(
        "server --ca pki --cn localhost --ip 127.0.0.1 --out srv",
    ));
    env.issue(&["client", "--ca", "pki", "--cn", "alice", "--out", "alice"]);
    env.issue(&cli("client --ca other --cn mallory --out mallory"));
    let good = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("alice.pem", "alice.key"),
        "pki/ca.pem",
        &[],
    );
    good.assert_ok();
    assert_contains(
        &good.client_output,
        &["Protocol  : TLSv1.2", "Verify return code: 0 (ok)"],
    );
    let bad = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("mallory.pem", "mallory.key"),
        "pki/ca.pem",
        &[],
    );
    assert!(
        !bad.ok,
        "a client from another CA got through:\n{}",
        bad.client_output
    );
    assert!(!bad.client_output.contains("HTTP/1.0 200 ok"));
    // Refused by the server for the reason that matters: it could not chain mallory to our CA.
    assert_contains(
        &bad.server_output,
        &["unable to get local issuer certificate"],
    );
}

#[test]
fn csr_is_signed_and_the_key_stays_with_the_requester() {
    let env = Env::new();
    env.init_ca("pki");
    env.openssl_ok(&cli("req -new -newkey rsa:2048 -nodes -keyout bob.key -subj '/CN=Bob/O=Evil Corp' -addext basicConstraints=critical,CA:TRUE -addext subjectAltName=DNS:evil.example -out bob.csr"));
    let json = env.json(
        "certkit-issue",
        &cli(
            "sign --ca pki --csr bob.csr --profile client --out bob --ca-pass \
            env:CA_PW --json",
        ),
    );
    assert!(!env.path("bob.key.pem").exists());
    assert_eq!(
        env.listing(".")
            .iter()
            .filter(|n| n.starts_with("bob"))
            .cloned()
            .collect::<Vec<_>>(),
        ["bob.cer", "bob.csr", "bob.key", "bob.pem"]
    );
    assert_eq!(
        env.openssl_ok(&["pkey", "-in", "bob.key", "-pubout"]),
        env.openssl_ok(&["x509", "-in", "bob.pem", "-noout", "-pubkey"])
    );
    let text = env.x509_text("bob.pem");
    assert_contains(&text, &["Subject: CN = Bob"]);
    assert!(
        !text.contains("evil.example") && !text.contains("Evil Corp"),
        "request content leaked:\n{text}"
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:FALSE")
    );
    assert_contains(
        &env.openssl_ok(&cli("verify -purpose sslclient -CAfile pki/ca.pem bob.pem")),
        &["bob.pem: OK"],
    );
    assert_eq!(json["profile"], "client");
    // A DER request works too.
    env.openssl_ok(&cli("req -in bob.csr -outform DER -out bob.der"));
    env.ok(
        "certkit-issue",
        &cli(
            "sign --ca pki --csr bob.der --profile server --dns bob.example.com --out \
            bob2 --ca-pass env:CA_PW",
        ),
    );
    assert_contains(
        &env.x509_text("bob2.pem"),
        &["DNS:Bob", "DNS:bob.example.com"],
    );
}

/// A failed `certkit-issue client` in `env` with the CA in pki: the exit code and stderr, after checking that
/// no output file was written and nothing was recorded.
fn refused(env: &Env, args: &[&str], code: i32) -> String {
    let before = inventory_lines(env, "pki");
    let err = env.fails("certkit-issue", args, code);
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
    assert_eq!(
        inventory_lines(env, "pki"),
        before,
        "something was recorded"
    );
    err
}

fn client_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["client", "--ca", "pki", "--cn", "a", "--out", "a"];
    args.extend_from_slice(extra);
    args
}
