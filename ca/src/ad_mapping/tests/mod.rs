use super::*;

#[test]
fn sids_are_checked_and_written_as_windows_writes_them() {
    let sid: Sid = "S-1-5-21-1004336348-1177238915-682003330-1105"
        .parse()
        .expect("sid");
    assert_eq!(
        sid.uri(),
        "tag:microsoft.com,2022-09-14:sid:S-1-5-21-1004336348-1177238915-682003330-1105"
    );
    assert_eq!(Sid::of_uri(&sid.uri()), Some(sid.clone()));
    assert_eq!(Sid::of_extension(&sid.extension_value()), Some(sid));
    for bad in [
        "",
        "S-1",
        "S-2-5-21",
        "S-1-5",
        "S-1-x-21",
        "S-1-5-021",
        "S-1-5-4294967296",
        "S-1-281474976710656-1",
        "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        "S-1-5-21-",
        "X-1-5-21",
    ] {
        assert!(bad.parse::<Sid>().is_err(), "{bad}");
    }
    assert_eq!(
        "s-1-5-32-544".parse::<Sid>().expect("lower s").to_string(),
        "S-1-5-32-544"
    );
}

#[test]
fn the_sid_extension_has_ad_cs_bytes() {
    // The shape AD CS writes (SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING } } }),
    // here for a short SID so that every length is one byte.
    let sid: Sid = "S-1-5-32-544".parse().expect("sid");
    let mut expected = vec![0x30, 0x1E, 0xA0, 0x1C, 0x06, 0x0A];
    expected.extend([0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02, 0x01]);
    expected.extend([0xA0, 0x0E, 0x04, 0x0C]);
    expected.extend(b"S-1-5-32-544");
    assert_eq!(sid.extension_value(), expected);
    // A long SID takes long-form lengths and reads back.
    let long: Sid = "S-1-5-21-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295"
        .parse()
        .expect("long sid");
    assert_eq!(Sid::of_extension(&long.extension_value()), Some(long));
}

#[test]
fn upns_and_uris() {
    assert!(check_upn("alice@contoso.com").is_ok());
    assert!(check_upn("bob@local").is_ok());
    for bad in ["alice", "@contoso.com", "alice@", "a b@c.com", "a@b@c"] {
        assert!(check_upn(bad).is_err(), "{bad}");
    }
    assert!(check_uri("https://contoso.com/people/alice").is_ok());
    assert!(check_uri("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6").is_ok());
    for bad in [
        "contoso.com",
        "1http://x",
        "http://a b",
        "http:",
        "https://é.com",
    ] {
        assert!(check_uri(bad).is_err(), "{bad}");
    }
    let value = [
        0xA0, 0x13, 0x0C, 0x11, b'a', b'l', b'i', b'c', b'e', b'@', b'c', b'o', b'n', b't', b'o',
        b's', b'o', b'.', b'c', b'o', b'm',
    ];
    assert_eq!(
        upn_of_other_name(&value).as_deref(),
        Some("alice@contoso.com")
    );
    assert_eq!(upn_of_other_name(&value[..10]), None);
}

#[test]
fn windows_quotes_special_values() {
    assert_eq!(windows_quoted("CONTOSO-DC-CA"), "CONTOSO-DC-CA");
    assert_eq!(windows_quoted("Contoso, Ltd"), "\"Contoso, Ltd\"");
    assert_eq!(windows_quoted("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
    assert_eq!(powershell_quoted("O'Brien"), "'O''Brien'");
}
