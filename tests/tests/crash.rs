//! Crash safety, tested rather than argued. Each command that writes to a CA (issue, sign, renew one, renew
//! what expires soon, a small batch, revoke, crl, move-key, reindex) is killed at each of its file-system steps
//! in turn: strace's fault injection delivers SIGKILL on entry to the N-th write, fsync, rename, unlink... of
//! that kind, for every kind and every N until the command runs to its end (the index's own writes among
//! them). After every kill:
//! - every certificate signed by the CA that exists in any file (outputs, `issued/`, temporary files, PFX files,
//!   read by Python `cryptography`) is in the CA's inventory;
//! - the CA answers the same with the index the kill left as without any index (rebuilt from the log): every
//!   certificate's status, renewals and revocation, and the counts `show` gives;
//! - `certkit-ca audit` passes;
//! - running the same command again completes what was asked (when the killed run had already delivered
//!   everything, it reports that delivery), removes what the killed run staged, and the two checks above
//!   still hold.

mod common;

use std::collections::HashSet;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use common::token;
use common::*;

/// The system calls that change files: a crash before any of them is a distinct state on disk.
const STEPS: [&str; 15] = [
    "write",
    "pwrite64",
    "fsync",
    "fdatasync",
    "syncfs",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "ftruncate",
    "mkdir",
    "mkdirat",
];

struct Scenario {
    name: &'static str,
    setup: fn(&Env),
    /// Run on each copy of the set-up folder before the command (e.g. to point it at its own token).
    prepare: fn(&Env),
    bin: &'static str,
    args: &'static [&'static str],
    after_rerun: fn(&Env, &Output),
}

fn init(env: &Env) {
    env.json(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "pki",
            "--cn",
            "Crash CA",
            "--key",
            "p256",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    env.issue(&[
        "client", "--ca", "pki", "--cn", "alice", "--out", "alice", "--key", "p256",
    ]);
}

/// The certificates (thumbprints) the CA signed that some file under the folder holds.
fn signed_in_files(env: &Env) -> Vec<(String, String)> {
    let out = env.tool("python3", &[&peer("signed_certs.py"), ".", "pki/ca.pem"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    found
        .as_array()
        .expect("list")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().expect("file").to_string(),
                f["thumbprint"].as_str().expect("thumbprint").to_string(),
            )
        })
        .collect()
}

fn check_invariants(env: &Env, when: &str) {
    let recorded: HashSet<String> = env
        .list("pki")
        .iter()
        .map(|e| e["thumbprint"].as_str().expect("thumbprint").to_string())
        .collect();
    for (file, thumbprint) in signed_in_files(env) {
        assert!(
            recorded.contains(&thumbprint),
            "{when}: {file} holds certificate {thumbprint}, signed by the CA but not in its inventory"
        );
    }
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki"]);
    assert!(
        audit.status.success(),
        "{when}: the audit fails:\n{}{}",
        text(&audit.stdout),
        text(&audit.stderr)
    );
}

/// What the CA says about its certificates: each one's serial, thumbprint, status, renewal and revocation,
/// and the counts `show` gives.
fn answers(env: &Env, ca: &str) -> (Vec<String>, serde_json::Value) {
    let rows = env
        .list(ca)
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["serial"], e["thumbprint"], e["status"], e["renewal_of"], e["revocation_reason"]
            )
        })
        .collect();
    let show = env.json("certkit-ca", &["show", "--ca", ca, "--json"]);
    let counts = ["issued", "valid", "revoked", "expired", "undelivered"]
        .map(|count| show[count].clone())
        .to_vec();
    (rows, serde_json::Value::Array(counts))
}

/// The CA answers the same with the index a kill left (whole, half-written, or behind the log) as a copy of
/// it without an index, which builds one from the log.
fn same_answers_without_the_index(env: &Env, when: &str) {
    let copied = env.tool("cp", &["-a", "pki", "bare"]);
    assert!(copied.status.success());
    for leftover in ["index.sqlite", "index.sqlite-journal"] {
        let _ = std::fs::remove_file(env.path(&format!("bare/{leftover}")));
    }
    let with_index = answers(env, "pki");
    let without = answers(env, "bare");
    std::fs::remove_dir_all(env.path("bare")).expect("rm");
    assert_eq!(
        with_index, without,
        "{when}: the CA answers differently with its index than without"
    );
}

/// The valid certificates recorded for `cn`.
fn valid(env: &Env, cn: &str) -> Vec<serde_json::Value> {
    env.list("pki")
        .into_iter()
        .filter(|e| e["cn"] == cn && e["status"] == "valid")
        .collect()
}

/// After a rerun of a single issuance to PREFIX: it succeeded (when the killed run had delivered everything
/// but not finished, by reporting that delivery), or, when the killed run had finished its work (its checkpoint
/// covers the certificate) and was only printing, it refused to overwrite; either way exactly one valid
/// certificate is the one in PREFIX.cer, and no file the killed run staged is left beside it.
fn one_delivered(env: &Env, rerun: &Output, cn: &str, prefix: &str) {
    if !rerun.status.success() {
        assert_contains(&text(&rerun.stderr), &["exists already"]);
        let checkpoint: serde_json::Value =
            serde_json::from_slice(&env.read("pki/checkpoint.json")).expect("checkpoint");
        let recorded_on = String::from_utf8_lossy(&env.read("pki/inventory.jsonl"))
            .lines()
            .position(|l| {
                l.contains("\"event\":\"issued\"") && l.contains(&format!("\"cn\":\"{cn}\""))
            })
            .expect("the record")
            + 1;
        assert!(
            checkpoint["count"].as_u64().expect("count") >= recorded_on as u64,
            "the rerun refused although the killed run had not finished: {}",
            text(&rerun.stderr)
        );
    }
    let folder = std::path::Path::new(prefix)
        .parent()
        .and_then(|p| p.to_str())
        .unwrap_or(".");
    let staged: Vec<String> = env
        .listing(folder)
        .into_iter()
        .filter(|n| n.starts_with(".certkit-"))
        .collect();
    assert!(staged.is_empty(), "left in {folder}: {staged:?}");
    let valid = valid(env, cn);
    assert_eq!(valid.len(), 1, "{valid:?}");
    assert_eq!(
        valid[0]["thumbprint"],
        env.openssl_thumbprint(&format!("{prefix}.cer")).as_str()
    );
}

