//! `certkit-ca renew`: a new CA certificate for the same key. Read back by independent tools: the subject is
//! byte for byte the old one's and the key and key identifier are the same (Python `cryptography`), the serial
//! is new; openssl verifies what the CA issued before and after under either certificate; NSS (`certutil`,
//! `vfychain`) takes the new certificate into a database that holds the old one. `--plan` writes nothing and
//! names the service configurations that trust the old thumbprint; a killed renewal is finished.

mod common;

use common::*;

/// Facts Python `cryptography` reads from two certificates: same subject DER, same key, same SKI, serials.
fn compare(env: &Env, old: &str, new: &str) -> serde_json::Value {
    let script = r#"
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
def load(p):
    data = open(p, "rb").read()
    return x509.load_pem_x509_certificate(data) if data.startswith(b"-----") else x509.load_der_x509_certificate(data)
a, b = load(sys.argv[1]), load(sys.argv[2])
key = lambda c: c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
ski = lambda c: c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
print(json.dumps({
    "same_subject_der": a.subject.public_bytes() == b.subject.public_bytes(),
    "same_key": key(a) == key(b),
    "same_ski": ski(a) == ski(b),
    "same_serial": a.serial_number == b.serial_number,
    "same_name_constraints": [e.value for e in a.extensions if isinstance(e.value, x509.NameConstraints)]
        == [e.value for e in b.extensions if isinstance(e.value, x509.NameConstraints)],
    "same_basic_constraints": a.extensions.get_extension_for_class(x509.BasicConstraints).value
        == b.extensions.get_extension_for_class(x509.BasicConstraints).value,
}))
"#;
    let out = env.tool("python3", &["-c", script, old, new]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_renewed_ca_keeps_subject_and_key_and_everything_it_issued_verifies() {
    let env = Env::new();
    env.init_ca_with(
        "pki",
        &cli("--key p256 --days 400 --permit-dns example.com"),
    );
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --days 300",
    ));
    std::fs::copy(env.path("pki/ca.cer"), env.path("old.cer")).expect("copy");
    std::fs::copy(env.path("pki/ca.pem"), env.path("old.pem")).expect("copy");
    let renewed = env.json(
        "certkit-ca",
        &cli("renew --ca pki --days 3650 --ca-pass env:CA_PW --json"),
    );
    assert_eq!(renewed["plan"], false);
    assert_eq!(renewed["still_valid"], 1, "{renewed}");
    let facts = compare(&env, "old.cer", "pki/ca.cer");
    for fact in [
        "same_subject_der",
        "same_key",
        "same_ski",
        "same_name_constraints",
        "same_basic_constraints",
    ] {
        assert_eq!(facts[fact], true, "{fact}: {facts}");
    }
    assert_eq!(facts["same_serial"], false);
    assert_eq!(
        renewed["thumbprint"],
        env.openssl_thumbprint("pki/ca.pem").as_str()
    );
    assert_ne!(renewed["thumbprint"], renewed["old_thumbprint"]);
    // The old certificate is kept, byte for byte; the inventory records the renewal.
    let kept = format!(
        "pki/history/{}.cer",
        renewed["old_serial"].as_str().expect("serial")
    );
    assert_eq!(env.read(&kept), env.read("old.cer"));
    let listed = env.json(
        "certkit-ca",
        &["list", "--ca", "pki", "--profile", "ca", "--json"],
    );
    assert_eq!(listed[0]["renewal_of"], renewed["old_serial"], "{listed}");
    // What was issued before and what is issued after verify under either certificate.
    env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    for ca in ["old.pem", "pki/ca.pem"] {
        for leaf in ["alice.pem", "bob.pem"] {
            assert_contains(
                &env.openssl_ok(&["verify", "-x509_strict", "-CAfile", ca, leaf]),
                &[&format!("{leaf}: OK")],
            );
        }
    }
    // NSS takes the renewed CA into a database that trusts the old one (a reused serial would be refused).
    std::fs::create_dir(env.path("nssdb")).expect("db");
    let nss = |args: &[&str]| {
        let out = env.tool("certutil", args);
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            text(&out.stderr)
        );
    };
    nss(&["-N", "-d", "sql:nssdb", "--empty-password"]);
    nss(&cli("-A -d sql:nssdb -n old -t CT,C,C -i old.cer"));
    nss(&cli("-A -d sql:nssdb -n new -t CT,C,C -i pki/ca.cer"));
    for leaf in ["alice", "bob"] {
        env.openssl_ok(&[
            "x509",
            "-in",
            &format!("{leaf}.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{leaf}.der"),
        ]);
        let out = env.tool(
            "vfychain",
            &["-d", "sql:nssdb", "-u", "0", &format!("{leaf}.der")],
        );
        assert_contains(
            &format!("{}{}", text(&out.stdout), text(&out.stderr)),
            &["Chain is good!"],
        );
    }
    // The folder is whole: the audit passes, the status sees the new end.
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(shown["not_after"], renewed["not_after"]);
}

