//! A profile file as a user writes it, or as an intruder who can write the CA folder leaves it
//! (`profiles/NAME.toml`, `certkit-ca profile add`): any bytes are a profile or a one-line refusal, never a
//! panic; a profile read writes back to TOML that reads as the same profile, its policies encode, and a
//! request checked against it is allowed or refused, never a panic.
#![no_main]

use certkit_ca::KeyType;
use certkit_ca::profile_file::{Policy, ProfileFile, ProfileRequest, SanKind, SubjectAttribute};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match ProfileFile::parse("fuzz", text) {
        Ok(profile) => profile,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "{e}"); // ok: fuzz assertion
            return;
        }
    };
    let written = ProfileFile::to_toml(&profile.spec).expect("a profile writes"); // ok: fuzz assertion
    let back = ProfileFile::parse("fuzz", &written).expect("reads back"); // ok: fuzz assertion
    assert_eq!(back, profile); // ok: fuzz assertion
    Policy::extension_value(&profile.spec.policies).expect("checked policies encode"); // ok: fuzz assertion
    // Every value the profile names, as a request would give it.
    let subject: Vec<(SubjectAttribute, String)> = profile
        .spec
        .subject
        .allowed
        .iter()
        .filter_map(|(a, values)| values.first().map(|v| (*a, v.clone())))
        .collect();
    let sans: Vec<SanKind> = profile.spec.san.required.clone();
    for key_type in KeyType::ALL {
        let request = ProfileRequest {
            subject: &subject,
            sans: &sans,
            key_type,
            days: i64::from(profile.spec.max_days.unwrap_or(365)),
        };
        let _ = profile.check_request(&request);
    }
    let _ = profile.subject(&subject);
});
