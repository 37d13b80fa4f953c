//! Profile files (issue 33): `certkit-ca profile add` checks a profile and has the CA key sign it;
//! `--profile NAME` and `--subject` in client, sign and batches; what the profile says read back by Python
//! `cryptography`, openssl and pkilint; refusals naming the rule; an intruder's edited or planted profile
//! refused; renewals by the profile as it is now, under an issuing CA.

use super::common::*;

/// The issue's example, with the OCSP and CRL URLs a profile may name (the fuzz seeds start from it too).
const STAFF: &str = include_str!("../../fixtures/profiles/staff.toml");

const ADD: [&str; 2] = ["--ca-pass", "env:CA_PW"];

fn add_profile(env: &Env, ca: &str, file: &str, text: &str) -> serde_json::Value {
    std::fs::write(env.path(file), text).expect("write profile");
    let mut args = vec!["profile", "add", "--ca", ca, "--from", file, "--json"];
    args.extend(ADD);
    env.json("certkit-ca", &args)
}

fn issued_files(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.path("."))
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pem") || n.ends_with(".key") || n.ends_with(".cer"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_profile_puts_what_it_says_in_the_certificate_as_cryptography_openssl_and_pkilint_read_it() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    let added = add_profile(&env, "pki", "staff.toml", STAFF);
    assert_eq!(added["profile"], "staff");
    assert_eq!(added["changed"], true);
    let sha = env.openssl_ok(&["dgst", "-sha256", "-r", "staff.toml"]);
    assert_eq!(added["sha256"], sha.split_whitespace().next().expect("sha"));
    // The same file again changes nothing and asks the key for nothing.
    let again = env.json(
        "certkit-ca",
        &[
            "profile",
            "add",
            "--ca",
            "pki",
            "--from",
            "staff.toml",
            "--json",
            "--ca-pass",
            "env:NOPE",
        ],
    );
    assert_eq!(again["changed"], false);
    let json = env.issue(&cli(
        "client --ca pki --profile staff --cn alice --subject OU=Sales --upn alice@contoso.com \
         --email alice@contoso.com --key p256 --out alice",
    ));
    assert_eq!(json["subject"], "CN=alice,OU=Sales,O=Contoso");
    let facts = &peer_facts(&env, "profile_facts.py", &["alice.pem"])[0];
    assert_eq!(
        facts["subject"],
        serde_json::json!([
            ["2.5.4.10", "Contoso"],
            ["2.5.4.11", "Sales"],
            ["2.5.4.3", "alice"]
        ])
    );
    assert_eq!(
        facts["ekus"],
        serde_json::json!(["1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2"])
    );
    assert_eq!(
        facts["policies"],
        serde_json::json!([{
            "oid": "1.3.6.1.4.1.99999.1.1",
            "cps": ["https://pki.example.com/cps"],
            "notices": ["Staff certificates only"]
        }])
    );
    assert_eq!(
        facts["ocsp"],
        serde_json::json!(["http://ocsp.example.com/staff"])
    );
    assert_eq!(
        facts["crl"],
        serde_json::json!(["http://pki.example.com/staff.crl"])
    );
    assert_eq!(facts["key_usage"], serde_json::json!(["digital_signature"]));
    let critical = &facts["critical"];
    assert_eq!(critical["2.5.29.32"], false);
    assert_eq!(critical["1.3.6.1.5.5.7.1.1"], false);
    assert_eq!(critical["2.5.29.15"], true);
    assert_contains(
        &env.x509_text("alice.pem"),
        &[
            "Policy: 1.3.6.1.4.1.99999.1.1",
            "CPS: https://pki.example.com/cps",
            "Explicit Text: Staff certificates only",
            "OCSP - URI:http://ocsp.example.com/staff",
            "URI:http://pki.example.com/staff.crl",
        ],
    );
    // pkilint's PKIX linters find one thing: RFC 5280 4.2.1.4 RECOMMENDS policies without qualifiers, and
    // pkilint says so (NOTICE) for a policy that has them; the profile asks for a CPS and a notice, which the
    // issue wants. Anything else fails the test; a policy without qualifiers lints clean (below).
    let found = pkilint_findings(&env, "lint_pkix_cert", &["alice.pem"]);
    let others: Vec<&str> = found
        .lines()
        .filter(|l| {
            !l.starts_with("CertificatePolicyQualifierValidator @ ")
                && !l.contains("pkix.certificate_policies_policy_has_qualifier (NOTICE)")
        })
        .collect();
    assert!(
        found.contains("pkix.certificate_policies_policy_has_qualifier"),
        "{found}"
    );
    assert!(others.is_empty(), "pkilint found more:\n{found}");
    env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "alice.pem"]);
    // sign --profile staff: the same content for a key that never came here.
    env.openssl_p256_csr("bob", "/CN=bob");
    env.ok(
        "certkit-issue",
        &cli(
            "sign --ca pki --csr bob.csr --profile staff --subject OU=IT --upn bob@contoso.com \
             --out bob --ca-pass env:CA_PW",
        ),
    );
    let facts = &peer_facts(&env, "profile_facts.py", &["bob.pem"])[0];
    assert_eq!(
        facts["subject"],
        serde_json::json!([
            ["2.5.4.10", "Contoso"],
            ["2.5.4.11", "IT"],
            ["2.5.4.3", "bob"]
        ])
    );
    assert_eq!(facts["policies"][0]["oid"], "1.3.6.1.4.1.99999.1.1");
    let list = env.list("pki");
    assert!(
        list.iter().all(|row| row["profile_file"] == "staff"),
        "{list:?}"
    );
    // A built-in profile shown as a file is a profile the CA takes, and issues as the built-in one does.
    let shown = env.ok("certkit-ca", &["profile", "show", "server"]);
    std::fs::write(env.path("web.toml"), &shown).expect("write");
    env.ok(
        "certkit-ca",
        &[
            "profile",
            "add",
            "--ca",
            "pki",
            "--from",
            "web.toml",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    env.issue(&cli(
        "server --ca pki --profile web --cn web.example.com --key p256 --out web",
    ));
    let web = &peer_facts(&env, "profile_facts.py", &["web.pem"])[0];
    assert_eq!(web["ekus"], serde_json::json!(["1.3.6.1.5.5.7.3.1"]));
    assert_eq!(web["policies"], serde_json::json!([]));
    let listed = env.json("certkit-ca", &["profile", "list", "--ca", "pki", "--json"]);
    let states: Vec<(&str, &str)> = listed["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name"),
                p["state"].as_str().expect("state"),
            )
        })
        .collect();
    assert_eq!(states, [("staff", "signed"), ("web", "signed")]);
}

