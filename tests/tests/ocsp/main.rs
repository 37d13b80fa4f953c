//! OCSP: responses signed ahead by the offline CA (`certkit-ca ocsp`) and served by a responder that holds no
//! key (`certkit-ca ocsp serve`), started by each test on loopback. Checked with the openssl CLI as a client
//! (POST, SHA-1 and SHA-256 CertIDs), curl for GET and the caching headers, Python `cryptography`'s
//! `x509.ocsp` (statuses, times, key hashes, signatures against the CA key) and pkilint; the windows a
//! responder serves under faketime; what it never serves; hostile input; nginx as a real consumer.

#[path = "../common/mod.rs"]
mod common;
mod consumer;
mod gaps;
mod hostile;
mod seams;
mod serving;
mod settings;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A CA "Test CA" in `pki` naming a responder on `port`, with alice (valid) and lost (revoked for
/// keyCompromise); returns their serials.
pub fn ca_with_a_revocation(env: &Env, port: u16, key: &str) -> (String, String) {
    let url = format!("http://127.0.0.1:{port}/");
    env.init_ca_with("pki", &["--key", key, "--ocsp-url", &url]);
    let alice = env.issue_client("pki", "alice", "alice");
    let lost = env.issue_client("pki", "lost", "lost");
    let lost_serial = lost["serial"].as_str().expect("serial").to_string();
    env.ok(
        "certkit-ca",
        &cli(&format!(
            "revoke --ca pki {lost_serial} --reason keyCompromise --ca-pass env:CA_PW"
        )),
    );
    (
        alice["serial"].as_str().expect("serial").to_string(),
        lost_serial,
    )
}

/// `certkit-ca ocsp --ca CA --out-dir DIR` with `extra`, as JSON.
pub fn sign(env: &Env, ca: &str, dir: &str, extra: &str) -> serde_json::Value {
    env.json(
        "certkit-ca",
        &cli(&format!(
            "ocsp --ca {ca} --out-dir {dir} --ca-pass env:CA_PW --json {extra}"
        )),
    )
}

/// A responder started by the test; killed when dropped.
pub struct Responder {
    child: Child,
    /// Where it listens.
    pub port: u16,
    log: PathBuf,
}

impl Responder {
    /// `certkit-ca ocsp serve --from FROM --listen 127.0.0.1:PORT` with `extra` flags, pinned to `pki`'s
    /// thumbprint unless `extra` names the CA another way; waits until it has loaded its folder and accepts
    /// connections.
    pub fn start(env: &Env, from: &str, port: u16, extra: &[&str]) -> Responder {
        Self::start_at(env, from, port, extra, None)
    }

    /// [`Responder::start`] with the clock at `moment` ("YYYY-MM-DD HH:MM:SS", UTC) under faketime.
    pub fn start_at(
        env: &Env,
        from: &str,
        port: u16,
        extra: &[&str],
        moment: Option<&str>,
    ) -> Responder {
        let listen = format!("127.0.0.1:{port}");
        let mut args: Vec<String> = ["ocsp", "serve", "--from", from, "--listen", &listen]
            .map(String::from)
            .to_vec();
        if !extra.contains(&"--ca-cert") && !extra.contains(&"--ca-thumbprint") {
            args.extend([
                "--ca-thumbprint".into(),
                env.openssl_thumbprint("pki/ca.pem"),
            ]);
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let log = env.path(&format!("responder-{port}.log"));
        let mut command = env.cmd("certkit-ca");
        if let Some(moment) = moment {
            // libfaketime preloaded into the responder itself (the faketime wrapper would fork, and a kill
            // would leave its child serving).
            command
                .env("LD_PRELOAD", libfaketime())
                .env("FAKETIME", format!("@{moment}"))
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("TZ", "UTC");
        }
        let child = command
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start the responder");
        let mut responder = Responder { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(15);
        // It binds first, then loads the folder (logging what it skips), then says it is listening: ready
        // when it says so and accepts connections.
        while !responder.log().contains("listening on ")
            || TcpStream::connect(("127.0.0.1", port)).is_err()
        {
            if let Ok(Some(status)) = responder.child.try_wait() {
                panic!("the responder exited ({status}):\n{}", responder.log());
            }
            assert!(
                Instant::now() < deadline,
                "the responder did not listen:\n{}",
                responder.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        responder
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (at most `within`) for it to exit; returns its exit code.
    pub fn terminate(mut self, within: Duration) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most 10 s) until its log says `what`.
    pub fn wait_for_log(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains(what) {
            assert!(
                Instant::now() < deadline,
                "the responder never logged {what:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Where libfaketime is (Debian's faketime package).
fn libfaketime() -> String {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ];
    candidates
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("libfaketime is installed by scripts/lib/deps.sh (package faketime)")
        .to_string()
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl ocsp` asking the responder on `port` about `cert` (issued by `pki`), with `extra` flags before
/// `-cert` (e.g. `-sha256`); stdout and stderr together.
pub fn ask(env: &Env, port: u16, cert: &str, extra: &str) -> String {
    let out = env.openssl(&cli(&format!(
        "ocsp -issuer pki/ca.pem {extra} -cert {cert} -url http://127.0.0.1:{port}/ -CAfile pki/ca.pem -no_nonce -timeout 10"
    )));
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// The status openssl reads for `cert`: "good", "revoked" or what else it said.
pub fn status_of(answer: &str, cert: &str) -> String {
    answer
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{cert}: ")))
        .map(str::to_string)
        .unwrap_or_else(|| format!("(no status in: {answer})"))
}

/// One HTTP/1.1 request to the responder (Connection: close): the status code, the headers (lowercase
/// names) and the body.
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    // A peer may answer and close before it read all of a body it refuses.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", text(&raw)));
    let head = text(&raw[..split]).to_lowercase();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (code, head, raw[split + 4..].to_vec())
}

/// The OCSPResponseStatus of an OCSPResponse's DER (0 successful, 1 malformedRequest, 2 internalError,
/// 3 tryLater, 5 sigRequired, 6 unauthorized).
pub fn response_status(der: &[u8]) -> u8 {
    // SEQUENCE { ENUMERATED status, ... }: the ENUMERATED comes after the SEQUENCE's header.
    let at = if der.get(1).is_some_and(|l| l & 0x80 != 0) {
        2 + usize::from(der[1] & 0x7F)
    } else {
        2
    };
    assert_eq!(der.get(at), Some(&0x0A), "not an OCSPResponse: {der:02X?}");
    der[at + 2]
}

/// The DER of an OCSP request about `cert`, as openssl makes it (`-reqout`), SHA-1 CertID, no nonce.
pub fn request_der(env: &Env, cert: &str, name: &str) -> Vec<u8> {
    env.openssl_ok(&cli(&format!(
        "ocsp -issuer pki/ca.pem -cert {cert} -no_nonce -reqout {name}"
    )));
    env.read(name)
}

/// What Python `cryptography` reads in each response of `files` (window files or single responses).
pub fn ocsp_facts(env: &Env, ca: &str, files: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![ca];
    args.extend_from_slice(files);
    peer_facts(env, "ocsp_facts.py", &args)
}

/// A serial as a number's hex digits (no leading zeros), for comparing across tools.
pub fn digits(serial: &str) -> String {
    serial.trim_start_matches('0').to_uppercase()
}

/// "YYYY-MM-DD HH:MM:SS" for faketime, `offset` seconds after the RFC 3339 time `at`.
pub fn moment(at: &str, offset: i64) -> String {
    let date = |args: &[&str]| {
        let out = std::process::Command::new("date")
            .args(args)
            .output()
            .expect("date");
        text(&out.stdout).trim().to_string()
    };
    let unix: i64 = date(&["-u", "-d", at, "+%s"]).parse().expect("unix time");
    date(&[
        "-u",
        "-d",
        &format!("@{}", unix + offset),
        "+%Y-%m-%d %H:%M:%S",
    ])
}
