//! The CA folder's own signed files, as an intruder who can write the folder may leave them: `checkpoint.json`
//! (parsed, its signed text rebuilt, its signature checked against a real CA certificate) and `ca.json` (parsed,
//! compared with the settings a checkpoint signed). Never a panic, and never a forged checkpoint that verifies.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use certkit_ca::CertInfo;
use certkit_ca::store::CaSettings;
use certkit_ca::store::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

/// A CA certificate no input can have a key for: its key is made fresh and dropped.
fn ca() -> &'static CertInfo {
    static CA: OnceLock<CertInfo> = OnceLock::new();
    CA.get_or_init(|| {
        let key = certkit_ca::KeyType::P256.generate().expect("key"); // ok: fuzz set-up
        let mut params = rcgen::CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("cert"); // ok: fuzz set-up
        CertInfo::from_der(cert.der(), Path::new("ca.cer")).expect("ca") // ok: fuzz set-up
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(checkpoint) = Checkpoint::parse(data, Path::new("checkpoint.json")) {
        let _ = checkpoint.message();
        assert!(
            !checkpoint.verify(&ca().spki_der).unwrap_or(false),
            "a checkpoint no key signed verifies"
        ); // ok: fuzz assertion
        if let Some(signed) = &checkpoint.settings {
            let _ = signed.sha256();
        }
    }
    if let Ok(settings) = CaSettings::parse(data, Path::new("ca.json")) {
        let canonical = settings.canonical().expect("canonical"); // ok: fuzz assertion
        let back = CaSettings::parse(canonical.as_bytes(), Path::new("ca.json")).expect("reparse"); // ok: fuzz assertion
        assert_eq!(back, settings); // ok: fuzz assertion
        let _ = settings.differences(&CaSettings::default());
        let _ = settings.differ_only_in_module(&CaSettings::default());
    }
});
