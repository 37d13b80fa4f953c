//! A window file of OCSP responses as the responder loads it from the series folder (which whoever can write
//! the folder controls): split into responses, each read (status, times, CertIDs), found again by its serial.
#![no_main]

use certkit_ca::ocsp::response;
use certkit_ca::ocsp::window::WindowFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = response::read(data);
    let Ok(file) = WindowFile::parse(data.to_vec()) else {
        return;
    };
    for (i, der) in file.responses().enumerate() {
        let Ok(read) = response::read(der) else {
            panic!(
                "a response the file holds does not read again: the finding this target looks for"
            );
        };
        assert!(file.find(&read.serial).is_some());
        assert!(i < file.len());
    }
});
