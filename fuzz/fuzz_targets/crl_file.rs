//! CRL files as `crl publish`, `status --crl` and `crl --out` read them (DER or PEM): whatever parses can be
//! asked whether it is current at any moment and offered for publishing without a panic, and a CRL offered
//! alone is current exactly when its own window says so.
#![no_main]

use certkit_ca::crl::publish::{Found, offer};
use certkit_ca::crl_file::CrlFile;
use libfuzzer_sys::fuzz_target;
use time::{Duration, OffsetDateTime};

fuzz_target!(|data: &[u8]| {
    let Ok(crl) = CrlFile::parse(data) else {
        return;
    };
    let mut moments = vec![
        OffsetDateTime::UNIX_EPOCH,
        crl.this_update,
        crl.this_update - Duration::seconds(1),
    ];
    if let Some(next) = crl.next_update {
        moments.push(next);
        moments.push(next - Duration::seconds(1));
    }
    for at in moments {
        let current = crl.current_at(at);
        let found = Found {
            path: "fuzz.crl".into(),
            number: crl.number.unwrap_or(0),
            crl: crl.clone(),
        };
        let offered = offer(vec![found], Vec::new(), at);
        assert_eq!(offered.current.is_some(), current);
    }
});
