//! Test harness: a temporary workspace, the built certkit binaries, and the independent peers
//! (openssl CLI, Java keytool, Python cryptography) that check what they wrote.
#![allow(dead_code, missing_docs)]

pub mod der;
pub mod fixtures;
pub mod legacy_ca;
pub mod servers;
pub mod token;

#[allow(unused_imports)]
pub use fixtures::Fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const CA_PW: &str = "ca password 0123";
pub const KEY_PW: &str = "key password 0123";
pub const PFX_PW: &str = "pfx password 0123";
/// The PBKDF2 iterations the test binaries (debug builds) encrypt key files with, through
/// `CERTKIT_DEBUG_KDF_ITERATIONS`: 600,000 for each of the thousands of keys the tests write and unlock were
/// most of the suite's time (docs/testing.md). Release builds ignore the variable; the test that pins the
/// default, `inspect`'s `csrs_crls_and_keys_are_recognised_and_unreadable_input_is_exit_2`, unsets it.
pub const TEST_KDF_ITERATIONS: &str = "1000";

/// Folder of the built binaries: the parent of `deps/` that holds this test executable.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// A built certkit binary; tells how to build it when it is missing.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh (it builds the binaries before testing)",
        path.display()
    );
    path
}

/// A command line as a user types it, split into its arguments: words are separated by spaces, and a word in
/// single quotes keeps its spaces (`cli("init --ca pki --cn 'Crash CA' --key p256")`). There is no other
/// quoting and no escape.
pub fn cli(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut rest = line.trim_start_matches(' ');
    while !rest.is_empty() {
        let (word, after) = match rest.strip_prefix('\'') {
            Some(quoted) => {
                let end = quoted
                    .find('\'')
                    .unwrap_or_else(|| panic!("a quote is not closed in {line:?}"));
                (&quoted[..end], &quoted[end + 1..])
            }
            None => rest.split_at(rest.find(' ').unwrap_or(rest.len())),
        };
        words.push(word);
        rest = after.trim_start_matches(' ');
    }
    words
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary folder for one test. When the test ends (and passed so far), every CA folder in it is audited
/// with `certkit-ca audit`, so every test doubles as a check that certkit keeps its CAs consistent; a test that
/// damages a CA on purpose says so with [`Env::tampered`].
pub struct Env {
    pub dir: tempfile::TempDir,
    tampered: std::cell::RefCell<Vec<PathBuf>>,
    vars: std::cell::RefCell<Vec<(String, String)>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let tampered = self.tampered.borrow();
        for ca in ca_folders(self.dir.path()) {
            if tampered.contains(&ca) {
                continue;
            }
            let out = self
                .command(bin("certkit-ca"))
                .args(["audit", "--ca"])
                .arg(&ca)
                .arg("--json")
                .stdin(Stdio::null())
                .output()
                .expect("certkit-ca audit");
            assert!(
                out.status.success(),
                "the CA in {} does not pass its audit:\n{}{}",
                ca.display(),
                text(&out.stdout),
                text(&out.stderr)
            );
        }
    }
}

/// The CA folders under `dir` (three levels deep).
pub fn ca_folders(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = todo.pop() {
        if folder.join("ca.pem").is_file() && folder.join("inventory.jsonl").is_file() {
            found.push(folder.clone());
        }
        if depth == 3 {
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push((entry.path(), depth + 1));
                }
            }
        }
    }
    found
}

impl Env {
    /// Copies `tests/fixtures/NAME` (a .cscfg) to `svc.cscfg`; returns its text.
    pub fn cscfg_fixture(&self, name: &str) -> String {
        let text =
            std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR")))
                .expect("fixture");
        std::fs::write(self.path("svc.cscfg"), &text).expect("write");
        text
    }

