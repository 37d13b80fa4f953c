use super::*;

#[test]
fn the_ca_section_is_found_and_its_variables_expanded() {
    let text = "HOME = /srv\n[ ca ]\ndefault_ca = CA_default # the default\n\n[ CA_default ]\ndir = ./demoCA\n\
                database = $dir/index.txt\nnew_certs_dir = ${dir}/newcerts\ncertificate = $HOME/ca.pem\n\
                private_key = $CA_default::dir/private/cakey.pem\nserial = \"$dir/serial\"\n";
    let paths =
        CaPaths::from_config(text, Path::new("openssl.cnf"), Path::new("/base")).expect("paths");
    assert_eq!(paths.database, Path::new("/base/./demoCA/index.txt"));
    assert_eq!(paths.new_certs_dir, Path::new("/base/./demoCA/newcerts"));
    assert_eq!(paths.certificate, Path::new("/srv/ca.pem"));
    assert_eq!(
        paths.private_key,
        Path::new("/base/./demoCA/private/cakey.pem")
    );
    assert_eq!(paths.serial, Path::new("/base/./demoCA/serial"));
    assert_eq!(paths.crlnumber, None);
}

#[test]
fn what_openssl_ca_needs_is_asked_for_by_name() {
    let cases = [
        ("[ req ]\nx = 1\n", "no default_ca"),
        ("[ ca ]\ndefault_ca = mine\n", "[mine]"),
        (
            "[ ca ]\ndefault_ca = mine\n[ mine ]\ndatabase = x\n",
            "has no new_certs_dir",
        ),
        (
            "[ ca ]\ndefault_ca = mine\n[ mine ]\ndatabase = $nowhere/x\n",
            "$nowhere is not set",
        ),
        (
            "[ ca ]\ndefault_ca = mine\n[ mine ]\na = $b\nb = $a\ndatabase = $a\n",
            "too deep",
        ),
        ("[ ca\n", "without ']'"),
        ("[ ca ]\njust words\n", "expected 'name = value'"),
    ];
    for (text, says) in cases {
        let err = CaPaths::from_config(text, Path::new("openssl.cnf"), Path::new("/"))
            .expect_err(text)
            .to_string();
        assert!(err.contains(says), "{text:?}: {err}");
    }
}
