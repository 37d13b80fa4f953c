//! Client certificates that Active Directory maps strongly (KB5014754, issue 33): the UPN, the SID (SAN URI and
//! the SID extension) and the Smart Card Logon EKU, read back by Python `cryptography`, openssl and pkilint; the
//! `altSecurityIdentities` values computed again here from what openssl reads, and matched against published
//! worked examples (tests/fixtures/ad-mapping/examples.txt); batches, renewals and an issuing CA keep them.

use super::common::*;

const SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1105";

fn sid_uri(sid: &str) -> String {
    format!("tag:microsoft.com,2022-09-14:sid:{sid}")
}

/// The `X509:<I>...<SR>...` value computed from what openssl reads: the issuer's RDNs in RFC 2253 order
/// (last first) turned around, and the serial's bytes turned around.
fn issuer_serial_number(env: &Env, pem: &str) -> String {
    let issuer = env.openssl_ok(&[
        "x509", "-in", pem, "-noout", "-issuer", "-nameopt", "RFC2253",
    ]);
    let issuer = issuer.trim().strip_prefix("issuer=").expect("issuer=");
    // No value here holds an escaped comma: a plain split is the RDN split.
    let mut rdns: Vec<&str> = issuer.split(',').collect();
    rdns.reverse();
    let serial = env.openssl_ok(&["x509", "-in", pem, "-noout", "-serial"]);
    let serial = serial.trim().strip_prefix("serial=").expect("serial=");
    let bytes: Vec<&str> = (0..serial.len())
        .step_by(2)
        .map(|i| &serial[i..i + 2])
        .rev()
        .collect();
    format!(
        "X509:<I>{}<SR>{}",
        rdns.join(","),
        bytes.concat().to_uppercase()
    )
}

fn ski_value(env: &Env, pem: &str) -> String {
    let out = env.openssl_ok(&["x509", "-in", pem, "-noout", "-ext", "subjectKeyIdentifier"]);
    let hex = out
        .lines()
        .nth(1)
        .expect("SKI line")
        .trim()
        .replace(':', "");
    format!("X509:<SKI>{}", hex.to_lowercase())
}

#[test]
fn a_client_certificate_carries_its_identity_as_cryptography_openssl_and_pkilint_read_it() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    let json = env.issue(&cli(&format!(
        "client --ca pki --cn alice --out alice --key p256 --email alice@contoso.com \
         --upn alice@contoso.com --sid {SID} --sid-extension --uri https://contoso.com/people/alice \
         --smartcard-logon"
    )));
    let facts = &peer_facts(&env, "ad_facts.py", &["alice.pem"])[0];
    assert_eq!(facts["upns"], serde_json::json!(["alice@contoso.com"]));
    assert_eq!(facts["emails"], serde_json::json!(["alice@contoso.com"]));
    assert_eq!(
        facts["uris"],
        serde_json::json!([sid_uri(SID), "https://contoso.com/people/alice"])
    );
    assert_eq!(facts["sid_extension"], SID);
    assert_eq!(
        facts["ekus"],
        serde_json::json!(["1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2"])
    );
    // Criticality as AD CS writes it: the SID extension, the SAN (the subject is not empty) and the EKU are
    // not critical; basicConstraints and keyUsage are.
    let critical = &facts["critical"];
    assert_eq!(critical["1.3.6.1.4.1.311.25.2"], false);
    assert_eq!(critical["2.5.29.17"], false);
    assert_eq!(critical["2.5.29.37"], false);
    assert_eq!(critical["2.5.29.19"], true);
    assert_eq!(critical["2.5.29.15"], true);
    let text = env.x509_text("alice.pem");
    assert_contains(
        &text,
        &[
            "othername: UPN::alice@contoso.com",
            &format!("URI:{}", sid_uri(SID)),
            "1.3.6.1.4.1.311.25.2",
            "Microsoft Smartcard Login",
        ],
    );
    // pkilint's PKIX linters find one thing: the SID URI's syntax. Its URI check wants scheme://host (the
    // Python `validators.url` test), which a tag: URI (RFC 4151) never has; the form is Microsoft's, fixed by
    // KB5014754, and AD reads nothing else. Anything else it finds fails the test.
    let found = pkilint_findings(&env, "lint_pkix_cert", &["alice.pem"]);
    let sid_uri_finding = format!("Invalid URI syntax: \"{}\"", sid_uri(SID));
    let others: Vec<&str> = found
        .lines()
        .filter(|l| {
            let about_the_sid_uri = l.contains(&sid_uri_finding)
                || (l.starts_with("GeneralNameUriSyntaxValidator @ ")
                    && l.ends_with("subjectAltName.2.uniformResourceIdentifier"));
            !about_the_sid_uri
        })
        .collect();
    assert!(found.contains(&sid_uri_finding), "{found}");
    assert!(others.is_empty(), "pkilint found more:\n{found}");
    // The mapping lines, computed again from what openssl reads.
    let expected = issuer_serial_number(&env, "alice.pem");
    let mapping = &json["ad_mapping"];
    assert_eq!(mapping["strong_mapping"], "sid-extension");
    assert_eq!(mapping["sid"], SID);
    assert_eq!(mapping["upn"], "alice@contoso.com");
    let ids = &mapping["alt_security_identities"];
    assert_eq!(ids["issuer_serial_number"], expected.as_str());
    assert_eq!(ids["ski"], ski_value(&env, "alice.pem").as_str());
    assert_eq!(
        ids["set_aduser"],
        format!("Set-ADUser {SID} -Add @{{altSecurityIdentities='{expected}'}}").as_str()
    );
    // list --json gives the same; inspect says how AD maps it.
    let list = env.list("pki");
    assert_eq!(&list[0]["ad_mapping"], mapping);
    let inspected = env.json("certkit-export", &["inspect", "alice.pem", "--json"]);
    let inspected = serde_json::to_string(&inspected).expect("json");
    assert!(inspected.contains(&expected), "{inspected}");
    let shown = env.ok("certkit-export", &["inspect", "alice.pem"]);
    assert_contains(
        &shown,
        &[
            &format!("AD mapping   strong: SID extension ({SID})"),
            &expected,
        ],
    );
}

