//! The CA key on a PKCS#11 token (SoftHSM2, checked with OpenSC's pkcs11-tool and the openssl CLI): init on
//! the token, every signing command, a real TLS handshake, the key's protection on the token, wrong PINs,
//! and moving a file key onto a token.

mod common;

use common::token::{TOKEN, TOKEN_PIN, list_objects, module, private_key_access, softhsm};
use common::*;

fn uri(label: &str) -> String {
    format!("pkcs11:token={TOKEN};object={label}")
}

/// Every file under `dir`, read: no PIN may be in any of them.
fn assert_no_pin_in(env: &Env, dir: &str) {
    for entry in std::fs::read_dir(env.path(dir)).expect("folder").flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(TOKEN_PIN),
                "{} holds the PIN",
                entry.path().display()
            );
        }
    }
}

fn verify_strict(env: &Env, ca: &str, cert: &str) {
    let out = env.openssl_ok(&["verify", "-x509_strict", "-CAfile", ca, cert]);
    assert_contains(&out, &[&format!("{cert}: OK")]);
}

/// A token CA of `key` type does all the guide's work: every certificate verifies with openssl against the
/// CA certificate the token signed, and the key on the token is sensitive and never extractable.
fn token_ca_does_everything(key: &str) {
    let env = Env::new();
    softhsm(&env);
    // rsa2048 names the module; p256 finds SoftHSM2 where Debian installs it.
    let mut init = vec![
        "init",
        "--ca",
        "pki",
        "--cn",
        "Token CA",
        "--key",
        key,
        "--ca-pass",
        "env:TOKEN_PIN",
        "--json",
    ];
    let label = format!("CA-{key}");
    let token_uri = uri(&label);
    let module = module();
    init.extend(["--pkcs11", &token_uri]);
    if key == "rsa2048" {
        init.extend(["--pkcs11-module", &module]);
    }
    let made = env.run("certkit-ca", &init);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let created: serde_json::Value = serde_json::from_slice(&made.stdout).expect("json");
    // Said in one line: a key made on the token has no backup, and how to have one.
    let warned = text(&made.stderr);
    assert_eq!(warned.trim().lines().count(), 1, "{warned}");
    assert_contains(&warned, &["has no backup", "--backup-shares"]);
    // And a backup is refused for it.
    let err = env.fails(
        "certkit-ca",
        &cli("backup --ca pki --shares 3 --threshold 2 --share-dir shares"),
        2,
    );
    assert_contains(&err, &["on a token and cannot be read out"]);
    assert_eq!(created["key_location"]["storage"], "pkcs11");
    assert_eq!(created["key_location"]["origin"], "made-on-token");
    assert_eq!(created["key_location"]["token"]["label"], TOKEN);
    assert!(!env.path("pki/ca.key").exists(), "a token CA has no ca.key");
    let settings: serde_json::Value =
        serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
    let recorded = settings["pkcs11"]["uri"].as_str().expect("uri");
    assert!(
        recorded.starts_with(&format!("{token_uri};id=")),
        "{recorded}"
    );
    assert_no_pin_in(&env, "pki");
    verify_strict(&env, "pki/ca.pem", "pki/ca.pem");
    let access = private_key_access(&env, &label);
    assert!(access.contains(&"sensitive".to_string()), "{access:?}");
    assert!(
        access.contains(&"never extractable".to_string()),
        "{access:?}"
    );
    assert!(!access.contains(&"extractable".to_string()), "{access:?}");
    assert_contains(
        &list_objects(&env),
        &["Certificate Object; type = X.509 cert", "DN: CN=Token CA"],
    );

    // The PIN goes where a CA password goes: every script for a file CA works unchanged.
    fn with_pin<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--ca-pass", "env:TOKEN_PIN"]);
        all
    }
    env.issue(&with_pin(&cli(
        "server --ca pki --cn localhost --ip 127.0.0.1 --out srv",
    )));
    env.issue(&with_pin(&cli(
        "client --ca pki --cn alice --out alice --pfx",
    )));
    env.issue(&with_pin(&cli(
        "encryption --ca pki --cn 'Data Encryption' --out enc",
    )));
    env.openssl_p256_csr("bob", "/CN=bob");
    env.json(
        "certkit-issue",
        &with_pin(&cli(
            "sign --ca pki --csr bob.csr --profile client --out bob --json",
        )),
    );
    std::fs::write(env.path("people.csv"), "cn\ncarol\ndave\nerin\n").expect("csv");
    let batch = env.issue(&with_pin(&cli(
        "client --ca pki --batch people.csv --out-dir team --key p256 --jobs 2",
    )));
    assert_eq!(batch["issued"], 3);
    for cert in [
        "srv.pem",
        "alice.pem",
        "enc.pem",
        "bob.pem",
        "team/carol.pem",
        "team/dave.pem",
        "team/erin.pem",
    ] {
        verify_strict(&env, "pki/ca.pem", cert);
    }
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "team/dave.pem"]);
    env.ok("certkit-ca", &with_pin(&["crl", "--ca", "pki"]));
    assert_contains(
        &env.openssl_ok(&cli(
            "crl -in pki/ca.crl -inform DER -CAfile pki/ca.pem -noout",
        )),
        &["verify OK"],
    );
    let shake = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("alice.pem", "alice.key"),
        "pki/ca.pem",
        &[],
    );
    shake.assert_ok();
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(shown["key_location"]["uri"], recorded);
    assert_eq!(shown["key_location"]["token"]["label"], TOKEN);
    assert_eq!(shown["key_location"]["module"], module.as_str());

    // A wrong PIN: one attempt, a one-line error, exit 2, nothing written.
    let inventory = env.read("pki/inventory.jsonl");
    env.set_var("TOKEN_PIN", "wrong pin 0000");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&with_pin(&cli("client --ca pki --cn frank --out frank"))),
        2,
    );
    assert_contains(&err, &["the token refused the PIN", "never retries"]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!env.path("frank.cer").exists() && !env.path("frank.key").exists());
    assert_eq!(env.read("pki/inventory.jsonl"), inventory);
    env.set_var("TOKEN_PIN", TOKEN_PIN);
}

