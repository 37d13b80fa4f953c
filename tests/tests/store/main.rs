//! The CA store: nothing certkit writes can replace a CA file, the inventory is tamper-evident (checked by
//! `certkit-ca audit` and by independent tools), renewals are not doubled, a certkit 0.1 CA is upgraded, torn
//! lines are survived, and `list --csv` is a spreadsheet.

#[path = "../common/mod.rs"]
mod common;
mod import;
mod import_hostile;
mod records;

use std::os::unix::fs::symlink;

use common::*;

/// Every file of a CA folder with its bytes, to show nothing changed.
fn snapshot(env: &Env, dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in env.listing(dir) {
        let rel = format!("{dir}/{name}");
        if env.path(&rel).is_dir() {
            for inner in env.listing(&rel) {
                let rel = format!("{rel}/{inner}");
                files.push((rel.clone(), env.read(&rel)));
            }
        } else if name != ".lock" {
            files.push((rel.clone(), env.read(&rel)));
        }
    }
    files
}

fn sha256sum(env: &Env, bytes: &[u8]) -> String {
    std::fs::write(env.path("hash-input"), bytes).expect("write");
    let out = env.tool("sha256sum", &["hash-input"]);
    text(&out.stdout)
        .split_whitespace()
        .next()
        .expect("hash")
        .to_string()
}

fn audit(env: &Env, ca: &str) -> (i32, serde_json::Value) {
    let out = env.run("certkit-ca", &["audit", "--ca", ca, "--json"]);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).expect("audit json"),
    )
}

fn codes(report: &serde_json::Value) -> Vec<(String, Option<u64>)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["line"].as_u64(),
            )
        })
        .collect()
}

/// A CA with three client certificates (P-256, fast) and a published CRL.
fn three_clients(env: &Env) {
    env.init_ca_with("pki", &["--key", "p256"]);
    for cn in ["alice", "bob", "carol"] {
        env.issue(&[
            "client", "--ca", "pki", "--cn", cn, "--out", cn, "--key", "p256",
        ]);
    }
}

fn inventory_lines(env: &Env) -> Vec<String> {
    String::from_utf8_lossy(&env.read("pki/inventory.jsonl"))
        .lines()
        .map(String::from)
        .collect()
}

fn write_inventory(env: &Env, lines: &[String]) {
    std::fs::write(env.path("pki/inventory.jsonl"), lines.join("\n") + "\n").expect("write");
}

#[test]
fn crl_out_replaces_only_a_crl_of_this_ca() {
    let env = Env::new();
    three_clients(&env);
    env.init_ca("other");
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "other", "--ca-pass", "env:CA_PW"],
    );
    env.ok(
        "certkit-export",
        &cli(
            "pfx --cert alice.cer --key-file alice.key --out alice.pfx --from-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ),
    );
    std::fs::copy(env.path("other/ca.crl"), env.path("foreign.crl")).expect("copy");
    symlink(env.path("pki/ca.key"), env.path("link-to-key.crl")).expect("symlink");
    let before = snapshot(&env, "pki");
    for (target, needle) in [
        ("pki/ca.key", "is a file of the CA"),
        ("pki/inventory.jsonl", "is a file of the CA"),
        ("pki/issued/x.crl", "is a file of the CA"),
        ("link-to-key.crl", "is a file of the CA"),
        ("alice.pfx", "is not a CRL of this CA"),
        ("foreign.crl", "is not a CRL of this CA"),
    ] {
        let keep = std::fs::read(env.path(target)).ok();
        let err = env.fails(
            "certkit-ca",
            &[
                "crl",
                "--ca",
                "pki",
                "--out",
                target,
                "--ca-pass",
                "env:CA_PW",
            ],
            2,
        );
        assert_contains(&err, &[needle]);
        assert_eq!(std::fs::read(env.path(target)).ok(), keep, "{target}");
    }
    assert_eq!(snapshot(&env, "pki"), before, "the CA folder changed");
    assert_eq!(env.read("foreign.crl"), env.read("other/ca.crl"));
    // Republishing over this CA's own CRL, elsewhere and through a link, is what --out is for.
    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --out public.crl --ca-pass env:CA_PW"),
    );
    symlink(env.path("public.crl"), env.path("www.crl")).expect("symlink");
    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --out www.crl --ca-pass env:CA_PW"),
    );
    assert!(
        env.path("www.crl")
            .symlink_metadata()
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_contains(
        &env.openssl_ok(&cli("crl -in public.crl -inform DER -noout -crlnumber")),
        &["crlNumber=0x02"],
    );
}

