//! The scenarios of commands that sign or revoke leaves: issue, sign, renew, a batch, revoke, CRLs, reindex.

use super::*;

pub(crate) const ISSUE: Scenario = Scenario {
    name: "issue",
    setup: init,
    prepare: |_| {},
    bin: "certkit-issue",
    args: "client --ca pki --cn bob --out out/bob --key p256 --pfx --ca-pass \
        env:CA_PW --key-pass env:KEY_PW --pfx-pass env:PFX_PW",
    after_rerun: |env, rerun| {
        one_delivered(env, rerun, "bob", "out/bob");
        for ext in ["pem", "key", "pfx"] {
            assert!(
                env.path(&format!("out/bob.{ext}")).exists(),
                "out/bob.{ext}"
            );
        }
    },
};

pub(crate) const SIGN: Scenario = Scenario {
    name: "sign",
    setup: |env| {
        init(env);
        env.openssl_p256_csr("carol", "/CN=carol");
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: "sign --ca pki --csr carol.csr --profile client --out out/carol --ca-pass env:CA_PW",
    after_rerun: |env, rerun| one_delivered(env, rerun, "carol", "out/carol"),
};

pub(crate) const RENEW: Scenario = Scenario {
    name: "renew",
    setup: init,
    prepare: |_| {},
    bin: "certkit-issue",
    args: "renew --ca pki alice.cer --out out/alice2 --pfx --ca-pass env:CA_PW \
        --key-pass env:KEY_PW --pfx-pass env:PFX_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let list = env.list("pki");
        let renewals = valid_renewals(env, &list, "alice.cer");
        assert_eq!(renewals.len(), 1, "{renewals:?}");
        assert_eq!(
            renewals[0]["thumbprint"],
            env.openssl_thumbprint("out/alice2.cer").as_str()
        );
    },
};

pub(crate) const BATCH: Scenario = Scenario {
    name: "batch",
    setup: |env| {
        init(env);
        std::fs::write(env.path("people.csv"), "cn\ndave\nerin\nfrank\n").expect("csv");
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: "client --ca pki --batch people.csv --out-dir team --pfx --key p256 \
        --jobs 1 --ca-pass env:CA_PW --pfx-pass env:PFX_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        for cn in ["dave", "erin", "frank"] {
            let valid = valid(env, cn);
            assert_eq!(valid.len(), 1, "{cn}: {valid:?}");
            assert_eq!(
                valid[0]["thumbprint"],
                env.openssl_thumbprint(&format!("team/{cn}.cer")).as_str()
            );
            assert!(env.path(&format!("team/{cn}.pfx")).exists());
        }
    },
};

/// Renewing what expires soon: alice (365 days) and bob (10 days), in one run.
pub(crate) const RENEW_DUE: Scenario = Scenario {
    name: "renew --expiring-within",
    setup: |env| {
        init(env);
        env.issue(&cli(
            "client --ca pki --cn bob --out bob --key p256 --days 10",
        ));
    },
    prepare: |_| {},
    bin: "certkit-issue",
    args: "renew --ca pki --expiring-within 400 --out-dir out --pfx --jobs 1 \
        --ca-pass env:CA_PW --key-pass env:KEY_PW --pfx-pass env:PFX_PW --json",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("json");
        let list = env.list("pki");
        for cn in ["alice", "bob"] {
            let renewals = valid_renewals(env, &list, &format!("{cn}.cer"));
            assert_eq!(renewals.len(), 1, "{cn}: {renewals:?}");
            let old_serial = &renewals[0]["renewal_of"];
            let row = report["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["old_serial"] == *old_serial)
                .expect("row");
            assert_eq!(row["thumbprint"], renewals[0]["thumbprint"], "{cn}");
            // The renewal's files are where the rows of this run or the killed one said.
            let name = format!(
                "out/{cn}-{}-renewed",
                &old_serial.as_str().expect("serial")[..8]
            );
            assert_eq!(
                renewals[0]["thumbprint"],
                env.openssl_thumbprint(&format!("{name}.cer")).as_str(),
                "{cn}"
            );
            assert!(env.path(&format!("{name}.pfx")).exists(), "{cn}");
        }
        let staged: Vec<String> = env
            .listing("out")
            .into_iter()
            .filter(|n| n.starts_with(".certkit-"))
            .collect();
        assert!(staged.is_empty(), "left in out: {staged:?}");
    },
};

/// Rebuilding the index and an `issued/` copy that was lost.
pub(crate) const REINDEX: Scenario = Scenario {
    name: "reindex",
    setup: |env| {
        init(env);
        let serial = env.list("pki")[0]["serial"]
            .as_str()
            .expect("serial")
            .to_string();
        std::fs::remove_file(env.path(&format!("pki/issued/{serial}.cer"))).expect("rm");
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "reindex --ca pki",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        let serial = env.list("pki")[0]["serial"]
            .as_str()
            .expect("serial")
            .to_string();
        assert_eq!(
            env.read(&format!("pki/issued/{serial}.cer")),
            env.read("alice.cer")
        );
    },
};

