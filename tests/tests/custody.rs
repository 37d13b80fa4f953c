//! Key custody: `certkit-ca backup` splits the secret of an encrypted key backup into SLIP-39 shares, and
//! `certkit-ca restore` gathers them again. Checked with independent tools: Trezor's reference implementation
//! (`shamir recover`, Python `shamir_mnemonic`) and the openssl CLI open what certkit made, and shares Python
//! makes restore in certkit.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// A P-256 CA with one client, backed up 3 of 5 into share files.
fn backed_up() -> (Env, serde_json::Value) {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&[
        "client", "--ca", "pki", "--cn", "alice", "--out", "alice", "--key", "p256",
    ]);
    let report = env.json(
        "certkit-ca",
        &[
            "backup",
            "--ca",
            "pki",
            "--shares",
            "5",
            "--threshold",
            "3",
            "--share-dir",
            "shares",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    (env, report)
}

fn share_words(env: &Env, i: usize) -> String {
    text(&env.read(&format!("shares/share-{i}-of-5.txt")))
        .lines()
        .last()
        .expect("words")
        .to_string()
}

fn share_args(shares: &[usize]) -> Vec<String> {
    shares
        .iter()
        .flat_map(|i| {
            [
                "--share".to_string(),
                format!("file:shares/share-{i}-of-5.txt"),
            ]
        })
        .collect()
}

fn restore(env: &Env, extra: &[&str], shares: &[usize]) -> std::process::Output {
    let mut args: Vec<String> = ["restore", "--backup", "pki-backup.key"]
        .map(String::from)
        .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(share_args(shares));
    env.run(
        "certkit-ca",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// The CA restored into `restored` (its key under NEW_PW) issues a client certificate that openssl verifies
/// against the original `pki/ca.pem`.
fn signs_what_the_original_trusts(env: &Env) {
    env.ok(
        "certkit-issue",
        &[
            "client",
            "--ca",
            "restored",
            "--cn",
            "bob",
            "--out",
            "bob",
            "--key",
            "p256",
            "--ca-pass",
            "env:NEW_PW",
            "--key-pass",
            "env:NEW_PW",
        ],
    );
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "bob.pem"]),
        &["bob.pem: OK"],
    );
}

/// The public key of a PEM certificate or key file as openssl sees it (DER, hex).
fn public_key(env: &Env, args: &[&str]) -> String {
    let out = env.openssl_ok(args);
    let pem = env.path("public.pem");
    std::fs::write(&pem, out).expect("write");
    let der = env.openssl(&["pkey", "-pubin", "-in", "public.pem", "-outform", "DER"]);
    assert!(der.status.success());
    sha256_hex(&der.stdout)
}