#[test]
fn no_output_of_any_command_lands_in_a_ca_folder() {
    let env = Env::new();
    three_clients(&env);
    std::fs::copy(example_cscfg(), env.path("pki/svc.cscfg")).expect("copy");
    let before = snapshot(&env, "pki");
    let mut refusals: Vec<(&str, Vec<&str>)> = vec![
        (
            "certkit-issue",
            Env::with_passwords(&cli("client --ca pki --cn x --out pki/x --key p256")),
        ),
        (
            "certkit-issue",
            Env::with_passwords(&cli(
                "server --self-signed --cn x.example --out pki/issued/x --key p256",
            )),
        ),
        (
            "certkit-export",
            cli(
                "pfx --cert alice.cer --key-file alice.key --out pki/alice.pfx --from-pass \
                env:KEY_PW --pfx-pass env:PFX_PW",
            ),
        ),
        (
            "certkit-export",
            vec!["cer", "--in", "alice.cer", "--out", "pki/alice.cer"],
        ),
        (
            "certkit-export",
            vec!["cscfg", "--file", "pki/svc.cscfg", "--allow", "alice.cer"],
        ),
        (
            "certkit-ca",
            cli("revoke --ca pki alice.cer --cscfg pki/svc.cscfg"),
        ),
    ];
    // Anywhere below the folder, through folders that do not exist yet or through a link into it.
    std::os::unix::fs::symlink("pki", env.path("link")).expect("symlink");
    for out in [
        "pki/sub/x",
        "pki/a/b/c/x",
        "link/sub/x",
        "pki/issued/deep/x",
    ] {
        let args = Env::with_passwords(&[
            "client", "--ca", "pki", "--cn", "x", "--out", out, "--key", "p256",
        ]);
        refusals.push(("certkit-issue", args));
    }
    refusals.push((
        "certkit-ca",
        cli("crl --ca pki --out pki/pub/x.crl --ca-pass env:CA_PW"),
    ));
    for (bin, args) in refusals {
        let err = env.fails(bin, &args, 2);
        assert_contains(&err, &["is a file of the CA", "choose a path outside it"]);
    }
    std::fs::write(env.path("people.csv"), "cn\ndave\n").expect("csv");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir pki --key p256",
        )),
        2,
    );
    assert_contains(&err, &["is a file of the CA"]);
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca pki --batch people.csv --out-dir pki/team/2027 --key p256",
        )),
        2,
    );
    assert_contains(&err, &["is a file of the CA"]);
    assert_eq!(snapshot(&env, "pki"), before, "the CA folder changed");
    assert!(env.list("pki").iter().all(|e| e["status"] == "valid"));
}

#[test]
fn a_symlinked_cscfg_is_edited_at_its_target() {
    let env = Env::new();
    three_clients(&env);
    std::fs::create_dir(env.path("deploy")).expect("mkdir");
    std::fs::copy(example_cscfg(), env.path("deploy/real.cscfg")).expect("copy");
    symlink("deploy/real.cscfg", env.path("svc.cscfg")).expect("symlink");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--allow", "alice.cer"],
    );
    assert!(
        env.path("svc.cscfg")
            .symlink_metadata()
            .expect("meta")
            .file_type()
            .is_symlink(),
        "the link was replaced by a copy"
    );
    let edited = String::from_utf8(env.read("deploy/real.cscfg")).expect("utf8");
    assert!(edited.contains(&env.openssl_thumbprint("alice.cer")));
    assert_eq!(
        env.read("deploy/real.cscfg.bak"),
        std::fs::read(example_cscfg()).expect("example")
    );
    env.ok(
        "certkit-ca",
        &["revoke", "--ca", "pki", "alice.cer", "--cscfg", "svc.cscfg"],
    );
    assert!(
        env.path("svc.cscfg")
            .symlink_metadata()
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert!(
        !String::from_utf8(env.read("deploy/real.cscfg"))
            .expect("utf8")
            .contains(&env.openssl_thumbprint("alice.cer"))
    );
}

