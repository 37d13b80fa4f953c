//! An offline root over an issuing CA (`certkit-ca sign-ca`): the issuing CA's certificate checked by openssl
//! (`-x509_strict`, `-untrusted`, `-crl_check_all` with both CRLs), Python `cryptography`'s strict path
//! builder and pkilint; its pathLen and lifetime limits; the root's record of it (profile `ca`), and its
//! revocation on the root's CRL failing every certificate below it.

mod common;

use common::*;

/// A root (P-256, pathLen 1, a CRL URL) and a request for "Issuing CA 1" made by the openssl CLI.
fn root_and_request(env: &Env, root_flags: &[&str]) {
    let mut flags = vec![
        "--key",
        "p256",
        "--crl-url",
        "http://pki.example.com/root.crl",
    ];
    flags.extend(root_flags);
    env.init_ca_with("root", &flags);
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "issuing.key",
        "-subj",
        "/CN=Issuing CA 1",
        "-out",
        "issuing.csr",
    ]);
}

fn sign_ca(env: &Env, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "sign-ca",
        "--ca",
        "root",
        "--csr",
        "issuing.csr",
        "--out",
        "issuing",
        "--ca-pass",
        "env:CA_PW",
        "--json",
    ];
    args.extend(extra);
    env.json("certkit-ca", &args)
}

/// A server certificate for www.example.com signed by the issuing CA's key with the openssl CLI (as an
/// issuing CA made elsewhere would).
fn leaf_under_issuing(env: &Env) {
    std::fs::write(
        env.path("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.com\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .expect("ext");
    env.openssl_p256_csr("leaf", "/CN=www.example.com");
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "issuing.pem",
        "-CAkey",
        "issuing.key",
        "-days",
        "30",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    ]);
}

