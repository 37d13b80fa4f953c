//! `certkit-export`: PFX in both profiles read by openssl (without -legacy), Java keytool and Python
//! cryptography; CER extraction; thumbprints against the openssl CLI; a PFX used in a real TLS handshake.

mod common;

use common::*;

/// A CA, a client certificate for alice (cert + key) and a server certificate.
fn setup(env: &Env) {
    env.init_ca("pki");
    env.issue_client("pki", "alice", "alice");
}

fn pfx(env: &Env, extra: &[&str]) -> String {
    let mut args = cli("pfx --from-pass env:KEY_PW --pfx-pass env:PFX_PW");
    args.extend_from_slice(extra);
    env.ok("certkit-export", &args)
}

fn python_view(env: &Env, file: &str, password: &str) -> (i32, serde_json::Value) {
    let out = env.cmd_tool("python3", &[&peer("pfx_check.py"), file], password);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
    )
}

trait PeerWithPassword {
    fn cmd_tool(&self, program: &str, args: &[&str], pfx_pw: &str) -> std::process::Output;
}

impl PeerWithPassword for Env {
    fn cmd_tool(&self, program: &str, args: &[&str], pfx_pw: &str) -> std::process::Output {
        std::process::Command::new(program)
            .args(args)
            .current_dir(self.dir.path())
            .env("PFX_PW", pfx_pw)
            .output()
            .expect("peer")
    }
}

#[test]
fn compat_profile_is_3des_sha1_2000_and_every_peer_reads_it() {
    let env = Env::new();
    setup(&env);
    let out = pfx(
        &env,
        &cli("--cert alice.cer --key-file alice.key --chain pki/ca.pem --out alice.pfx"),
    );
    let thumb = env.openssl_thumbprint("alice.cer");
    assert_contains(
        &out,
        &[
            "compat",
            "Azure Cloud Services",
            &format!("thumbprint  {thumb}"),
        ],
    );
    let info = env.openssl_ok(&cli("pkcs12 -info -in alice.pfx -passin env:PFX_PW -noout"));
    assert_contains(
        &info,
        &[
            "MAC: sha1, Iteration 2000",
            "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2000",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2000",
        ],
    );
    assert!(!info.contains("RC2"), "{info}");
    let bags = env.openssl_ok(&cli(
        "pkcs12 -in alice.pfx -passin env:PFX_PW -nokeys -info",
    ));
    assert_contains(
        &bags,
        &["friendlyName: alice", "localKeyID:", "subject=CN = Test CA"],
    );
    let (code, view) = python_view(&env, "alice.pfx", PFX_PW);
    assert_eq!(code, 0, "{view}");
    assert_eq!(view["key_matches"], true);
    assert_eq!(view["thumbprint"], thumb.as_str());
    assert_eq!(view["friendly_name"], "alice");
    assert_eq!(view["additional"], serde_json::json!(["CN=Test CA"]));
    let (code, view) = python_view(&env, "alice.pfx", "wrong password!");
    assert_eq!(code, 3, "{view}");
    let keytool = env.tool(
        "keytool",
        &cli("-list -v -storetype PKCS12 -keystore alice.pfx -storepass:env PFX_PW"),
    );
    let listing = text(&keytool.stdout);
    assert!(
        keytool.status.success(),
        "{listing}{}",
        text(&keytool.stderr)
    );
    assert_contains(
        &listing,
        &cli("PrivateKeyEntry 'Certificate chain length: 2' CN=alice 'CN=Test CA'"),
    );
    let wrong = env.tool(
        "keytool",
        &cli("-list -storetype PKCS12 -keystore alice.pfx -storepass 'wrong password!'"),
    );
    assert!(!wrong.status.success());
}

