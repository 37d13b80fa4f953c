//! Thumbprint normalisation: whatever is pasted, Ok means 40 uppercase hex digits that parse back to itself.
#![no_main]

use certkit_ca::Thumbprint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Thumbprint::parse(text) {
        let shown = t.to_string();
        assert_eq!(shown.len(), 40);
        assert!(
            shown
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_eq!(Thumbprint::parse(&shown).expect("round trip"), t); // ok: fuzz assertion
    }
    let _ = certkit_ca::cscfg::parse_allow_list(text);
});