#[test]
fn the_plan_writes_nothing_and_names_the_deployments_to_edit() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca-cert", "pki/ca.cer"],
    );
    std::fs::copy(example_cscfg(), env.path("other.cscfg")).expect("copy");
    let before: Vec<(String, Vec<u8>)> = env
        .listing("pki")
        .into_iter()
        .filter(|n| n != "index.sqlite" && n != ".lock")
        .map(|n| {
            let bytes = std::fs::read(env.path(&format!("pki/{n}"))).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    // No password is asked (there is no terminal and no --ca-pass).
    let plan = env.json(
        "certkit-ca",
        &cli("renew --ca pki --plan --cscfg svc.cscfg --cscfg other.cscfg --json"),
    );
    assert_eq!(plan["plan"], true);
    assert!(plan["thumbprint"].is_null());
    assert_eq!(plan["deployments"][0]["trusts_current"], true, "{plan}");
    assert_eq!(plan["deployments"][1]["trusts_current"], false, "{plan}");
    assert_contains(
        plan["deployments"][0]["edit"].as_str().expect("edit"),
        &["certkit-export cscfg --file svc.cscfg --ca-cert pki/ca.cer"],
    );
    let after: Vec<(String, Vec<u8>)> = before
        .iter()
        .map(|(n, _)| {
            (
                n.clone(),
                std::fs::read(env.path(&format!("pki/{n}"))).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(before, after, "the plan changed the folder");
    assert!(!env.path("pki/history").exists());
}

#[test]
fn an_issuing_ca_is_renewed_by_its_root_not_by_itself_and_keeps_every_path() {
    let env = Env::new();
    env.copy_fixture(Fixture::RootAndIssuing);
    env.issue(&cli(
        "server --ca issuing --cn before.example.com --out before --key p256",
    ));
    std::fs::copy(env.path("issuing/ca.pem"), env.path("issuing-old.pem")).expect("copy");
    // Without its root the issuing CA is not renewed: its own key did not sign it.
    let err = env.fails(
        "certkit-ca",
        &["renew", "--ca", "issuing", "--ca-pass", "env:CA_PW"],
        2,
    );
    assert_contains(&err, &["--parent", "Test CA"]);
    assert!(!env.path("issuing/history").exists());
    // Nor by a CA that did not sign it, nor is a root renewed "below" another.
    env.init_ca_with("other", &["--key", "p256"]);
    let err = env.fails(
        "certkit-ca",
        &["renew", "--ca", "issuing", "--parent", "other", "--plan"],
        2,
    );
    assert_contains(&err, &["did not sign"]);
    env.fails(
        "certkit-ca",
        &["renew", "--ca", "root", "--parent", "other", "--plan"],
        2,
    );
    // The plan: every leaf verifies from the root through the issuing CA.
    let plan = env.json(
        "certkit-ca",
        &cli("renew --ca issuing --parent root --plan --json"),
    );
    assert_eq!(plan["chain_check"]["verified"], 1, "{plan}");
    // The root signs the renewal, once for both secrets (the root's first).
    let renewed = env.json(
        "certkit-ca",
        &cli(
            "renew --ca issuing --parent root --parent-pass env:CA_PW --ca-pass \
            env:CA_PW --json",
        ),
    );
    assert_eq!(renewed["chain_check"]["verified"], 1, "{renewed}");
    let facts = compare(&env, "issuing-old.pem", "issuing/ca.pem");
    for fact in [
        "same_subject_der",
        "same_key",
        "same_ski",
        "same_name_constraints",
        "same_basic_constraints",
    ] {
        assert_eq!(facts[fact], true, "{fact}: {facts}");
    }
    assert_eq!(facts["same_serial"], false);
    // The root recorded it as a renewal of the issuing CA's certificate.
    let listed = env.list("root");
    let row = listed
        .iter()
        .find(|r| r["thumbprint"] == renewed["thumbprint"])
        .expect("the root records the renewal");
    assert_eq!(row["renewal_of"], renewed["old_serial"]);
    assert_eq!(row["profile"], "ca");
    // Leaves from before and after verify from the root through either issuing certificate.
    env.issue(&cli(
        "server --ca issuing --cn after.example.com --out after --key p256",
    ));
    for issuing in ["issuing-old.pem", "issuing/ca.pem"] {
        for leaf in ["before.pem", "after.pem"] {
            assert_contains(
                &env.openssl_ok(&[
                    "verify",
                    "-x509_strict",
                    "-CAfile",
                    "root/ca.pem",
                    "-untrusted",
                    issuing,
                    leaf,
                ]),
                &[&format!("{leaf}: OK")],
            );
        }
    }
    assert_contains(
        &env.openssl_ok(&cli(
            "verify -x509_strict -CAfile root/ca.pem issuing/ca.pem",
        )),
        &["OK"],
    );
    assert!(env.path("issuing/history").exists());
    env.ok("certkit-ca", &["audit", "--ca", "issuing"]);
    env.ok("certkit-ca", &["audit", "--ca", "root"]);
}

#[test]
fn the_plan_builds_every_chain_and_names_what_a_shorter_renewal_would_cut_off() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --days 300",
    ));
    env.issue(&cli(
        "client --ca pki --cn bob --out bob --key p256 --days 30",
    ));
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca-cert", "pki/ca.cer"],
    );
    let plan = env.json(
        "certkit-ca",
        &cli("renew --ca pki --plan --days 100 --cscfg svc.cscfg --json"),
    );
    let check = &plan["chain_check"];
    assert_eq!(check["checked"], 2, "{plan}");
    assert_eq!(check["verified"], 2, "{plan}");
    let alice = env.openssl_ok(&["x509", "-in", "alice.pem", "-noout", "-serial"]);
    let alice = alice.trim().trim_start_matches("serial=");
    assert_eq!(check["outlive_ca"], serde_json::json!([alice]), "{plan}");
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s.as_str().expect("step"))
        .collect();
    assert_eq!(steps[0], "certkit-ca renew --ca pki");
    assert!(
        steps
            .iter()
            .any(|s| s.contains("certkit-export cscfg --file svc.cscfg --ca-cert pki/ca.cer")),
        "{steps:?}"
    );
    // The text says the same.
    let said = env.ok(
        "certkit-ca",
        &["renew", "--ca", "pki", "--plan", "--days", "100"],
    );
    assert_contains(
        &said,
        &[
            "2 of 2 valid certificate(s) verify",
            alice,
            "stops verifying",
        ],
    );
    // The real renewal's check matches: both verify under the new certificate.
    let done = env.json(
        "certkit-ca",
        &cli("renew --ca pki --days 100 --ca-pass env:CA_PW --json"),
    );
    assert_eq!(done["chain_check"]["verified"], 2, "{done}");
    // The service configuration that still trusts the old certificate is named as a rollover to finish.
    let check = env.run(
        "certkit-export",
        &cli("cscfg --check --file svc.cscfg --ca pki --json"),
    );
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert_contains(&text(&check.stdout), &["ca-earlier-certificate"]);
    env.ok(
        "certkit-export",
        &["cscfg", "--file", "svc.cscfg", "--ca-cert", "pki/ca.cer"],
    );
    let check = env.run(
        "certkit-export",
        &cli("cscfg --check --file svc.cscfg --ca pki --json"),
    );
    assert!(!text(&check.stdout).contains("ca-earlier-certificate"));
    assert_eq!(
        done["chain_check"]["outlive_ca"],
        serde_json::json!([alice])
    );
    assert!(done["steps"].as_array().expect("steps").is_empty());
}