#[test]
fn a_request_the_profile_does_not_allow_is_refused_by_rule_and_value_before_anything_is_made() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    add_profile(&env, "pki", "staff.toml", STAFF);
    env.openssl_p256_csr("finance", "/CN=finance");
    let before = issued_files(&env);
    let refused = |line: &str, expected: &str| {
        let err = env.fails("certkit-issue", &Env::with_passwords(&cli(line)), 2);
        assert_contains(&err, &[expected]);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    };
    let base = "client --ca pki --profile staff --cn alice --out alice --key p256";
    refused(
        &format!("{base} --upn a@contoso.com --subject OU=Finance"),
        "OU=Finance is not allowed by profile staff: allowed OU values are Sales, IT",
    );
    refused(
        &format!("{base} --upn a@contoso.com --subject O=Fabrikam"),
        "O=Fabrikam is not allowed by profile staff: O is always Contoso",
    );
    refused(base, "profile staff requires a upn name: add --upn");
    refused(
        &format!("{base} --upn a@contoso.com --uri https://contoso.com/a"),
        "--uri is not allowed by profile staff: it allows email, upn, sid",
    );
    refused(
        &format!("{base} --upn a@contoso.com --days 398"),
        "398 days is not allowed by profile staff: its certificates live at most 397 days",
    );
    refused(
        "client --ca pki --profile staff --cn alice --out alice --key rsa4096 --upn a@contoso.com",
        "a rsa4096 key is not allowed by profile staff: allowed key types are rsa2048, p256",
    );
    refused(
        &format!("{base} --upn a@contoso.com --eku 1.3.6.1.5.5.7.3.4"),
        "EKU 1.3.6.1.5.5.7.3.4 is not allowed by profile staff",
    );
    refused(
        "client --ca pki --cn alice --out alice --subject OU=Sales",
        "--subject OU=Sales needs --profile NAME",
    );
    refused(
        "server --ca pki --profile staff --cn web.example.com --out web",
        "profile staff is a client profile: issue by it with certkit-issue client",
    );
    refused(
        "client --ca pki --profile contractors --cn alice --out alice",
        "this CA has no profile contractors (its profiles: staff)",
    );
    refused(
        &format!("{base} --upn a@contoso.com --subject CN=alice"),
        "CN is not a subject attribute certkit sets",
    );
    // The CSR path refuses the same, for a key that never came here.
    refused(
        "sign --ca pki --csr finance.csr --profile staff --subject OU=Finance --upn f@contoso.com --out finance",
        "OU=Finance is not allowed by profile staff: allowed OU values are Sales, IT",
    );
    // A batch refused: named by its line, nothing of it issued (no folder, no record).
    let batch_refused = |csv: &str, flags: &str, expected: &str| {
        std::fs::write(env.path("people.csv"), csv).expect("csv");
        let line = format!("client --ca pki --batch people.csv --out-dir people --key p256{flags}");
        let err = env.fails("certkit-issue", &Env::with_passwords(&cli(&line)), 2);
        assert_contains(&err, &[expected, "nothing was issued"]);
        assert!(!env.path("people").exists());
        assert!(env.list("pki").is_empty());
    };
    // A batch row the profile refuses.
    batch_refused(
        "cn,upn,ou,profile\ncarol,carol@contoso.com,IT,staff\ndave,dave@contoso.com,Finance,staff\n",
        "",
        "people.csv: line 3: OU=Finance is not allowed by profile staff",
    );
    assert_eq!(issued_files(&env), before);
    // A batch's --eku is checked against each row's profile before anything is made, as it will be issued.
    batch_refused(
        "cn,upn,profile\ncarol,carol@contoso.com,staff\n",
        " --eku 1.3.6.1.5.5.7.3.4",
        "people.csv: line 2: EKU 1.3.6.1.5.5.7.3.4 is not allowed by profile staff",
    );
    // A batch's --eku is checked against each row's profile before anything is made, as it will be issued.
    std::fs::write(
        env.path("people.csv"),
        "cn,upn,profile\ncarol,carol@contoso.com,staff\n",
    )
    .expect("csv");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir people --key p256 --eku 1.3.6.1.5.5.7.3.4",
        )),
        2,
    );
    assert_contains(
        &err,
        &[
            "people.csv: line 2: EKU 1.3.6.1.5.5.7.3.4 is not allowed by profile staff",
            "nothing was issued",
        ],
    );
    assert!(!env.path("people").exists());
    assert!(env.list("pki").is_empty());
    // The same batch, fixed: each row as its profile says, a row without a profile as the built-in client.
    std::fs::write(
        env.path("people.csv"),
        "cn,upn,ou,profile\ncarol,carol@contoso.com,IT,staff\ndave,,,\n",
    )
    .expect("csv");
    env.issue(&cli(
        "client --ca pki --batch people.csv --out-dir people --key p256",
    ));
    let carol = &peer_facts(&env, "profile_facts.py", &["people/carol.pem"])[0];
    assert_eq!(carol["subject"][1], serde_json::json!(["2.5.4.11", "IT"]));
    let dave = &peer_facts(&env, "profile_facts.py", &["people/dave.pem"])[0];
    assert_eq!(dave["subject"], serde_json::json!([["2.5.4.3", "dave"]]));
    assert_eq!(dave["policies"], serde_json::json!([]));
}

