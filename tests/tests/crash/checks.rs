//! What must hold after a kill and after the rerun: every certificate the CA signed is in its inventory, the
//! CA answers the same without its index, the audit passes; and the set-ups the scenarios share.

use std::process::Output;

use super::*;

/// The CA most scenarios start from: a file-key CA with the client `alice` ([`Fixture::FileCa`]).
pub(crate) fn init(env: &Env) {
    env.copy_fixture(Fixture::FileCa);
}

/// The certificates (thumbprints) the CA signed that some file under the folder holds, found by Python
/// `cryptography` (`signed_certs.py`, one process per test thread, asked once per check).
pub(crate) fn signed_in_files(env: &Env) -> Vec<(String, String)> {
    let answer = CERTIFICATE_FINDER.with(|finder| {
        let mut finder = finder.borrow_mut();
        let finder = finder.get_or_insert_with(|| CertificateFinder::start(env));
        finder.ask(env)
    });
    let found: serde_json::Value = serde_json::from_str(&answer).expect("json");
    found
        .as_array()
        .expect("list")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().expect("file").to_string(),
                f["thumbprint"].as_str().expect("thumbprint").to_string(),
            )
        })
        .collect()
}

thread_local! {
    static CERTIFICATE_FINDER: std::cell::RefCell<Option<CertificateFinder>> = const { std::cell::RefCell::new(None) };
}

/// `signed_certs.py --serve`: a folder and a CA certificate in, one JSON line out. Ends when dropped (its
/// input closes).
pub(crate) struct CertificateFinder {
    child: std::process::Child,
    answers: std::io::BufReader<std::process::ChildStdout>,
}

impl CertificateFinder {
    fn start(env: &Env) -> Self {
        let mut child = env
            .command("python3")
            .args([peer("signed_certs.py").as_str(), "--serve"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is required for these tests (scripts/test.sh installs it)");
        let answers = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        Self { child, answers }
    }

    fn ask(&mut self, env: &Env) -> String {
        use std::io::{BufRead, Write};
        let question = format!(
            "{}\t{}\n",
            env.dir.path().display(),
            env.path("pki/ca.pem").display()
        );
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(question.as_bytes())
            .expect("ask signed_certs.py");
        stdin.flush().expect("ask signed_certs.py");
        let mut answer = String::new();
        self.answers
            .read_line(&mut answer)
            .expect("signed_certs.py answers");
        assert!(
            !answer.is_empty(),
            "signed_certs.py ended (see its error above)"
        );
        answer
    }
}

impl Drop for CertificateFinder {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub(crate) fn check_invariants(env: &Env, when: &str) {
    let recorded: HashSet<String> = env
        .list("pki")
        .iter()
        .map(|e| e["thumbprint"].as_str().expect("thumbprint").to_string())
        .collect();
    for (file, thumbprint) in signed_in_files(env) {
        assert!(
            recorded.contains(&thumbprint),
            "{when}: {file} holds certificate {thumbprint}, signed by the CA but not in its inventory"
        );
    }
    let audit = env.run("certkit-ca", &["audit", "--ca", "pki"]);
    assert!(
        audit.status.success(),
        "{when}: the audit fails:\n{}{}",
        text(&audit.stdout),
        text(&audit.stderr)
    );
}

/// What the CA says about its certificates: each one's serial, thumbprint, status, renewal and revocation,
/// and the counts `show` gives.
pub(crate) fn answers(env: &Env, ca: &str) -> (Vec<String>, serde_json::Value) {
    let rows = env
        .list(ca)
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["serial"], e["thumbprint"], e["status"], e["renewal_of"], e["revocation_reason"]
            )
        })
        .collect();
    let show = env.json("certkit-ca", &["show", "--ca", ca, "--json"]);
    let counts = ["issued", "valid", "revoked", "expired", "undelivered"]
        .map(|count| show[count].clone())
        .to_vec();
    (rows, serde_json::Value::Array(counts))
}

/// The CA answers the same with the index a kill left (whole, half-written, or behind the log) as a copy of
/// it without an index, which builds one from the log.
pub(crate) fn same_answers_without_the_index(env: &Env, when: &str) {
    let copied = env.tool("cp", &["-a", "pki", "bare"]);
    assert!(copied.status.success());
    for leftover in ["index.sqlite", "index.sqlite-journal"] {
        let _ = std::fs::remove_file(env.path(&format!("bare/{leftover}")));
    }
    let with_index = answers(env, "pki");
    let without = answers(env, "bare");
    std::fs::remove_dir_all(env.path("bare")).expect("rm");
    assert_eq!(
        with_index, without,
        "{when}: the CA answers differently with its index than without"
    );
}

