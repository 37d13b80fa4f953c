//! `certkit-issue`: every profile parsed by the openssl CLI, chains verified, a real TLS 1.2 mutual-auth
//! handshake, CSR signing, clean failures, and parallel issuance against one CA.

mod common;

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
    let json = env.issue(&[
        "server",
        "--ca",
        "pki",
        "--cn",
        "myservice.cloudapp.net",
        "--dns",
        "*.cloudapp.net",
        "--dns",
        "www.example.com",
        "--ip",
        "127.0.0.1",
        "--out",
        "ssl",
    ]);
    let text = env.x509_text("ssl.pem");
    assert_contains(
        &text,
        &[
            "Version: 3 (0x2)",
            "Signature Algorithm: sha256WithRSAEncryption",
            "Issuer: CN = Test CA",
            "Subject: CN = myservice.cloudapp.net",
            "Public-Key: (2048 bit)",
        ],
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
        &env.openssl_ok(&[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-CAfile",
            "pki/ca.pem",
            "ssl.pem",
        ]),
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
        &[
            "client",
            "--ca",
            "pki",
            "--cn",
            "Alice Smith",
            "--email",
            "alice@example.com",
            "--out",
            "alice",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ],
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
        &env.openssl_ok(&[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            "pki/ca.pem",
            "alice.pem",
        ]),
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
    let json = env.issue(&[
        "encryption",
        "--ca",
        "pki",
        "--cn",
        "DataEnc",
        "--out",
        "enc",
    ]);
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
    env.issue(&[
        "client", "--ca", "pki", "--cn", "ec", "--key", "p256", "--out", "ec",
    ]);
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
    env.issue(&[
        "client",
        "--ca",
        "pki",
        "--cn",
        "mail",
        "--eku",
        "1.3.6.1.5.5.7.3.4",
        "--out",
        "mail",
    ]);
    assert_eq!(
        extension(&env.x509_text("mail.pem"), "X509v3 Extended Key Usage").as_deref(),
        Some("X509v3 Extended Key Usage: | TLS Web Client Authentication, E-mail Protection")
    );
}

#[test]
fn self_signed_certificates_verify_against_themselves_and_are_not_recorded() {
    let env = Env::new();
    let json = env.issue(&[
        "server",
        "--self-signed",
        "--cn",
        "myservice.cloudapp.net",
        "--out",
        "ssl",
    ]);
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
        &env.openssl_ok(&[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            "ssl.pem",
            "ssl.pem",
        ]),
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
        &[
            "client",
            "--self-signed",
            "--cn",
            "x",
            "--out",
            "x",
            "--key-pass",
            "env:KEY_PW",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tls12_mutual_auth_handshake_accepts_our_client_and_refuses_a_foreign_one() {
    let env = Env::new();
    env.init_ca("pki");
    env.init_ca("other");
    env.issue(&[
        "server",
        "--ca",
        "pki",
        "--cn",
        "localhost",
        "--ip",
        "127.0.0.1",
        "--out",
        "srv",
    ]);
    env.issue(&["client", "--ca", "pki", "--cn", "alice", "--out", "alice"]);
    env.issue(&[
        "client", "--ca", "other", "--cn", "mallory", "--out", "mallory",
    ]);
    let good = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("alice.pem", "alice.key"),
        "pki/ca.pem",
        &[],
    );
    assert!(
        good.ok,
        "client:\n{}\nserver:\n{}",
        good.client_output, good.server_output
    );
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
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "bob.key",
        "-subj",
        "/CN=Bob/O=Evil Corp",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "subjectAltName=DNS:evil.example",
        "-out",
        "bob.csr",
    ]);
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
        &env.openssl_ok(&[
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            "pki/ca.pem",
            "bob.pem",
        ]),
        &["bob.pem: OK"],
    );
    assert_eq!(json["profile"], "client");
    // A DER request works too.
    env.openssl_ok(&[
        "req", "-in", "bob.csr", "-outform", "DER", "-out", "bob.der",
    ]);
    env.ok(
        "certkit-issue",
        &[
            "sign",
            "--ca",
            "pki",
            "--csr",
            "bob.der",
            "--profile",
            "server",
            "--dns",
            "bob.example.com",
            "--out",
            "bob2",
            "--ca-pass",
            "env:CA_PW",
        ],
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

#[test]
fn a_wrong_ca_password_writes_and_records_nothing() {
    let env = Env::new();
    env.init_ca("pki");
    let out = env
        .cmd("certkit-issue")
        .args(client_args(&[
            "--ca-pass",
            "env:WRONG",
            "--key-pass",
            "env:KEY_PW",
        ]))
        .env("WRONG", "wrong password!!")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["wrong password", "pki/ca.key"]);
    assert!(!env.path("a.cer").exists() && !env.path("a.key").exists());
    assert_eq!(inventory_lines(&env, "pki"), 0);
}

