//! `certkit-export inspect`: PFX files written by the openssl CLI judged for each consumer (the openssl and
//! keytool verdicts checked against openssl and keytool themselves), the fix command run and re-inspected, a
//! makecert-like certificate linted, certkit's own files clean, and the exit codes.

#[path = "../common/mod.rs"]
mod common;
mod peer_verdicts;
mod targets;

use common::*;

/// A self-signed server certificate and key made by the openssl CLI, as a user's existing files would be.
fn openssl_server_cert(env: &Env) {
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout srv.key -subj \
        /CN=svc.example.com -addext basicConstraints=critical,CA:FALSE -addext \
        keyUsage=critical,digitalSignature,keyEncipherment -addext \
        extendedKeyUsage=serverAuth -addext subjectAltName=DNS:svc.example.com \
        -days 365 -out srv.pem",
    ));
}

fn pfx(env: &Env, out: &str, extra: &[&str]) {
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        "srv.pem",
        "-inkey",
        "srv.key",
        "-name",
        "svc",
        "-out",
        out,
        "-passout",
        "env:PFX_PW",
    ];
    args.extend_from_slice(extra);
    env.openssl_ok(&args);
}

fn inspect(env: &Env, args: &[&str], code: i32) -> serde_json::Value {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = env.run("certkit-export", &all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn verdicts(file: &serde_json::Value) -> std::collections::HashMap<String, bool> {
    file["compatibility"]
        .as_array()
        .expect("compatibility")
        .iter()
        .map(|v| {
            (
                v["consumer"].as_str().expect("consumer").to_string(),
                v["ok"].as_bool().expect("ok"),
            )
        })
        .collect()
}

fn codes(file: &serde_json::Value) -> Vec<String> {
    file["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn pfx_verdicts_match_what_openssl_and_keytool_do_and_the_fix_loads_everywhere() {
    let env = Env::new();
    openssl_server_cert(&env);
    pfx(&env, "aes.pfx", &[]);
    pfx(
        &env,
        "des3.pfx",
        &cli("-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1"),
    );
    pfx(&env, "rc2.pfx", &["-legacy"]);
    pfx(&env, "slow.pfx", &["-iter", "400000"]);
    let expected = [
        // file: windows-legacy, windows-modern, dotnet, openssl3, java
        ("aes.pfx", [false, true, true, true, true]),
        ("des3.pfx", [true, true, true, true, true]),
        ("rc2.pfx", [true, true, true, false, true]),
        ("slow.pfx", [false, true, false, true, true]),
    ];
    for (file, wanted) in expected {
        let shown = inspect(
            &env,
            &[file, "--from-pass", "env:PFX_PW", "--role", "ssl"],
            {
                // Azure Cloud Services (windows-legacy) is where an SSL PFX goes: a "no" there is an error.
                if wanted[0] { 0 } else { 1 }
            },
        );
        let got = verdicts(&shown[0]);
        for (consumer, ok) in [
            "windows-legacy",
            "windows-modern",
            "dotnet",
            "openssl3",
            "java",
        ]
        .iter()
        .zip(wanted)
        {
            assert_eq!(
                got[*consumer], ok,
                "{file}: {consumer}: {:#}",
                shown[0]["compatibility"]
            );
        }
        assert_eq!(shown[0]["kind"], "pfx");
        assert_eq!(shown[0]["opened"], true);
        assert_eq!(shown[0]["key_matches"], true);
        assert_eq!(
            shown[0]["certificates"][0]["thumbprint"],
            env.openssl_thumbprint("srv.pem").as_str()
        );
        // The peers agree: OpenSSL 3 without -legacy and Java keytool open exactly the files said to open.
        let openssl = env.openssl(&[
            "pkcs12",
            "-in",
            file,
            "-passin",
            "env:PFX_PW",
            "-nokeys",
            "-noout",
        ]);
        assert_eq!(openssl.status.success(), wanted[3], "openssl on {file}");
        let keytool = env.tool(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                file,
                "-storepass:env",
                "PFX_PW",
            ],
        );
        assert_eq!(keytool.status.success(), wanted[4], "keytool on {file}");
        // Every file that some consumer refuses gets the command that fixes it; run it and look again.
        if wanted.contains(&false) {
            let fix = shown[0]["fix"].as_str().expect("fix").to_string();
            assert!(
                fix.starts_with(&format!(
                    "certkit-export pfx --from {file} --profile compat --out "
                )),
                "{fix}"
            );
            let fixed = fix.rsplit(' ').next().expect("output").to_string();
            env.ok(
                "certkit-export",
                &[
                    "pfx",
                    "--from",
                    file,
                    "--profile",
                    "compat",
                    "--out",
                    &fixed,
                    "--from-pass",
                    "env:PFX_PW",
                    "--pfx-pass",
                    "env:PFX_PW",
                ],
            );
            let again = inspect(
                &env,
                &[&fixed, "--from-pass", "env:PFX_PW", "--role", "ssl"],
                0,
            );
            assert!(
                verdicts(&again[0]).values().all(|ok| *ok),
                "{fixed}: {:#}",
                again[0]
            );
            assert!(again[0]["fix"].is_null());
        }
    }
    // Without a password (and no terminal) a PFX is judged from its structure alone, with a warning.
    let out = env.run("certkit-export", &["inspect", "rc2.pfx", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(shown[0]["opened"], false);
    assert!(!verdicts(&shown[0])["openssl3"]);
    assert_contains(&text(&out.stderr), &["give --from-pass"]);
}

#[test]
fn a_makecert_like_certificate_gets_every_finding_and_certkit_files_get_none() {
    let env = Env::new();
    // makecert's recipe, reproduced with the openssl CLI: a CA without keyUsage, SKI or AKI, and a client
    // certificate signed by it with SHA-1, a negative serial and a 1024-bit key.
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout myca.key -subj /CN=MyCA \
        -addext basicConstraints=critical,CA:TRUE,pathlen:1 -addext \
        subjectKeyIdentifier=none -addext authorityKeyIdentifier=none -days 3650 \
        -out myca.pem",
    ));
    env.openssl_ok(&cli(
        "req -new -newkey rsa:1024 -nodes -keyout myid.key -subj '/CN=My ID' -out myid.csr",
    ));
    std::fs::write(
        env.path("makecert.ext"),
        "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n",
    )
    .expect("ext");
    env.openssl_ok(&cli(
        "x509 -req -in myid.csr -CA myca.pem -CAkey myca.key -sha1 -set_serial \
        -4660 -days 3650 -extfile makecert.ext -out myid.pem",
    ));
    std::fs::write(
        env.path("chain.pem"),
        [env.read("myid.pem"), env.read("myca.pem")].concat(),
    )
    .expect("chain");
    let shown = inspect(&env, &["chain.pem", "--role", "client"], 1);
    let found = codes(&shown[0]);
    for code in [
        "rsa-too-small",
        "weak-signature",
        "no-key-usage",
        "no-basic-constraints",
        "no-ski",
        "no-aki",
        "serial-not-positive",
    ] {
        assert!(
            found.contains(&code.to_string()),
            "{code} missing: {found:?}"
        );
    }
    assert_eq!(shown[0]["certificates"][0]["serial"], "-1234");
    // The CA of the chain is linted as a CA: no keyUsage on a CA is an error.
    let ca_findings: Vec<&serde_json::Value> = shown[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("CN=MyCA"))
        })
        .collect();
    assert!(
        ca_findings
            .iter()
            .any(|f| f["code"] == "no-key-usage" && f["level"] == "error"),
        "{ca_findings:?}"
    );
    // openssl agrees that such a chain fails -x509_strict.
    let strict = env.openssl(&["verify", "-x509_strict", "-CAfile", "myca.pem", "myid.pem"]);
    assert!(!strict.status.success());

    // certkit's own certificates: no error for their role.
    env.init_ca("pki");
    env.issue(&cli("server --ca pki --cn svc.example.com --out srv --pfx"));
    env.issue(&cli("client --ca pki --cn Alice --out alice --pfx"));
    env.issue(&cli("encryption --self-signed --cn Data --out enc --pfx"));
    for (file, role) in [
        ("pki/ca.pem", "ca"),
        ("pki/ca.cer", "ca"),
        ("srv.cer", "ssl"),
        ("srv.pfx", "ssl"),
        ("alice.pem", "client"),
        ("alice.pfx", "client"),
        ("enc.pfx", "encryption"),
    ] {
        let shown = inspect(
            &env,
            &[file, "--role", role, "--from-pass", "env:PFX_PW"],
            0,
        );
        let errors: Vec<&serde_json::Value> = shown[0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["level"] == "error")
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
    // The roles are guessed from the extensions when not given.
    let guessed = inspect(&env, &["srv.cer", "alice.pem", "pki/ca.pem"], 0);
    assert_eq!(guessed.as_array().expect("files").len(), 3);
}

#[test]
fn csrs_crls_and_keys_are_recognised_and_unreadable_input_is_exit_2() {
    let env = Env::new();
    env.init_ca("pki");
    // Without the tests' cheaper key derivation (common::TEST_KDF_ITERATIONS): the key as users get it.
    let issued = env
        .cmd("certkit-issue")
        .args(Env::with_passwords(&cli(
            "client --ca pki --cn alice --out alice",
        )))
        .env_remove("CERTKIT_DEBUG_KDF_ITERATIONS")
        .output()
        .expect("certkit-issue");
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    env.ok(
        "certkit-ca",
        &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
    );
    env.openssl_p256_csr("bob", "/CN=Bob, O=Contoso");
    let shown = inspect(&env, &["pki/ca.crl", "bob.csr", "alice.key", "bob.key"], 0);
    assert_eq!(shown[0]["kind"], "crl");
    assert_eq!(shown[0]["crl_number"], "1");
    assert_eq!(shown[0]["revoked"].as_array().expect("revoked").len(), 1);
    assert_eq!(shown[1]["kind"], "csr");
    assert_eq!(shown[1]["signature_ok"], true);
    assert_eq!(shown[1]["subject"], "CN=Bob\\, O=Contoso");
    assert_eq!(shown[2]["kind"], "key");
    assert_eq!(shown[2]["format"], "pkcs8-encrypted");
    assert_eq!(shown[2]["encryption"]["kdf"], "PBKDF2-HMAC-SHA256");
    assert_eq!(shown[2]["encryption"]["iterations"], 600000);
    assert_eq!(shown[2]["encryption"]["cipher"], "AES-256-CBC");
    assert_eq!(shown[3]["format"], "pkcs8");
    assert_eq!(codes(&shown[3]), ["key-not-encrypted"]);
    std::fs::write(env.path("notes.txt"), "not a certificate\n").expect("write");
    let err = env.fails("certkit-export", &["inspect", "notes.txt"], 2);
    assert_contains(
        &err,
        &[
            "notes.txt",
            "not a certificate, PFX, CSR, CRL or private key",
        ],
    );
    env.fails("certkit-export", &["inspect", "missing.pem"], 2);
}

#[test]
fn names_from_a_file_never_reach_the_terminal_raw_and_fix_commands_are_quoted() {
    let env = Env::new();
    let made = env.tool("python3", &[&peer("hostile_names.py"), "."]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let raw = ['\u{1b}', '\u{7}', '\r'];
    let out = env.run("certkit-export", &["inspect", "hostile.pem"]);
    let shown = text(&out.stdout);
    assert!(
        !shown.contains(raw),
        "raw control characters in:\n{shown:?}"
    );
    assert_contains(
        &shown,
        &["\\x1B[2K\\x0Dverdict: all good", "ring\\x07@example.com"],
    );
    let out = env.run(
        "certkit-export",
        &["inspect", "my cert $(id).pfx", "--from-pass", "env:PFX_PW"],
    );
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !shown.contains(raw),
        "raw control characters in:\n{shown:?}"
    );
    assert_contains(&shown, &["\\x1B[32mfine\\x1B[0m"]);
    // JSON keeps the values as they are (JSON escapes them itself).
    let json = env.json(
        "certkit-export",
        &cli("inspect 'my cert $(id).pfx' --from-pass env:PFX_PW --json"),
    );
    assert_eq!(json[0]["friendly_name"], "\u{1b}[32mfine\u{1b}[0m");
    // The fix is one command a shell reads back with the file name as one word, and nothing run.
    let fix = json[0]["fix"].as_str().expect("fix");
    let words = env.tool(
        "python3",
        &[
            "-c",
            "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))",
            fix,
        ],
    );
    let words: Vec<String> = serde_json::from_slice(&words.stdout).expect("words");
    let from = words.iter().position(|w| w == "--from").expect("--from");
    assert_eq!(words[from + 1], "my cert $(id).pfx", "{fix}");
    assert_contains(&shown, &["'my cert $(id).pfx'"]);
}

/// The PFX encryptions and MACs certkit names, each made by the openssl CLI: (file stem, openssl pkcs12 flags).
const PFX_VARIANTS: [(&str, &[&str]); 21] = [
    (
        "3des",
        &[
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ],
    ),
    (
        "2des",
        &[
            "-keypbe",
            "PBE-SHA1-2DES",
            "-certpbe",
            "PBE-SHA1-2DES",
            "-legacy",
        ],
    ),
    ("rc2-40", &["-legacy"]),
    (
        "rc2-128",
        &[
            "-keypbe",
            "PBE-SHA1-RC2-128",
            "-certpbe",
            "PBE-SHA1-RC2-128",
            "-legacy",
        ],
    ),
    (
        "rc4-40",
        &[
            "-keypbe",
            "PBE-SHA1-RC4-40",
            "-certpbe",
            "PBE-SHA1-RC4-40",
            "-legacy",
        ],
    ),
    (
        "rc4-128",
        &[
            "-keypbe",
            "PBE-SHA1-RC4-128",
            "-certpbe",
            "PBE-SHA1-RC4-128",
            "-legacy",
        ],
    ),
    (
        "md5-des",
        &[
            "-keypbe",
            "PBE-MD5-DES",
            "-certpbe",
            "PBE-MD5-DES",
            "-legacy",
        ],
    ),
    (
        "sha1-des",
        &[
            "-keypbe",
            "PBE-SHA1-DES",
            "-certpbe",
            "PBE-SHA1-DES",
            "-legacy",
        ],
    ),
    (
        "aes-128",
        &["-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC"],
    ),
    (
        "aes-192",
        &["-keypbe", "AES-192-CBC", "-certpbe", "AES-192-CBC"],
    ),
    (
        "aes-256",
        &["-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC"],
    ),
    (
        "pbes2-3des",
        &["-keypbe", "DES-EDE3-CBC", "-certpbe", "DES-EDE3-CBC"],
    ),
    (
        "pbes2-des",
        &["-keypbe", "DES-CBC", "-certpbe", "DES-CBC", "-legacy"],
    ),
    (
        "camellia",
        &[
            "-keypbe",
            "CAMELLIA-256-CBC",
            "-certpbe",
            "CAMELLIA-256-CBC",
        ],
    ),
    ("certs-clear", &["-certpbe", "NONE"]),
    ("mac-sha1", &["-macalg", "sha1"]),
    ("mac-sha384", &["-macalg", "sha384"]),
    ("mac-sha512", &["-macalg", "sha512"]),
    ("mac-md5", &["-macalg", "md5"]),
    ("no-mac", &["-nomac"]),
    ("iter-10000", &["-iter", "10000", "-maciter"]),
];

/// `inspect --json` of a file whose certificate may have findings of its own (exit 1): the report.
fn inspected(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = env.run("certkit-export", &all);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("inspect json")
}

/// Whether a peer command succeeds.
fn peer_reads(env: &Env, program: &str, args: &[&str]) -> bool {
    env.tool(program, args).status.success()
}
