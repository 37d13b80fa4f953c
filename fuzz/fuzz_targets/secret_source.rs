//! Password-source syntax: what parses shows back as given, and an error is one of a few fixed messages, so it
//! can never repeat what was typed (it may be a password given in the wrong place).
#![no_main]

use certkit_ca::SecretSource;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<SecretSource>() {
        Ok(source) => {
            let shown = source.to_string();
            assert_eq!(shown.parse::<SecretSource>().expect("round trip"), source); // ok: fuzz assertion
        }
        Err(message) => {
            let fixed: Vec<String> = ["pass:x", "fd:x", "x"]
                .iter()
                .filter_map(|probe| probe.parse::<SecretSource>().err())
                .collect();
            assert!(
                fixed.contains(&message),
                "an error made from the input: {message}"
            );
        }
    }
});
