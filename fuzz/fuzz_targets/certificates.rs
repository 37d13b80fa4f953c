//! Certificate and bundle reading (PEM, DER, several PEM blocks): every certificate found is described
//! without a panic, and its subject shown with RFC 4514 escaping holds no control character.
#![no_main]

use std::path::Path;

use certkit_ca::CertInfo;
use certkit_ca::certinfo::parse_cert_ders;
use certkit_ca::naming::is_invisible;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
        let _ = info.pem();
        if let Some(first) = infos.first() {
            let _ = info.is_signed_by(first);
        }
    }
});
