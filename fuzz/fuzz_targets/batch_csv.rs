//! Batch CSV rows: every accepted row has a CN certkit accepts and an output name that stays in the folder.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = certkit_issue::batch::parse_rows(data, Path::new("people.csv")) else {
        return;
    };
    for row in rows.iter() {
        certkit_ca::naming::check_cn(&row.cn).expect("an accepted CN"); // ok: fuzz assertion
        assert!(
            !row.out.is_empty() && !row.out.starts_with('.'),
            "{:?}",
            row.out
        );
        assert!(
            row.out
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "{:?}",
            row.out
        );
        assert!(row.line >= 2, "a row is below the header");
    }
});
