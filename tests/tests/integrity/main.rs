//! The CA folder as a whole, played against an intruder who can write to it but has no CA key, and against
//! the accidents that must not cost a CA: two `init` runs racing for one folder, outputs aimed into the folder,
//! a forged record, a planted `ca.json`, a rolled-back folder.

#[path = "../common/mod.rs"]
mod common;
mod interrupted;

use std::process::Stdio;

use common::token;
use common::*;

#[test]
fn two_inits_racing_for_one_new_folder_make_one_ca_and_remove_nothing() {
    let env = Env::new();
    for round in 0..20 {
        let dir = format!("r{round}");
        let start = || {
            env.cmd("certkit-ca")
                .args(["init", "--ca", &dir, "--cn", "Race CA", "--key", "p256"])
                .args(["--ca-pass", "env:CA_PW", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn init")
        };
        let (a, b) = (start(), start());
        let outs = [
            a.wait_with_output().expect("init"),
            b.wait_with_output().expect("init"),
        ];
        let won: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(won.len(), 1, "round {round}: {outs:?}");
        let lost = outs.iter().find(|o| !o.status.success()).expect("loser");
        assert_eq!(lost.status.code(), Some(1), "{}", text(&lost.stderr));
        assert_contains(&text(&lost.stderr), &["already holds a CA"]);
        // The winner's CA is whole: its key opens, and it signs.
        let made: serde_json::Value = serde_json::from_slice(&won[0].stdout).expect("json");
        assert!(
            env.path(&format!("{dir}/ca.key")).is_file(),
            "round {round}"
        );
        assert_eq!(
            env.openssl_thumbprint(&format!("{dir}/ca.cer")),
            made["thumbprint"].as_str().expect("thumbprint")
        );
        // No staging folder is left beside it.
        let stray: Vec<String> = env
            .listing(".")
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }
    env.issue(&cli("client --ca r0 --cn after --out after --key p256"));
}

#[test]
fn a_failed_init_into_an_existing_empty_folder_leaves_the_folder() {
    let env = Env::new();
    std::fs::create_dir(env.path("mine")).expect("mkdir");
    std::fs::write(env.path("mine/README"), "my notes").expect("write");
    // No password source and no terminal: init fails before anything is made.
    env.fails(
        "certkit-ca",
        &["init", "--ca", "mine", "--cn", "X", "--key", "p256"],
        2,
    );
    assert_eq!(env.read("mine/README"), b"my notes");
    env.init_ca_with("mine", &["--key", "p256"]);
    assert_eq!(env.read("mine/README"), b"my notes");
}

/// `certkit-ca audit --json` of `ca` with `extra` flags: (exit code, the codes of its findings at `level`).
fn audit_codes(env: &Env, ca: &str, extra: &[&str], level: &str) -> (i32, Vec<String>) {
    let mut args = vec!["audit", "--ca", ca, "--json"];
    args.extend_from_slice(extra);
    let out = env.run("certkit-ca", &args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("audit json");
    let codes = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["level"] == level)
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect();
    (out.status.code().unwrap_or(-1), codes)
}

/// A P-256 CA in `pki` with alice's client certificate.
fn ca_with_alice(env: &Env, extra: &[&str]) {
    let mut args = vec!["--key", "p256"];
    args.extend_from_slice(extra);
    env.init_ca_with("pki", &args);
    env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
}

#[test]
fn a_record_forged_by_hand_is_found_refused_and_never_covered_by_a_checkpoint() {
    for (carried, expected) in [
        ("carried", "not-signed-by-ca"),
        ("copy", "not-signed-by-ca"),
        ("none", "copy-missing"),
    ] {
        let env = Env::new();
        ca_with_alice(&env, &[]);
        env.tampered("pki");
        let out = env.tool("python3", &[&peer("forge_record.py"), "pki", carried]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let serial = text(&out.stdout).trim().to_string();
        let (code, errors) = audit_codes(&env, "pki", &[], "error");
        assert_eq!(code, 1, "{carried}: the audit passed a forged record");
        // list never shows it as valid, and says why.
        let listed = env.run("certkit-ca", &["list", "--ca", "pki", "--json"]);
        let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("list");
        let forged = rows
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["serial"] == serial.as_str())
            .expect("the forged record is listed");
        assert_eq!(forged["status"], "forged", "{carried}");
        assert_contains(&text(&listed.stderr), &["line 3", "forged"]);
        assert!(
            errors.contains(&expected.to_string()),
            "{carried}: {errors:?}"
        );
        // Every writing command refuses: nothing is copied into issued/, no checkpoint covers the record.
        let checkpoint = env.read("pki/checkpoint.json");
        let issued = env.listing("pki/issued");
        let err = env.fails(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
            1,
        );
        assert_contains(&err, &["line 3", "certkit-ca audit"]);
        let err = env.fails(
            "certkit-issue",
            &Env::with_passwords(&cli("client --ca pki --cn bob --out bob --key p256")),
            1,
        );
        assert_contains(&err, &["line 3"]);
        assert!(!env.path("bob.cer").exists());
        env.fails("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"], 1);
        assert_eq!(env.read("pki/checkpoint.json"), checkpoint, "{carried}");
        assert_eq!(env.listing("pki/issued"), issued, "{carried}");
        assert!(
            !env.path(&format!("pki/issued/{serial}.cer")).exists() || carried == "copy",
            "{carried}: the forged certificate was copied into issued/"
        );
    }
}

#[test]
fn a_record_that_lies_about_a_real_certificate_is_found() {
    // The intruder copies alice's record (so the certificate is really the CA's) with another subject and
    // serial, chained correctly: the record no longer says what its certificate says.
    let env = Env::new();
    ca_with_alice(&env, &[]);
    env.tampered("pki");
    let inventory = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
    let last = inventory.lines().last().expect("line");
    let mut forged: serde_json::Value =
        serde_json::from_str(inventory.lines().next().expect("line")).expect("json");
    forged["subject"] = "CN=admin".into();
    forged["cn"] = "admin".into();
    forged["prev"] = common::sha256_hex(last.as_bytes()).into();
    std::fs::write(
        env.path("pki/inventory.jsonl"),
        format!("{inventory}{forged}\n"),
    )
    .expect("write");
    let (_, errors) = audit_codes(&env, "pki", &[], "error");
    assert!(
        errors.contains(&"record-mismatch".to_string()),
        "{errors:?}"
    );
    env.fails(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        1,
    );
}

#[test]
fn the_crl_url_is_what_the_ca_key_signed() {
    let env = Env::new();
    ca_with_alice(&env, &["--crl-url", "http://pki.example.com/ca.crl"]);
    let signed = env.read("pki/ca.json");
    let planted = String::from_utf8(signed.clone())
        .expect("utf8")
        .replace("pki.example.com", "evil.example.net");
    std::fs::write(env.path("pki/ca.json"), planted).expect("write");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli("client --ca pki --cn bob --out bob --key p256")),
        1,
    );
    assert_contains(
        &err,
        &[
            "ca.json was changed after the CA key signed it",
            "http://evil.example.net/ca.crl",
            "http://pki.example.com/ca.crl",
        ],
    );
    assert!(!env.path("bob.cer").exists());
    let (code, errors) = audit_codes(&env, "pki", &[], "error");
    assert_eq!((code, errors), (1, vec!["settings-changed".to_string()]));
    // Restored, the CA works again and puts the signed URL into what it issues.
    std::fs::write(env.path("pki/ca.json"), signed).expect("restore");
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    assert_contains(
        &env.x509_text("bob.pem"),
        &["URI:http://pki.example.com/ca.crl"],
    );
}