#[test]
fn a_profile_is_checked_before_the_ca_takes_it_and_one_an_intruder_edits_or_plants_is_refused() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256 --days 365"));
    let add_fails = |text: &str, expected: &str| {
        std::fs::write(env.path("bad.toml"), text).expect("write");
        let err = env.fails(
            "certkit-ca",
            &[
                "profile",
                "add",
                "--ca",
                "pki",
                "--from",
                "bad.toml",
                "--ca-pass",
                "env:CA_PW",
            ],
            2,
        );
        assert_contains(&err, &[expected]);
        assert!(!env.path("pki/profiles/bad.toml").exists());
    };
    add_fails(
        "base = \"client\"\nmax_dayz = 30\n",
        "profile bad, line 2: unknown field `max_dayz`",
    );
    add_fails(
        "base = \"client\"\nmax_days = 400\n",
        "max_days 400 is past the CA's own validity",
    );
    add_fails(
        "base = \"client\"\n[[policies]]\noid = \"1.3.6.x\"\n",
        "'1.3.6.x' is not an OID",
    );
    add_profile(&env, "pki", "staff.toml", &STAFF.replace("397", "300"));
    let issue_alice = |code: i32| {
        env.fails(
            "certkit-issue",
            &Env::with_passwords(&cli(
                "client --ca pki --profile staff --cn alice --upn alice@contoso.com --key p256 --out alice --days 30",
            )),
            code,
        )
    };
    env.issue(&cli(
        "client --ca pki --profile staff --cn early --upn early@contoso.com --key p256 --out early --days 30",
    ));
    // The intruder can write the CA folder, not use its key: an edited profile is refused, and audit says so.
    let file = env.path("pki/profiles/staff.toml");
    let signed = std::fs::read_to_string(&file).expect("profile");
    std::fs::write(
        &file,
        signed.replace("\"Sales\", \"IT\"", "\"Sales\", \"IT\", \"Finance\""),
    )
    .expect("edit");
    let err = issue_alice(1);
    assert_contains(
        &err,
        &["profiles/staff.toml was changed after the CA key signed it"],
    );
    // Every other path that issues by it refuses too: the CSR, a batch row, a renewal by the profile.
    env.openssl_p256_csr("bob", "/CN=bob");
    std::fs::write(
        env.path("people.csv"),
        "cn,upn,ou,profile
carol,carol@contoso.com,Finance,staff
",
    )
    .expect("csv");
    for line in [
        "sign --ca pki --csr bob.csr --profile staff --upn bob@contoso.com --out bob --days 30",
        "client --ca pki --batch people.csv --out-dir people --key p256 --days 30",
        "renew --ca pki early.pem --out early-2 --days 30",
    ] {
        let err = env.fails("certkit-issue", &Env::with_passwords(&cli(line)), 1);
        assert_contains(&err, &["staff.toml was changed after the CA key signed it"]);
    }
    assert!(
        !env.path("bob.pem").exists()
            && !env.path("people").exists()
            && !env.path("early-2.pem").exists()
    );
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert_contains(
        &audit,
        &[
            "settings-changed",
            "staff.toml is changed after the CA key signed it",
        ],
    );
    // Put back, it is used again; a planted profile is never used, and audit and list name it.
    std::fs::write(&file, &signed).expect("restore");
    env.issue(&cli(
        "client --ca pki --profile staff --cn alice --upn alice@contoso.com --key p256 --out alice --days 30",
    ));
    std::fs::write(env.path("pki/profiles/planted.toml"), "base = \"client\"\n").expect("plant");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --profile planted --cn bob --key p256 --out bob --days 30",
        )),
        2,
    );
    assert_contains(
        &err,
        &["this CA has no profile planted (its profiles: staff)"],
    );
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(
        &String::from_utf8_lossy(&audit.stdout),
        &["planted.toml is a profile file the CA key never signed"],
    );
    let listed = env.run("certkit-ca", &["profile", "list", "--ca", "pki"]);
    assert_contains(
        &String::from_utf8_lossy(&listed.stdout),
        &["planted", "unsigned"],
    );
    assert_contains(
        &String::from_utf8_lossy(&listed.stderr),
        &["was never signed by the CA key"],
    );
    // Removed by the intruder: refused, not silently issued as the built-in client.
    std::fs::remove_file(env.path("pki/profiles/planted.toml")).expect("unplant");
    std::fs::remove_file(&file).expect("remove");
    let err = issue_alice(1);
    assert_contains(&err, &["the profile is gone"]);
    // Put back, the CA passes its audit again (Env checks every CA it made when it is dropped).
    std::fs::write(&file, &signed).expect("restore");
}

