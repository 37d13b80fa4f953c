//! `certkit-export cscfg`: in-place edits that change only the intended bytes, read back by Python's XML
//! parser; dry runs; refusals that leave the file untouched.

mod common;

use common::*;

fn fixture(env: &Env) -> String {
    env.cscfg_fixture("two-roles.cscfg")
}

fn read_back(env: &Env) -> serde_json::Value {
    env.read_cscfg("svc.cscfg")
}

/// A CA, an SSL server certificate, an encryption certificate and two clients.
fn certificates(env: &Env) {
    env.init_ca("pki");
    for (kind, cn, out) in [
        ("server", "svc.example.com", "ssl"),
        ("encryption", "enc", "enc"),
    ] {
        env.ok(
            "certkit-issue",
            &[
                kind,
                "--self-signed",
                "--cn",
                cn,
                "--out",
                out,
                "--key-pass",
                "env:KEY_PW",
                "--key",
                "p256",
            ],
        );
    }
    for cn in ["alice", "bob"] {
        env.ok(
            "certkit-issue",
            &[
                "client",
                "--ca",
                "pki",
                "--cn",
                cn,
                "--out",
                cn,
                "--key",
                "p256",
                "--ca-pass",
                "env:CA_PW",
                "--key-pass",
                "env:KEY_PW",
            ],
        );
    }
}

#[test]
fn round_trip_changes_only_the_values() {
    let env = Env::new();
    let original = fixture(&env);
    certificates(&env);
    let (ssl, ca, enc, alice, bob) = (
        env.openssl_thumbprint("ssl.pem"),
        env.openssl_thumbprint("pki/ca.pem"),
        env.openssl_thumbprint("enc.pem"),
        env.openssl_thumbprint("alice.pem"),
        env.openssl_thumbprint("bob.pem"),
    );
    let out = env.ok(
        "certkit-export",
        &[
            "cscfg",
            "--file",
            "svc.cscfg",
            "--ssl",
            "ssl.cer",
            "--ca-cert",
            "pki/ca.cer",
            "--encryption",
            "enc.pem",
            "--allow",
            "alice.cer",
            "--allow",
            &bob,
            "--allow",
            "alice.pem",
            "--revocation-check",
            "Online",
            // The CA has no CRL URL: --check would call Online an error (issue 29, 23); this test is about bytes.
            "--force",
        ],
    );
    assert_contains(
        &out,
        &[
            &format!("Role \"Web\": Certificate \"SSL\" thumbprint: (empty) -> {ssl}"),
            "Role \"Web\": Setting \"ClientCertificateRevocationCheck\": NoCheck -> Online",
            &format!(
                "Role \"Worker\": Certificate \"DataEncryptionPrimary\" thumbprint: (empty) -> {enc}"
            ),
            "previous version in svc.cscfg.bak",
        ],
    );
    // Expected bytes: the original with exactly these values replaced (the existing allow-list entries are
    // normalised because that value was rewritten).
    let expected = original
        .replace(
            "value=\"0000000000000000000000000000000000000001,  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            &format!("value=\"0000000000000000000000000000000000000001,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,{alice},{bob}\""),
        )
        .replace("value='NoCheck'", "value='Online'")
        .replace("thumbprint=\"\" />\r\n      <Certificate name=\"CA\"", &format!("thumbprint=\"{ssl}\" />\r\n      <Certificate name=\"CA\""))
        .replace("thumbprint=\"\"\r\n", &format!("thumbprint=\"{ca}\"\r\n"))
        .replace("AdditionalTrustedRootCertificationAuthorities\" value=\"\"", &format!("AdditionalTrustedRootCertificationAuthorities\" value=\"{ca}\""))
        .replace("name=\"DataEncryptionPrimary\" thumbprint=\"\"", &format!("name=\"DataEncryptionPrimary\" thumbprint=\"{enc}\""))
        .replace("DataEncryptionPrimaryCertificateThumbprint\" value=\"\"", &format!("DataEncryptionPrimaryCertificateThumbprint\" value=\"{enc}\""));
    let edited = String::from_utf8(env.read("svc.cscfg")).expect("utf8");
    assert_eq!(edited, expected);
    assert_eq!(env.read("svc.cscfg.bak"), original.as_bytes());
    // `diff` agrees: only the 8 value lines differ (comment, layout and CRLF untouched).
    let diff = env.tool("diff", &["svc.cscfg.bak", "svc.cscfg"]);
    let changed = text(&diff.stdout)
        .lines()
        .filter(|l| l.starts_with('>'))
        .count();
    assert_eq!(changed, 8, "{}", text(&diff.stdout));
    let back = read_back(&env);
    assert_eq!(
        back["Web"]["certificates"]["SSL"],
        serde_json::json!([ssl, "sha1"])
    );
    assert_eq!(
        back["Web"]["certificates"]["CA"],
        serde_json::json!([ca, "sha1"])
    );
    assert_eq!(
        back["Worker"]["certificates"]["DataEncryptionPrimary"],
        serde_json::json!([enc, "sha1"])
    );
    assert_eq!(
        back["Worker"]["settings"]["DataEncryptionPrimaryCertificateThumbprint"],
        enc.as_str()
    );
    assert_eq!(
        back["Web"]["settings"]["ClientCertificateRevocationCheck"],
        "Online"
    );
    assert_eq!(
        back["Web"]["settings"]["AdditionalTrustedRootCertificationAuthorities"],
        ca.as_str()
    );
    // Running the same command again changes nothing.
    let again = env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --ssl ssl.cer --allow alice.cer"),
    );
    assert_contains(&again, &["already up to date"]);
    assert_eq!(
        String::from_utf8(env.read("svc.cscfg")).expect("utf8"),
        expected
    );
}

