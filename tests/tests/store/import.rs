//! `certkit-ca import` and `export-index` (issue 34) against the real programs: an easy-rsa 3 PKI made by
//! Debian's easyrsa and an `openssl ca` folder made by the openssl CLI come in with their whole history, which
//! the openssl CLI then checks (CRLs, chains, revocations); the export goes back out to `openssl ca` and
//! `openssl ocsp`. Every import leaves its source as it was (hashed before and after).

use super::*;
use common::legacy_ca::*;

/// `certkit-ca import ARGS --json` with the passwords; its report and its warnings (stderr).
fn import_warned(env: &Env, args: &[&str]) -> (serde_json::Value, String) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.extend([
        "--source-pass",
        "env:SRC_PW",
        "--ca-pass",
        "env:CA_PW",
        "--json",
    ]);
    let out = env
        .cmd("certkit-ca")
        .env("SRC_PW", SRC_PW)
        .args(&all)
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "import {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).expect("import --json"),
        text(&out.stderr),
    )
}

fn import(env: &Env, args: &[&str]) -> serde_json::Value {
    import_warned(env, args).0
}

/// certkit's CRL of the CA in `ca`, signed now, as PEM in `NAME.pem` beside the CA certificate in `NAME-chain.pem`
/// (for openssl verify -crl_check).
fn certkit_crl(env: &Env, ca: &str, name: &str) {
    env.ok("certkit-ca", &["crl", "--ca", ca, "--ca-pass", "env:CA_PW"]);
    let crl = env.path(&format!("{name}.pem")).display().to_string();
    env.openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &format!("{ca}/ca.crl"),
        "-out",
        &crl,
    ]);
    let mut chain = env.read(&format!("{ca}/ca.pem"));
    chain.extend(env.read(&format!("{name}.pem")));
    std::fs::write(env.path(&format!("{name}-chain.pem")), chain).expect("chain");
}

/// `cert` verifies with certkit's CRL `crl1` of the CA in `ck`; then certkit revokes it (`serial`, `reason`) and
/// signs `crl2`: what `openssl verify -crl_check` says of `cert` with that one.
fn revoked_by_certkit(env: &Env, cert: &str, serial: &str, reason: &str) -> std::process::Output {
    assert!(verify_with_crl(env, "crl1", cert).status.success());
    env.ok(
        "certkit-ca",
        &["revoke", "--ca", "ck", serial, "--reason", reason],
    );
    certkit_crl(env, "ck", "crl2");
    verify_with_crl(env, "crl2", cert)
}

fn verify_with_crl(env: &Env, name: &str, cert: &str) -> std::process::Output {
    env.openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &format!("{name}-chain.pem"),
        cert,
    ])
}

