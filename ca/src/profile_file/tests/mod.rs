use super::*;
use crate::certinfo::EKU_CLIENT_AUTH;

const STAFF: &str = r#"
base = "client"
ekus = ["clientAuth", "1.3.6.1.4.1.311.20.2.2"]
max_days = 397
key_types = ["rsa2048", "p256"]
[subject]
fixed = { O = "Contoso" }
allowed = { OU = ["Sales", "IT"] }
[san]
allowed = ["email", "upn", "sid"]
required = ["upn"]
[[policies]]
oid = "1.3.6.1.4.1.99999.1.1"
cps = "https://pki.example.com/cps"
notice = "Staff certificates only"
"#;

fn staff() -> ProfileFile {
    ProfileFile::parse("staff", STAFF).expect("the issue's example parses")
}

fn request<'a>(
    subject: &'a [(SubjectAttribute, String)],
    sans: &'a [SanKind],
) -> ProfileRequest<'a> {
    ProfileRequest {
        subject,
        sans,
        key_type: KeyType::P256,
        days: 365,
    }
}

#[test]
fn the_issues_example_reads_as_written() {
    let staff = staff();
    assert_eq!(staff.spec.base, Profile::Client);
    assert_eq!(
        staff.ekus,
        vec![EKU_CLIENT_AUTH.to_string(), "1.3.6.1.4.1.311.20.2.2".into()]
    );
    assert_eq!(
        staff
            .spec
            .subject
            .fixed
            .get(&SubjectAttribute::O)
            .map(String::as_str),
        Some("Contoso")
    );
    assert_eq!(staff.spec.policies.len(), 1);
    // Written back and read again, it is the same profile.
    let again = ProfileFile::parse("staff", &ProfileFile::to_toml(&staff.spec).expect("toml"))
        .expect("reads back");
    assert_eq!(again, staff);
}

#[test]
fn a_refusal_names_the_rule_and_the_value() {
    let staff = staff();
    let upn = [SanKind::Upn];
    let finance = [(SubjectAttribute::OU, "Finance".to_string())];
    let err = staff
        .check_request(&request(&finance, &upn))
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "OU=Finance is not allowed by profile staff: allowed OU values are Sales, IT"
    );
    let other_o = [(SubjectAttribute::O, "Fabrikam".to_string())];
    let err = staff
        .check_request(&request(&other_o, &upn))
        .expect_err("refused");
    assert!(err.to_string().contains("O is always Contoso"), "{err}");
    let locality = [(SubjectAttribute::L, "Berlin".to_string())];
    let err = staff
        .check_request(&request(&locality, &upn))
        .expect_err("refused");
    assert!(
        err.to_string().contains("it lets a request give OU"),
        "{err}"
    );
    let err = staff.check_request(&request(&[], &[])).expect_err("no upn");
    assert!(
        err.to_string().contains("requires a upn name: add --upn"),
        "{err}"
    );
    let err = staff
        .check_request(&request(&[], &[SanKind::Upn, SanKind::Uri]))
        .expect_err("uri");
    assert!(
        err.to_string()
            .contains("--uri is not allowed by profile staff"),
        "{err}"
    );
    let mut long = request(&[], &upn);
    long.days = 398;
    let err = staff.check_request(&long).expect_err("too long");
    assert!(err.to_string().contains("at most 397 days"), "{err}");
    let mut rsa4096 = request(&[], &upn);
    rsa4096.key_type = KeyType::Rsa4096;
    let err = staff.check_request(&rsa4096).expect_err("key type");
    assert!(
        err.to_string()
            .contains("allowed key types are rsa2048, p256"),
        "{err}"
    );
    let sales = [(SubjectAttribute::OU, "Sales".to_string())];
    staff
        .check_request(&request(&sales, &upn))
        .expect("allowed");
    assert_eq!(
        staff.subject(&sales),
        vec![
            (SubjectAttribute::O, "Contoso".to_string()),
            (SubjectAttribute::OU, "Sales".to_string())
        ]
    );
}