/// The valid certificates recorded for `cn`.
pub(crate) fn valid(env: &Env, cn: &str) -> Vec<serde_json::Value> {
    env.list("pki")
        .into_iter()
        .filter(|e| e["cn"] == cn && e["status"] == "valid")
        .collect()
}

/// The CA in `pki` ends re-keyed and signing (`ca_pass` unlocks it): its certificate's key is not
/// `first.pem`'s, what the first key signed (`alice.pem`) still verifies under `first.pem`, a client issued now
/// verifies under the new certificate, and it signs a CRL.
pub(crate) fn rekeyed_and_signing(env: &Env, ca_pass: &str) {
    let key = |file: &str| env.openssl_ok(&["x509", "-in", file, "-noout", "-pubkey"]);
    assert_ne!(key("first.pem"), key("pki/ca.pem"), "re-keyed");
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "first.pem", "alice.pem"]),
        &["alice.pem: OK"],
    );
    let mut issue = cli("client --ca pki --cn after --out after --key p256 --ca-pass");
    issue.push(ca_pass);
    env.issue(&issue);
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "after.pem"]),
        &["after.pem: OK"],
    );
    env.ok("certkit-ca", &["crl", "--ca", "pki", "--ca-pass", ca_pass]);
}

/// The valid renewals, among the inventory's `list`, of the certificate in `file`.
pub(crate) fn valid_renewals<'a>(
    env: &Env,
    list: &'a [serde_json::Value],
    file: &str,
) -> Vec<&'a serde_json::Value> {
    let old = env.openssl_thumbprint(file);
    let old_serial = list
        .iter()
        .find(|e| e["thumbprint"] == old.as_str())
        .map(|e| e["serial"].clone())
        .expect("the renewed certificate is recorded");
    list.iter()
        .filter(|e| e["renewal_of"] == old_serial && e["status"] == "valid")
        .collect()
}

/// After a rerun of a single issuance to PREFIX: it succeeded (when the killed run had delivered everything
/// but not finished, by reporting that delivery), or, when the killed run had finished its work (its checkpoint
/// covers the certificate) and was only printing, it refused to overwrite; either way exactly one valid
/// certificate is the one in PREFIX.cer, and no file the killed run staged is left beside it.
pub(crate) fn one_delivered(env: &Env, rerun: &Output, cn: &str, prefix: &str) {
    if !rerun.status.success() {
        assert_contains(&text(&rerun.stderr), &["exists already"]);
        let checkpoint: serde_json::Value =
            serde_json::from_slice(&env.read("pki/checkpoint.json")).expect("checkpoint");
        let recorded_on = String::from_utf8_lossy(&env.read("pki/inventory.jsonl"))
            .lines()
            .position(|l| {
                l.contains("\"event\":\"issued\"") && l.contains(&format!("\"cn\":\"{cn}\""))
            })
            .expect("the record")
            + 1;
        assert!(
            checkpoint["count"].as_u64().expect("count") >= recorded_on as u64,
            "the rerun refused although the killed run had not finished: {}",
            text(&rerun.stderr)
        );
    }
    let folder = std::path::Path::new(prefix)
        .parent()
        .and_then(|p| p.to_str())
        .unwrap_or(".");
    let staged: Vec<String> = env
        .listing(folder)
        .into_iter()
        .filter(|n| n.starts_with(".certkit-"))
        .collect();
    assert!(staged.is_empty(), "left in {folder}: {staged:?}");
    let valid = valid(env, cn);
    assert_eq!(valid.len(), 1, "{valid:?}");
    assert_eq!(
        valid[0]["thumbprint"],
        env.openssl_thumbprint(&format!("{prefix}.cer")).as_str()
    );
}

/// Every CA certificate the inventory records for the CA itself is one of its lineage (`audit`'s history) or
/// revoked: a re-key killed after recording "new key signed by the old" must not leave a valid CA certificate
/// for a key the CA never took (issue 29, 5).
pub(crate) fn every_ca_certificate_is_the_cas_or_revoked(env: &Env) {
    // And no temporary file of the killed run is left in any folder it wrote (issue 29, 14).
    for dir in ["pki", "pki/keys", "pki/history"] {
        for entry in std::fs::read_dir(env.path(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".certkit-"),
                "{dir}/{name} was left behind"
            );
        }
    }
    let audit = env.json("certkit-ca", &["audit", "--ca", "pki", "--json"]);
    let lineage: HashSet<&str> = audit["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["thumbprint"].as_str().expect("thumbprint"))
        .collect();
    for row in env.list("pki") {
        if row["profile"] == "ca" && row["status"] != "revoked" {
            let thumbprint = row["thumbprint"].as_str().expect("thumbprint");
            assert!(
                lineage.contains(thumbprint),
                "a valid CA certificate outside the CA's lineage: {row}"
            );
        }
    }
}

