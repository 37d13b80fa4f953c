//! Kits at the seams: a re-keyed CA whose clients live under two keys, and an issuing CA below a root, each
//! checked by a real nginx with nothing but the kit.

use super::*;
use common::servers::{Nginx, visit};

fn admitted(env: &Env, port: u16, trust: &str, who: &str) -> bool {
    let (cert, key) = (format!("{who}.pem"), format!("{who}-plain.key"));
    let (code, body) = visit(env, port, trust, Some((&cert, &key)));
    code == "200" && body.contains(&format!("CN={who}"))
}

fn nginx_with_kit(env: &Env, port: u16) -> Nginx {
    let include = format!("include {};", env.path("kit/nginx-ssl.conf").display());
    Nginx::start(env, "nginx", port, &include)
}

#[test]
fn a_rekeyed_ca_kit_admits_clients_of_both_keys_and_refuses_a_revoked_one_of_the_earlier() {
    let env = Env::with_fixture(Fixture::Rekeyed);
    // alice was issued under the first key; bob and the server under the new one.
    env.issue(&cli(
        "server --ca pki --cn localhost --dns localhost --out www --key p256",
    ));
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    for who in ["alice", "bob"] {
        plain_key(&env, who);
    }
    sign_crl(&env, "pki");
    let report = kit(&env, "--target nginx --ca pki --out-dir kit --server www");
    assert!(codes(&report).is_empty(), "{report}");
    let bundle = text(&env.read("kit/ca.pem"));
    assert_eq!(
        bundle.matches("BEGIN CERTIFICATE").count(),
        2,
        "both keys' certificates"
    );
    assert!(
        bundle.contains(&text(&env.read("first.pem"))),
        "the first key's certificate is trusted"
    );
    assert_eq!(
        text(&env.read("kit/crl.pem"))
            .matches("BEGIN X509 CRL")
            .count(),
        2
    );

    let port = free_port();
    let nginx = nginx_with_kit(&env, port);
    assert!(
        admitted(&env, port, "pki/ca.pem", "alice"),
        "{}",
        nginx.log()
    );
    assert!(admitted(&env, port, "pki/ca.pem", "bob"), "{}", nginx.log());

    // alice (the earlier key's) revoked: the earlier key's CRL lists her, the refresh brings it in.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    sign_crl(&env, "pki");
    let report = kit(&env, "--refresh kit");
    assert!(
        outcomes(&report).contains(&"crl.pem replaced".to_string()),
        "{report}"
    );
    env.tool("bash", &["-c", &nginx.reload_command()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while admitted(&env, port, "pki/ca.pem", "alice") {
        assert!(
            std::time::Instant::now() < deadline,
            "alice still admitted: {}",
            nginx.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(admitted(&env, port, "pki/ca.pem", "bob"), "{}", nginx.log());
}

#[test]
fn an_issuing_ca_kit_needs_the_roots_crl_and_verifies_the_whole_chain() {
    let env = Env::with_fixture(Fixture::RootAndIssuing);
    env.issue(&cli(
        "server --ca issuing --cn localhost --dns localhost --out www --key p256",
    ));
    env.issue(&cli(
        "client --ca issuing --cn alice --out alice --key p256",
    ));
    plain_key(&env, "alice");
    sign_crl(&env, "issuing");
    // Without the root's CRL nginx would refuse every client: the kit says so and names the root.
    let out = env.fails(
        "certkit-export",
        &cli("kit --target nginx --ca issuing --out-dir kit --server www --from-pass env:KEY_PW"),
        1,
    );
    assert!(
        out.contains("nginx-crl-missing") && out.contains("CN=Test CA") && out.contains("--crl"),
        "{out}"
    );
    assert!(!env.path("kit").exists());
    // A CRL of a CA outside the chain is refused by name.
    env.ok(
        "certkit-ca",
        &cli("init --ca stranger --cn Stranger --key p256 --ca-pass env:CA_PW"),
    );
    sign_crl(&env, "stranger");
    let out = env.fails(
        "certkit-export",
        &cli("kit --target nginx --ca issuing --out-dir kit --server www --from-pass env:KEY_PW --crl stranger/ca.crl"),
        2,
    );
    assert!(
        out.contains("stranger/ca.crl is not signed by CN=Issuing CA 1 or a CA above it"),
        "{out}"
    );

    sign_crl(&env, "root");
    let report = kit(
        &env,
        "--target nginx --ca issuing --out-dir kit --server www --crl root/ca.crl",
    );
    assert!(codes(&report).is_empty(), "{report}");
    assert!(text(&env.read("kit/nginx-ssl.conf")).contains("ssl_verify_depth 2;"));
    assert_eq!(
        text(&env.read("kit/server.pem"))
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    let port = free_port();
    let nginx = nginx_with_kit(&env, port);
    assert!(
        admitted(&env, port, "root/ca.pem", "alice"),
        "{}",
        nginx.log()
    );
    let record: serde_json::Value =
        serde_json::from_slice(&env.read("kit/kit.json")).expect("kit.json");
    assert_eq!(
        record["crls"][0],
        env.path("root/ca.crl").display().to_string()
    );
}
