//! An offline root over an issuing CA (`certkit-ca sign-ca`): the issuing CA's certificate checked by openssl
//! (`-x509_strict`, `-untrusted`, `-crl_check_all` with both CRLs), Python `cryptography`'s strict path
//! builder and pkilint; its pathLen and lifetime limits; the root's record of it (profile `ca`), and its
//! revocation on the root's CRL failing every certificate below it.

#[path = "../common/mod.rs"]
mod common;
mod deployment;
mod made_apart;

use common::*;

/// A root (P-256, pathLen 1, a CRL URL) and a request for "Issuing CA 1" made by the openssl CLI.
fn root_and_request(env: &Env, root_flags: &[&str]) {
    let mut flags = cli("--key p256 --crl-url http://pki.example.com/root.crl");
    flags.extend(root_flags);
    env.init_ca_with("root", &flags);
    env.openssl_ok(&cli(
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \
        issuing.key -subj '/CN=Issuing CA 1' -out issuing.csr",
    ));
}

fn sign_ca(env: &Env, extra: &[&str]) -> serde_json::Value {
    let mut args =
        cli("sign-ca --ca root --csr issuing.csr --out issuing --ca-pass env:CA_PW --json");
    args.extend(extra);
    env.json("certkit-ca", &args)
}

/// A server certificate for www.example.com signed by the issuing CA's key with the openssl CLI (as an
/// issuing CA made elsewhere would).
fn leaf_under_issuing(env: &Env) {
    std::fs::write(
        env.path("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.com\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .expect("ext");
    env.openssl_p256_csr("leaf", "/CN=www.example.com");
    env.openssl_ok(&cli(
        "x509 -req -in leaf.csr -CA issuing.pem -CAkey issuing.key -days 30 \
        -extfile leaf.ext -out leaf.pem",
    ));
}

fn verify(env: &Env, args: &[&str]) -> (bool, String) {
    let out = env.openssl(&[&["verify"][..], args].concat());
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn the_root_signs_an_issuing_ca_that_verifiers_accept_and_revocation_ends_it() {
    let env = Env::new();
    root_and_request(&env, &[]);
    let signed = sign_ca(&env, &["--permit-dns", "example.com"]);
    assert_eq!(signed["pathlen"], 0, "one less than the root's 1: {signed}");
    assert_eq!(signed["issuer"], "CN=Test CA");
    assert_eq!(
        signed["permitted_names"],
        serde_json::json!(["DNS:example.com"])
    );
    // openssl reads what the root signed.
    let text_of = env.x509_text("issuing.pem");
    assert_contains(
        &text_of,
        &cli(
            "'CA:TRUE, pathlen:0' 'Certificate Sign, CRL Sign' 'X509v3 Name Constraints: critical' http://pki.example.com/root.crl 'Authority Key Identifier'",
        ),
    );
    let (ok, said) = verify(
        &env,
        &["-x509_strict", "-CAfile", "root/ca.pem", "issuing.pem"],
    );
    assert!(ok, "{said}");
    // A certificate under it verifies with the issuing CA given as untrusted, the root as the only anchor.
    leaf_under_issuing(&env);
    let chain = [
        "-x509_strict",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing.pem",
        "leaf.pem",
    ];
    let (ok, said) = verify(&env, &chain);
    assert!(ok, "{said}");
    let (ok, _) = verify(
        &env,
        &["-x509_strict", "-CAfile", "root/ca.pem", "leaf.pem"],
    );
    assert!(!ok, "without the issuing CA there is no path");
    let checked = env.tool(
        "python3",
        &[
            &peer("path_check.py"),
            "root/ca.pem",
            "leaf.pem",
            "server",
            "www.example.com",
            "--untrusted",
            "issuing.pem",
        ],
    );
    assert_eq!(
        text(&checked.stdout).trim(),
        "ok",
        "{}",
        text(&checked.stderr)
    );
    // pkilint: the issuing CA alone, and with the root that signed it.
    for (linter, files) in [
        ("lint_pkix_cert", vec!["issuing.pem"]),
        (
            "lint_pkix_signer_signee_cert_chain",
            vec!["root/ca.pem", "issuing.pem"],
        ),
    ] {
        pkilint_clean(&env, linter, &files);
    }
    // The root records it: listed as profile ca, audited.
    let listed = env.json(
        "certkit-ca",
        &["list", "--ca", "root", "--profile", "ca", "--json"],
    );
    assert_eq!(listed.as_array().expect("list").len(), 1, "{listed}");
    assert_eq!(listed[0]["profile"], "ca");
    assert_eq!(listed[0]["thumbprint"], signed["thumbprint"]);
    env.ok("certkit-ca", &["audit", "--ca", "root"]);
    // Both CRLs: the root's (from certkit) and the issuing CA's (empty, signed with its key by Python).
    let signed_crl = env.tool(
        "python3",
        &[
            &peer("crl_facts.py"),
            "sign",
            "issuing.pem",
            "issuing.key",
            "issuing-crl.pem",
        ],
    );
    assert!(signed_crl.status.success(), "{}", text(&signed_crl.stderr));
    let root_crl = |env: &Env| {
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "root", "--pem", "--ca-pass", "env:CA_PW"],
        );
    };
    root_crl(&env);
    let all = [
        "-crl_check_all",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing.pem",
        "-CRLfile",
        "root/ca.crl.pem",
        "-CRLfile",
        "issuing-crl.pem",
        "leaf.pem",
    ];
    let (ok, said) = verify(&env, &all);
    assert!(ok, "{said}");
    // The root revokes the issuing CA: its next CRL lists it, and the certificate under it fails.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca root issuing.cer --reason keyCompromise"),
    );
    root_crl(&env);
    let (ok, said) = verify(&env, &all);
    assert!(
        !ok,
        "a certificate under a revoked issuing CA verified: {said}"
    );
    assert_contains(&said, &["certificate revoked"]);
}

