//! The .cscfg network editor: any bytes in, any subnets. Restricting an endpoint gives a file that parses and
//! reads back with exactly those rules and that binding; doing it again changes nothing; opening the endpoint
//! again unbinds it (or binds it to AllowAll); and on a file that had no NetworkConfiguration, opening returns
//! the original bytes.
#![no_main]

use std::path::Path;

use certkit_ca::cscfg::Cscfg;
use certkit_ca::cscfg::network::{ALLOW_ALL, Binding, Rule, Subnet};
use libfuzzer_sys::fuzz_target;

/// Subnets from the first bytes: up to four, IPv4 or IPv6, any prefix.
fn subnets(data: &[u8]) -> (Vec<Subnet>, Vec<Subnet>, &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return (vec![], vec![], data);
    };
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    let mut rest = rest;
    for i in 0..(count % 5) {
        let Some((chunk, tail)) = rest.split_at_checked(6) else {
            break;
        };
        rest = tail;
        let text = if chunk[0] % 2 == 0 {
            format!(
                "{}.{}.{}.{}/{}",
                chunk[1],
                chunk[2],
                chunk[3],
                chunk[4],
                chunk[5] % 33
            )
        } else {
            format!(
                "{:x}{:02x}:{:x}::/{}",
                chunk[1],
                chunk[2],
                chunk[3],
                chunk[5] % 129
            )
        };
        // Host bits set: use the network it names, as a user is told to.
        let subnet = match text.parse::<Subnet>() {
            Ok(s) => s,
            Err(certkit_ca::cscfg::network::SubnetError::HostBits(n)) => n
                .parse()
                .expect("the network a host-bits error names parses"), // ok: fuzz assertion
            Err(_) => continue,
        };
        if subnet.is_all() || allow.contains(&subnet) || deny.contains(&subnet) {
            continue;
        }
        if i % 2 == 0 { &mut allow } else { &mut deny }.push(subnet);
    }
    (allow, deny, rest)
}

fuzz_target!(|data: &[u8]| {
    let (allow, deny, rest) = subnets(data);
    let Ok(mut cscfg) = Cscfg::from_bytes(Path::new("fuzz.cscfg"), rest.to_vec()) else {
        return;
    };
    let original = cscfg.text().to_string();
    let Some(role) = cscfg
        .roles()
        .expect("parses") // ok: fuzz assertion
        .first()
        .map(|r| r.role.clone())
    else {
        return;
    };
    let had_network = roxmltree::Document::parse(&original)
        .expect("parses") // ok: fuzz assertion
        .root_element()
        .children()
        .any(|n| n.tag_name().name() == "NetworkConfiguration");
    let binding = Binding {
        role: role.clone(),
        endpoint: "HttpsIn".into(),
        access_control: "Restricted".into(),
    };
    let rules = Rule::list(&allow, &deny);
    if cscfg.restrict_endpoint(&binding, &rules).is_err() {
        // Refused (e.g. an existing binding without its attribute): nothing may have changed.
        assert_eq!(cscfg.text(), original);
        return;
    }
    let restricted = cscfg.text().to_string();
    let reread = Cscfg::from_bytes(Path::new("fuzz.cscfg"), restricted.clone().into_bytes())
        .expect("the edited file parses"); // ok: fuzz assertion
    let network = reread.network().expect("network"); // ok: fuzz assertion
    let acl = network
        .endpoint_acl(&role, "HttpsIn")
        .expect("the endpoint is bound"); // ok: fuzz assertion
    assert_eq!(acl.access_control, "Restricted");
    let control = network
        .access_control("Restricted")
        .expect("the access control"); // ok: fuzz assertion
    assert_eq!(control.applied_rules().as_deref(), Some(&rules[..]));

    let mut again = reread;
    again.restrict_endpoint(&binding, &rules).expect("rerun"); // ok: fuzz assertion
    assert_eq!(again.text(), restricted, "a rerun changed the file");
    assert!(again.changes().is_empty());

    again.open_endpoint(&binding).expect("open"); // ok: fuzz assertion
    let opened = Cscfg::from_bytes(Path::new("fuzz.cscfg"), again.text().as_bytes().to_vec())
        .expect("the opened file parses"); // ok: fuzz assertion
    let network = opened.network().expect("network"); // ok: fuzz assertion
    match network.endpoint_acl(&role, "HttpsIn") {
        None => {}
        Some(acl) => assert_eq!(acl.access_control, ALLOW_ALL),
    }
    if !had_network {
        assert_eq!(
            again.text(),
            original,
            "opening did not undo what certkit added"
        );
    }
    let _ = again.diff();
});