#[test]
fn a_renewal_under_an_issuing_ca_is_made_by_the_profile_as_the_ca_key_signs_it_now() {
    let env = Env::new();
    env.root_and_issuing("root", "issuing", &[], &[]);
    add_profile(&env, "issuing", "staff.toml", STAFF);
    env.issue(&cli(
        "client --ca issuing --profile staff --cn alice --subject OU=Sales --upn alice@contoso.com \
         --key p256 --out alice",
    ));
    let renewed = env.issue(&cli("renew --ca issuing alice.pem --out alice-2"));
    assert_eq!(renewed["subject"], "CN=alice,OU=Sales,O=Contoso");
    let facts = &peer_facts(&env, "profile_facts.py", &["alice-2.pem"])[0];
    assert_eq!(
        facts["policies"][0]["notices"][0],
        "Staff certificates only"
    );
    assert_eq!(
        facts["ocsp"],
        serde_json::json!(["http://ocsp.example.com/staff"])
    );
    env.openssl_ok(&[
        "verify",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing/ca.pem",
        "alice-2.pem",
    ]);
    // The profile tightened: Sales is no longer allowed, and the renewal says so by rule and value.
    add_profile(
        &env,
        "issuing",
        "staff.toml",
        &STAFF.replace("[\"Sales\", \"IT\"]", "[\"IT\"]"),
    );
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli("renew --ca issuing alice-2.pem --out alice-3")),
        2,
    );
    assert_contains(
        &err,
        &["cannot be renewed: OU=Sales is not allowed by profile staff: allowed OU values are IT"],
    );
    assert!(!env.path("alice-3.pem").exists());
}

