//! The seams between custody, hierarchy, rollover, lapse and the index: each test plays a finding of the
//! hostile review of issue 29 (an intruder who can write the CA folder but has no key, a killed command, a
//! hurried operator) and failed before its fix. Numbers are the review's.

mod common;

use common::*;

fn crl_number(env: &Env, crl: &str) -> u64 {
    let text = env.openssl_ok(&["crl", "-in", crl, "-inform", "DER", "-noout", "-crlnumber"]);
    let hex = text
        .trim()
        .trim_start_matches("crlNumber=")
        .trim_start_matches("0x");
    u64::from_str_radix(hex, 16).expect("CRL number")
}

fn crl(env: &Env, ca: &str, extra: &[&str]) -> String {
    let mut args = vec!["crl", "--ca", ca, "--ca-pass", "env:CA_PW"];
    args.extend_from_slice(extra);
    env.ok("certkit-ca", &args)
}

// 1. `crl --out` replaced a published CRL with a lower-numbered one.

#[test]
fn a_rolled_back_ca_never_publishes_a_lower_numbered_crl_over_a_newer_one() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let alice = env.issue_client("pki", "alice", "alice");
    std::fs::create_dir(env.path("www")).expect("mkdir");
    crl(&env, "pki", &["--out", "www/ca.crl"]);
    assert!(env.tool("cp", &["-a", "pki", "pki-older"]).status.success());
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason keyCompromise"),
    );
    crl(&env, "pki", &["--out", "www/ca.crl"]);
    let published = env.read("www/ca.crl");
    assert_eq!(crl_number(&env, "www/ca.crl"), 2);
    // The older copy of the folder (a restored backup) would sign number 2 again, without alice's revocation:
    // refused, at the published file and through a link to it.
    std::os::unix::fs::symlink("www/ca.crl", env.path("link.crl")).expect("link");
    for out in ["www/ca.crl", "link.crl"] {
        let args = [
            "crl",
            "--ca",
            "pki-older",
            "--ca-pass",
            "env:CA_PW",
            "--out",
            out,
        ];
        let err = env.fails("certkit-ca", &args, 1);
        assert_contains(&err, &["www/ca.crl", "CRL number 2", "older", "audit"]);
        assert_eq!(
            env.read("www/ca.crl"),
            published,
            "{out}: the newer CRL was replaced"
        );
    }
    let listed = env.openssl_ok(&cli("crl -in www/ca.crl -inform DER -noout -text"));
    let serial = alice["serial"].as_str().expect("serial").to_uppercase();
    assert!(listed.to_uppercase().contains(&serial), "{listed}");
    // The CA that signed it goes on: its next number is higher.
    crl(&env, "pki", &["--out", "www/ca.crl"]);
    assert_eq!(crl_number(&env, "www/ca.crl"), 3);
}

// 2. A wildcard escaped an exclusion; 13. a CN with `_` or all digits was not checked as the DNS name OpenSSL
// takes it for.

#[test]
fn a_wildcard_or_a_dns_like_cn_is_refused_where_a_verifier_would_refuse_it() {
    let env = Env::new();
    env.init_ca_with(
        "pki",
        &cli("--key p256 --permit-dns example.com --exclude-dns bad.example.com"),
    );
    let refused = [
        // OpenSSL accepts *.example.com for bad.example.com: the wildcard stands for the excluded name.
        cli("server --ca pki --cn *.example.com --key p256 --out w1"),
        cli("server --ca pki --cn www.example.com --dns *.example.com --key p256 --out w2"),
        // OpenSSL checks these CNs as DNS names (letters, digits and _), and they are outside example.com.
        cli("client --ca pki --cn svc_a.other.org --key p256 --out c1"),
        cli("client --ca pki --cn 123.456 --key p256 --out c2"),
    ];
    for args in &refused {
        let err = env.fails("certkit-issue", &Env::with_passwords(args), 2);
        assert_contains(&err, &["name constraint"]);
        let out = args[args.len() - 1];
        assert!(
            !env.path(&format!("{out}.cer")).exists(),
            "{args:?} wrote {out}.cer"
        );
    }
    assert!(env.list("pki").is_empty(), "a refused name was recorded");
    // Through a request signed by `sign` too.
    env.openssl_p256_csr("csr", "/CN=a_b.other.org");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "sign --ca pki --csr csr.csr --profile client --out s1",
        )),
        2,
    );
    assert_contains(&err, &["a_b.other.org"]);
    // What stays inside is still issued, and openssl verifies it under the constraints.
    env.issue(&cli(
        "server --ca pki --cn *.www.example.com --key p256 --out ok",
    ));
    env.openssl_ok(&["verify", "-x509_strict", "-CAfile", "pki/ca.pem", "ok.pem"]);
}

