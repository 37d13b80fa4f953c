//! An issuing CA made on another machine: signs nothing until installed, then issues under every constraint
//! of the CAs above.

use super::*;

#[test]
fn an_issuing_ca_made_apart_signs_nothing_until_installed_then_issues_full_chains() {
    let env = Env::new();
    env.init_ca_with("root", &["--key", "p256"]);
    env.ok(
        "certkit-ca",
        &cli(
            "init --ca issuing --cn 'Issuing CA 1' --key p256 --request issuing.csr \
            --ca-pass env:CA_PW",
        ),
    );
    // The request is the key's (openssl checks its signature); the folder signs nothing yet, and says why.
    env.openssl_ok(&["req", "-in", "issuing.csr", "-verify", "-noout"]);
    assert_eq!(env.read("issuing.csr"), env.read("issuing/ca.csr"));
    for args in [
        &cli("client --ca issuing --cn alice --out early")[..],
        &cli("server --ca issuing --cn www.example.com --out early"),
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
        &cli("init --ca issuing --cn Again --ca-pass env:CA_PW"),
        1,
    );
    assert_contains(&err, &["issuing"]);
    // The root signs; install checks the certificate and the chain before anything changes.
    sign_ca(&env, &[]);
    env.init_ca_with("stranger", &["--key", "p256"]);
    env.openssl_p256_csr("other", "/CN=Other CA");
    env.ok(
        "certkit-ca",
        &cli("sign-ca --ca root --csr other.csr --out other --ca-pass env:CA_PW"),
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
    env.issue(&cli(
        "server --ca issuing --cn localhost --out srv --key p256 --pfx",
    ));
    env.issue(&cli(
        "client --ca issuing --cn alice --email alice@example.com --out alice \
        --key p256 --pfx",
    ));
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
        &cli("-list -v -storetype PKCS12 -keystore alice.pfx -storepass:env PFX_PW"),
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
    handshake.assert_ok();
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
    handshake.assert_ok();
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
    env.issue(&cli(
        "encryption --ca issuing --cn 'Data Encryption' --out enc --key p256",
    ));
    // (A server name with a dot: pkilint holds a single-label name such as localhost to be no domain name.)
    env.issue(&cli(
        "server --ca issuing --cn www.example.com --out www --key p256",
    ));
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
        &cli("-A -d sql:nssdb -n root -t CT,C,C -i root/ca.cer"),
    ] {
        let out = env.tool("certutil", args);
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            text(&out.stderr)
        );
    }
    env.openssl_ok(&cli("x509 -in alice.pem -outform DER -out alice.der"));
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
        &Env::with_passwords(&cli("server --ca issuing --cn www.evil.org --out evil")),
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
        &Env::with_passwords(&cli("client --ca issuing --batch team.csv --out-dir team")),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_contains(&text(&out.stderr), &["line 3", "www.evil.org"]);
    env.issue(&cli("server --ca issuing --cn www.example.com --out good"));
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
        &Env::with_passwords(&cli("server --ca issuing --cn www.example.com --out again")),
    );
    assert!(!out.status.success());
    assert_contains(&text(&out.stderr), &["chain.pem was changed"]);
    let audit = env.run("certkit-ca", &["audit", "--ca", "issuing", "--json"]);
    assert_eq!(audit.status.code(), Some(1));
    assert_contains(&text(&audit.stdout), &["chain-changed"]);
}