#[test]
fn a_date_past_the_ca_or_in_the_past_is_refused() {
    let env = Env::new();
    env.init_ca("pki");
    let err = refused(
        &env,
        &client_args(&[
            "--days",
            "5000",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ]),
        2,
    );
    assert_contains(&err, &["outlive its CA", "expires on"]);
    refused(
        &env,
        &client_args(&[
            "--expires",
            "2020-01-01",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ]),
        2,
    );
}

#[test]
fn malformed_and_tampered_requests_are_refused() {
    let env = Env::new();
    env.init_ca("pki");
    let sign = |csr: &'static str| -> [&'static str; 11] {
        [
            "sign",
            "--ca",
            "pki",
            "--csr",
            csr,
            "--profile",
            "client",
            "--out",
            "a",
            "--ca-pass",
            "env:CA_PW",
        ]
    };
    std::fs::write(
        env.path("junk.csr"),
        "-----BEGIN CERTIFICATE REQUEST-----\nnotbase64\n-----END CERTIFICATE REQUEST-----\n",
    )
    .expect("write");
    let err = refused(&env, &sign("junk.csr"), 2);
    assert_contains(&err, &["junk.csr", "not a certificate signing request"]);
    env.openssl_ok(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "r.key", "-subj", "/CN=r",
        "-outform", "DER", "-out", "r.der",
    ]);
    let mut der = env.read("r.der");
    let last = der.len() - 5;
    der[last] ^= 0xFF;
    std::fs::write(env.path("tampered.der"), der).expect("write");
    let err = refused(&env, &sign("tampered.der"), 2);
    assert_contains(&err, &["signature does not verify"]);
}

#[test]
fn bad_names_are_refused() {
    let env = Env::new();
    env.init_ca("pki");
    refused(
        &env,
        &[
            "server",
            "--ca",
            "pki",
            "--cn",
            "not a host",
            "--out",
            "a",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ],
        2,
    );
    refused(
        &env,
        &client_args(&[
            "--email",
            "nope",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ]),
        2,
    );
}

#[test]
fn a_missing_ca_names_certkit_ca_init() {
    let env = Env::new();
    let err = env.fails(
        "certkit-issue",
        &[
            "client",
            "--ca",
            "nope",
            "--cn",
            "a",
            "--out",
            "a",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ],
        2,
    );
    assert_contains(&err, &["certkit-ca init"]);
    assert!(!env.path("a.cer").exists());
}

#[test]
fn an_existing_output_is_never_overwritten() {
    let env = Env::new();
    env.init_ca("pki");
    std::fs::write(env.path("taken.pem"), "mine").expect("write");
    env.fails(
        "certkit-issue",
        &[
            "client",
            "--ca",
            "pki",
            "--cn",
            "a",
            "--out",
            "taken",
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
        ],
        1,
    );
    assert_eq!(env.read("taken.pem"), b"mine");
    assert!(!env.path("taken.cer").exists());
    assert_eq!(inventory_lines(&env, "pki"), 0);
}

