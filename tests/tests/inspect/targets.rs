//! `inspect --target TARGET`: files made by the openssl CLI, as users bring them, checked against each
//! consumer's rules (docs/kits.md): a file one byte or one certificate past a limit is refused, naming the rule
//! and the limit; the fix is a command, its file names shell-quoted; files that follow the rules pass.

use super::*;

/// root.pem (self-signed CA), issuing.pem (a CA under it), person.pem (a client certificate under that), by
/// the openssl CLI.
fn openssl_chain(env: &Env) {
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout root.key -subj /CN=Root -addext \
        basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -days 3650 -out root.pem",
    ));
    env.openssl_ok(&cli(
        "req -newkey rsa:2048 -nodes -keyout issuing.key -subj /CN=Issuing -out issuing.csr",
    ));
    std::fs::write(
        env.path("ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .expect("ext");
    env.openssl_ok(&cli(
        "x509 -req -in issuing.csr -CA root.pem -CAkey root.key -days 1825 -extfile ca.ext -out issuing.pem",
    ));
    env.openssl_ok(&cli(
        "req -newkey rsa:2048 -nodes -keyout person.key -subj /CN=Person -out person.csr",
    ));
    std::fs::write(
        env.path("client.ext"),
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .expect("ext");
    env.openssl_ok(&cli(
        "x509 -req -in person.csr -CA issuing.pem -CAkey issuing.key -days 365 -extfile client.ext -out person.pem",
    ));
}

fn concat(env: &Env, out: &str, files: &[&str]) -> Vec<u8> {
    let bytes: Vec<u8> = files.iter().flat_map(|f| env.read(f)).collect();
    std::fs::write(env.path(out), &bytes).expect("write");
    bytes
}

/// The codes of `file`'s findings under the rules of a target (`prefix`, e.g. `appgw`): the general lints of
/// `inspect` are tested elsewhere.
fn rules(file: &serde_json::Value, prefix: &str) -> Vec<String> {
    codes(file)
        .into_iter()
        .filter(|c| c.starts_with(&format!("{prefix}-")))
        .collect()
}

fn finding<'a>(file: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    file["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {file}"))
}

#[test]
fn application_gateway_takes_one_whole_chain_of_cas_of_at_most_25_kb() {
    let env = Env::new();
    openssl_chain(&env);
    let chain = concat(&env, "chain.pem", &["issuing.pem", "root.pem"]);
    let good = inspect(&env, &["--target", "appgw", "chain.pem"], 0);
    assert_eq!(rules(&good[0], "appgw"), Vec::<String>::new(), "{good}");

    concat(
        &env,
        "with-leaf.pem",
        &["person.pem", "issuing.pem", "root.pem"],
    );
    let leaf = inspect(&env, &["--target", "appgw", "with-leaf.pem"], 1);
    assert!(
        rules(&leaf[0], "appgw").contains(&"appgw-leaf-in-chain".into()),
        "{leaf}"
    );
    assert_contains(
        finding(&leaf[0], "appgw-leaf-in-chain")["message"]
            .as_str()
            .expect("message"),
        &["CN=Person", "CA certificates only"],
    );

    concat(&env, "no-root.pem", &["issuing.pem"]);
    let no_root = inspect(&env, &["--target", "appgw", "no-root.pem"], 1);
    assert_eq!(rules(&no_root[0], "appgw"), ["appgw-no-root"]);

    // 25 KB exactly passes; one byte more is refused, naming the limit.
    let limit = 25 * 1024;
    assert!(chain.len() < limit);
    let mut padded = chain.clone();
    padded.resize(limit, b'\n');
    std::fs::write(env.path("at-limit.pem"), &padded).expect("write");
    let at = inspect(&env, &["--target", "appgw", "at-limit.pem"], 0);
    assert_eq!(rules(&at[0], "appgw"), Vec::<String>::new(), "{at}");
    padded.push(b'\n');
    std::fs::write(env.path("past-limit.pem"), &padded).expect("write");
    let past = inspect(&env, &["--target", "appgw", "past-limit.pem"], 1);
    assert_eq!(rules(&past[0], "appgw"), ["appgw-file-too-large"]);
    assert_contains(
        finding(&past[0], "appgw-file-too-large")["message"]
            .as_str()
            .expect("message"),
        &["25601 bytes", "at most 25 KB"],
    );

    // Two roots in one file: one chain per file.
    env.openssl_ok(&cli(
        "req -x509 -newkey rsa:2048 -nodes -keyout other.key -subj /CN=Other -addext \
        basicConstraints=critical,CA:TRUE -days 3650 -out other.pem",
    ));
    concat(&env, "two.pem", &["root.pem", "other.pem"]);
    let two = inspect(&env, &["--target", "appgw", "two.pem"], 1);
    assert_eq!(rules(&two[0], "appgw"), ["appgw-several-chains"]);
}

#[test]
fn app_service_takes_a_3des_pfx_with_its_whole_chain_and_an_rsa_server_key() {
    let env = Env::new();
    openssl_chain(&env);
    openssl_server_cert(&env);
    // OpenSSL 3's default PFX: AES-256 and an HMAC-SHA256 MAC. The fix names the file, shell-quoted.
    pfx(&env, "my server.pfx", &[]);
    let aes = inspect(
        &env,
        &[
            "--target",
            "appservice",
            "--from-pass",
            "env:PFX_PW",
            "my server.pfx",
        ],
        1,
    );
    let protection = finding(&aes[0], "appservice-pfx-protection");
    assert_eq!(
        protection["fix"],
        "certkit-export pfx --from 'my server.pfx' --profile compat --out 'my server-compat.pfx'"
    );
    // The fix, run, gives a file App Service takes (the self-signed server certificate is its own root).
    let out = env.run(
        "certkit-export",
        &[
            "pfx",
            "--from",
            "my server.pfx",
            "--from-pass",
            "env:PFX_PW",
            "--pfx-pass",
            "env:PFX_PW",
            "--profile",
            "compat",
            "--out",
            "fixed.pfx",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fixed = inspect(
        &env,
        &[
            "--target",
            "appservice",
            "--from-pass",
            "env:PFX_PW",
            "fixed.pfx",
        ],
        0,
    );
    assert_eq!(
        rules(&fixed[0], "appservice"),
        Vec::<String>::new(),
        "{fixed}"
    );

    // A client certificate on an EC key, without its root: three rules broken.
    env.openssl_ok(&cli(
        "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -subj /CN=EC -out ec.csr",
    ));
    env.openssl_ok(&cli(
        "x509 -req -in ec.csr -CA issuing.pem -CAkey issuing.key -days 365 -extfile client.ext -out ec.pem",
    ));
    env.openssl_ok(&cli(
        "pkcs12 -export -in ec.pem -inkey ec.key -certfile issuing.pem -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -out ec.pfx -passout env:PFX_PW",
    ));
    let ec = inspect(
        &env,
        &[
            "--target",
            "appservice",
            "--from-pass",
            "env:PFX_PW",
            "ec.pfx",
        ],
        1,
    );
    let found = rules(&ec[0], "appservice");
    for code in [
        "appservice-chain-incomplete",
        "appservice-key",
        "appservice-not-server",
    ] {
        assert!(found.contains(&code.to_string()), "{code}: {ec}");
    }
    assert!(
        !found.contains(&"appservice-pfx-protection".to_string()),
        "{ec}"
    );
}

#[test]
fn key_vault_takes_a_pkcs8_pem_and_its_key_types_and_nginx_and_haproxy_read_pem() {
    let env = Env::new();
    openssl_server_cert(&env);
    // PKCS#1 (what older tools write): refused, with the openssl line that converts it.
    env.openssl_ok(&cli("pkey -in srv.key -traditional -out srv-rsa.key"));
    assert_contains(&text(&env.read("srv-rsa.key")), &["BEGIN RSA PRIVATE KEY"]);
    concat(&env, "kv-pkcs1.pem", &["srv-rsa.key", "srv.pem"]);
    let pkcs1 = inspect(&env, &["--target", "keyvault", "kv-pkcs1.pem"], 1);
    assert_eq!(rules(&pkcs1[0], "keyvault"), ["keyvault-pkcs1-key"]);
    assert_contains(
        finding(&pkcs1[0], "keyvault-pkcs1-key")["fix"]
            .as_str()
            .expect("fix"),
        &["openssl pkcs8 -topk8 -nocrypt -in kv-pkcs1.pem"],
    );
    // PKCS#8 in the clear, then the certificate: taken (by cses too).
    concat(&env, "kv.pem", &["srv.key", "srv.pem"]);
    for target in ["keyvault", "cses"] {
        let good = inspect(&env, &["--target", target, "kv.pem"], 0);
        assert_eq!(
            rules(&good[0], "keyvault"),
            Vec::<String>::new(),
            "{target}: {good}"
        );
    }
    // An Ed25519 key is not one Key Vault takes.
    env.openssl_ok(&cli(
        "req -x509 -newkey ed25519 -nodes -keyout ed.key -subj /CN=ed -days 30 -out ed.pem",
    ));
    concat(&env, "kv-ed.pem", &["ed.key", "ed.pem"]);
    let ed = inspect(&env, &["--target", "keyvault", "kv-ed.pem"], 1);
    assert_eq!(rules(&ed[0], "keyvault"), ["keyvault-key-type"]);

    // nginx and HAProxy read PEM: DER and PFX are refused with the conversion.
    env.openssl_ok(&cli("x509 -in srv.pem -outform DER -out srv.cer"));
    let der = inspect(&env, &["--target", "nginx", "srv.cer"], 1);
    assert_eq!(rules(&der[0], "nginx"), ["nginx-not-pem"]);
    assert_contains(
        finding(&der[0], "nginx-not-pem")["fix"]
            .as_str()
            .expect("fix"),
        &["openssl x509 -inform DER -in srv.cer -out srv.pem"],
    );
    let pem = inspect(&env, &["--target", "nginx", "srv.pem"], 0);
    assert_eq!(rules(&pem[0], "nginx"), Vec::<String>::new());
    // HAProxy's crt holds the key as well.
    let no_key = inspect(&env, &["--target", "haproxy", "srv.pem"], 1);
    assert_eq!(rules(&no_key[0], "haproxy"), ["haproxy-no-key"]);
    concat(&env, "crt.pem", &["srv.pem", "srv.key"]);
    let crt = inspect(&env, &["--target", "haproxy", "crt.pem"], 0);
    assert_eq!(rules(&crt[0], "haproxy"), Vec::<String>::new(), "{crt}");
}

#[test]
fn api_management_takes_at_most_ten_ca_certificates() {
    let env = Env::new();
    openssl_chain(&env);
    let mut files = Vec::new();
    for i in 0..11 {
        let name = format!("ca-{i}.cer");
        std::fs::copy(env.path("root.pem"), env.path(&name)).expect("copy");
        files.push(name);
    }
    let mut args = vec!["--target", "apim"];
    args.extend(files[..10].iter().map(String::as_str));
    let ten = inspect(&env, &args, 0);
    assert!(
        ten.as_array()
            .expect("files")
            .iter()
            .all(|f| rules(f, "apim").is_empty()),
        "{ten}"
    );
    args.push(&files[10]);
    let eleven = inspect(&env, &args, 1);
    assert_eq!(rules(&eleven[0], "apim"), ["apim-too-many-cas"]);
    assert_contains(
        finding(&eleven[0], "apim-too-many-cas")["message"]
            .as_str()
            .expect("message"),
        &["11 CA certificate files", "at most 10"],
    );
    let leaf = inspect(&env, &["--target", "apim", "person.pem"], 1);
    assert_eq!(rules(&leaf[0], "apim"), ["apim-not-ca"]);
}

#[test]
fn every_rule_is_documented_with_its_source() {
    let doc = std::fs::read_to_string(format!("{}/../docs/kits.md", env!("CARGO_MANIFEST_DIR")))
        .expect("docs/kits.md");
    for rule in certkit_export::targets::RULES {
        let row = doc
            .lines()
            .find(|l| l.contains(&format!("`{}`", rule.code)))
            .unwrap_or_else(|| panic!("docs/kits.md has no row for {}", rule.code));
        assert!(row.contains(rule.source), "{}: {row}", rule.code);
        assert!(
            row.starts_with(&format!("| {} |", rule.target.name())),
            "{row}"
        );
    }
}