// 3. Deleting or cutting `chain.pem` switched off the constraints of the CAs above.

#[test]
fn an_issuing_ca_without_its_whole_chain_signs_nothing_and_audit_and_status_say_why() {
    let env = Env::new();
    env.root_and_issuing("root", "issuing", &["--permit-dns", "example.com"], &[]);
    env.issue(&cli(
        "server --ca issuing --cn www.example.com --key p256 --out before",
    ));
    let chain = env.read("issuing/chain.pem");
    env.tampered("issuing");
    let cut = {
        let text = String::from_utf8(chain.clone()).expect("pem");
        let end = "-----END CERTIFICATE-----\n";
        let first = text.find(end).expect("one certificate") + end.len();
        text[..first].to_string()
    };
    for (what, damage) in [
        ("deleted", None),
        ("cut short", Some(cut.as_str())),
        ("emptied", Some("")),
    ] {
        match damage {
            None => std::fs::remove_file(env.path("issuing/chain.pem")).expect("rm"),
            Some(text) => std::fs::write(env.path("issuing/chain.pem"), text).expect("write"),
        }
        // The root forbids other.org: without the chain the issuing CA would sign it.
        let err = env.fails(
            "certkit-issue",
            &Env::with_passwords(&cli(
                "server --ca issuing --cn www.other.org --key p256 --out evil",
            )),
            1,
        );
        assert_contains(
            &err,
            &["chain.pem", "missing or cut short", "signs nothing"],
        );
        assert!(!env.path("evil.cer").exists(), "{what}");
        let audit = env.run("certkit-ca", &["audit", "--ca", "issuing", "--json"]);
        assert_eq!(
            audit.status.code(),
            Some(1),
            "{what}: {}",
            text(&audit.stdout)
        );
        assert_contains(&text(&audit.stdout), &["chain-missing"]);
        let status = env.run("certkit-ca", &["status", "--ca", "issuing"]);
        assert_eq!(
            status.status.code(),
            Some(2),
            "{what}: {}",
            text(&status.stdout)
        );
        assert_contains(&text(&status.stdout), &["CRITICAL  ca-chain"]);
    }
    std::fs::write(env.path("issuing/chain.pem"), &chain).expect("put back");
    env.issue(&cli(
        "server --ca issuing --cn api.example.com --key p256 --out after",
    ));
    assert_eq!(
        env.run("certkit-ca", &["audit", "--ca", "issuing"])
            .status
            .code(),
        Some(0)
    );
}

/// Something done to a copy of a CA folder.
type Damage = Box<dyn Fn(&std::path::Path)>;

// 4. `status` said OK for a log cut short, and UNKNOWN (3) for a broken hash chain or a deleted ca.pem.