#[test]
fn a_pkcs11_module_planted_in_ca_json_is_never_loaded() {
    let env = Env::new();
    token::softhsm(&env);
    let real = token::module();
    env.json(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "pki",
            "--cn",
            "Token CA",
            "--key",
            "p256",
            "--pkcs11",
            "pkcs11:token=certkit-test;object=Token CA",
            "--pkcs11-module",
            &real,
            "--ca-pass",
            "env:TOKEN_PIN",
            "--json",
        ],
    );
    let out = env.tool(
        "cc",
        &[
            "-shared",
            "-fPIC",
            "-o",
            "planted.so",
            &peer("planted_module.c"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let planted = env.path("planted.so").display().to_string();
    let mark = env.path("loaded-mark");
    env.set_var("PLANTED_MARK", &mark.display().to_string());
    let signed = env.read("pki/ca.json");
    let mut settings: serde_json::Value = serde_json::from_slice(&signed).expect("ca.json");
    settings["pkcs11"]["module"] = planted.as_str().into();
    std::fs::write(env.path("pki/ca.json"), settings.to_string()).expect("write");
    env.tampered("pki");
    for (bin, args) in [
        ("certkit-ca", vec!["show", "--ca", "pki"]),
        (
            "certkit-ca",
            vec!["crl", "--ca", "pki", "--ca-pass", "env:TOKEN_PIN"],
        ),
        (
            "certkit-issue",
            cli(
                "client --ca pki --cn bob --out bob --key p256 --key-pass env:KEY_PW \
                --ca-pass env:TOKEN_PIN",
            ),
        ),
    ] {
        let err = env.fails(bin, &args, 1);
        assert_contains(&err, &[&planted, &real, "--pkcs11-module"]);
        assert!(!mark.exists(), "{bin} {args:?} loaded the planted module");
    }
    let (code, errors) = audit_codes(&env, "pki", &[], "error");
    assert_eq!((code, errors), (1, vec!["settings-changed".to_string()]));
    assert!(!mark.exists(), "the audit loaded the planted module");
    // The user may name the module; the folder's choice is still never loaded.
    let shown = env.ok(
        "certkit-ca",
        &["show", "--ca", "pki", "--pkcs11-module", &real],
    );
    assert_contains(&shown, &["Token CA"]);
    assert!(!mark.exists());
    std::fs::write(env.path("pki/ca.json"), &signed).expect("restore");
    env.ok("certkit-ca", &["show", "--ca", "pki"]);
    assert_eq!(audit_codes(&env, "pki", &[], "error"), (0, vec![]));
    assert!(!mark.exists());
}

#[test]
fn a_rolled_back_folder_is_found_by_a_published_crl_or_a_head_kept_elsewhere() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let older = env.tool("cp", &["-a", "pki", "pki-older"]);
    assert!(older.status.success());
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason keyCompromise"),
    );
    std::fs::create_dir(env.path("www")).expect("mkdir");
    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --out www/myca.crl --ca-pass env:CA_PW"),
    );
    let head = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"])["head"]
        .as_str()
        .expect("head")
        .to_string();
    std::fs::write(
        env.path("ceremony.log"),
        format!("2026-11-27 revoked alice (lost laptop); head {head}\n"),
    )
    .expect("write");
    // The intruder puts back the older log, checkpoint, CRL and CRL number: the revocation is gone.
    for file in ["inventory.jsonl", "checkpoint.json", "ca.crl", "crlnumber"] {
        std::fs::copy(
            env.path(&format!("pki-older/{file}")),
            env.path(&format!("pki/{file}")),
        )
        .expect("roll back");
    }
    env.tampered("pki");
    assert_eq!(env.list("pki")[0]["status"], "valid");
    // On its own the folder is consistent: the audit cannot know (docs/store-format.md says so)...
    assert_eq!(audit_codes(&env, "pki", &[], "error"), (0, vec![]));
    // ...but the CRL published before the rollback shows it, and so does the head kept in the ceremony log.
    let (code, errors) = audit_codes(&env, "pki", &["--crl", "www/myca.crl"], "error");
    assert_eq!(code, 1);
    assert!(
        errors.contains(&"crl-rolled-back".to_string()),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"crl-lists-unrevoked".to_string()),
        "{errors:?}"
    );
    for expected in [head.as_str(), "ceremony.log"] {
        let (code, errors) = audit_codes(&env, "pki", &["--expect-head", expected], "error");
        assert_eq!((code, errors), (1, vec!["head-missing".to_string()]));
    }
    // Against the folder as it was before the rollback, both agree.
    let older_head = env.json("certkit-ca", &["audit", "--ca", "pki-older", "--json"])["head"]
        .as_str()
        .expect("head")
        .to_string();
    let (code, _) = audit_codes(&env, "pki", &["--expect-head", &older_head], "error");
    assert_eq!(code, 0);
}

