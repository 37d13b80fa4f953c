use super::*;

fn time(text: &str) -> OffsetDateTime {
    parse_time(text).expect("time")
}

#[test]
fn the_three_statuses_and_openssl_s_revocation_forms_are_read() {
    let text = "V\t290310042742Z\t\t4A6BE7B2CCE901B1003C751530A33BC7\tunknown\t/CN=server1\n\
                R\t290310042745Z\t261206042745Z,keyCompromise\tBA26\tunknown\t/O=Example/CN=bob\n\
                E\t210101000000Z\t\t1004\tunknown\t/CN=old\n\
                R\t20510101000000Z\t261206042745Z\t01\tunknown\t/CN=plain\n\
                R\t290310042745Z\t261206042745Z,keyTime,20261201000000Z\t02\tunknown\t/CN=k\n\
                R\t290310042745Z\t261206042745Z,CAkeyTime,20261201000000Z\t03\tunknown\t/CN=c\n\
                R\t290310042745Z\t261206042745Z,certificateHold,holdInstructionReject\t04\tunknown\t/CN=h\n";
    let lines = parse(text.as_bytes()).expect("parse");
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0].status, LineStatus::Valid);
    assert_eq!(
        lines[0].serial,
        Serial::parse("4A6BE7B2CCE901B1003C751530A33BC7").expect("serial")
    );
    assert_eq!(
        lines[1].revocation.expect("revoked").reason,
        RevocationReason::KeyCompromise
    );
    assert_eq!(
        lines[1].revocation.expect("revoked").at,
        time("261206042745Z")
    );
    assert_eq!(lines[1].subject, "/O=Example/CN=bob");
    assert_eq!(lines[2].status, LineStatus::Expired);
    // GeneralizedTime from 2050 on; a revocation without a reason is unspecified.
    assert_eq!(lines[3].not_after.year(), 2051);
    assert_eq!(
        lines[3].revocation.expect("r").reason,
        RevocationReason::Unspecified
    );
    assert_eq!(
        lines[4].revocation.expect("r").reason,
        RevocationReason::KeyCompromise
    );
    assert_eq!(
        lines[5].revocation.expect("r").reason,
        RevocationReason::CaCompromise
    );
    assert_eq!(
        lines[6].revocation.expect("r").reason,
        RevocationReason::CertificateHold
    );
    assert_eq!(lines[6].number, 7);
}

#[test]
fn utctime_turns_at_1950_as_rfc_5280_says() {
    assert_eq!(time("491231235959Z").year(), 2049);
    assert_eq!(time("500101000000Z").year(), 1950);
    assert_eq!(format_time(time("20491231235959Z")), "491231235959Z");
    assert_eq!(format_time(time("20500101000000Z")), "20500101000000Z");
}

#[test]
fn each_refusal_names_its_line() {
    let good = "V\t290310042742Z\t\t01\tunknown\t/CN=a\n";
    for (bad, says) in [
        ("V\t290310042742Z\t\t02\tunknown\n", "expected 6 fields"),
        ("X\t290310042742Z\t\t02\tunknown\t/CN=b\n", "status 'X'"),
        ("V\t2903100427Z\t\t02\tunknown\t/CN=b\n", "expiry"),
        ("V\t291310042742Z\t\t02\tunknown\t/CN=b\n", "expiry"),
        (
            "R\t290310042742Z\t\t02\tunknown\t/CN=b\n",
            "without its revocation time",
        ),
        (
            "V\t290310042742Z\t261206042745Z\t02\tunknown\t/CN=b\n",
            "status is not R",
        ),
        (
            "R\t290310042742Z\t261206042745Z,fired\t02\tunknown\t/CN=b\n",
            "unknown revocation reason 'fired'",
        ),
        (
            "R\t290310042742Z\t261206042745Z,removeFromCRL\t02\tunknown\t/CN=b\n",
            "removeFromCRL",
        ),
        ("V\t290310042742Z\t\t0G\tunknown\t/CN=b\n", "serial '0G'"),
        ("V\t290310042742Z\t\t\tunknown\t/CN=b\n", "serial ''"),
        ("V\t290310042742Z\t\t02\tunknown\tCN=b\n", "one-line form"),
        (
            "V\t290310042742Z\t\t02\tunknown\t/CN=b\u{1b}[2J\n",
            "control character",
        ),
        ("\n", "expected 6 fields"),
    ] {
        let text = format!("{good}{bad}");
        let err = parse(text.as_bytes()).expect_err(bad);
        assert_eq!(err.line, 2, "{bad:?}: {err}");
        assert!(err.what.contains(says), "{bad:?}: {err}");
        assert!(!err.to_string().contains('\u{1b}'), "{err}");
    }
    let err = parse(b"V\t290310042742Z\t\t01\tunknown\t/CN=a\nV\t29\xff").expect_err("utf-8");
    assert_eq!(err.line, 2);
}

#[test]
fn lines_are_written_as_openssl_writes_them_and_read_back() {
    let text = "V\t290310042742Z\t\t4A6B\tunknown\t/CN=server1\n\
                R\t290310042745Z\t261206042745Z,keyCompromise\tBA26\tunknown\t/O=Example/CN=bob\n\
                R\t20510101000000Z\t261206042745Z\t01\tunknown\t/CN=plain\n\
                R\t290310042745Z\t261206042745Z,CACompromise\t03\tunknown\t/CN=c\n";
    let lines = parse(text.as_bytes()).expect("parse");
    let written: String = lines
        .iter()
        .map(|l| format!("{}\n", format_line(l)))
        .collect();
    assert_eq!(written, text);
    assert_eq!(serial_hex(&Serial::parse("0").expect("zero")), "00");
    assert_eq!(parse(b"").expect("empty"), vec![]);
}
