//! Hostile names, scripts, key files and hand-edited records.

use super::*;

#[test]
fn names_with_control_or_bidi_characters_are_refused() {
    let env = Env::new();
    p256_ca(&env);
    for cn in [
        "evil\u{202e}gnp.exe",
        "tab\there",
        "zero\u{200b}width",
        "iso\u{2066}late",
    ] {
        let err = env.fails(
            "certkit-issue",
            &Env::with_passwords(&[
                "client", "--ca", "pki", "--cn", cn, "--out", "x", "--key", "p256",
            ]),
            2,
        );
        assert_contains(&err, &["common name"]);
    }
    std::fs::write(env.path("people.csv"), "cn\n\"evil\u{202e}gnp.exe\"\n").expect("csv");
    env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir o --key p256",
        )),
        2,
    );
    env.openssl_p256_csr("e", "/CN=evil\u{202e}gnp.exe");
    env.fails(
        "certkit-issue",
        &cli("sign --ca pki --csr e.csr --profile client --out e --ca-pass env:CA_PW"),
        2,
    );
    assert!(env.list("pki").is_empty());
}

#[test]
fn subjects_are_shown_with_rfc4514_escaping() {
    let env = Env::new();
    p256_ca(&env);
    env.openssl_p256_csr("bob", "/CN=Bob\\, O=Contoso");
    let json = env.json(
        "certkit-issue",
        &cli(
            "sign --ca pki --csr bob.csr --profile client --out bob --ca-pass \
            env:CA_PW --json",
        ),
    );
    assert_eq!(json["subject"], "CN=Bob\\, O=Contoso");
    assert_eq!(env.list("pki")[0]["subject"], "CN=Bob\\, O=Contoso");
    assert_contains(
        &env.ok("certkit-ca", &["list", "--ca", "pki"]),
        &["CN=Bob\\, O=Contoso"],
    );
    // openssl agrees it is one CN attribute.
    assert_contains(
        &env.openssl_ok(&cli("x509 -in bob.pem -noout -subject -nameopt RFC2253")),
        &["subject=CN=Bob\\, O=Contoso"],
    );
}