#[test]
fn a_revocation_signed_over_with_ca_pass_cannot_be_dropped_unseen() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    env.tampered("pki");
    let drop_last_line = |env: &Env| {
        let text = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(
            env.path("pki/inventory.jsonl"),
            lines[..lines.len() - 1].join("\n") + "\n",
        )
        .expect("write");
    };
    // Without the key, the revocation comes after the last checkpoint: dropping it shows only against a
    // head kept elsewhere.
    let revoked = env.json(
        "certkit-ca",
        &["revoke", "--ca", "pki", "bob.cer", "--json"],
    );
    assert_eq!(revoked["checkpoint_signed"], false);
    let head = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"])["head"]
        .as_str()
        .expect("head")
        .to_string();
    drop_last_line(&env);
    assert_eq!(audit_codes(&env, "pki", &[], "error"), (0, vec![]));
    assert_eq!(
        audit_codes(&env, "pki", &["--expect-head", &head], "error"),
        (1, vec!["head-missing".to_string()])
    );
    // With --ca-pass the key signs a checkpoint over it at once: dropping it breaks the checkpoint.
    let revoked = env.json(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason keyCompromise --ca-pass env:CA_PW --json"),
    );
    assert_eq!(revoked["checkpoint_signed"], true);
    drop_last_line(&env);
    let (code, errors) = audit_codes(&env, "pki", &[], "error");
    assert_eq!((code, errors), (1, vec!["log-cut".to_string()]));
}

