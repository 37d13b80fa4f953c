//! What `certkit-issue` refuses and what it keeps: wrong passwords, dates, requests, names, outputs, issuers;
//! parallel issues; listings.

use super::*;

#[test]
fn a_wrong_ca_password_writes_and_records_nothing() {
    let env = Env::new();
    env.init_ca("pki");
    let out = env
        .cmd("certkit-issue")
        .args(client_args(&cli(
            "--ca-pass env:WRONG --key-pass env:KEY_PW",
        )))
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
        &client_args(&cli(
            "--days 5000 --ca-pass env:CA_PW --key-pass env:KEY_PW",
        )),
        2,
    );
    assert_contains(&err, &["outlive its CA", "expires on"]);
    refused(
        &env,
        &client_args(&cli(
            "--expires 2020-01-01 --ca-pass env:CA_PW --key-pass env:KEY_PW",
        )),
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
    env.openssl_ok(&cli(
        "req -new -newkey rsa:2048 -nodes -keyout r.key -subj /CN=r -outform DER -out r.der",
    ));
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
        &cli(
            "server --ca pki --cn 'not a host' --out a --ca-pass env:CA_PW --key-pass \
            env:KEY_PW",
        ),
        2,
    );
    refused(
        &env,
        &client_args(&cli(
            "--email nope --ca-pass env:CA_PW --key-pass env:KEY_PW",
        )),
        2,
    );
}

#[test]
fn a_missing_ca_names_certkit_ca_init() {
    let env = Env::new();
    let err = env.fails(
        "certkit-issue",
        &cli("client --ca nope --cn a --out a --ca-pass env:CA_PW --key-pass env:KEY_PW"),
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
        &cli("client --ca pki --cn a --out taken --ca-pass env:CA_PW --key-pass env:KEY_PW"),
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
    env.issue(&cli("client --ca pki --cn first --key p256 --out first"));
    env.issue(&cli(
        "server --ca pki --cn srv.example.com --key p256 --days 10 --out srv",
    ));
    env.issue(&cli("client --ca pki --cn last --key p256 --out last"));
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
