//! Custody beyond one group of shares: groups of custodians, move-key, a token CA backed up as it is made.

use super::*;

#[test]
fn groups_of_custodians_restore_with_enough_of_enough_groups() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let report = env.json(
        "certkit-ca",
        &cli(
            "backup --ca pki --group officers=2-of-3 --group safe=1-of-1 \
            --group-threshold 2 --share-dir shares --ca-pass env:CA_PW --json",
        ),
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
            cli("--group a=1-of-1 --group b=2-of-2 --group-threshold 1"),
            "one share alone",
        ),
        (
            vec!["--group", "a=2-of-3", "--group", "a=2-of-2"],
            "given twice",
        ),
        (vec!["--group", "a=2of3"], "not a group"),
    ] {
        let mut all = cli("backup --ca pki --out x.key --share-dir x");
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
        &cli(
            "move-key --ca pki --pkcs11 pkcs11:token=certkit-test;object=Moved \
            --ca-pass env:CA_PW --pin env:TOKEN_PIN --backup-shares 3 --threshold 2 \
            --share-dir shares --json",
        ),
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
        &cli(
            "restore --backup pki-backup.key --ca restored --ca-pass env:NEW_PW \
            --share file:shares/share-3-of-3.txt --share \
            file:shares/share-2-of-3.txt",
        ),
    );
    signs_what_the_original_trusts(&env);
    // Asking a token CA to back up on a second move is refused before anything is asked for.
    let err = env.fails(
        "certkit-ca",
        &cli(
            "move-key --ca pki --pkcs11 pkcs11:token=certkit-test;object=Again --pin \
            env:TOKEN_PIN --backup-shares 3 --threshold 2 --share-dir more",
        ),
        2,
    );
    assert_contains(&err, &["on a token already"]);
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
