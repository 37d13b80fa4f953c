//! Encrypted key reading: KDF parameters are checked before deriving (no panic on scrypt N=0, no minutes of
//! PBKDF2); the seeds are keys encrypted with this password.
#![no_main]

use std::path::Path;

use certkit_ca::Secret;
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let Ok(pem) = std::str::from_utf8(data) else {
        return;
    };
    let password = Secret::new(Zeroizing::new("fuzz password 0123".to_string()));
    let _ = certkit_ca::keys::decrypt_pem_to_der(Path::new("fuzz.key"), pem, &password);
});
