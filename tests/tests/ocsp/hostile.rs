//! What the responder never serves (a tampered response, another CA's series, a window that ran out), what it
//! answers to requests it cannot answer (another CA, a serial never issued), and hostile input: empty, huge,
//! cut and garbled requests, a request for 1,000 certificates, 1,000 idle connections. It keeps answering
//! other clients, its memory stays bounded, and it stops cleanly on SIGTERM.

use super::*;

/// The responder's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// How many file descriptors the responder has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .count()
}

#[test]
fn a_tampered_response_another_cas_series_and_other_cas_requests_are_never_answered_as_ours() {
    let env = Env::new();
    let port = free_port();
    let (alice, lost) = ca_with_a_revocation(&env, port, "p256");
    // Another CA, with its own series, whose names would make it the newest in our folder.
    env.init_ca_with("other", &["--key", "p256"]);
    env.issue_client("other", "mallory", "mallory");
    let ours = sign(&env, "pki", "ocsp", "");
    std::thread::sleep(Duration::from_millis(1100));
    let theirs = sign(&env, "other", "other-ocsp", "");
    let their_file = theirs["windows"][0]["file"].as_str().expect("file");
    let their_name = std::path::Path::new(their_file)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    std::fs::copy(
        env.path(their_file),
        env.path(&format!("ocsp/{their_name}")),
    )
    .expect("copy");

    // In our window file, the response of the higher serial is changed: one byte of its signature is enough
    // to prove it is not the CA's. (The lowest serial's response is checked when the file is loaded: a change
    // there keeps the whole file from being served.)
    let file = ours["windows"][0]["file"]
        .as_str()
        .expect("file")
        .to_string();
    let mut bytes = env.read(&file);
    let (alice_at, lost_at) = (find_response(&bytes, &alice), find_response(&bytes, &lost));
    let number = |serial: &str| {
        let d = digits(serial);
        (d.len(), d)
    };
    let (changed, (intact, intact_status)) = if number(&lost) > number(&alice) {
        (("lost.pem", lost_at), ("alice.pem", "good"))
    } else {
        (("alice.pem", alice_at), ("lost.pem", "revoked"))
    };
    bytes[changed.1.end - 1] ^= 0x01;
    std::fs::write(env.path(&file), &bytes).expect("write");

    let responder = Responder::start(&env, "ocsp", port, &[]);
    let log = responder.log();
    assert!(
        log.contains(&format!("skipping {their_name}")),
        "another CA's series is not served: {log}"
    );
    // The whole response is served.
    assert_eq!(
        status_of(&ask(&env, port, intact, ""), intact),
        intact_status
    );
    // The changed one: internalError, never the changed bytes.
    let request = request_der(&env, changed.0, "changed.req");
    let (code, _, body) = http(port, "POST", "/", &request);
    assert_eq!(code, 200);
    assert_eq!(response_status(&body), 2, "{}", responder.log());
    // Another CA's certificate: unauthorized (this responder cannot sign for it).
    std::fs::copy(env.path("other/ca.pem"), env.path("other.pem")).expect("copy");
    let out = env.openssl(&cli(&format!(
        "ocsp -issuer other.pem -cert mallory.pem -url http://127.0.0.1:{port}/ -no_nonce -timeout 10"
    )));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("unauthorized"), "{said}");
    // A serial the CA never issued: unauthorized, never good.
    let out = env.openssl(&cli(&format!(
        "ocsp -issuer pki/ca.pem -serial 0x0BADC0DE -url http://127.0.0.1:{port}/ -no_nonce -timeout 10"
    )));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("unauthorized"), "{said}");
    assert!(!said.contains(": good"), "{said}");
}

/// Where the response about `serial` is in a window file: each response is a DER SEQUENCE with a long-form
/// length, found by its serial's bytes.
fn find_response(bytes: &[u8], serial: &str) -> std::ops::Range<usize> {
    let needle: Vec<u8> = (0..serial.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&serial[i..i + 2], 16).expect("hex"))
        .collect();
    let mut at = 0;
    while at < bytes.len() {
        let length_bytes = usize::from(bytes[at + 1] & 0x7F);
        let length = bytes[at + 2..at + 2 + length_bytes]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        let end = at + 2 + length_bytes + length;
        if bytes[at..end].windows(needle.len()).any(|w| w == needle) {
            return at..end;
        }
        at = end;
    }
    panic!("no response for {serial}");
}