#[test]
fn modern_profile_is_pbes2_aes256_sha256_and_every_peer_reads_it() {
    let env = Env::new();
    setup(&env);
    let out = pfx(
        &env,
        &cli(
            "--cert alice.pem --key-file alice.key --profile modern --name 'Alice laptop' --out alice.pfx",
        ),
    );
    assert_contains(&out, &["modern", "NOT by Azure Cloud Services"]);
    let info = env.openssl_ok(&cli("pkcs12 -info -in alice.pfx -passin env:PFX_PW -noout"));
    assert_contains(
        &info,
        &[
            "MAC: sha256, Iteration 100000",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
        ],
    );
    let (code, view) = python_view(&env, "alice.pfx", PFX_PW);
    assert_eq!(code, 0, "{view}");
    assert_eq!(view["key_matches"], true);
    assert_eq!(view["friendly_name"], "Alice laptop");
    assert_eq!(view["additional"], serde_json::json!([]));
    let keytool = env.tool(
        "keytool",
        &cli("-list -storetype PKCS12 -keystore alice.pfx -storepass:env PFX_PW"),
    );
    assert!(keytool.status.success(), "{}", text(&keytool.stdout));
    assert_contains(&text(&keytool.stdout), &["PrivateKeyEntry"]);
    assert_eq!(python_view(&env, "alice.pfx", "wrong password!").0, 3);
}

#[test]
fn issue_writes_a_pfx_in_the_same_run() {
    let env = Env::new();
    env.init_ca("pki");
    env.ok(
        "certkit-issue",
        &cli(
            "server --ca pki --cn svc.example.com --out svc --ca-pass env:CA_PW \
            --key-pass env:KEY_PW --pfx --pfx-pass env:PFX_PW --pfx-profile modern",
        ),
    );
    let info = env.openssl_ok(&cli("pkcs12 -info -in svc.pfx -passin env:PFX_PW -noout"));
    assert_contains(&info, &["PBES2, PBKDF2, AES-256-CBC"]);
    let (_, view) = python_view(&env, "svc.pfx", PFX_PW);
    assert_eq!(view["key_matches"], true);
    assert_eq!(view["additional"], serde_json::json!(["CN=Test CA"]));
    assert_eq!(
        view["thumbprint"],
        env.openssl_thumbprint("svc.cer").as_str()
    );
}

#[test]
fn cer_from_pfx_equals_the_original_and_issuer_gives_the_ca() {
    let env = Env::new();
    setup(&env);
    pfx(
        &env,
        &cli("--cert alice.cer --key-file alice.key --chain pki/ca.cer --out alice.pfx"),
    );
    env.ok(
        "certkit-export",
        &cli("cer --in alice.pfx --out back.cer --from-pass env:PFX_PW"),
    );
    assert_eq!(env.read("back.cer"), env.read("alice.cer"));
    let out = env.ok(
        "certkit-export",
        &cli("cer --in alice.pfx --issuer --out ca-from-pfx.cer --from-pass env:PFX_PW"),
    );
    assert_eq!(env.read("ca-from-pfx.cer"), env.read("pki/ca.cer"));
    assert_contains(
        &out,
        &["certutil -addstore -f Root", "update-ca-certificates"],
    );
    // From a PEM bundle, and as PEM.
    let bundle = [env.read("alice.pem"), env.read("pki/ca.pem")].concat();
    std::fs::write(env.path("bundle.pem"), bundle).expect("write");
    env.ok(
        "certkit-export",
        &cli("cer --in bundle.pem --issuer --pem --out ca.pem"),
    );
    assert_eq!(env.read("ca.pem"), env.read("pki/ca.pem"));
    // No chain: a clear error naming the fix.
    pfx(
        &env,
        &cli("--cert alice.cer --key-file alice.key --out nochain.pfx"),
    );
    let err = env.fails(
        "certkit-export",
        &cli("cer --in nochain.pfx --issuer --out x.cer --from-pass env:PFX_PW"),
        2,
    );
    assert_contains(
        &err,
        &["Include all certificates in the certification path"],
    );
    assert!(!env.path("x.cer").exists());
}

