//! The Azure kits, read by independent readers: openssl pkcs12 and Python cryptography for the PFX bags, MAC
//! and chain; openssl for the trust files; the API Management policy compared byte for byte.

use super::*;

/// What `openssl pkcs12 -info` says about a PFX (its algorithms), with the PFX password.
fn pkcs12_info(env: &Env, file: &str) -> String {
    let out = env.openssl(&cli(&format!(
        "pkcs12 -info -in {file} -passin env:PFX_PW -noout -legacy"
    )));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr) + &text(&out.stdout)
}

/// The subjects of the certificates a PFX holds beside its own, as Python cryptography reads them.
fn pfx_chain(env: &Env, file: &str) -> String {
    let script = format!(
        "from cryptography.hazmat.primitives.serialization import pkcs12\nimport os\nkey, cert, extra = pkcs12.load_key_and_certificates(open('{file}','rb').read(), os.environb[b'PFX_PW'])\nassert key is not None\nprint(cert.subject.rfc4514_string())\nfor c in extra: print(c.subject.rfc4514_string())"
    );
    let out = env.tool("python3", &["-c", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn appgw_trusts_the_chain_and_warns_without_ocsp() {
    let env = Env::new();
    env.root_and_issuing("root", "issuing", &[], &[]);
    env.issue(&cli(
        "server --ca issuing --cn gw.example.test --dns gw.example.test --out gw",
    ));
    env.issue_client("issuing", "alice", "alice");
    let report = kit(
        &env,
        "--target appgw --ca issuing --out-dir appgw --server gw",
    );
    assert_eq!(codes(&report), ["appgw-no-ocsp"], "{report}");
    assert_eq!(report["findings"][0]["level"], "warning");
    // One chain, issuing CA and root, no leaf: openssl verifies alice against it alone.
    let chain = text(&env.read("appgw/trusted-client-ca.cer"));
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "{chain}");
    env.openssl_ok(&cli("verify -CAfile appgw/trusted-client-ca.cer alice.pem"));
    // The listener PFX: 3DES bags and a SHA-1 MAC, the full chain, at most 16 KB.
    let info = pkcs12_info(&env, "appgw/listener.pfx");
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
    assert!(info.contains("MAC: sha1"), "{info}");
    assert_eq!(
        pfx_chain(&env, "appgw/listener.pfx")
            .lines()
            .collect::<Vec<_>>(),
        ["CN=gw.example.test", "CN=Issuing CA 1", "CN=Test CA"]
    );
    assert!(env.read("appgw/listener.pfx").len() <= 16 * 1024);

    // With --require-revocation the same kit is refused, naming the rule, and nothing is written.
    let out = env.fails(
        "certkit-export",
        &cli("kit --target appgw --ca issuing --out-dir strict --server gw --require-revocation --from-pass env:KEY_PW --pfx-pass env:PFX_PW"),
        1,
    );
    assert!(out.contains("appgw-no-ocsp"), "{out}");
    assert!(!env.path("strict").exists());

    // Once the CA names a responder and the client certificates carry it, the warning goes.
    env.ok(
        "certkit-ca",
        &cli("settings --ca issuing --ocsp-url http://ocsp.example.test/ --ca-pass env:CA_PW"),
    );
    let report = kit(
        &env,
        "--target appgw --ca issuing --out-dir appgw2 --server gw",
    );
    assert_eq!(
        codes(&report),
        ["appgw-no-ocsp"],
        "alice has no OCSP URL yet: {report}"
    );
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1 of 1")
    );
    env.ok(
        "certkit-ca",
        &cli("revoke --ca issuing alice.cer --reason superseded --ca-pass env:CA_PW"),
    );
    env.issue_client("issuing", "alice", "alice2");
    let report = kit(
        &env,
        "--target appgw --ca issuing --out-dir appgw3 --server gw --require-revocation",
    );
    assert!(codes(&report).is_empty(), "{report}");
}

#[test]
fn appgw_refuses_a_listener_past_16_kb() {
    let env = Env::new();
    env.init_ca("pki");
    let mut args = "server --ca pki --cn big.example.test --out big".to_string();
    for i in 0..330 {
        args.push_str(&format!(
            " --dns host-{i:03}.a-rather-long-name.example.test"
        ));
    }
    env.issue(&cli(&args));
    let out = env.fails(
        "certkit-export",
        &cli("kit --target appgw --ca pki --out-dir big-kit --server big --from-pass env:KEY_PW --pfx-pass env:PFX_PW"),
        1,
    );
    assert!(out.contains("appgw-pfx-too-large"), "{out}");
    assert!(!env.path("big-kit").exists());
}

#[test]
fn appservice_kit_and_its_allow_list_through_a_revocation() {
    let env = Env::new();
    two_cas(&env);
    let report = kit(
        &env,
        "--target appservice --ca pki --out-dir app --server www",
    );
    assert!(codes(&report).is_empty(), "{report}");
    let info = pkcs12_info(&env, "app/server.pfx");
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
    assert!(info.contains("MAC: sha1"), "{info}");
    assert_eq!(
        pfx_chain(&env, "app/server.pfx")
            .lines()
            .collect::<Vec<_>>(),
        ["CN=localhost", "CN=Test CA"]
    );
    let mut valid: Vec<String> = ["alice.cer", "bob.cer"]
        .iter()
        .map(|c| thumbprint(&env, c))
        .collect();
    valid.sort();
    let listed = |env: &Env| {
        let mut lines: Vec<String> = text(&env.read("app/allowed-thumbprints.txt"))
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(listed(&env), valid);
    assert_eq!(env.read("app/client-ca.pem"), env.read("pki/ca.pem"));

    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    sign_crl(&env, "pki");
    let report = kit(&env, "--refresh app");
    let changed = outcomes(&report);
    assert!(
        changed.contains(&"allowed-thumbprints.txt replaced".to_string()),
        "{changed:?}"
    );
    assert!(
        changed.contains(&"crl.pem replaced".to_string()),
        "{changed:?}"
    );
    assert!(
        changed.contains(&"server.pfx unchanged".to_string()),
        "{changed:?}"
    );
    assert_eq!(listed(&env), [thumbprint(&env, "alice.cer")]);
    let bob_serial = env
        .openssl_ok(&cli("x509 -in bob.cer -noout -serial"))
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    let crl = env.openssl_ok(&cli("crl -in app/crl.pem -noout -text"));
    assert!(crl.contains(&bob_serial), "{crl}");
}

#[test]
fn apim_policy_identities_edited_byte_for_byte() {
    let env = Env::new();
    two_cas(&env);
    let fixture = std::fs::read(format!(
        "{}/fixtures/apim-policy.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    std::fs::write(env.path("policy.xml"), &fixture).expect("policy");
    let original = text(&fixture);
    let line = |who: &str| {
        format!(
            "\r\n\t\t\t\t<identity thumbprint=\"{}\" />",
            thumbprint(&env, &format!("{who}.cer"))
        )
    };
    let anchor = "<identity issuer-thumbprint=\"0123456789ABCDEF0123456789ABCDEF01234567\" />";

    // A dry run shows the diff and writes nothing.
    let dry = kit(
        &env,
        "--target apim --ca pki --out-dir apim --policy policy.xml --dry-run",
    );
    assert!(
        dry["policy"]["diff"]
            .as_str()
            .unwrap_or("")
            .contains(&line("alice").trim().to_string()),
        "{dry}"
    );
    assert_eq!(env.read("policy.xml"), fixture);
    assert!(!env.path("apim").exists());

    let report = kit(
        &env,
        "--target apim --ca pki --out-dir apim --policy policy.xml",
    );
    assert_eq!(codes(&report), ["apim-no-crl"], "{report}");
    assert_eq!(report["policy"]["added"], 2);
    let expected = original.replace(anchor, &format!("{anchor}{}{}", line("alice"), line("bob")));
    assert_eq!(text(&env.read("policy.xml")), expected);
    assert_eq!(env.read("policy.xml.bak"), fixture);
    assert_eq!(env.read("apim/ca-1.cer"), env.read("pki/ca.cer"));

    // Bob revoked: the refresh removes his line and nothing else.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    let report = kit(&env, "--refresh apim");
    assert_eq!(report["policy"]["removed"], 1, "{report}");
    let expected = original.replace(anchor, &format!("{anchor}{}", line("alice")));
    assert_eq!(text(&env.read("policy.xml")), expected);
}

#[test]
fn keyvault_pem_holds_a_pkcs8_key_the_certificate_and_its_chain() {
    let env = Env::new();
    two_cas(&env);
    let out = env
        .cmd("certkit-export")
        .args(cli("kit --target keyvault --format pem --ca pki --out-dir kv --server www --from-pass env:KEY_PW --json"))
        .output()
        .expect("kit");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("in the clear"),
        "{}",
        text(&out.stderr)
    );
    let pem = text(&env.read("kv/server.pem"));
    let labels: Vec<&str> = pem
        .lines()
        .filter_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|l| l.strip_suffix("-----"))
        })
        .collect();
    assert_eq!(labels, ["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path("kv/server.pem"))
        .expect("pem")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // openssl reads the key without a password and it is the certificate's.
    let key = env.openssl_ok(&cli("pkey -in kv/server.pem -pubout"));
    let cert = env.openssl_ok(&cli("x509 -in kv/server.pem -noout -pubkey"));
    assert_eq!(key, cert);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let steps = json["steps"].to_string();
    assert!(steps.contains("az keyvault certificate import"), "{steps}");
    assert!(!steps.contains("--password"), "{steps}");
}

#[test]
fn cses_kit_adds_the_os_profile_fragment() {
    let env = Env::new();
    two_cas(&env);
    let report = kit(&env, "--target cses --ca pki --out-dir cses --server www");
    assert!(codes(&report).is_empty(), "{report}");
    let fragment: serde_json::Value =
        serde_json::from_slice(&env.read("cses/os-profile-secrets.json")).expect("json");
    let url = &fragment["osProfile"]["secrets"][0]["vaultCertificates"][0]["certificateUrl"];
    assert!(
        url.as_str()
            .unwrap_or("")
            .contains("vault.azure.net/secrets/"),
        "{fragment}"
    );
    let info = pkcs12_info(&env, "cses/server.pfx");
    assert!(info.contains("MAC: sha1"), "{info}");
}

#[test]
fn cses_kit_keeps_the_service_configuration_thumbprints() {
    let env = Env::new();
    two_cas(&env);
    let original = env.cscfg_fixture("two-roles.cscfg");
    let report = kit(
        &env,
        "--target cses --ca pki --out-dir cses --server www --cscfg svc.cscfg",
    );
    assert!(codes(&report).is_empty(), "{report}");
    let (www, ca, alice, bob) = (
        thumbprint(&env, "www.cer"),
        thumbprint(&env, "pki/ca.cer"),
        thumbprint(&env, "alice.cer"),
        thumbprint(&env, "bob.cer"),
    );
    let edited = text(&env.read("svc.cscfg"));
    assert_eq!(env.read("svc.cscfg.bak"), original.as_bytes());
    let allowed = |list: &str| {
        format!("<Setting value=\"{list}\" name=\"AllowedClientCertificateThumbprints\" />")
    };
    let expected = original
        .replace(
            "name=\"SSL\" thumbprint=\"\"",
            &format!("name=\"SSL\" thumbprint=\"{www}\""),
        )
        .replacen(
            "<Certificate name=\"CA\"\r\n                   thumbprint=\"\"",
            &format!("<Certificate name=\"CA\"\r\n                   thumbprint=\"{ca}\""),
            1,
        )
        .replace(
            &allowed("0000000000000000000000000000000000000001,  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            &allowed(&format!(
                "0000000000000000000000000000000000000001,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,{alice},{bob}"
            )),
        );
    assert_eq!(edited, expected);

    // Bob revoked: the refresh takes him out of the allow-list and changes nothing else.
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    let report = kit(&env, "--refresh cses");
    assert_eq!(
        report["cscfg"]["changes"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(
        text(&env.read("svc.cscfg")),
        expected.replace(&format!(",{bob}"), "")
    );
}
