//! Hostile and damaged sources for `certkit-ca import` (issue 34): each is refused with one line naming the
//! index line (or file) at fault, writes nothing (no CA folder, no staging folder left), and leaves the source
//! as it was; `--accept-missing` records a line whose file is gone, and only a valid or expired one.

use super::*;
use common::legacy_ca::*;

fn import_run(env: &Env, args: &[&str]) -> std::process::Output {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.extend(["--source-pass", "env:SRC_PW", "--ca-pass", "env:CA_PW"]);
    env.cmd("certkit-ca")
        .env("SRC_PW", SRC_PW)
        .args(&all)
        .output()
        .expect("import")
}

fn copy_tree(env: &Env, from: &str, to: &str) {
    let out = env.tool("cp", &["-a", from, to]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn append(env: &Env, rel: &str, line: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(env.path(rel))
        .expect("open");
    file.write_all(line.as_bytes()).expect("append");
}

/// A staging folder an import left in the test folder, if any.
fn leftovers(env: &Env) -> Vec<String> {
    env.listing(".")
        .into_iter()
        .filter(|n| n.starts_with(".certkit"))
        .collect()
}

#[test]
fn hostile_sources_are_refused_by_line_and_nothing_is_written() {
    let env = Env::new();
    let made = openssl_ca_folder(&env, "src");
    // Another CA, to sign a certificate that claims one of src's serials.
    env.openssl_ok(&cli(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -subj /CN=Other \
         -days 30 -out other.pem",
    ));
    let line_one = String::from_utf8(env.read("src/index.txt"))
        .expect("index")
        .lines()
        .next()
        .expect("line 1")
        .to_string();
    let alice_file = |case: &str| format!("{case}/newcerts/{}.pem", made.alice);
    type Damage<'a> = Box<dyn Fn(&str) + 'a>;
    let cases: Vec<(&str, Damage, Vec<String>)> = vec![
        (
            "signed by another CA",
            Box::new(|case: &str| {
                env.openssl_ok(&[
                    "x509",
                    "-req",
                    "-in",
                    "leaves/alice.csr",
                    "-CA",
                    "other.pem",
                    "-CAkey",
                    "other.key",
                    "-set_serial",
                    &format!("0x{}", made.alice),
                    "-days",
                    "30",
                    "-out",
                    &alice_file(case),
                ]);
            }),
            vec!["line 1: ".into(), "not signed by this CA's key".into()],
        ),
        (
            "a serial other than its line's",
            Box::new(|case: &str| {
                std::fs::copy(
                    env.path(&format!("{case}/newcerts/{}.pem", made.bob)),
                    env.path(&alice_file(case)),
                )
                .expect("copy");
            }),
            vec![
                "line 1: ".into(),
                format!(
                    "is named for serial {} but holds serial {}",
                    made.alice, made.bob
                ),
            ],
        ),
        (
            "a malformed line",
            Box::new(|case: &str| {
                append(
                    &env,
                    &format!("{case}/index.txt"),
                    "V\t2612\t\t99\tunknown\t/CN=x\n",
                )
            }),
            vec!["line 6: expiry".into(), "nothing was written".into()],
        ),
        (
            "a duplicate serial",
            Box::new(|case: &str| {
                append(&env, &format!("{case}/index.txt"), &format!("{line_one}\n"))
            }),
            vec![format!(
                "line 6: serial {} is on line 1 already",
                made.alice
            )],
        ),
        (
            "a subject other than its certificate's",
            Box::new(|case: &str| {
                let index =
                    String::from_utf8(env.read(&format!("{case}/index.txt"))).expect("index");
                std::fs::write(
                    env.path(&format!("{case}/index.txt")),
                    index.replacen("/CN=alice", "/CN=mallory", 1),
                )
                .expect("write");
            }),
            vec![
                "line 1: ".into(),
                "the line says /O=Example/CN=mallory".into(),
            ],
        ),
        (
            "a key that is not the CA certificate's",
            Box::new(|case: &str| {
                env.openssl_ok(&[
                    "genrsa",
                    "-aes256",
                    "-passout",
                    &format!("pass:{SRC_PW}"),
                    "-out",
                    &format!("{case}/private/cakey.pem"),
                    "2048",
                ]);
            }),
            vec!["is not the key of the CA certificate".into()],
        ),
        (
            "a link out of the folder",
            Box::new(|case: &str| {
                std::os::unix::fs::symlink(
                    env.path("other.pem"),
                    env.path(&format!("{case}/newcerts/evil.pem")),
                )
                .expect("link");
            }),
            vec!["is a link to".into(), "outside the source folder".into()],
        ),
        (
            "a certificate file gone",
            Box::new(|case: &str| {
                std::fs::remove_file(env.path(&format!("{case}/newcerts/{}.pem", made.web)))
                    .expect("rm")
            }),
            vec![
                format!("line 3: no certificate file holds serial {}", made.web),
                "--accept-missing".into(),
            ],
        ),
    ];
    for (i, (what, damage, expected)) in cases.iter().enumerate() {
        let case = format!("case{i}");
        copy_tree(&env, "src", &case);
        damage(&case);
        let before = tree_hash(&env.path(&case));
        let target = format!("ck{i}");
        let out = import_run(&env, &["--from-openssl-ca", &case, "--ca", &target]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: {err}");
        let wanted: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert_contains(&err, &wanted);
        assert!(
            !env.path(&target).exists(),
            "{what}: a CA folder was written"
        );
        assert_eq!(leftovers(&env), Vec::<String>::new(), "{what}");
        assert_eq!(
            tree_hash(&env.path(&case)),
            before,
            "{what}: the source changed"
        );
    }

    // 100,000 lines, the last one bad: refused by its number before anything is read or written.
    let mut big = String::new();
    for n in 0..100_000u32 {
        big.push_str(&format!(
            "V\t301231235959Z\t\t{:08X}\tunknown\t/O=Example/CN=u{n}\n",
            0x1000_0000 + n
        ));
    }
    big.push_str("R\t301231235959Z\t\t0F\tunknown\t/CN=no-revocation-time\n");
    copy_tree(&env, "src", "big");
    std::fs::write(env.path("big/index.txt"), big).expect("big index");
    let out = import_run(&env, &["--from-openssl-ca", "big", "--ca", "ck-big"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &text(&out.stderr),
        &["line 100001: an R line without its revocation time"],
    );
    assert!(!env.path("ck-big").exists());

    // A folder that holds something, or one inside a CA folder, is never made into a CA.
    std::fs::create_dir(env.path("full")).expect("full");
    std::fs::write(env.path("full/notes.txt"), "mine").expect("notes");
    let out = import_run(&env, &["--from-openssl-ca", "src", "--ca", "full"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["not empty"]);
    assert_eq!(env.listing("full"), vec!["notes.txt".to_string()]);
    // A wrong source password: one line, nothing written.
    let out = env
        .cmd("certkit-ca")
        .env("SRC_PW", "not the password")
        .args(cli("import --from-openssl-ca src --ca ck-wrong --source-pass env:SRC_PW --ca-pass env:CA_PW"))
        .output()
        .expect("import");
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr).trim().lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(!env.path("ck-wrong").exists());
}

#[test]
fn accept_missing_records_a_lost_file_as_missing_and_never_a_lost_revocation() {
    let env = Env::new();
    let made = openssl_ca_folder(&env, "src");
    std::fs::remove_file(env.path(&format!("src/newcerts/{}.pem", made.web))).expect("rm");
    let out = import_run(
        &env,
        &[
            "--from-openssl-ca",
            "src",
            "--ca",
            "ck",
            "--accept-missing",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["missing"], 1, "{report}");
    assert_eq!(report["certificates"], 4);
    // Recorded as such: the audit notes it (and passes), nothing lists it as a certificate, the export keeps
    // its line, and its serial stays taken.
    let audit = env.json("certkit-ca", &["audit", "--ca", "ck", "--json"]);
    assert_contains(&audit.to_string(), &["imported-missing", &made.web]);
    assert!(
        env.list("ck")
            .iter()
            .all(|r| r["serial"] != made.web.as_str())
    );
    env.ok(
        "certkit-ca",
        &["export-index", "--ca", "ck", "--out", "back"],
    );
    assert_contains(
        &String::from_utf8(env.read("back/index.txt")).expect("index"),
        &[&format!("\t{}\tunknown\t/O=Example/CN=web", made.web)],
    );
    // A revoked certificate whose file is gone would drop off the CRLs: refused even so.
    copy_tree(&env, "src", "src2");
    std::fs::remove_file(env.path(&format!("src2/newcerts/{}.pem", made.bob))).expect("rm");
    let out = import_run(
        &env,
        &[
            "--from-openssl-ca",
            "src2",
            "--ca",
            "ck2",
            "--accept-missing",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &text(&out.stderr),
        &["line 2: the revoked certificate", "has no file"],
    );
    assert!(!env.path("ck2").exists());
}
