//! The index (index.sqlite) as an intruder who can write the CA folder but has no CA key would change it, with
//! Python's sqlite3: whatever the index says, commands answer and act as the log says (checked with openssl),
//! and a damaged index costs one rebuild, said in one line, never a wrong answer, an error or a panic.

mod common;

use common::*;

struct Clients {
    env: Env,
    /// (cn, serial, thumbprint) as issued.
    issued: Vec<(String, String, String)>,
}

/// A P-256 CA with three clients; bob's certificate revoked and the CRL published when `revoke_bob`.
fn three_clients(revoke_bob: bool) -> Clients {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let mut issued = Vec::new();
    for cn in ["alice", "bob", "carol"] {
        let cert = env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256",
        ]);
        issued.push((
            cn.to_string(),
            cert["serial"].as_str().expect("serial").to_string(),
            cert["thumbprint"].as_str().expect("thumbprint").to_string(),
        ));
    }
    if revoke_bob {
        env.ok("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"]);
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
    }
    Clients { env, issued }
}

impl Clients {
    fn serial(&self, cn: &str) -> &str {
        &self.issued.iter().find(|c| c.0 == cn).expect("issued").1
    }

    fn tamper(&self, args: &[&str]) {
        let mut argv = vec![peer("tamper_index.py"), "pki/index.sqlite".to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let out = self.env.tool(
            "python3",
            &argv.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(out.status.success(), "tamper_index: {}", text(&out.stderr));
    }

    /// Runs a certkit command that must succeed and say, on stderr, that it rebuilt the index.
    fn rebuilds(&self, bin: &str, args: &[&str]) -> String {
        let out = self.env.run(bin, args);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{bin} {args:?}: {err}");
        assert!(
            err.lines()
                .any(|l| l.contains("index of the CA") && l.contains("from its inventory")),
            "no word of the rebuild: {err}"
        );
        text(&out.stdout)
    }

    /// (cn, thumbprint, status) of every certificate `list --json` shows, sorted by cn.
    fn listed(&self, extra: &[&str]) -> Vec<(String, String, String)> {
        let mut args = vec!["list", "--ca", "pki", "--json"];
        args.extend(extra);
        let rows: serde_json::Value =
            serde_json::from_str(&self.env.ok("certkit-ca", &args)).expect("json");
        let mut rows: Vec<_> = rows
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["cn"].as_str().expect("cn").to_string(),
                    r["thumbprint"].as_str().expect("thumbprint").to_string(),
                    r["status"].as_str().expect("status").to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// The serials on the published CRL, by openssl (uppercase hex).
    fn crl_serials(&self) -> Vec<String> {
        let text = self
            .env
            .openssl_ok(&cli("crl -in pki/ca.crl -inform DER -noout -text"));
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
            .map(|s| s.trim().to_uppercase())
            .collect()
    }

    /// The serial of `cn`'s certificate file, by openssl.
    fn openssl_serial(&self, cn: &str) -> String {
        let out = self.env.openssl_ok(&[
            "x509",
            "-in",
            &format!("{cn}.cer"),
            "-inform",
            "DER",
            "-noout",
            "-serial",
        ]);
        out.trim()
            .strip_prefix("serial=")
            .expect("serial")
            .to_uppercase()
    }
}

#[test]
fn a_revocation_hidden_in_the_index_stays_revoked() {
    let ca = three_clients(true);
    let bob = ca.serial("bob").to_string();
    ca.tamper(&["hide-revocation", &bob]);
    // The listing of valid certificates (what a rotation script allows) leaves bob out; the index was rebuilt.
    let out = ca.rebuilds("certkit-ca", &["list", "--ca", "pki", "--status", "valid"]);
    assert!(!out.contains("bob"), "{out}");
    ca.tamper(&["hide-revocation", &bob]);
    let valid = ca.listed(&["--status", "valid"]);
    let names: Vec<&str> = valid.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["alice", "carol"]);
    // A renewal of bob is refused, and the next CRL still names him (by openssl).
    ca.tamper(&["hide-revocation", &bob]);
    let out = ca.env.run(
        "certkit-issue",
        &["renew", "--ca", "pki", "bob.cer", "--out", "bob2"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["rebuilt the index", "was revoked"]);
    assert!(!ca.env.path("bob2.cer").exists());
    ca.tamper(&["hide-revocation", &bob]);
    ca.rebuilds(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(ca.crl_serials(), [ca.openssl_serial("bob")]);
}

#[test]
fn thumbprints_swapped_in_the_index_are_never_shown_or_acted_on() {
    let ca = three_clients(false);
    let (alice, bob) = (ca.serial("alice").to_string(), ca.serial("bob").to_string());
    ca.tamper(&["swap", "thumbprint", &alice, &bob]);
    // Every row shows the thumbprint openssl computes from that person's certificate.
    let rows = ca.listed(&["--status", "valid"]);
    for (cn, thumbprint, _) in &rows {
        assert_eq!(
            *thumbprint,
            ca.env.openssl_thumbprint(&format!("{cn}.cer")),
            "{cn}"
        );
    }
    // Revoking by alice's thumbprint revokes alice, whatever the index said.
    ca.tamper(&["swap", "thumbprint", &alice, &bob]);
    let alice_thumbprint = ca.env.openssl_thumbprint("alice.cer");
    ca.rebuilds("certkit-ca", &["revoke", "--ca", "pki", &alice_thumbprint]);
    ca.env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(ca.crl_serials(), [ca.openssl_serial("alice")]);
}

#[test]
fn serials_swapped_in_the_index_never_revoke_the_wrong_certificate() {
    let ca = three_clients(false);
    let (alice, bob) = (ca.serial("alice").to_string(), ca.serial("bob").to_string());
    ca.tamper(&["swap", "serial", &alice, &bob]);
    ca.rebuilds("certkit-ca", &["revoke", "--ca", "pki", &bob]);
    ca.env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(ca.crl_serials(), [ca.openssl_serial("bob")]);
    assert_eq!(ca.openssl_serial("bob"), bob);
    // show finds each by serial as the log has it.
    ca.tamper(&["swap", "serial", &alice, &carol_of(&ca)]);
    let rows = ca.listed(&[]);
    let statuses: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.2.as_str())).collect();
    assert_eq!(
        statuses,
        [("alice", "valid"), ("bob", "revoked"), ("carol", "valid")]
    );
}

fn carol_of(ca: &Clients) -> String {
    ca.serial("carol").to_string()
}

#[test]
fn an_expiry_moved_in_the_index_never_makes_a_certificate_due() {
    let ca = three_clients(false);
    // The row's column says carol's certificate expires tomorrow, her stored record does not: the index is
    // caught disagreeing with itself and rebuilt, and nothing is due.
    let tomorrow = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 86_400;
    ca.tamper(&[
        "set",
        ca.serial("carol"),
        "not_after",
        &tomorrow.to_string(),
    ]);
    let out = ca.rebuilds(
        "certkit-ca",
        &["list", "--ca", "pki", "--expiring-within", "30", "--json"],
    );
    assert_eq!(out.trim(), "[]");
    ca.tamper(&[
        "set",
        ca.serial("carol"),
        "not_after",
        &tomorrow.to_string(),
    ]);
    let out = ca.rebuilds(
        "certkit-issue",
        &cli("renew --ca pki --expiring-within 30 --out-dir renewed --json"),
    );
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["due"], 0, "{report}");
    assert!(!ca.env.path("renewed").exists());
}

#[test]
fn a_damaged_index_costs_a_rebuild_never_an_answer() {
    let ca = three_clients(true);
    let truth = ca.listed(&[]);
    // A row that points past the end of the log, a row that points into the middle of a line, and a file
    // that is not SQLite at all.
    let bob = ca.serial("bob").to_string();
    for damage in [
        vec!["set", &bob, "end", "4611686018427387904"],
        vec!["set", &bob, "start", "7"],
        vec!["garbage"],
    ] {
        ca.tamper(&damage);
        let out = ca.rebuilds("certkit-ca", &["list", "--ca", "pki", "--json"]);
        let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(rows.as_array().expect("rows").len(), 3, "{damage:?}");
        assert_eq!(ca.listed(&[]), truth, "{damage:?}");
    }
    // show's counts are the listing's.
    ca.tamper(&["garbage"]);
    let show = ca
        .env
        .json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(
        (&show["issued"], &show["valid"], &show["revoked"]),
        (&3.into(), &2.into(), &1.into())
    );
}