#[test]
fn the_text_output_gives_the_lines_to_paste_and_says_what_maps_each_certificate() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    // Without a SID: only an explicit mapping works, and the text says so with the lines to paste.
    let out = env.ok(
        "certkit-issue",
        &cli(
            "client --ca pki --cn bob --out bob --key p256 --upn bob@contoso.com \
             --ca-pass env:CA_PW --key-pass env:KEY_PW",
        ),
    );
    let expected = issuer_serial_number(&env, "bob.pem");
    assert_contains(
        &out,
        &[
            "Active Directory: no SID inside (--sid)",
            &format!("  altSecurityIdentities  {expected}"),
            &format!("  altSecurityIdentities  {}", ski_value(&env, "bob.pem")),
            &format!("  Set-ADUser 'bob' -Add @{{altSecurityIdentities='{expected}'}}"),
        ],
    );
    let shown = env.ok("certkit-export", &["inspect", "bob.pem"]);
    assert_contains(&shown, &["AD mapping   weak: no SID inside"]);
    // The SID URI alone: strong on Windows Server 2019 and later KDCs, and inspect says which.
    env.issue(&cli(&format!(
        "client --ca pki --cn carol --out carol --key p256 --sid {SID}"
    )));
    let facts = &peer_facts(&env, "ad_facts.py", &["carol.pem"])[0];
    assert_eq!(facts["sid_extension"], serde_json::Value::Null);
    let shown = env.ok("certkit-export", &["inspect", "carol.pem"]);
    assert_contains(
        &shown,
        &[&format!(
            "AD mapping   strong: SID URI ({SID}; KDCs on Windows Server 2019"
        )],
    );
    // A server certificate has no mapping lines.
    let out = env.ok(
        "certkit-issue",
        &cli("server --ca pki --cn svc.example.com --out svc --key p256 --ca-pass env:CA_PW --key-pass env:KEY_PW"),
    );
    assert!(!out.contains("altSecurityIdentities"), "{out}");
}