    /// A .cscfg as Python's ElementTree reads it (tests/peers/cscfg_read.py).
    pub fn read_cscfg(&self, rel: &str) -> serde_json::Value {
        let out = self.tool("python3", &[&peer("cscfg_read.py"), rel]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    }

    pub fn new() -> Self {
        Self::in_folder(tempfile::tempdir().expect("tempdir"))
    }

    /// A test folder in `dir` (a temporary folder made elsewhere than the system's, e.g. beside a fixture).
    pub fn in_folder(dir: tempfile::TempDir) -> Self {
        Env {
            dir,
            tampered: std::cell::RefCell::new(Vec::new()),
            vars: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Sets an environment variable for every command this test runs (e.g. SOFTHSM2_CONF).
    pub fn set_var(&self, name: &str, value: &str) {
        let mut vars = self.vars.borrow_mut();
        vars.retain(|(n, _)| n != name);
        vars.push((name.into(), value.into()));
    }

    /// `program` in the temp folder, with the test passwords in CA_PW, KEY_PW, PFX_PW, the variables set with
    /// [`Env::set_var`], and no terminal.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env("CA_PW", CA_PW)
            .env("KEY_PW", KEY_PW)
            .env("PFX_PW", PFX_PW)
            .env("CERTKIT_DEBUG_KDF_ITERATIONS", TEST_KDF_ITERATIONS)
            .envs(self.vars.borrow().iter().map(|(n, v)| (n, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Marks the CA in `rel` as damaged on purpose: the end-of-test audit leaves it alone.
    pub fn tampered(&self, rel: &str) {
        self.tampered.borrow_mut().push(self.path(rel));
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A certkit command in the temp folder, with the test passwords in CA_PW, KEY_PW, PFX_PW and no terminal.
    pub fn cmd(&self, bin: &str) -> Command {
        self.command(self::bin(bin))
    }

    /// One of `scripts/`, run by bash in the temp folder with the certkit binaries first on PATH, the test
    /// passwords in CA_PW, KEY_PW, PFX_PW and no terminal.
    pub fn script(&self, name: &str) -> Command {
        bin("certkit-ca");
        let path = format!("{}/../scripts/{name}", env!("CARGO_MANIFEST_DIR"));
        let search = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = self.command("bash");
        cmd.arg(path).env("PATH", search);
        cmd
    }

    pub fn run(&self, bin: &str, args: &[&str]) -> Output {
        self.cmd(bin).args(args).output().expect("run certkit")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, bin: &str, args: &[&str]) -> String {
        let out = self.run(bin, args);
        assert!(
            out.status.success(),
            "{bin} {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs and asserts failure with `code`; returns stderr.
    pub fn fails(&self, bin: &str, args: &[&str], code: i32) -> String {
        let out = self.run(bin, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{bin} {args:?} should exit {code}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert_eq!(
            err.trim().lines().count(),
            1,
            "error should be one line: {err}"
        );
        err
    }

    pub fn json(&self, bin: &str, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(bin, args)).expect("JSON output")
    }

    /// `certkit-ca init` with default options into `dir`.
    pub fn init_ca(&self, dir: &str) -> serde_json::Value {
        self.init_ca_with(dir, &[])
    }

    /// `certkit-ca init` of a CA named "Test CA" in `dir` with `extra` flags (e.g. `--key p256`); returns
    /// the JSON.
    pub fn init_ca_with(&self, dir: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec![
            "init",
            "--ca",
            dir,
            "--cn",
            "Test CA",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ];
        args.extend_from_slice(extra);
        self.json("certkit-ca", &args)
    }

    /// A P-256 root "Test CA" in `root` (with `root_flags`) and an issuing CA "Issuing CA 1" signed by it at
    /// `init --parent` in `issuing` (with `issuing_flags`), both under CA_PW; returns the issuing CA's JSON.
    pub fn root_and_issuing(
        &self,
        root: &str,
        issuing: &str,
        root_flags: &[&str],
        issuing_flags: &[&str],
    ) -> serde_json::Value {
        let mut flags = vec!["--key", "p256"];
        flags.extend_from_slice(root_flags);
        self.init_ca_with(root, &flags);
        let mut args = vec![
            "init",
            "--ca",
            issuing,
            "--parent",
            root,
            "--cn",
            "Issuing CA 1",
            "--key",
            "p256",
            "--parent-pass",
            "env:CA_PW",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ];
        args.extend_from_slice(issuing_flags);
        self.json("certkit-ca", &args)
    }

    /// Runs `certkit-issue` with `args`, adding the test password sources it needs and `--json`; returns
    /// the JSON.
    pub fn issue(&self, args: &[&str]) -> serde_json::Value {
        self.json("certkit-issue", &Self::with_passwords(args))
    }

    /// `args` with the password sources a `certkit-issue` command needs (CA, key, PFX) and `--json`.
    pub fn with_passwords<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        let has = |flag: &str| args.contains(&flag);
        let self_signed = has("--self-signed");
        if !self_signed && !has("--ca-pass") {
            all.extend(["--ca-pass", "env:CA_PW"]);
        }
        let makes_key = args.first() != Some(&"sign");
        let batch_with_pfx = has("--batch") && has("--pfx");
        if makes_key && !batch_with_pfx && !has("--key-pass") {
            all.extend(["--key-pass", "env:KEY_PW"]);
        }
        if has("--pfx") && !has("--pfx-pass") && !has("--pfx-pass-dir") {
            all.extend(["--pfx-pass", "env:PFX_PW"]);
        }
        if !has("--json") {
            all.push("--json");
        }
        all
    }

    /// Issues a client certificate from the CA in `ca`.
    pub fn issue_client(&self, ca: &str, cn: &str, out: &str) -> serde_json::Value {
        self.issue(&["client", "--ca", ca, "--cn", cn, "--out", out])
    }

    /// The CA's inventory as `certkit-ca list --json` prints it.
    pub fn list(&self, ca: &str) -> Vec<serde_json::Value> {
        match self.json("certkit-ca", &["list", "--ca", ca, "--json"]) {
            serde_json::Value::Array(rows) => rows,
            other => panic!("list --json printed {other}"),
        }
    }

    /// Runs one of the certkit binaries under strace, which kills it with SIGKILL on entry to the `n`-th call
    /// (counted from 1) of the system call `step`; returns its output (killed, or finished if it made fewer).
    pub fn killed_at(&self, step: &str, n: usize, bin: &str, args: &[&str]) -> Output {
        let mut argv: Vec<String> = [
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            &format!("trace={step}"),
            "-e",
            &format!("inject={step}:signal=KILL:when={n}"),
        ]
        .map(String::from)
        .to_vec();
        argv.push(self::bin(bin).display().to_string());
        argv.extend(args.iter().map(|a| a.to_string()));
        self.tool(
            "strace",
            &argv.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }

    /// Runs a peer tool in the temp folder; returns its output.
    pub fn tool(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} is required for these tests (scripts/test.sh installs it): {e}")
            })
    }

    pub fn openssl(&self, args: &[&str]) -> Output {
        self.tool("openssl", args)
    }

    /// openssl must succeed; returns stdout + stderr.
    pub fn openssl_ok(&self, args: &[&str]) -> String {
        let out = self.openssl(args);
        assert!(
            out.status.success(),
            "openssl {args:?} failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }

    /// A P-256 key `NAME.key` (unencrypted) and a CSR `NAME.csr` for `subject` (`/CN=...`, UTF-8), made by the
    /// openssl CLI.
    pub fn openssl_p256_csr(&self, name: &str, subject: &str) {
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        self.openssl_ok(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-subj",
            subject,
            "-utf8",
            "-out",
            &csr,
        ]);
    }

    /// The certificate's extensions and fields as `openssl x509 -text` prints them.
    pub fn x509_text(&self, pem: &str) -> String {
        self.openssl_ok(&["x509", "-in", pem, "-noout", "-text"])
    }

    /// SHA-1 fingerprint by the openssl CLI, without colons.
    pub fn openssl_thumbprint(&self, cert: &str) -> String {
        let inform = if cert.ends_with(".cer") { "DER" } else { "PEM" };
        let out = self.openssl_ok(&[
            "x509",
            "-in",
            cert,
            "-inform",
            inform,
            "-noout",
            "-fingerprint",
            "-sha1",
        ]);
        out.trim()
            .rsplit('=')
            .next()
            .expect("fingerprint")
            .replace(':', "")
    }

    /// Names of the files in a folder (sorted), to show nothing was written.
    pub fn listing(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(self.path(rel)) {
            Ok(entries) => entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        };
        names.sort();
        names
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }
}

/// SHA-256 of `bytes` in lowercase hex, as `sha256sum` prints it (computed by the `sha256sum` tool).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = child.wait_with_output().expect("sha256sum");
    text(&out.stdout)
        .split_whitespace()
        .next()
        .expect("hash")
        .to_string()
}

/// Asserts that `haystack` contains every needle.
pub fn assert_contains(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            haystack.contains(needle),
            "expected {needle:?} in:\n{haystack}"
        );
    }
}

/// The text of one extension block in `openssl x509 -text` output: its header line and value lines.
pub fn extension(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with(name) {
            let value = lines.next().unwrap_or("").trim().to_string();
            return Some(format!("{} | {}", line.trim(), value));
        }
    }
    None
}

/// The demo service configuration in examples/.
pub fn example_cscfg() -> String {
    format!(
        "{}/../examples/ServiceConfiguration.cscfg",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Path of a peer script in tests/peers.
pub fn peer(name: &str) -> String {
    format!("{}/peers/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What the peer script `name` (Python, in tests/peers) prints about `args`: one JSON value a line.
pub fn peer_facts(env: &Env, name: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let script = peer(name);
    let mut all = vec![script.as_str()];
    all.extend_from_slice(args);
    let out = env.tool("python3", &all);
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// Rewrites the backup file `name` with `edit` applied to its text and its checksum made right again (what an
/// intruder without the shares can do).
pub fn edit_backup(env: &Env, name: &str, edit: &dyn Fn(&str) -> String) {
    let text = String::from_utf8(env.read(name)).expect("text");
    let edited = edit(&text);
    let start = edited.find("\nchecksum: ").expect("checksum") + 1;
    let end = start + edited[start..].find('\n').expect("line") + 1;
    let rest = format!("{}{}", &edited[..start], &edited[end..]);
    let fixed = format!(
        "{}checksum: {}\n{}",
        &edited[..start],
        sha256_hex(rest.as_bytes()),
        &edited[end..]
    );
    std::fs::write(env.path(name), fixed).expect("write");
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Result of one TLS 1.2 mutual-auth handshake between `openssl s_server` and `openssl s_client`.
pub struct Handshake {
    pub ok: bool,
    pub client_output: String,
    pub server_output: String,
}

impl Handshake {
    /// Asserts that the handshake completed, showing both sides' output when it did not.
    pub fn assert_ok(&self) {
        assert!(
            self.ok,
            "client:\n{}\nserver:\n{}",
            self.client_output, self.server_output
        );
    }
}

/// Runs `openssl s_server -tls1_2 -Verify 1 -verify_return_error` with the server certificate and key, trusting
/// `server_ca` for clients, and `openssl s_client -tls1_2` with the client certificate and key, trusting
/// `client_ca`; succeeds when the request gets the server's answer. Extra server arguments (e.g. a CRL) go in
/// `server_extra`. Key passwords are read from $KEY_PW.
pub fn tls12_handshake(
    env: &Env,
    server: (&str, &str),
    server_ca: &str,
    client: (&str, &str),
    client_ca: &str,
    server_extra: &[&str],
) -> Handshake {
    tls12_handshake_with(env, server, server_ca, client, client_ca, server_extra, &[])
}

/// [`tls12_handshake`] with extra client arguments too (e.g. `-cert_chain`, the CAs the client presents).
pub fn tls12_handshake_with(
    env: &Env,
    server: (&str, &str),
    server_ca: &str,
    client: (&str, &str),
    client_ca: &str,
    server_extra: &[&str],
    client_extra: &[&str],
) -> Handshake {
    use std::io::Write;
    let port = free_port().to_string();
    let mut args = vec![
        "s_server",
        "-accept",
        &port,
        "-naccept",
        "1",
        "-tls1_2",
        "-www",
        "-cert",
        server.0,
        "-key",
        server.1,
        "-pass",
        "env:KEY_PW",
        "-CAfile",
        server_ca,
        "-Verify",
        "1",
        "-verify_return_error",
    ];
    args.extend_from_slice(server_extra);
    let mut srv = Command::new("openssl")
        .args(&args)
        .current_dir(env.dir.path())
        .env("KEY_PW", KEY_PW)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_server is required");
    // s_server prints ACCEPT once it listens; a probe connection would use up -naccept 1.
    let mut srv_stdout = std::io::BufReader::new(srv.stdout.take().expect("stdout"));
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut srv_stdout, &mut line).expect("read s_server");
        banner.push_str(&line);
        assert!(n > 0, "s_server exited before listening: {banner}");
        if line.starts_with("ACCEPT") {
            break;
        }
    }
    let connect = format!("127.0.0.1:{port}");
    let mut cli = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &connect,
            "-tls1_2",
            "-cert",
            client.0,
            "-key",
            client.1,
            "-pass",
            "env:KEY_PW",
            "-CAfile",
            client_ca,
            "-verify_return_error",
            "-ign_eof",
        ])
        .args(client_extra)
        .current_dir(env.dir.path())
        .env("KEY_PW", KEY_PW)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    cli.stdin
        .take()
        .expect("stdin")
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .expect("write");
    let client_out = cli.wait_with_output().expect("s_client");
    let _ = srv.kill();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut srv_stdout, &mut rest);
    let server_out = srv.wait_with_output().expect("s_server");
    let client_output = format!("{}{}", text(&client_out.stdout), text(&client_out.stderr));
    let server_output = format!("{banner}{rest}{}", text(&server_out.stderr));
    let ok = client_out.status.success()
        && client_output.contains("HTTP/1.0 200 ok")
        && client_output.contains("Verify return code: 0 (ok)");
    Handshake {
        ok,
        client_output,
        server_output,
    }
}

/// Runs a pkilint linter; returns what it found at NOTICE or above (empty when clean).
pub fn pkilint_findings(env: &Env, linter: &str, files: &[&str]) -> String {
    let module = format!("pkilint.bin.{linter}");
    let mut args = vec!["-m", module.as_str(), "lint", "-s", "NOTICE"];
    if linter == "lint_crl" {
        args.extend(["-t", "CRL", "-p", "PKIX"]);
    }
    args.extend(files);
    let out = env.tool("python3", &args);
    let found = format!("{}{}", text(&out.stdout), text(&out.stderr));
    if !out.status.success() && found.trim().is_empty() {
        panic!(
            "pkilint {linter} failed without saying why ({:?})",
            out.status
        );
    }
    found.trim().to_string()
}

/// Asserts that a pkilint linter finds nothing at NOTICE or above in `files`.
pub fn pkilint_clean(env: &Env, linter: &str, files: &[&str]) {
    let found = pkilint_findings(env, linter, files);
    assert!(found.is_empty(), "pkilint {linter} {files:?}:\n{found}");
}
