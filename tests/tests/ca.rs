//! `certkit-ca init` and `show`: the CA certificate checked by the openssl CLI, the key by `openssl pkey`,
//! and every refusal leaving the folder as it was.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn init_writes_an_rfc5280_ca_that_openssl_accepts() {
    let env = Env::new();
    let json = env.init_ca("pki");
    let text = env.x509_text("pki/ca.pem");
    assert_contains(
        &text,
        &cli(
            "'Version: 3 (0x2)' 'Signature Algorithm: sha256WithRSAEncryption' \
            'Subject: CN = Test CA' 'Public-Key: (2048 bit)'",
        ),
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:TRUE, pathlen:1")
    );
    assert_eq!(
        extension(&text, "X509v3 Key Usage").as_deref(),
        Some("X509v3 Key Usage: critical | Certificate Sign, CRL Sign")
    );
    assert!(
        extension(&text, "X509v3 Subject Key Identifier").is_some(),
        "SKI missing:\n{text}"
    );
    assert!(extension(&text, "X509v3 Extended Key Usage").is_none());
    // Positive 16-byte serial: 16 colon-separated bytes, first below 0x80.
    let serial_line = text
        .lines()
        .skip_while(|l| !l.contains("Serial Number:"))
        .nth(1)
        .expect("serial")
        .trim()
        .to_string();
    let bytes: Vec<&str> = serial_line.split(':').collect();
    assert_eq!(bytes.len(), 16, "{serial_line}");
    assert!(u8::from_str_radix(bytes[0], 16).expect("hex") < 0x80);
    assert_eq!(
        json["serial"].as_str().expect("serial"),
        serial_line.replace(':', "").to_uppercase()
    );
    // Self-signature and strict chain checks.
    assert_contains(
        &env.openssl_ok(&cli("verify -x509_strict -CAfile pki/ca.pem pki/ca.pem")),
        &["pki/ca.pem: OK"],
    );
    // Thumbprint: JSON, DER and PEM agree with openssl.
    let thumb = env.openssl_thumbprint("pki/ca.pem");
    assert_eq!(json["thumbprint"], thumb.as_str());
    assert_eq!(env.openssl_thumbprint("pki/ca.cer"), thumb);
    assert_eq!(
        json["config_lines"][0],
        format!(r#"<Certificate name="CA" thumbprint="{thumb}" thumbprintAlgorithm="sha1" />"#)
    );
    // Default validity: ten years.
    let nb = json["not_before"].as_str().expect("nb");
    let na = json["not_after"].as_str().expect("na");
    let years = na[..4].parse::<i32>().expect("year") - nb[..4].parse::<i32>().expect("year");
    assert_eq!(years, 10, "{nb} .. {na}");
}

#[test]
fn text_output_prints_thumbprint_and_both_config_lines() {
    let env = Env::new();
    let out = env.ok(
        "certkit-ca",
        &cli("init --ca pki --cn MyCA --ca-pass env:CA_PW"),
    );
    let thumb = env.openssl_thumbprint("pki/ca.cer");
    assert_contains(
        &out,
        &[
            &format!("thumbprint  {thumb}"),
            &format!(
                r#"<Certificate name="CA" thumbprint="{thumb}" thumbprintAlgorithm="sha1" />"#
            ),
            &format!(
                r#"<Setting name="AdditionalTrustedRootCertificationAuthorities" value="{thumb}" />"#
            ),
            "subject     CN=MyCA",
        ],
    );
    assert!(!out.contains(CA_PW), "password printed");
}