#[test]
fn an_offline_root_renews_an_issuing_ca_from_its_certificate_and_the_folder_installs_it() {
    let env = Env::new();
    env.copy_fixture(Fixture::RootAndIssuing);
    env.issue(&cli(
        "server --ca issuing --cn before.example.com --out before --key p256",
    ));
    std::fs::copy(env.path("issuing/ca.pem"), env.path("issuing-old.pem")).expect("copy");
    // On the offline root: the renewal, from the issuing CA's certificate alone (no request, no key).
    let signed = env.json(
        "certkit-ca",
        &cli(
            "sign-ca --ca root --renew issuing/ca.cer --out renewed --ca-pass \
            env:CA_PW --json",
        ),
    );
    let row = env
        .list("root")
        .into_iter()
        .find(|r| r["thumbprint"] == signed["thumbprint"])
        .expect("recorded");
    let old_serial = env.openssl_ok(&["x509", "-in", "issuing-old.pem", "-noout", "-serial"]);
    assert_eq!(
        row["renewal_of"],
        old_serial.trim().trim_start_matches("serial=")
    );
    // What the root did not sign, or a certificate of another key, is refused.
    env.init_ca_with("other", &["--key", "p256"]);
    let err = env.fails(
        "certkit-ca",
        &cli("sign-ca --ca root --renew other/ca.cer --out x --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["not a CA this CA signed"]);
    let err = env.fails(
        "certkit-ca",
        &cli("install --ca issuing --cert other/ca.cer --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["not a renewal"]);
    // Back on the issuing CA's machine.
    let installed = env.json(
        "certkit-ca",
        &cli("install --ca issuing --cert renewed.cer --ca-pass env:CA_PW --json"),
    );
    assert_eq!(installed["thumbprint"], signed["thumbprint"]);
    let facts = compare(&env, "issuing-old.pem", "issuing/ca.pem");
    for fact in [
        "same_subject_der",
        "same_key",
        "same_ski",
        "same_name_constraints",
        "same_basic_constraints",
    ] {
        assert_eq!(facts[fact], true, "{fact}: {facts}");
    }
    env.issue(&cli(
        "server --ca issuing --cn after.example.com --out after --key p256",
    ));
    for leaf in ["before.pem", "after.pem"] {
        assert_contains(
            &env.openssl_ok(&[
                "verify",
                "-x509_strict",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "issuing/ca.pem",
                leaf,
            ]),
            &[&format!("{leaf}: OK")],
        );
    }
    // Installing it again changes nothing.
    env.ok(
        "certkit-ca",
        &cli("install --ca issuing --cert renewed.cer --ca-pass env:CA_PW"),
    );
    env.ok("certkit-ca", &["audit", "--ca", "issuing"]);
    env.ok("certkit-ca", &["audit", "--ca", "root"]);
}

#[test]
fn a_ca_whose_key_is_on_a_token_is_renewed_with_its_pin() {
    use common::token::{TOKEN, softhsm};
    let env = Env::new();
    softhsm(&env);
    let uri = format!("pkcs11:token={TOKEN};object=Renewed");
    env.ok(
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
            &uri,
            "--ca-pass",
            "env:TOKEN_PIN",
        ],
    );
    env.issue(&cli(
        "client --ca pki --cn alice --out alice --key p256 --ca-pass env:TOKEN_PIN",
    ));
    std::fs::copy(env.path("pki/ca.pem"), env.path("old.pem")).expect("copy");
    let renewed = env.json(
        "certkit-ca",
        &cli("renew --ca pki --ca-pass env:TOKEN_PIN --json"),
    );
    assert_eq!(renewed["chain_check"]["verified"], 1, "{renewed}");
    let facts = compare(&env, "old.pem", "pki/ca.pem");
    assert_eq!(facts["same_key"], true);
    assert_eq!(facts["same_subject_der"], true);
    env.issue(&cli(
        "client --ca pki --cn bob --out bob --key p256 --ca-pass env:TOKEN_PIN",
    ));
    for ca in ["old.pem", "pki/ca.pem"] {
        for leaf in ["alice.pem", "bob.pem"] {
            assert_contains(
                &env.openssl_ok(&["verify", "-x509_strict", "-CAfile", ca, leaf]),
                &[&format!("{leaf}: OK")],
            );
        }
    }
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);
}
