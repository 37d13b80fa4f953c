//! Key custody: `certkit-ca backup` splits the secret of an encrypted key backup into SLIP-39 shares, and
//! `certkit-ca restore` gathers them again. Checked with independent tools: Trezor's reference implementation
//! (`shamir recover`, Python `shamir_mnemonic`) and the openssl CLI open what certkit made, and shares Python
//! makes restore in certkit.

#[path = "../common/mod.rs"]
mod common;
mod groups_and_tokens;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// A P-256 CA with one client, backed up 3 of 5 into share files.
fn backed_up() -> (Env, serde_json::Value) {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
    let report = env.json(
        "certkit-ca",
        &cli(
            "backup --ca pki --shares 5 --threshold 3 --share-dir shares --ca-pass \
            env:CA_PW --json",
        ),
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
        &cli(
            "client --ca restored --cn bob --out bob --key p256 --ca-pass env:NEW_PW \
            --key-pass env:NEW_PW",
        ),
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
    env.openssl_ok(&cli("pkey -in restored/ca.key -passin env:NEW_PW -noout"));
    assert!(
        !env.openssl(&cli("pkey -in restored/ca.key -passin env:CA_PW -noout"))
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
        &cli("restore --backup pki-backup.key --check --share env:SHARE_A --share env:SHARE_B"),
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
        &cli(
            "backup --ca pki --shares 3 --threshold 2 --out other.key --share-dir \
            other --ca-pass env:CA_PW",
        ),
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
        &cli(
            "restore --backup damaged.key --ca new --ca-pass env:NEW_PW --share \
            file:shares/share-1-of-5.txt",
        ),
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
        &cli("backup --ca pki --shares 5 --threshold 3 --share-dir shares --ca-pass env:CA_PW"),
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
        &cli("'is not a SLIP-39 word' 'did you mean' 'given twice' 'Drill passed'"),
    );
    let show = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(show["last_drill_result"], "passed");
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
