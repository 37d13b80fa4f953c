//! Certificate and bundle reading (PEM, DER, several PEM blocks): every certificate found is described
//! without a panic, and its subject shown with RFC 4514 escaping holds no control character, nor do its
//! user principal names and URIs; what Active Directory makes of it is read without a panic. The same bytes
//! go to the SID readers (text, the SID extension, the UPN otherName): a SID that parses writes an extension
//! that reads back as itself.
#![no_main]

use std::path::Path;

use certkit_ca::CertInfo;
use certkit_ca::ad_mapping::{AdMapping, Sid, upn_of_other_name};
use certkit_ca::certinfo::parse_cert_ders;
use certkit_ca::naming::is_invisible;
use certkit_ca::san::San;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Sid::of_extension(data);
    let _ = upn_of_other_name(data);
    if let Ok(sid) = std::str::from_utf8(data).map(str::parse::<Sid>)
        && let Ok(sid) = sid
    {
        assert_eq!(Sid::of_extension(&sid.extension_value()), Some(sid.clone()));
        assert_eq!(Sid::of_uri(&sid.uri()), Some(sid));
    }
    let path = Path::new("fuzz.pem");
    let Ok(ders) = parse_cert_ders(data, path) else {
        return;
    };
    let infos: Vec<CertInfo> = ders
        .iter()
        .filter_map(|der| CertInfo::from_der(der, path).ok())
        .collect();
    for info in &infos {
        for name in [&info.subject, &info.issuer] {
            assert!(
                !name.chars().any(|c| c.is_control() || is_invisible(c)),
                "{name:?}"
            );
        }
        for san in &info.sans {
            if let San::Upn(text) | San::Uri(text) = san {
                assert!(
                    !text.chars().any(|c| c.is_control() || is_invisible(c)),
                    "{text:?}"
                );
            }
        }
        let _ = AdMapping::of_der(&info.der);
        let _ = info.pem();
        if let Some(first) = infos.first() {
            let _ = info.is_signed_by(first);
        }
    }
});
