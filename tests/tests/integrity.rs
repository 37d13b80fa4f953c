//! The CA folder as a whole, played against an intruder who can write to it but has no CA key, and against
//! the accidents that must not cost a CA: two `init` runs racing for one folder, outputs aimed into the folder,
//! a forged record, a planted `ca.json`, a rolled-back folder.

mod common;

use std::process::Stdio;

use common::*;

#[test]
fn two_inits_racing_for_one_new_folder_make_one_ca_and_remove_nothing() {
    let env = Env::new();
    for round in 0..20 {
        let dir = format!("r{round}");
        let start = || {
            env.cmd("certkit-ca")
                .args(["init", "--ca", &dir, "--cn", "Race CA", "--key", "p256"])
                .args(["--ca-pass", "env:CA_PW", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn init")
        };
        let (a, b) = (start(), start());
        let outs = [
            a.wait_with_output().expect("init"),
            b.wait_with_output().expect("init"),
        ];
        let won: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(won.len(), 1, "round {round}: {outs:?}");
        let lost = outs.iter().find(|o| !o.status.success()).expect("loser");
        assert_eq!(lost.status.code(), Some(1), "{}", text(&lost.stderr));
        assert_contains(&text(&lost.stderr), &["already holds a CA"]);
        // The winner's CA is whole: its key opens, and it signs.
        let made: serde_json::Value = serde_json::from_slice(&won[0].stdout).expect("json");
        assert!(
            env.path(&format!("{dir}/ca.key")).is_file(),
            "round {round}"
        );
        assert_eq!(
            env.openssl_thumbprint(&format!("{dir}/ca.cer")),
            made["thumbprint"].as_str().expect("thumbprint")
        );
        // No staging folder is left beside it.
        let stray: Vec<String> = env
            .listing(".")
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }
    env.issue(&[
        "client", "--ca", "r0", "--cn", "after", "--out", "after", "--key", "p256",
    ]);
}

#[test]
fn a_failed_init_into_an_existing_empty_folder_leaves_the_folder() {
    let env = Env::new();
    std::fs::create_dir(env.path("mine")).expect("mkdir");
    std::fs::write(env.path("mine/README"), "my notes").expect("write");
    // No password source and no terminal: init fails before anything is made.
    env.fails(
        "certkit-ca",
        &["init", "--ca", "mine", "--cn", "X", "--key", "p256"],
        2,
    );
    assert_eq!(env.read("mine/README"), b"my notes");
    env.init_ca_with("mine", &["--key", "p256"]);
    assert_eq!(env.read("mine/README"), b"my notes");
}