#[test]
fn every_integrity_failure_the_audit_finds_is_critical_in_status() {
    let env = Env::new();
    env.init_ca_with("good", &["--key", "p256"]);
    for cn in ["alice", "bob", "carol"] {
        env.issue_client("good", cn, cn);
    }
    crl(&env, "good", &[]);
    let status = env.run("certkit-ca", &["status", "--ca", "good", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stdout));
    assert_contains(&text(&status.stdout), &["\"integrity\""]);
    let log = String::from_utf8(env.read("good/inventory.jsonl")).expect("log");
    let lines: Vec<&str> = log.lines().collect();
    let damages: Vec<(&str, Damage)> = vec![
        ("log cut", {
            let cut = lines[..lines.len() - 1].join("\n") + "\n";
            Box::new(move |dir| std::fs::write(dir.join("inventory.jsonl"), &cut).expect("cut"))
        }),
        ("hash chain broken", {
            let edited = log.replacen("bob", "bib", 1);
            Box::new(move |dir| std::fs::write(dir.join("inventory.jsonl"), &edited).expect("edit"))
        }),
        (
            "ca.pem deleted",
            Box::new(|dir| std::fs::remove_file(dir.join("ca.pem")).expect("rm")),
        ),
        (
            "checkpoint deleted",
            Box::new(|dir| std::fs::remove_file(dir.join("checkpoint.json")).expect("rm")),
        ),
    ];
    for (i, (what, damage)) in damages.iter().enumerate() {
        let dir = format!("damaged{i}");
        assert!(env.tool("cp", &["-a", "good", &dir]).status.success());
        env.tampered(&dir);
        damage(&env.path(&dir));
        let audit = env.run("certkit-ca", &["audit", "--ca", &dir]);
        assert_ne!(audit.status.code(), Some(0), "{what}: the audit passes");
        let status = env.run("certkit-ca", &["status", "--ca", &dir]);
        assert_eq!(
            status.status.code(),
            Some(2),
            "{what}: status is not CRITICAL:\n{}{}",
            text(&status.stdout),
            text(&status.stderr)
        );
        assert_contains(&text(&status.stdout), &["CERTKIT CRITICAL"]);
    }
    // A folder that holds no CA at all is UNKNOWN, as before.
    std::fs::create_dir(env.path("empty")).expect("mkdir");
    assert_eq!(
        env.run("certkit-ca", &["status", "--ca", "empty"])
            .status
            .code(),
        Some(3)
    );
}

// 6. A tampered index.sqlite: a message called inventory.jsonl "the index" and said to delete it.

#[test]
fn a_tampered_index_is_rebuilt_and_no_message_ever_says_to_delete_the_log() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let alice = env.issue_client("pki", "alice", "alice");
    let bob = env.issue_client("pki", "bob", "bob");
    let (ta, tb) = (
        alice["thumbprint"].as_str().expect("a"),
        bob["thumbprint"].as_str().expect("b"),
    );
    // The intruder swaps the two thumbprints in the index: revoking alice by thumbprint would revoke bob.
    let swap = format!(
        "import sqlite3; c = sqlite3.connect('pki/index.sqlite'); c.execute(\"update certs set thumbprint = CASE thumbprint WHEN '{ta}' THEN '{tb}' ELSE '{ta}' END\"); c.commit()"
    );
    assert!(env.tool("python3", &["-c", &swap]).status.success());
    let out = env.run("certkit-ca", &["revoke", "--ca", "pki", ta, "--json"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("delete"), "{all}");
    let rows = env.list("pki");
    let status_of = |t: &str| {
        rows.iter()
            .find(|r| r["thumbprint"] == t)
            .map(|r| r["status"].as_str().expect("status").to_string())
    };
    assert_eq!(status_of(ta).as_deref(), Some("revoked"));
    assert_eq!(status_of(tb).as_deref(), Some("valid"));
    // The index swapped again, then every reading command: the same answers, nothing about deleting.
    assert!(env.tool("python3", &["-c", &swap]).status.success());
    for args in [
        vec!["list", "--ca", "pki"],
        vec!["status", "--ca", "pki"],
        vec!["show", "--ca", "pki"],
        vec!["audit", "--ca", "pki"],
    ] {
        let out = env.run("certkit-ca", &args);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{args:?}: {all}");
        assert!(!all.contains("delete"), "{args:?}: {all}");
    }
    assert_eq!(
        env.list("pki")
            .iter()
            .filter(|r| r["status"] == "revoked")
            .count(),
        1
    );
}

// 22. `report --out FILE` replaced any file, a private key included.

#[test]
fn a_report_replaces_only_an_earlier_report() {
    let env = Env::with_fixture(Fixture::FileCa);
    let key = env.read("alice.key");
    let err = env.fails(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "alice.key"],
        1,
    );
    assert_contains(&err, &["alice.key exists"]);
    assert_eq!(env.read("alice.key"), key, "the key was replaced");
    env.ok(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "report.html"],
    );
    env.issue_client("pki", "bob", "bob");
    env.ok(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "report.html"],
    );
    assert_contains(&text(&env.read("report.html")), &["CN=bob"]);
}

// 17. `init --ca` and `restore --ca` accepted a folder inside another CA folder.