const ISSUE: Scenario = Scenario {
    name: "issue",
    setup: init,
    prepare: |_| {},
    bin: "certkit-issue",
    args: &[
        "client",
        "--ca",
        "pki",
        "--cn",
        "bob",
        "--out",
        "out/bob",
        "--key",
        "p256",
        "--pfx",
        "--ca-pass",
        "env:CA_PW",
        "--key-pass",
        "env:KEY_PW",
        "--pfx-pass",
        "env:PFX_PW",
    ],
    after_rerun: |env, rerun| {
        one_delivered(env, rerun, "bob", "out/bob");
        for ext in ["pem", "key", "pfx"] {
            assert!(
                env.path(&format!("out/bob.{ext}")).exists(),
                "out/bob.{ext}"
            );
        }
    },
};

const SIGN: Scenario = Scenario {
    name: "sign",
    setup: |env| {
        init(env);
        env.openssl_p256_csr("carol", "/CN=carol");
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: &[
        "sign",
        "--ca",
        "pki",
        "--csr",
        "carol.csr",
        "--profile",
        "client",
        "--out",
        "out/carol",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| one_delivered(env, rerun, "carol", "out/carol"),
};

const RENEW: Scenario = Scenario {
    name: "renew",
    setup: init,
    prepare: |_| {},
    bin: "certkit-issue",
    args: &[
        "renew",
        "--ca",
        "pki",
        "alice.cer",
        "--out",
        "out/alice2",
        "--pfx",
        "--ca-pass",
        "env:CA_PW",
        "--key-pass",
        "env:KEY_PW",
        "--pfx-pass",
        "env:PFX_PW",
    ],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let old = env.openssl_thumbprint("alice.cer");
        let list = env.list("pki");
        let old_serial = list
            .iter()
            .find(|e| e["thumbprint"] == old.as_str())
            .map(|e| e["serial"].clone())
            .expect("old");
        let renewals: Vec<_> = list
            .iter()
            .filter(|e| e["renewal_of"] == old_serial && e["status"] == "valid")
            .collect();
        assert_eq!(renewals.len(), 1, "{renewals:?}");
        assert_eq!(
            renewals[0]["thumbprint"],
            env.openssl_thumbprint("out/alice2.cer").as_str()
        );
    },
};

const BATCH: Scenario = Scenario {
    name: "batch",
    setup: |env| {
        init(env);
        std::fs::write(env.path("people.csv"), "cn\ndave\nerin\nfrank\n").expect("csv");
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: &[
        "client",
        "--ca",
        "pki",
        "--batch",
        "people.csv",
        "--out-dir",
        "team",
        "--pfx",
        "--key",
        "p256",
        "--jobs",
        "1",
        "--ca-pass",
        "env:CA_PW",
        "--pfx-pass",
        "env:PFX_PW",
    ],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        for cn in ["dave", "erin", "frank"] {
            let valid = valid(env, cn);
            assert_eq!(valid.len(), 1, "{cn}: {valid:?}");
            assert_eq!(
                valid[0]["thumbprint"],
                env.openssl_thumbprint(&format!("team/{cn}.cer")).as_str()
            );
            assert!(env.path(&format!("team/{cn}.pfx")).exists());
        }
    },
};

/// Renewing what expires soon: alice (365 days) and bob (10 days), in one run.
const RENEW_DUE: Scenario = Scenario {
    name: "renew --expiring-within",
    setup: |env| {
        init(env);
        env.issue(&[
            "client", "--ca", "pki", "--cn", "bob", "--out", "bob", "--key", "p256", "--days", "10",
        ]);
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: &[
        "renew",
        "--ca",
        "pki",
        "--expiring-within",
        "400",
        "--out-dir",
        "out",
        "--pfx",
        "--jobs",
        "1",
        "--ca-pass",
        "env:CA_PW",
        "--key-pass",
        "env:KEY_PW",
        "--pfx-pass",
        "env:PFX_PW",
        "--json",
    ],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("json");
        let list = env.list("pki");
        for cn in ["alice", "bob"] {
            let old = env.openssl_thumbprint(&format!("{cn}.cer"));
            let old_serial = list
                .iter()
                .find(|e| e["thumbprint"] == old.as_str())
                .map(|e| e["serial"].clone())
                .expect("old");
            let renewals: Vec<_> = list
                .iter()
                .filter(|e| e["renewal_of"] == old_serial && e["status"] == "valid")
                .collect();
            assert_eq!(renewals.len(), 1, "{cn}: {renewals:?}");
            let row = report["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["old_serial"] == old_serial)
                .expect("row");
            assert_eq!(row["thumbprint"], renewals[0]["thumbprint"], "{cn}");
            // The renewal's files are where the rows of this run or the killed one said.
            let name = format!(
                "out/{cn}-{}-renewed",
                &old_serial.as_str().expect("serial")[..8]
            );
            assert_eq!(
                renewals[0]["thumbprint"],
                env.openssl_thumbprint(&format!("{name}.cer")).as_str(),
                "{cn}"
            );
            assert!(env.path(&format!("{name}.pfx")).exists(), "{cn}");
        }
        let staged: Vec<String> = env
            .listing("out")
            .into_iter()
            .filter(|n| n.starts_with(".certkit-"))
            .collect();
        assert!(staged.is_empty(), "left in out: {staged:?}");
    },
};

/// Rebuilding the index and an `issued/` copy that was lost.
const REINDEX: Scenario = Scenario {
    name: "reindex",
    setup: |env| {
        init(env);
        let serial = env.list("pki")[0]["serial"]
            .as_str()
            .expect("serial")
            .to_string();
        std::fs::remove_file(env.path(&format!("pki/issued/{serial}.cer"))).expect("rm");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &["reindex", "--ca", "pki"],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let serial = env.list("pki")[0]["serial"]
            .as_str()
            .expect("serial")
            .to_string();
        assert_eq!(
            env.read(&format!("pki/issued/{serial}.cer")),
            env.read("alice.cer")
        );
    },
};

const REVOKE: Scenario = Scenario {
    name: "revoke",
    setup: init,
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "revoke",
        "--ca",
        "pki",
        "alice.cer",
        "--reason",
        "keyCompromise",
    ],
    after_rerun: |env, rerun| {
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already revoked"]);
        }
        let list = env.list("pki");
        assert_eq!(list[0]["status"], "revoked");
        assert_eq!(list[0]["revocation_reason"], "keyCompromise");
    },
};

