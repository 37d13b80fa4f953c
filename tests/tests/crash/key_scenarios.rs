//! The scenarios of commands that move or keep the CA key: retire-key, a token re-key, move-key, backup and
//! restore (to a file or a token).

use super::*;

pub(crate) const RETIRE_KEY: Scenario = Scenario {
    name: "retire-key",
    setup: |env| {
        // A CA made 400 days ago for 390 days, re-keyed 20 days ago: the old key's certificate (and with it
        // everything the old key signed) has ended, so the old key can be retired now.
        ca_at(
            env,
            "-400 days",
            &cli("init --ca pki --cn 'Crash CA' --key p256 --days 390 --ca-pass env:CA_PW"),
        );
        ca_at(
            env,
            "-20 days",
            &["rekey", "--ca", "pki", "--ca-pass", "env:CA_PW", "--json"],
        );
        let settings: serde_json::Value =
            serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
        let old = settings["earlier_keys"][0]["key_id"]
            .as_str()
            .expect("old key");
        std::fs::write(env.path("old-key-id"), old).expect("write");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "retire-key --ca pki --key-id @old-key-id --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        let old = String::from_utf8(env.read("old-key-id")).expect("id");
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert!(!env.path(&format!("pki/keys/{old}.key")).exists());
        let settings: serde_json::Value =
            serde_json::from_slice(&env.read("pki/ca.json")).expect("ca.json");
        assert!(settings.get("earlier_keys").is_none(), "{settings}");
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

pub(crate) const REKEY_TOKEN: Scenario = Scenario {
    name: "rekey (on a token)",
    setup: |env| {
        env.copy_fixture(Fixture::TokenCa);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: "rekey --ca pki --pkcs11 pkcs11:token=certkit-test;object=CA-2 --ca-pass \
        env:TOKEN_PIN",
    after_rerun: |env, rerun| {
        // A key the killed run made on the token stays there (certkit never deletes a token key it may have
        // recorded): the rerun says the label is taken, and a re-key under another label completes. Either
        // way the CA signed all along (the audit after the kill passed) and ends re-keyed.
        if !rerun.status.success() {
            assert_contains(
                &text(&rerun.stderr),
                &["holds a key labelled 'CA-2' already"],
            );
            env.ok(
                "certkit-ca",
                &cli(
                    "rekey --ca pki --pkcs11 pkcs11:token=certkit-test;object=CA-3 --ca-pass \
                    env:TOKEN_PIN",
                ),
            );
        }
        rekeyed_and_signing(env, "env:TOKEN_PIN");
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

pub(crate) const MOVE_KEY: Scenario = Scenario {
    name: "move-key",
    setup: |env| {
        token::softhsm(env);
        init(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: "move-key --ca pki --pkcs11 pkcs11:token=certkit-test;object=Moved \
        --ca-pass env:CA_PW --pin env:TOKEN_PIN",
    after_rerun: |env, rerun| {
        // The rerun finishes the move, or says there is nothing left to move when the killed run had done it.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["on a token already"]);
        }
        moved_key_signs(env);
    },
};

pub(crate) const BACKUP: Scenario = Scenario {
    name: "backup",
    setup: init,
    prepare: |_| {},
    bin: "certkit-ca",
    args: "backup --ca pki --shares 3 --threshold 2 --share-dir shares --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // The rerun makes the backup, or refuses to overwrite what the killed run left.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["exists; certkit never overwrites"]);
        }
        backup_whole_or_absent(env, "after the rerun");
    },
};

pub(crate) const RESTORE: Scenario = Scenario {
    name: "restore",
    setup: |env| {
        init(env);
        env.ok(
            "certkit-ca",
            &cli(
                "backup --ca pki --shares 3 --threshold 2 --share-dir shares --ca-pass \
                env:CA_PW",
            ),
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "restore --backup pki-backup.key --ca restored --ca-pass env:CA_PW \
        --share file:shares/share-1-of-3.txt --share \
        file:shares/share-2-of-3.txt",
    after_rerun: |env, rerun| {
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already holds a CA"]);
        }
        restored_whole_or_absent(env, "after the rerun");
        env.issue(&cli(
            "client --ca restored --cn after --out after --key p256",
        ));
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "after.pem"]),
            &["after.pem: OK"],
        );
        // The restored folder keeps its own inventory, which the original's checks do not read.
        for ext in ["cer", "pem", "key"] {
            std::fs::remove_file(env.path(&format!("after.{ext}"))).expect("rm");
        }
        std::fs::remove_dir_all(env.path("restored")).expect("rm");
    },
};

pub(crate) const MOVE_KEY_BACKUP: Scenario = Scenario {
    name: "move-key --backup-shares",
    setup: |env| {
        token::softhsm(env);
        init(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: "move-key --ca pki --pkcs11 pkcs11:token=certkit-test;object=Moved \
        --ca-pass env:CA_PW --pin env:TOKEN_PIN --backup-shares 3 --threshold 2 \
        --share-dir shares",
    after_rerun: |env, rerun| {
        // The rerun backs up and moves; or refuses to overwrite the backup the killed run made (the move is then
        // finished without a second backup); or says the key has moved already.
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            if err.contains("exists; certkit never overwrites") {
                backup_whole_or_absent(env, "after the refused rerun");
                env.ok(
                    "certkit-ca",
                    &cli(
                        "move-key --ca pki --pkcs11 pkcs11:token=certkit-test;object=Moved \
                        --ca-pass env:CA_PW --pin env:TOKEN_PIN",
                    ),
                );
            } else {
                assert_contains(&err, &["on a token already"]);
            }
        }
        moved_key_signs(env);
        backup_whole_or_absent(env, "after the rerun");
    },
};

pub(crate) const INIT_TOKEN_BACKUP: Scenario = Scenario {
    name: "init --pkcs11 --backup-shares",
    setup: token::softhsm,
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: "init --ca pki --cn 'Crash CA' --key p256 --pkcs11 \
        pkcs11:token=certkit-test;object=Made --ca-pass env:TOKEN_PIN \
        --backup-shares 3 --threshold 2 --share-dir shares",
    after_rerun: |env, rerun| {
        // A killed ceremony leaves shares or a backup for a CA that never came to be, or a key on the token
        // under the label: the rerun refuses to overwrite or reuse either, and makes nothing.
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            assert!(
                err.contains("exists; certkit never overwrites")
                    || err.contains("holds a key labelled 'Made' already")
                    || (env.path("pki").exists() && err.contains("already holds a CA")),
                "{err}"
            );
        }
        token_ca_whole_or_absent(env, "pki", "pki/ca.pem", "backup", "after the rerun");
    },
};

pub(crate) const RESTORE_TOKEN: Scenario = Scenario {
    name: "restore --pkcs11",
    setup: |env| {
        token::softhsm(env);
        (RESTORE.setup)(env);
    },
    prepare: token::use_tokens_in,
    bin: "certkit-ca",
    args: "restore --backup pki-backup.key --ca restored --pkcs11 \
        pkcs11:token=certkit-test;object=Restored --ca-pass env:TOKEN_PIN \
        --share file:shares/share-1-of-3.txt --share \
        file:shares/share-2-of-3.txt",
    after_rerun: |env, rerun| {
        // A restore killed after the import leaves the key on the token under the label: the rerun says so
        // (another label restores it again from the same shares).
        if !rerun.status.success() {
            let err = text(&rerun.stderr);
            assert!(
                err.contains("holds a key labelled 'Restored' already")
                    || (env.path("restored").exists() && err.contains("already holds a CA")),
                "{err}"
            );
        }
        token_ca_whole_or_absent(env, "restored", "pki/ca.pem", "restore", "after the rerun");
        // The restored folder keeps its own inventory, which the original's checks do not read.
        if env.path("restored").exists() {
            std::fs::remove_dir_all(env.path("restored")).expect("rm");
        }
    },
};
