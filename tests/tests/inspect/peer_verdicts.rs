//! The per-consumer verdicts checked against the consumers themselves: openssl, keytool, mono.

use super::*;

#[test]
fn the_openssl_and_java_verdicts_are_what_openssl_and_keytool_do() {
    let env = Env::new();
    env.set_var("PW", PFX_PW);
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=peer -days 30",
    ));
    for (stem, flags) in PFX_VARIANTS {
        let file = format!("{stem}.pfx");
        let mut args = vec![
            "pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-passout", "env:PW", "-out",
            &file,
        ];
        args.extend_from_slice(flags);
        env.openssl_ok(&args);
        let peers = [
            (
                "openssl3",
                peer_reads(
                    &env,
                    "openssl",
                    &["pkcs12", "-in", &file, "-passin", "env:PW", "-noout"],
                ),
            ),
            (
                "openssl3-legacy",
                peer_reads(
                    &env,
                    "openssl",
                    &[
                        "pkcs12", "-in", &file, "-passin", "env:PW", "-noout", "-legacy",
                    ],
                ),
            ),
            (
                "java",
                peer_reads(
                    &env,
                    "keytool",
                    &[
                        "-list",
                        "-keystore",
                        &file,
                        "-storetype",
                        "PKCS12",
                        "-storepass",
                        PFX_PW,
                    ],
                ),
            ),
        ];
        let report = inspected(&env, &[&file]);
        let verdicts = report[0]["compatibility"].as_array().expect("verdicts");
        for (consumer, reads) in peers {
            let verdict = verdicts
                .iter()
                .find(|v| v["consumer"] == consumer)
                .unwrap_or_else(|| panic!("{stem}: no {consumer} verdict"));
            assert_eq!(
                verdict["ok"].as_bool(),
                Some(reads),
                "{stem}: certkit says {consumer} {} ({}), the peer {}",
                verdict["ok"],
                verdict["reason"],
                if reads { "reads it" } else { "refuses it" }
            );
        }
        // Whatever the verdicts, certkit itself opens every one of them with the password.
        let opened = inspected(&env, &[&file, "--from-pass", "env:PFX_PW"]);
        assert_eq!(opened[0]["key_matches"], true, "{stem}");
    }
}

#[test]
fn mono_agrees_with_the_dotnet_verdict_where_its_reader_applies() {
    // Mono's PKCS#12 reader predates PBES2 and differs from .NET 9's in the PBES1 files it takes; where both
    // read the same thing (3DES or RC2-40 with a SHA-1 MAC: what Windows, pvk2pfx and certkit's compat
    // profile write) it must load what the dotnet verdict passes.
    let env = Env::new();
    env.set_var("PW", PFX_PW);
    let compiled = env.tool(
        "mcs",
        &["-r:System.dll", "-out:pfx_load.exe", &peer("pfx_load.cs")],
    );
    assert!(
        compiled.status.success(),
        "mcs (mono-mcs) is required for this test (scripts/test.sh installs it): {}",
        text(&compiled.stderr)
    );
    env.init_ca_with("pki", &["--key", "p256"]);
    env.issue(&cli("client --ca pki --cn alice --out alice --pfx"));
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=peer -days 30",
    ));
    env.openssl_ok(&cli(
        "pkcs12 -export -in c.pem -inkey k.pem -passout env:PW -out pvk2pfx-style.pfx -legacy",
    ));
    for file in ["alice.pfx", "pvk2pfx-style.pfx"] {
        let report = inspected(&env, &[file]);
        let dotnet = report[0]["compatibility"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|v| v["consumer"] == "dotnet")
            .expect("dotnet verdict")
            .clone();
        assert_eq!(dotnet["ok"], true, "{file}: {dotnet}");
        let out = env.tool("mono", &["pfx_load.exe", file]);
        assert!(
            out.status.success(),
            "{file}: Mono refuses what certkit says .NET loads: {}",
            text(&out.stdout)
        );
        assert_contains(&text(&out.stdout), &["key=True"]);
    }
}

#[test]
fn a_pfx_without_a_mac_or_with_an_empty_password_is_read_and_converted() {
    let env = Env::new();
    env.set_var("PW", PFX_PW);
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=vault -days 30",
    ));
    let thumbprint = env.openssl_thumbprint("c.pem");
    env.openssl_ok(&cli(
        "pkcs12 -export -in c.pem -inkey k.pem -passout env:PW -out nomac.pfx -nomac",
    ));
    // As Azure Key Vault hands them out: no password at all.
    env.openssl_ok(&cli(
        "pkcs12 -export -in c.pem -inkey k.pem -passout pass: -out vault.pfx",
    ));
    let report = inspected(&env, &["nomac.pfx", "--from-pass", "env:PFX_PW"]);
    assert_eq!(report[0]["key_matches"], true, "{report}");
    let codes: Vec<&str> = report[0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"pfx-no-mac"), "{codes:?}");
    let report = inspected(&env, &["vault.pfx", "--from-pass", "empty"]);
    assert_eq!(report[0]["key_matches"], true, "{report}");
    for (from, pass, out) in [
        ("nomac.pfx", "env:PFX_PW", "nomac-compat.pfx"),
        ("vault.pfx", "empty", "vault-compat.pfx"),
    ] {
        env.ok(
            "certkit-export",
            &[
                "pfx",
                "--from",
                from,
                "--from-pass",
                pass,
                "--out",
                out,
                "--pfx-pass",
                "env:PFX_PW",
                "--profile",
                "compat",
            ],
        );
        // The new file has a MAC and a password, and holds the same certificate (openssl reads it).
        env.openssl_ok(&[
            "pkcs12", "-in", out, "-passin", "env:PW", "-nokeys", "-out", "back.pem",
        ]);
        assert_eq!(env.openssl_thumbprint("back.pem"), thumbprint, "{from}");
    }
    // empty opens a PFX; it never protects anything new.
    let err = env.fails(
        "certkit-export",
        &cli("pfx --from vault.pfx --from-pass empty --out x.pfx --pfx-pass empty"),
        2,
    );
    assert_contains(&err, &["--pfx-pass empty", "only for opening a PFX"]);
    assert!(!env.path("x.pfx").exists());
    env.init_ca_with("pki", &["--key", "p256"]);
    let err = env.fails(
        "certkit-issue",
        &cli("client --ca pki --cn x --out x --key p256 --ca-pass empty --key-pass env:KEY_PW"),
        2,
    );
    assert_contains(&err, &["--ca-pass empty"]);
}