#[test]
fn a_ca_certificate_carries_its_own_policies_and_keeps_them_when_renewed() {
    let env = Env::new();
    env.root_and_issuing(
        "root",
        "issuing",
        &["--policy", "2.5.29.32.0"],
        &[
            "--policy",
            "1.3.6.1.4.1.99999.2.1",
            "1.3.6.1.4.1.99999.2.2",
            "--cps",
            "https://pki.example.com/cps",
        ],
    );
    let root = &peer_facts(&env, "profile_facts.py", &["root/ca.pem"])[0];
    assert_eq!(
        root["policies"],
        serde_json::json!([{"oid": "2.5.29.32.0", "cps": [], "notices": []}])
    );
    let policies = |pem: &str| peer_facts(&env, "profile_facts.py", &[pem])[0]["policies"].clone();
    let expected = serde_json::json!([
        {"oid": "1.3.6.1.4.1.99999.2.1", "cps": ["https://pki.example.com/cps"], "notices": []},
        {"oid": "1.3.6.1.4.1.99999.2.2", "cps": ["https://pki.example.com/cps"], "notices": []}
    ]);
    assert_eq!(policies("issuing/ca.pem"), expected);
    assert_eq!(
        peer_facts(&env, "profile_facts.py", &["issuing/ca.pem"])[0]["critical"]["2.5.29.32"],
        false
    );
    // Renewed through its root, the issuing CA keeps them; a leaf still verifies with openssl's policy check.
    env.ok(
        "certkit-ca",
        &[
            "renew",
            "--ca",
            "issuing",
            "--parent",
            "root",
            "--parent-pass",
            "env:CA_PW",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    assert_eq!(policies("issuing/ca.pem"), expected);
    // A leaf by a profile under one of them verifies with openssl's explicit policy check (RFC 5280 6.1).
    add_profile(
        &env,
        "issuing",
        "staff.toml",
        "base = \"client\"\n[[policies]]\noid = \"1.3.6.1.4.1.99999.2.1\"\n",
    );
    env.issue(&cli(
        "client --ca issuing --profile staff --cn alice --key p256 --out alice",
    ));
    env.openssl_ok(&[
        "verify",
        "-policy_check",
        "-explicit_policy",
        "-policy",
        "1.3.6.1.4.1.99999.2.1",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing/ca.pem",
        "alice.pem",
    ]);
    let err = env.fails(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "bad",
            "--cn",
            "Bad CA",
            "--policy",
            "1.x",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["'1.x' is not an OID"]);
    assert!(!env.path("bad").exists());
}
