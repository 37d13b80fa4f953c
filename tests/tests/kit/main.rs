//! `certkit-export kit`: each consumer's files made from the CA and checked against its rules before they are
//! written. nginx and HAProxy, started by the tests on loopback with nothing but the kit's files and lines,
//! admit the CA's clients and refuse a revoked one and another CA's; a rotation through
//! `rotate-client-certs.sh --kit` and a reload brings them renewed certificates. The Azure kits are read by
//! independent readers (openssl pkcs12, Python cryptography) since Azure cannot be reached here; the API
//! Management policy is edited byte for byte on a real policy file.

mod azure;
#[path = "../common/mod.rs"]
mod common;
mod refresh;
mod seams;
mod servers;

use common::*;

/// A CA "Test CA" in `pki` with the server certificate `www` (CN localhost), clients alice and bob, and a
/// CRL; "Other CA" in `other` with the client mallory. Every key also unencrypted as NAME-plain.key (what
/// curl presents).
pub fn two_cas(env: &Env) {
    env.init_ca("pki");
    env.issue(&cli(
        "server --ca pki --cn localhost --dns localhost --ip 127.0.0.1 --out www",
    ));
    env.issue_client("pki", "alice", "alice");
    env.issue_client("pki", "bob", "bob");
    sign_crl(env, "pki");
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "other",
            "--cn",
            "Other CA",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    env.issue_client("other", "mallory", "mallory");
    for who in ["alice", "bob", "mallory"] {
        plain_key(env, who);
    }
}

/// NAME.key decrypted into NAME-plain.key.
pub fn plain_key(env: &Env, who: &str) {
    env.openssl_ok(&cli(&format!(
        "pkey -in {who}.key -passin env:KEY_PW -out {who}-plain.key"
    )));
}

/// `certkit-ca crl --ca DIR`.
pub fn sign_crl(env: &Env, ca: &str) {
    env.ok(
        "certkit-ca",
        &cli(&format!("crl --ca {ca} --ca-pass env:CA_PW --json")),
    );
}

/// `certkit-export kit` with `args` and the test passwords, as JSON.
pub fn kit(env: &Env, args: &str) -> serde_json::Value {
    env.json(
        "certkit-export",
        &cli(&format!(
            "kit {args} --from-pass env:KEY_PW --pfx-pass env:PFX_PW --json"
        )),
    )
}

/// The outcome of each file in a kit report, as `name outcome` lines.
pub fn outcomes(report: &serde_json::Value) -> Vec<String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["name"].as_str().unwrap_or(""),
                f["outcome"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The codes of the findings of a kit report.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The thumbprint of NAME.cer (as certkit prints it).
pub fn thumbprint(env: &Env, cert: &str) -> String {
    env.openssl_ok(&cli(&format!("x509 -in {cert} -noout -fingerprint -sha1")))
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .replace(':', "")
}
