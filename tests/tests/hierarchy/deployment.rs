//! A root and its issuing CA on one machine, and what a deployment takes of a chain: exports, the service
//! configuration, where to fetch each CA, when a CA above runs out.

use super::*;

#[test]
fn on_one_machine_the_root_signs_at_init_and_path_lengths_stack() {
    let env = Env::new();
    env.set_var("ROOT_PW", "the root's own password");
    env.ok(
        "certkit-ca",
        &cli("init --ca root --cn 'Test CA' --key p256 --pathlen 2 --ca-pass env:ROOT_PW"),
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
    env.issue(&cli(
        "client --ca team --cn carol --out carol --key p256 --pfx",
    ));
    std::fs::write(
        env.path("middle.pem"),
        [env.read("team/ca.pem"), env.read("issuing/ca.pem")].concat(),
    )
    .expect("bundle");
    let (ok, said) = verify(
        &env,
        &cli("-x509_strict -CAfile root/ca.pem -untrusted middle.pem carol.pem"),
    );
    assert!(ok, "{said}");
    assert_contains(
        &text(
            &env.tool(
                "keytool",
                &cli("-list -v -storetype PKCS12 -keystore carol.pfx -storepass:env PFX_PW"),
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
    env.issue(&cli(
        "client --ca issuing --cn alice --out alice --key p256 --pfx",
    ));
    let root = env.openssl_thumbprint("root/ca.pem");
    let issuing = env.openssl_thumbprint("issuing/ca.pem");
    // cer --issuer: the issuing CA, with a word that it is not a root; --root: the root, with how to trust it.
    let out = env.run(
        "certkit-export",
        &cli("cer --in alice.pfx --issuer --out i.cer --from-pass env:PFX_PW --json"),
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
        &cli("cscfg --file svc.cscfg --ca-cert issuing/chain.pem"),
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
        &cli("cscfg --file svc.cscfg --ca-cert issuing/ca.cer"),
        2,
    );
    assert_contains(&err, &["is not a root", "chain.pem"]);
    // --check --ca of the issuing CA wants the root in the CA entry, and says so when it is the issuing CA.
    let check = |env: &Env| {
        let out = env.run(
            "certkit-export",
            &cli("cscfg --file svc.cscfg --check --ca issuing --json"),
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
        &cli("--key p256 --aia-url http://pki.example.com/root.cer"),
    );
    env.ok(
        "certkit-ca",
        &cli(
            "init --ca issuing --parent root --cn 'Issuing CA 1' --key p256 --aia-url \
            http://pki.example.com/issuing.cer --parent-pass env:CA_PW --ca-pass \
            env:CA_PW",
        ),
    );
    env.issue(&cli(
        "server --ca issuing --cn www.example.com --out www --key p256",
    ));
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
        &cli("init --ca bad --cn Bad --aia-url ftp://x --ca-pass env:CA_PW"),
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
