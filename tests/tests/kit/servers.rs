//! nginx and HAProxy configured with nothing but a kit's files and lines.

use std::time::{Duration, Instant};

use super::*;
use common::servers::{Haproxy, Nginx, served_fingerprint, visit};

/// Waits until `check` holds (a reload takes effect asynchronously), failing with `what` after 15 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn as_client(env: &Env, port: u16, who: &str) -> (String, String) {
    let (cert, key) = (format!("{who}.pem"), format!("{who}-plain.key"));
    visit(env, port, "pki/ca.pem", Some((&cert, &key)))
}

/// Whether the server on `port` admits `who` (200 with the client's subject).
fn admits(env: &Env, port: u16, who: &str, cn: &str) -> bool {
    let (code, body) = as_client(env, port, who);
    code == "200" && body.contains(&format!("CN={cn}"))
}

/// `rotate-client-certs.sh` renewing every client certificate due within 400 days, refreshing the kit and
/// reloading with `reload`: what it printed.
fn rotate(env: &Env, reload: &str) -> String {
    let out = env
        .script("rotate-client-certs.sh")
        .args(cli(
            "--ca pki --kit kit --out-dir renewed --expiring-within 400 --ca-pass env:CA_PW --key-pass env:KEY_PW --pfx-pass env:PFX_PW",
        ))
        .args(["--reload", reload])
        .output()
        .expect("rotate");
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    said
}

/// What both servers must do with the kit in `kit`, started by `start` and reloaded by the command it
/// returns: admit the CA's clients, refuse another CA's and no certificate; after bob is revoked and a
/// rotation through `rotate-client-certs.sh --kit --reload`, refuse bob and admit alice's renewal; after the
/// server certificate is renewed and the kit refreshed, present the new one.
fn lifecycle(env: &Env, port: u16, reload: &str, log: &dyn Fn() -> String) {
    assert!(admits(env, port, "alice", "alice"), "{}", log());
    assert!(admits(env, port, "bob", "bob"), "{}", log());
    let (code, _) = as_client(env, port, "mallory");
    assert_ne!(code, "200", "another CA's client is refused");
    let (code, _) = visit(env, port, "pki/ca.pem", None);
    assert_ne!(code, "200", "no client certificate is refused");
    assert_eq!(served_fingerprint(env, port), thumbprint(env, "www.cer"));

    // Bob is revoked and a CRL signed; the rotation renews every client certificate (all are due within
    // 400 days), refreshes the kit and reloads the server.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason affiliationChanged --ca-pass env:CA_PW"),
    );
    sign_crl(env, "pki");
    let said = rotate(env, reload);
    assert!(said.contains("kit kit: replaced crl.pem"), "{said}");
    assert!(said.contains("reloading"), "{said}");
    eventually(
        &format!("bob is refused after the reload: {}", log()),
        || as_client(env, port, "bob").0 != "200",
    );
    // Alice's renewal (files named by the renewal) is admitted, and so is her old certificate until it runs out.
    let renewed = std::fs::read_dir(env.path("renewed"))
        .expect("renewed")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("alice") && n.ends_with(".pfx"))
        .expect("alice's renewal");
    let stem = format!("renewed/{}", renewed.trim_end_matches(".pfx"));
    // The rotation renews into PFX files only (the key is inside): openssl takes it out for the client.
    env.openssl_ok(&cli(&format!(
        "pkcs12 -in {stem}.pfx -passin env:PFX_PW -nocerts -nodes -out {stem}-plain.key"
    )));
    assert!(admits(env, port, &stem, "alice"), "{}", log());
    assert!(admits(env, port, "alice", "alice"));
    // A second run changes nothing and reloads nothing.
    let said = rotate(env, reload);
    assert!(said.contains("every kit is up to date"), "{said}");

    // The server certificate is renewed; the refresh puts the renewal in, the reload presents it.
    let renewal = env.issue(&cli("renew www.cer --ca pki --out www2"));
    let report = kit(env, "--refresh kit");
    assert_eq!(report["server"]["renewed"], true, "{report}");
    assert!(
        outcomes(&report).contains(&"server.pem replaced".to_string()),
        "{report}"
    );
    env.tool("bash", &["-c", reload]);
    let new = renewal["thumbprint"]
        .as_str()
        .expect("thumbprint")
        .to_string();
    eventually(
        &format!("the renewed server certificate is presented: {}", log()),
        || served_fingerprint(env, port) == new,
    );
    assert!(admits(env, port, "alice", "alice"));
}

