//! `certkit-export cscfg` on the guide's network settings: IP access controls bound to the HTTPS endpoint and
//! the Dynamic IP Security settings. Exact bytes on both fixtures (CRLF with a NetworkConfiguration, LF
//! without one), read back by Python's ElementTree, reruns that change nothing, refusals that leave the file
//! byte for byte, and the pre-deploy check's ACL findings.

mod common;

use common::*;

const EXPORT: &str = "certkit-export";

fn fixture(env: &Env, name: &str) -> String {
    env.cscfg_fixture(name)
}

fn read_back(env: &Env) -> serde_json::Value {
    env.read_cscfg("svc.cscfg")
}

fn file(env: &Env) -> String {
    String::from_utf8(env.read("svc.cscfg")).expect("utf-8")
}

fn cscfg(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["cscfg", "--file", "svc.cscfg"];
    all.extend_from_slice(args);
    env.ok(EXPORT, &all)
}

/// Rules as ElementTree reads them: [action, order, subnet].
fn rules(back: &serde_json::Value, name: &str) -> Vec<[String; 3]> {
    back["#network"]["access_controls"][name]
        .as_array()
        .unwrap_or_else(|| panic!("access control {name}: {back}"))
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().expect("attribute").to_string();
            [s(0), s(1), s(2)]
        })
        .collect()
}

fn rule(action: &str, order: &str, subnet: &str) -> [String; 3] {
    [action.into(), order.into(), subnet.into()]
}

/// Asserts that `role`'s HTTPS endpoint is bound to `Restricted`, which permits `allowed` in order and denies
/// everything else.
fn assert_restricted(back: &serde_json::Value, role: &str, allowed: &[&str]) {
    let mut expected: Vec<[String; 3]> = allowed
        .iter()
        .enumerate()
        .map(|(i, s)| rule("permit", &(i + 1).to_string(), s))
        .collect();
    expected.push(rule("deny", &(allowed.len() + 1).to_string(), "0.0.0.0/0"));
    assert_eq!(rules(back, "Restricted"), expected);
    assert_eq!(
        binding(back, role, "HttpsIn").as_deref(),
        Some("Restricted")
    );
}

fn binding(back: &serde_json::Value, role: &str, endpoint: &str) -> Option<String> {
    back["#network"]["endpoint_acls"]
        .as_array()?
        .iter()
        .find(|e| e[0] == role && e[1] == endpoint)
        .map(|e| e[2].as_str().expect("accessControl").to_string())
}

