//! The matching rules of RFC 5280 4.2.1.10, as certkit applies them before it signs.

use super::*;

fn constraints(permitted: &[Subtree], excluded: &[Subtree]) -> NameConstraints {
    NameConstraints {
        permitted: permitted.to_vec(),
        excluded: excluded.to_vec(),
    }
}

fn dns(name: &str) -> San {
    San::Dns(name.into())
}

#[test]
fn a_dns_tree_holds_the_name_and_the_names_below_it() {
    let c = constraints(&[Subtree::dns("example.com").expect("tree")], &[]);
    for ok in [
        "example.com",
        "www.example.com",
        "a.b.EXAMPLE.com",
        "*.example.com",
    ] {
        assert!(c.check(&dns(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "badexample.com",
        "example.com.evil.org",
        "com",
        "example.org",
    ] {
        let err = c.check(&dns(bad)).expect_err(bad).to_string();
        assert!(
            err.contains(bad) && err.contains("DNS:example.com"),
            "{err}"
        );
    }
    // A leading dot: only the names below.
    let below = constraints(&[Subtree::dns(".example.com").expect("tree")], &[]);
    assert!(below.check(&dns("www.example.com")).is_ok());
    assert!(below.check(&dns("example.com")).is_err());
}

#[test]
fn an_excluded_tree_wins_over_a_permitted_one() {
    let c = constraints(
        &[Subtree::dns("example.com").expect("tree")],
        &[Subtree::dns("secret.example.com").expect("tree")],
    );
    assert!(c.check(&dns("www.example.com")).is_ok());
    let err = c
        .check(&dns("db.secret.example.com"))
        .expect_err("excluded")
        .to_string();
    assert!(
        err.contains("excluded") && err.contains("DNS:secret.example.com"),
        "{err}"
    );
}

#[test]
fn a_kind_without_a_permitted_tree_is_not_limited() {
    let c = constraints(&[Subtree::dns("example.com").expect("tree")], &[]);
    assert!(c.check(&San::Email("bob@other.org".into())).is_ok());
    assert!(c.check(&San::Ip("192.0.2.1".parse().expect("ip"))).is_ok());
}

#[test]
fn e_mail_trees_are_a_mailbox_a_host_or_a_domain() {
    let host = constraints(&[Subtree::email("example.com").expect("tree")], &[]);
    assert!(host.check(&San::Email("alice@Example.COM".into())).is_ok());
    assert!(
        host.check(&San::Email("alice@mail.example.com".into()))
            .is_err()
    );
    let domain = constraints(&[Subtree::email(".example.com").expect("tree")], &[]);
    assert!(
        domain
            .check(&San::Email("alice@mail.example.com".into()))
            .is_ok()
    );
    assert!(
        domain
            .check(&San::Email("alice@example.com".into()))
            .is_err()
    );
    let mailbox = constraints(&[Subtree::email("alice@example.com").expect("tree")], &[]);
    assert!(
        mailbox
            .check(&San::Email("alice@example.com".into()))
            .is_ok()
    );
    assert!(
        mailbox
            .check(&San::Email("bob@example.com".into()))
            .is_err()
    );
}

#[test]
fn ip_trees_are_ranges() {
    let c = constraints(
        &[Subtree::ip("10.0.0.0/8").expect("tree")],
        &[Subtree::ip("10.9.0.0/16").expect("tree")],
    );
    assert!(c.check(&San::Ip("10.1.2.3".parse().expect("ip"))).is_ok());
    assert!(c.check(&San::Ip("10.9.2.3".parse().expect("ip"))).is_err());
    assert!(
        c.check(&San::Ip("192.168.1.1".parse().expect("ip")))
            .is_err()
    );
    // Both families are one kind of name (iPAddress), as openssl and the RFC see it: a tree of IPv4 ranges
    // alone permits no IPv6 address.
    assert!(c.check(&San::Ip("::1".parse().expect("ip"))).is_err());
}

#[test]
fn bad_values_are_refused_with_an_example() {
    for bad in ["", ".", "exa mple.com", "-x.com", "a..b"] {
        let err = Subtree::dns(bad).expect_err(bad).to_string();
        assert!(err.contains("example.com"), "{err}");
    }
    assert!(Subtree::email("@example.com").is_err());
    assert!(
        Subtree::ip("10.0.0.1/8")
            .expect_err("host bits")
            .to_string()
            .contains("10.0.0.0/8")
    );
    assert!(Subtree::ip("10.0.0.0").is_err());
}

#[test]
fn the_extension_reads_back_as_it_was_written() {
    let c = constraints(
        &[
            Subtree::dns("example.com").expect("tree"),
            Subtree::email(".example.com").expect("tree"),
            Subtree::ip("10.0.0.0/8").expect("tree"),
            Subtree::ip("fd00::/8").expect("tree"),
        ],
        &[Subtree::dns("secret.example.com").expect("tree")],
    );
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.name_constraints = Some(c.to_rcgen());
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    assert_eq!(NameConstraints::of_cert(cert.der()).expect("read"), c);
}

#[test]
fn a_dns_looking_common_name_is_checked_as_a_dns_name() {
    let c = constraints(&[Subtree::dns("example.com").expect("tree")], &[]);
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "www.evil.org");
    assert!(c.check_params(&params).is_err());
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Alice Smith");
    assert!(c.check_params(&params).is_ok());
}

#[test]
fn a_wildcard_is_checked_as_every_name_it_stands_for() {
    // Excluded bad.example.com: *.example.com stands for it (a verifier accepts it for bad.example.com).
    let c = constraints(
        &[Subtree::dns("example.com").expect("tree")],
        &[Subtree::dns("bad.example.com").expect("tree")],
    );
    let err = c
        .check(&dns("*.example.com"))
        .expect_err("touches")
        .to_string();
    assert!(
        err.contains("excluded") && err.contains("bad.example.com"),
        "{err}"
    );
    assert!(c.check(&dns("*.EXAMPLE.com")).is_err());
    // Names below bad.example.com are two labels down: *.example.com stands for none of them.
    let below = constraints(&[], &[Subtree::dns(".bad.example.com").expect("tree")]);
    assert!(below.check(&dns("*.example.com")).is_ok());
    assert!(below.check(&dns("*.bad.example.com")).is_err());
    // A tree of the names below a domain holds that domain's wildcard, whole.
    let only_below = constraints(&[Subtree::dns(".example.com").expect("tree")], &[]);
    assert!(only_below.check(&dns("*.example.com")).is_ok());
    assert!(only_below.check(&dns("*.com")).is_err());
    let excluded_below = constraints(&[], &[Subtree::dns(".example.com").expect("tree")]);
    assert!(excluded_below.check(&dns("*.example.com")).is_err());
    // A look-alike base is another name.
    let look_alike = constraints(&[], &[Subtree::dns("xexample.com").expect("tree")]);
    assert!(look_alike.check(&dns("*.example.com")).is_ok());
}

#[test]
fn a_common_name_is_a_dns_name_when_openssl_takes_it_for_one() {
    let c = constraints(&[Subtree::dns("example.com").expect("tree")], &[]);
    for dns_like in [
        "a_b.other.org",
        "123.456",
        "www.other.org",
        "*.other.org",
        "_srv.other.org",
    ] {
        assert!(c.check_names(Some(dns_like), &[]).is_err(), "{dns_like}");
    }
    for not_dns in [
        "alice",
        "Alice Smith",
        "a..b",
        "-a.b",
        "a-.b",
        "a.b.",
        "x@y.org",
        "Test CA",
    ] {
        assert!(c.check_names(Some(not_dns), &[]).is_ok(), "{not_dns}");
    }
}