fn verify(env: &Env, args: &[&str]) -> (bool, String) {
    let out = env.openssl(&[&["verify"][..], args].concat());
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn the_root_signs_an_issuing_ca_that_verifiers_accept_and_revocation_ends_it() {
    let env = Env::new();
    root_and_request(&env, &[]);
    let signed = sign_ca(&env, &["--permit-dns", "example.com"]);
    assert_eq!(signed["pathlen"], 0, "one less than the root's 1: {signed}");
    assert_eq!(signed["issuer"], "CN=Test CA");
    assert_eq!(
        signed["permitted_names"],
        serde_json::json!(["DNS:example.com"])
    );
    // openssl reads what the root signed.
    let text_of = env.x509_text("issuing.pem");
    assert_contains(
        &text_of,
        &[
            "CA:TRUE, pathlen:0",
            "Certificate Sign, CRL Sign",
            "X509v3 Name Constraints: critical",
            "http://pki.example.com/root.crl",
            "Authority Key Identifier",
        ],
    );
    let (ok, said) = verify(
        &env,
        &["-x509_strict", "-CAfile", "root/ca.pem", "issuing.pem"],
    );
    assert!(ok, "{said}");
    // A certificate under it verifies with the issuing CA given as untrusted, the root as the only anchor.
    leaf_under_issuing(&env);
    let chain = [
        "-x509_strict",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing.pem",
        "leaf.pem",
    ];
    let (ok, said) = verify(&env, &chain);
    assert!(ok, "{said}");
    let (ok, _) = verify(
        &env,
        &["-x509_strict", "-CAfile", "root/ca.pem", "leaf.pem"],
    );
    assert!(!ok, "without the issuing CA there is no path");
    let checked = env.tool(
        "python3",
        &[
            &peer("path_check.py"),
            "root/ca.pem",
            "leaf.pem",
            "server",
            "www.example.com",
            "--untrusted",
            "issuing.pem",
        ],
    );
    assert_eq!(
        text(&checked.stdout).trim(),
        "ok",
        "{}",
        text(&checked.stderr)
    );
    // pkilint: the issuing CA alone, and with the root that signed it.
    for (linter, files) in [
        ("lint_pkix_cert", vec!["issuing.pem"]),
        (
            "lint_pkix_signer_signee_cert_chain",
            vec!["root/ca.pem", "issuing.pem"],
        ),
    ] {
        pkilint_clean(&env, linter, &files);
    }
    // The root records it: listed as profile ca, audited.
    let listed = env.json(
        "certkit-ca",
        &["list", "--ca", "root", "--profile", "ca", "--json"],
    );
    assert_eq!(listed.as_array().expect("list").len(), 1, "{listed}");
    assert_eq!(listed[0]["profile"], "ca");
    assert_eq!(listed[0]["thumbprint"], signed["thumbprint"]);
    env.ok("certkit-ca", &["audit", "--ca", "root"]);
    // Both CRLs: the root's (from certkit) and the issuing CA's (empty, signed with its key by Python).
    let signed_crl = env.tool(
        "python3",
        &[
            &peer("crl_facts.py"),
            "sign",
            "issuing.pem",
            "issuing.key",
            "issuing-crl.pem",
        ],
    );
    assert!(signed_crl.status.success(), "{}", text(&signed_crl.stderr));
    let root_crl = |env: &Env| {
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "root", "--pem", "--ca-pass", "env:CA_PW"],
        );
    };
    root_crl(&env);
    let all = [
        "-crl_check_all",
        "-CAfile",
        "root/ca.pem",
        "-untrusted",
        "issuing.pem",
        "-CRLfile",
        "root/ca.crl.pem",
        "-CRLfile",
        "issuing-crl.pem",
        "leaf.pem",
    ];
    let (ok, said) = verify(&env, &all);
    assert!(ok, "{said}");
    // The root revokes the issuing CA: its next CRL lists it, and the certificate under it fails.
    env.ok(
        "certkit-ca",
        &[
            "revoke",
            "--ca",
            "root",
            "issuing.cer",
            "--reason",
            "keyCompromise",
        ],
    );
    root_crl(&env);
    let (ok, said) = verify(&env, &all);
    assert!(
        !ok,
        "a certificate under a revoked issuing CA verified: {said}"
    );
    assert_contains(&said, &["certificate revoked"]);
}