/// The number of the CRL the setup published.
const FIRST_CRL: u32 = 1;

const CRL: Scenario = Scenario {
    name: "crl",
    setup: |env| {
        init(env);
        env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(
            &env.openssl_ok(&[
                "crl",
                "-in",
                "pki/ca.crl",
                "-inform",
                "DER",
                "-CAfile",
                "pki/ca.pem",
                "-noout",
            ]),
            &["verify OK"],
        );
        let number = env.openssl_ok(&[
            "crl",
            "-in",
            "pki/ca.crl",
            "-inform",
            "DER",
            "-noout",
            "-crlnumber",
        ]);
        let number = u32::from_str_radix(number.trim().trim_start_matches("crlNumber=0x"), 16)
            .expect("number");
        assert!(number > FIRST_CRL + 1 - 1, "CRL number {number}");
        assert!(
            number >= 2,
            "the republished CRL must have a higher number than the first"
        );
    },
};

const CRL_SERIES: Scenario = Scenario {
    name: "crl-series",
    setup: |env| {
        init(env);
        env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "crl",
        "--ca",
        "pki",
        "--series",
        "3",
        "--every",
        "30",
        "--out-dir",
        "crls",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(&text(&rerun.stdout), &["Signed 3 CRLs"]);
        // Every CRL a killed run left is whole and signed, no number is used twice, and publish puts the
        // rerun's first CRL in place (the newest in force now).
        let mut numbers = Vec::new();
        for name in env.listing("crls") {
            if !name.ends_with(".crl") {
                continue;
            }
            let path = format!("crls/{name}");
            assert_contains(
                &env.openssl_ok(&[
                    "crl",
                    "-in",
                    &path,
                    "-inform",
                    "DER",
                    "-CAfile",
                    "pki/ca.pem",
                    "-noout",
                ]),
                &["verify OK"],
            );
            let number = name
                .rsplit('-')
                .next()
                .expect("number")
                .trim_end_matches(".crl");
            numbers.push(number.parse::<u64>().expect("number in the name"));
        }
        let count = numbers.len();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), count, "a CRL number used twice");
        assert_eq!(env.read("crls/ca.cer"), env.read("pki/ca.cer"));
        let out = env.run(
            "certkit-ca",
            &[
                "crl",
                "publish",
                "--from",
                "crls",
                "--to",
                "published.crl",
                "--ca-cert",
                "pki/ca.cer",
                "--json",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        // The rerun signed the three highest numbers; its first is in force now.
        assert_eq!(
            json["crl_number"].as_u64(),
            Some(numbers[numbers.len() - 3])
        );
    },
};

const SIGN_CA: Scenario = Scenario {
    name: "sign-ca",
    setup: |env| {
        init(env);
        env.openssl_p256_csr("issuing", "/CN=Issuing CA 1");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "sign-ca",
        "--ca",
        "pki",
        "--csr",
        "issuing.csr",
        "--out",
        "out/issuing",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // One issuing CA in the root's inventory, the one the files hold, which openssl verifies.
        one_delivered(env, rerun, "Issuing CA 1", "out/issuing");
        let listed = env.json(
            "certkit-ca",
            &["list", "--ca", "pki", "--profile", "ca", "--json"],
        );
        assert!(
            listed
                .as_array()
                .expect("list")
                .iter()
                .all(|e| e["profile"] == "ca"),
            "{listed}"
        );
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "out/issuing.pem"]),
            &["OK"],
        );
    },
};

const REQUEST: Scenario = Scenario {
    name: "init --request",
    setup: |_| {},
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "init",
        "--ca",
        "pki",
        "--cn",
        "Issuing CA 1",
        "--key",
        "p256",
        "--request",
        "pki.csr",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // The rerun makes the folder, or hands out the request an interrupted run left in it: either way the
        // request given is the folder's, for its key, and the folder signs nothing.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_eq!(env.read("pki.csr"), env.read("pki/ca.csr"));
        env.openssl_ok(&["req", "-in", "pki.csr", "-verify", "-noout"]);
        assert!(!env.path("pki/ca.pem").exists());
    },
};

