//! `inspect`: any bytes are recognised as a certificate, PFX, CSR, CRL or key, or refused, never a panic; and a
//! verdict or finding is always one of the documented words.
#![no_main]

use std::path::Path;

use certkit_ca::Secret;
use certkit_export::inspect::{Facts, inspect};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

const CONSUMERS: [&str; 6] = [
    "windows-legacy",
    "windows-modern",
    "dotnet",
    "openssl3",
    "openssl3-legacy",
    "java",
];

fuzz_target!(|data: &[u8]| {
    let password = Secret::new(Zeroizing::new("fuzz password 0123".to_string()));
    let now = time::OffsetDateTime::now_utc();
    let Ok(found) = inspect(Path::new("fuzz.bin"), data, Some(&password), None, now) else {
        return;
    };
    if let Facts::Pfx(pfx) = &found.facts {
        for verdict in &pfx.compatibility {
            assert!(CONSUMERS.contains(&verdict.consumer));
        }
    }
    for finding in &found.findings {
        assert!(
            !finding.code.is_empty() && !finding.fix.is_empty(),
            "{finding:?}"
        );
    }
});