#[test]
fn path_length_limits_are_enforced_by_name() {
    let env = Env::new();
    root_and_request(&env, &["--pathlen", "0"]);
    let err = env.fails(
        "certkit-ca",
        &[
            "sign-ca",
            "--ca",
            "root",
            "--csr",
            "issuing.csr",
            "--out",
            "issuing",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["pathLen 0", "no CA below it"]);
    assert!(!env.path("issuing.cer").exists());

    let env = Env::new();
    root_and_request(&env, &["--pathlen", "2"]);
    let err = env.fails(
        "certkit-ca",
        &[
            "sign-ca",
            "--ca",
            "root",
            "--csr",
            "issuing.csr",
            "--out",
            "issuing",
            "--pathlen",
            "2",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(
        &err,
        &["--pathlen 2 is not below the pathLen 2", "use 1 or less"],
    );
    let signed = sign_ca(&env, &["--pathlen", "1"]);
    assert_eq!(signed["pathlen"], 1);
    assert_contains(&env.x509_text("issuing.pem"), &["CA:TRUE, pathlen:1"]);
}

#[test]
fn an_issuing_ca_never_outlives_its_root() {
    let env = Env::new();
    root_and_request(&env, &["--days", "100"]);
    let err = env.fails(
        "certkit-ca",
        &[
            "sign-ca",
            "--ca",
            "root",
            "--csr",
            "issuing.csr",
            "--out",
            "issuing",
            "--days",
            "200",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["would outlive the CA that signs it"]);
    // The default (five years) stops at the root's end, and says so.
    let out = env.run(
        "certkit-ca",
        &[
            "sign-ca",
            "--ca",
            "root",
            "--csr",
            "issuing.csr",
            "--out",
            "issuing",
            "--ca-pass",
            "env:CA_PW",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["not the default five years"]);
    let signed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let root = env.json("certkit-ca", &["show", "--ca", "root", "--json"]);
    assert_eq!(signed["not_after"], root["not_after"]);
}

#[test]
fn certkit_issue_neither_makes_nor_renews_a_ca() {
    let env = Env::new();
    root_and_request(&env, &[]);
    let signed = sign_ca(&env, &[]);
    let err = env.fails(
        "certkit-issue",
        &[
            "sign",
            "--ca",
            "root",
            "--csr",
            "issuing.csr",
            "--profile",
            "ca",
            "--out",
            "x",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["certkit-ca sign-ca"]);
    let err = env.fails(
        "certkit-issue",
        &[
            "renew",
            "--ca",
            "root",
            signed["serial"].as_str().expect("serial"),
            "--out",
            "again",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert_contains(&err, &["certkit-ca sign-ca"]);
    assert!(!env.path("x.cer").exists() && !env.path("again.cer").exists());
}

/// An issuing CA made apart from the root: `init --request`, the root's `sign-ca`, then `install`. Returns the
/// sign-ca JSON.
fn air_gapped(env: &Env, root_flags: &[&str], sign_flags: &[&str]) -> serde_json::Value {
    let mut flags = vec!["--key", "p256"];
    flags.extend(root_flags);
    env.init_ca_with("root", &flags);
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "issuing",
            "--cn",
            "Issuing CA 1",
            "--key",
            "p256",
            "--crl-url",
            "http://pki.example.com/issuing.crl",
            "--request",
            "issuing.csr",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    let signed = sign_ca(env, sign_flags);
    env.ok(
        "certkit-ca",
        &[
            "install",
            "--ca",
            "issuing",
            "--cert",
            "issuing.cer",
            "--chain",
            "root/ca.cer",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    signed
}

#[test]
fn an_issuing_ca_made_apart_signs_nothing_until_installed_then_issues_full_chains() {
    let env = Env::new();
    env.init_ca_with("root", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "issuing",
            "--cn",
            "Issuing CA 1",
            "--key",
            "p256",
            "--request",
            "issuing.csr",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    // The request is the key's (openssl checks its signature); the folder signs nothing yet, and says why.
    env.openssl_ok(&["req", "-in", "issuing.csr", "-verify", "-noout"]);
    assert_eq!(env.read("issuing.csr"), env.read("issuing/ca.csr"));
    for args in [
        &[
            "client", "--ca", "issuing", "--cn", "alice", "--out", "early",
        ][..],
        &[
            "server",
            "--ca",
            "issuing",
            "--cn",
            "www.example.com",
            "--out",
            "early",
        ],
    ] {
        let out = env.run("certkit-issue", &Env::with_passwords(args));
        assert!(!out.status.success());
        assert_contains(
            &text(&out.stderr),
            &["waits for its certificate", "install"],
        );
    }
    assert!(!env.path("early.cer").exists());
    let err = env.fails(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "issuing",
            "--cn",
            "Again",
            "--ca-pass",
            "env:CA_PW",
        ],
        1,
    );
    assert_contains(&err, &["issuing"]);
    // The root signs; install checks the certificate and the chain before anything changes.
    sign_ca(&env, &[]);
    env.init_ca_with("stranger", &["--key", "p256"]);
    env.openssl_p256_csr("other", "/CN=Other CA");
    env.ok(
        "certkit-ca",
        &[
            "sign-ca",
            "--ca",
            "root",
            "--csr",
            "other.csr",
            "--out",
            "other",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    let install = |cert: &str, chain: &str| {
        env.run(
            "certkit-ca",
            &[
                "install",
                "--ca",
                "issuing",
                "--cert",
                cert,
                "--chain",
                chain,
                "--ca-pass",
                "env:CA_PW",
            ],
        )
    };
    for (cert, chain, says) in [
        ("other.cer", "root/ca.cer", "not for this CA's key"),
        ("issuing.cer", "stranger/ca.cer", "does not verify"),
        ("issuing.cer", "issuing.cer", "not a self-signed root"),
    ] {
        let out = install(cert, chain);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{cert} {chain}: {}",
            text(&out.stderr)
        );
        assert_contains(&text(&out.stderr), &[says]);
        assert!(!env.path("issuing/ca.pem").exists(), "{cert} {chain}");
    }
    let out = install("issuing.cer", "root/ca.cer");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root_thumbprint = env.openssl_thumbprint("root/ca.pem");
    assert_contains(
        &text(&out.stdout),
        &[&format!(
            "<Setting name=\"AdditionalTrustedRootCertificationAuthorities\" value=\"{root_thumbprint}\" />"
        )],
    );
    let out = install("issuing.cer", "root/ca.cer");
    assert_contains(&text(&out.stderr), &["has its certificate already"]);
    // chain.pem: the issuing CA, then the root; show names the chain.
    let chain = text(&env.read("issuing/chain.pem"));
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    let shown = env.json("certkit-ca", &["show", "--ca", "issuing", "--json"]);
    assert_eq!(shown["chain"], serde_json::json!(["CN=Test CA"]), "{shown}");
    // It issues: a server and a client certificate, each in a PFX with the whole path.
    env.issue(&[
        "server",
        "--ca",
        "issuing",
        "--cn",
        "localhost",
        "--out",
        "srv",
        "--key",
        "p256",
        "--pfx",
    ]);
    env.issue(&[
        "client",
        "--ca",
        "issuing",
        "--cn",
        "alice",
        "--email",
        "alice@example.com",
        "--out",
        "alice",
        "--key",
        "p256",
        "--pfx",
    ]);
    for leaf in ["srv.pem", "alice.pem"] {
        let (ok, said) = verify(
            &env,
            &[
                "-x509_strict",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "issuing/ca.pem",
                leaf,
            ],
        );
        assert!(ok, "{leaf}: {said}");
    }
    let checked = env.tool(
        "python3",
        &[
            &peer("path_check.py"),
            "root/ca.pem",
            "alice.pem",
            "client",
            "--untrusted",
            "issuing/ca.pem",
        ],
    );
    assert_eq!(
        text(&checked.stdout).trim(),
        "ok",
        "{}",
        text(&checked.stderr)
    );
    let keytool = env.tool(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            "alice.pfx",
            "-storepass:env",
            "PFX_PW",
        ],
    );
    assert!(keytool.status.success(), "{}", text(&keytool.stderr));
    assert_contains(
        &text(&keytool.stdout),
        &[
            "Certificate chain length: 3",
            "CN=Issuing CA 1",
            "CN=Test CA",
        ],
    );
    // TLS 1.2: the client trusts only the root; the server presents its certificate with the issuing CA's.
    std::fs::write(
        env.path("both.pem"),
        [env.read("root/ca.pem"), env.read("issuing/ca.pem")].concat(),
    )
    .expect("bundle");
    let handshake = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "both.pem",
        ("alice.pem", "alice.key"),
        "root/ca.pem",
        &["-cert_chain", "issuing/ca.pem"],
    );
    assert!(
        handshake.ok,
        "{}\n{}",
        handshake.client_output, handshake.server_output
    );
    // And the reverse: the server trusts only the root; the client presents its certificate with the
    // issuing CA's (as the PFX carries it).
    let handshake = tls12_handshake_with(
        &env,
        ("srv.pem", "srv.key"),
        "root/ca.pem",
        ("alice.pem", "alice.key"),
        "root/ca.pem",
        &["-cert_chain", "issuing/ca.pem"],
        &["-cert_chain", "issuing/ca.pem"],
    );
    assert!(
        handshake.ok,
        "{}\n{}",
        handshake.client_output, handshake.server_output
    );
    // Without the issuing CA the server cannot build the client's path: the handshake fails.
    let handshake = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "root/ca.pem",
        ("alice.pem", "alice.key"),
        "root/ca.pem",
        &["-cert_chain", "issuing/ca.pem"],
    );
    assert!(
        !handshake.ok,
        "a client path without its issuing CA was accepted"
    );
    // Every profile, with both CRLs (certkit's, of the root and of the issuing CA): openssl checks the whole
    // path, and pkilint finds nothing in the leaves, their chain links or either CRL.
    env.issue(&[
        "encryption",
        "--ca",
        "issuing",
        "--cn",
        "Data Encryption",
        "--out",
        "enc",
        "--key",
        "p256",
    ]);
    // (A server name with a dot: pkilint holds a single-label name such as localhost to be no domain name.)
    env.issue(&[
        "server",
        "--ca",
        "issuing",
        "--cn",
        "www.example.com",
        "--out",
        "www",
        "--key",
        "p256",
    ]);
    for ca in ["root", "issuing"] {
        env.ok(
            "certkit-ca",
            &["crl", "--ca", ca, "--pem", "--ca-pass", "env:CA_PW"],
        );
    }
    for leaf in ["www.pem", "alice.pem", "enc.pem"] {
        let (ok, said) = verify(
            &env,
            &[
                "-x509_strict",
                "-crl_check_all",
                "-CAfile",
                "root/ca.pem",
                "-untrusted",
                "issuing/ca.pem",
                "-CRLfile",
                "root/ca.crl.pem",
                "-CRLfile",
                "issuing/ca.crl.pem",
                leaf,
            ],
        );
        assert!(ok, "{leaf}: {said}");
        for (linter, files) in [
            ("lint_pkix_cert", vec![leaf]),
            (
                "lint_pkix_signer_signee_cert_chain",
                vec!["issuing/ca.pem", leaf],
            ),
        ] {
            pkilint_clean(&env, linter, &files);
        }
    }
    for crl in ["root/ca.crl.pem", "issuing/ca.crl.pem"] {
        pkilint_clean(&env, "lint_crl", &[crl]);
    }
    // NSS, trusting only the root: the path holds with the issuing CA given, and not without it.
    std::fs::create_dir(env.path("nssdb")).expect("db");
    for args in [
        &["-N", "-d", "sql:nssdb", "--empty-password"][..],
        &[
            "-A",
            "-d",
            "sql:nssdb",
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            "root/ca.cer",
        ],
    ] {
        let out = env.tool("certutil", args);
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            text(&out.stderr)
        );
    }
    env.openssl_ok(&[
        "x509",
        "-in",
        "alice.pem",
        "-outform",
        "DER",
        "-out",
        "alice.der",
    ]);
    let nss = |certs: &[&str]| {
        let mut args = vec!["-d", "sql:nssdb", "-u", "0"];
        args.extend(certs);
        let out = env.tool("vfychain", &args);
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    assert_contains(&nss(&["alice.der", "issuing/ca.cer"]), &["Chain is good!"]);
    assert!(!nss(&["alice.der"]).contains("Chain is good!"));
    env.ok("certkit-ca", &["audit", "--ca", "issuing"]);
}

#[test]
fn the_constraints_of_every_ca_above_bind_what_the_issuing_ca_signs() {
    let env = Env::new();
    // The root permits example.com only; the issuing CA has no constraints of its own.
    air_gapped(&env, &["--permit-dns", "example.com"], &[]);
    let out = env.run(
        "certkit-issue",
        &Env::with_passwords(&[
            "server",
            "--ca",
            "issuing",
            "--cn",
            "www.evil.org",
            "--out",
            "evil",
        ]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["www.evil.org", "DNS:example.com"]);
    assert!(!env.path("evil.cer").exists());
    std::fs::write(
        env.path("team.csv"),
        "cn,out\ngood,good\nwww.evil.org,bad\n",
    )
    .expect("csv");
    let out = env.run(
        "certkit-issue",
        &Env::with_passwords(&[
            "client",
            "--ca",
            "issuing",
            "--batch",
            "team.csv",
            "--out-dir",
            "team",
        ]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["line 3", "www.evil.org"]);
    env.issue(&[
        "server",
        "--ca",
        "issuing",
        "--cn",
        "www.example.com",
        "--out",
        "good",
    ]);
    // A chain.pem changed by hand is refused, not trusted.
    env.tampered("issuing");
    std::fs::write(env.path("issuing/chain.pem"), env.read("issuing/ca.pem")).expect("plant");
    std::fs::write(
        env.path("issuing/chain.pem"),
        [env.read("issuing/ca.pem"), env.read("good.pem")].concat(),
    )
    .expect("plant");
    let out = env.run(
        "certkit-issue",
        &Env::with_passwords(&[
            "server",
            "--ca",
            "issuing",
            "--cn",
            "www.example.com",
            "--out",
            "again",
        ]),
    );
    assert!(!out.status.success());
    assert_contains(&text(&out.stderr), &["chain.pem was changed"]);
    let audit = env.run("certkit-ca", &["audit", "--ca", "issuing", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(&text(&audit.stdout), &["chain-changed"]);
}

#[test]
fn on_one_machine_the_root_signs_at_init_and_path_lengths_stack() {
    let env = Env::new();
    env.set_var("ROOT_PW", "the root's own password");
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "root",
            "--cn",
            "Test CA",
            "--key",
            "p256",
            "--pathlen",
            "2",
            "--ca-pass",
            "env:ROOT_PW",
        ],
    );
    let under = |dir: &str, parent: &str, cn: &str, parent_pw: &str| {
        env.run(
            "certkit-ca",
            &[
                "init",
                "--ca",
                dir,
                "--parent",
                parent,
                "--cn",
                cn,
                "--key",
                "p256",
                "--parent-pass",
                parent_pw,
                "--ca-pass",
                "env:CA_PW",
                "--json",
            ],
        )
    };
    // A wrong root password: refused before anything is made.
    let out = under("issuing", "root", "Issuing CA 1", "env:CA_PW");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!env.path("issuing").exists());
    let out = under("issuing", "root", "Issuing CA 1", "env:ROOT_PW");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(made["chain"], serde_json::json!(["CN=Test CA"]));
    assert_eq!(
        made["root_thumbprint"],
        env.openssl_thumbprint("root/ca.pem").as_str()
    );
    assert_contains(&env.x509_text("issuing/ca.pem"), &["CA:TRUE, pathlen:1"]);
    let listed = env.json(
        "certkit-ca",
        &["list", "--ca", "root", "--profile", "ca", "--json"],
    );
    assert_eq!(listed[0]["thumbprint"], made["thumbprint"]);
    // A third tier under the issuing CA (pathLen 1 allows one), and none under that (pathLen 0).
    let out = under("team", "issuing", "Team CA", "env:CA_PW");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let team: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        team["chain"],
        serde_json::json!(["CN=Issuing CA 1", "CN=Test CA"])
    );
    let out = under("deeper", "team", "Too Deep", "env:CA_PW");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["CN=Team CA has pathLen 0"]);
    assert!(
        !env.path("deeper").exists(),
        "no key made for a CA that cannot be signed"
    );
    // A certificate from the third tier verifies up to the root through both CAs.
    env.issue(&[
        "client", "--ca", "team", "--cn", "carol", "--out", "carol", "--key", "p256", "--pfx",
    ]);
    std::fs::write(
        env.path("middle.pem"),
        [env.read("team/ca.pem"), env.read("issuing/ca.pem")].concat(),
    )
    .expect("bundle");
    let (ok, said) = verify(
        &env,
        &[
            "-x509_strict",
            "-CAfile",
            "root/ca.pem",
            "-untrusted",
            "middle.pem",
            "carol.pem",
        ],
    );
    assert!(ok, "{said}");
    assert_contains(
        &text(
            &env.tool(
                "keytool",
                &[
                    "-list",
                    "-v",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    "carol.pfx",
                    "-storepass:env",
                    "PFX_PW",
                ],
            )
            .stdout,
        ),
        &["Certificate chain length: 4"],
    );
    for ca in ["root", "issuing", "team"] {
        env.ok("certkit-ca", &["audit", "--ca", ca]);
    }
}

#[test]
fn export_and_the_service_configuration_understand_a_chain() {
    let env = Env::new();
    air_gapped(&env, &[], &[]);
    env.issue(&[
        "client", "--ca", "issuing", "--cn", "alice", "--out", "alice", "--key", "p256", "--pfx",
    ]);
    let root = env.openssl_thumbprint("root/ca.pem");
    let issuing = env.openssl_thumbprint("issuing/ca.pem");
    // cer --issuer: the issuing CA, with a word that it is not a root; --root: the root, with how to trust it.
    let out = env.run(
        "certkit-export",
        &[
            "cer",
            "--in",
            "alice.pfx",
            "--issuer",
            "--out",
            "i.cer",
            "--pfx-pass",
            "env:PFX_PW",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(got["thumbprint"], issuing.as_str());
    assert!(got["trust"].is_null(), "{got}");
    assert_contains(&text(&out.stderr), &["not a root", "--root"]);
    for input in ["alice.pfx", "issuing/chain.pem"] {
        let out_file = format!("r-{}.cer", input.replace('/', "-"));
        let got = env.json(
            "certkit-export",
            &[
                "cer",
                "--in",
                input,
                "--root",
                "--out",
                &out_file,
                "--pfx-pass",
                "env:PFX_PW",
                "--json",
            ],
        );
        assert_eq!(got["thumbprint"], root.as_str(), "{input}");
        assert!(got["trust"]["windows"].is_string(), "{got}");
        assert_eq!(env.openssl_thumbprint(&out_file), root);
    }
    let err = env.fails(
        "certkit-export",
        &["cer", "--in", "issuing/ca.pem", "--root", "--out", "x.cer"],
        2,
    );
    assert_contains(&err, &["holds no certificate of the issuer CN=Test CA"]);
    // cscfg --ca-cert with the issuing CA's chain: the service trusts the root.
    std::fs::copy(example_cscfg(), env.path("svc.cscfg")).expect("copy");
    let out = env.run(
        "certkit-export",
        &[
            "cscfg",
            "--file",
            "svc.cscfg",
            "--ca-cert",
            "issuing/chain.pem",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["is an issuing CA", &root]);
    let read = env.read_cscfg("svc.cscfg");
    let role = read
        .as_object()
        .expect("roles")
        .values()
        .find(|r| r["certificates"]["CA"].is_array())
        .expect("a role with the CA entry")
        .clone();
    assert_eq!(role["certificates"]["CA"][0], root.as_str());
    assert_eq!(
        role["settings"]["AdditionalTrustedRootCertificationAuthorities"],
        root.as_str()
    );
    let err = env.fails(
        "certkit-export",
        &[
            "cscfg",
            "--file",
            "svc.cscfg",
            "--ca-cert",
            "issuing/ca.cer",
        ],
        2,
    );
    assert_contains(&err, &["is not a root", "chain.pem"]);
    // --check --ca-dir of the issuing CA wants the root in the CA entry, and says so when it is the issuing CA.
    let check = |env: &Env| {
        let out = env.run(
            "certkit-export",
            &[
                "cscfg",
                "--file",
                "svc.cscfg",
                "--check",
                "--ca-dir",
                "issuing",
                "--json",
            ],
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == "ca-not-this-ca")
            .map(|f| f["message"].as_str().unwrap_or("").to_string())
            .collect::<Vec<String>>()
    };
    assert!(check(&env).is_empty(), "{:?}", check(&env));
    let text_now = text(&env.read("svc.cscfg"));
    std::fs::write(
        env.path("svc.cscfg"),
        text_now.replace(
            &format!("thumbprint=\"{root}\""),
            &format!("thumbprint=\"{issuing}\""),
        ),
    )
    .expect("edit");
    let found = check(&env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_contains(
        &found[0],
        &["the root of the CA in the folder given", &root],
    );
}

#[test]
fn where_to_fetch_each_ca_goes_into_what_it_signs_and_the_folder_names_its_parent() {
    let env = Env::new();
    env.init_ca_with(
        "root",
        &[
            "--key",
            "p256",
            "--aia-url",
            "http://pki.example.com/root.cer",
        ],
    );
    env.ok(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "issuing",
            "--parent",
            "root",
            "--cn",
            "Issuing CA 1",
            "--key",
            "p256",
            "--aia-url",
            "http://pki.example.com/issuing.cer",
            "--parent-pass",
            "env:CA_PW",
            "--ca-pass",
            "env:CA_PW",
        ],
    );
    env.issue(&[
        "server",
        "--ca",
        "issuing",
        "--cn",
        "www.example.com",
        "--out",
        "www",
        "--key",
        "p256",
    ]);
    assert_contains(
        &env.x509_text("issuing/ca.pem"),
        &[
            "Authority Information Access",
            "CA Issuers - URI:http://pki.example.com/root.cer",
        ],
    );
    assert_contains(
        &env.x509_text("www.pem"),
        &["CA Issuers - URI:http://pki.example.com/issuing.cer"],
    );
    pkilint_clean(&env, "lint_pkix_cert", &["www.pem"]);
    let settings: serde_json::Value =
        serde_json::from_slice(&env.read("issuing/ca.json")).expect("ca.json");
    assert_eq!(settings["parent"]["subject"], "CN=Test CA", "{settings}");
    assert_eq!(
        settings["parent"]["thumbprint"],
        env.openssl_thumbprint("root/ca.pem").as_str()
    );
    assert_eq!(settings["aia_url"], "http://pki.example.com/issuing.cer");
    // A bad URL is refused before anything is made.
    let err = env.fails(
        "certkit-ca",
        &[
            "init",
            "--ca",
            "bad",
            "--cn",
            "Bad",
            "--aia-url",
            "ftp://x",
            "--ca-pass",
            "env:CA_PW",
        ],
        2,
    );
    assert!(!err.is_empty());
    assert!(!env.path("bad").exists());
}

#[test]
fn status_reports_when_a_ca_above_runs_out() {
    let env = Env::new();
    env.root_and_issuing("root", "issuing", &["--days", "300"], &["--days", "200"]);
    let out = env.run("certkit-ca", &["status", "--ca", "issuing", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let chain: Vec<&serde_json::Value> = json["facts"]
        .as_array()
        .expect("facts")
        .iter()
        .filter(|f| f["check"] == "ca-chain")
        .collect();
    assert_eq!(chain.len(), 1, "{json}");
    assert_eq!(
        chain[0]["level"], "WARNING",
        "the root ends within a year: {json}"
    );
    assert_contains(
        chain[0]["message"].as_str().expect("message"),
        &["CN=Test CA"],
    );
    let root = env.json("certkit-ca", &["show", "--ca", "root", "--json"]);
    assert_eq!(chain[0]["until"], root["not_after"]);
    // Past the root's end: critical, whatever the issuing CA's own dates say.
    let out = env.run(
        "certkit-ca",
        &["status", "--ca", "issuing", "--at", "2099-01-01"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stdout), &["CRITICAL  ca-chain"]);
}
