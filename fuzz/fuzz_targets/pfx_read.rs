//! PFX reading with a password: the work a PFX asks for (iterations, sizes) is checked before any
//! derivation, so no input keeps certkit busy; the seeds are PFX files made with this password.
#![no_main]

use std::path::Path;

use certkit_ca::Secret;
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let _ = certkit_ca::pfx::structure::parse(data);
    let password = Secret::new(Zeroizing::new("fuzz password 0123".to_string()));
    let _ = certkit_ca::pfx::read(Path::new("fuzz.pfx"), data, &password);
});
