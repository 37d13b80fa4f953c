//! `certkit-export tls12`: the .reg file holds exactly the guide's keys and values, in the encoding
//! `reg import` reads (checked with Python's UTF-16 decoder too), and never overwrites; the trust-store check
//! finds Azure's roots in this machine's /etc/ssl/certs and misses them in a bundle without them.

mod common;

use common::*;

/// The guide's registry settings (seeds/000_565c6b8710311703.txt), written out by hand.
const GUIDE: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client]\r\n\
\"Enabled\"=dword:00000001\r\n\
\"DisabledByDefault\"=dword:00000000\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319]\r\n\
\"SystemDefaultTlsVersions\"=dword:00000001\r\n\
\"SchUseStrongCrypto\"=dword:00000001\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319]\r\n\
\"SystemDefaultTlsVersions\"=dword:00000001\r\n\
\"SchUseStrongCrypto\"=dword:00000001\r\n";

#[test]
fn the_reg_file_holds_the_guides_settings_in_utf16_and_is_never_overwritten() {
    let env = Env::new();
    let shown = env.json("certkit-export", &["tls12", "--out", "tls12.reg", "--json"]);
    assert_eq!(shown["reg"], "tls12.reg");
    let bytes = env.read("tls12.reg");
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE byte order mark");
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(String::from_utf16(&units).expect("UTF-16"), GUIDE);
    let python = env.tool(
        "python3",
        &[
            "-c",
            "import sys; sys.stdout.write(open('tls12.reg', encoding='utf-16', newline='').read())",
        ],
    );
    assert_eq!(text(&python.stdout), GUIDE);
    let err = env.fails("certkit-export", &["tls12", "--out", "tls12.reg"], 1);
    assert_contains(&err, &["exists already"]);
    assert_eq!(env.read("tls12.reg"), bytes);
}

#[test]
fn azure_roots_are_found_in_the_system_store_and_missed_in_a_bundle_without_them() {
    let env = Env::new();
    let out = env.run(
        "certkit-export",
        &["tls12", "--roots", "/etc/ssl/certs", "--json"],
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let status = |name: &str| {
        shown["roots"]["roots"]
            .as_array()
            .expect("roots")
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["status"].as_str().expect("status").to_string())
            .expect("root")
    };
    assert_eq!(status("DigiCert Global Root G2"), "present");
    assert_eq!(status("DigiCert Global Root CA"), "present");
    // Baltimore CyberTrust Root expired on 2025-05-12: expired or gone, never needed.
    assert_ne!(status("Baltimore CyberTrust Root"), "present");
    let all_needed_present = shown["roots"]["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .all(|r| r["status"] == "present" || r["needed"] == false);
    assert_eq!(out.status.success(), all_needed_present);
    assert_eq!(shown["ok"], all_needed_present);
    // The thumbprints certkit looks for are those openssl computes for the system's copies.
    assert_eq!(
        env.openssl_thumbprint("/etc/ssl/certs/DigiCert_Global_Root_G2.pem"),
        "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"
    );

    env.init_ca("pki");
    std::fs::write(
        env.path("bundle.pem"),
        [
            std::fs::read("/etc/ssl/certs/ISRG_Root_X1.pem").expect("ISRG root"),
            env.read("pki/ca.pem"),
        ]
        .concat(),
    )
    .expect("bundle");
    let out = env.run(
        "certkit-export",
        &["tls12", "--roots", "bundle.pem", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(shown["roots"]["certificates"], 2);
    assert!(
        shown["roots"]["roots"]
            .as_array()
            .expect("roots")
            .iter()
            .all(|r| r["status"] == "missing"),
        "{shown:#}"
    );
    std::fs::create_dir(env.path("empty")).expect("mkdir");
    let err = env.fails("certkit-export", &["tls12", "--roots", "empty"], 2);
    assert_contains(&err, &["holds no certificate"]);
    env.fails("certkit-export", &["tls12"], 2);
}