#[test]
fn two_subnets_on_the_two_role_fixture_exact_bytes_rerun_and_back_to_allow_all() {
    let env = Env::new();
    let original = fixture(&env, "two-roles.cscfg");
    let out = cscfg(
        &env,
        &cli("--role Web --allow-subnet 100.100.0.0/16 --allow-subnet 10.20.0.0/24"),
    );
    assert_contains(
        &out,
        &[
            "Role \"Web\": AccessControl \"Restricted\": (none) -> permit 100.100.0.0/16, permit 10.20.0.0/24, deny 0.0.0.0/0",
            "Role \"Web\": EndpointAcl HttpsIn: AllowAll -> Restricted",
        ],
    );
    // The new access control follows its siblings (six spaces, CRLF); only the binding's value changes.
    let expected = original
        .replace(
            "      </AccessControl>\r\n    </AccessControls>",
            "      </AccessControl>\r\n      <AccessControl name=\"Restricted\">\r\n        <Rule action=\"permit\" description=\"allow 100.100.0.0/16\" order=\"1\" remoteSubnet=\"100.100.0.0/16\" />\r\n        <Rule action=\"permit\" description=\"allow 10.20.0.0/24\" order=\"2\" remoteSubnet=\"10.20.0.0/24\" />\r\n        <Rule action=\"deny\" description=\"deny everything else\" order=\"3\" remoteSubnet=\"0.0.0.0/0\" />\r\n      </AccessControl>\r\n    </AccessControls>",
        )
        .replace(
            "endPoint=\"HttpsIn\" accessControl=\"AllowAll\"",
            "endPoint=\"HttpsIn\" accessControl=\"Restricted\"",
        );
    assert_ne!(expected, original);
    assert_eq!(file(&env), expected);
    assert_eq!(env.read("svc.cscfg.bak"), original.as_bytes());
    let back = read_back(&env);
    assert_restricted(&back, "Web", &["100.100.0.0/16", "10.20.0.0/24"]);
    assert_eq!(binding(&back, "Web", "HttpIn").as_deref(), Some("DenyAll"));

    // A second run changes nothing, not even the backup.
    std::fs::remove_file(env.path("svc.cscfg.bak")).expect("rm bak");
    let out = cscfg(
        &env,
        &cli("--role Web --allow-subnet 100.100.0.0/16 --allow-subnet 10.20.0.0/24"),
    );
    assert_contains(&out, &["already up to date; nothing written"]);
    assert_eq!(file(&env), expected);
    assert!(!env.path("svc.cscfg.bak").exists());

    // Back to the default: bound to AllowAll, and the access control certkit made is gone.
    let out = cscfg(&env, &["--role", "Web", "--allow-all-https"]);
    assert_contains(
        &out,
        &[
            "EndpointAcl HttpsIn: Restricted -> AllowAll",
            "AccessControl \"Restricted\": permit 100.100.0.0/16, permit 10.20.0.0/24, deny 0.0.0.0/0 -> (removed)",
        ],
    );
    assert_eq!(
        binding(&read_back(&env), "Web", "HttpsIn").as_deref(),
        Some("AllowAll")
    );
    assert_eq!(file(&env), original);
}

#[test]
fn a_file_without_network_configuration_gets_one_laid_out_like_it_and_loses_it_again() {
    let env = Env::new();
    let original = fixture(&env, "no-network.cscfg");
    cscfg(
        &env,
        &cli("--allow-subnet 100.100.0.0/16 --allow-subnet 192.0.2.0/24"),
    );
    let block = "    <NetworkConfiguration>\n        <AccessControls>\n            <AccessControl name=\"Restricted\">\n                <Rule action=\"permit\" description=\"allow 100.100.0.0/16\" order=\"1\" remoteSubnet=\"100.100.0.0/16\" />\n                <Rule action=\"permit\" description=\"allow 192.0.2.0/24\" order=\"2\" remoteSubnet=\"192.0.2.0/24\" />\n                <Rule action=\"deny\" description=\"deny everything else\" order=\"3\" remoteSubnet=\"0.0.0.0/0\" />\n            </AccessControl>\n        </AccessControls>\n        <EndpointAcls>\n            <EndpointAcl role=\"SplitMergeWeb\" endPoint=\"HttpsIn\" accessControl=\"Restricted\" />\n        </EndpointAcls>\n    </NetworkConfiguration>\n";
    let expected = original.replace(
        "    </Role>\n</ServiceConfiguration>",
        &format!("    </Role>\n{block}</ServiceConfiguration>"),
    );
    assert_ne!(expected, original);
    assert_eq!(file(&env), expected);
    assert_restricted(
        &read_back(&env),
        "SplitMergeWeb",
        &["100.100.0.0/16", "192.0.2.0/24"],
    );
    let again = cscfg(
        &env,
        &cli("--allow-subnet 100.100.0.0/16 --allow-subnet 192.0.2.0/24"),
    );
    assert_contains(&again, &["already up to date"]);
    assert_eq!(file(&env), expected);

    // A new list replaces the rules where they were; the rest of the block stays.
    cscfg(
        &env,
        &cli("--allow-subnet 203.0.113.0/24 --deny-subnet 100.100.7.0/24"),
    );
    assert_eq!(
        rules(&read_back(&env), "Restricted"),
        [
            rule("deny", "1", "100.100.7.0/24"),
            rule("permit", "2", "203.0.113.0/24"),
            rule("deny", "3", "0.0.0.0/0"),
        ]
    );
    assert!(
        file(&env).starts_with(&original.replace("    </Role>\n</ServiceConfiguration>\n", ""))
    );

    // --allow-all-https on a file where certkit made the whole block: the original bytes.
    cscfg(&env, &["--allow-all-https"]);
    assert_eq!(file(&env), original);
    assert!(read_back(&env).get("#network").is_none());
}