pub(crate) const REVOKE: Scenario = Scenario {
    name: "revoke",
    setup: init,
    prepare: |_| {},
    bin: "certkit-ca",
    args: "revoke --ca pki alice.cer --reason keyCompromise",
    after_rerun: |env, rerun| {
        if !rerun.status.success() {
            assert_contains(&text(&rerun.stderr), &["already revoked"]);
        }
        let list = env.list("pki");
        assert_eq!(list[0]["status"], "revoked");
        assert_eq!(list[0]["revocation_reason"], "keyCompromise");
    },
};

/// The number of the CRL the setup published.
pub(crate) const FIRST_CRL: u32 = 1;

pub(crate) const CRL: Scenario = Scenario {
    name: "crl",
    setup: |env| {
        init(env);
        env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
        env.ok(
            "certkit-ca",
            &["crl", "--ca", "pki", "--ca-pass", "env:CA_PW"],
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "crl --ca pki --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(
            &env.openssl_ok(&cli(
                "crl -in pki/ca.crl -inform DER -CAfile pki/ca.pem -noout",
            )),
            &["verify OK"],
        );
        let number = env.openssl_ok(&cli("crl -in pki/ca.crl -inform DER -noout -crlnumber"));
        let number = u32::from_str_radix(number.trim().trim_start_matches("crlNumber=0x"), 16)
            .expect("number");
        assert!(number > FIRST_CRL + 1 - 1, "CRL number {number}");
        assert!(
            number >= 2,
            "the republished CRL must have a higher number than the first"
        );
    },
};

pub(crate) const CRL_SERIES: Scenario = Scenario {
    name: "crl-series",
    setup: |env| {
        init(env);
        env.ok("certkit-ca", &["revoke", "--ca", "pki", "alice.cer"]);
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "crl --ca pki --series 3 --every 30 --out-dir crls --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(&text(&rerun.stdout), &["Signed 3 CRLs"]);
        // Every CRL a killed run left is whole and signed, no number is used twice, and publish puts the
        // rerun's first CRL in place (the newest in force now).
        let mut numbers = Vec::new();
        for name in env.listing("crls") {
            if !name.ends_with(".crl") {
                continue;
            }
            let path = format!("crls/{name}");
            assert_contains(
                &env.openssl_ok(&[
                    "crl",
                    "-in",
                    &path,
                    "-inform",
                    "DER",
                    "-CAfile",
                    "pki/ca.pem",
                    "-noout",
                ]),
                &["verify OK"],
            );
            let number = name
                .rsplit('-')
                .next()
                .expect("number")
                .trim_end_matches(".crl");
            numbers.push(number.parse::<u64>().expect("number in the name"));
        }
        let count = numbers.len();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), count, "a CRL number used twice");
        assert_eq!(env.read("crls/ca.cer"), env.read("pki/ca.cer"));
        let out = env.run(
            "certkit-ca",
            &cli("crl publish --from crls --out published.crl --ca-cert pki/ca.cer --json"),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        // The rerun signed the three highest numbers; its first is in force now.
        assert_eq!(
            json["crl_number"].as_u64(),
            Some(numbers[numbers.len() - 3])
        );
    },
};

pub(crate) const OCSP_SERIES: Scenario = Scenario {
    name: "ocsp-series",
    setup: |env| {
        init(env);
        env.issue(&cli("client --ca pki --cn bob --out bob --key p256"));
        env.ok(
            "certkit-ca",
            &cli("revoke --ca pki alice.cer --reason keyCompromise"),
        );
    },
    prepare: |_| {},
    bin: "certkit-ca",
    args: "ocsp --ca pki --series 3 --every 7 --out-dir ocsp --ca-pass env:CA_PW",
    after_rerun: |env, rerun| {
        assert!(rerun.status.success(), "{}", text(&rerun.stderr));
        assert_contains(&text(&rerun.stdout), &["for 3 window(s)"]);
        // Every window file a killed run left is whole, signed by the CA, says revoked for alice, and was
        // recorded in the log (by its SHA-256) before it was put in place.
        window_files_recorded(env, "after the rerun");
        let files: Vec<String> = env
            .listing("ocsp")
            .into_iter()
            .filter(|n| n.ends_with(".resp"))
            .collect();
        assert!(files.len() >= 3, "{files:?}");
        let paths: Vec<String> = files.iter().map(|name| format!("ocsp/{name}")).collect();
        let mut args = vec!["pki/ca.pem"];
        args.extend(paths.iter().map(String::as_str));
        let facts = peer_facts(env, "ocsp_facts.py", &args);
        assert_eq!(facts.len(), files.len() * 2, "two responses a window");
        for fact in &facts {
            assert_eq!(fact["signature_verified"], true, "{fact}");
        }
        let revoked = facts
            .iter()
            .filter(|f| f["singles"][0]["status"] == "REVOKED")
            .count();
        assert_eq!(revoked, files.len(), "alice is revoked in every window");
        assert_eq!(env.read("ocsp/ca.cer"), env.read("pki/ca.cer"));
    },
};