const INSTALL: Scenario = Scenario {
    name: "install",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
        env.ok("certkit-ca", REQUEST.args);
        env.ok(
            "certkit-ca",
            &[
                "sign-ca",
                "--ca",
                "root",
                "--csr",
                "pki.csr",
                "--out",
                "issuing",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "install",
        "--ca",
        "pki",
        "--cert",
        "issuing.cer",
        "--chain",
        "root/ca.cer",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // Installed by the rerun, or by the killed run when it was only printing: a CA with its chain, that
        // issues certificates openssl verifies up to the root.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["has its certificate already"]);
        }
        let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
        assert_eq!(shown["chain"], serde_json::json!(["CN=Test CA"]), "{shown}");
        env.issue(&[
            "client", "--ca", "pki", "--cn", "bob", "--out", "bob", "--key", "p256",
        ]);
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-x509_strict",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "pki/ca.pem",
                "bob.pem",
            ]),
            &["bob.pem: OK"],
        );
    },
};

const INIT_PARENT: Scenario = Scenario {
    name: "init --parent",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "init",
        "--ca",
        "pki",
        "--parent",
        "root",
        "--cn",
        "Issuing CA 1",
        "--key",
        "p256",
        "--parent-pass",
        "env:CA_PW",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // The rerun finishes (or the killed run had finished and was printing): the root records exactly one
        // issuing CA, the one the folder holds, with its chain, and the root's audit passes.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already"]);
        }
        let listed = env.json(
            "certkit-ca",
            &["list", "--ca", "root", "--profile", "ca", "--json"],
        );
        let thumbprint = env.openssl_thumbprint("pki/ca.pem");
        assert!(
            listed
                .as_array()
                .expect("list")
                .iter()
                .any(|e| e["thumbprint"] == thumbprint.as_str()),
            "{listed}"
        );
        let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
        assert_eq!(shown["chain"], serde_json::json!(["CN=Test CA"]));
        env.ok("certkit-ca", &["audit", "--ca", "root"]);
    },
};

const RENEW_BELOW: Scenario = Scenario {
    name: "renew --parent (an issuing CA)",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
        env.ok(
            "certkit-ca",
            &[
                "init",
                "--ca",
                "pki",
                "--parent",
                "root",
                "--cn",
                "Issuing CA 1",
                "--key",
                "p256",
                "--parent-pass",
                "env:CA_PW",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
        env.issue(&[
            "client", "--ca", "pki", "--cn", "alice", "--out", "alice", "--key", "p256",
        ]);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "renew",
        "--ca",
        "pki",
        "--parent",
        "root",
        "--parent-pass",
        "env:CA_PW",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // The root signed one renewal of the first certificate however often the run was killed (a rerun takes
        // the one it recorded), the folder holds a renewal of it, and every path still verifies from the root.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let first = env.openssl_ok(&["x509", "-in", "first.pem", "-noout", "-serial"]);
        let first = first.trim().trim_start_matches("serial=").to_string();
        let renewals = env
            .list("root")
            .iter()
            .filter(|r| r["renewal_of"] == first.as_str())
            .count();
        assert_eq!(
            renewals, 1,
            "the root signed {renewals} renewals of {first}"
        );
        assert_ne!(env.read("first.pem"), env.read("pki/ca.pem"));
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "pki/ca.pem",
                "alice.pem",
            ]),
            &["alice.pem: OK"],
        );
        env.issue(&[
            "client", "--ca", "pki", "--cn", "after", "--out", "after", "--key", "p256",
        ]);
        env.ok("certkit-ca", &["audit", "--ca", "root"]);
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

const INSTALL_RENEWAL: Scenario = Scenario {
    name: "install (a renewal the offline root signed)",
    setup: |env| {
        (RENEW_BELOW.setup)(env);
        env.ok(
            "certkit-ca",
            &[
                "sign-ca",
                "--ca",
                "root",
                "--renew",
                "pki/ca.cer",
                "--out",
                "renewed",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "install",
        "--ca",
        "pki",
        "--cert",
        "renewed.cer",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let pem = env.openssl_ok(&["x509", "-inform", "DER", "-in", "renewed.cer"]);
        assert_eq!(env.read("pki/ca.pem"), pem.into_bytes());
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "pki/ca.pem",
                "alice.pem",
            ]),
            &["alice.pem: OK"],
        );
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

const RENEW_CA: Scenario = Scenario {
    name: "renew (the CA)",
    setup: |env| {
        init(env);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &["renew", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    after_rerun: |env, rerun| {
        // The old CA or a renewal of it, never neither: the same subject and key, everything issued verifies
        // under it, the first certificate kept, and the CA signs.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let first = env.x509_text("first.pem");
        let now = env.x509_text("pki/ca.pem");
        let subject = |t: &str| {
            t.lines()
                .find(|l| l.contains("Subject:"))
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(subject(&first), subject(&now));
        assert_ne!(
            env.read("first.pem"),
            env.read("pki/ca.pem"),
            "the rerun renews"
        );
        assert_eq!(env.read("pki/ca.cer"), {
            let out = env.openssl_ok(&[
                "x509",
                "-in",
                "pki/ca.pem",
                "-outform",
                "DER",
                "-out",
                "now.der",
            ]);
            let _ = out;
            env.read("now.der")
        });
        assert!(!env.listing("pki/history").is_empty());
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "alice.pem"]),
            &["alice.pem: OK"],
        );
        env.issue(&[
            "client", "--ca", "pki", "--cn", "after", "--out", "after", "--key", "p256",
        ]);
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "first.pem", "after.pem"]),
            &["after.pem: OK"],
        );
    },
};

