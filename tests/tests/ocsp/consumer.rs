//! A real consumer: nginx checking client certificates by OCSP (`ssl_verify_client on; ssl_ocsp on;`) at the
//! responder URL the certificates name, served by `certkit-ca ocsp serve`. A valid person gets in; a revoked
//! one is refused once the next series is published; curl presents the certificates.

use super::*;

use common::servers::Nginx;

/// nginx checking client certificates of `pki` by OCSP, presenting `www`.
fn start_nginx(env: &Env, port: u16) -> Nginx {
    let lines = format!(
        "ssl_certificate {www}; ssl_certificate_key {www_key}; ssl_client_certificate {ca}; ssl_verify_client on; ssl_ocsp on;",
        www = env.path("www.pem").display(),
        www_key = env.path("www-plain.key").display(),
        ca = env.path("pki/ca.pem").display(),
    );
    Nginx::start(env, "nginx", port, &lines)
}

/// curl presenting the client certificate `who` (PEM and its unencrypted key) to nginx: the HTTP status and
/// the body.
fn visit(env: &Env, port: u16, who: &str) -> (String, String) {
    let (cert, key) = (format!("{who}.pem"), format!("{who}-plain.key"));
    common::servers::visit(env, port, "pki/ca.pem", Some((&cert, &key)))
}

#[test]
fn nginx_refuses_a_revoked_person_once_the_next_series_is_published() {
    let env = Env::new();
    let ocsp_port = free_port();
    let tls_port = free_port();
    let url = format!("http://127.0.0.1:{ocsp_port}/");
    env.init_ca_with("pki", &["--key", "p256", "--ocsp-url", &url]);
    env.issue(&cli(
        "server --ca pki --cn localhost --dns localhost --out www --key p256",
    ));
    for who in ["alice", "bob"] {
        env.issue(&cli(&format!(
            "client --ca pki --cn {who} --out {who} --key p256"
        )));
    }
    for who in ["www", "alice", "bob"] {
        env.openssl_ok(&cli(&format!(
            "pkey -in {who}.key -passin env:KEY_PW -out {who}-plain.key"
        )));
    }
    sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let responder = Responder::start(&env, "ocsp", ocsp_port, &[]);
    let nginx = start_nginx(&env, tls_port);

    for who in ["alice", "bob"] {
        let (code, body) = visit(&env, tls_port, who);
        assert_eq!(
            code,
            "200",
            "{who}: {body}\n{}\n{}",
            nginx.log(),
            responder.log()
        );
        assert!(body.contains(&format!("CN={who}")), "{body}");
    }
    // nginx asked the responder the certificates name (one request per handshake: no OCSP cache).
    assert!(
        responder.log().contains(" good window="),
        "{}",
        responder.log()
    );

    // Bob leaves: revoked, and the next series published into the responder's folder.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason affiliationChanged --ca-pass env:CA_PW"),
    );
    std::thread::sleep(Duration::from_millis(1100));
    sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, _) = visit(&env, tls_port, "bob");
        if code != "200" {
            // nginx answers 400 ("The SSL certificate error") and logs the OCSP verdict.
            assert_eq!(code, "400");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob still gets in:\n{}",
            responder.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        nginx.log().contains("revoked"),
        "nginx says why: {}",
        nginx.log()
    );
    let (code, body) = visit(&env, tls_port, "alice");
    assert_eq!(code, "200", "alice is still in: {body}\n{}", nginx.log());
}