#[test]
fn an_easyrsa_pki_comes_in_whole_and_everything_works_on_it() {
    let env = Env::new();
    easyrsa(&env, "pki", &["init-pki"], &[]);
    easyrsa(&env, "pki", &["build-ca"], &[]);
    easyrsa(
        &env,
        "pki",
        &["build-server-full", "vpn.example.com", "nopass"],
        &[],
    );
    for cn in ["alice", "bob", "carol"] {
        easyrsa(&env, "pki", &["build-client-full", cn, "nopass"], &[]);
    }
    easyrsa(&env, "pki", &["revoke", "bob", "keyCompromise"], &[]);
    // easy-rsa 3.1 renews only near expiry unless told otherwise; the old certificate goes to renewed/.
    easyrsa(
        &env,
        "pki",
        &["renew", "carol", "nopass"],
        &[("EASYRSA_CERT_RENEW", "2000")],
    );
    easyrsa(&env, "pki", &["gen-crl"], &[]);
    let source_before = tree_hash(&env.path("pki"));
    let index = String::from_utf8(env.read("pki/index.txt")).expect("index");
    assert_eq!(index.lines().count(), 5, "{index}");

    // A dry run writes nothing and says the same as the import.
    let dry = import(&env, &["--from-easyrsa", "pki", "--dry-run"]);
    assert!(!env.path("ck").exists());
    let (report, warned) = import_warned(&env, &["--from-easyrsa", "pki", "--ca", "ck"]);
    // easy-rsa's certificates name the CA certificate's serial in their AKI: the import says what that means.
    assert_contains(
        &warned,
        &["5 unexpired certificate(s) name the CA certificate's serial"],
    );
    assert_eq!(
        tree_hash(&env.path("pki")),
        source_before,
        "the import changed its source"
    );
    for field in ["certificates", "by_status", "by_profile", "next_crl_number"] {
        assert_eq!(dry[field], report[field], "{field}: {dry} / {report}");
    }
    assert_eq!(report["dry_run"], false);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(report["certificates"], 5, "{report}");
    assert_eq!(
        report["by_status"],
        serde_json::json!({"revoked": 1, "valid": 4})
    );
    assert_eq!(
        report["by_profile"],
        serde_json::json!({"client": 4, "server": 1})
    );
    assert_eq!(report["problems"], serde_json::json!([]));
    // The same CA certificate, the key re-encrypted as certkit keeps keys.
    env.openssl_ok(&[
        "x509",
        "-in",
        "pki/ca.crt",
        "-outform",
        "DER",
        "-out",
        "easy-ca.der",
    ]);
    assert_eq!(env.read("easy-ca.der"), env.read("ck/ca.cer"));
    assert_contains(
        &env.openssl_ok(&[
            "x509",
            "-in",
            "pki/ca.crt",
            "-noout",
            "-fingerprint",
            "-sha1",
        ]),
        &[&colon_hex(
            report["thumbprint"].as_str().expect("thumbprint"),
        )],
    );
    assert_contains(
        &String::from_utf8(env.read("ck/ca.key")).expect("key"),
        &["BEGIN ENCRYPTED PRIVATE KEY"],
    );
    env.ok("certkit-ca", &["audit", "--ca", "ck"]);

    // Every line of index.txt is a record, in index order, with its status.
    let listed = env.list("ck");
    assert_eq!(listed.len(), 5);
    for line in index.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let row = listed
            .iter()
            .find(|r| r["serial"] == fields[3])
            .unwrap_or_else(|| panic!("{} is not listed", fields[3]));
        let expected = if fields[0] == "R" { "revoked" } else { "valid" };
        assert_eq!(row["status"], expected, "{row}");
    }
    let serial_of = |cn: &str| {
        let pem = env
            .path(&format!("pki/issued/{cn}.crt"))
            .display()
            .to_string();
        env.openssl_ok(&["x509", "-in", &pem, "-noout", "-serial"])
            .trim()
            .trim_start_matches("serial=")
            .to_string()
    };
    let bob = index
        .lines()
        .find(|l| l.starts_with('R'))
        .and_then(|l| l.split('\t').nth(3))
        .expect("bob's line")
        .to_string();

    // certkit's first CRL lists exactly easy-rsa's revocations, with a number above easy-rsa's.
    certkit_crl(&env, "ck", "crl1");
    assert_eq!(crl_serials(&env, "pki/crl.pem", "PEM"), vec![bob.clone()]);
    assert_eq!(crl_serials(&env, "crl1.pem", "PEM"), vec![bob.clone()]);
    let theirs = crl_number(&env, "pki/crl.pem", "PEM").unwrap_or(0);
    assert!(crl_number(&env, "crl1.pem", "PEM").expect("number") > theirs);
    assert_contains(
        &env.openssl_ok(&["crl", "-in", "crl1.pem", "-noout", "-text"]),
        &["Key Compromise"],
    );

    // A client certificate easy-rsa made verifies against certkit's ca.pem, and not once certkit revoked it.
    let refused = revoked_by_certkit(
        &env,
        "pki/issued/alice.crt",
        &serial_of("alice"),
        "affiliationChanged",
    );
    assert!(!refused.status.success());
    assert_contains(
        &format!("{}{}", text(&refused.stdout), text(&refused.stderr)),
        &["certificate revoked"],
    );
    let mut expected = vec![bob.clone(), serial_of("alice")];
    expected.sort();
    assert_eq!(crl_serials(&env, "crl2.pem", "PEM"), expected);

    // A renewal by certkit of a certificate easy-rsa made: the same subject and profile, verified by openssl.
    let renewed = env.issue(&[
        "renew",
        "--ca",
        "ck",
        &serial_of("vpn.example.com"),
        "--out",
        "vpn",
    ]);
    assert_eq!(renewed["profile"], "server", "{renewed}");
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "ck/ca.pem", "vpn.pem"]),
        &["vpn.pem: OK"],
    );
    assert_contains(
        &env.openssl_ok(&[
            "x509",
            "-in",
            "vpn.pem",
            "-noout",
            "-subject",
            "-ext",
            "subjectAltName",
        ]),
        &["CN = vpn.example.com", "DNS:vpn.example.com"],
    );
    // ... and every one that runs out within ten years, at one unlock (alice is revoked, bob too).
    let due = env.issue(&[
        "renew",
        "--ca",
        "ck",
        "--expiring-within",
        "3650",
        "--out-dir",
        "due",
    ]);
    let rows = due["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["status"] != "failed"), "{due}");
    for cert in std::fs::read_dir(env.path("due")).expect("due") {
        let path = cert.expect("file").path();
        if path.extension().is_some_and(|e| e == "pem")
            && !path.to_string_lossy().ends_with(".key.pem")
        {
            env.openssl_ok(&[
                "verify",
                "-CAfile",
                "ck/ca.pem",
                &path.display().to_string(),
            ]);
        }
    }

    // The rest of the CA's life on the imported CA: status, the report, a backup.
    let status = env.run("certkit-ca", &["status", "--ca", "ck"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stdout));
    env.ok(
        "certkit-ca",
        &["report", "--ca", "ck", "--out", "report.html"],
    );
    assert_contains(
        &String::from_utf8(env.read("report.html")).expect("html"),
        &["Easy CA", "vpn.example.com"],
    );
    env.ok(
        "certkit-ca",
        &cli("backup --ca ck --shares 3 --threshold 2 --share-dir shares --out ck-backup.key --ca-pass env:CA_PW"),
    );
    let shown = env.json("certkit-ca", &["show", "--ca", "ck", "--json"]);
    assert_eq!(shown["thumbprint"], report["thumbprint"], "{shown}");
    assert_eq!(shown["revoked"], 2, "{shown}");
    assert_eq!(tree_hash(&env.path("pki")), source_before);

    // A link in issued/ that leads out of the PKI: nothing is read through it, nothing written.
    std::os::unix::fs::symlink(env.path("vpn.pem"), env.path("pki/issued/planted.crt"))
        .expect("link");
    let out = env
        .cmd("certkit-ca")
        .env("SRC_PW", SRC_PW)
        .args(cli(
            "import --from-easyrsa pki --ca ck2 --source-pass env:SRC_PW --ca-pass env:CA_PW",
        ))
        .output()
        .expect("import");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &text(&out.stderr),
        &["planted.crt is a link to", "outside the source folder"],
    );
    assert!(!env.path("ck2").exists());
}