const REKEY: Scenario = Scenario {
    name: "rekey",
    setup: |env| {
        init(env);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "rekey",
        "--ca",
        "pki",
        "--ca-pass",
        "env:CA_PW",
        "--key",
        "p384",
    ],
    after_rerun: |env, rerun| {
        // The new key in place with its certificate (it signs, and what it signs verifies through the
        // cross-certificate under the first one); what the old key signed still verifies; the audit passes
        // (check_invariants ran it after the kill).
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let key = |file: &str| env.openssl_ok(&["x509", "-in", file, "-noout", "-pubkey"]);
        assert_ne!(key("first.pem"), key("pki/ca.pem"), "the rerun re-keys");
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "first.pem", "alice.pem"]),
            &["alice.pem: OK"],
        );
        env.issue(&[
            "client", "--ca", "pki", "--cn", "after", "--out", "after", "--key", "p256",
        ]);
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "after.pem"]),
            &["after.pem: OK"],
        );
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
        every_ca_certificate_is_the_cas_or_revoked(env);
    },
};

/// Every CA certificate the inventory records for the CA itself is one of its lineage (`audit`'s history) or
/// revoked: a re-key killed after recording "new key signed by the old" must not leave a valid CA certificate
/// for a key the CA never took (issue 29, 5).
fn every_ca_certificate_is_the_cas_or_revoked(env: &Env) {
    // And no temporary file of the killed run is left in any folder it wrote (issue 29, 14).
    for dir in ["pki", "pki/keys", "pki/history"] {
        for entry in std::fs::read_dir(env.path(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".certkit-"),
                "{dir}/{name} was left behind"
            );
        }
    }
    let audit = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    let lineage: HashSet<&str> = audit["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["thumbprint"].as_str().expect("thumbprint"))
        .collect();
    for row in env.list("pki") {
        if row["profile"] == "ca" && row["status"] != "revoked" {
            let thumbprint = row["thumbprint"].as_str().expect("thumbprint");
            assert!(
                lineage.contains(thumbprint),
                "a valid CA certificate outside the CA's lineage: {row}"
            );
        }
    }
}

/// The scenario's arguments, each `@FILE` replaced by what the set-up wrote into FILE (a value known only
/// once the set-up ran, such as a key identifier).
fn args_in(env: &Env, scenario: &Scenario) -> Vec<String> {
    scenario
        .args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(file) => String::from_utf8(env.read(file)).expect("set-up value"),
            None => a.to_string(),
        })
        .collect()
}

