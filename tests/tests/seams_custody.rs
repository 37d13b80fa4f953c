//! The seams of custody with the rest (issue 29): the backup's header proven by its shares, an issuing CA restored
//! whole, another split of the same secret, a backup from before a renewal, custody facts per key, a backup killed
//! while placing its files. Numbers are the review's.

mod common;

use common::*;

// Custody at the seams: 7 (the header taken on trust), 8 (an issuing CA restored as a root), 12 (another split
// of the same secret refused), 15 (a backup made before a renewal refused by the drill).

/// A backup of the CA in `ca`, 2 of 3, shares in `ca-shares/`; returns its JSON.
fn backup(env: &Env, ca: &str) -> serde_json::Value {
    env.json(
        "certkit-ca",
        &[
            "backup",
            "--ca",
            ca,
            "--shares",
            "3",
            "--threshold",
            "2",
            "--share-dir",
            &format!("{ca}-shares"),
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    )
}

/// `restore --backup BACKUP` with shares 1 and 2 of `ca`'s backup and `extra` flags.
fn restore_with(env: &Env, ca: &str, backup: &str, extra: &[&str]) -> std::process::Output {
    let shares = [1, 2].map(|i| format!("file:{ca}-shares/share-{i}-of-3.txt"));
    let mut args = vec![
        "restore", "--backup", backup, "--share", &shares[0], "--share", &shares[1],
    ];
    args.extend_from_slice(extra);
    env.run("certkit-ca", &args)
}

#[test]
fn a_backup_header_is_proven_by_the_shares_and_an_issuing_ca_comes_back_whole() {
    let env = Env::new();
    env.root_and_issuing(
        "root",
        "issuing",
        &["--permit-dns", "example.com"],
        &cli("--crl-url http://pki.example.com/issuing.crl --aia-url \
            http://pki.example.com/issuing.cer"),
    );
    backup(&env, "issuing");
    // 8. Restored: chain, parent and AIA URL come back; the root's constraints still bind it.
    let out = restore_with(
        &env,
        "issuing",
        "issuing-backup.key",
        &["--ca", "restored", "--ca-pass", "env:CA_PW"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stdout),
        &[
            "http://pki.example.com/issuing.crl",
            "http://pki.example.com/issuing.cer",
            "CN=Test CA",
        ],
    );
    assert_eq!(
        env.read("restored/chain.pem"),
        env.read("issuing/chain.pem")
    );
    let settings: serde_json::Value =
        serde_json::from_slice(&env.read("restored/ca.json")).expect("json");
    let original: serde_json::Value =
        serde_json::from_slice(&env.read("issuing/ca.json")).expect("json");
    for field in ["parent", "aia_url", "crl_url"] {
        assert_eq!(settings[field], original[field], "{field}");
    }
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "server --ca restored --cn www.other.org --key p256 --out evil",
        )),
        2,
    );
    assert_contains(&err, &["name constraint"]);
    env.issue(&cli(
        "server --ca restored --cn www.example.com --key p256 --out ok",
    ));
    env.openssl_ok(&cli(
        "verify -x509_strict -CAfile root/ca.pem -untrusted restored/ca.pem ok.pem",
    ));
    // 7. The intruder changes the CRL URL in the header (and fixes the checksum): refused once the shares open it.
    let pristine = env.read("issuing-backup.key");
    edit_backup(&env, "issuing-backup.key", &|t| {
        t.replace(
            "crl-url: http://pki.example.com/",
            "crl-url: http://evil.example.org/",
        )
    });
    for extra in [
        vec!["--check"],
        vec!["--ca", "restored2", "--ca-pass", "env:CA_PW"],
    ] {
        let out = restore_with(&env, "issuing", "issuing-backup.key", &extra);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{extra:?}: {}",
            text(&out.stdout)
        );
        assert_contains(&text(&out.stderr), &["header-mac"]);
    }
    assert!(!env.path("restored2").exists());
    // A chain swapped for another root's is refused the same way.
    std::fs::write(env.path("issuing-backup.key"), &pristine).expect("put back");
    env.init_ca_with("other", &["--key", "p256"]);
    let other_root = String::from_utf8(env.read("other/ca.pem")).expect("pem");
    edit_backup(&env, "issuing-backup.key", &|t| {
        let root = t.rfind("-----BEGIN CERTIFICATE-----").expect("root");
        format!("{}{other_root}", &t[..root])
    });
    let out = restore_with(
        &env,
        "issuing",
        "issuing-backup.key",
        &["--ca", "restored3", "--ca-pass", "env:CA_PW"],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(!env.path("restored3").exists());
    // A backup made before the MAC (no header-mac line): restored with a warning, its settings checked as init
    // checks them.
    std::fs::write(env.path("issuing-backup.key"), &pristine).expect("put back");
    let unproven = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("header-mac: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    edit_backup(&env, "issuing-backup.key", &unproven);
    let out = restore_with(&env, "issuing", "issuing-backup.key", &["--check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["before backups carried a MAC"]);
    edit_backup(&env, "issuing-backup.key", &|t| {
        t.replace(
            "crl-url: http://pki.example.com/issuing.crl",
            "crl-url: javascript:alert(1)",
        )
    });
    let out = restore_with(
        &env,
        "issuing",
        "issuing-backup.key",
        &["--ca", "restored4", "--ca-pass", "env:CA_PW"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!env.path("restored4").exists());
}

#[test]
fn another_split_of_the_secret_and_a_backup_from_before_a_renewal_still_open() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let made = backup(&env, "pki");
    // 12. The reference implementation splits the same secret again (a new identifier): the shares open it.
    let two = [1, 2].map(|i| {
        text(&env.read(&format!("pki-shares/share-{i}-of-3.txt")))
            .lines()
            .last()
            .expect("words")
            .to_string()
    });
    let py = env.tool(
        "python3",
        &[
            "-c",
            "import sys, shamir_mnemonic as s\n\
             secret = s.combine_mnemonics(sys.argv[1:3])\n\
             for m in s.generate_mnemonics(1, [(2, 3)], secret)[0]: print(m)",
            &two[0],
            &two[1],
        ],
    );
    assert!(py.status.success(), "{}", text(&py.stderr));
    let theirs: Vec<String> = text(&py.stdout).lines().map(String::from).collect();
    env.set_var("SHARE_A", &theirs[0]);
    env.set_var("SHARE_B", &theirs[2]);
    let args = [
        "restore",
        "--backup",
        "pki-backup.key",
        "--check",
        "--ca",
        "pki",
        "--share",
        "env:SHARE_A",
        "--share",
        "env:SHARE_B",
    ];
    let out = env.run("certkit-ca", &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stderr),
        &[
            "another split of the same secret",
            &format!("split {}", made["split"]),
        ],
    );
    // Shares of another secret still do not open it.
    let py = env.tool("python3", &["-c", "import shamir_mnemonic as s, os\nfor m in s.generate_mnemonics(1, [(2, 3)], os.urandom(32))[0]: print(m)"]);
    let foreign: Vec<String> = text(&py.stdout).lines().map(String::from).collect();
    env.set_var("SHARE_A", &foreign[0]);
    env.set_var("SHARE_B", &foreign[1]);
    let out = env.run("certkit-ca", &args);
    assert_ne!(out.status.code(), Some(0));
    // 15. The CA renewed (same key): the drill of the older backup passes and says what it holds.
    env.ok(
        "certkit-ca",
        &["renew", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let out = restore_with(&env, "pki", "pki-backup.key", &["--check", "--ca", "pki"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["earlier certificate of this CA"]);
}

// 9. After `rekey`, `show` and `status` reported the old key's backup as the current key's.

#[test]
fn custody_facts_belong_to_a_key_and_a_new_key_has_no_backup_yet() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    backup(&env, "pki");
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert!(shown["last_backup"].is_string(), "{shown}");
    env.ok(
        "certkit-ca",
        &["rekey", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert!(
        shown["last_backup"].is_null(),
        "the old key's backup shown as the new key's: {shown}"
    );
    assert_contains(
        &env.ok("certkit-ca", &["show", "--ca", "pki"]),
        &["none in shares"],
    );
    // status has no drill to ask for: the new key was never backed up.
    let status = env.json("certkit-ca", &["status", "--ca", "pki", "--json"]);
    assert!(
        !status["facts"]
            .as_array()
            .expect("facts")
            .iter()
            .any(|f| f["check"] == "drill"),
        "{status}"
    );
    // The log keeps both steps, each naming its key.
    std::fs::remove_dir_all(env.path("pki-shares")).expect("rm");
    std::fs::rename(env.path("pki-backup.key"), env.path("old-backup.key")).expect("mv");
    backup(&env, "pki");
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert!(shown["last_backup"].is_string(), "{shown}");
    let log = text(&env.read("pki/inventory.jsonl"));
    assert_eq!(log.matches("\"key_id\"").count(), 2, "{log}");
}

// 21. `backup` killed while placing its files: show reported a backup that was not there, the rerun refused.

#[test]
fn a_backup_killed_while_placing_its_files_is_said_and_the_rerun_makes_one() {
    use std::os::unix::process::ExitStatusExt;
    let env = Env::new();
    env.init_ca_with("template", &["--key", "p256"]);
    let mut killed_with_shares_out = 0;
    for n in 1.. {
        let ca = format!("pki{n}");
        assert!(env.tool("cp", &["-a", "template", &ca]).status.success());
        let shares = format!("{ca}-shares");
        let args = [
            "backup",
            "--ca",
            &ca,
            "--shares",
            "3",
            "--threshold",
            "2",
            "--share-dir",
            &shares,
            "--ca-pass",
            "env:CA_PW",
        ];
        let run = env.killed_at("renameat2", n, "certkit-ca", &args);
        if run.status.signal() != Some(9) {
            assert!(run.status.success(), "{}", text(&run.stderr));
            break;
        }
        let backup_file = format!("{ca}-backup.key");
        let recorded = text(&env.read(&format!("{ca}/inventory.jsonl"))).contains("\"backup\"");
        if recorded && !env.path(&backup_file).exists() {
            let shown = env.ok("certkit-ca", &["show", "--ca", &ca]);
            assert_contains(&shown, &["which is not there now"]);
            if env.path(&shares).is_dir()
                && std::fs::read_dir(env.path(&shares)).expect("dir").count() > 0
            {
                killed_with_shares_out += 1;
            }
        }
        // The rerun makes a whole backup, whatever the kill left.
        let rerun = env.run("certkit-ca", &args);
        assert!(
            rerun.status.success(),
            "killed at rename {n}: {}",
            text(&rerun.stderr)
        );
        assert!(env.path(&backup_file).exists());
        let out = restore_with_files(&env, &shares, &backup_file);
        assert!(
            out.status.success(),
            "killed at rename {n}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        killed_with_shares_out > 0,
        "no kill fell between the share files and the backup file"
    );
}

fn restore_with_files(env: &Env, shares: &str, backup: &str) -> std::process::Output {
    let given = [1, 2].map(|i| format!("file:{shares}/share-{i}-of-3.txt"));
    env.run(
        "certkit-ca",
        &[
            "restore", "--backup", backup, "--check", "--share", &given[0], "--share", &given[1],
        ],
    )
}
