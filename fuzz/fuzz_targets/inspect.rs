//! `inspect`: any bytes are recognised as a certificate, PFX, CSR, CRL or key, or refused, never a panic; and a
//! verdict or finding is always one of the documented words; every target's rules (`inspect --for`) checked on
//! what was recognised never panic and report only codes of the rules table.
#![no_main]

use std::path::Path;

use certkit_ca::Secret;
use certkit_export::inspect::{Facts, inspect};
use certkit_export::targets::{Target, findings_for_file, findings_for_set, rule};
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
    for target in Target::ALL {
        let path = Path::new("fuzz.bin");
        for finding in findings_for_file(target, path, data, &found) {
            assert!(rule(finding.code).is_some(), "{finding:?}");
        }
    }
    for target in Target::ALL {
        for finding in findings_for_set(target, std::slice::from_ref(&found)) {
            assert!(rule(finding.code).is_some(), "{finding:?}");
        }
    }
});