/// `certkit-ca ARGS` run as if it were `shift` from now (libfaketime), e.g. "-400 days".
fn ca_at(env: &Env, shift: &str, args: &[&str]) {
    let program = bin("certkit-ca");
    let mut all = vec![shift, program.to_str().expect("path")];
    all.extend_from_slice(args);
    let out = env
        .command("faketime")
        .args(&all)
        .output()
        .expect("faketime");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

const RETIRE_KEY: Scenario = Scenario {
    name: "retire-key",
    setup: |env| {
        // A CA made 400 days ago for 390 days, re-keyed 20 days ago: the old key's certificate (and with it
        // everything the old key signed) has ended, so the old key can be retired now.
        ca_at(
            env,
            "-400 days",
            &[
                "init",
                "--ca",
                "pki",
                "--cn",
                "Crash CA",
                "--key",
                "p256",
                "--days",
                "390",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
        ca_at(
            env,
            "-20 days",
            &["rekey", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
        );
        let settings: serde_json::Value =
            serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
        let old = settings["earlier_keys"][0]["key_id"]
            .as_str()
            .expect("old key");
        std::fs::write(env.path("old-key-id"), old).expect("write");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "retire-key",
        "--ca",
        "pki",
        "--key-id",
        "@old-key-id",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        let old = String::from_utf8(env.read("old-key-id")).expect("id");
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert!(!env.path(&format!("pki/keys/{old}.key")).exists());
        let settings: serde_json::Value =
            serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
        assert!(settings.get("earlier_keys").is_none(), "{settings}");
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

const REKEY_TOKEN: Scenario = Scenario {
    name: "rekey (on a token)",
    setup: |env| {
        token::softhsm(env);
        env.ok(
            "certkit-ca",
            &[
                "init",
                "--ca",
                "pki",
                "--cn",
                "Crash CA",
                "--key",
                "p256",
                "--pkcs11",
                "pkcs11:token=certkit-test;object=CA-1",
                "--ca-pass",
                "env:TOKEN_PIN",
            ],
        );
        env.issue(&[
            "client",
            "--ca",
            "pki",
            "--cn",
            "alice",
            "--out",
            "alice",
            "--key",
            "p256",
            "--ca-pass",
            "env:TOKEN_PIN",
        ]);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: &[
        "rekey",
        "--ca",
        "pki",
        "--pkcs11",
        "pkcs11:token=certkit-test;object=CA-2",
        "--ca-pass",
        "env:TOKEN_PIN",
    ],
    after_rerun: |env, rerun| {
        // A key the killed run made on the token stays there (certkit never deletes a token key it may have
        // recorded): the rerun says the label is taken, and a re-key under another label completes. Either
        // way the CA signed all along (the audit after the kill passed) and ends re-keyed.
        if !rerun.status.success() {
            assert_contains(
                &text(&rerun.stderr),
                &["holds a key labelled 'CA-2' already"],
            );
            env.ok(
                "certkit-ca",
                &[
                    "rekey",
                    "--ca",
                    "pki",
                    "--pkcs11",
                    "pkcs11:token=certkit-test;object=CA-3",
                    "--ca-pass",
                    "env:TOKEN_PIN",
                ],
            );
        }
        let key = |file: &str| env.openssl_ok(&["x509", "-in", file, "-noout", "-pubkey"]);
        assert_ne!(key("first.pem"), key("pki/ca.pem"), "re-keyed");
        env.issue(&[
            "client",
            "--ca",
            "pki",
            "--cn",
            "after",
            "--out",
            "after",
            "--key",
            "p256",
            "--ca-pass",
            "env:TOKEN_PIN",
        ]);
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "after.pem"]),
            &["after.pem: OK"],
        );
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "first.pem", "alice.pem"]),
            &["alice.pem: OK"],
        );
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:TOKEN_PIN"],
        );
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

const MOVE_KEY: Scenario = Scenario {
    name: "move-key",
    setup: |env| {
        token::softhsm(env);
        init(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: &[
        "move-key",
        "--ca",
        "pki",
        "--pkcs11",
        "pkcs11:token=certkit-test;object=Moved",
        "--ca-pass",
        "env:CA_PW",
        "--pin",
        "env:TOKEN_PIN",
    ],
    after_rerun: |env, rerun| {
        // The rerun finishes the move, or says there is nothing left to move when the killed run had done it.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["on a token already"]);
        }
        moved_key_signs(env);
    },
};

/// The key moved onto the token: ca.key is gone, and the token signs what the CA certificate trusts.
fn moved_key_signs(env: &Env) {
    assert!(!env.path("pki/ca.key").exists());
    env.issue(&[
        "client",
        "--ca",
        "pki",
        "--cn",
        "after",
        "--out",
        "after",
        "--key",
        "p256",
        "--ca-pass",
        "env:TOKEN_PIN",
    ]);
    assert_contains(
        &env.openssl_ok(&[
            "verify",
            "-x509_strict",
            "-CAfile",
            "pki/ca.pem",
            "after.pem",
        ]),
        &["after.pem: OK"],
    );
}

/// A backup, if its file exists, has every share beside it, and two of them open it.
fn backup_whole_or_absent(env: &Env, when: &str) {
    if !env.path("pki-backup.key").exists() {
        return;
    }
    for i in 1..=3 {
        assert!(
            env.path(&format!("shares/share-{i}-of-3.txt")).exists(),
            "{when}: the backup exists without share {i}"
        );
    }
    env.ok(
        "certkit-ca",
        &[
            "restore",
            "--backup",
            "pki-backup.key",
            "--check",
            "--share",
            "file:shares/share-3-of-3.txt",
            "--share",
            "file:shares/share-1-of-3.txt",
        ],
    );
}

const BACKUP: Scenario = Scenario {
    name: "backup",
    setup: init,
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "backup",
        "--ca",
        "pki",
        "--shares",
        "3",
        "--threshold",
        "2",
        "--share-dir",
        "shares",
        "--ca-pass",
        "env:CA_PW",
    ],
    after_rerun: |env, rerun| {
        // The rerun makes the backup, or refuses to overwrite what the killed run left.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["exists; certkit never overwrites"]);
        }
        backup_whole_or_absent(env, "after the rerun");
    },
};

/// The folder a restore makes, if it exists, is the whole CA: its certificate, a key that signs, its record.
fn restored_whole_or_absent(env: &Env, when: &str) {
    if !env.path("restored").exists() {
        return;
    }
    assert_eq!(
        env.read("restored/ca.pem"),
        env.read("pki/ca.pem"),
        "{when}"
    );
    let audit = env.run("certkit-ca", &["audit", "--ca", "restored"]);
    assert!(audit.status.success(), "{when}: {}", text(&audit.stdout));
    let events = env.json(
        "certkit-ca",
        &["list", "--ca", "restored", "--events", "--json"],
    );
    assert_eq!(events[0]["event"], "restore", "{when}");
}

const RESTORE: Scenario = Scenario {
    name: "restore",
    setup: |env| {
        init(env);
        env.ok(
            "certkit-ca",
            &[
                "backup",
                "--ca",
                "pki",
                "--shares",
                "3",
                "--threshold",
                "2",
                "--share-dir",
                "shares",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: &[
        "restore",
        "--backup",
        "pki-backup.key",
        "--ca",
        "restored",
        "--ca-pass",
        "env:CA_PW",
        "--share",
        "file:shares/share-1-of-3.txt",
        "--share",
        "file:shares/share-2-of-3.txt",
    ],
    after_rerun: |env, rerun| {
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already holds a CA"]);
        }
        restored_whole_or_absent(env, "after the rerun");
        env.issue(&[
            "client", "--ca", "restored", "--cn", "after", "--out", "after", "--key", "p256",
        ]);
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "after.pem"]),
            &["after.pem: OK"],
        );
        // The restored folder keeps its own inventory, which the original's checks do not read.
        for ext in ["cer", "pem", "key"] {
            std::fs::remove_file(env.path(&format!("after.{ext}"))).expect("rm");
        }
        std::fs::remove_dir_all(env.path("restored")).expect("rm");
    },
};