#[test]
fn key_is_encrypted_0600_and_opens_only_with_its_password() {
    let env = Env::new();
    env.init_ca("pki");
    let mode = std::fs::metadata(env.path("pki/ca.key"))
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let pem = String::from_utf8(env.read("pki/ca.key")).expect("utf8");
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let info = env.openssl_ok(&["asn1parse", "-in", "pki/ca.key"]);
    assert_contains(&info, &["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"]);
    assert!(
        env.openssl(&cli("pkey -in pki/ca.key -passin env:CA_PW -noout"))
            .status
            .success()
    );
    let wrong = env.tool(
        "openssl",
        &cli("pkey -in pki/ca.key -passin 'pass:not the password' -noout"),
    );
    assert!(!wrong.status.success());
    // The decrypted key is the certificate's key.
    let from_key = env.openssl_ok(&cli("pkey -in pki/ca.key -passin env:CA_PW -pubout"));
    let from_cert = env.openssl_ok(&["x509", "-in", "pki/ca.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
}

#[test]
fn init_twice_refuses_and_changes_nothing() {
    let env = Env::new();
    env.init_ca("pki");
    let before: Vec<(String, Vec<u8>)> = env
        .listing("pki")
        .into_iter()
        .filter(|n| !n.starts_with('.') && n != "issued")
        .map(|n| {
            let bytes = env.read(&format!("pki/{n}"));
            (n, bytes)
        })
        .collect();
    let err = env.fails(
        "certkit-ca",
        &cli("init --ca pki --cn Other --ca-pass env:CA_PW"),
        1,
    );
    assert_contains(&err, &["already holds a CA", "nothing was changed"]);
    for (name, bytes) in before {
        assert_eq!(env.read(&format!("pki/{name}")), bytes, "{name} changed");
    }
}

#[test]
fn missing_password_source_without_terminal_fails_and_creates_nothing() {
    let env = Env::new();
    let err = env.fails("certkit-ca", &["init", "--ca", "pki", "--cn", "X"], 2);
    assert_contains(&err, &["no CA key password given", "--ca-pass"]);
    assert!(!env.path("pki").exists());
}

#[test]
fn pass_source_is_refused_with_the_reason() {
    let env = Env::new();
    let out = env.run(
        "certkit-ca",
        &cli("init --ca pki --cn X --ca-pass pass:supersecretpassword"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_contains(&err, &["visible in `ps`", "env:VAR"]);
    assert!(!err.contains("supersecretpassword"));
    assert!(!env.path("pki").exists());
}

#[test]
fn short_new_password_is_refused() {
    let env = Env::new();
    let out = env
        .cmd("certkit-ca")
        .args(["init", "--ca", "pki", "--cn", "X", "--ca-pass", "env:SHORT"])
        .env("SHORT", "elevenchars")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["too short", "at least 12"]);
    assert!(!env.path("pki").exists());
}

#[test]
fn file_fd_and_stdin_sources_work() {
    let env = Env::new();
    std::fs::write(
        env.path("pw.txt"),
        format!("{CA_PW}\nignored second line\n"),
    )
    .expect("write");
    env.ok(
        "certkit-ca",
        &cli("init --ca a --cn A --ca-pass file:pw.txt --key p256"),
    );
    let bin = bin("certkit-ca");
    let fd = env.tool(
        "bash",
        &[
            "-c",
            &format!(
                "'{}' init --dir b --cn B --key p256 --ca-pass fd:3 3<pw.txt",
                bin.display()
            ),
        ],
    );
    assert!(fd.status.success(), "{}", text(&fd.stderr));
    let stdin = env.tool(
        "bash",
        &[
            "-c",
            &format!(
                "'{}' init --dir c --cn C --key p256 --ca-pass stdin < pw.txt",
                bin.display()
            ),
        ],
    );
    assert!(stdin.status.success(), "{}", text(&stdin.stderr));
    for dir in ["a", "b", "c"] {
        let key = format!("{dir}/ca.key");
        assert!(
            env.openssl(&["pkey", "-in", &key, "-passin", "env:CA_PW", "-noout"])
                .status
                .success(),
            "{dir}"
        );
    }
}

#[test]
fn terminal_prompt_asks_twice() {
    // A real pseudo-terminal via util-linux `script`: the password is typed twice at the prompts.
    let env = Env::new();
    let bin = bin("certkit-ca");
    let command = format!("{} init --dir pki --cn Prompted --key p256", bin.display());
    let typing =
        format!("sleep 1; printf '%s\\r' '{CA_PW}'; sleep 1; printf '%s\\r' '{CA_PW}'; sleep 3");
    let out = env.tool(
        "bash",
        &[
            "-c",
            &format!("({typing}) | timeout 30 script -qec '{command}' /dev/null"),
        ],
    );
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert_contains(
        &shown,
        &[
            "New CA key password",
            "Repeat the CA key password",
            "Created CA",
        ],
    );
    assert!(!shown.contains(CA_PW), "password echoed: {shown}");
    assert!(
        env.openssl(&cli("pkey -in pki/ca.key -passin env:CA_PW -noout"))
            .status
            .success()
    );
}

#[test]
fn unwritable_folder_gives_a_clear_error_and_no_files() {
    let env = Env::new();
    std::fs::write(env.path("plainfile"), "x").expect("write");
    let err = env.fails(
        "certkit-ca",
        &cli("init --ca plainfile/ca --cn X --ca-pass env:CA_PW"),
        1,
    );
    assert_contains(&err, &["plainfile/ca"]);
    // sysfs refuses new folders even to root.
    let err = env.fails(
        "certkit-ca",
        &cli("init --ca /sys/certkit-test --cn X --ca-pass env:CA_PW"),
        1,
    );
    assert_contains(&err, &["cannot create folder /sys/certkit-test"]);
}

#[test]
fn dates_keys_and_pathlen() {
    let env = Env::new();
    let err = env.fails(
        "certkit-ca",
        &cli("init --ca a --cn X --expires 2001-01-01 --ca-pass env:CA_PW"),
        2,
    );
    assert_contains(&err, &["in the past"]);
    env.fails(
        "certkit-ca",
        &cli("init --ca a --cn X --days 0 --ca-pass env:CA_PW"),
        2,
    );
    env.fails(
        "certkit-ca",
        &cli("init --ca a --cn X --expires 31/12/2030 --ca-pass env:CA_PW"),
        2,
    );
    assert!(!env.path("a").exists());
    let json = env.json(
        "certkit-ca",
        &cli(
            "init --ca a --cn EC --key p384 --expires 2031-06-30 --pathlen 0 \
            --ca-pass env:CA_PW --json",
        ),
    );
    assert_eq!(json["not_after"], "2031-06-30T23:59:59Z");
    let text = env.x509_text("a/ca.pem");
    assert_contains(
        &text,
        &[
            "ecdsa-with-SHA384",
            "NIST CURVE: P-384",
            "Not After : Jun 30 23:59:59 2031 GMT",
        ],
    );
    assert_eq!(
        extension(&text, "X509v3 Basic Constraints").as_deref(),
        Some("X509v3 Basic Constraints: critical | CA:TRUE, pathlen:0")
    );
    env.ok(
        "certkit-ca",
        &cli("init --ca b --cn P256 --key p256 --ca-pass env:CA_PW"),
    );
    assert_contains(
        &env.x509_text("b/ca.pem"),
        &["ecdsa-with-SHA256", "NIST CURVE: P-256"],
    );
}

#[test]
fn show_reports_the_ca_and_missing_ca_names_init() {
    let env = Env::new();
    let created = env.init_ca("pki");
    let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
    assert_eq!(shown["thumbprint"], created["thumbprint"]);
    assert_eq!(shown["subject"], "CN=Test CA");
    assert_eq!(shown["key"], "rsa2048");
    assert_eq!(shown["issued"], 0);
    env.issue_client("pki", "alice", "alice");
    let text = env.ok("certkit-ca", &["show", "--ca", "pki"]);
    assert_contains(
        &text,
        &[
            "issued      1 certificates (1 valid, 0 revoked, 0 expired)",
            "key         rsa2048",
        ],
    );
    let err = env.fails("certkit-ca", &["show", "--ca", "nowhere"], 2);
    assert_contains(&err, &["no CA in nowhere", "certkit-ca init"]);
}

#[test]
fn a_folder_the_user_cannot_write_to_fails_cleanly_even_for_root() {
    let env = Env::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::fs::create_dir(env.path("ro")).expect("mkdir");
    std::fs::set_permissions(env.path("ro"), std::fs::Permissions::from_mode(0o555))
        .expect("chmod");
    // As root, drop to nobody (root ignores mode bits); as anyone else, the mode bits apply already.
    let root = text(&Command::new("id").arg("-u").output().expect("id").stdout).trim() == "0";
    let certkit = bin("certkit-ca").display().to_string();
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            &certkit,
        ]);
        c
    } else {
        Command::new(&certkit)
    };
    let out = cmd
        .args(cli(
            "init --ca ro/pki --cn X --key p256 --ca-pass env:CA_PW",
        ))
        .current_dir(env.dir.path())
        .env("CA_PW", CA_PW)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["ro/pki", "Permission denied"]);
    assert!(env.listing("ro").is_empty(), "{:?}", env.listing("ro"));
}
