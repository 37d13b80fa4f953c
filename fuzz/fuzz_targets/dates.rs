//! Dates (`--expires`, `--at`): any text gives a date or an error, and any date a validity or an error.
#![no_main]

use certkit_ca::dates::{Lifetime, Validity, parse_date};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(date) = parse_date(text)
        && let Ok(validity) = Validity::starting_now(Lifetime::Until(date))
    {
        assert!(validity.not_before < validity.not_after);
    }
    let _ = certkit_ca::cli::values::moment(text);
    if let Ok(days) = text.parse::<u32>() {
        let _ = Validity::starting_now(Lifetime::Days(days));
    }
});