const MOVE_KEY_BACKUP: Scenario = Scenario {
    name: "move-key --backup-shares",
    setup: |env| {
        token::softhsm(env);
        init(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: &[
        "move-key",
        "--ca",
        "pki",
        "--pkcs11",
        "pkcs11:token=certkit-test;object=Moved",
        "--ca-pass",
        "env:CA_PW",
        "--pin",
        "env:TOKEN_PIN",
        "--backup-shares",
        "3",
        "--threshold",
        "2",
        "--share-dir",
        "shares",
    ],
    after_rerun: |env, rerun| {
        // The rerun backs up and moves; or refuses to overwrite the backup the killed run made (the move is then
        // finished without a second backup); or says the key has moved already.
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            if err.contains("exists; certkit never overwrites") {
                backup_whole_or_absent(env, "after the refused rerun");
                env.ok(
                    "certkit-ca",
                    &[
                        "move-key",
                        "--ca",
                        "pki",
                        "--pkcs11",
                        "pkcs11:token=certkit-test;object=Moved",
                        "--ca-pass",
                        "env:CA_PW",
                        "--pin",
                        "env:TOKEN_PIN",
                    ],
                );
            } else {
                assert_contains(&err, &["on a token already"]);
            }
        }
        moved_key_signs(env);
        backup_whole_or_absent(env, "after the rerun");
    },
};

/// The token CA an init or a restore made, if its folder exists, is whole: it audits clean, its trail starts
/// with the custody step, and its key on the token signs what the CA certificate `ca_pem` trusts.
fn token_ca_whole_or_absent(env: &Env, dir: &str, ca_pem: &str, first_event: &str, when: &str) {
    if !env.path(dir).exists() {
        return;
    }
    let audit = env.run("certkit-ca", &["audit", "--ca", dir]);
    assert!(audit.status.success(), "{when}: {}", text(&audit.stdout));
    let events = env.json("certkit-ca", &["list", "--ca", dir, "--events", "--json"]);
    assert_eq!(events[0]["event"], first_event, "{when}");
    assert!(!env.path(&format!("{dir}/ca.key")).exists(), "{when}");
    env.issue(&[
        "client",
        "--ca",
        dir,
        "--cn",
        "after",
        "--out",
        "after",
        "--key",
        "p256",
        "--ca-pass",
        "env:TOKEN_PIN",
    ]);
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", ca_pem, "after.pem"]),
        &["after.pem: OK"],
    );
    for ext in ["cer", "pem", "key"] {
        std::fs::remove_file(env.path(&format!("after.{ext}"))).expect("rm");
    }
}

const INIT_TOKEN_BACKUP: Scenario = Scenario {
    name: "init --pkcs11 --backup-shares",
    setup: token::softhsm,
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: &[
        "init",
        "--ca",
        "pki",
        "--cn",
        "Crash CA",
        "--key",
        "p256",
        "--pkcs11",
        "pkcs11:token=certkit-test;object=Made",
        "--ca-pass",
        "env:TOKEN_PIN",
        "--backup-shares",
        "3",
        "--threshold",
        "2",
        "--share-dir",
        "shares",
    ],
    after_rerun: |env, rerun| {
        // A killed ceremony leaves shares or a backup for a CA that never came to be, or a key on the token
        // under the label: the rerun refuses to overwrite or reuse either, and makes nothing.
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            assert!(
                err.contains("exists; certkit never overwrites")
                    || err.contains("holds a key labelled 'Made' already")
                    || (env.path("pki").exists() && err.contains("already holds a CA")),
                "{err}"
            );
        }
        token_ca_whole_or_absent(env, "pki", "pki/ca.pem", "backup", "after the rerun");
    },
};

