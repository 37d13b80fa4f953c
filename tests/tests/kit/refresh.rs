//! What a kit never does: write into a CA folder or among other files, replace a file changed by hand, or
//! start without what its target needs; and a refresh cut short is finished by the next.

use super::*;

#[test]
fn refuses_what_it_cannot_do_cleanly() {
    let env = Env::new();
    two_cas(&env);
    // nginx presents a server certificate: --server is required (bad usage, exit 2).
    let out = env.fails(
        "certkit-export",
        &cli("kit --target nginx --ca pki --out-dir k1"),
        2,
    );
    assert!(out.contains("--server PREFIX"), "{out}");
    // Never inside a CA folder, never among other files.
    let out = env.fails(
        "certkit-export",
        &cli("kit --target apim --ca pki --out-dir pki/kit --json"),
        2,
    );
    assert!(out.contains("CA"), "{out}");
    std::fs::create_dir(env.path("busy")).expect("dir");
    std::fs::write(env.path("busy/notes.txt"), "mine").expect("file");
    let out = env.fails(
        "certkit-export",
        &cli("kit --target apim --ca pki --out-dir busy"),
        2,
    );
    assert!(out.contains("not empty"), "{out}");
    assert_eq!(
        std::fs::read_dir(env.path("busy")).expect("busy").count(),
        1
    );
    // A server certificate another CA issued is not this CA's.
    let out = env.fails(
        "certkit-export",
        &cli("kit --target nginx --ca other --out-dir k2 --server www --from-pass env:KEY_PW"),
        2,
    );
    assert!(out.contains("is not a certificate the CA"), "{out}");
    // Without a CRL in force, nginx would refuse every client: the kit is refused, naming the rule.
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "nocrl",
            "--cn",
            "No CRL CA",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    env.issue(&cli(
        "server --ca nocrl --cn localhost --dns localhost --out www3",
    ));
    let out = env.fails(
        "certkit-export",
        &cli("kit --target nginx --ca nocrl --out-dir k3 --server www3 --from-pass env:KEY_PW"),
        1,
    );
    assert!(out.contains("nginx-crl-missing"), "{out}");
    assert!(!env.path("k3").exists());
}

#[test]
fn a_file_changed_by_hand_is_never_replaced() {
    let env = Env::new();
    two_cas(&env);
    kit(&env, "--target haproxy --ca pki --out-dir kit --server www");
    std::fs::write(env.path("kit/ca.pem"), "edited by hand\n").expect("edit");
    let before = env.read("kit/crl.pem");
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    sign_crl(&env, "pki");
    let out = env.fails("certkit-export", &cli("kit --refresh kit --json"), 1);
    assert!(
        out.contains("ca.pem was changed since certkit wrote it"),
        "{out}"
    );
    assert_eq!(env.read("kit/crl.pem"), before, "nothing was replaced");
    // Put back, the refresh goes through.
    std::fs::copy(env.path("pki/ca.pem"), env.path("kit/ca.pem")).expect("put back");
    let report = kit(&env, "--refresh kit");
    assert!(
        outcomes(&report).contains(&"crl.pem replaced".to_string()),
        "{report}"
    );
}

#[test]
fn a_refresh_cut_short_is_finished_by_the_next() {
    let env = Env::new();
    two_cas(&env);
    kit(&env, "--target nginx --ca pki --out-dir kit --server www");
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki bob.cer --reason keyCompromise --ca-pass env:CA_PW"),
    );
    sign_crl(&env, "pki");
    // The refresh writes the record naming both hashes, then each file; cut it after the record (as a kill
    // would): the record names the new CRL, the old one is still in place.
    let old: serde_json::Value = serde_json::from_slice(&env.read("kit/kit.json")).expect("record");
    let dry = kit(&env, "--refresh kit --dry-run");
    let mut cut = old.clone();
    for file in cut["files"].as_array_mut().expect("files") {
        let name = file["name"].as_str().unwrap_or("").to_string();
        let new = dry["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["name"] == name.as_str())
            .expect("file");
        if new["sha256"] != file["sha256"] {
            file["was"] = file["sha256"].clone();
            file["sha256"] = new["sha256"].clone();
        }
    }
    std::fs::write(
        env.path("kit/kit.json"),
        serde_json::to_vec_pretty(&cut).expect("json"),
    )
    .expect("record");
    let report = kit(&env, "--refresh kit");
    assert!(
        outcomes(&report).contains(&"crl.pem replaced".to_string()),
        "{report}"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&env.read("kit/kit.json")).expect("record");
    assert!(!record.to_string().contains("\"was\""), "{record}");
    let crl = env.openssl_ok(&cli("crl -in kit/crl.pem -noout -text"));
    let bob = env
        .openssl_ok(&cli("x509 -in bob.cer -noout -serial"))
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    assert!(crl.contains(&bob), "{crl}");
}

#[test]
fn a_record_naming_a_file_outside_the_kit_is_refused() {
    let env = Env::new();
    two_cas(&env);
    kit(&env, "--target apim --ca pki --out-dir kit");
    std::fs::write(env.path("victim.txt"), "not the kit's").expect("victim");
    // An intruder who can write the kit folder names a file outside it, with its hash, as no longer part
    // of the kit (a refresh removes those).
    let mut record: serde_json::Value =
        serde_json::from_slice(&env.read("kit/kit.json")).expect("record");
    let hash = env
        .tool("sha256sum", &["victim.txt"])
        .stdout
        .split(|b| *b == b' ')
        .next()
        .map(text)
        .unwrap_or_default();
    record["files"]
        .as_array_mut()
        .expect("files")
        .push(serde_json::json!({"name": "../victim.txt", "sha256": hash}));
    std::fs::write(env.path("kit/kit.json"), record.to_string()).expect("record");
    let out = env.fails("certkit-export", &cli("kit --refresh kit"), 2);
    assert!(out.contains("not a plain file name"), "{out}");
    assert!(env.path("victim.txt").exists());
}
