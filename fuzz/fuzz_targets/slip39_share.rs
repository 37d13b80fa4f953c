//! A SLIP-39 share as a custodian types it or a file holds it (`certkit-ca restore --share`): never a panic; a
//! share that parses is written back to words that parse to the same share, and shares that parse combine or
//! are refused, never a panic.
#![no_main]

use certkit_ca::slip39::{Share, combine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let shares: Vec<Share> = text.lines().filter_map(|l| Share::parse(l).ok()).collect();
    for share in &shares {
        let again = Share::parse(&share.mnemonic()).expect("a share's own words parse"); // ok: the property
        assert!(again == *share, "a share's words read back differently");
    }
    if !shares.is_empty() && shares.len() <= 4 && shares[0].iteration_exponent == 0 {
        let _ = combine(&shares, b"");
    }
});