#[test]
fn expired_and_non_ca_issuers_are_refused() {
    let env = Env::new();
    for (dir, mode, needle) in [
        ("old", "expired", "expired on"),
        ("leaf", "not-ca", "not a CA certificate"),
    ] {
        env.init_ca(dir);
        let forged = env.tool("python3", &[&peer("forge_ca.py"), dir, mode]);
        env.tampered(dir);
        assert!(forged.status.success(), "{}", text(&forged.stderr));
        let err = env.fails(
            "certkit-issue",
            &[
                "client",
                "--ca",
                dir,
                "--cn",
                "a",
                "--out",
                "a",
                "--ca-pass",
                "env:CA_PW",
                "--key-pass",
                "env:KEY_PW",
            ],
            1,
        );
        assert_contains(&err, &[needle]);
        assert!(!env.path("a.cer").exists());
        assert_eq!(inventory_lines(&env, dir), 0);
    }
}

#[test]
fn eight_parallel_issues_all_land_in_the_inventory() {
    let env = Env::new();
    env.init_ca("pki");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let cn = format!("person{i}");
            env.cmd("certkit-issue")
                .args([
                    "client", "--ca", "pki", "--cn", &cn, "--out", &cn, "--key", "p256",
                ])
                .args(KEY_ARGS)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    let list = env.list("pki");
    assert_eq!(list.len(), 8);
    let mut cns: Vec<&str> = list.iter().map(|e| e["cn"].as_str().expect("cn")).collect();
    cns.sort();
    assert_eq!(
        cns,
        (0..8).map(|i| format!("person{i}")).collect::<Vec<_>>()
    );
    for entry in &list {
        let cn = entry["cn"].as_str().expect("cn");
        assert_eq!(
            entry["thumbprint"],
            env.openssl_thumbprint(&format!("{cn}.pem")).as_str()
        );
        assert_eq!(entry["status"], "valid");
        let serial = entry["serial"].as_str().expect("serial");
        assert!(env.path(&format!("pki/issued/{serial}.cer")).exists());
    }
}

#[test]
fn list_filters_and_orders_newest_first() {
    let env = Env::new();
    env.init_ca("pki");
    env.issue(&[
        "client", "--ca", "pki", "--cn", "first", "--key", "p256", "--out", "first",
    ]);
    env.issue(&[
        "server",
        "--ca",
        "pki",
        "--cn",
        "srv.example.com",
        "--key",
        "p256",
        "--days",
        "10",
        "--out",
        "srv",
    ]);
    env.issue(&[
        "client", "--ca", "pki", "--cn", "last", "--key", "p256", "--out", "last",
    ]);
    let all = env.json("certkit-ca", &["list", "--ca", "pki", "--json"]);
    let cns: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["cn"].as_str().expect("cn"))
        .collect();
    assert_eq!(cns, ["last", "srv.example.com", "first"]);
    for field in [
        "serial",
        "subject",
        "profile",
        "sans",
        "not_before",
        "not_after",
        "thumbprint",
        "status",
    ] {
        assert!(all[0].get(field).is_some(), "missing {field}");
    }
    let clients = env.json(
        "certkit-ca",
        &["list", "--ca", "pki", "--json", "--profile", "client"],
    );
    assert_eq!(clients.as_array().expect("array").len(), 2);
    let soon = env.json(
        "certkit-ca",
        &["list", "--ca", "pki", "--json", "--expiring-within", "30"],
    );
    assert_eq!(soon.as_array().expect("array").len(), 1);
    assert_eq!(soon[0]["sans"][0], "DNS:srv.example.com");
    let table = env.ok("certkit-ca", &["list", "--ca", "pki"]);
    assert_contains(&table, &["SERIAL", "THUMBPRINT", "CN=first", "valid"]);
}