#[test]
fn no_ca_is_made_inside_another_cas_folder() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    for inner in ["pki/sub", "pki/issued/evil", "pki/a/b"] {
        let err = env.fails(
            "certkit-ca",
            &[
                "init",
                "--ca",
                inner,
                "--cn",
                "Inner",
                "--key",
                "p256",
                "--ca-pass",
                "env:CA_PW",
            ],
            2,
        );
        assert_contains(&err, &["inside the CA folder"]);
        assert!(!env.path(inner).exists(), "{inner}");
    }
    env.ok(
        "certkit-ca",
        &cli("init --ca beside --cn Beside --key p256 --ca-pass env:CA_PW"),
    );
}

// 10. `status --crl` called the earlier key's CRL "not signed by this CA"; 11. with the published CRL behind a
// link, `crl --out` wrote the earlier key's CRL beside the link's target, where nobody publishes it.

#[test]
fn a_rekeyed_cas_earlier_key_crl_goes_where_the_crl_is_published_and_status_takes_it() {
    let env = Env::with_fixture(Fixture::Rekeyed);
    // The web server's folder holds a link to where the CRL is kept.
    std::fs::create_dir_all(env.path("store")).expect("mkdir");
    std::fs::create_dir_all(env.path("www")).expect("mkdir");
    crl(&env, "pki", &["--out", "store/ca.crl"]);
    std::os::unix::fs::symlink(env.path("store/ca.crl"), env.path("www/ca.crl")).expect("link");
    let json = env.json(
        "certkit-ca",
        &cli("crl --ca pki --ca-pass env:CA_PW --out www/ca.crl --json"),
    );
    let key_id = json["earlier_keys"][0]["key_id"]
        .as_str()
        .expect("earlier key")
        .to_string();
    let earlier = format!("www/ca-{key_id}.crl");
    assert!(env.path(&earlier).is_file(), "{json}");
    assert_eq!(
        json["earlier_keys"][0]["file"].as_str(),
        Some(earlier.as_str()),
        "{json}"
    );
    assert_eq!(
        crl_number(&env, &earlier),
        json["earlier_keys"][0]["crl_number"].as_u64().expect("n")
    );
    // Both CRLs are the CA's to status, as to audit.
    let out = env.run(
        "certkit-ca",
        &[
            "status",
            "--ca",
            "pki",
            "--crl",
            "www/ca.crl",
            "--crl",
            &earlier,
            "--json",
        ],
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files: Vec<&serde_json::Value> = status["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .filter(|f| f["check"] == "crl-file")
        .collect();
    assert_eq!(files.len(), 2, "{status}");
    for fact in files {
        assert_eq!(fact["level"], "OK", "{fact}");
    }
    env.ok(
        "certkit-ca",
        &[
            "audit",
            "--ca",
            "pki",
            "--crl",
            "www/ca.crl",
            "--crl",
            &earlier,
        ],
    );
}

// 16. `show` on an issuing CA printed config lines that made the issuing CA the trusted root.

#[test]
fn show_of_an_issuing_ca_names_its_root_in_the_config_lines() {
    let env = Env::new();
    env.copy_fixture(Fixture::RootAndIssuing);
    let root = env.openssl_thumbprint("root/ca.pem");
    let issuing = env.openssl_thumbprint("issuing/ca.pem");
    let shown = env.json("certkit-ca", &["show", "--ca", "issuing", "--json"]);
    let lines = shown["config_lines"].to_string();
    assert!(
        lines.contains(&root) && !lines.contains(&issuing),
        "{lines}"
    );
    let text = env.ok("certkit-ca", &["show", "--ca", "issuing"]);
    assert_contains(
        &text,
        &[&format!(
            "AdditionalTrustedRootCertificationAuthorities\" value=\"{root}\""
        )],
    );
}

// 20. `crl publish` took the trust anchor from the (writable) folder it publishes from.

#[test]
fn crl_publish_never_takes_its_trust_anchor_from_the_folder_it_checks() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let series = env.ok(
        "certkit-ca",
        &cli("crl --ca pki --ca-pass env:CA_PW --series 2 --every 10 --out-dir crls"),
    );
    let pin = env.openssl_thumbprint("pki/ca.pem");
    assert_contains(&series, &[&format!("--ca-thumbprint {pin}")]);
    // Neither a copy kept apart nor a pin: refused, naming both.
    let err = env.fails(
        "certkit-ca",
        &["crl", "publish", "--from", "crls", "--out", "pub.crl"],
        3, // a usage error of crl publish: UNKNOWN to monitoring
    );
    assert_contains(&err, &["--ca-cert"]);
    // The intruder who can write crls/ puts another CA's certificate and CRL there.
    env.init_ca_with("evil", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &cli("crl --ca evil --ca-pass env:CA_PW --out crls/zz-evil.crl"),
    );
    std::fs::copy(env.path("evil/ca.cer"), env.path("crls/ca.cer")).expect("plant");
    let err = env.fails(
        "certkit-ca",
        &[
            "crl",
            "publish",
            "--from",
            "crls",
            "--out",
            "pub.crl",
            "--ca-thumbprint",
            &pin,
        ],
        2,
    );
    assert_contains(&err, &["pinned with --ca-thumbprint"]);
    assert!(!env.path("pub.crl").exists());
    // With the CA's own certificate kept apart, its CRLs are published and the planted one passed over.
    let out = env.run(
        "certkit-ca",
        &cli("crl publish --from crls --out pub.crl --ca-cert pki/ca.cer"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_contains(
        &env.openssl_ok(&cli("crl -in pub.crl -inform DER -noout -issuer")),
        &["Test CA"],
    );
}

// 23. `cscfg` wrote a configuration its own `--check` calls an error, and exited 0.

#[test]
fn cscfg_refuses_an_edit_its_own_check_calls_an_error_unless_forced() {
    let env = Env::with_fixture(Fixture::FileCa);
    env.issue(&cli(
        "server --ca pki --cn www.example.com --key p256 --out srv",
    ));
    let example = format!(
        "{}/../examples/ServiceConfiguration.cscfg",
        env!("CARGO_MANIFEST_DIR")
    );
    let original = std::fs::read(&example).expect("example");
    std::fs::write(env.path("svc.cscfg"), &original).expect("copy");
    for (args, code) in [
        // Online revocation checks for clients whose certificates name no CRL: every client refused.
        (
            vec!["--allow", "alice.cer", "--revocation-check", "Online"],
            "revocation-online-no-crl",
        ),
        // A server certificate in the client allow-list.
        (vec!["--allow", "srv.cer"], "eku-wrong-role"),
    ] {
        let mut all = vec!["cscfg", "--file", "svc.cscfg"];
        all.extend(&args);
        let err = env.fails("certkit-export", &all, 2);
        assert_contains(&err, &[code, "nothing was written", "--force"]);
        assert_eq!(env.read("svc.cscfg"), original, "{args:?}");
        assert!(!env.path("svc.cscfg.bak").exists());
    }
    // --force writes it, and --check then reports the same error.
    env.ok(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --allow srv.cer --force"),
    );
    let out = env.run(
        "certkit-export",
        &cli("cscfg --file svc.cscfg --check --certs srv.cer"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_contains(&text(&out.stdout), &["eku-wrong-role"]);
    // A sound edit goes through as before.
    std::fs::write(env.path("svc.cscfg"), &original).expect("copy");
    std::fs::remove_file(env.path("svc.cscfg.bak")).expect("rm");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--allow", "alice.cer"],
    );
}

// 14. A re-key killed while writing keys/ left `keys/.certkit-*` (an encrypted CA key) and `history/` leftovers
// that no command removed and `audit` did not mention.

#[test]
fn temporary_files_in_keys_and_history_are_reported_and_removed() {
    let env = Env::with_fixture(Fixture::Rekeyed);
    // What a kill between the temporary file and its rename leaves (files::write_new's names).
    let key = env.read("pki/ca.key");
    std::fs::write(env.path("pki/keys/.certkit-1234-key"), &key).expect("plant");
    std::fs::write(env.path("pki/history/.certkit-1234-cer"), b"partial").expect("plant");
    let audit = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    let temporary: Vec<&serde_json::Value> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "temporary-file")
        .collect();
    assert_eq!(temporary.len(), 2, "{audit}");
    let out = env.run(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["removed 2 temporary files"]);
    assert!(!env.path("pki/keys/.certkit-1234-key").exists());
    assert!(!env.path("pki/history/.certkit-1234-cer").exists());
}
