//! `certkit-ca report --html`: rendered by a real browser (headless Chromium) to a PNG and a PDF, and read back
//! from the page Chromium built (`--dump-dom`): its counts and thumbprints are those of `list --json`, a
//! hostile subject stays text, and the page needs no script and fetches nothing.

mod common;

use std::collections::BTreeSet;

use common::*;

/// Chromium, headless, on `args` (as root it needs --no-sandbox).
fn chromium(env: &Env, args: &[&str]) -> std::process::Output {
    let mut all = cli("--headless --no-sandbox --disable-gpu --no-first-run \
        --disable-extensions --user-data-dir=chromium-profile");
    all.extend(args);
    env.tool("chromium", &all)
}

/// Every `<td class="mono thumbprint">T</td>` value in `html`.
fn thumbprints(html: &str) -> BTreeSet<String> {
    html.split("<td class=\"mono thumbprint\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or("").to_string())
        .collect()
}

/// The number in `<b id="count-NAME">N</b>`.
fn count(html: &str, name: &str) -> usize {
    let marker = format!("id=\"count-{name}\">");
    let Some((_, rest)) = html.split_once(&marker) else {
        return 0;
    };
    rest.split('<').next().unwrap_or("").parse().expect("count")
}

/// A demo CA: clients (one with a subject meant to break out into markup), a server, a revocation, a CRL
/// series, a backup with its drill.
fn demo(env: &Env) {
    env.init_ca_with(
        "pki",
        &cli("--key p256 --crl-url http://pki.example.com/ca.crl"),
    );
    env.issue_client("pki", "alice", "alice");
    env.issue_client("pki", "<img src=x onerror=alert(1)> & co", "hostile");
    let lost = env.issue_client("pki", "lost laptop", "lost");
    env.issue(&cli(
        "server --ca pki --cn svc.example.com --out svc --key p256 --days 200",
    ));
    env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "pki",
            lost["serial"].as_str().expect("serial"),
            "--reason",
            "keyCompromise",
        ],
    );
    env.ok(
        "certkit-ca",
        &cli("crl --ca pki --series 3 --every 30 --out-dir crls --ca-pass env:CA_PW"),
    );
    env.ok(
        "certkit-ca",
        &cli("backup --ca pki --shares 3 --threshold 2 --share-dir shares --ca-pass env:CA_PW"),
    );
    env.ok(
        "certkit-ca",
        &cli("restore --backup pki-backup.key --check --ca pki --share \
            file:shares/share-1-of-3.txt --share file:shares/share-3-of-3.txt"),
    );
}

