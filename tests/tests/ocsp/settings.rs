//! The CA names its responder (`init --ocsp-url`): authorityInfoAccess OCSP in everything it signs (every
//! profile, CSR-signed, renewed, batch; an issuing CA carries its root's URL), shown by `show` and `inspect`,
//! kept by a backup (under its MAC) and a restore, and signed like every setting.

use super::*;

/// The OCSP URLs openssl reads in the certificate `file`.
fn ocsp_urls(env: &Env, file: &str) -> Vec<String> {
    let out = env.openssl_ok(&cli(&format!(
        "x509 -in {file} -noout -ext authorityInfoAccess"
    )));
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("OCSP - URI:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_responder_url_reaches_everything_the_ca_signs_and_survives_a_backup() {
    let env = Env::new();
    let root_url = "http://ocsp.example.com/root";
    let url = "http://ocsp.example.com/issuing";
    env.root_and_issuing(
        "root",
        "issuing",
        &["--ocsp-url", root_url],
        &[
            "--ocsp-url",
            url,
            "--aia-url",
            "http://pki.example.com/issuing.cer",
        ],
    );
    // The issuing CA's certificate names its root's responder; what the issuing CA signs names its own.
    assert_eq!(ocsp_urls(&env, "issuing/ca.pem"), [root_url]);
    env.issue(&cli(
        "client --ca issuing --cn alice --out alice --key p256",
    ));
    env.issue(&cli(
        "server --ca issuing --cn www.example.com --out www --key p256",
    ));
    env.issue(&cli(
        "encryption --ca issuing --cn data --out data --key rsa2048",
    ));
    env.openssl_p256_csr("bob", "/CN=bob");
    env.ok(
        "certkit-issue",
        &cli("sign --ca issuing --csr bob.csr --profile client --out bob --ca-pass env:CA_PW"),
    );
    env.issue(&cli("renew --ca issuing alice.cer --out alice2 --force"));
    std::fs::write(env.path("people.csv"), "cn\ncarol\ndave\n").expect("csv");
    env.issue(&cli(
        "client --ca issuing --batch people.csv --out-dir batch --key p256",
    ));
    for file in [
        "alice.pem",
        "www.pem",
        "data.pem",
        "bob.pem",
        "alice2.pem",
        "batch/carol.pem",
        "batch/dave.pem",
    ] {
        assert_eq!(ocsp_urls(&env, file), [url], "{file}");
        // caIssuers beside it, in the same extension.
        let aia = env.openssl_ok(&cli(&format!(
            "x509 -in {file} -noout -ext authorityInfoAccess"
        )));
        assert!(
            aia.contains("CA Issuers - URI:http://pki.example.com/issuing.cer"),
            "{file}: {aia}"
        );
    }
    // show and inspect say it.
    let shown = env.json("certkit-ca", &cli("show --ca issuing --json"));
    assert_eq!(shown["ocsp_url"], url);
    assert_contains(
        &env.ok("certkit-ca", &cli("show --ca issuing")),
        &[&format!("OCSP URL    {url}")],
    );
    let inspected = env.ok("certkit-export", &cli("inspect alice.pem"));
    assert_contains(&inspected, &[&format!("OCSP         {url}")]);
    let inspected = env.json("certkit-export", &cli("inspect alice.pem --json"));
    assert_eq!(
        inspected[0]["certificates"][0]["ocsp_urls"][0], url,
        "{inspected}"
    );

    // A backup carries it; the restored CA names it in what it signs.
    env.ok(
        "certkit-ca",
        &cli("backup --ca issuing --shares 3 --threshold 2 --share-dir shares --ca-pass env:CA_PW"),
    );
    let backup = text(&env.read("issuing-backup.key"));
    assert_contains(&backup, &[&format!("ocsp-url: {url}")]);
    let restore = |backup: &str, dir: &str| {
        env.run(
            "certkit-ca",
            &cli(&format!(
                "restore --backup {backup} --share file:shares/share-1-of-3.txt --share file:shares/share-2-of-3.txt --ca {dir} --ca-pass env:CA_PW"
            )),
        )
    };
    let out = restore("issuing-backup.key", "restored");
    assert!(out.status.success(), "{}", text(&out.stderr));
    env.issue(&cli("client --ca restored --cn erin --out erin --key p256"));
    assert_eq!(ocsp_urls(&env, "erin.pem"), [url]);
    // An intruder who changes the URL in the backup (checksum fixed) is caught by the MAC once the shares open it.
    std::fs::write(env.path("edited-backup.key"), &backup).expect("write");
    edit_backup(&env, "edited-backup.key", &|text| {
        text.replace(
            &format!("ocsp-url: {url}"),
            "ocsp-url: http://evil.example.org/",
        )
    });
    let out = restore("edited-backup.key", "restored2");
    assert_ne!(out.status.code(), Some(0));
    assert_contains(&text(&out.stderr), &["header-mac"]);
    assert!(!env.path("restored2").exists());

    // The URL is a signed setting: ca.json changed by hand is refused until the CA key signs it.
    let settings = text(&env.read("issuing/ca.json")).replace(url, "http://evil.example.org/");
    std::fs::write(env.path("issuing/ca.json"), settings).expect("write");
    env.tampered("issuing");
    let err = env.fails(
        "certkit-issue",
        &Env::with_passwords(&cli(
            "client --ca issuing --cn mallory --out mallory --key p256",
        )),
        1,
    );
    assert_contains(
        &err,
        &["ocsp_url http://evil.example.org/ where the CA key signed"],
    );
}

#[test]
fn an_ocsp_url_that_is_not_plain_http_is_refused_at_init() {
    let env = Env::new();
    for bad in [
        "https://ocsp.example.com/",
        "ldap://x.example.com/",
        "http://",
        "ocsp.example.com",
    ] {
        let err = env.fails(
            "certkit-ca",
            &cli(&format!(
                "init --ca pki --cn Test --ocsp-url {bad} --ca-pass env:CA_PW"
            )),
            2,
        );
        assert_contains(&err, &["is not an OCSP URL", "http://"]);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!env.path("pki").exists());
    }
}
