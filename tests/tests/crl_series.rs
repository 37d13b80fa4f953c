//! CRLs signed ahead for an offline CA (`certkit-ca crl --series`) and published without the key (`certkit-ca
//! crl publish`): each CRL read back by Python `cryptography` and the openssl CLI and linted by pkilint, the
//! one publish picks at each boundary of the series (`--at`), what it refuses (another CA's CRL, a forged one,
//! an older one), the warning and exit codes a cron job sees, and the gap a revocation after the series leaves
//! (named by `revoke` and `status`).

mod common;

use common::*;

const DAY: i64 = 86_400;

/// A CA with alice (valid) and lost (revoked for keyCompromise).
fn ca_with_a_revocation(env: &Env) -> (serde_json::Value, serde_json::Value) {
    env.init_ca_with("pki", &["--key", "p256"]);
    let alice = env.issue_client("pki", "alice", "alice");
    let lost = env.issue_client("pki", "lost", "lost");
    env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            lost["serial"].as_str().expect("serial"),
            "--reason",
            "keyCompromise",
        ],
    );
    (alice, lost)
}

/// `crl --series` with `args`, as JSON.
fn series(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["crl", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"];
    all.extend(args);
    env.json("certkit-ca", &all)
}

/// What Python `cryptography` reads in each CRL.
fn crl_facts(env: &Env, files: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["pki/ca.pem"];
    args.extend_from_slice(files);
    peer_facts(env, "crl_facts.py", &args)
}

fn files(json: &serde_json::Value) -> Vec<String> {
    json["crls"]
        .as_array()
        .expect("crls")
        .iter()
        .map(|c| c["file"].as_str().expect("file").to_string())
        .collect()
}

/// A serial as a number's hex digits (no leading zeros), for comparing across tools.
fn digits(serial: &str) -> String {
    serial.trim_start_matches('0').to_uppercase()
}

/// RFC 3339 for a Unix time, for `--at`.
fn at(unix: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{unix}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    text(&out.stdout).trim().to_string()
}

/// `crl publish --from crls --out www/ca.crl` and extra `args` run at the moment `when` (libfaketime: `--at`
/// only looks): exit code, stdout, stderr.
fn publish(env: &Env, when: i64, args: &[&str]) -> (i32, String, String) {
    let out = publish_at(env, when, args);
    (
        out.status.code().expect("exit code"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// `certkit-ca crl publish --from crls --out www/ca.crl ARGS` as if it were `when` (unix seconds).
fn publish_at(env: &Env, when: i64, args: &[&str]) -> std::process::Output {
    let moment = at(when).replace('T', " ").replace('Z', "");
    let program = bin("certkit-ca");
    let pin = env.openssl_thumbprint("pki/ca.pem");
    // `-f`: the clock stands at that second for the whole run (a loaded machine, or a host clock that jumps,
    // never moves it across a window's boundary).
    let mut all = vec![
        "-f",
        moment.as_str(),
        program.to_str().expect("path"),
        "crl",
        "publish",
        "--from",
        "crls",
        "--out",
        "www/ca.crl",
    ];
    // The trust anchor: the folder's ca.cer pinned by its thumbprint, unless the test gives a copy.
    if !args.contains(&"--ca-cert") {
        all.extend(["--ca-thumbprint", pin.as_str()]);
    }
    all.extend(args);
    env.command("faketime")
        .env("TZ", "UTC")
        .args(&all)
        .output()
        .expect("faketime")
}

/// The CRL number of the published CRL, as openssl reads it.
fn published_number(env: &Env) -> u64 {
    let out = env.openssl_ok(&cli("crl -in www/ca.crl -inform DER -noout -crlnumber"));
    u64::from_str_radix(out.trim().trim_start_matches("crlNumber=0x"), 16).expect("number")
}

#[test]
fn six_monthly_crls_verify_overlap_as_asked_and_pass_pkilint() {
    let env = Env::new();
    let (_, lost) = ca_with_a_revocation(&env);
    let made = series(
        &env,
        &cli("--series 6 --every 30 --overlap 3 --out-dir crls"),
    );
    let names = files(&made);
    assert_eq!(names.len(), 6, "{made}");
    assert_eq!(made["ca_cert"], "crls/ca.cer");
    assert_eq!(env.read("crls/ca.cer"), env.read("pki/ca.cer"));
    let facts = crl_facts(&env, &names.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, crl) in facts.iter().enumerate() {
        let name = &names[i];
        assert_eq!(crl["signed"], true, "{name} is signed by the CA");
        assert_eq!(crl["issuer_is_ca"], true, "{name}");
        assert_eq!(
            crl["revoked"],
            serde_json::json!([digits(lost["serial"].as_str().expect("s"))]),
            "{name} holds every revocation known when it was signed"
        );
        let (this, next) = (
            crl["this_update"].as_i64().expect("this"),
            crl["next_update"].as_i64().expect("next"),
        );
        assert_eq!(next - this, 33 * DAY, "{name}: every 30 days + overlap 3");
        if i > 0 {
            let before = &facts[i - 1];
            assert_eq!(this - before["this_update"].as_i64().expect("t"), 30 * DAY);
            assert!(
                crl["number"].as_u64() > before["number"].as_u64(),
                "CRL numbers increase: {before} then {crl}"
            );
            assert!(
                before["next_update"].as_i64().expect("n") > this,
                "{name} starts before the one before it runs out"
            );
        }
        // The file name says when it becomes current.
        let stamp = at(this).replace(':', "");
        assert!(
            name.starts_with(&format!("crls/ca-{stamp}-")),
            "{name} for {stamp}"
        );
        // openssl checks the signature; pkilint's RFC 5280 CRL lints find nothing.
        assert_contains(
            &env.openssl_ok(&[
                "crl",
                "-in",
                name,
                "-inform",
                "DER",
                "-CAfile",
                "pki/ca.pem",
                "-noout",
            ]),
            &["verify OK"],
        );
        pkilint_clean(&env, "lint_crl", &[name]);
    }
    // The log records each CRL with its window: status sees how far the series reaches.
    let status = env.json("certkit-ca", &["status", "--ca", "pki", "--json"]);
    let crl = status["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .find(|f| f["check"] == "crl")
        .expect("crl fact")
        .clone();
    assert_eq!(crl["level"], "OK", "{status}");
    assert_eq!(crl["until"], made["reach"], "{status}");
    // A PEM series too, which publish reads as well.
    let pem = series(&env, &cli("--series 2 --every 7 --out-dir crls-pem --pem"));
    let first = files(&pem)[0].clone();
    assert!(first.ends_with(".crl.pem"), "{first}");
    env.openssl_ok(&["crl", "-in", &first, "-CAfile", "pki/ca.pem", "-noout"]);
}

#[test]
fn publish_picks_the_current_crl_at_each_boundary_and_warns_in_the_last_week() {
    let env = Env::new();
    let (_, _) = ca_with_a_revocation(&env);
    let made = series(
        &env,
        &cli("--series 3 --every 30 --overlap 2 --out-dir crls"),
    );
    std::fs::create_dir(env.path("www")).expect("www");
    let facts = crl_facts(
        &env,
        &files(&made).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let start = |i: usize| facts[i]["this_update"].as_i64().expect("t");
    let number = |i: usize| facts[i]["number"].as_u64().expect("n");
    let end = facts[2]["next_update"].as_i64().expect("n");
    // Now: the first; run again: unchanged.
    let (code, out, err) = publish(&env, start(0) + 60, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_contains(&out, &["Published CRL number"]);
    assert_eq!(published_number(&env), number(0));
    let (code, out, _) = publish(&env, start(0) + 60, &[]);
    assert_eq!(code, 0);
    assert_contains(&out, &["already holds the current CRL"]);
    // A second before the second starts, still the first; at its start, the second (in the overlap both are
    // valid, and the newer one wins).
    let (code, out, err) = publish(&env, start(1) - 1, &[]);
    assert_eq!((code, published_number(&env)), (0, number(0)), "{out}{err}");
    let (code, out, err) = publish(&env, start(1), &[]);
    assert_eq!((code, published_number(&env)), (0, number(1)), "{out}{err}");
    // Going back in time never puts an older CRL over a newer one.
    let before = env.read("www/ca.crl");
    let (code, _, err) = publish(&env, start(0) + 60, &[]);
    assert_eq!(code, 2, "{err}");
    assert_contains(&err, &["newer than the current one"]);
    assert_eq!(env.read("www/ca.crl"), before);
    // The third, as JSON.
    // --at only looks: nothing is written.
    let before = env.read("www/ca.crl");
    let when = at(start(2) + DAY);
    let looked = env.run(
        "certkit-ca",
        &[
            "crl",
            "publish",
            "--from",
            "crls",
            "--out",
            "www/ca.crl",
            "--ca-cert",
            "pki/ca.cer",
            "--at",
            &when,
        ],
    );
    assert!(looked.status.success(), "{}", text(&looked.stderr));
    assert_contains(&text(&looked.stderr), &["nothing was written"]);
    assert_eq!(env.read("www/ca.crl"), before, "--at published");
    let out = publish_at(&env, start(2) + DAY, &["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["action"], "replaced", "{json}");
    assert_eq!(json["crl_number"].as_u64(), Some(number(2)));
    assert_eq!(json["reach"], made["reach"]);
    // In the series' last week: published, and exit 1 with a line saying what to do.
    let (code, _, err) = publish(&env, end - 6 * DAY, &[]);
    assert_eq!(code, 1, "{err}");
    assert_contains(&err, &["run out on", "within 7 days", "--series"]);
    let (code, _, _) = publish(&env, end - 6 * DAY, &["--warn-days", "5"]);
    assert_eq!(code, 0);
    // Once the series has run out: exit 2, and the published file stays as it was.
    let before = env.read("www/ca.crl");
    let (code, _, err) = publish(&env, end, &[]);
    assert_eq!(code, 2, "{err}");
    assert_contains(&err, &["no CRL in crls is current", "ran out on"]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(env.read("www/ca.crl"), before);
    // Before the series starts, no CRL is current either.
    let (code, _, err) = publish(&env, start(0) - 60, &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn what_publish_chose_lets_openssl_refuse_the_revoked_certificate() {
    let env = Env::new();
    ca_with_a_revocation(&env);
    let made = series(
        &env,
        &["--series", "2", "--every", "10", "--out-dir", "crls"],
    );
    std::fs::create_dir(env.path("www")).expect("www");
    let facts = crl_facts(
        &env,
        &files(&made).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    // In the second window: openssl, with the clock at that moment, checks against what publish put there.
    let when = facts[1]["this_update"].as_i64().expect("t") + DAY;
    let (code, _, err) = publish(&env, when, &[]);
    assert_eq!(code, 0, "{err}");
    env.openssl_ok(&cli("crl -in www/ca.crl -inform DER -out www.pem"));
    let attime = when.to_string();
    let check = |cert: &str| {
        env.openssl(&[
            "verify",
            "-attime",
            &attime,
            "-crl_check",
            "-CAfile",
            "pki/ca.pem",
            "-CRLfile",
            "www.pem",
            cert,
        ])
    };
    let good = check("alice.pem");
    assert!(good.status.success(), "{}", text(&good.stderr));
    let revoked = check("lost.pem");
    assert!(!revoked.status.success());
    assert_contains(
        &format!("{}{}", text(&revoked.stdout), text(&revoked.stderr)),
        &["certificate revoked"],
    );
}

#[test]
fn publish_refuses_what_the_ca_did_not_sign() {
    let env = Env::new();
    ca_with_a_revocation(&env);
    series(
        &env,
        &["--series", "2", "--every", "10", "--out-dir", "crls"],
    );
    std::fs::create_dir(env.path("www")).expect("www");
    // An intruder who can write the folder but has no key: a CRL with the CA's name, a higher number and an
    // empty list, signed by another key; another CA's series; garbage. Each is passed over, by name.
    let forged = env.tool(
        "python3",
        &[
            &peer("crl_facts.py"),
            "forge",
            "pki/ca.pem",
            "999999",
            "crls/ca-forged.crl",
        ],
    );
    assert!(forged.status.success(), "{}", text(&forged.stderr));
    std::fs::write(env.path("crls/garbage.crl"), b"not a crl").expect("garbage");
    env.init_ca_with("other", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &cli("crl --ca other --out crls/other.crl --ca-pass env:CA_PW"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let (code, out, err) = publish(&env, now, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_contains(
        &err,
        &[
            "ca-forged.crl: not signed",
            "other.crl: not signed",
            "garbage.crl",
        ],
    );
    let facts = crl_facts(&env, &["www/ca.crl"]);
    assert_eq!(facts[0]["signed"], true);
    assert_ne!(facts[0]["number"], 999_999);
    assert_eq!(facts[0]["revoked"].as_array().expect("revoked").len(), 1);
    // A published file that is not this CA's CRL is never replaced.
    for (name, bytes) in [
        ("forged", env.read("crls/ca-forged.crl")),
        ("another CA's", env.read("crls/other.crl")),
        ("not a CRL", b"index.html".to_vec()),
    ] {
        std::fs::write(env.path("www/ca.crl"), &bytes).expect("plant");
        let (code, _, err) = publish(&env, now, &[]);
        assert_eq!(code, 2, "{name}: {err}");
        assert_contains(&err, &["is not a CRL of this CA"]);
        assert_eq!(env.read("www/ca.crl"), bytes, "{name} left as it was");
    }
    // Without ca.cer beside the CRLs, publish says to give --ca-cert; with it, it works.
    std::fs::rename(env.path("crls/ca.cer"), env.path("ca-copy.cer")).expect("move");
    std::fs::remove_file(env.path("www/ca.crl")).expect("rm");
    let (code, _, err) = publish(&env, now, &[]);
    assert_eq!(code, 2, "{err}");
    assert_contains(&err, &["--ca-cert"]);
    let (code, _, err) = publish(&env, now, &["--ca-cert", "ca-copy.cer"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_revocation_after_the_series_is_named_until_a_new_series_holds_it() {
    let env = Env::new();
    ca_with_a_revocation(&env);
    let old = series(
        &env,
        &cli("--series 6 --every 30 --overlap 3 --out-dir crls"),
    );
    let bob = env.issue_client("pki", "bob", "bob");
    let out = env.run(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            bob["serial"].as_str().expect("serial"),
            "--json",
        ],
    );
    assert!(out.status.success());
    let revoked: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let dir = std::fs::canonicalize(env.path("crls")).expect("crls");
    let command = format!(
        "certkit-ca crl --ca pki --series 6 --every 30 --overlap 3 --out-dir {}",
        dir.display()
    );
    assert_eq!(revoked["sign_crl"], command.as_str());
    assert_eq!(revoked["series_until"], old["reach"]);
    assert_contains(
        &text(&out.stderr),
        &["do not hold this revocation", &command],
    );
    // status: a warning that names the revocation and the command.
    let status = env.run("certkit-ca", &["status", "--ca", "pki"]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status.stdout));
    assert_contains(
        &text(&status.stdout),
        &["crl-gap", "CN=bob", "--series 6 --every 30"],
    );
    // A new, shorter series into the same folder holds it; status is OK again.
    let new = series(
        &env,
        &["--series", "1", "--every", "10", "--out-dir", "crls"],
    );
    let status = env.run("certkit-ca", &["status", "--ca", "pki"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stdout));
    // Once the new series has run out, the old series' later CRLs (current then, but without bob) are never
    // published: the new one supersedes them.
    std::fs::create_dir(env.path("www")).expect("www");
    let new_facts = crl_facts(&env, &[files(&new)[0].as_str()]);
    let after = new_facts[0]["next_update"].as_i64().expect("n") + DAY;
    let (code, _, err) = publish(&env, after, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(!env.path("www/ca.crl").exists());
    let (code, _, err) = publish(&env, after - 2 * DAY, &[]);
    assert!(code <= 1, "{err}");
    let facts = crl_facts(&env, &["www/ca.crl"]);
    assert_eq!(facts[0]["revoked"].as_array().expect("r").len(), 2);
}

#[test]
fn bad_series_requests_are_refused_in_one_line() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let base = ["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"];
    for (extra, says) in [
        (
            &["--series", "0", "--every", "30", "--out-dir", "c"][..],
            "--series 0",
        ),
        (
            &["--series", "400", "--every", "30", "--out-dir", "c"],
            "1 to 366",
        ),
        (
            &["--series", "3", "--every", "0", "--out-dir", "c"],
            "--every 0",
        ),
        (
            &["--series", "300", "--every", "36500", "--out-dir", "c"],
            "within 36525 days",
        ),
        (&["--series", "3", "--out-dir", "c"], "--every"),
        (&["--series", "3", "--every", "30"], "--out-dir"),
        (
            &cli("--series 3 --every 30 --out-dir c --out x.crl"),
            "--out",
        ),
        (&["--every", "30"], "--series"),
        (
            &["--series", "3", "--every", "30", "--out-dir", "pki"],
            "CA folder",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let err = env.fails("certkit-ca", &args, 2);
        assert_contains(&err, &[says]);
    }
    assert!(!env.path("c").exists(), "nothing written");
    // Another CA's CRL folder is not mixed with this one's.
    env.init_ca_with("other", &["--key", "p256"]);
    std::fs::create_dir(env.path("c")).expect("c");
    std::fs::copy(env.path("other/ca.cer"), env.path("c/ca.cer")).expect("copy");
    let err = env.fails(
        "certkit-ca",
        &cli("crl --ca pki --ca-pass env:CA_PW --series 2 --every 7 --out-dir c"),
        2,
    );
    assert_contains(&err, &["another CA certificate"]);
    // crl without --ca, and publish without its folder.
    let err = env.fails("certkit-ca", &["crl"], 2);
    assert_contains(&err, &["--ca"]);
    let err = env.fails(
        "certkit-ca",
        &["crl", "publish", "--from", "nowhere", "--out", "x.crl"],
        3, // a usage error of crl publish: UNKNOWN to monitoring
    );
    assert_contains(&err, &["--ca-cert"]);
}
