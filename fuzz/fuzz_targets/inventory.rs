//! Inventory reading: a damaged or hand-edited inventory gives findings with line numbers, never a panic,
//! whether read strictly (every command) or leniently (the audit).
#![no_main]

use std::path::Path;

use certkit_ca::store::inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("inventory.jsonl");
    let binding = inventory::ca_binding(b"fuzz CA").to_string();
    let (log, damaged) = inventory::parse_lenient(data);
    for (line, _) in &damaged {
        assert!(*line >= 1);
    }
    let _ = log.chain_breaks(&binding);
    let _ = log.head(&binding);
    if let Ok(log) = inventory::parse(data, path)
        && let Ok(entries) = log.into_entries(path)
    {
        let now = certkit_ca::dates::now_utc_seconds().expect("clock"); // ok: fuzz assertion
        for entry in entries {
            let _ = entry.status(now);
        }
    }
});