const RESTORE_TOKEN: Scenario = Scenario {
    name: "restore --pkcs11",
    setup: |env| {
        token::softhsm(env);
        (RESTORE.setup)(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: &[
        "restore",
        "--backup",
        "pki-backup.key",
        "--ca",
        "restored",
        "--pkcs11",
        "pkcs11:token=certkit-test;object=Restored",
        "--ca-pass",
        "env:TOKEN_PIN",
        "--share",
        "file:shares/share-1-of-3.txt",
        "--share",
        "file:shares/share-2-of-3.txt",
    ],
    after_rerun: |env, rerun| {
        // A restore killed after the import leaves the key on the token under the label: the rerun says so
        // (another label restores it again from the same shares).
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            assert!(
                err.contains("holds a key labelled 'Restored' already")
                    || (env.path("restored").exists() && err.contains("already holds a CA")),
                "{err}"
            );
        }
        token_ca_whole_or_absent(env, "restored", "pki/ca.pem", "restore", "after the rerun");
        // The restored folder keeps its own inventory, which the original's checks do not read.
        if env.path("restored").exists() {
            std::fs::remove_dir_all(env.path("restored")).expect("rm");
        }
    },
};

/// A fresh copy of the set-up folder, prepared for one run.
fn copy_of(template: &Env, scenario: &Scenario) -> Env {
    let env = Env::new();
    let copied = env.tool(
        "cp",
        &["-a", &format!("{}/.", template.dir.path().display()), "."],
    );
    assert!(copied.status.success());
    (scenario.prepare)(&env);
    env
}

/// The file-system steps of the scenario's command, found by tracing one run: for each kind of system call it
/// makes, the calls of that kind (counted from 1) that touch the token's own files (SoftHSM's store, under
/// `softhsm/`). Those are left out: a real token keeps its objects itself, and certkit's promise is about the
/// files it writes.
fn step_kinds(template: &Env, scenario: &Scenario) -> Vec<(&'static str, HashSet<usize>)> {
    let env = copy_of(template, scenario);
    let mut args: Vec<String> = ["-f", "-qq", "-y", "-o", "trace.log", "-e"]
        .map(String::from)
        .to_vec();
    args.push(format!("trace={}", STEPS.join(",")));
    args.push(bin(scenario.bin).display().to_string());
    args.extend(args_in(template, scenario));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let traced = env.tool("strace", &args);
    assert!(
        traced.status.success(),
        "{}: the command fails under strace: {}",
        scenario.name,
        text(&traced.stderr)
    );
    let log = text(&env.read("trace.log"));
    let mut kinds: Vec<(&'static str, usize, HashSet<usize>)> = Vec::new();
    for line in log.lines() {
        // "PID name(args" starts a call; "PID <... name resumed>" finishes one already counted.
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        let Some((name, _)) = call.split_once('(') else {
            continue;
        };
        let Some(step) = STEPS.iter().find(|s| **s == name) else {
            continue;
        };
        let at = match kinds.iter().position(|(kind, _, _)| kind == step) {
            Some(at) => at,
            None => {
                kinds.push((step, 0, HashSet::new()));
                kinds.len() - 1
            }
        };
        let (_, seen, token_steps) = &mut kinds[at];
        *seen += 1;
        if line.contains("/softhsm/") {
            token_steps.insert(*seen);
        }
    }
    kinds
        .into_iter()
        .map(|(kind, _, token_steps)| (kind, token_steps))
        .collect()
}

/// Kills the scenario's command at every file-system step in turn: for each kind of step it makes, before the
/// first call of that kind, then the second, and so on until the command runs to its end. (A batch commits its
/// certificates in groups whose sizes depend on timing, so the count of each kind may differ from run to run;
/// the loop ends where each run ends, not where the traced run did.) Returns how many crash points it has.
fn crash_everywhere(scenario: &Scenario) -> usize {
    let template = Env::new();
    (scenario.setup)(&template);
    let mut points = 0;
    for (step, token_steps) in step_kinds(&template, scenario) {
        for n in 1.. {
            if token_steps.contains(&n) {
                continue;
            }
            let env = copy_of(&template, scenario);
            let scenario_args = args_in(&env, scenario);
            let scenario_args: Vec<&str> = scenario_args.iter().map(String::as_str).collect();
            let run = env.killed_at(step, n, scenario.bin, &scenario_args);
            let was_killed = run.status.signal() == Some(9) || run.status.code() == Some(137);
            if !was_killed {
                assert!(
                    run.status.success(),
                    "{}: fails without a crash ({:?}):\n{}",
                    scenario.name,
                    run.status,
                    text(&run.stderr)
                );
                break;
            }
            points += 1;
            let point = format!("{} killed before {step} #{n}", scenario.name);
            // Before a command that makes the CA folder has made it, there is nothing of it to check but the
            // backup below.
            // Before the CA folder is a CA (made, or installed), there is nothing of it to check but the backup
            // below.
            if !env.path("pki/ca.pem").exists() {
            } else {
                check_invariants(&env, &point);
                same_answers_without_the_index(&env, &point);
                // The CA key is in ca.key or on the token the folder records: never in neither; and with
                // --backup-shares it leaves ca.key (or memory) only once its backup is whole.
                let settings: serde_json::Value =
                    serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
                let in_file = env.path("pki/ca.key").exists();
                assert!(
                    in_file || settings["pkcs11"].is_object(),
                    "{point}: the CA key is lost"
                );
                if scenario.args.contains(&"--backup-shares") && !in_file {
                    assert!(
                        env.path("pki-backup.key").exists(),
                        "{point}: the key is on the token without its backup"
                    );
                }
            }
            backup_whole_or_absent(&env, &point);
            if scenario.args.contains(&"--pkcs11") && scenario.args[0] != "move-key" {
                let (dir, first) = match scenario.args[0] {
                    "init" => ("pki", "backup"),
                    _ => ("restored", "restore"),
                };
                token_ca_whole_or_absent(&env, dir, &format!("{dir}/ca.pem"), first, &point);
            } else {
                restored_whole_or_absent(&env, &point);
            }
            let rerun = env.run(scenario.bin, &scenario_args);
            eprintln!(
                "{point}: rerun {:?} {}",
                rerun.status.code(),
                text(&rerun.stderr).trim()
            );
            (scenario.after_rerun)(&env, &rerun);
            if env.path("pki/ca.pem").exists() {
                check_invariants(&env, &format!("{point}, after the rerun"));
            }
        }
    }
    eprintln!("{}: {points} crash points, each survived", scenario.name);
    points
}

#[test]
fn issue_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&ISSUE) > 10);
}

#[test]
fn sign_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&SIGN) > 10);
}

#[test]
fn renew_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW) > 10);
}

#[test]
fn renewing_what_expires_soon_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_DUE) > 10);
}

#[test]
fn reindex_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REINDEX) > 2);
}

#[test]
fn a_batch_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&BATCH) > 10);
}

#[test]
fn revoke_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REVOKE) > 2);
}

#[test]
fn init_request_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REQUEST) > 2);
}

#[test]
fn install_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INSTALL) > 2);
}

#[test]
fn init_parent_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INIT_PARENT) > 10);
}

#[test]
fn renewing_the_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_CA) > 5);
}

#[test]
fn rekeying_the_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REKEY) > 8);
}

#[test]
fn renewing_an_issuing_ca_through_its_root_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RENEW_BELOW) > 5);
}

#[test]
fn installing_a_renewal_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INSTALL_RENEWAL) > 3);
}

#[test]
fn rekeying_a_token_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&REKEY_TOKEN) > 5);
}

#[test]
fn retiring_an_earlier_key_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RETIRE_KEY) > 3);
}

#[test]
fn sign_ca_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&SIGN_CA) > 10);
}

#[test]
fn crl_series_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&CRL_SERIES) > 2);
}

#[test]
fn crl_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&CRL) > 2);
}

#[test]
fn backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&BACKUP) > 2);
}

#[test]
fn restore_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RESTORE) > 2);
}

#[test]
fn move_key_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&MOVE_KEY) > 2);
}

#[test]
fn move_key_with_a_backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&MOVE_KEY_BACKUP) > 2);
}

#[test]
fn a_token_ca_made_with_a_backup_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&INIT_TOKEN_BACKUP) > 2);
}

#[test]
fn restore_onto_a_token_survives_a_crash_at_every_step() {
    assert!(crash_everywhere(&RESTORE_TOKEN) > 2);
}
