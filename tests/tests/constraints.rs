//! Name constraints on a CA (`init --permit-dns`, `--exclude-dns`, `--permit-email`, `--permit-ip`,
//! `--exclude-ip`): written as a critical extension that openssl reads back, enforced by certkit before it signs
//! (a name outside is refused in one line and nothing is written or recorded), and enforced by independent
//! verifiers (openssl, Python `cryptography`'s strict path builder) on a certificate openssl made outside them.

mod common;

use common::*;

/// A P-256 CA constrained to example.com (but not secret.example.com), mailboxes at example.com, and 10/8.
fn constrained() -> Env {
    let env = Env::new();
    let made = env.init_ca_with(
        "pki",
        &cli(
            "--key p256 --permit-dns example.com --exclude-dns secret.example.com \
            --permit-email example.com --permit-ip 10.0.0.0/8",
        ),
    );
    assert_eq!(
        made["permitted_names"],
        serde_json::json!(["DNS:example.com", "email:example.com", "IP:10.0.0.0/8"])
    );
    assert_eq!(
        made["excluded_names"],
        serde_json::json!(["DNS:secret.example.com"])
    );
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(shown["permitted_names"], made["permitted_names"]);
    assert_eq!(shown["excluded_names"], made["excluded_names"]);
    assert_contains(
        &env.ok("certkit-ca", &["show", "--ca", "pki"]),
        &["permits     DNS:example.com, email:example.com, IP:10.0.0.0/8"],
    );
    env
}

