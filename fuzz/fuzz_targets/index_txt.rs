//! The files of a CA another program kept, as `certkit-ca import` reads them (`index.txt` and the `[ca]` part
//! of `openssl.cnf`), whoever wrote them: any bytes are an index (or paths) or a one-line refusal naming its
//! line, never a panic; every line read is written back as OpenSSL writes it and reads back the same.
#![no_main]

use certkit_ca::openssl_ca::config::CaPaths;
use certkit_ca::openssl_ca::index_txt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match index_txt::parse(data) {
        Ok(lines) => {
            for line in &lines {
                let written = index_txt::format_line(line);
                let back = index_txt::parse(written.as_bytes()).expect("a written line reads back"); // ok: fuzz assertion
                assert_eq!(back.len(), 1); // ok: fuzz assertion
                let again = &back[0];
                assert_eq!(again.status, line.status); // ok: fuzz assertion
                assert_eq!(again.not_after, line.not_after); // ok: fuzz assertion
                assert_eq!(again.revocation, line.revocation); // ok: fuzz assertion
                assert_eq!(again.serial, line.serial); // ok: fuzz assertion
                assert_eq!(again.subject, line.subject); // ok: fuzz assertion
            }
        }
        Err(e) => {
            assert!(e.line >= 1); // ok: fuzz assertion
            assert!(!e.to_string().contains('\n'), "{e}"); // ok: fuzz assertion
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(e) = CaPaths::from_config(
            text,
            std::path::Path::new("fuzz.cnf"),
            std::path::Path::new("/"),
        )
    {
        assert!(!e.to_string().contains('\n'), "{e}"); // ok: fuzz assertion
    }
});