#[test]
fn ipv6_subnets_get_their_own_closing_rule() {
    let env = Env::new();
    fixture(&env, "no-network.cscfg");
    cscfg(
        &env,
        &cli("--allow-subnet 2001:DB8:10::/48 --allow-subnet 198.51.100.0/24"),
    );
    assert_eq!(
        rules(&read_back(&env), "Restricted"),
        [
            rule("permit", "1", "2001:db8:10::/48"),
            rule("permit", "2", "198.51.100.0/24"),
            rule("deny", "3", "0.0.0.0/0"),
            rule("deny", "4", "::/0"),
        ]
    );
    let before = env.read("svc.cscfg");
    let err = env.fails(
        EXPORT,
        &cli("cscfg --file svc.cscfg --allow-subnet 2001:db8::1/32"),
        2,
    );
    assert_contains(&err, &["host bits are set; the network is 2001:db8::/32"]);
    assert_eq!(env.read("svc.cscfg"), before);
}

#[test]
fn bad_subnets_are_refused_and_the_file_stays_byte_for_byte() {
    let env = Env::new();
    let original = fixture(&env, "two-roles.cscfg");
    for (args, says) in [
        (
            vec!["--allow-subnet", "100.100.3.4/16"],
            "host bits are set; the network is 100.100.0.0/16",
        ),
        (vec!["--allow-subnet", "300.1.1.0/24"], "not a CIDR subnet"),
        (vec!["--allow-subnet", "10.0.0.0/33"], "not a CIDR subnet"),
        (vec!["--allow-subnet", "10.0.0.1"], "no prefix length"),
        (vec!["--deny-subnet", "office"], "not a CIDR subnet"),
        (vec!["--allow-subnet", "0.0.0.0/0"], "use --allow-all-https"),
        (
            cli("--allow-subnet 10.1.0.0/16 --deny-subnet 10.0.0.0/8"),
            "would never be let in",
        ),
        (
            cli("--allow-subnet 10.0.0.0/8 --allow-subnet 10.0.0.0/8"),
            "given twice",
        ),
        (
            vec!["--allow-subnet", "10.0.0.0/8", "--allow-all-https"],
            "cannot be used with",
        ),
        (vec!["--acl-name", "X"], "--allow-subnet"),
        (
            vec!["--allow-subnet", "10.0.0.0/8"],
            "has no role \"SplitMergeWeb\" (its roles: Web, Worker)",
        ),
        (
            cli("--role Web --allow-subnet 10.0.0.0/8 --acl-name ' X'"),
            "--acl-name must be a name",
        ),
        // Plain HTTP is never opened: not by rewriting the access control it is bound to, not by binding it.
        (
            cli("--role Web --acl-name DenyAll --allow-subnet 10.0.0.0/8"),
            "access control \"DenyAll\" guards the plain HTTP endpoint HttpIn of role \"Web\"",
        ),
        (
            cli("--role Web --endpoint HttpIn --allow-subnet 10.0.0.0/8"),
            "HttpIn is the plain HTTP endpoint",
        ),
        (
            vec!["--role", "Web", "--endpoint", "HttpIn", "--allow-all-https"],
            "HttpIn is the plain HTTP endpoint",
        ),
        // Endpoint names without regard to case, as Azure matches them (issue 29, 19).
        (
            cli("--role Web --endpoint httpin --allow-subnet 10.0.0.0/8"),
            "HttpIn is the plain HTTP endpoint",
        ),
        (
            vec!["--role", "Web", "--endpoint", "HTTPIN", "--allow-all-https"],
            "HttpIn is the plain HTTP endpoint",
        ),
    ] {
        let mut all = vec!["cscfg", "--file", "svc.cscfg"];
        all.extend(args.iter().copied());
        let out = env.run(EXPORT, &all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_contains(&text(&out.stderr), &[says]);
        assert_eq!(file(&env), original, "{args:?}");
        assert!(!env.path("svc.cscfg.bak").exists(), "{args:?}");
    }
}

#[test]
fn overlapping_subnets_are_reported() {
    let env = Env::new();
    fixture(&env, "two-roles.cscfg");
    let out = env.run(
        EXPORT,
        &cli(
            "cscfg --file svc.cscfg --role Web --allow-subnet 10.0.0.0/8 \
            --allow-subnet 10.1.0.0/16 --deny-subnet 192.168.0.0/16",
        ),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stderr),
        &[
            "warning: --allow-subnet 10.1.0.0/16 adds nothing: it lies inside --allow-subnet 10.0.0.0/8",
            "warning: --deny-subnet 192.168.0.0/16 adds nothing",
        ],
    );
}