/// Runs `certkit-issue client --cn bob --out out/bob --pfx` killed on entry to its `n`-th renameat2: the
/// certificate is recorded and its files staged in out/, none in place.
fn killed_while_placing_bob(env: &Env) {
    std::fs::create_dir_all(env.path("out")).expect("mkdir");
    let run = env.killed_at(
        "renameat2",
        2,
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --cn bob --out out/bob --key p256 --pfx",
        )),
    );
    assert!(!run.status.success());
}

fn staged_in(env: &Env, folder: &str) -> Vec<String> {
    env.listing(folder)
        .into_iter()
        .filter(|n| n.starts_with(".certkit-"))
        .collect()
}

/// One tampering an intruder with write access (and no key) can do, and the audit finding that shows it.
struct Tampering {
    what: &'static str,
    change: fn(&Env),
    shows: &'static str,
    /// Whether it must stop every writing command (what decides what the CA does next), or only the audit
    /// shows it (an `issued/` copy or the folder's CRL: the records carry every certificate themselves).
    stops_writing: bool,
}

fn last_line_hash(env: &Env) -> String {
    let inventory = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
    common::sha256_hex(inventory.lines().last().expect("line").as_bytes())
}

const TAMPERINGS: [Tampering; 6] = [
    Tampering {
        what: "the checkpoint's time changed",
        change: |env| {
            let text = String::from_utf8(env.read("pki/checkpoint.json")).expect("utf8");
            let mut checkpoint: serde_json::Value = serde_json::from_str(&text).expect("json");
            checkpoint["time"] = "2020-01-01T00:00:00Z".into();
            std::fs::write(env.path("pki/checkpoint.json"), checkpoint.to_string()).expect("write");
        },
        shows: "checkpoint-forged",
        stops_writing: true,
    },
    Tampering {
        what: "the CA certificate replaced by another CA's",
        change: |env| {
            for file in ["ca.pem", "ca.cer"] {
                std::fs::copy(
                    env.path(&format!("rogue/{file}")),
                    env.path(&format!("pki/{file}")),
                )
                .expect("copy");
            }
        },
        shows: "chain-broken",
        stops_writing: true,
    },
    Tampering {
        what: "an issued/ copy swapped for another certificate of the CA",
        change: |env| {
            let serial = env.list("pki")[1]["serial"]
                .as_str()
                .expect("serial")
                .to_string();
            std::fs::copy(
                env.path("bob.cer"),
                env.path(&format!("pki/issued/{serial}.cer")),
            )
            .expect("copy");
        },
        shows: "copy-differs",
        stops_writing: false,
    },
    Tampering {
        what: "a record appended twice, chained correctly",
        change: |env| {
            let inventory = String::from_utf8(env.read("pki/inventory.jsonl")).expect("utf8");
            let mut again: serde_json::Value =
                serde_json::from_str(inventory.lines().next().expect("line")).expect("json");
            again["prev"] = last_line_hash(env).into();
            std::fs::write(
                env.path("pki/inventory.jsonl"),
                format!("{inventory}{again}\n"),
            )
            .expect("write");
        },
        shows: "serial-duplicate",
        stops_writing: true,
    },
    Tampering {
        what: "the folder's CRL replaced by another CA's",
        change: |env| {
            std::fs::copy(env.path("rogue/ca.crl"), env.path("pki/ca.crl")).expect("copy");
        },
        shows: "crl-not-signed-by-ca",
        stops_writing: false,
    },
    Tampering {
        what: "the checkpoint removed",
        change: |env| std::fs::remove_file(env.path("pki/checkpoint.json")).expect("rm"),
        shows: "checkpoint-missing",
        stops_writing: true,
    },
];

