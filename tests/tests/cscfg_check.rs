//! `certkit-export cscfg --check`: the guide's pre-deploy check on the setup script's output (clean) and on a
//! configuration broken the ways hand edits break it (each finding with its role, exit 1, nothing changed).

mod common;

use common::*;

fn setup(env: &Env) {
    let out = env
        .script("splitmerge-setup.sh")
        .args([
            "--dir",
            "d",
            "--service",
            "svc.cloudapp.net",
            "--people",
            "Alice,Bob",
            "--cscfg-template",
            &example_cscfg(),
            "--ca-pass",
            "env:CA_PW",
            "--key-pass",
            "env:KEY_PW",
            "--pfx-pass",
            "env:PFX_PW",
        ])
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn check(env: &Env, file: &str, code: i32) -> serde_json::Value {
    let out = env.run(
        "certkit-export",
        &[
            "cscfg",
            "--file",
            file,
            "--check",
            "--certs",
            "d/keys/ssl.cer",
            "d/keys/encryption.cer",
            "d/keys/client-alice.cer",
            "d/keys/client-bob.cer",
            "d/upload/ca.cer",
            "--ca",
            "d/ca",
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// (role, level, code) of every finding.
fn found(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["role"].as_str().expect("role").to_string(),
                f["level"].as_str().expect("level").to_string(),
                f["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_setup_scripts_configuration_passes_and_a_broken_one_names_each_problem() {
    let env = Env::new();
    setup(&env);
    let clean = check(&env, "d/ServiceConfiguration.cscfg", 0);
    assert_eq!(clean["ok"], true);
    assert!(found(&clean).is_empty(), "{:?}", found(&clean));
    assert_eq!(
        clean["roles"],
        serde_json::json!(["SplitMergeWeb", "SplitMergeWorker"])
    );

    // Broken by hand: a thumbprint pasted from the Windows dialog, a CA pair that disagrees, a revoked person
    // still allowed, and a thumbprint nobody has.
    env.ok(
        "certkit-ca",
        &["revoke", "--ca", "d/ca", "d/keys/client-bob.cer"],
    );
    let ssl = env.openssl_thumbprint("d/keys/ssl.pem");
    let bob = env.openssl_thumbprint("d/keys/client-bob.pem");
    let ca = env.openssl_thumbprint("d/ca/ca.pem");
    let pasted: String = format!(
        "\u{200e}{}",
        ssl.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let original = String::from_utf8(env.read("d/ServiceConfiguration.cscfg")).expect("utf-8");
    let broken = original
        .replacen(
            &format!("name=\"SSL\" thumbprint=\"{ssl}\""),
            &format!("name=\"SSL\" thumbprint=\"{pasted}\""),
            1,
        )
        .replacen(
            &format!("name=\"AdditionalTrustedRootCertificationAuthorities\" value=\"{ca}\""),
            "name=\"AdditionalTrustedRootCertificationAuthorities\" value=\"0123456789ABCDEF0123456789ABCDEF01234567\"",
            1,
        )
        .replacen(
            &format!("{bob}\""),
            &format!("{bob},BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\""),
            1,
        );
    assert_ne!(broken, original);
    std::fs::write(env.path("broken.cscfg"), &broken).expect("write");
    let report = check(&env, "broken.cscfg", 1);
    assert_eq!(report["ok"], false);
    let broken_found = found(&report);
    let web = "SplitMergeWeb".to_string();
    for (level, code) in [
        ("error", "thumbprint-pasted"),
        ("error", "ca-mismatch"),
        ("error", "allowed-revoked"),
        ("warning", "thumbprint-unknown"),
        ("warning", "allowed-not-issued"),
    ] {
        assert!(
            broken_found.contains(&(web.clone(), level.into(), code.into())),
            "{level} {code} missing: {broken_found:?}"
        );
    }
    let messages = report["findings"].to_string();
    assert_contains(
        &messages,
        &[&ssl, &bob, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"],
    );
    assert!(
        !messages.contains('\u{200e}'),
        "the invisible character is not repeated"
    );
    assert_eq!(
        env.read("broken.cscfg"),
        broken.as_bytes(),
        "--check changes nothing"
    );
    assert!(!env.path("broken.cscfg.bak").exists());

    // Online revocation checks with client certificates that name no CRL distribution point.
    let online = original.replace(
        "name=\"ClientCertificateRevocationCheck\" value=\"NoCheck\"",
        "name=\"ClientCertificateRevocationCheck\" value=\"Online\"",
    );
    assert_ne!(
        online, original,
        "the example sets ClientCertificateRevocationCheck"
    );
    std::fs::write(env.path("online.cscfg"), &online).expect("write");
    let report = check(&env, "online.cscfg", 1);
    assert!(
        found(&report).contains(&(web, "error".into(), "revocation-online-no-crl".into())),
        "{:?}",
        found(&report)
    );
}

#[test]
fn check_conflicts_with_edits_and_certs_need_check() {
    let env = Env::new();
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    let err = env.fails(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --check --allow 0123456789ABCDEF0123456789ABCDEF01234567"),
        2,
    );
    assert_contains(&err, &["--check", "--allow"]);
    let err = env.fails(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--certs", "x.cer"],
        2,
    );
    assert_contains(&err, &["--check"]);
    // The example as shipped has empty thumbprints: the check says so, per role, and exits 1.
    let out = env.run(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--check", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "thumbprint-empty" && f["role"] == "SplitMergeWorker"),
        "{report:#}"
    );
}