#[test]
fn hostile_requests_and_idle_connections_never_stop_the_responder() {
    let env = Env::new();
    let port = free_port();
    ca_with_a_revocation(&env, port, "p256");
    sign(&env, "pki", "ocsp", "");
    let responder = Responder::start(&env, "ocsp", port, &["--max-connections", "1500"]);
    let request = request_der(&env, "alice.pem", "alice.req");
    let before = rss_kib(responder.pid());

    // Empty, cut short, garbled: malformedRequest (1), an OCSPResponse all the same.
    for body in [
        Vec::new(),
        request[..request.len() / 2].to_vec(),
        vec![0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
    ] {
        let (code, _, answer) = http(port, "POST", "/", &body);
        assert_eq!((code, response_status(&answer)), (200, 1), "{body:02X?}");
    }
    // 10 MB: refused once 16 KiB have come, without reading the rest into memory.
    let (code, _, answer) = http(port, "POST", "/", &vec![0x30; 10 * 1024 * 1024]);
    assert_eq!((code, response_status(&answer)), (200, 1));
    // GET with a path that is not base64.
    let (code, _, answer) = http(port, "GET", "/%%%not-base64***", b"");
    assert_eq!((code, response_status(&answer)), (200, 1));
    // A request about 1,000 certificates: the one Request repeated in the requestList.
    let (code, _, answer) = http(port, "POST", "/", &request_for_many(&request, 1000));
    assert_eq!((code, response_status(&answer)), (200, 1));
    // A request about 100 of them fits the size limit, and is refused as RFC 5019 says (one per request).
    let (code, _, answer) = http(port, "POST", "/", &request_for_many(&request, 100));
    assert_eq!((code, response_status(&answer)), (200, 1));
    // Other methods.
    let (code, _, _) = http(port, "PUT", "/", &request);
    assert_eq!(code, 405);

    // 1,000 connections opened and left idle: other clients are still answered.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    for _ in 0..20 {
        let (code, _, answer) = http(port, "POST", "/", &request);
        assert_eq!((code, response_status(&answer)), (200, 0));
    }
    assert_eq!(
        status_of(&ask(&env, port, "alice.pem", ""), "alice.pem"),
        "good"
    );
    // Memory bounded: the idle connections and the 10 MB body cost less than 64 MiB over the start.
    let after = rss_kib(responder.pid());
    assert!(
        after < before + 64 * 1024,
        "the responder grew from {before} KiB to {after} KiB"
    );
    drop(idle);
    assert_eq!(responder.terminate(Duration::from_secs(10)), Some(0));

    // A cap on connections: with --max-connections 50, 200 idle ones leave it holding about 50 sockets.
    let responder = Responder::start(&env, "ocsp", port, &["--max-connections", "50"]);
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let fds = open_fds(responder.pid());
    assert!(
        fds < 50 + 30,
        "{fds} file descriptors open with a cap of 50"
    );
    responder.wait_for_log("connections are open (--max-connections)");
    drop(idle);
    // Once they close, it answers again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = ask(&env, port, "alice.pem", "");
        if status_of(&answer, "alice.pem") == "good" {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `request` (one Request in its requestList) with that Request repeated `count` times.
fn request_for_many(request: &[u8], count: usize) -> Vec<u8> {
    // OCSPRequest { TBSRequest { requestList SEQUENCE OF Request } }.
    use common::der::tlv;
    let inner = |der: &[u8]| -> (usize, usize) {
        // (header length, content length) of a short- or long-form TLV.
        if der[1] & 0x80 == 0 {
            (2, usize::from(der[1]))
        } else {
            let n = usize::from(der[1] & 0x7F);
            (
                2 + n,
                der[2..2 + n]
                    .iter()
                    .fold(0, |a, b| (a << 8) | usize::from(*b)),
            )
        }
    };
    let (h0, _) = inner(request);
    let tbs = &request[h0..];
    let (h1, _) = inner(tbs);
    let list = &tbs[h1..];
    let (h2, l2) = inner(list);
    let one = &list[h2..h2 + l2];
    let many: Vec<u8> = std::iter::repeat_n(one, count).flatten().copied().collect();
    tlv(0x30, &tlv(0x30, &tlv(0x30, &many)))
}
