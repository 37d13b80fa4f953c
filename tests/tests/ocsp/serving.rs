//! What the responder answers: good and revoked through POST and GET, by SHA-1 and SHA-256 CertIDs, with RFC
//! 5019's caching headers; the responses as Python `cryptography` and pkilint read them; the window it serves
//! at each moment of a series, and a new series picked up without a restart.

use super::*;

#[test]
fn a_revoked_certificate_is_revoked_and_a_valid_one_good_over_post_and_get() {
    let env = Env::new();
    let port = free_port();
    let (alice, lost) = ca_with_a_revocation(&env, port, "rsa2048");
    // The certificates name the responder (authorityInfoAccess OCSP), as the CA was told.
    let aia = env.openssl_ok(&cli("x509 -in alice.pem -noout -ext authorityInfoAccess"));
    assert!(
        aia.contains(&format!("OCSP - URI:http://127.0.0.1:{port}/")),
        "{aia}"
    );
    let series = sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let windows = series["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0]["responses"], 2);
    assert_eq!(windows[0]["revoked"], 1);
    assert_eq!(
        series["ca_thumbprint"].as_str(),
        Some(env.openssl_thumbprint("pki/ca.pem").as_str())
    );
    assert_eq!(env.read("ocsp/ca.cer"), env.read("pki/ca.cer"));

    let responder = Responder::start(&env, "ocsp", port, &[]);
    // POST, as openssl sends it: the signature verified against the CA certificate, the status and reason.
    let answer = ask(&env, port, "alice.pem", "");
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert_eq!(status_of(&answer, "alice.pem"), "good");
    let answer = ask(&env, port, "lost.pem", "");
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert_eq!(status_of(&answer, "lost.pem"), "revoked");
    assert!(answer.contains("Reason: keyCompromise"), "{answer}");
    // A client that names the certificate by SHA-256 hashes finds its answer too.
    let answer = ask(&env, port, "lost.pem", "-sha256");
    assert_eq!(status_of(&answer, "lost.pem"), "revoked", "{answer}");

    // GET (RFC 6960 A.1): the request in base64, URL-encoded, in the path.
    let request = request_der(&env, "alice.pem", "alice.req");
    let encoded = env.tool(
        "python3",
        &[
            "-c",
            "import base64,sys,urllib.parse;print(urllib.parse.quote(base64.b64encode(open(sys.argv[1],'rb').read()).decode(),safe=''))",
            "alice.req",
        ],
    );
    let path = format!("/{}", text(&encoded.stdout).trim());
    let (code, head, body) = http(port, "GET", &path, b"");
    assert_eq!(code, 200, "{head}");
    assert_contains(
        &head,
        &[
            "content-type: application/ocsp-response",
            "cache-control: max-age=",
            "public, no-transform, must-revalidate",
            "last-modified: ",
            "expires: ",
            "etag: \"",
        ],
    );
    std::fs::write(env.path("alice.resp"), &body).expect("write");
    let checked = env.openssl_ok(&cli(
        "ocsp -respin alice.resp -issuer pki/ca.pem -cert alice.pem -CAfile pki/ca.pem -no_nonce",
    ));
    assert_eq!(status_of(&checked, "alice.pem"), "good", "{checked}");
    // The same request as a POST gets the same bytes: one response per certificate per window.
    let (_, _, posted) = http(port, "POST", "/", &request);
    assert_eq!(posted, body);

    // Python `cryptography` reads every response of the window file and the one served: successful, the
    // responder named by the CA key's hash, the signature the CA key's, both CertIDs about the same serial.
    let first = windows[0]["file"].as_str().expect("file");
    let facts = ocsp_facts(&env, "pki/ca.pem", &[first, "alice.resp"]);
    assert_eq!(facts.len(), 3, "{facts:?}");
    for fact in &facts {
        assert_eq!(fact["response_status"], "SUCCESSFUL");
        assert_eq!(fact["responder_key_hash_is_ca_key"], true, "{fact}");
        assert_eq!(fact["signature_verified"], true, "{fact}");
        assert_eq!(fact["signature_hash"], "sha256");
        assert_eq!(fact["certificates"], 0);
        let singles = fact["singles"].as_array().expect("singles");
        let hashes: Vec<&str> = singles
            .iter()
            .map(|s| s["hash"].as_str().expect("hash"))
            .collect();
        assert_eq!(hashes, ["sha1", "sha256"]);
        for single in singles {
            assert_eq!(single["issuer_key_hash_ok"], true);
            assert_eq!(single["this_update"], windows[0]["this_update"]);
            assert_eq!(single["next_update"], windows[0]["next_update"]);
        }
    }
    let by_serial = |serial: &str| {
        facts
            .iter()
            .find(|f| f["singles"][0]["serial"] == digits(serial).as_str())
            .unwrap_or_else(|| panic!("no response for {serial}: {facts:?}"))
    };
    assert_eq!(by_serial(&alice)["singles"][0]["status"], "GOOD");
    let revoked = &by_serial(&lost)["singles"][0];
    assert_eq!(revoked["status"], "REVOKED");
    assert_eq!(revoked["reason"], "key_compromise");
    let listed = env.list("pki");
    let lost_row = listed
        .iter()
        .find(|r| r["serial"] == lost.as_str())
        .expect("lost listed");
    assert_eq!(revoked["revoked_at"], lost_row["revoked_at"], "{lost_row}");
    // pkilint's OCSP response linter finds nothing at NOTICE or above.
    pkilint_clean(&env, "lint_ocsp_response", &["alice.resp"]);
    let log = responder.log();
    assert_contains(
        &log,
        &[
            &format!("serial={} good window=", digits(&alice)),
            &format!("serial={} revoked (keyCompromise)", digits(&lost)),
        ],
    );
    assert_eq!(responder.terminate(Duration::from_secs(10)), Some(0));
}

#[test]
fn the_responder_serves_the_current_window_of_the_newest_series_and_takes_a_new_one_without_a_restart()
 {
    let env = Env::new();
    let port = free_port();
    ca_with_a_revocation(&env, port, "p256");
    let series = sign(&env, "pki", "ocsp", "--series 3 --every 2 --overlap 1");
    let windows = series["windows"].as_array().expect("windows");
    let start = |i: usize| {
        windows[i]["this_update"]
            .as_str()
            .expect("start")
            .to_string()
    };
    let end = |i: usize| windows[i]["next_update"].as_str().expect("end").to_string();
    // Inside the second window (and the first's overlap): the second, the latest that has started.
    for (at, expect) in [
        (moment(&start(0), 60), Some(start(0))),
        (moment(&start(1), 60), Some(start(1))),
        (moment(&end(1), 60), Some(start(2))),
        (moment(&end(2), 60), None),
    ] {
        let responder = Responder::start_at(&env, "ocsp", port, &[], Some(&at));
        let request = request_der(&env, "alice.pem", "alice.req");
        let (_, _, body) = http(port, "POST", "/", &request);
        match &expect {
            Some(window) => {
                std::fs::write(env.path("alice.resp"), &body).expect("write");
                let facts = ocsp_facts(&env, "pki/ca.pem", &["alice.resp"]);
                assert_eq!(
                    facts[0]["singles"][0]["this_update"].as_str(),
                    Some(window.as_str()),
                    "at {at}: {}",
                    responder.log()
                );
            }
            // After the last window: tryLater, never a response that ran out.
            None => assert_eq!(response_status(&body), 3, "at {at}: {}", responder.log()),
        }
    }

    // A revocation, then a new series dropped into the folder: the running responder takes it.
    let responder = Responder::start(&env, "ocsp", port, &[]);
    assert_eq!(
        status_of(&ask(&env, port, "alice.pem", ""), "alice.pem"),
        "good"
    );
    env.ok(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason affiliationChanged --ca-pass env:CA_PW"),
    );
    std::thread::sleep(Duration::from_millis(1100));
    sign(&env, "pki", "ocsp", "--series 1 --every 2");
    responder.wait_for_log("serving ocsp-");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = ask(&env, port, "alice.pem", "");
        if status_of(&answer, "alice.pem") == "revoked" {
            assert!(answer.contains("Reason: affiliationChanged"), "{answer}");
            break;
        }
        assert!(Instant::now() < deadline, "{answer}\n{}", responder.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}