#[test]
fn nginx_with_nothing_but_the_kit() {
    let env = Env::new();
    two_cas(&env);
    let report = kit(&env, "--target nginx --ca pki --out-dir kit --server www");
    assert_eq!(report["written"], true);
    assert!(codes(&report).is_empty(), "{report}");
    let conf = text(&env.read("kit/nginx-ssl.conf"));
    for line in [
        format!("ssl_certificate {};", env.path("kit/server.pem").display()),
        format!(
            "ssl_certificate_key {};",
            env.path("kit/server.key").display()
        ),
        format!(
            "ssl_client_certificate {};",
            env.path("kit/ca.pem").display()
        ),
        format!("ssl_crl {};", env.path("kit/crl.pem").display()),
        "ssl_verify_client on;".into(),
        "ssl_verify_depth 1;".into(),
    ] {
        assert!(conf.contains(&line), "{line} in {conf}");
    }
    assert!(
        !conf.contains("ssl_ocsp"),
        "no responder named, no ssl_ocsp: {conf}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path("kit/server.key"))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let port = free_port();
    let include = format!("include {};", env.path("kit/nginx-ssl.conf").display());
    let nginx = Nginx::start(&env, "nginx", port, &include);
    lifecycle(&env, port, &nginx.reload_command(), &|| nginx.log());
}

#[test]
fn haproxy_with_nothing_but_the_kit() {
    let env = Env::new();
    two_cas(&env);
    let report = kit(&env, "--target haproxy --ca pki --out-dir kit --server www");
    assert!(codes(&report).is_empty(), "{report}");
    let bind = text(&env.read("kit/haproxy-bind.txt"));
    assert_eq!(
        bind.trim(),
        format!(
            "ssl crt {} ca-file {} crl-file {} verify required",
            env.path("kit/server.pem").display(),
            env.path("kit/ca.pem").display(),
            env.path("kit/crl.pem").display()
        )
    );
    let port = free_port();
    let haproxy = Haproxy::start(&env, "haproxy", port, bind.trim());
    lifecycle(&env, port, &haproxy.reload_command(), &|| haproxy.log());
}

#[test]
fn nginx_checks_ocsp_once_the_ca_names_a_responder() {
    let env = Env::new();
    let ocsp_port = free_port();
    env.init_ca_with(
        "pki",
        &["--ocsp-url", &format!("http://127.0.0.1:{ocsp_port}/")],
    );
    env.issue(&cli(
        "server --ca pki --cn localhost --dns localhost --out www",
    ));
    env.issue_client("pki", "alice", "alice");
    plain_key(&env, "alice");
    sign_crl(&env, "pki");
    kit(&env, "--target nginx --ca pki --out-dir kit --server www");
    let conf = text(&env.read("kit/nginx-ssl.conf"));
    assert!(conf.contains("ssl_ocsp on;"), "{conf}");
    env.ok(
        "certkit-ca",
        &cli("ocsp --ca pki --out-dir ocsp --ca-pass env:CA_PW"),
    );
    let mut responder = env
        .cmd("certkit-ca")
        .args(cli(&format!(
            "ocsp serve --from ocsp --listen 127.0.0.1:{ocsp_port}"
        )))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("responder");
    let port = free_port();
    let include = format!("include {};", env.path("kit/nginx-ssl.conf").display());
    let nginx = Nginx::start(&env, "nginx", port, &include);
    eventually(&format!("alice is admitted: {}", nginx.log()), || {
        admits(&env, port, "alice", "alice")
    });
    let _ = responder.kill();
    let _ = responder.wait();
}
