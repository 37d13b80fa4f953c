//! PKCS#11 URIs (`--pkcs11`, and the one `ca.json` records): what parses shows back as an equal URI, and an
//! error repeats nothing typed but plain attribute names (a PIN written into the URI never shows).
#![no_main]

use certkit_ca::token::TokenUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<TokenUri>() {
        Ok(uri) => {
            let shown = uri.to_string();
            assert_eq!(
                shown.parse::<TokenUri>().expect("round trip"), // ok: fuzz assertion
                uri,
                "{shown}"
            );
        }
        Err(e) => {
            // Built from fixed text and plain attribute names only: nothing typed (a PIN in the wrong
            // place) is repeated, and nothing that could move a terminal's cursor.
            let message = &e.0;
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(message.len() < 300, "{message}");
            for quoted in message.split('\'').skip(1).step_by(2) {
                let plain = !quoted.is_empty()
                    && quoted.len() <= 32
                    && quoted
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                assert!(
                    plain || ["pkcs11:", "%", "=", ";"].contains(&quoted),
                    "the error repeats {quoted:?}: {message}"
                );
            }
        }
    }
});
