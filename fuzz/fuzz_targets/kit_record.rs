//! `kit.json` as an intruder who can write the kit folder may leave it (`kit --refresh` reads it): any bytes
//! are a record or refused, never a panic; a record read names only plain file names (a refresh writes and
//! removes them in the kit folder) and writes back to a record that reads the same.
#![no_main]

use std::path::Path;

use certkit_export::kit::{KitRecord, is_plain_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = KitRecord::parse(data, Path::new("kit.json")) else {
        return;
    };
    for file in &record.files {
        assert!(is_plain_name(&file.name), "{:?}", file.name); // ok: fuzz assertion
    }
    let bytes = record.to_bytes().expect("a record writes"); // ok: fuzz assertion
    let back = KitRecord::parse(&bytes, Path::new("kit.json")).expect("reads back"); // ok: fuzz assertion
    assert_eq!(back.to_bytes().expect("writes"), bytes); // ok: fuzz assertion
});