#[test]
fn a_batch_and_a_renewal_under_an_issuing_ca_keep_every_identity() {
    let env = Env::new();
    env.root_and_issuing("root", "issuing", &[], &[]);
    std::fs::write(
        env.path("people.csv"),
        format!(
            "cn,upn,sid,uri\nalice,alice@contoso.com,{SID},https://contoso.com/people/alice\n\
             dave,dave@contoso.com,,\n"
        ),
    )
    .expect("csv");
    let json = env.issue(&cli(
        "client --ca issuing --batch people.csv --out-dir team --key p256 --sid-extension --smartcard-logon",
    ));
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows[0]["ad_mapping"]["strong_mapping"], "sid-extension");
    assert_eq!(rows[1]["ad_mapping"]["strong_mapping"], "explicit-only");
    let expected = issuer_serial_number(&env, "team/alice.pem");
    assert!(
        expected.starts_with("X509:<I>CN=Issuing CA 1<SR>"),
        "{expected}"
    );
    assert_eq!(
        rows[0]["ad_mapping"]["alt_security_identities"]["issuer_serial_number"],
        expected.as_str()
    );
    let facts = peer_facts(&env, "ad_facts.py", &["team/alice.pem", "team/dave.pem"]);
    assert_eq!(facts[0]["sid_extension"], SID);
    assert_eq!(facts[0]["upns"], serde_json::json!(["alice@contoso.com"]));
    assert_eq!(facts[1]["sid_extension"], serde_json::Value::Null);
    assert_eq!(facts[1]["uris"], serde_json::json!([]));
    assert_eq!(facts[1]["upns"], serde_json::json!(["dave@contoso.com"]));
    for row in &facts {
        assert_eq!(
            row["ekus"],
            serde_json::json!(["1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2"])
        );
    }
    // The renewal has the same UPN, SID URI, SID extension, URIs and EKUs, with a new serial and its own lines.
    let serial = rows[0]["serial"].as_str().expect("serial").to_string();
    let renewed = env.issue(&["renew", "--ca", "issuing", &serial, "--out", "alice2"]);
    let new = &peer_facts(&env, "ad_facts.py", &["alice2.pem"])[0];
    for field in ["upns", "uris", "sid_extension", "ekus", "critical"] {
        assert_eq!(new[field], facts[0][field], "{field}");
    }
    let new_expected = issuer_serial_number(&env, "alice2.pem");
    assert_ne!(new_expected, expected);
    assert_eq!(
        renewed["ad_mapping"]["alt_security_identities"]["issuer_serial_number"],
        new_expected.as_str()
    );
    assert_eq!(renewed["ad_mapping"]["strong_mapping"], "sid-extension");
    let list = env.list("issuing");
    let row = list
        .iter()
        .find(|r| r["renewal_of"] == serial.as_str())
        .unwrap_or_else(|| panic!("no renewal in the list: {list:?}"));
    assert_eq!(
        row["ad_mapping"]["alt_security_identities"]["issuer_serial_number"],
        new_expected.as_str()
    );
}

#[test]
fn bad_identities_are_one_line_errors_before_anything_is_made() {
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    let base =
        "client --ca pki --cn x --out x --key p256 --ca-pass env:CA_PW --key-pass env:KEY_PW";
    for (extra, says) in [
        ("--sid S-1-5-21-x", "is not a SID"),
        (
            "--sid S-1-5-21-1-2-3-1105 --sid-extension --upn alice",
            "not a user principal name",
        ),
        ("--uri contoso.com/alice", "is not a URI"),
        ("--sid-extension", "add --sid SID"),
        (
            "--uri tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-4",
            "give the SID with --sid",
        ),
    ] {
        let err = env.fails("certkit-issue", &cli(&format!("{base} {extra}")), 2);
        assert!(err.contains(says), "{extra}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!env.path("x.pem").exists() && !env.path("x.key").exists());
    }
    // A server certificate has no identity flags.
    env.fails(
        "certkit-issue",
        &cli("server --ca pki --cn s.example.com --out s --upn a@b.c --ca-pass env:CA_PW --key-pass env:KEY_PW"),
        2,
    );
    // A batch row with a bad SID is named by its line, and nothing is issued.
    std::fs::write(
        env.path("people.csv"),
        "cn,sid\nalice,S-1-5-21-1-2-3-1105\nbob,S-1-5-21-nope\n",
    )
    .expect("csv");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir team --key p256",
        )),
        2,
    );
    assert!(err.contains("line 3") && err.contains("not a SID"), "{err}");
    assert!(!env.path("team").exists());
    assert!(env.list("pki").is_empty());
}

#[test]
fn alt_security_identities_match_the_published_worked_examples() {
    let env = Env::new();
    let examples = std::fs::read_to_string(format!(
        "{}/fixtures/ad-mapping/examples.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("examples");
    let mut checked = 0;
    for line in examples
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [subject, serial, expected, source] = fields[..] else {
            panic!("bad fixture line: {line}");
        };
        // The issuer with openssl, named as written (openssl's -subj is in encoded order), and a client
        // certificate with the example's serial.
        let n = checked.to_string();
        let (ca_key, ca_pem, csr, pem) = (
            format!("ca{n}.key"),
            format!("ca{n}.pem"),
            format!("c{n}.csr"),
            format!("c{n}.pem"),
        );
        env.openssl_ok(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &ca_key,
            "-out",
            &ca_pem,
            "-subj",
            subject,
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        env.openssl_p256_csr(&format!("c{n}"), "/CN=person");
        std::fs::write(env.path("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
        env.openssl_ok(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-set_serial",
            &format!("0x{serial}"),
            "-days",
            "30",
            "-extfile",
            "client.ext",
            "-out",
            &pem,
        ]);
        let json = env.json("certkit-export", &["inspect", &pem, "--json"]);
        assert_eq!(
            json[0]["certificates"][0]["ad_mapping"]["alt_security_identities"]["issuer_serial_number"],
            expected,
            "{subject} {serial}: {json}"
        );
        // And this test's own reading of openssl's output agrees (where no value needs quoting and every
        // attribute is named alike by openssl and Windows).
        if source != "certkit" {
            assert_eq!(issuer_serial_number(&env, &pem), expected);
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} examples");
}
