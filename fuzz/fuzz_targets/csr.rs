//! CSR parsing and signature check: any bytes give a checked request or an error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certkit_ca::csr::parse(data, Path::new("fuzz.csr"));
});