#[test]
fn dos_settings_are_set_and_switched_off_in_every_role_that_has_them() {
    for name in ["two-roles.cscfg", "no-network.cscfg"] {
        let env = Env::new();
        let original = fixture(&env, name);
        let role = if name == "two-roles.cscfg" {
            "Web"
        } else {
            "SplitMergeWeb"
        };
        cscfg(
            &env,
            &cli("--dos-concurrent 30 --dos-rate 50/1000 --dos-action Forbidden"),
        );
        let settings = |env: &Env| read_back(env)[role]["settings"].clone();
        let s = settings(&env);
        for (setting, value) in [
            ("DynamicIpRestrictionDenyByConcurrentRequests", "true"),
            ("DynamicIpRestrictionMaxConcurrentRequests", "30"),
            ("DynamicIpRestrictionDenyByRequestRate", "true"),
            ("DynamicIpRestrictionMaxRequests", "50"),
            ("DynamicIpRestrictionRequestIntervalInMilliseconds", "1000"),
            ("DynamicIpRestrictionDenyAction", "Forbidden"),
        ] {
            assert_eq!(s[setting], value, "{name} {setting}");
        }
        // Only the five values that differ changed (the request rate was already on).
        let changed = original
            .lines()
            .zip(file(&env).lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 5, "{name}");
        cscfg(&env, &["--dos-concurrent", "off", "--dos-rate", "off"]);
        let s = settings(&env);
        assert_eq!(s["DynamicIpRestrictionDenyByConcurrentRequests"], "false");
        assert_eq!(s["DynamicIpRestrictionDenyByRequestRate"], "false");
        assert_eq!(s["DynamicIpRestrictionMaxConcurrentRequests"], "30");
        let out = cscfg(&env, &["--dos-concurrent", "off", "--dos-rate", "off"]);
        assert_contains(&out, &["already up to date"]);

        let before = env.read("svc.cscfg");
        for (flag, value, says) in [
            ("--dos-rate", "0/1000", "from 1 to 4294967295"),
            ("--dos-rate", "100", "REQUESTS/MILLISECONDS"),
            (
                "--dos-concurrent",
                "99999999999999999999",
                "from 1 to 4294967295",
            ),
            ("--dos-concurrent", "-1", "from 1 to 4294967295"),
            ("--dos-action", "Teapot", "AbortRequest"),
        ] {
            let arg = format!("{flag}={value}");
            let err = env.fails(EXPORT, &["cscfg", "--file", "svc.cscfg", &arg], 2);
            assert_contains(&err, &[says]);
            assert_eq!(env.read("svc.cscfg"), before);
        }
    }
    // A file without the settings: refused, and it says what to add.
    let env = Env::new();
    let text = fixture(&env, "no-network.cscfg");
    let stripped: String = text
        .lines()
        .filter(|l| !l.contains("DynamicIpRestrictionDenyAction"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(env.path("svc.cscfg"), &stripped).expect("write");
    let err = env.fails(
        EXPORT,
        &["cscfg", "--file", "svc.cscfg", "--dos-action", "NotFound"],
        2,
    );
    assert_contains(&err, &["DynamicIpRestrictionDenyAction", "add it"]);
    assert_eq!(file(&env), stripped);
}

#[test]
fn dry_run_shows_the_new_block_and_writes_nothing() {
    let env = Env::new();
    let original = fixture(&env, "no-network.cscfg");
    let out = cscfg(&env, &["--allow-subnet", "100.100.0.0/16", "--dry-run"]);
    assert_contains(
        &out,
        &[
            "+    <NetworkConfiguration>",
            "+                <Rule action=\"permit\" description=\"allow 100.100.0.0/16\" order=\"1\" remoteSubnet=\"100.100.0.0/16\" />",
            "Dry run: nothing written",
        ],
    );
    assert!(!out.contains("hunter2"), "{out}");
    assert_eq!(file(&env), original);
}

#[test]
fn plain_http_let_in_is_warned_about_loudly_and_check_reports_acl_problems() {
    let env = Env::new();
    let original = fixture(&env, "two-roles.cscfg");
    // The fixture as the guide has it: no ACL finding (its empty thumbprints are findings of their own).
    let out = env.run(
        EXPORT,
        &["cscfg", "--file", "svc.cscfg", "--check", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let codes = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["code"].as_str().expect("code").to_string())
            .filter(|c| c.starts_with("acl-") || c.starts_with("http-"))
            .collect()
    };
    assert!(codes(&report).is_empty(), "{report}");

    let broken = original
        .replace(
            "endPoint=\"HttpIn\" accessControl=\"DenyAll\"",
            "endPoint=\"HttpIn\" accessControl=\"AllowAll\"",
        )
        .replace(
            "    </EndpointAcls>",
            "      <EndpointAcl role=\"Web\" endPoint=\"Admin\" accessControl=\"Office\" />\r\n      <EndpointAcl role=\"Api\" endPoint=\"HttpsIn\" accessControl=\"AllowAll\" />\r\n      <EndpointAcl role=\"Worker\" endPoint=\"Probe\" accessControl=\"Shadowed\" />\r\n      <EndpointAcl role=\"Worker\" endPoint=\"HttpsIn\" accessControl=\"AllowAll\" />\r\n    </EndpointAcls>",
        )
        .replace(
            "    </AccessControls>",
            "      <AccessControl name=\"Shadowed\">\r\n        <Rule action=\"deny\" description=\"x\" order=\"1\" remoteSubnet=\"0.0.0.0/0\" />\r\n        <Rule action=\"permit\" description=\"x\" order=\"2\" remoteSubnet=\"10.0.0.0/8\" />\r\n        <Rule action=\"permit\" description=\"x\" order=\"2\" remoteSubnet=\"10.1.2.3/8\" />\r\n      </AccessControl>\r\n      <AccessControl name=\"Shadowed\" />\r\n    </AccessControls>",
        );
    std::fs::write(env.path("svc.cscfg"), &broken).expect("write");
    let out = env.run(
        EXPORT,
        &["cscfg", "--file", "svc.cscfg", "--check", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut found = codes(&report);
    found.sort();
    assert_eq!(
        found,
        [
            "acl-denies-all",
            "acl-duplicate",
            "acl-host-bits",
            "acl-missing",
            "acl-order-duplicate",
            "acl-role-missing",
            "acl-rule-shadowed",
            "http-allowed",
            "http-unguarded"
        ],
        "{report}"
    );
    let human = env.run(EXPORT, &["cscfg", "--file", "svc.cscfg", "--check"]);
    assert_contains(
        &text(&human.stdout),
        &[
            "  Api:",
            "plain HTTP is let in",
            "which no <AccessControl> defines",
        ],
    );

    // An edit of a file that lets plain HTTP in says so on stderr, and still does the edit.
    let out = env.run(
        EXPORT,
        &["cscfg", "--file", "svc.cscfg", "--dos-action", "NotFound"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_contains(
        &text(&out.stderr),
        &["warning: role \"Web\": plain HTTP is let in: endpoint HttpIn is bound to \"AllowAll\""],
    );
}
