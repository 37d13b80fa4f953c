//! What a revocation or a new certificate after a series leaves: `revoke` names the windows that still say
//! good and the command that signs again, `status` warns (`ocsp-gap`) until a new series holds them and when
//! the last window runs out within `--warn-days`, and the report shows how far the responses reach.

use super::*;

/// `status --ca pki ARGS --json`: the exit code and the facts with `check`.
fn status(env: &Env, args: &str) -> (i32, Vec<serde_json::Value>) {
    let out = env.run(
        "certkit-ca",
        &cli(&format!("status --ca pki --json {args}")),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    (
        out.status.code().expect("exit code"),
        json["facts"].as_array().expect("facts").clone(),
    )
}

fn facts_of<'a>(facts: &'a [serde_json::Value], check: &str) -> Vec<&'a serde_json::Value> {
    facts.iter().filter(|f| f["check"] == check).collect()
}

#[test]
fn revocations_and_certificates_after_a_series_are_named_until_a_new_series_holds_them() {
    let env = Env::new();
    let port = free_port();
    env.init_ca_with(
        "pki",
        &[
            "--key",
            "p256",
            "--ocsp-url",
            &format!("http://127.0.0.1:{port}/"),
        ],
    );
    env.issue_client("pki", "alice", "alice");
    // A responder named, no responses signed: a warning.
    let (code, facts) = status(&env, "");
    assert_eq!(code, 1, "{facts:?}");
    let ocsp = facts_of(&facts, "ocsp");
    assert_eq!(ocsp[0]["level"], "WARNING");
    assert_contains(
        ocsp[0]["message"].as_str().expect("message"),
        &["has signed no responses"],
    );

    let series = sign(&env, "pki", "ocsp", "--series 2 --every 7");
    let (code, facts) = status(&env, "");
    assert_eq!(code, 0, "{facts:?}");
    assert_eq!(facts_of(&facts, "ocsp")[0]["level"], "OK");
    assert_eq!(facts_of(&facts, "ocsp")[0]["until"], series["reach"]);
    assert!(facts_of(&facts, "ocsp-gap").is_empty());

    // A revocation: revoke names the two windows that still say good, and the command to sign again.
    let revoked = env.json(
        "certkit-ca",
        &cli("revoke --ca pki alice.cer --reason keyCompromise --ca-pass env:CA_PW --json"),
    );
    let windows = revoked["ocsp_windows_without"].as_array().expect("windows");
    assert_eq!(windows.len(), 2, "{revoked}");
    assert_eq!(windows[0], series["windows"][0]["this_update"]);
    let command = revoked["sign_ocsp"].as_str().expect("sign_ocsp");
    assert_contains(
        command,
        &["certkit-ca ocsp --ca pki --series 2 --every 7 --overlap 1 --out-dir"],
    );
    // ... and a new certificate: both are gaps.
    env.issue_client("pki", "bob", "bob");
    let (code, facts) = status(&env, "");
    assert_eq!(code, 1);
    let gaps = facts_of(&facts, "ocsp-gap");
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert_contains(
        gaps[0]["message"].as_str().expect("m"),
        &["1 revocation(s)", "alice", command],
    );
    assert_contains(
        gaps[1]["message"].as_str().expect("m"),
        &["1 certificate(s) issued", "bob"],
    );

    // The command it printed closes both gaps.
    let out = env.run(
        "certkit-ca",
        &cli(&format!(
            "{} --ca-pass env:CA_PW",
            command.trim_start_matches("certkit-ca ")
        )),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, facts) = status(&env, "");
    assert_eq!(code, 0, "{facts:?}");
    // The last window ends in 15 days: within --warn-days 20 it is a warning, past its end critical.
    let (code, facts) = status(&env, "--warn-days 20");
    assert_eq!(code, 1);
    assert_contains(
        facts_of(&facts, "ocsp")[0]["message"].as_str().expect("m"),
        &[
            "runs out on",
            "sign the next series: certkit-ca ocsp --ca pki",
        ],
    );
    let (code, facts) = status(
        &env,
        &format!(
            "--at {}",
            moment(series["reach"].as_str().expect("reach"), 3 * 86_400).replace(' ', "T") + "Z"
        ),
    );
    assert_eq!(code, 2, "{facts:?}");
    assert_eq!(facts_of(&facts, "ocsp")[0]["level"], "CRITICAL");
    // The report shows how far they reach, beside the CRLs.
    env.ok("certkit-ca", &cli("report --ca pki --out report.html"));
    assert_contains(
        &text(&env.read("report.html")),
        &["OCSP responses signed ahead"],
    );
}