/// `certkit-ca ARGS` run as if it were `shift` from now (libfaketime), e.g. "-400 days".
pub(crate) fn ca_at(env: &Env, shift: &str, args: &[&str]) {
    let program = bin("certkit-ca");
    let mut all = vec![shift, program.to_str().expect("path")];
    all.extend_from_slice(args);
    let out = env
        .command("faketime")
        .args(&all)
        .output()
        .expect("faketime");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// The key moved onto the token: ca.key is gone, and the token signs what the CA certificate trusts.
pub(crate) fn moved_key_signs(env: &Env) {
    assert!(!env.path("pki/ca.key").exists());
    env.issue(&cli(
        "client --ca pki --cn after --out after --key p256 --ca-pass env:TOKEN_PIN",
    ));
    assert_contains(
        &env.openssl_ok(&cli("verify -x509_strict -CAfile pki/ca.pem after.pem")),
        &["after.pem: OK"],
    );
}

/// A backup, if its file exists, has every share beside it, and two of them open it.
pub(crate) fn backup_whole_or_absent(env: &Env, when: &str) {
    if !env.path("pki-backup.key").exists() {
        return;
    }
    for i in 1..=3 {
        assert!(
            env.path(&format!("shares/share-{i}-of-3.txt")).exists(),
            "{when}: the backup exists without share {i}"
        );
    }
    env.ok(
        "certkit-ca",
        &cli("restore --backup pki-backup.key --check --share \
            file:shares/share-3-of-3.txt --share file:shares/share-1-of-3.txt"),
    );
}

/// The folder a restore makes, if it exists, is the whole CA: its certificate, a key that signs, its record.
pub(crate) fn restored_whole_or_absent(env: &Env, when: &str) {
    if !env.path("restored").exists() {
        return;
    }
    assert_eq!(
        env.read("restored/ca.pem"),
        env.read("pki/ca.pem"),
        "{when}"
    );
    let audit = env.run("certkit-ca", &["audit", "--ca", "restored"]);
    assert!(audit.status.success(), "{when}: {}", text(&audit.stdout));
    let events = env.json(
        "certkit-ca",
        &["list", "--ca", "restored", "--events", "--json"],
    );
    assert_eq!(events[0]["event"], "restore", "{when}");
}

/// The token CA an init or a restore made, if its folder exists, is whole: it audits clean, its trail starts
/// with the custody step, and its key on the token signs what the CA certificate `ca_pem` trusts.
pub(crate) fn token_ca_whole_or_absent(
    env: &Env,
    dir: &str,
    ca_pem: &str,
    first_event: &str,
    when: &str,
) {
    if !env.path(dir).exists() {
        return;
    }
    let audit = env.run("certkit-ca", &["audit", "--ca", dir]);
    assert!(audit.status.success(), "{when}: {}", text(&audit.stdout));
    let events = env.json("certkit-ca", &["list", "--ca", dir, "--events", "--json"]);
    assert_eq!(events[0]["event"], first_event, "{when}");
    assert!(!env.path(&format!("{dir}/ca.key")).exists(), "{when}");
    env.issue(&[
        "client",
        "--ca",
        dir,
        "--cn",
        "after",
        "--out",
        "after",
        "--key",
        "p256",
        "--ca-pass",
        "env:TOKEN_PIN",
    ]);
    assert_contains(
        &env.openssl_ok(&["verify", "-CAfile", ca_pem, "after.pem"]),
        &["after.pem: OK"],
    );
    for ext in ["cer", "pem", "key"] {
        std::fs::remove_file(env.path(&format!("after.{ext}"))).expect("rm");
    }
}

/// Every OCSP window file in `ocsp/` is recorded in the log (by its SHA-256): a window is recorded before it
/// is put in place, so a kill never leaves a file a responder would serve that the CA has no record of.
pub(crate) fn window_files_recorded(env: &Env, point: &str) {
    if !env.path("ocsp").is_dir() {
        return;
    }
    let log = text(&env.read("pki/inventory.jsonl"));
    for name in env.listing("ocsp") {
        if !name.ends_with(".resp") {
            continue;
        }
        let sha = sha256_hex(&env.read(&format!("ocsp/{name}")));
        assert!(
            log.contains(&format!("\"sha256\":\"{sha}\"")),
            "{point}: ocsp/{name} is in place but not in the log"
        );
    }
}
