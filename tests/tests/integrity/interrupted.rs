//! Interrupted deliveries, a full disk and a checkpoint that cannot be written: finished by the rerun.

use super::*;

#[test]
fn an_interrupted_delivery_leaves_no_key_behind_once_the_ca_is_used_again() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    killed_while_placing_bob(&env);
    let staged = staged_in(&env, "out");
    assert!(staged.len() >= 3, "{staged:?}");
    // show and list say that undelivered certificates may have left keys behind; audit names the files.
    let shown = env.run("certkit-ca", &["show", "--ca", "pki"]);
    assert_contains(&text(&shown.stderr), &["never delivered", "private keys"]);
    let listed = env.run("certkit-ca", &["list", "--ca", "pki"]);
    assert_contains(&text(&listed.stderr), &["never delivered"]);
    let (_, warnings) = audit_codes(&env, "pki", &[], "warning");
    assert!(
        warnings.contains(&"undelivered-files".to_string()),
        "{warnings:?}"
    );
    // Any command that takes the lock removes what the delivery staged; revoke takes the undelivered one too.
    let serial = env
        .list("pki")
        .iter()
        .find(|e| e["status"] == "undelivered")
        .map(|e| e["serial"].as_str().expect("serial").to_string())
        .expect("undelivered");
    env.ok("certkit-ca", &["revoke", "--ca", "pki", &serial]);
    assert_eq!(staged_in(&env, "out"), Vec::<String>::new());
    assert!(env.list("pki").iter().all(|e| e["status"] != "undelivered"));
}

#[test]
fn the_rerun_of_an_interrupted_delivery_removes_what_it_staged() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    killed_while_placing_bob(&env);
    assert!(!staged_in(&env, "out").is_empty());
    env.issue(&cli(
        "client --ca pki --cn bob --out out/bob --key p256 --pfx",
    ));
    assert_eq!(staged_in(&env, "out"), Vec::<String>::new());
    let mut files = env.listing("out");
    files.sort();
    assert_eq!(files, ["bob.cer", "bob.key", "bob.pem", "bob.pfx"]);
}

#[test]
fn a_full_disk_on_the_last_append_is_finished_by_the_rerun() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    let args = Env::with_passwords(&cli("client --ca pki --cn bob --out bob --key p256"));
    // The second write to the inventory is the "delivered" event; the disk is full there.
    let mut strace = cli(
        "-f -qq -o /dev/null -P pki/inventory.jsonl -e trace=write -e \
        inject=write:error=ENOSPC:when=2",
    );
    let issue = bin("certkit-issue").display().to_string();
    strace.push(&issue);
    strace.extend(args.iter().copied());
    let failed = env.tool("strace", &strace);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert_contains(&text(&failed.stderr), &["No space left on device"]);
    assert!(env.path("bob.cer").exists());
    // The rerun finishes: it reports the certificate the failed run delivered, and issues nothing new.
    let rerun = env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    assert_eq!(
        rerun["thumbprint"],
        env.openssl_thumbprint("bob.cer").as_str()
    );
    let bobs: Vec<_> = env
        .list("pki")
        .into_iter()
        .filter(|e| e["cn"] == "bob")
        .collect();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["status"], "valid");
}

#[test]
fn a_checkpoint_that_cannot_be_written_is_finished_by_the_rerun() {
    let env = Env::new();
    ca_with_alice(&env, &[]);
    let args = Env::with_passwords(&cli("client --ca pki --cn bob --out bob --key p256"));
    // The checkpoint is the one file a single issuance moves into place with renameat (tempfile's replace);
    // the disk is full there.
    let issue = bin("certkit-issue").display().to_string();
    let mut strace = vec![
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=renameat",
        "-e",
        "inject=renameat:error=ENOSPC:when=1",
        &issue,
    ];
    strace.extend(args.iter().copied());
    let failed = env.tool("strace", &strace);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert_contains(
        &text(&failed.stderr),
        &[
            "No space left on device",
            "run the same command again to finish",
        ],
    );
    let rerun = env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
    assert_eq!(
        rerun["thumbprint"],
        env.openssl_thumbprint("bob.cer").as_str()
    );
    assert_eq!(
        env.list("pki").iter().filter(|e| e["cn"] == "bob").count(),
        1
    );
}
