//! The scenarios of commands that change the CA itself: an issuing CA made and installed, renewed, re-keyed.

use super::*;

pub(crate) const SIGN_CA: Scenario = Scenario {
    name: "sign-ca",
    setup: |env| {
        init(env);
        env.openssl_p256_csr("issuing", "/CN=Issuing CA 1");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "sign-ca --ca pki --csr issuing.csr --out out/issuing --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // One issuing CA in the root's inventory, the one the files hold, which openssl verifies.
        one_delivered(env, rerun, "Issuing CA 1", "out/issuing");
        let listed = env.json(
            "certkit-ca",
            &["list", "--ca", "pki", "--profile", "ca", "--json"],
        );
        assert!(
            listed
                .as_array()
                .expect("list")
                .iter()
                .all(|e| e["profile"] == "ca"),
            "{listed}"
        );
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "out/issuing.pem"]),
            &["OK"],
        );
    },
};

pub(crate) const REQUEST: Scenario = Scenario {
    name: "init --request",
    setup: |_| {},
    prepare: |_| {},
    bin: "certkit-ca",
    args: "init --ca pki --cn 'Issuing CA 1' --key p256 --request pki.csr --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // The rerun makes the folder, or hands out the request an interrupted run left in it: either way the
        // request given is the folder's, for its key, and the folder signs nothing.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_eq!(env.read("pki.csr"), env.read("pki/ca.csr"));
        env.openssl_ok(&["req", "-in", "pki.csr", "-verify", "-noout"]);
        assert!(!env.path("pki/ca.pem").exists());
    },
};

pub(crate) const INSTALL: Scenario = Scenario {
    name: "install",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
        env.ok("certkit-ca", &cli(REQUEST.args));
        env.ok(
            "certkit-ca",
            &cli("sign-ca --ca root --csr pki.csr --out issuing --ca-pass env:CA_PW"),
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "install --ca pki --cert issuing.cer --chain root/ca.cer --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // Installed by the rerun, or by the killed run when it was only printing: a CA with its chain, that
        // issues certificates openssl verifies up to the root.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["has its certificate already"]);
        }
        let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
        assert_eq!(shown["chain"], serde_json::json!(["CN=Test CA"]), "{shown}");
        env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
        assert_contains(
            &env.openssl_ok(&cli(
                "verify -x509_strict -CAfile root/ca.pem -untrusted pki/ca.pem bob.pem",
            )),
            &["bob.pem: OK"],
        );
    },
};

pub(crate) const INIT_PARENT: Scenario = Scenario {
    name: "init --parent",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "init --ca pki --parent root --cn 'Issuing CA 1' --key p256 --parent-pass \
        env:CA_PW --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // The rerun finishes (or the killed run had finished and was printing): the root records exactly one
        // issuing CA, the one the folder holds, with its chain, and the root's audit passes.
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already"]);
        }
        let listed = env.json(
            "certkit-ca",
            &["list", "--ca", "root", "--profile", "ca", "--json"],
        );
        let thumbprint = env.openssl_thumbprint("pki/ca.pem");
        assert!(
            listed
                .as_array()
                .expect("list")
                .iter()
                .any(|e| e["thumbprint"] == thumbprint.as_str()),
            "{listed}"
        );
        let shown = env.json("certkit-ca", &["show", "--ca", "pki", "--json"]);
        assert_eq!(shown["chain"], serde_json::json!(["CN=Test CA"]));
        env.ok("certkit-ca", &["audit", "--ca", "root"]);
    },
};