#[test]
fn the_shares_and_the_backup_open_with_independent_tools() {
    let (env, report) = backed_up();
    assert_eq!(report["shares"], "3 of 5");
    for file in [
        "pki-backup.key",
        "shares/share-1-of-5.txt",
        "shares/share-5-of-5.txt",
    ] {
        let mode = std::fs::metadata(env.path(file))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    assert_eq!(
        sha256_hex(&env.read("pki-backup.key")),
        report["sha256"].as_str().expect("sha256")
    );
    // Trezor's reference CLI combines three shares (typed on its prompt) into the secret...
    let input = [2, 5, 4].map(|i| share_words(&env, i)).join("\n") + "\n";
    let mut shamir = env.command("shamir");
    shamir
        .arg("recover")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = shamir
        .spawn()
        .expect("shamir (pip install shamir-mnemonic)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("shamir");
    let printed = text(&out.stdout);
    let secret = printed
        .lines()
        .find_map(|l| l.strip_prefix("Your master secret is: "))
        .unwrap_or_else(|| panic!("shamir recover: {printed}{}", text(&out.stderr)))
        .trim()
        .to_string();
    assert_eq!(secret.len(), 64);
    // ...whose hex opens the backup with openssl, and the key in it is the CA certificate's.
    let pass = format!("pass:{secret}");
    let key = public_key(
        &env,
        &["pkey", "-in", "pki-backup.key", "-passin", &pass, "-pubout"],
    );
    let cert = public_key(&env, &["x509", "-in", "pki/ca.pem", "-pubkey", "-noout"]);
    assert_eq!(key, cert);
    // The certificate in the backup is the CA's (openssl reads it from the same file).
    assert_eq!(
        env.openssl_thumbprint("pki-backup.key"),
        env.openssl_thumbprint("pki/ca.pem")
    );
    // Two shares are not enough for the reference either.
    let two = [1, 3].map(|i| share_words(&env, i)).join("\n") + "\n";
    let py = env.tool(
        "python3",
        &[
            "-c",
            "import sys, shamir_mnemonic as s\ntry:\n    s.combine_mnemonics(sys.argv[1].split('\\n')[:2])\nexcept s.MnemonicError as e:\n    print('refused:', e)",
            &two,
        ],
    );
    assert_contains(&text(&py.stdout), &["refused:"]);
}

#[test]
fn any_three_of_five_restore_and_two_do_not() {
    let (env, report) = backed_up();
    for a in 1..=5 {
        for b in a + 1..=5 {
            for c in b + 1..=5 {
                let out = restore(&env, &["--check"], &[a, b, c]);
                assert!(out.status.success(), "{a} {b} {c}: {}", text(&out.stderr));
            }
            let out = restore(&env, &["--check"], &[a, b]);
            assert_eq!(out.status.code(), Some(2), "{a} {b}");
            assert_contains(
                &text(&out.stderr),
                &[
                    "2 share(s) given, 1 more needed",
                    "3 of 5",
                    "nothing was written",
                ],
            );
        }
    }
    assert!(report["split"].as_u64().is_some());
}

#[test]
fn the_restored_ca_signs_what_the_original_certificate_trusts() {
    let (env, _) = backed_up();
    env.set_var("NEW_PW", "a new password for the restored key");
    let out = restore(
        &env,
        &["--ca", "restored", "--ca-pass", "env:NEW_PW", "--json"],
        &[5, 1, 3],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["result"], "restored");
    assert_eq!(env.read("restored/ca.pem"), env.read("pki/ca.pem"));
    let mode = std::fs::metadata(env.path("restored/ca.key"))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The restored key is under the new password: the old one does not open it.
    env.openssl_ok(&[
        "pkey",
        "-in",
        "restored/ca.key",
        "-passin",
        "env:NEW_PW",
        "-noout",
    ]);
    assert!(
        !env.openssl(&[
            "pkey",
            "-in",
            "restored/ca.key",
            "-passin",
            "env:CA_PW",
            "-noout"
        ])
        .status
        .success()
    );
    signs_what_the_original_trusts(&env);
    env.ok("certkit-ca", &["audit", "--ca", "restored"]);
    let events = env.json(
        "certkit-ca",
        &["list", "--ca", "restored", "--events", "--json"],
    );
    assert_eq!(events[0]["event"], "restore");
    // Restoring over a CA is refused, and changes nothing.
    let before = env.read("restored/inventory.jsonl");
    let out = restore(
        &env,
        &["--ca", "restored", "--ca-pass", "env:NEW_PW"],
        &[1, 2, 3],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["already holds a CA"]);
    assert_eq!(env.read("restored/inventory.jsonl"), before);
}

#[test]
fn shares_made_by_the_reference_implementation_restore_in_certkit() {
    let (env, report) = backed_up();
    // The secret, recovered with Python from certkit's shares, split again by Python under the backup's split
    // identifier, 2 of 3.
    let split = report["split"].as_u64().expect("split").to_string();
    let three = [1, 2, 3].map(|i| share_words(&env, i)).join("\n");
    let py = env.tool(
        "python3",
        &[
            "-c",
            "import sys, shamir_mnemonic as s\n\
             from shamir_mnemonic.shamir import EncryptedMasterSecret, split_ems\n\
             secret = s.combine_mnemonics(sys.argv[1].split('\\n'))\n\
             ems = EncryptedMasterSecret.from_master_secret(secret, b'', int(sys.argv[2]), True, 0)\n\
             for share in split_ems(1, [(2, 3)], ems)[0]: print(share.mnemonic())",
            &three,
            &split,
        ],
    );
    assert!(py.status.success(), "{}", text(&py.stderr));
    let theirs: Vec<String> = text(&py.stdout).lines().map(String::from).collect();
    assert_eq!(theirs.len(), 3);
    env.set_var("SHARE_A", &theirs[2]);
    env.set_var("SHARE_B", &theirs[0]);
    env.ok(
        "certkit-ca",
        &[
            "restore",
            "--backup",
            "pki-backup.key",
            "--check",
            "--share",
            "env:SHARE_A",
            "--share",
            "env:SHARE_B",
        ],
    );
}

#[test]
fn a_bad_share_or_a_damaged_backup_is_named_and_nothing_is_written() {
    let (env, _) = backed_up();
    env.set_var("NEW_PW", "a new password for the restored key");
    let words: Vec<String> = share_words(&env, 2).split(' ').map(String::from).collect();
    let write_share = |name: &str, words: &[String]| {
        std::fs::write(env.path(name), words.join(" ") + "\n").expect("write");
    };
    let mut changed = words.clone();
    changed[12] = if changed[12] == "academic" {
        "acid"
    } else {
        "academic"
    }
    .into();
    write_share("changed.txt", &changed);
    let mut swapped = words.clone();
    let j = (5..28)
        .find(|&j| swapped[j] != swapped[j + 1])
        .expect("two words differ");
    swapped.swap(j, j + 1);
    write_share("swapped.txt", &swapped);
    let mut typo = words.clone();
    typo[7].push('q');
    write_share("typo.txt", &typo);
    // A share of another backup of the same CA.
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
            "--out",
            "other.key",
            "--share-dir",
            "other",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    let cases: [(&str, &str); 5] = [
        ("file:changed.txt", "does not check out"),
        ("file:swapped.txt", "does not check out"),
        ("file:typo.txt", "word 8 of the share is not a SLIP-39 word"),
        ("file:other/share-1-of-3.txt", "identifiers differ"),
        ("file:shares/share-1-of-5.txt", "given twice"),
    ];
    for (bad, expected) in cases {
        let args = [
            "restore",
            "--backup",
            "pki-backup.key",
            "--ca",
            "new",
            "--ca-pass",
            "env:NEW_PW",
            "--share",
            "file:shares/share-1-of-5.txt",
            "--share",
            bad,
            "--share",
            "file:shares/share-3-of-5.txt",
        ];
        let err = env.fails("certkit-ca", &args, 2);
        assert_contains(&err, &[bad, expected, "nothing was written"]);
        assert!(!env.path("new").exists(), "{bad}");
        // The mistyped word itself is never repeated.
        assert!(!err.contains(&typo[7]), "{err}");
    }
    // One flipped byte anywhere in the backup file.
    let mut damaged = env.read("pki-backup.key");
    let at = damaged.len() / 2;
    damaged[at] ^= 0x01;
    std::fs::write(env.path("damaged.key"), &damaged).expect("write");
    let err = env.fails(
        "certkit-ca",
        &[
            "restore",
            "--backup",
            "damaged.key",
            "--ca",
            "new",
            "--ca-pass",
            "env:NEW_PW",
            "--share",
            "file:shares/share-1-of-5.txt",
        ],
        2,
    );
    assert_contains(&err, &["damaged.key", "checksum does not match"]);
    assert!(!env.path("new").exists());
}

#[test]
fn drills_are_recorded_and_no_secret_is_ever_printed() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let backup = env.run(
        "certkit-ca",
        &[
            "backup",
            "--ca",
            "pki",
            "--shares",
            "5",
            "--threshold",
            "3",
            "--share-dir",
            "shares",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    assert!(backup.status.success());
    let passed = restore(&env, &["--check", "--ca", "pki", "--json"], &[1, 4, 5]);
    assert!(passed.status.success(), "{}", text(&passed.stderr));
    let failed = restore(&env, &["--check", "--ca", "pki"], &[2, 3]);
    assert_eq!(failed.status.code(), Some(2));
    let events = env.json("certkit-ca", &["list", "--ca", "pki", "--events", "--json"]);
    let kinds: Vec<(&str, &str)> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["event"].as_str().expect("event"),
                e["result"].as_str().expect("result"),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("backup", ""));
    assert_eq!(kinds[1], ("drill", "passed"));
    assert_eq!(kinds[2].0, "drill");
    assert!(kinds[2].1.starts_with("failed: "), "{kinds:?}");
    let show = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(show["backup_shares"], "3 of 5");
    assert!(
        show["last_drill_result"]
            .as_str()
            .expect("result")
            .starts_with("failed")
    );
    // The audit passes (the trail is part of the hash chain) and warns that the last drill failed.
    let audit = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    let codes: Vec<&str> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains(&"drill-failed"), "{audit}");
    // Nothing any of these printed, and nothing in the CA folder, holds a run of share words.
    let mut printed = String::new();
    for out in [&backup, &passed, &failed] {
        printed.push_str(&text(&out.stdout));
        printed.push_str(&text(&out.stderr));
    }
    printed.push_str(&text(&env.read("pki/inventory.jsonl")));
    for i in 1..=5 {
        let words: Vec<String> = share_words_of(&env, i);
        let run = words[4..8].join(" ");
        assert!(!printed.contains(&run), "share {i}'s words were printed");
    }
}

fn share_words_of(env: &Env, i: usize) -> Vec<String> {
    share_words(env, i).split(' ').map(String::from).collect()
}

#[test]
fn a_ceremony_on_the_terminal_shows_each_share_once_and_checks_it_back() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let ca = bin("certkit-ca").display().to_string();
    let backup = env.tool(
        "python3",
        &[
            &peer("ceremony.py"),
            "backup",
            "shares.json",
            &ca,
            "backup",
            "--ca",
            "pki",
            "--shares",
            "3",
            "--threshold",
            "2",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    let shown = text(&backup.stdout);
    assert!(backup.status.success(), "{shown}{}", text(&backup.stderr));
    assert_contains(
        &shown,
        &[
            "Custodian 3 of 3",
            "it is shown again",
            "Backed up the CA key",
        ],
    );
    // Nothing but the backup file was written.
    assert_eq!(env.listing("."), ["pki", "pki-backup.key", "shares.json"]);
    let shares: Vec<String> =
        serde_json::from_slice(&env.read("shares.json")).expect("shares seen on the screen");
    assert_eq!(shares.len(), 3);
    assert!(shares.iter().all(|s| s.split(' ').count() == 33));
    // What the custodians read off the screen combines in the reference implementation.
    let py = env.tool(
        "python3",
        &[
            "-c",
            "import json, shamir_mnemonic as s\nprint(s.combine_mnemonics(json.load(open('shares.json'))[1:]).hex())",
        ],
    );
    assert!(py.status.success(), "{}", text(&py.stderr));
    // The drill on the terminal: a typo is refused with the nearest word (on the terminal only), a share given
    // twice is refused, and the drill passes.
    std::fs::write(
        env.path("two.json"),
        serde_json::to_vec(&shares[..2]).expect("json"),
    )
    .expect("write");
    let drill = env.tool(
        "python3",
        &[
            &peer("ceremony.py"),
            "restore",
            "two.json",
            &ca,
            "restore",
            "--backup",
            "pki-backup.key",
            "--check",
            "--ca",
            "pki",
        ],
    );
    let shown = text(&drill.stdout);
    assert!(drill.status.success(), "{shown}{}", text(&drill.stderr));
    assert_contains(
        &shown,
        &[
            "is not a SLIP-39 word",
            "did you mean",
            "given twice",
            "Drill passed",
        ],
    );
    let show = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(show["last_drill_result"], "passed");
}

#[test]
fn groups_of_custodians_restore_with_enough_of_enough_groups() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let report = env.json(
        "certkit-ca",
        &[
            "backup",
            "--ca",
            "pki",
            "--group",
            "officers=2-of-3",
            "--group",
            "safe=1-of-1",
            "--group-threshold",
            "2",
            "--share-dir",
            "shares",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    assert_eq!(report["shares"], "2 of [2 of 3, 1 of 1]");
    assert_eq!(
        env.listing("shares"),
        [
            "share-officers-1-of-3.txt",
            "share-officers-2-of-3.txt",
            "share-officers-3-of-3.txt",
            "share-safe-1-of-1.txt"
        ]
    );
    let file = |name: &str| format!("file:shares/share-{name}.txt");
    let drill = |shares: &[&str]| {
        let mut args = vec![
            "restore".to_string(),
            "--backup".into(),
            "pki-backup.key".into(),
            "--check".into(),
        ];
        for share in shares {
            args.push("--share".into());
            args.push(file(share));
        }
        env.run(
            "certkit-ca",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let passed = drill(&["officers-3-of-3", "safe-1-of-1", "officers-1-of-3"]);
    assert!(passed.status.success(), "{}", text(&passed.stderr));
    let officers_only = drill(&["officers-1-of-3", "officers-2-of-3"]);
    assert_eq!(officers_only.status.code(), Some(2));
    assert_contains(&text(&officers_only.stderr), &["1 more needed"]);
    let one_officer = drill(&["officers-2-of-3", "safe-1-of-1"]);
    assert_eq!(one_officer.status.code(), Some(2));
    // The reference implementation combines the same shares to the secret that opens the backup with openssl.
    let words = |name: &str| {
        text(&env.read(&format!("shares/share-{name}.txt")))
            .lines()
            .last()
            .expect("words")
            .to_string()
    };
    let shares = [
        words("officers-1-of-3"),
        words("officers-2-of-3"),
        words("safe-1-of-1"),
    ]
    .join("\n");
    let py = env.tool(
        "python3",
        &[
            "-c",
            "import sys, shamir_mnemonic as s\nprint(s.combine_mnemonics(sys.argv[1].split('\\n')).hex())",
            &shares,
        ],
    );
    assert!(py.status.success(), "{}", text(&py.stderr));
    let pass = format!("pass:{}", text(&py.stdout).trim());
    let key = public_key(
        &env,
        &["pkey", "-in", "pki-backup.key", "-passin", &pass, "-pubout"],
    );
    let cert = public_key(&env, &["x509", "-in", "pki/ca.pem", "-pubkey", "-noout"]);
    assert_eq!(key, cert);
    // A scheme one share could open alone, and a group named twice, are refused before anything is made.
    for (args, expected) in [
        (
            vec![
                "--group",
                "a=1-of-1",
                "--group",
                "b=2-of-2",
                "--group-threshold",
                "1",
            ],
            "one share alone",
        ),
        (
            vec!["--group", "a=2-of-3", "--group", "a=2-of-2"],
            "given twice",
        ),
        (vec!["--group", "a=2of3"], "not a group"),
    ] {
        let mut all = vec![
            "backup",
            "--ca",
            "pki",
            "--out",
            "x.key",
            "--share-dir",
            "x",
        ];
        all.extend(args);
        all.extend(["--ca-pass", "env:CA_PW"]);
        let err = env.fails("certkit-ca", &all, 2);
        assert_contains(&err, &[expected]);
        assert!(!env.path("x.key").exists());
    }
}

#[test]
fn move_key_backs_the_key_up_into_shares_before_it_leaves_the_folder() {
    let env = Env::new();
    common::token::softhsm(&env);
    env.init_ca_with("pki", &["--key", "p256"]);
    let moved = env.json(
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
            "--backup-shares",
            "3",
            "--threshold",
            "2",
            "--share-dir",
            "shares",
            "--json",
        ],
    );
    assert_eq!(moved["key_location"]["storage"], "pkcs11");
    assert_eq!(moved["backup"]["shares"], "2 of 3");
    assert!(!env.path("pki/ca.key").exists());
    let events = env.json("certkit-ca", &["list", "--ca", "pki", "--events", "--json"]);
    assert_eq!(events[0]["event"], "backup");
    // The key on the token cannot be read out; its backup restores it into a file CA that signs what the
    // original certificate trusts.
    env.set_var("NEW_PW", "a new password for the restored key");
    env.ok(
        "certkit-ca",
        &[
            "restore",
            "--backup",
            "pki-backup.key",
            "--ca",
            "restored",
            "--ca-pass",
            "env:NEW_PW",
            "--share",
            "file:shares/share-3-of-3.txt",
            "--share",
            "file:shares/share-2-of-3.txt",
        ],
    );
    signs_what_the_original_trusts(&env);
    // Asking a token CA to back up on a second move is refused before anything is asked for.
    let err = env.fails(
        "certkit-ca",
        &[
            "move-key",
            "--ca",
            "pki",
            "--pkcs11",
            "pkcs11:token=certkit-test;object=Again",
            "--pin",
            "env:TOKEN_PIN",
            "--backup-shares",
            "3",
            "--threshold",
            "2",
            "--share-dir",
            "more",
        ],
        2,
    );
    assert_contains(&err, &["on a token already"]);
}

/// Issues a client certificate `name` from the CA in `dir` (its key opened by `secret`) and checks that openssl
/// verifies it against the original `pki/ca.pem`.
fn issues_for_the_original(env: &Env, dir: &str, secret: &str, name: &str) {
    env.ok(
        "certkit-issue",
        &[
            "client",
            "--ca",
            dir,
            "--cn",
            name,
            "--out",
            name,
            "--key",
            "p256",
            "--ca-pass",
            secret,
            "--key-pass",
            "env:CA_PW",
        ],
    );
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", &format!("{name}.pem")]),
        &[&format!("{name}.pem: OK")],
    );
}

#[test]
fn a_token_ca_is_backed_up_as_it_is_made_and_restores_onto_a_token() {
    let env = Env::new();
    common::token::softhsm(&env);
    let init = |dir: &str, label: &str| {
        env.run(
            "certkit-ca",
            &[
                "init",
                "--ca",
                dir,
                "--cn",
                "Token CA",
                "--key",
                "p256",
                "--pkcs11",
                &format!("pkcs11:token=certkit-test;object={label}"),
                "--ca-pass",
                "env:TOKEN_PIN",
                "--backup-shares",
                "3",
                "--threshold",
                "2",
                "--share-dir",
                &format!("{dir}-shares"),
                "--json",
            ],
        )
    };
    let made = init("pki", "Backed");
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(made.stderr.is_empty(), "{}", text(&made.stderr));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).expect("json");
    assert_eq!(made["key_location"]["storage"], "pkcs11");
    assert_eq!(made["key_location"]["origin"], "imported");
    assert_eq!(made["backup"]["shares"], "2 of 3");
    assert!(
        !env.path("pki/ca.key").exists(),
        "the key never touched the disk"
    );
    for file in [
        "pki-backup.key",
        "pki-shares/share-1-of-3.txt",
        "pki-shares/share-2-of-3.txt",
        "pki-shares/share-3-of-3.txt",
    ] {
        let mode = std::fs::metadata(env.path(file))
            .expect(file)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // The backup is the first record of the CA's trail, and show names the key's kind.
    let events = env.json("certkit-ca", &["list", "--ca", "pki", "--events", "--json"]);
    assert_eq!(events[0]["event"], "backup");
    assert_eq!(events[0]["line"], 1);
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(shown["key_location"]["origin"], "imported");
    assert_contains(
        &env.ok("certkit-ca", &["show", "--ca", "pki"]),
        &["key made    off the token and imported"],
    );
    // On the token the key is sensitive and never leaves it.
    let access = common::token::private_key_access(&env, "Backed");
    assert!(access.contains(&"sensitive".to_string()), "{access:?}");
    assert!(!access.contains(&"extractable".to_string()), "{access:?}");
    issues_for_the_original(&env, "pki", "env:TOKEN_PIN", "alice");

    // Two of the three shares restore the key onto the token under another label: the same CA.
    let restore = |dir: &str, label: &str| {
        env.run(
            "certkit-ca",
            &[
                "restore",
                "--backup",
                "pki-backup.key",
                "--ca",
                dir,
                "--pkcs11",
                &format!("pkcs11:token=certkit-test;object={label}"),
                "--ca-pass",
                "env:TOKEN_PIN",
                "--share",
                "file:pki-shares/share-3-of-3.txt",
                "--share",
                "file:pki-shares/share-1-of-3.txt",
                "--json",
            ],
        )
    };
    let restored = restore("restored", "Restored");
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let restored: serde_json::Value = serde_json::from_slice(&restored.stdout).expect("json");
    assert_eq!(restored["thumbprint"], made["thumbprint"]);
    assert_eq!(restored["key_location"]["origin"], "imported");
    assert!(!env.path("restored/ca.key").exists());
    issues_for_the_original(&env, "restored", "env:TOKEN_PIN", "bob");
    env.ok("certkit-ca", &["audit", "--ca", "restored"]);
    env.ok("certkit-ca", &["audit", "--ca", "pki"]);

    // A label the token holds already is refused before a share is read or a file written.
    let again = restore("again", "Restored");
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert_contains(
        &text(&again.stderr),
        &["holds a key labelled 'Restored' already"],
    );
    assert!(!env.path("again").exists());
    // And before the ceremony of an init: no backup, no share, no folder.
    let taken = init("other", "Backed");
    assert_eq!(taken.status.code(), Some(2), "{}", text(&taken.stderr));
    assert_contains(
        &text(&taken.stderr),
        &["holds a key labelled 'Backed' already"],
    );
    for gone in ["other", "other-backup.key", "other-shares/share-1-of-3.txt"] {
        assert!(!env.path(gone).exists(), "{gone}");
    }
}