#[test]
fn bad_profiles_are_refused_with_their_line() {
    let cases = [
        ("base = \"client\"\nmax_dayz = 3\n", "line 2"),
        (
            "base = \"ca\"\n",
            "base must be server, client or encryption",
        ),
        (
            "base = \"client\"\nekus = [\"1.3.6.1.4.1.311.20.2.2\"]\n",
            "must keep 1.3.6.1.5.5.7.3.2",
        ),
        (
            "base = \"client\"\nekus = [\"clientAuth\", \"x.y\"]\n",
            "is not an EKU",
        ),
        (
            "base = \"server\"\n[san]\nallowed = [\"upn\"]\n",
            "cannot carry",
        ),
        (
            "base = \"client\"\n[san]\nallowed = [\"email\"]\nrequired = [\"upn\"]\n",
            "does not allow",
        ),
        (
            "base = \"client\"\n[subject]\nfixed = { C = \"Germany\" }\n",
            "two capital letters",
        ),
        (
            "base = \"client\"\n[subject]\nfixed = { CN = \"x\" }\n",
            "line 3",
        ),
        (
            "base = \"client\"\n[subject]\nfixed = { O = \"A\" }\nallowed = { O = [\"B\"] }\n",
            "both fixed and allowed",
        ),
        (
            "base = \"client\"\n[[policies]]\noid = \"1.2.x\"\n",
            "not an OID",
        ),
        (
            "base = \"client\"\n[[policies]]\noid = \"1.2.3\"\ncps = \"ftp://x/cps\"\n",
            "not an http",
        ),
        ("base = \"client\"\nmax_days = 0\n", "out of range"),
        (
            "base = \"client\"\nkey_types = [\"p256\"]\nkey_usage = [\"keyEncipherment\"]\n",
            "cannot do",
        ),
        ("base = \"client\"\nocsp_url = \"http://a b\"\n", "ocsp_url"),
        ("base = \"client\"\nbase = \"server\"\n", "line 2"),
    ];
    for (text, expected) in cases {
        let err = ProfileFile::parse("p", text).expect_err(text);
        let message = err.to_string();
        assert!(message.contains(expected), "{text:?}: {message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
    assert!(check_name("client").is_err());
    assert!(check_name("../x").is_err());
    assert!(check_name("Staff").is_err());
    assert!(check_name("staff-2026").is_ok());
}

#[test]
fn every_builtin_profile_reads_back_as_a_profile_file() {
    for base in [Profile::Server, Profile::Client, Profile::Encryption] {
        let text = ProfileFile::to_toml(&ProfileFile::builtin_spec(base)).expect("toml");
        let file = ProfileFile::parse("copy", &text).expect("reads back");
        assert_eq!(file.ekus, vec![base.eku().expect("eku").to_string()]);
    }
}

#[test]
fn subject_flags() {
    assert_eq!(
        parse_subject("ou=Sales").expect("ou"),
        (SubjectAttribute::OU, "Sales".into())
    );
    assert!(parse_subject("CN=x").is_err());
    assert!(parse_subject("OU").is_err());
    assert!(parse_subject("OU= Sales").is_err());
    assert!(parse_subject("C=de").is_err());
}

#[test]
fn policies_encode_as_rfc_5280_says() {
    let value = Policy::extension_value(&[Policy {
        oid: "1.2.3".into(),
        cps: Some("http://a.example/c".into()),
        notice: Some("Hi".into()),
    }])
    .expect("der");
    // SEQUENCE { SEQUENCE { OID 1.2.3, SEQUENCE { SEQUENCE { id-qt-cps, IA5String }, SEQUENCE { id-qt-unotice,
    // SEQUENCE { UTF8String } } } } }
    let cps = b"http://a.example/c";
    let mut expected = vec![0x30, 0x3A, 0x30, 0x38, 0x06, 0x02, 0x2A, 0x03, 0x30, 0x32];
    expected.extend([
        0x30, 0x1E, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x01,
    ]);
    expected.extend([0x16, 0x12]);
    expected.extend(cps);
    expected.extend([
        0x30, 0x10, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x02,
    ]);
    expected.extend([0x30, 0x04, 0x0C, 0x02, b'H', b'i']);
    assert_eq!(value, expected);
}

#[test]
fn a_refusal_stays_on_one_line_whatever_the_value_holds() {
    // Found by the profile_file fuzz target (fuzz/regressions/profile_file/): a TOML escape put a line break
    // into an EKU, and the refusal that named it ran over two lines.
    let err = ProfileFile::parse("p", "base = \"client\"\nekus = [\"docum\\ntEncryption\"]\n")
        .expect_err("not an EKU");
    let message = err.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(
        message.contains("'docum\\0AtEncryption' is not an EKU"),
        "{message}"
    );
    let err = parse_subject("OU=a\u{202e}b").expect_err("invisible");
    assert!(err.to_string().contains("a\\E2\\80\\AEb"), "{err}");
}