#[test]
fn an_rsa2048_token_ca_issues_everything_the_guide_needs() {
    token_ca_does_everything("rsa2048");
}

#[test]
fn a_p256_token_ca_issues_everything_the_guide_needs() {
    token_ca_does_everything("p256");
}

#[test]
fn move_key_keeps_the_certificate_and_removes_ca_key_only_after_the_token_signs() {
    let env = Env::new();
    softhsm(&env);
    for key in ["rsa2048", "p256"] {
        let ca = format!("file-{key}");
        env.init_ca_with(&ca, &["--key", key]);
        let ca_pem = env.read(&format!("{ca}/ca.pem"));
        let ca_key = env.read(&format!("{ca}/ca.key"));
        let thumbprint = env.openssl_thumbprint(&format!("{ca}/ca.pem"));
        let label = format!("Moved-{key}");
        let move_key = |pin: &str| {
            vec![
                "move-key".to_string(),
                "--ca".into(),
                ca.clone(),
                "--pkcs11".into(),
                uri(&label),
                "--ca-pass".into(),
                "env:CA_PW".into(),
                "--pin".into(),
                pin.into(),
                "--json".into(),
            ]
        };
        // A wrong PIN moves nothing.
        env.set_var("WRONG_PIN", "wrong pin 0000");
        let args = move_key("env:WRONG_PIN");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = env.fails("certkit-ca", &args, 2);
        assert_contains(&err, &["the token refused the PIN"]);
        assert_eq!(env.read(&format!("{ca}/ca.key")), ca_key);
        assert!(!list_objects(&env).contains(&label));

        let args = move_key("env:TOKEN_PIN");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let moved = env.json("certkit-ca", &args);
        assert_eq!(moved["thumbprint"], thumbprint.as_str());
        assert!(!env.path(&format!("{ca}/ca.key")).exists());
        assert_eq!(
            env.read(&format!("{ca}/ca.pem")),
            ca_pem,
            "the CA certificate is unchanged"
        );
        let access = private_key_access(&env, &label);
        assert!(access.contains(&"sensitive".to_string()), "{access:?}");
        assert!(!access.contains(&"extractable".to_string()), "{access:?}");
        assert_no_pin_in(&env, &ca);

        let out = format!("after-{key}");
        env.issue(&[
            "client",
            "--ca",
            &ca,
            "--cn",
            "after the move",
            "--out",
            &out,
            "--ca-pass",
            "env:TOKEN_PIN",
        ]);
        verify_strict(&env, &format!("{ca}/ca.pem"), &format!("{out}.pem"));

        // Moving again: there is nothing left to move.
        let err = env.fails("certkit-ca", &args, 2);
        assert_contains(&err, &["on a token already"]);

        // A ca.key beside the token key (a move that stopped before removing it) is reported by the audit, and
        // a second move-key removes it without its password.
        std::fs::write(env.path(&format!("{ca}/ca.key")), &ca_key).expect("write");
        let audit = env.json("certkit-ca", &["audit", "--ca", &ca, "--json"]);
        let codes: Vec<&str> = audit["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(codes.contains(&"key-file-beside-token"), "{codes:?}");
        env.ok(
            "certkit-ca",
            &[
                "move-key",
                "--ca",
                &ca,
                "--pkcs11",
                &uri(&label),
                "--pin",
                "env:TOKEN_PIN",
            ],
        );
        assert!(!env.path(&format!("{ca}/ca.key")).exists());
    }
}

#[test]
fn token_problems_are_one_line_errors_that_write_nothing() {
    let env = Env::new();
    softhsm(&env);
    std::fs::write(env.path("not-a-module.so"), "not a shared library").expect("write");
    fn init<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = cli("init --ca pki --cn X --key p256 --ca-pass env:TOKEN_PIN");
        args.extend_from_slice(extra);
        args
    }
    let token_uri = uri("CA");
    let missing_token = "pkcs11:token=no-such-token;object=CA".to_string();
    let module = module();
    for (extra, says) in [
        (
            vec!["--pkcs11", &token_uri, "--pkcs11-module", "not-a-module.so"],
            "cannot load the PKCS#11 module",
        ),
        (
            vec![
                "--pkcs11",
                &token_uri,
                "--pkcs11-module",
                "/nonexistent/module.so",
            ],
            "not found",
        ),
        (
            vec!["--pkcs11", &missing_token, "--pkcs11-module", &module],
            "no token labelled 'no-such-token'",
        ),
        (
            vec!["--pkcs11", "pkcs11:token=x;object=CA;pin-value=4321"],
            "pin-value is refused",
        ),
        (vec!["--pkcs11", "token=x"], "starts with 'pkcs11:'"),
        (vec!["--pkcs11-module", &module], "needs --pkcs11"),
    ] {
        let err = env.fails("certkit-ca", &init(&extra), 2);
        assert_contains(&err, &[says]);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            !err.contains("4321"),
            "a PIN in the URI was repeated: {err}"
        );
        assert!(
            !env.path("pki").exists(),
            "{extra:?} left {:?}",
            env.listing("pki")
        );
    }
    // CERTKIT_PKCS11_MODULE is used when no --pkcs11-module is given.
    env.set_var("CERTKIT_PKCS11_MODULE", "not-a-module.so");
    let err = env.fails("certkit-ca", &init(&["--pkcs11", &token_uri]), 2);
    assert_contains(&err, &["not-a-module.so"]);
    env.set_var("CERTKIT_PKCS11_MODULE", &module);
    let created = env.json("certkit-ca", &{
        let mut args = init(&["--pkcs11", &token_uri]);
        args.push("--json");
        args
    });
    assert_eq!(created["key_location"]["module_origin"], "environment");
    // The same label again: refused, the existing key untouched.
    let err = env.fails(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "pki2",
            "--cn",
            "Y",
            "--pkcs11",
            &token_uri,
            "--ca-pass",
            "env:TOKEN_PIN",
        ],
        2,
    );
    assert_contains(&err, &["holds a key labelled 'CA' already"]);
    assert!(!env.path("pki2").exists());
    // A token CA has no key file to move.
    let err = env.fails(
        "certkit-ca",
        &[
            "move-key",
            "--ca",
            "pki",
            "--pkcs11",
            &token_uri,
            "--pin",
            "env:TOKEN_PIN",
        ],
        2,
    );
    assert_contains(&err, &["on a token already"]);
}