#[test]
fn chromium_renders_the_report_and_its_numbers_are_the_inventorys() {
    let env = Env::new();
    demo(&env);
    let summary = env.json(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "report.html", "--json"],
    );
    assert_eq!(summary["certificates"], 4, "{summary}");
    assert_eq!(summary["audit_ok"], true, "{summary}");
    let html = text(&env.read("report.html"));
    // Self-contained: no script, nothing fetched, every link a link within the page.
    // (Text is escaped, so every `<` opens a real tag.)
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or(""))
        .collect();
    for tag in &tags {
        let name = tag.split([' ', '\n']).next().unwrap_or("");
        assert!(
            !["script", "link", "iframe", "img", "object", "embed"].contains(&name),
            "the page holds <{tag}>"
        );
        assert!(!tag.contains("src="), "a tag that loads something: <{tag}>");
    }
    for banned in ["url(", "@import"] {
        assert!(
            !html.contains(banned),
            "the style sheet loads something: {banned}"
        );
    }
    for link in html.split("href=\"").skip(1) {
        assert!(link.starts_with('#'), "a link out of the page: {link:.40}");
    }
    // What the browser built from it.
    let dom = chromium(
        &env,
        &[
            "--dump-dom",
            &format!("file://{}", env.path("report.html").display()),
        ],
    );
    assert!(dom.status.success(), "{}", text(&dom.stderr));
    let dom = text(&dom.stdout);
    assert!(dom.contains("Certificate authority report"), "{dom:.400}");
    let list = env.list("pki");
    let listed: BTreeSet<String> = list
        .iter()
        .map(|c| c["thumbprint"].as_str().expect("thumbprint").to_string())
        .collect();
    assert_eq!(
        thumbprints(&dom),
        listed,
        "the inventory table is list --json's"
    );
    let with = |status: &str| list.iter().filter(|c| c["status"] == status).count();
    assert_eq!(count(&dom, "issued"), list.len());
    for status in ["valid", "revoked", "expired", "undelivered"] {
        assert_eq!(count(&dom, status), with(status), "{status}");
    }
    // The hostile subject is text in the page, never an element.
    assert!(!dom.contains("<img"), "the subject became markup");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)"));
    assert!(dom.contains("&gt; &amp; co"));
    // The audit verdict and head hash, the custody trail, the revocation, the CRL series on the chart.
    assert!(dom.contains("PASSED"));
    assert!(dom.contains(summary["head"].as_str().expect("head")));
    assert!(dom.contains("recovery drill") && dom.contains("backup"));
    assert!(dom.contains("keyCompromise"));
    assert!(dom.contains("CRLs signed ahead end"));
    assert!(dom.contains("<svg"));
    // A PNG and a PDF, as a browser prints it.
    let url = format!("file://{}", env.path("report.html").display());
    let png = chromium(
        &env,
        &["--screenshot=report.png", "--window-size=1200,1800", &url],
    );
    assert!(png.status.success(), "{}", text(&png.stderr));
    assert!(env.read("report.png").starts_with(b"\x89PNG\r\n\x1a\n"));
    let pdf = chromium(
        &env,
        &["--print-to-pdf=report.pdf", "--no-pdf-header-footer", &url],
    );
    assert!(pdf.status.success(), "{}", text(&pdf.stderr));
    let pdf = env.read("report.pdf");
    assert!(
        pdf.starts_with(b"%PDF-") && pdf.len() > 10_000,
        "{} bytes",
        pdf.len()
    );
}

#[test]
fn a_failed_audit_and_a_forged_record_show_in_the_report() {
    let env = Env::with_fixture(Fixture::FileCa);
    // An intruder appends a record for a certificate the CA never signed.
    env.tampered("pki");
    let out = env.tool("python3", &[&peer("forge_record.py"), "pki", "carried"]);
    if !out.status.success() {
        panic!("forge_record.py: {}", text(&out.stderr));
    }
    let run = env.run(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "report.html", "--json"],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!(summary["audit_ok"], false, "{summary}");
    let html = text(&env.read("report.html"));
    assert!(html.contains("verdict fail"), "the verdict says FAILED");
    assert_eq!(summary["forged"], 1, "{summary}");
    assert!(html.contains("status-forged"));
}

#[test]
fn the_report_is_never_written_into_the_ca_folder() {
    let env = Env::new();
    env.init_ca_with("pki", &["--key", "p256"]);
    let err = env.fails(
        "certkit-ca",
        &["report", "--ca", "pki", "--out", "pki/report.html"],
        2,
    );
    assert_contains(&err, &["CA folder"]);
    assert!(!env.path("pki/report.html").exists());
}

#[test]
fn a_renewed_certificate_shows_as_renewed_and_hashes_never_break() {
    // Issue 32: the report showed superseded certificates as valid, and broke hashes mid-token.
    let env = Env::new();
    env.init_ca_with("pki", &cli("--key p256"));
    env.issue_client("pki", "alice", "alice");
    let renewal = env.json(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "renew --ca pki alice.cer --out alice-2 --key p256 --json",
        )),
    );
    let new_serial = renewal["serial"].as_str().expect("serial");
    env.ok("certkit-ca", &cli("report --ca pki --out report.html"));
    let dom = chromium(
        &env,
        &[
            "--dump-dom",
            &format!("file://{}", env.path("report.html").display()),
        ],
    );
    let dom = text(&dom.stdout);
    assert!(
        dom.contains(&format!(
            "class=\"status-renewed\">renewed by {new_serial}<"
        )),
        "{dom}"
    );
    // Thumbprints, serials and hashes keep to one line; they are never broken between two characters.
    let html = text(&env.read("report.html"));
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .expect("style");
    assert!(!style.contains("break-all"), "{style}");
    assert!(style.contains(".mono,td.mono{") && style.contains("white-space:nowrap"));
}
