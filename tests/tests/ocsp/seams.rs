//! OCSP at the seams: an existing CA given a responder by a signed settings change (`certkit-ca settings`), a
//! re-keyed CA (its series covers what its current key issued), a CA whose key is on a token (signed there),
//! and a root answering for the issuing CA it signed.

use super::*;
use common::fixtures::Fixture;

#[test]
fn a_rekeyed_ca_is_given_a_responder_and_answers_for_what_its_current_key_issued() {
    let env = Env::with_fixture(Fixture::Rekeyed);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    // Shown without a password; changed under the CA key; said again, nothing to do (no password asked).
    let shown = env.json("certkit-ca", &cli("settings --ca pki --json"));
    assert_eq!(shown["ocsp_url"], serde_json::Value::Null);
    let changed = env.json(
        "certkit-ca",
        &cli(&format!(
            "settings --ca pki --ocsp-url {url} --ca-pass env:CA_PW --json"
        )),
    );
    assert_eq!(changed["ocsp_url"], url.as_str());
    assert_eq!(changed["changed"][0], "ocsp_url");
    let again = env.json(
        "certkit-ca",
        &cli(&format!("settings --ca pki --ocsp-url {url} --json")),
    );
    assert_eq!(again["changed"], serde_json::json!([]));
    let err = env.fails(
        "certkit-ca",
        &cli("settings --ca pki --ocsp-url https://ocsp.example.com/ --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["is not an OCSP URL"]);
    // The audit finds the change signed.
    let audit = env.json("certkit-ca", &cli("audit --ca pki --json"));
    assert_eq!(audit["ok"], true, "{audit}");

    // What the CA signed before names no responder; what it signs now does.
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    let aia = env.openssl_ok(&cli("x509 -in bob.pem -noout -ext authorityInfoAccess"));
    assert!(aia.contains(&format!("OCSP - URI:{url}")), "{aia}");
    let alice = env.openssl_ok(&cli("x509 -in alice.pem -noout -text"));
    assert!(!alice.contains("OCSP - URI"), "{alice}");

    // The series answers for what the current key issued (bob), and says the earlier key's CRL covers alice.
    let out = env.run(
        "certkit-ca",
        &cli("ocsp --ca pki --out-dir ocsp --ca-pass env:CA_PW"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stderr),
        &["earlier key", "certkit-ca crl --ca pki"],
    );
    let _responder = Responder::start(&env, "ocsp", port, &[]);
    let answer = ask(&env, port, "bob.pem", "");
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert_eq!(status_of(&answer, "bob.pem"), "good");
    // Asked about alice by the earlier key's hashes: another key's CertID, unauthorized.
    let out = env.openssl(&cli(&format!(
        "ocsp -issuer first.pem -cert alice.pem -url http://127.0.0.1:{port}/ -no_nonce -timeout 10"
    )));
    assert!(
        text(&out.stdout).contains("unauthorized") || text(&out.stderr).contains("unauthorized")
    );

    // --no-ocsp-url: what it signs from now on names none again.
    env.ok(
        "certkit-ca",
        &cli("settings --ca pki --no-ocsp-url --ca-pass env:CA_PW"),
    );
    env.issue(&cli("client --ca pki --cn carol --out carol --key p256"));
    let carol = env.openssl_ok(&cli("x509 -in carol.pem -noout -text"));
    assert!(!carol.contains("OCSP - URI"), "{carol}");
}

#[test]
fn a_token_ca_signs_its_responses_on_the_token() {
    let env = Env::with_fixture(Fixture::TokenCa);
    let port = free_port();
    let series = env.json(
        "certkit-ca",
        &cli("ocsp --ca pki --out-dir ocsp --series 2 --every 7 --ca-pass env:TOKEN_PIN --json"),
    );
    assert_eq!(series["windows"][1]["responses"], 1);
    let _responder = Responder::start(&env, "ocsp", port, &[]);
    let answer = ask(&env, port, "alice.pem", "");
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert_eq!(status_of(&answer, "alice.pem"), "good");
    let file = series["windows"][1]["file"].as_str().expect("file");
    for fact in ocsp_facts(&env, "pki/ca.pem", &[file]) {
        assert_eq!(fact["signature_verified"], true, "{fact}");
    }
}

#[test]
fn a_root_answers_for_the_issuing_ca_it_signed() {
    let env = Env::with_fixture(Fixture::RootAndIssuing);
    let port = free_port();
    std::fs::copy(env.path("root/ca.pem"), env.path("pki-root.pem")).expect("copy");
    let series = env.json(
        "certkit-ca",
        &cli("ocsp --ca root --out-dir root-ocsp --ca-pass env:CA_PW --json"),
    );
    assert_eq!(series["windows"][0]["responses"], 1);
    let pin = env.openssl_thumbprint("root/ca.pem");
    let responder = Responder::start(&env, "root-ocsp", port, &["--ca-thumbprint", &pin]);
    let ask_root = || {
        let out = env.openssl(&cli(&format!(
            "ocsp -issuer root/ca.pem -cert issuing/ca.pem -url http://127.0.0.1:{port}/ -CAfile root/ca.pem -no_nonce -timeout 10"
        )));
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let answer = ask_root();
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert_eq!(status_of(&answer, "issuing/ca.pem"), "good");
    // The root revokes it; the next series says so.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca root issuing/ca.pem --reason cessationOfOperation --ca-pass env:CA_PW"),
    );
    std::thread::sleep(Duration::from_millis(1100));
    env.json(
        "certkit-ca",
        &cli("ocsp --ca root --out-dir root-ocsp --ca-pass env:CA_PW --json"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = ask_root();
        if status_of(&answer, "issuing/ca.pem") == "revoked" {
            assert!(answer.contains("Reason: cessationOfOperation"), "{answer}");
            break;
        }
        assert!(Instant::now() < deadline, "{answer}\n{}", responder.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}