#[test]
fn an_openssl_ca_folder_comes_in_and_goes_back_out_to_openssl() {
    let env = Env::new();
    let made = openssl_ca_folder(&env, "src");
    let source_before = tree_hash(&env.path("src"));
    let report = import(&env, &["--from-openssl-ca", "src", "--ca", "ck"]);
    assert_eq!(
        tree_hash(&env.path("src")),
        source_before,
        "the import changed its source"
    );
    assert_eq!(report["certificates"], 5, "{report}");
    assert_eq!(
        report["by_status"],
        serde_json::json!({"expired": 1, "revoked": 1, "valid": 3})
    );
    assert_eq!(
        report["by_profile"],
        serde_json::json!({"client": 3, "server": 1, "unknown": 1})
    );
    // openssl ca signed CRL 1 and keeps 02 as the next: certkit goes on from 2.
    assert_eq!(report["next_crl_number"], 2);
    env.ok("certkit-ca", &["audit", "--ca", "ck"]);
    let listed = env.list("ck");
    let row = |serial: &str| {
        listed
            .iter()
            .find(|r| r["serial"] == serial)
            .unwrap_or_else(|| panic!("{serial} not listed"))
            .clone()
    };
    assert_eq!(row(&made.bob)["status"], "revoked");
    assert_eq!(row(&made.old)["status"], "expired");
    assert_eq!(row(&made.plain)["profile"], "unknown");
    assert_eq!(row(&made.web)["profile"], "server");

    // The first CRL: number 2, exactly the revoked one (not the expired one).
    certkit_crl(&env, "ck", "crl1");
    assert_eq!(crl_number(&env, "crl1.pem", "PEM"), Some(2));
    assert_eq!(crl_number(&env, "src/crl.pem", "PEM"), Some(1));
    assert_eq!(crl_serials(&env, "crl1.pem", "PEM"), vec![made.bob.clone()]);
    assert_eq!(
        crl_serials(&env, "src/crl.pem", "PEM"),
        vec![made.bob.clone()]
    );
    let refused = revoked_by_certkit(&env, "leaves/alice.pem", &made.alice, "keyCompromise");
    assert!(!refused.status.success());
    // A certificate whose EKUs fit no profile is kept and revocable, not renewed.
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&["renew", "--ca", "ck", &made.plain, "--out", "plain"]),
        2,
    );
    assert_contains(&err, &["fit no certkit profile"]);
    let renewed = env.issue(&["renew", "--ca", "ck", &made.web, "--out", "web"]);
    assert_eq!(renewed["profile"], "server");
    env.openssl_ok(&["verify", "-CAfile", "ck/ca.pem", "web.pem"]);

    // Out again: openssl ca carries on from the export (its -revoke and -gencrl), and openssl ocsp serves it.
    let exported = env.json(
        "certkit-ca",
        &["export-index", "--ca", "ck", "--out", "back", "--json"],
    );
    assert_eq!(exported["lines"], 6, "{exported}");
    assert_eq!(exported["revoked"], 2);
    assert_eq!(exported["expired"], 1);
    assert_eq!(exported["next_crl_number"], 4);
    let ossl_ca = |args: &[&str]| {
        let mut all = vec!["ca", "-config", "back/openssl.cnf", "-passin", "env:CA_PW"];
        all.extend_from_slice(args);
        env.openssl_ok(&all)
    };
    ossl_ca(&["-gencrl", "-out", "back-crl.pem"]);
    assert_eq!(
        crl_serials(&env, "back-crl.pem", "PEM"),
        crl_serials(&env, "crl2.pem", "PEM")
    );
    assert_eq!(crl_number(&env, "back-crl.pem", "PEM"), Some(4));
    let web_pem = format!("back/newcerts/{}.pem", made.web);
    ossl_ca(&["-revoke", &web_pem, "-crl_reason", "superseded"]);
    ossl_ca(&["-gencrl", "-out", "back-crl2.pem"]);
    let mut expected = crl_serials(&env, "crl2.pem", "PEM");
    expected.push(made.web.clone());
    expected.sort();
    assert_eq!(crl_serials(&env, "back-crl2.pem", "PEM"), expected);
    // openssl ocsp answers from the exported index (a request, the responder's answer, the answer read back).
    let ocsp = |serial: &str| {
        let serial = format!("0x{serial}");
        env.openssl_ok(&cli(&format!(
            "ocsp -issuer ck/ca.pem -serial {serial} -reqout req.der -no_nonce"
        )));
        env.openssl_ok(&cli(
            "ocsp -index back/index.txt -CA ck/ca.pem -rsigner ck/ca.pem -rkey ck/ca.key -passin env:CA_PW \
             -reqin req.der -respout resp.der -ndays 1",
        ));
        env.openssl_ok(&cli(&format!(
            "ocsp -respin resp.der -issuer ck/ca.pem -serial {serial} -CAfile ck/ca.pem"
        )))
    };
    assert_contains(&ocsp(&made.bob), &[": revoked", "Reason: keyCompromise"]);
    assert_contains(&ocsp(&made.alice), &[": revoked"]);
    assert_contains(&ocsp(&renewed_serial(&renewed)), &[": good"]);
    // A re-key of the imported CA: the old key goes on signing the CRL of what it (and openssl ca) signed, and
    // cannot be retired while that is unexpired. (openssl ca's keyid is the SHA-1 one, certkit's the SHA-256
    // one of RFC 7093: the same key either way.)
    let old_key = env.json(
        "certkit-ca",
        &["crl", "--ca", "ck", "--ca-pass", "env:CA_PW", "--json"],
    )["key_id"]
        .as_str()
        .expect("key_id")
        .to_string();
    env.ok(
        "certkit-ca",
        &[
            "rekey",
            "--ca",
            "ck",
            "--key",
            "p256",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    let crl = env.json(
        "certkit-ca",
        &["crl", "--ca", "ck", "--ca-pass", "env:CA_PW", "--json"],
    );
    let earlier = crl["earlier_keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(earlier.len(), 1, "the earlier key signed no CRL: {crl}");
    assert_eq!(earlier[0]["key_id"], old_key.as_str());
    let earlier_crl = earlier[0]["file"].as_str().expect("file").to_string();
    let mut revoked = vec![made.bob.clone(), made.alice.clone()];
    revoked.sort();
    assert_eq!(crl_serials(&env, &earlier_crl, "DER"), revoked);
    let err = env.fails(
        "certkit-ca",
        &[
            "retire-key",
            "--ca",
            "ck",
            "--key-id",
            &old_key,
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["have not expired"]);
    assert_eq!(tree_hash(&env.path("src")), source_before);
}

/// XCA (Debian's xca 2.4, its command line without a GUI) takes in the `openssl ca` CA's certificates and CRL
/// and writes its OpenSSL index (`xca --index`); certkit imports that index with the certificates as an XCA user
/// exports them (a folder of PEM files, named as they like, beside their keys and requests).
#[test]
fn an_xca_index_comes_in_with_the_certificates_it_lists() {
    let env = Env::new();
    let made = openssl_ca_folder(&env, "src");
    let xca = |args: &[&str]| {
        let script = peer("xca.py");
        let mut all = vec![script.as_str(), "xca", "--no-gui", "--database=xca.xdb"];
        all.extend_from_slice(args);
        let out = env
            .command("python3")
            .env("XCA_PW", "xca password 0123")
            .args(&all)
            .output()
            .expect("xca");
        assert!(
            out.status.success(),
            "xca {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    };
    let mut items = vec![
        "--import".to_string(),
        "src/cacert.pem".into(),
        "src/crl.pem".into(),
    ];
    for name in ["alice", "bob", "web", "plain", "old"] {
        items.push(format!("leaves/{name}.pem"));
    }
    items.push("--exit".into());
    xca(&items.iter().map(String::as_str).collect::<Vec<_>>());
    xca(&["--index=xca-index.txt"]);
    let index = String::from_utf8(env.read("xca-index.txt")).expect("index");
    // XCA lists the CA itself, and bob as revoked (from the CRL).
    assert_eq!(index.lines().count(), 6, "{index}");
    assert!(
        index
            .lines()
            .any(|l| l.starts_with('R') && l.contains(&made.bob)),
        "{index}"
    );
    let (report, warned) = import_warned(
        &env,
        &cli(
            "--from-index xca-index.txt --certs leaves --ca-cert src/cacert.pem --ca-key src/private/cakey.pem --ca ck",
        ),
    );
    assert_eq!(report["source"], "index");
    assert_eq!(report["certificates"], 5, "{report}");
    assert_eq!(report["by_status"]["revoked"], 1, "{report}");
    assert_contains(&warned, &["is the CA certificate itself (XCA lists it)"]);
    certkit_crl(&env, "ck", "crl1");
    assert_eq!(crl_serials(&env, "crl1.pem", "PEM"), vec![made.bob.clone()]);
    assert!(
        verify_with_crl(&env, "crl1", "leaves/alice.pem")
            .status
            .success()
    );
}

/// An `openssl ca` whose key is on a PKCS#11 token (SoftHSM2): the import finds it there, checks it against the
/// CA certificate, and leaves it there; the new folder signs with it (`--ca-pass` is the PIN).
#[test]
fn a_ca_key_on_a_token_stays_there() {
    use common::token::{TOKEN, module, softhsm, write_private_key};
    let env = Env::new();
    let made = openssl_ca_folder(&env, "src");
    softhsm(&env);
    env.set_var("SRC_PW", SRC_PW);
    env.openssl_ok(&cli(
        "pkey -in src/private/cakey.pem -passin env:SRC_PW -outform DER -out cakey.der",
    ));
    write_private_key(&env, "cakey.der", "legacy", "4c45");
    // The key file is gone: only the token has the key.
    std::fs::remove_file(env.path("src/private/cakey.pem")).expect("rm");
    std::fs::remove_file(env.path("cakey.der")).expect("rm");
    let uri = format!("pkcs11:token={TOKEN};object=legacy");
    let args = [
        "import",
        "--from-openssl-ca",
        "src",
        "--ca",
        "ck",
        "--pkcs11",
        &uri,
        "--pkcs11-module",
        &module(),
        "--ca-pass",
        "env:TOKEN_PIN",
        "--json",
    ];
    let report = env.json("certkit-ca", &args);
    assert_eq!(report["certificates"], 5, "{report}");
    assert_eq!(report["key_checked"], true);
    assert!(!env.path("ck/ca.key").exists());
    let settings: serde_json::Value =
        serde_json::from_slice(&env.read("ck/ca.json")).expect("ca.json");
    assert_contains(&settings["pkcs11"]["uri"].to_string(), &["object=legacy"]);
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "ck", "--ca-pass", "env:TOKEN_PIN"],
    );
    env.openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        "ck/ca.crl",
        "-CAfile",
        "ck/ca.pem",
        "-noout",
    ]);
    assert_eq!(
        crl_serials(&env, "ck/ca.crl", "DER"),
        vec![made.bob.clone()]
    );
    env.issue(&cli(
        "client --ca ck --cn zoe --out zoe --key p256 --ca-pass env:TOKEN_PIN",
    ));
    env.openssl_ok(&["verify", "-CAfile", "ck/ca.pem", "zoe.pem"]);
    // Another key under that label is not the CA's: refused, nothing written.
    env.openssl_ok(&cli(
        "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out other.der",
    ));
    write_private_key(&env, "other.der", "other", "4f54");
    let other = format!("pkcs11:token={TOKEN};object=other");
    let err = env.fails(
        "certkit-ca",
        &[
            "import",
            "--from-openssl-ca",
            "src",
            "--ca",
            "ck2",
            "--pkcs11",
            &other,
            "--pkcs11-module",
            &module(),
            "--ca-pass",
            "env:TOKEN_PIN",
        ],
        2,
    );
    assert!(!env.path("ck2").exists(), "{err}");
}

fn renewed_serial(renewed: &serde_json::Value) -> String {
    renewed["serial"].as_str().expect("serial").to_string()
}

/// `AB12` as openssl's fingerprint shows it: `AB:12`.
fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}