#[test]
fn thumbprints_match_openssl_in_every_format() {
    let env = Env::new();
    setup(&env);
    env.issue_client("pki", "bob", "bob");
    pfx(
        &env,
        &cli("--cert bob.cer --key-file bob.key --out bob.pfx"),
    );
    let (a, b, ca) = (
        env.openssl_thumbprint("alice.pem"),
        env.openssl_thumbprint("bob.pem"),
        env.openssl_thumbprint("pki/ca.pem"),
    );
    let plain = env.ok(
        "certkit-export",
        &cli("thumbprint alice.cer bob.pfx --from-pass env:PFX_PW"),
    );
    assert_eq!(plain, format!("{a}  alice.cer\n{b}  bob.pfx\n"));
    let allowed = env.ok(
        "certkit-export",
        &cli("thumbprint --as allowed-clients bob.pem alice.pem bob.cer"),
    );
    assert_eq!(
        allowed,
        format!("<Setting name=\"AllowedClientCertificateThumbprints\" value=\"{b},{a}\" />\n")
    );
    let ca_lines = env.ok(
        "certkit-export",
        &["thumbprint", "--as", "ca", "pki/ca.cer"],
    );
    assert_eq!(
        ca_lines,
        format!(
            "<Certificate name=\"CA\" thumbprint=\"{ca}\" thumbprintAlgorithm=\"sha1\" />\n<Setting name=\"AdditionalTrustedRootCertificationAuthorities\" value=\"{ca}\" />\n"
        )
    );
    let ssl = env.ok(
        "certkit-export",
        &["thumbprint", "--as", "ssl", "alice.pem"],
    );
    assert_eq!(
        ssl,
        format!("<Certificate name=\"SSL\" thumbprint=\"{a}\" thumbprintAlgorithm=\"sha1\" />\n")
    );
    let enc = env.ok(
        "certkit-export",
        &["thumbprint", "--as", "encryption", "alice.pem"],
    );
    assert!(enc.contains("name=\"DataEncryptionPrimary\""));
    let json: serde_json::Value = serde_json::from_str(&env.ok(
        "certkit-export",
        &["thumbprint", "--as", "json", "alice.pem"],
    ))
    .expect("json");
    assert_eq!(json[0]["thumbprint"], a.as_str());
    assert_eq!(json[0]["subject"], "CN=alice");
    assert_eq!(json[0]["file"], "alice.pem");
    let sha256 = env.openssl_ok(&cli("x509 -in alice.pem -noout -fingerprint -sha256"));
    assert_eq!(
        json[0]["sha256"],
        sha256
            .trim()
            .rsplit('=')
            .next()
            .expect("fp")
            .replace(':', "")
            .as_str()
    );
    assert!(json[0]["not_after"].as_str().expect("date").ends_with('Z'));
}

#[test]
fn wrong_key_password_or_someone_elses_key_is_refused() {
    let env = Env::new();
    setup(&env);
    env.issue_client("pki", "bob", "bob");
    let out = env
        .cmd("certkit-export")
        .args(cli(
            "pfx --cert alice.cer --key-file alice.key --out a.pfx --from-pass \
            env:PFX_PW --pfx-pass env:PFX_PW",
        ))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&text(&out.stderr), &["wrong password", "alice.key"]);
    // Key of someone else.
    let err = env.fails(
        "certkit-export",
        &cli(
            "pfx --cert alice.cer --key-file bob.key --out a.pfx --from-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ),
        2,
    );
    assert_contains(&err, &["bob.key is not the key of alice.cer"]);
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
}