#[test]
fn the_rotation_script_leaves_stdin_to_the_user() {
    let env = Env::new();
    p256_ca(&env);
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    for cn in ["alice", "bob"] {
        env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256", "--days", "5",
        ]);
        env.ok(
            "certkit-export",
            &[
                "cscfg",
                "--file",
                "svc.cscfg",
                "--allow",
                &format!("{cn}.cer"),
            ],
        );
    }
    let mut child = env
        .script("rotate-client-certs.sh")
        .args(cli(
            "--ca pki --cscfg svc.cscfg --out-dir renewed --ca-pass stdin --key-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ))
        .env_remove("CA_PW")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{CA_PW}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_contains(&text(&out.stdout), &["2 certificate(s) renewed"]);
}

#[test]
fn the_setup_script_checks_every_name_before_it_creates_anything() {
    let env = Env::new();
    let setup = |people: &str, pfx_pass: &str| {
        env.script("splitmerge-setup.sh")
            .args([
                "--dir",
                "deploy",
                "--service",
                "svc.cloudapp.net",
                "--people",
                people,
                "--cscfg-template",
                &example_cscfg(),
                "--ca-pass",
                "env:CA_PW",
                "--key-pass",
                "env:KEY_PW",
                "--pfx-pass",
                pfx_pass,
            ])
            .output()
            .expect("bash")
    };
    let run = |people: &str| setup(people, "env:PFX_PW");
    let out = run("Alice Smith,alice smith");
    assert!(!out.status.success());
    assert_contains(&text(&out.stderr), &["alice-smith"]);
    assert!(!env.path("deploy").exists(), "{:?}", env.listing("deploy"));
    // A run that fails half-way resumes when run again.
    assert!(!setup("Alice,Bob", "env:UNSET_PFX_PW").status.success());
    assert!(
        env.path("deploy/ca/ca.pem").exists(),
        "the CA was made before the failure"
    );
    let ca_cert = env.read("deploy/ca/ca.pem");
    // Other options than those of the unfinished setup are refused.
    let other = run("Alice,Carol");
    assert!(!other.status.success());
    assert_contains(&text(&other.stderr), &["unfinished setup", "other options"]);
    // What an interrupted step left behind is moved aside, not used and not deleted.
    std::fs::write(env.path("deploy/keys/ssl.key"), "half-written").expect("write");
    let out = run("Alice,Bob");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_contains(&text(&out.stdout), &["Resuming", "Moved the unfinished"]);
    assert_eq!(env.read("deploy/ca/ca.pem"), ca_cert, "the CA was kept");
    let aside: Vec<String> = env
        .listing("deploy/keys")
        .into_iter()
        .filter(|name| name.starts_with("unfinished-"))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", env.listing("deploy/keys"));
    assert_eq!(
        env.read(&format!("deploy/keys/{}/ssl.key", aside[0])),
        b"half-written"
    );
    for file in [
        "deploy/upload/ssl.pfx",
        "deploy/clients/alice.pfx",
        "deploy/clients/bob.pfx",
        "deploy/upload/encryption.pfx",
    ] {
        assert!(env.path(file).exists(), "{file}");
    }
    env.tool(
        "openssl",
        &["x509", "-in", "deploy/keys/ssl.pem", "-noout", "-subject"],
    );
    // A finished setup is never run over.
    let again = run("Alice,Bob");
    assert!(!again.status.success());
    assert_contains(&text(&again.stderr), &["is complete"]);
}

#[test]
fn absurd_key_derivation_parameters_are_refused_before_deriving() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    for (name, pem) in [
        ("scrypt-n0.key", der::scrypt_key(0)),
        ("scrypt-huge.key", der::scrypt_key(1 << 40)),
        ("pbkdf2-huge.key", der::pbkdf2_key((1 << 31) - 1)),
        ("pbkdf2-zero.key", der::pbkdf2_key(0)),
    ] {
        std::fs::write(env.path(name), pem).expect("write");
        let err = refused_without_deriving(
            &env,
            &[
                "pfx",
                "--cert",
                "alice.cer",
                "--key-file",
                name,
                "--out",
                "a.pfx",
                "--from-pass",
                "env:KEY_PW",
                "--pfx-pass",
                "env:PFX_PW",
            ],
        );
        assert_contains(&err, &[name, "the key asks for", "certkit accepts"]);
        assert!(!env.path("a.pfx").exists());
    }
    // A PFX whose MAC claims 2^31 - 1 iterations.
    env.ok(
        "certkit-export",
        &cli(
            "pfx --cert alice.cer --key-file alice.key --out good.pfx --from-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ),
    );
    std::fs::write(
        env.path("slow.pfx"),
        der::pfx_with_mac_iterations(&env.read("good.pfx"), (1 << 31) - 1),
    )
    .expect("write");
    let err = refused_without_deriving(
        &env,
        &["thumbprint", "slow.pfx", "--from-pass", "env:PFX_PW"],
    );
    assert_contains(&err, &["slow.pfx", "2147483647", "iterations"]);
}

#[test]
fn a_cscfg_attribute_with_long_whitespace_around_the_equals_sign_is_edited() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    let original = std::fs::read_to_string(example_cscfg()).expect("example");
    let spaced = original.replace(
        "<Setting name=\"AllowedClientCertificateThumbprints\" value=\"\" />",
        &format!(
            "<Setting name=\"AllowedClientCertificateThumbprints\" value{}={}\"\" />",
            " ".repeat(3000),
            "\t".repeat(3000)
        ),
    );
    std::fs::write(env.path("svc.cscfg"), &spaced).expect("write");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--allow", "alice.cer"],
    );
    let thumb = env.openssl_thumbprint("alice.cer");
    assert_eq!(
        String::from_utf8(env.read("svc.cscfg")).expect("utf8"),
        spaced.replacen(
            &format!("{}\"\"", "\t".repeat(3000)),
            &format!("{}\"{thumb}\"", "\t".repeat(3000)),
            1
        )
    );
}

#[test]
fn a_hand_edited_serial_is_reported_with_its_line() {
    let env = Env::new();
    p256_ca(&env);
    env.issue_client("pki", "alice", "alice");
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    env.tampered("pki");
    let text = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
    let serial = env.list("pki")[0]["serial"]
        .as_str()
        .expect("serial")
        .to_string();
    let edited = format!("{}\u{e9}{}", &serial[..4], &serial[5..]);
    std::fs::write(
        env.path("pki/inventory.jsonl"),
        text.replace(&serial, &edited),
    )
    .expect("write");
    let err = env.fails(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        1,
    );
    // Every record names the serial, so every one is damaged; the error names one of their lines (the last
    // one is read first: a command reads the log's end, not its whole history).
    assert_contains(&err, &["inventory", "is not a serial number"]);
    assert!(
        ["line 1:", "line 2:", "line 3:"]
            .iter()
            .any(|line| err.contains(line)),
        "{err}"
    );
}
