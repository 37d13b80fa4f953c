//! `certkit-ca rekey`: a new CA key and certificate with the subject byte for byte, and two cross-certificates.
//! Checked by independent tools: openssl and Python's strict path builder verify a new leaf trusting only the
//! old CA certificate (through the cross-certificate the old key signed) and an old leaf trusting only the new
//! one (through the other), and neither without; TLS 1.2 both ways; each key signs the CRL of what it issued
//! (`openssl verify -crl_check`); pkilint finds nothing in the new certificates or either CRL. The old key is
//! kept under the new password, mode 0600; `--plan` writes nothing.

#[path = "../common/mod.rs"]
mod common;
mod lineage;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// A P-256 CA in `pki` (CRLs at the old URL) with a server and a client certificate, re-keyed to P-384; returns
/// the re-key's JSON. The old CA certificate is kept in `old.pem`, the new one in `new.pem`, the cross-certificates
/// (PEM) in `new-by-old.pem` and `old-by-new.pem`.
fn rekeyed(env: &Env, extra: &[&str]) -> serde_json::Value {
    env.init_ca_with(
        "pki",
        &cli("--key p256 --crl-url http://pki.example.com/ca.crl"),
    );
    for (profile, cn, out) in [
        ("server", "old.example.com", "srv-old"),
        ("client", "alice", "alice"),
    ] {
        env.issue(&[
            profile, "--ca", "pki", "--cn", cn, "--out", out, "--key", "p256",
        ]);
    }
    std::fs::copy(env.path("pki/ca.pem"), env.path("old.pem")).expect("copy");
    // A CRL signed before the re-key, which the next `crl` replaces (signed by another key by then).
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let mut args = cli(
        "rekey --ca pki --key p384 --crl-url http://pki.example.com/ca-2.crl \
        --ca-pass env:CA_PW --json",
    );
    args.extend_from_slice(extra);
    let report = env.json("certkit-ca", &args);
    std::fs::copy(env.path("pki/ca.pem"), env.path("new.pem")).expect("copy");
    for (i, name) in ["new-by-old.pem", "old-by-new.pem"].iter().enumerate() {
        let file = report["cross_certificates"][i]["file"]
            .as_str()
            .expect("cross file");
        let out = env.tool(
            "openssl",
            &["x509", "-inform", "DER", "-in", file, "-out", name],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    report
}

/// `openssl verify -x509_strict` of `leaf` trusting only `anchor`, with `untrusted` as intermediates.
fn verifies(env: &Env, anchor: &str, untrusted: &[&str], leaf: &str) -> bool {
    let mut args = vec!["verify", "-x509_strict", "-CAfile", anchor];
    for u in untrusted {
        args.extend(["-untrusted", u]);
    }
    args.push(leaf);
    let out = env.tool("openssl", &args);
    out.status.success() && text(&out.stdout).contains(": OK")
}

/// Python `cryptography`'s strict path builder for a server certificate, trusting only `anchor`.
fn path_builds(env: &Env, anchor: &str, untrusted: &[&str], leaf: &str, name: &str) -> bool {
    let script = peer("path_check.py");
    let mut args = vec![script.as_str(), anchor, leaf, "server", name];
    for u in untrusted {
        args.extend(["--untrusted", u]);
    }
    env.tool("python3", &args).status.success()
}

#[test]
fn a_rekeyed_ca_is_trusted_both_ways_through_its_cross_certificates() {
    let env = Env::new();
    let report = rekeyed(&env, &[]);
    env.issue(&cli(
        "server --ca pki --cn new.example.com --out srv-new --key p256",
    ));
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    // The facts as Python reads them: same subject DER, new key, the cross-certificates certify each key
    // under the other.
    let facts = r#"
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
load = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
old, new, nbo, obn = (load(p) for p in sys.argv[1:5])
key = lambda c: c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
ski = lambda c: c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex().upper()
aki = lambda c: c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier.hex().upper()
nbo.verify_directly_issued_by(old)
obn.verify_directly_issued_by(new)
print(json.dumps({
    "same_subject": old.subject.public_bytes() == new.subject.public_bytes() == nbo.subject.public_bytes() == obn.subject.public_bytes(),
    "new_key": key(old) != key(new),
    "nbo_key_is_new": key(nbo) == key(new), "nbo_aki_is_old": aki(nbo) == ski(old),
    "obn_key_is_old": key(obn) == key(old), "obn_aki_is_new": aki(obn) == ski(new),
    "old_ski": ski(old), "new_ski": ski(new), "new_serial": old.serial_number != new.serial_number,
    "curve": new.public_key().curve.name,
}))
"#;
    let out = env.tool(
        "python3",
        &[
            "-c",
            facts,
            "old.pem",
            "new.pem",
            "new-by-old.pem",
            "old-by-new.pem",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for fact in [
        "same_subject",
        "new_key",
        "nbo_key_is_new",
        "nbo_aki_is_old",
        "obn_key_is_old",
        "obn_aki_is_new",
        "new_serial",
    ] {
        assert_eq!(facts[fact], true, "{fact}: {facts}");
    }
    assert_eq!(facts["curve"], "secp384r1");
    assert_eq!(report["old_key_id"], facts["old_ski"]);
    assert_eq!(report["key_id"], facts["new_ski"]);
    assert_eq!(
        report["cross_certificates"][0]["signed_by"],
        facts["old_ski"]
    );
    assert_eq!(
        report["cross_certificates"][1]["signed_by"],
        facts["new_ski"]
    );
    // Trusting only the old CA certificate, a new leaf verifies through the cross-certificate, not without.
    for leaf in ["srv-new.pem", "bob.pem"] {
        assert!(
            verifies(&env, "old.pem", &["new-by-old.pem"], leaf),
            "{leaf}"
        );
        assert!(
            !verifies(&env, "old.pem", &[], leaf),
            "{leaf} without cross"
        );
    }
    // Trusting only the new one, an old leaf verifies through the other cross-certificate, not without.
    for leaf in ["srv-old.pem", "alice.pem"] {
        assert!(
            verifies(&env, "new.pem", &["old-by-new.pem"], leaf),
            "{leaf}"
        );
        assert!(
            !verifies(&env, "new.pem", &[], leaf),
            "{leaf} without cross"
        );
    }
    // Python's strict path builder agrees.
    assert!(path_builds(
        &env,
        "old.pem",
        &["new-by-old.pem"],
        "srv-new.pem",
        "new.example.com"
    ));
    assert!(!path_builds(
        &env,
        "old.pem",
        &[],
        "srv-new.pem",
        "new.example.com"
    ));
    assert!(path_builds(
        &env,
        "new.pem",
        &["old-by-new.pem"],
        "srv-old.pem",
        "old.example.com"
    ));
    assert!(!path_builds(
        &env,
        "new.pem",
        &[],
        "srv-old.pem",
        "old.example.com"
    ));
    // TLS 1.2, both directions of trust: a client trusting only the old CA gets the new server's chain with
    // the cross-certificate; a server trusting only the new CA accepts an old client presenting the other.
    let handshake = tls12_handshake(
        &env,
        ("srv-new.pem", "srv-new.key"),
        "new.pem",
        ("bob.pem", "bob.key"),
        "old.pem",
        &["-cert_chain", "new-by-old.pem"],
    );
    handshake.assert_ok();
    let handshake = tls12_handshake_with(
        &env,
        ("srv-new.pem", "srv-new.key"),
        "new.pem",
        ("alice.pem", "alice.key"),
        "new.pem",
        &[],
        &["-cert_chain", "old-by-new.pem"],
    );
    handshake.assert_ok();
    let handshake = tls12_handshake(
        &env,
        ("srv-new.pem", "srv-new.key"),
        "new.pem",
        ("alice.pem", "alice.key"),
        "new.pem",
        &[],
    );
    assert!(
        !handshake.ok,
        "an old client without the cross-certificate was accepted"
    );
    // pkilint: the new CA certificate, each cross-certificate with the CA that signed it, a new leaf.
    for cert in ["new.pem", "new-by-old.pem", "old-by-new.pem", "srv-new.pem"] {
        pkilint_clean(&env, "lint_pkix_cert", &[cert]);
    }
    pkilint_clean(
        &env,
        "lint_pkix_signer_signee_cert_chain",
        &["old.pem", "new-by-old.pem"],
    );
    pkilint_clean(
        &env,
        "lint_pkix_signer_signee_cert_chain",
        &["new.pem", "old-by-new.pem"],
    );
    pkilint_clean(
        &env,
        "lint_pkix_signer_signee_cert_chain",
        &["new.pem", "srv-new.pem"],
    );
    // The new key's certificates name the new CRL location; the folder passes its audit.
    let cdp = env.tool(
        "openssl",
        &cli("x509 -in srv-new.pem -noout -ext crlDistributionPoints"),
    );
    assert_contains(&text(&cdp.stdout), &["http://pki.example.com/ca-2.crl"]);
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}

#[test]
fn each_key_signs_the_crl_of_what_it_issued() {
    let env = Env::new();
    rekeyed(&env, &[]);
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    env.issue(&cli("client --ca pki --cn carol --out carol --key p256"));
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "bob.cer"]);
    let crl = env.json(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
    );
    let serial = |name: &str| {
        let out = env.tool("openssl", &["x509", "-in", name, "-noout", "-serial"]);
        text(&out.stdout)
            .trim()
            .trim_start_matches("serial=")
            .to_string()
    };
    let (alice, bob) = (serial("alice.pem"), serial("bob.pem"));
    assert_eq!(crl["revoked"], serde_json::json!([bob]));
    assert_eq!(crl["crl_url"], "http://pki.example.com/ca-2.crl");
    let earlier = &crl["earlier_keys"][0];
    assert_eq!(earlier["revoked"], serde_json::json!([alice]));
    assert_eq!(earlier["crl_url"], "http://pki.example.com/ca.crl");
    let old_crl = earlier["file"].as_str().expect("file");
    assert!(old_crl.ends_with(&format!(
        "ca-{}.crl",
        earlier["key_id"].as_str().expect("id")
    )));
    // Each CRL is signed by its key (openssl finds the issuer by name and key identifier).
    for (file, anchor) in [("pki/ca.crl", "new.pem"), (old_crl, "old.pem")] {
        let out = env.tool(
            "openssl",
            &[
                "crl", "-inform", "DER", "-in", file, "-noout", "-CAfile", anchor,
            ],
        );
        assert!(
            text(&out.stderr).contains("verify OK"),
            "{file}: {}",
            text(&out.stderr)
        );
    }
    for (file, out) in [("pki/ca.crl", "new.crl.pem"), (old_crl, "old.crl.pem")] {
        let conv = env.tool(
            "openssl",
            &["crl", "-inform", "DER", "-in", file, "-out", out],
        );
        assert!(conv.status.success());
    }
    // openssl -crl_check with both CRLs, whichever CA certificate is trusted: the revoked ones are refused,
    // carol (new key) and the old server certificate (old key) are not.
    let check = |anchor: &str, cross: &str, leaf: &str| {
        let out = env.tool(
            "openssl",
            &[
                "verify",
                "-crl_check",
                "-CAfile",
                anchor,
                "-untrusted",
                cross,
                "-CRLfile",
                "new.crl.pem",
                "-CRLfile",
                "old.crl.pem",
                leaf,
            ],
        );
        (out.status.success(), text(&out.stdout) + &text(&out.stderr))
    };
    for (anchor, cross) in [("old.pem", "new-by-old.pem"), ("new.pem", "old-by-new.pem")] {
        for leaf in ["carol.pem", "srv-old.pem"] {
            let (ok, said) = check(anchor, cross, leaf);
            assert!(ok, "{leaf} trusting {anchor}: {said}");
        }
        for leaf in ["alice.pem", "bob.pem"] {
            let (ok, said) = check(anchor, cross, leaf);
            assert!(
                !ok && said.contains("certificate revoked"),
                "{leaf} trusting {anchor}: {said}"
            );
        }
    }
    pkilint_clean(&env, "lint_crl", &["pki/ca.crl"]);
    pkilint_clean(&env, "lint_crl", &[old_crl]);
    // The audit finds the folder's CRLs, one per key, current together, and reports the CA's history.
    let audit = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    assert_eq!(audit["ok"], true, "{audit}");
    assert!(
        !audit["findings"].to_string().contains("crl-stale"),
        "{audit}"
    );
    let kinds: Vec<&str> = audit["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds.first(), Some(&"first"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"current"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "cross-certificate").count(),
        2,
        "{kinds:?}"
    );
    let text = env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    assert_contains(&text, &["history", "cross-certificate", "signed by key"]);
}

#[test]
fn the_plan_writes_nothing_and_a_new_password_locks_both_keys() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca-cert", "pki/ca.cer"],
    );
    let before = folder_bytes(&env.path("pki"));
    let plan = env.json(
        "certkit-ca",
        &cli("rekey --ca pki --plan --cscfg svc.cscfg --expires 2031-06-30 --json"),
    );
    assert_eq!(
        folder_bytes(&env.path("pki")),
        before,
        "--plan wrote to the CA folder"
    );
    assert_eq!(plan["plan"], true);
    assert_eq!(plan["key"], "p256");
    assert_eq!(plan["deployments"][0]["trusts_current"], true);
    // What each key signed that has not expired: here one key, alice's.
    assert_eq!(
        plan["by_key"].as_array().expect("by_key").len(),
        1,
        "{plan}"
    );
    assert_eq!(plan["by_key"][0]["current"], true);
    assert_eq!(plan["by_key"][0]["unexpired"], 1);
    assert!(
        plan["cross_certificates"]
            .as_array()
            .expect("list")
            .is_empty()
    );
    // The real run: the password changes, and with it the lock on both keys.
    env.set_var("NEW_PW", "a new ca password 456");
    let done = env.json(
        "certkit-ca",
        &cli(
            "rekey --ca pki --ca-pass env:CA_PW --new-ca-pass env:NEW_PW --expires \
            2031-06-30 --json",
        ),
    );
    assert_eq!(done["not_after"], plan["not_after"]);
    assert_eq!(done["not_after"], "2031-06-30T23:59:59Z");
    assert_eq!(done["old_thumbprint"], plan["old_thumbprint"]);
    assert_eq!(done["subject"], plan["subject"]);
    // Asked for the same end, the plan and the re-key give the same validity end and key type.
    assert_eq!(done["key"], plan["key"]);
    let old_key = done["old_key_file"].as_str().expect("old key");
    for file in [old_key.to_string(), "pki/ca.key".to_string()] {
        let mode = std::fs::metadata(env.path(&file))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
        let opened = env.tool(
            "openssl",
            &["pkey", "-in", &file, "-passin", "env:NEW_PW", "-noout"],
        );
        assert!(opened.status.success(), "{file}: {}", text(&opened.stderr));
        let old_pw = env.tool(
            "openssl",
            &["pkey", "-in", &file, "-passin", "env:CA_PW", "-noout"],
        );
        assert!(
            !old_pw.status.success(),
            "{file} still opens with the old password"
        );
    }
    let err = env.fails(
        "certkit-issue",
        &cli(
            "client --ca pki --cn bob --out bob --ca-pass env:CA_PW --key-pass \
            env:KEY_PW --pfx-pass env:PFX_PW --pfx",
        ),
        2,
    );
    assert!(err.to_lowercase().contains("password"), "{err}");
    env.issue(&cli(
        "client --ca pki --cn bob --out bob --ca-pass env:NEW_PW",
    ));
    // A CA with a CRL URL needs a new one for the new key.
    env.init_ca_with("url", &["--crl-url", "http://pki.example.com/ca.crl"]);
    let err = env.fails(
        "certkit-ca",
        &["rekey", "--ca", "url", "--ca-pass", "env:CA_PW"],
        2,
    );
    assert_contains(&err, &["--crl-url"]);
}

/// Every file under `dir` with its bytes, for "nothing was written" checks.
fn folder_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != ".lock") {
                all.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    all.sort();
    all
}

/// `certkit-ca ARGS` run `shift` from now (libfaketime), e.g. "+40 days".
fn ca_at(env: &Env, shift: &str, args: &[&str]) -> std::process::Output {
    let program = bin("certkit-ca");
    let mut all = vec![shift, program.to_str().expect("path")];
    all.extend_from_slice(args);
    env.command("faketime")
        .args(&all)
        .output()
        .expect("faketime")
}