#[test]
fn disallow_accepts_a_thumbprint_pasted_from_windows() {
    let env = Env::new();
    fixture(&env);
    certificates(&env);
    env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --allow alice.cer --allow bob.cer"),
    );
    let alice = env.openssl_thumbprint("alice.pem");
    let pasted: String = format!(
        "\u{200E}{}",
        alice
            .to_lowercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).expect("hex"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--disallow", &pasted],
    );
    let back = read_back(&env);
    let list = back["Web"]["settings"]["AllowedClientCertificateThumbprints"]
        .as_str()
        .expect("list")
        .to_string();
    assert!(!list.contains(&alice), "{list}");
    assert!(list.contains(&env.openssl_thumbprint("bob.pem")));
    // Typed garbage is refused.
    let err = env.fails(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--disallow", "12345"],
        2,
    );
    assert_contains(&err, &["neither a certificate file nor a SHA-1 thumbprint"]);
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let env = Env::new();
    let original = fixture(&env);
    certificates(&env);
    let out = env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --ssl ssl.pem --dry-run"),
    );
    assert_contains(
        &out,
        &[
            "--- svc.cscfg",
            "+++ svc.cscfg (edited)",
            "-      <Certificate thumbprintAlgorithm=\"sha1\" name=\"SSL\" thumbprint=\"\" />",
            "Dry run: nothing written",
        ],
    );
    assert_eq!(env.read("svc.cscfg"), original.as_bytes());
    assert!(!env.path("svc.cscfg.bak").exists());
}

#[test]
fn client_auth_off_follows_the_guide() {
    let env = Env::new();
    fixture(&env);
    certificates(&env);
    env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --ssl ssl.cer --client-auth off"),
    );
    let back = read_back(&env);
    let ssl = env.openssl_thumbprint("ssl.pem");
    assert_eq!(
        back["Web"]["settings"]["SetupWebAppForClientCertificates"],
        "false"
    );
    assert_eq!(
        back["Web"]["settings"]["SetupWebserverForClientCertificates"],
        "false"
    );
    assert_eq!(back["Web"]["certificates"]["CA"][0], ssl.as_str());
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--client-auth", "on"],
    );
    assert_eq!(
        read_back(&env)["Web"]["settings"]["SetupWebAppForClientCertificates"],
        "true"
    );
}

#[test]
fn bad_files_and_missing_entries_leave_the_file_untouched() {
    let env = Env::new();
    let original = fixture(&env);
    certificates(&env);
    // Missing setting and certificate entries are named.
    let no_revocation = original.replace(
        "      <Setting name='ClientCertificateRevocationCheck' value='NoCheck'/>\r\n",
        "",
    );
    std::fs::write(env.path("svc.cscfg"), &no_revocation).expect("write");
    let err = env.fails(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --ssl ssl.cer --revocation-check Online"),
        2,
    );
    assert_contains(
        &err,
        &["no role has <Setting name=\"ClientCertificateRevocationCheck\">"],
    );
    assert_eq!(env.read("svc.cscfg"), no_revocation.as_bytes());
    assert!(!env.path("svc.cscfg.bak").exists());
    // Malformed XML.
    let broken = original.replace("</Certificates>", "</Certificate>");
    std::fs::write(env.path("svc.cscfg"), &broken).expect("write");
    let err = env.fails(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ssl", "ssl.cer"],
        2,
    );
    assert_contains(&err, &["malformed XML"]);
    assert_eq!(env.read("svc.cscfg"), broken.as_bytes());
    // Wrong namespace.
    let other = original.replace("2008/10/ServiceConfiguration", "2008/10/ServiceDefinition");
    std::fs::write(env.path("svc.cscfg"), &other).expect("write");
    let err = env.fails(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ssl", "ssl.cer"],
        2,
    );
    assert_contains(&err, &["not a service configuration"]);
    assert_eq!(env.read("svc.cscfg"), other.as_bytes());
    // Missing file.
    let err = env.fails(
        "certkit-export",
        &["cscfg", "--file", "nope.cscfg", "--ssl", "ssl.cer"],
        2,
    );
    assert_contains(&err, &["nope.cscfg"]);
    assert!(!env.path("svc.cscfg.bak").exists());
}