#[test]
fn the_chain_and_the_checkpoint_verify_with_independent_tools() {
    let env = Env::new();
    three_clients(&env);
    let lines = inventory_lines(&env);
    // The first record is bound to the CA certificate: its prev is `sha256sum ca.cer`.
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(
        first["prev"],
        sha256sum(&env, &env.read("pki/ca.cer")).as_str()
    );
    // Every other record names the SHA-256 of the line before it.
    for pair in lines.windows(2) {
        let next: serde_json::Value = serde_json::from_str(&pair[1]).expect("json");
        assert_eq!(next["prev"], sha256sum(&env, pair[0].as_bytes()).as_str());
    }
    let head = sha256sum(&env, lines.last().expect("line").as_bytes());
    let (code, report) = audit(&env, "pki");
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["head"], head.as_str());
    assert!(report["ok"].as_bool().expect("ok"));
    // The checkpoint is the CA's ECDSA signature over the documented message, which the script in
    // docs/store-format.md rebuilds with jq, sha256sum and wc from the folder's files: `openssl dgst -verify`
    // agrees. A revocation and an undelivered certificate make the state lines worth checking.
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"]);
    let killed = env.killed_at(
        "syncfs",
        1,
        "certkit-issue",
        &Env::with_passwords(&cli("client --ca pki --cn dave --out dave --key p256")),
    );
    assert!(!killed.status.success());
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let checkpoint: serde_json::Value =
        serde_json::from_slice(&env.read("pki/checkpoint.json")).expect("checkpoint");
    assert_eq!(checkpoint["state"]["revoked"]["count"], 1, "{checkpoint}");
    assert_eq!(
        checkpoint["state"]["undelivered"]["count"], 1,
        "{checkpoint}"
    );
    let docs = std::fs::read_to_string(format!(
        "{}/../docs/store-format.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("docs");
    let script = docs
        .split("```sh\n")
        .find(|block| block.starts_with("count=$(jq -r .count checkpoint.json)"))
        .and_then(|block| block.split("```").next())
        .expect("the checkpoint check in docs/store-format.md");
    let out = env
        .command("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(env.path("pki"))
        .output()
        .expect("bash");
    assert_contains(
        &format!("{}{}", text(&out.stdout), text(&out.stderr)),
        &["Verified OK"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for scratch in [
        "covered.jsonl",
        "message",
        "signed-settings.json",
        "ca.pub",
        "signature",
    ] {
        std::fs::remove_file(env.path(&format!("pki/{scratch}"))).expect("rm");
    }
    let head = sha256sum(&env, inventory_lines(&env).last().expect("line").as_bytes());
    let text = env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    assert_contains(&text, &["OK:", &format!("key-ceremony log: {head}")]);
}

/// Runs a tampering on a fresh CA and returns the audit's error codes; writing commands must refuse too.
fn tamper(change: impl FnOnce(&Env)) -> (Vec<(String, Option<u64>)>, Env) {
    let env = Env::new();
    three_clients(&env);
    env.tampered("pki");
    change(&env);
    let (code, report) = audit(&env, "pki");
    assert_eq!(code, 1, "the audit passed a tampered CA: {report}");
    (codes(&report), env)
}

#[test]
fn audit_finds_a_changed_byte_in_a_middle_record() {
    let mut changed = 0;
    let (codes, env) = tamper(|env| {
        let mut lines = inventory_lines(env);
        changed = lines
            .iter()
            .position(|l| l.contains("\"cn\":\"bob\""))
            .expect("bob's record");
        lines[changed] = lines[changed].replacen("\"cn\":\"bob\"", "\"cn\":\"bod\"", 1);
        write_inventory(env, &lines);
    });
    // Line numbers are 1-based: the line after the changed one no longer follows it.
    let next = changed as u64 + 2;
    assert!(
        codes.contains(&("chain-broken".into(), Some(next))),
        "{codes:?}"
    );
    // A command that acts on the changed record reads it again from the log and stops: the record is not
    // what was written, and the log rebuilt from scratch no longer chains.
    let inventory = env.read("pki/inventory.jsonl");
    let err = env.fails("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"], 1);
    assert_contains(&err, &[&format!("line {next}"), "certkit-ca audit"]);
    assert_eq!(env.read("pki/inventory.jsonl"), inventory);
    // So does reindex, which goes over the whole log.
    let err = env.fails("certkit-ca", &["reindex", "--ca", "pki"], 1);
    assert_contains(&err, &[&format!("line {next}")]);
}

#[test]
fn audit_finds_a_deleted_record() {
    let (codes, _env) = tamper(|env| {
        let mut lines = inventory_lines(env);
        lines.remove(2);
        write_inventory(env, &lines);
    });
    assert!(codes.iter().any(|(c, _)| c == "chain-broken"), "{codes:?}");
    assert!(
        codes
            .iter()
            .any(|(c, _)| c == "copy-unrecorded" || c == "log-rewritten"),
        "{codes:?}"
    );
}

#[test]
fn audit_finds_a_record_appended_by_hand() {
    // A careful intruder chains the new line correctly; the certificate it claims still gives it away.
    let (codes, _env) = tamper(|env| {
        let mut lines = inventory_lines(env);
        let last = lines.last().expect("line").clone();
        let mut forged: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
        forged["serial"] = "7EADBEEF7EADBEEF7EADBEEF7EADBEEF".into();
        forged["cn"] = "mallory".into();
        forged["prev"] = sha256sum(env, last.as_bytes()).into();
        lines.push(forged.to_string());
        write_inventory(env, &lines);
    });
    assert!(
        codes
            .iter()
            .any(|(c, l)| c == "record-mismatch" && *l == Some(7)),
        "{codes:?}"
    );
}

#[test]
fn audit_finds_a_forged_file_in_issued() {
    let (codes, _env) = tamper(|env| {
        env.init_ca("rogue");
        env.issue(&cli(
            "client --ca rogue --cn mallory --out mallory --key p256",
        ));
        env.tampered("rogue");
        std::fs::copy(env.path("mallory.cer"), env.path("pki/issued/7EADBEEF.cer")).expect("copy");
    });
    assert_eq!(codes, [("copy-unrecorded".to_string(), None)]);
}

#[test]
fn audit_finds_a_log_cut_before_the_last_checkpoint() {
    let (codes, env) = tamper(|env| {
        let lines = inventory_lines(env);
        write_inventory(env, &lines[..lines.len() - 2]);
    });
    assert!(codes.iter().any(|(c, _)| c == "log-cut"), "{codes:?}");
    env.fails("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"], 1);
}

#[test]
fn audit_finds_a_removed_checkpoint() {
    let (codes, _env) = tamper(|env| {
        std::fs::remove_file(env.path("pki/checkpoint.json")).expect("rm");
    });
    assert_eq!(codes, [("checkpoint-missing".to_string(), None)]);
}