#[test]
fn every_tampering_the_threat_model_names_is_found_and_stops_writing() {
    for tampering in TAMPERINGS {
        let env = Env::new();
        ca_with_alice(&env, &[]);
        env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
        env.init_ca_with("rogue", &["--key", "p256"]);
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "rogue", "--ca-pass", "env:CA_PW"],
        );
        env.tampered("pki");
        (tampering.change)(&env);
        let (code, errors) = audit_codes(&env, "pki", &[], "error");
        assert_eq!(code, 1, "{}: the audit passed", tampering.what);
        assert!(
            errors.contains(&tampering.shows.to_string()),
            "{}: expected {} in {errors:?}",
            tampering.what,
            tampering.shows
        );
        if tampering.stops_writing {
            let inventory = env.read("pki/inventory.jsonl");
            let out = env.run(
                "certkit-ca",
                &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
            );
            assert!(
                !out.status.success(),
                "{}: crl wrote to a tampered CA",
                tampering.what
            );
            assert_eq!(
                env.read("pki/inventory.jsonl"),
                inventory,
                "{}",
                tampering.what
            );
        }
    }
}

#[test]
fn a_covered_certificate_swapped_for_a_forgery_is_found_whichever_way_the_chain_is_mended() {
    // The audit takes the certificates a signed checkpoint covers on that checkpoint's word, but only while
    // the chain up to its head holds: either way of mending the chain after the swap brings their signatures
    // back into the check.
    for mode in ["relink", "leave"] {
        let env = Env::new();
        ca_with_alice(&env, &[]);
        env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
        let (code, _) = audit_codes(&env, "pki", &[], "error");
        assert_eq!(code, 0, "{mode}: the untouched CA fails its audit");
        env.tampered("pki");
        let out = env.tool(
            "python3",
            &[&peer("swap_covered_certificate.py"), "pki", "1", mode],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        // The forgery is a well-formed certificate in the CA's name: openssl accepts it as one, and only the
        // CA's signature tells it apart.
        let serial = text(&out.stdout).trim().to_string();
        let copy = format!("pki/issued/{serial}.cer");
        let verify = env.tool(
            "openssl",
            &["verify", "-CAfile", "pki/ca.pem", "-partial_chain", &copy],
        );
        assert!(
            !verify.status.success(),
            "{mode}: openssl verified the forgery"
        );
        let (code, errors) = audit_codes(&env, "pki", &[], "error");
        assert_eq!(code, 1, "{mode}: the audit passed a forged certificate");
        assert!(
            errors.contains(&"not-signed-by-ca".to_string()),
            "{mode}: {errors:?}"
        );
        let shows = match mode {
            "relink" => "log-rewritten",
            _ => "chain-broken",
        };
        assert!(errors.contains(&shows.to_string()), "{mode}: {errors:?}");
    }
}

#[test]
fn a_renewed_cas_certificate_swapped_for_an_intruders_is_found_though_the_checkpoint_is_signed_again()
 {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    env.ok(
        "certkit-ca",
        &["renew", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(audit_codes(&env, "pki", &[], "error"), (0, vec![]));
    // The intruder's own key and certificate with the CA's subject, and the checkpoint signed again with it:
    // every signature in the folder now verifies under ca.pem.
    env.tampered("pki");
    let swapped = env.tool("python3", &[&peer("swap_ca_key.py"), "pki"]);
    assert!(swapped.status.success(), "{}", text(&swapped.stderr));
    let (code, errors) = audit_codes(&env, "pki", &[], "error");
    assert_eq!(code, 1);
    assert!(errors.contains(&"ca-replaced".to_string()), "{errors:?}");
    // Nothing vouches for the records any more: each is checked against the CA's own keys, which never signed
    // the intruder's certificate.
    let out = env.run(
        "certkit-issue",
        &cli("client --ca pki --cn bob --out bob --ca-pass env:CA_PW --pfx-pass env:PFX_PW"),
    );
    assert!(!out.status.success());
    assert!(!env.path("bob.pfx").exists());
}

#[test]
fn a_renewed_cas_binding_edited_in_ca_json_is_found() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    env.ok(
        "certkit-ca",
        &["renew", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    env.tampered("pki");
    let path = env.path("pki/ca.json");
    let mut settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("ca.json")).expect("json");
    // Bound to the renewed certificate instead of the first: the first line's chain no longer starts there.
    let current = std::fs::read(env.path("pki/ca.cer")).expect("ca.cer");
    settings["binding"] = serde_json::Value::String(sha256_hex(&current));
    std::fs::write(&path, serde_json::to_vec_pretty(&settings).expect("json")).expect("write");
    let (code, errors) = audit_codes(&env, "pki", &[], "error");
    assert_eq!(code, 1);
    assert!(
        errors.contains(&"settings-changed".to_string()),
        "{errors:?}"
    );
}