fn path_check(env: &Env, leaf: &str, kind: &[&str]) -> std::process::Output {
    let mut args = vec![peer("path_check.py"), "pki/ca.pem".into(), leaf.into()];
    args.extend(kind.iter().map(|k| k.to_string()));
    env.tool(
        "python3",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

#[test]
fn the_constraints_are_a_critical_extension_verifiers_read() {
    let env = constrained();
    let shown = env.openssl_ok(&["x509", "-in", "pki/ca.pem", "-noout", "-text"]);
    assert_contains(
        &shown,
        &cli(
            "'X509v3 Name Constraints: critical' DNS:example.com email:example.com \
            IP:10.0.0.0/255.0.0.0 Excluded: DNS:secret.example.com",
        ),
    );
    // Inside them: certkit issues, and openssl and Python's strict path builder accept.
    env.issue(&cli(
        "server --ca pki --cn www.example.com --dns www.example.com --ip 10.1.2.3 \
        --out www --key p256",
    ));
    assert_contains(
        &env.openssl_ok(&["verify", "-x509_strict", "-CAfile", "pki/ca.pem", "www.pem"]),
        &["www.pem: OK"],
    );
    let checked = path_check(&env, "www.pem", &["server", "www.example.com"]);
    assert_eq!(
        text(&checked.stdout).trim(),
        "ok",
        "{}",
        text(&checked.stderr)
    );
    env.issue(&cli(
        "client --ca pki --cn 'Alice Smith' --email alice@example.com --out alice --key p256",
    ));
    let checked = path_check(&env, "alice.pem", &["client"]);
    assert_eq!(
        text(&checked.stdout).trim(),
        "ok",
        "{}",
        text(&checked.stderr)
    );

    // Outside them, made with openssl and the CA key (certkit refuses to): both verifiers reject it.
    std::fs::write(
        env.path("evil.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.evil.org\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .expect("ext");
    env.openssl_ok(&cli(
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \
        evil.key -subj /CN=www.evil.org -out evil.csr",
    ));
    env.openssl_ok(&cli(
        "x509 -req -in evil.csr -CA pki/ca.pem -CAkey pki/ca.key -passin \
        env:CA_PW -days 30 -extfile evil.ext -out evil.pem",
    ));
    let verified = env.openssl(&cli("verify -x509_strict -CAfile pki/ca.pem evil.pem"));
    assert!(!verified.status.success());
    assert_contains(
        &format!("{}{}", text(&verified.stdout), text(&verified.stderr)),
        &["permitted subtree violation"],
    );
    let checked = path_check(&env, "evil.pem", &["server", "www.evil.org"]);
    assert!(!checked.status.success());
    assert_contains(&text(&checked.stdout), &["rejected"]);
    // certkit-export inspect --chain catches it too, whoever made it, and passes what certkit issued.
    let inspected = env.run(
        "certkit-export",
        &["inspect", "evil.pem", "--chain", "pki/ca.cer", "--json"],
    );
    assert_eq!(
        inspected.status.code(),
        Some(1),
        "{}",
        text(&inspected.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&inspected.stdout).expect("json");
    let outside: Vec<&serde_json::Value> = json[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "outside-name-constraints")
        .collect();
    assert_eq!(outside.len(), 2, "the SAN and the DNS-looking CN: {json}");
    assert_contains(
        outside[0]["message"].as_str().expect("message"),
        &["www.evil.org", "of CN=Test CA"],
    );
    let fine = env.json(
        "certkit-export",
        &["inspect", "alice.pem", "--chain", "pki/ca.cer", "--json"],
    );
    assert!(
        !fine.to_string().contains("outside-name-constraints"),
        "{fine}"
    );
    let err = env.fails(
        "certkit-export",
        &["inspect", "alice.pem", "--chain", "alice.pem"],
        2,
    );
    assert_contains(&err, &["not a CA certificate"]);
}

#[test]
fn a_name_outside_is_refused_before_anything_is_signed() {
    let env = constrained();
    let refusals: [(&[&str], &str); 5] = [
        (
            &["server", "--cn", "www.other.org", "--dns", "www.other.org"],
            "DNS:www.other.org is outside",
        ),
        (
            &["server", "--cn", "db.secret.example.com"],
            "DNS:db.secret.example.com is excluded",
        ),
        (
            &["server", "--cn", "host.example.com", "--ip", "192.168.1.1"],
            "IP:192.168.1.1 is outside",
        ),
        (
            &["client", "--cn", "Bob", "--email", "bob@other.org"],
            "email:bob@other.org is outside",
        ),
        // A common name that looks like a DNS name is checked as one.
        (
            &["client", "--cn", "mail.other.org"],
            "DNS:mail.other.org is outside",
        ),
    ];
    for (args, said) in refusals {
        let mut all = args.to_vec();
        all.extend(["--ca", "pki", "--out", "refused", "--key", "p256"]);
        let err = env.fails("certkit-issue", &Env::with_passwords(&all), 2);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert_contains(&err, &[said]);
        assert!(!env.path("refused.pem").exists() && !env.path("refused.key").exists());
    }
    assert!(
        env.list("pki").is_empty(),
        "nothing signed, nothing recorded"
    );
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);

    // A CSR with a name outside is refused too.
    env.openssl_ok(&cli(
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \
        req.key -subj /CN=api.other.org -addext subjectAltName=DNS:api.other.org \
        -out req.csr",
    ));
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "sign --ca pki --csr req.csr --profile server --out signed",
        )),
        2,
    );
    assert_contains(&err, &["DNS:api.other.org is outside"]);

    // A batch names the line and issues nothing.
    std::fs::write(
        env.path("people.csv"),
        "cn,email\nAlice,alice@example.com\nBob,bob@other.org\nCarol,carol@example.com\n",
    )
    .expect("csv");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir out --key p256",
        )),
        2,
    );
    assert_contains(
        &err,
        &[
            "line 3",
            "email:bob@other.org is outside",
            "nothing was issued",
        ],
    );
    assert!(!env.path("out/alice.pem").exists());
    assert!(env.list("pki").is_empty());
}

#[test]
fn bad_constraint_values_are_refused_before_a_ca_is_made() {
    let env = Env::new();
    for (flag, value, said) in [
        ("--permit-dns", "exa mple.com", "not a DNS name"),
        ("--permit-ip", "10.0.0.1/8", "10.0.0.0/8"),
        ("--exclude-ip", "10.0.0.0", "prefix length"),
        ("--permit-email", "@example.com", "not an e-mail constraint"),
    ] {
        let err = env.fails(
            "certkit-ca",
            &[
                "init",
                "--ca",
                "pki",
                "--cn",
                "CA",
                "--ca-pass",
                "env:CA_PW",
                flag,
                value,
            ],
            2,
        );
        assert_contains(&err, &[said]);
        assert!(!env.path("pki").exists());
    }
}