pub(crate) const RENEW_BELOW: Scenario = Scenario {
    name: "renew --parent (an issuing CA)",
    setup: |env| {
        env.init_ca_with("root", &["--key", "p256"]);
        env.ok(
            "certkit-ca",
            &cli(
                "init --ca pki --parent root --cn 'Issuing CA 1' --key p256 --parent-pass \
                env:CA_PW --ca-pass env:CA_PW",
            ),
        );
        env.issue(&cli("client --ca pki --cn alice --out alice --key p256"));
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "renew --ca pki --parent root --parent-pass env:CA_PW --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // The root signed one renewal of the first certificate however often the run was killed (a rerun takes
        // the one it recorded), the folder holds a renewal of it, and every path still verifies from the root.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let first = env.openssl_ok(&["x509", "-in", "first.pem", "-noout", "-serial"]);
        let first = first.trim().trim_start_matches("serial=").to_string();
        let renewals = env
            .list("root")
            .iter()
            .filter(|r| r["renewal_of"] == first.as_str())
            .count();
        assert_eq!(
            renewals, 1,
            "the root signed {renewals} renewals of {first}"
        );
        assert_ne!(env.read("first.pem"), env.read("pki/ca.pem"));
        assert_contains(
            &env.openssl_ok(&cli(
                "verify -CAfile root/ca.pem -untrusted pki/ca.pem alice.pem",
            )),
            &["alice.pem: OK"],
        );
        env.issue(&cli("client --ca pki --cn after --out after --key p256"));
        env.ok("certkit-ca", &["audit", "--ca", "root"]);
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

pub(crate) const INSTALL_RENEWAL: Scenario = Scenario {
    name: "install (a renewal the offline root signed)",
    setup: |env| {
        (RENEW_BELOW.setup)(env);
        env.ok(
            "certkit-ca",
            &cli("sign-ca --ca root --renew pki/ca.cer --out renewed --ca-pass env:CA_PW"),
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "install --ca pki --cert renewed.cer --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let pem = env.openssl_ok(&["x509", "-inform", "DER", "-in", "renewed.cer"]);
        assert_eq!(env.read("pki/ca.pem"), pem.into_bytes());
        assert_contains(
            &env.openssl_ok(&cli(
                "verify -CAfile root/ca.pem -untrusted pki/ca.pem alice.pem",
            )),
            &["alice.pem: OK"],
        );
        env.ok("certkit-ca", &["audit", "--ca", "pki"]);
    },
};

pub(crate) const RENEW_CA: Scenario = Scenario {
    name: "renew (the CA)",
    setup: |env| {
        init(env);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "renew --ca pki --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        // The old CA or a renewal of it, never neither: the same subject and key, everything issued verifies
        // under it, the first certificate kept, and the CA signs.
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let first = env.x509_text("first.pem");
        let now = env.x509_text("pki/ca.pem");
        let subject = |t: &str| {
            t.lines()
                .find(|l| l.contains("Subject:"))
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(subject(&first), subject(&now));
        assert_ne!(
            env.read("first.pem"),
            env.read("pki/ca.pem"),
            "the rerun renews"
        );
        assert_eq!(env.read("pki/ca.cer"), {
            let out = env.openssl_ok(&cli("x509 -in pki/ca.pem -outform DER -out now.der"));
            let _ = out;
            env.read("now.der")
        });
        assert!(!env.listing("pki/history").is_empty());
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "pki/ca.pem", "alice.pem"]),
            &["alice.pem: OK"],
        );
        env.issue(&cli("client --ca pki --cn after --out after --key p256"));
        assert_contains(
            &env.openssl_ok(&["verify", "-CAfile", "first.pem", "after.pem"]),
            &["after.pem: OK"],
        );
    },
};

pub(crate) const REKEY: Scenario = Scenario {
    name: "rekey",
    setup: |env| {
        init(env);
        std::fs::copy(env.path("pki/ca.pem"), env.path("first.pem")).expect("copy");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "rekey --ca pki --ca-pass env:CA_PW --key p384",
    after_rerun: |env, rerun| {
        // The new key in place with its certificate (it signs, and what it signs verifies through the
        // cross-certificate under the first one); what the old key signed still verifies; the audit passes
        // (check_invariants ran it after the kill).
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        rekeyed_and_signing(env, "env:CA_PW");
        every_ca_certificate_is_the_cas_or_revoked(env);
    },
};

/// A profile replaced (its first version by a second): staged, signed with the settings, moved into place.
/// Killed anywhere, the CA issues by one version or the other, never by a file its key did not sign.
pub(crate) const PROFILE_ADD: Scenario = Scenario {
    name: "profile add",
    setup: |env| {
        init(env);
        std::fs::write(
            env.path("staff.toml"),
            "base = \"client\"\ndescription = \"v1\"\n",
        )
        .expect("v1");
        env.ok(
            "certkit-ca",
            &[
                "profile",
                "add",
                "--ca",
                "pki",
                "--from",
                "staff.toml",
                "--ca-pass",
                "env:CA_PW",
            ],
        );
        std::fs::write(
            env.path("staff.toml"),
            "base = \"client\"\ndescription = \"v2\"\n[subject]\nallowed = { OU = [\"IT\"] }\n",
        )
        .expect("v2");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "profile add --ca pki --from staff.toml --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(
            &env.ok("certkit-ca", &["profile", "show", "staff", "--ca", "pki"]),
            &["description = \"v2\"", "OU = [\"IT\"]"],
        );
        let listed = env.json("certkit-ca", &["profile", "list", "--ca", "pki", "--json"]);
        assert_eq!(listed["profiles"][0]["state"], "signed", "{listed}");
        assert!(!env.path("pki/profiles/staff.toml.new").exists());
        env.issue(&cli(
            "client --ca pki --profile staff --cn bob --subject OU=IT --out bob --key p256",
        ));
    },
};

/// A CA brought in from `openssl ca`: the new folder is made beside and moved into place whole, so killed
/// anywhere there is no CA folder (the rerun makes it) or a whole one that audits clean and holds every
/// certificate of the source (the rerun says it is there); the source is never touched.
pub(crate) const IMPORT: Scenario = Scenario {
    name: "import",
    setup: |env| {
        common::legacy_ca::openssl_ca_folder(env, "src");
    },
    prepare: |env| env.set_var("SRC_PW", common::legacy_ca::SRC_PW),
    bin: "certkit-ca",
    args: "import --from-openssl-ca src --ca pki --source-pass env:SRC_PW --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["pki"]);
        }
        let listed = env.list("pki");
        assert_eq!(listed.len(), 5, "{listed:?}");
        assert!(listed.iter().any(|r| r["status"] == "revoked"));
    },
};
