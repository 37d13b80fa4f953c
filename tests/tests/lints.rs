//! pkilint (DigiCert's RFC 5280 linters, PyPI `pkilint`) on everything certkit signs: each CA and each
//! certificate profile (`lint_pkix_cert`), each certificate with the CA that signed it
//! (`lint_pkix_signer_signee_cert_chain`), and the CRL (`lint_crl`). Nothing at NOTICE or above may be found.

mod common;

use common::*;

#[test]
fn every_ca_and_profile_passes_pkilint() {
    let env = Env::new();
    env.init_ca("pki");
    env.init_ca_with(
        "ec",
        &cli(
            "--key p384 --permit-dns example.com --exclude-ip 10.9.0.0/16 --crl-url \
            http://pki.example.com/ec.crl",
        ),
    );
    let mut signed: Vec<(&str, String)> = Vec::new();
    for (ca, key) in [("pki", "rsa2048"), ("ec", "p256")] {
        env.issue(&[
            "server",
            "--ca",
            ca,
            "--cn",
            "svc.example.com",
            "--dns",
            "www.example.com",
            "--ip",
            "10.0.0.4",
            "--key",
            key,
            "--out",
            &format!("{ca}-server"),
        ]);
        env.issue(&[
            "client",
            "--ca",
            ca,
            "--cn",
            "Alice Smith",
            "--email",
            "alice@example.com",
            "--key",
            key,
            "--out",
            &format!("{ca}-client"),
        ]);
        env.issue(&[
            "encryption",
            "--ca",
            ca,
            "--cn",
            "Data Encryption",
            "--key",
            key,
            "--out",
            &format!("{ca}-enc"),
        ]);
        for leaf in ["server", "client", "enc"] {
            signed.push((ca, format!("{ca}-{leaf}.pem")));
        }
    }
    // A CSR signed, a renewal, a self-signed encryption certificate.
    env.openssl_p256_csr("carol", "/CN=carol");
    env.issue(&cli(
        "sign --ca pki --csr carol.csr --profile client --out carol",
    ));
    signed.push(("pki", "carol.pem".into()));
    env.issue(&["renew", "--ca", "pki", "pki-client.cer", "--out", "renewed"]);
    signed.push(("pki", "renewed.pem".into()));
    env.issue(&cli(
        "encryption --self-signed --cn 'Self Encryption' --out self-enc",
    ));
    pkilint_clean(&env, "lint_pkix_cert", &["self-enc.pem"]);
    for ca in ["pki/ca.pem", "ec/ca.pem"] {
        pkilint_clean(&env, "lint_pkix_cert", &[ca]);
    }
    for (ca, leaf) in &signed {
        pkilint_clean(&env, "lint_pkix_cert", &[leaf]);
        pkilint_clean(
            &env,
            "lint_pkix_signer_signee_cert_chain",
            &[&format!("{ca}/ca.pem"), leaf],
        );
    }
    // The CRL, with a revocation in it.
    env.ok("certkit-ca", &["revoke", "--ca", "ec", "ec-client.cer"]);
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "ec", "--ca-pass", "env:CA_PW"],
    );
    pkilint_clean(&env, "lint_crl", &["ec/ca.crl"]);
}

#[test]
fn the_linter_finds_what_is_wrong() {
    // pkilint is not a rubber stamp here: a certificate with a non-critical basicConstraints CA and no key
    // usage, made by the openssl CLI, is reported.
    let env = Env::new();
    env.openssl_ok(&cli(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \
        bad.key -subj /CN=bad -addext basicConstraints=CA:TRUE -addext \
        keyUsage=digitalSignature -out bad.pem",
    ));
    let found = pkilint_findings(&env, "lint_pkix_cert", &["bad.pem"]);
    assert!(!found.is_empty(), "pkilint found nothing wrong");
}
