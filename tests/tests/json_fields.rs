//! The JSON field names scripts rely on, pinned: every command's `--json` output is reduced to its field paths
//! (`rows[].thumbprint`), compared with tests/golden/json-fields.txt, and docs/json.md lists exactly those.
//! After a deliberate change, rerun with CERTKIT_BLESS=1 and copy the file into docs/json.md.

mod common;

use common::*;

/// `a`, `b[]`, `c.d`, `rows[].e`: every path to a value, in the output's own order.
fn paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                paths(v, &name, out);
            }
        }
        serde_json::Value::Array(items) => {
            let name = format!("{prefix}[]");
            match items.iter().find(|i| i.is_object()) {
                Some(first) => paths(first, &name, out),
                None => out.push(name),
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn line(command: &str, value: &serde_json::Value) -> String {
    let mut fields = Vec::new();
    paths(value, "", &mut fields);
    // A top-level array prints as "[].field".
    let fields: Vec<String> = fields
        .into_iter()
        .map(|f| f.trim_start_matches('.').to_string())
        .collect();
    format!("{command}: {}", fields.join(", "))
}

#[test]
fn json_field_names_are_pinned_and_documented() {
    let env = Env::new();
    let mut lines = Vec::new();
    let mut add = |command: &str, value: serde_json::Value| lines.push(line(command, &value));

    add(
        "certkit-ca init",
        env.json(
            "certkit-ca",
            &cli("init --ca pki --cn 'Test CA' --key p256 --crl-url \
                http://pki.example.com/ca.crl --ca-pass env:CA_PW --json"),
        ),
    );
    let alice = env.issue_client("pki", "alice", "alice");
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    add("certkit-issue client", alice);
    add(
        "certkit-issue server",
        env.issue(&cli(
            "server --self-signed --cn svc.example.com --out ssl --key p256 --pfx",
        )),
    );
    add(
        "certkit-issue renew",
        env.issue(&["renew", "--ca", "pki", "alice.cer", "--out", "alice2"]),
    );
    env.openssl_p256_csr("carol", "/CN=carol");
    add(
        "certkit-issue sign",
        env.json(
            "certkit-issue",
            &cli(
                "sign --ca pki --csr carol.csr --profile client --out carol --ca-pass \
                env:CA_PW --json",
            ),
        ),
    );
    std::fs::write(env.path("people.csv"), "cn,email\ndave,dave@example.com\n").expect("csv");
    add(
        "certkit-issue client --batch",
        env.issue(&cli(
            "client --ca pki --batch people.csv --out-dir team --key p256",
        )),
    );
    add(
        "certkit-issue renew --expiring-within",
        env.issue(&cli(
            "renew --ca pki --expiring-within 400 --profile client --out-dir renewed",
        )),
    );
    add(
        "certkit-ca revoke",
        env.json(
            "certkit-ca",
            &["revoke", "--ca", "pki", "bob.cer", "--json"],
        ),
    );
    // Right after a revocation (which needs no key) the audit notes a record after the last checkpoint.
    add(
        "certkit-ca audit",
        env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]),
    );
    add(
        "certkit-ca crl",
        env.json(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
        ),
    );
    add(
        "certkit-ca crl --series",
        env.json(
            "certkit-ca",
            &cli("crl --ca pki --series 2 --every 30 --out-dir crls --ca-pass env:CA_PW --json"),
        ),
    );
    add(
        "certkit-ca crl publish",
        env.json(
            "certkit-ca",
            &cli("crl publish --from crls --out published.crl --ca-cert pki/ca.cer --json"),
        ),
    );
    add(
        "certkit-ca ocsp",
        env.json(
            "certkit-ca",
            &cli("ocsp --ca pki --series 2 --every 7 --out-dir ocsp --ca-pass env:CA_PW --json"),
        ),
    );
    env.openssl_p256_csr("sub", "/CN=Sub CA");
    add(
        "certkit-ca sign-ca",
        env.json(
            "certkit-ca",
            &cli("sign-ca --ca pki --csr sub.csr --out sub --ca-pass env:CA_PW --json"),
        ),
    );
    add(
        "certkit-ca init --request",
        env.json(
            "certkit-ca",
            &cli(
                "init --ca issuing --cn 'Issuing CA' --key p256 --request issuing.csr \
                --ca-pass env:CA_PW --json",
            ),
        ),
    );
    env.ok(
        "certkit-ca",
        &cli("sign-ca --ca pki --csr issuing.csr --out issuing-ca --ca-pass env:CA_PW"),
    );
    add(
        "certkit-ca install",
        env.json(
            "certkit-ca",
            &cli(
                "install --ca issuing --cert issuing-ca.cer --chain pki/ca.cer --ca-pass \
                env:CA_PW --json",
            ),
        ),
    );
    add(
        "certkit-ca init --parent",
        env.json(
            "certkit-ca",
            &cli(
                "init --ca team --parent pki --cn 'Team CA' --key p256 --parent-pass \
                env:CA_PW --ca-pass env:CA_PW --json",
            ),
        ),
    );
    add(
        "certkit-ca renew --plan",
        env.json("certkit-ca", &["renew", "--ca", "pki", "--plan", "--json"]),
    );
    add(
        "certkit-ca renew",
        env.json(
            "certkit-ca",
            &["renew", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
        ),
    );
    add(
        "certkit-ca report",
        env.json(
            "certkit-ca",
            &["report", "--ca", "pki", "--out", "report.html", "--json"],
        ),
    );
    add(
        "certkit-ca show",
        env.json("certkit-ca", &["show", "--ca", "pki", "--json"]),
    );
    add("certkit-ca list", serde_json::Value::Array(env.list("pki")));
    std::fs::write(
        env.path("staff.toml"),
        "base = \"client\"\ndescription = \"Staff\"\n",
    )
    .expect("profile");
    add(
        "certkit-ca profile add",
        env.json(
            "certkit-ca",
            &[
                "profile",
                "add",
                "--ca",
                "pki",
                "--from",
                "staff.toml",
                "--ca-pass",
                "env:CA_PW",
                "--json",
            ],
        ),
    );
    add(
        "certkit-ca profile list",
        env.json("certkit-ca", &["profile", "list", "--ca", "pki", "--json"]),
    );
    add(
        "certkit-ca profile show",
        env.json("certkit-ca", &["profile", "show", "client", "--json"]),
    );
    // Status exits 1 here (certificates expire within a year's window); its JSON is the same at every level.
    let status = env.run(
        "certkit-ca",
        &[
            "status",
            "--ca",
            "pki",
            "--expiring-within",
            "3650",
            "--json",
        ],
    );
    assert_eq!(status.status.code(), Some(1), "{}", text(&status.stderr));
    add(
        "certkit-ca status",
        serde_json::from_slice(&status.stdout).expect("status JSON"),
    );
    add(
        "certkit-ca backup",
        env.json(
            "certkit-ca",
            &cli(
                "backup --ca pki --shares 3 --threshold 2 --share-dir shares --ca-pass \
                env:CA_PW --json",
            ),
        ),
    );
    let two_shares = [
        "--share",
        "file:shares/share-1-of-3.txt",
        "--share",
        "file:shares/share-3-of-3.txt",
        "--json",
    ];
    let mut drill = cli("restore --backup pki-backup.key --check --ca pki");
    drill.extend(two_shares);
    add("certkit-ca restore --check", env.json("certkit-ca", &drill));
    let mut restore = cli("restore --backup pki-backup.key --ca restored --ca-pass env:CA_PW");
    restore.extend(two_shares);
    add("certkit-ca restore", env.json("certkit-ca", &restore));
    add(
        "certkit-ca export-index",
        env.json(
            "certkit-ca",
            &cli("export-index --ca pki --out legacy --json"),
        ),
    );
    // The export is an openssl ca folder (its openssl.cnf names pki's own key): it comes in again.
    add(
        "certkit-ca import",
        env.json(
            "certkit-ca",
            &cli(
                "import --from-openssl-ca legacy --ca imported --source-pass env:CA_PW \
                 --ca-pass env:CA_PW --json",
            ),
        ),
    );
    add(
        "certkit-ca list --events",
        env.json("certkit-ca", &["list", "--ca", "pki", "--events", "--json"]),
    );
    add(
        "certkit-export pfx",
        env.json(
            "certkit-export",
            &cli(
                "pfx --cert alice.cer --key-file alice.key --chain pki/ca.cer --out \
                alice.pfx --key-pass env:KEY_PW --pfx-pass env:PFX_PW --json",
            ),
        ),
    );
    add(
        "certkit-export cer",
        env.json(
            "certkit-export",
            &cli("cer --in alice.pfx --issuer --out ca-copy.cer --from-pass env:PFX_PW --json"),
        ),
    );
    add(
        "certkit-export thumbprint",
        env.json("certkit-export", &["thumbprint", "alice.cer", "--json"]),
    );
    // One line per kind of file `inspect` reads.
    env.openssl_p256_csr("req", "/CN=req");
    for (kind, file) in [
        ("certificate", "alice.cer"),
        ("pfx", "alice.pfx"),
        ("csr", "req.csr"),
        ("crl", "pki/ca.crl"),
        ("key", "alice.key"),
        ("key with a finding", "req.key"),
    ] {
        let shown = env.json(
            "certkit-export",
            &["inspect", file, "--from-pass", "env:PFX_PW", "--json"],
        );
        add(&format!("certkit-export inspect ({kind})"), shown);
    }
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    add(
        "certkit-export cscfg",
        env.json(
            "certkit-export",
            &cli("cscfg --file svc.cscfg --allow alice.cer --dry-run --json"),
        ),
    );

    let checked = env.run(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--check", "--json"],
    );
    add(
        "certkit-export cscfg --check",
        serde_json::from_slice(&checked.stdout).expect("JSON"),
    );
    add(
        "certkit-export tls12",
        env.json(
            "certkit-export",
            &cli("tls12 --out t.reg --roots /etc/ssl/certs --json"),
        ),
    );
    common::token::softhsm(&env);
    env.init_ca_with("moved", &["--key", "p256"]);
    add(
        "certkit-ca move-key",
        env.json(
            "certkit-ca",
            &cli(
                "move-key --ca moved --pkcs11 pkcs11:token=certkit-test;object=Moved \
                --ca-pass env:CA_PW --pin env:TOKEN_PIN --json",
            ),
        ),
    );

    env.init_ca_with("moved-backed-up", &["--key", "p256"]);
    add(
        "certkit-ca move-key --backup-shares",
        env.json(
            "certkit-ca",
            &cli("move-key --ca moved-backed-up --pkcs11 \
                pkcs11:token=certkit-test;object=MovedBackedUp --ca-pass env:CA_PW --pin \
                env:TOKEN_PIN --backup-shares 3 --threshold 2 --share-dir moved-shares \
                --json"),
        ),
    );
    add(
        "certkit-ca init --pkcs11 --backup-shares",
        env.json(
            "certkit-ca",
            &cli(
                "init --ca token-backed-up --cn 'Token CA' --key p256 --pkcs11 \
                pkcs11:token=certkit-test;object=InitBackedUp --ca-pass env:TOKEN_PIN \
                --backup-shares 3 --threshold 2 --share-dir init-shares --json",
            ),
        ),
    );
    // A re-keyed CA: the plan, the re-key, and the CRLs of both keys.
    env.init_ca_with("rekeyed", &["--key", "p256"]);
    env.issue(&cli("client --ca rekeyed --cn old --out rk-old --key p256"));
    add(
        "certkit-ca rekey --plan",
        env.json(
            "certkit-ca",
            &["rekey", "--ca", "rekeyed", "--plan", "--json"],
        ),
    );
    add(
        "certkit-ca rekey",
        env.json(
            "certkit-ca",
            &cli("rekey --ca rekeyed --ca-pass env:CA_PW --json"),
        ),
    );
    add(
        "certkit-ca crl (re-keyed)",
        env.json(
            "certkit-ca",
            &["crl", "--ca", "rekeyed", "--ca-pass", "env:CA_PW", "--json"],
        ),
    );

    let shown = format!("{}\n", lines.join("\n"));
    let golden = format!("{}/golden/json-fields.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("CERTKIT_BLESS").is_some() {
        std::fs::write(&golden, &shown).expect("write golden");
    }
    let expected = std::fs::read_to_string(&golden).expect("golden file");
    assert_eq!(
        shown, expected,
        "JSON fields changed; if intended, rerun with CERTKIT_BLESS=1 and update docs/json.md"
    );
    let readme = std::fs::read_to_string(format!("{}/../docs/json.md", env!("CARGO_MANIFEST_DIR")))
        .expect("README");
    assert!(
        readme.contains(&format!("```text\n{expected}```")),
        "docs/json.md's JSON field list differs from tests/golden/json-fields.txt"
    );
}

#[test]
fn one_field_has_one_name_in_every_command() {
    // Issue 32: the CA folder was `dir` in some commands and `ca` in others, the extended key usages `ekus` in
    // certkit-issue and `extra_ekus` in list. Each pair now has one name, in every command's output.
    let golden = std::fs::read_to_string(format!(
        "{}/golden/json-fields.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("golden file");
    let names: std::collections::BTreeSet<&str> = golden
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, f)| f))
        .flat_map(|fields| fields.split(", "))
        .map(|f| {
            f.rsplit(['.'])
                .next()
                .unwrap_or(f)
                .trim_start_matches("[]")
                .trim_end_matches("[]")
        })
        .collect();
    for (one, other) in [("ca", "dir"), ("ekus", "extra_ekus")] {
        assert!(names.contains(one), "no command has {one}");
        assert!(!names.contains(other), "{other} is {one} in other commands");
    }
}