#[test]
fn path_length_limits_are_enforced_by_name() {
    let env = Env::new();
    root_and_request(&env, &["--pathlen", "0"]);
    let err = env.fails(
        "certkit-ca",
        &cli("sign-ca --ca root --csr issuing.csr --out issuing --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["pathLen 0", "no CA below it"]);
    assert!(!env.path("issuing.cer").exists());

    let env = Env::new();
    root_and_request(&env, &["--pathlen", "2"]);
    let err = env.fails(
        "certkit-ca",
        &cli(
            "sign-ca --ca root --csr issuing.csr --out issuing --pathlen 2 --ca-pass \
            env:CA_PW",
        ),
        2,
    );
    assert_contains(
        &err,
        &["--pathlen 2 is not below the pathLen 2", "use 1 or less"],
    );
    let signed = sign_ca(&env, &["--pathlen", "1"]);
    assert_eq!(signed["pathlen"], 1);
    assert_contains(&env.x509_text("issuing.pem"), &["CA:TRUE, pathlen:1"]);
}

#[test]
fn an_issuing_ca_never_outlives_its_root() {
    let env = Env::new();
    root_and_request(&env, &["--days", "100"]);
    let err = env.fails(
        "certkit-ca",
        &cli("sign-ca --ca root --csr issuing.csr --out issuing --days 200 --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["would outlive the CA that signs it"]);
    // The default (five years) stops at the root's end, and says so.
    let out = env.run(
        "certkit-ca",
        &cli("sign-ca --ca root --csr issuing.csr --out issuing --ca-pass env:CA_PW --json"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["not the default five years"]);
    let signed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let root = env.json("certkit-ca", &["show", "--ca", "root", "--json"]);
    assert_eq!(signed["not_after"], root["not_after"]);
}

#[test]
fn certkit_issue_neither_makes_nor_renews_a_ca() {
    let env = Env::new();
    root_and_request(&env, &[]);
    let signed = sign_ca(&env, &[]);
    let err = env.fails(
        "certkit-issue",
        &cli("sign --ca root --csr issuing.csr --profile ca --out x --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["certkit-ca sign-ca"]);
    let err = env.fails(
        "certkit-issue",
        &[
            "renew",
            "--ca",
            "root",
            signed["serial"].as_str().expect("serial"),
            "--out",
            "again",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["certkit-ca sign-ca"]);
    assert!(!env.path("x.cer").exists() && !env.path("again.cer").exists());
}

/// An issuing CA made apart from the root: `init --request`, the root's `sign-ca`, then `install`. Returns the
/// sign-ca JSON.
fn air_gapped(env: &Env, root_flags: &[&str], sign_flags: &[&str]) -> serde_json::Value {
    let mut flags = vec!["--key", "p256"];
    flags.extend(root_flags);
    env.init_ca_with("root", &flags);
    env.ok(
        "certkit-ca",
        &cli(
            "init --ca issuing --cn 'Issuing CA 1' --key p256 --crl-url \
            http://pki.example.com/issuing.crl --request issuing.csr --ca-pass \
            env:CA_PW",
        ),
    );
    let signed = sign_ca(env, sign_flags);
    env.ok(
        "certkit-ca",
        &cli("install --ca issuing --cert issuing.cer --chain root/ca.cer --ca-pass env:CA_PW"),
    );
    signed
}