#[test]
fn truncated_and_malformed_certificates_are_refused() {
    let env = Env::new();
    setup(&env);
    let der = env.read("alice.cer");
    std::fs::write(env.path("trunc.cer"), &der[..der.len() / 2]).expect("write");
    let err = env.fails("certkit-export", &["thumbprint", "trunc.cer"], 2);
    assert_contains(&err, &["trunc.cer"]);
    std::fs::write(
        env.path("junk.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    env.fails(
        "certkit-export",
        &["cer", "--in", "junk.pem", "--out", "a.cer"],
        2,
    );
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
}

#[test]
fn a_damaged_pfx_a_wrong_password_and_a_keyless_pfx_are_refused() {
    let env = Env::new();
    setup(&env);
    pfx(
        &env,
        &cli("--cert alice.cer --key-file alice.key --out alice.pfx"),
    );
    let full = env.read("alice.pfx");
    std::fs::write(env.path("trunc.pfx"), &full[..full.len() - 40]).expect("write");
    env.fails(
        "certkit-export",
        &cli("cer --in trunc.pfx --out a.cer --from-pass env:PFX_PW"),
        2,
    );
    let err = env.fails(
        "certkit-export",
        &cli("cer --in alice.pfx --out a.cer --from-pass env:KEY_PW"),
        2,
    );
    assert_contains(&err, &["wrong password"]);
    env.openssl_ok(&cli(
        "pkcs12 -export -nokeys -in alice.pem -out nokey.pfx -passout env:PFX_PW \
        -certpbe AES-256-CBC",
    ));
    let err = env.fails(
        "certkit-export",
        &cli("pfx --from nokey.pfx --from-pass env:PFX_PW --out a.pfx --pfx-pass env:PFX_PW"),
        2,
    );
    assert_contains(&err, &["holds no private key"]);
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
}

#[test]
fn an_existing_pfx_is_never_overwritten() {
    let env = Env::new();
    setup(&env);
    std::fs::write(env.path("taken.pfx"), "mine").expect("write");
    env.fails(
        "certkit-export",
        &cli(
            "pfx --cert alice.cer --key-file alice.key --out taken.pfx --from-pass \
            env:KEY_PW --pfx-pass env:PFX_PW",
        ),
        1,
    );
    assert_eq!(env.read("taken.pfx"), b"mine");
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
}

#[test]
fn a_short_new_pfx_password_is_refused() {
    let env = Env::new();
    setup(&env);
    let out = env
        .cmd("certkit-export")
        .args(cli(
            "pfx --cert alice.cer --key-file alice.key --out a.pfx --from-pass \
            env:KEY_PW --pfx-pass env:SHORT",
        ))
        .env("SHORT", "short")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        env.listing(".").iter().all(|n| !n.starts_with("a.")),
        "{:?}",
        env.listing(".")
    );
}

#[test]
fn modern_pfx_is_re_exported_as_compat_for_azure() {
    let env = Env::new();
    setup(&env);
    env.openssl_ok(&cli(
        "pkcs12 -export -in alice.pem -inkey alice.key -passin env:KEY_PW \
        -certfile pki/ca.pem -out modern.pfx -passout env:PFX_PW",
    ));
    env.ok(
        "certkit-export",
        &cli(
            "pfx --from modern.pfx --from-pass env:PFX_PW --out compat.pfx --pfx-pass \
            env:PFX_PW",
        ),
    );
    let info = env.openssl_ok(&cli(
        "pkcs12 -info -in compat.pfx -passin env:PFX_PW -noout",
    ));
    assert_contains(
        &info,
        &["Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2000"],
    );
    let (_, view) = python_view(&env, "compat.pfx", PFX_PW);
    assert_eq!(view["key_matches"], true);
    assert_eq!(view["additional"], serde_json::json!(["CN=Test CA"]));
}

#[test]
fn client_pfx_works_in_a_tls12_mutual_auth_handshake() {
    let env = Env::new();
    setup(&env);
    env.ok(
        "certkit-issue",
        &cli(
            "server --ca pki --cn localhost --out srv --ca-pass env:CA_PW --key-pass \
            env:KEY_PW",
        ),
    );
    pfx(
        &env,
        &cli("--cert alice.cer --key-file alice.key --chain pki/ca.cer --out alice.pfx"),
    );
    env.openssl_ok(&cli(
        "pkcs12 -in alice.pfx -passin env:PFX_PW -clcerts -nokeys -out unpacked.crt",
    ));
    env.openssl_ok(&cli(
        "pkcs12 -in alice.pfx -passin env:PFX_PW -nocerts -passout env:KEY_PW \
        -out unpacked.key",
    ));
    let hs = tls12_handshake(
        &env,
        ("srv.pem", "srv.key"),
        "pki/ca.pem",
        ("unpacked.crt", "unpacked.key"),
        "pki/ca.pem",
        &[],
    );
    hs.assert_ok();
}
