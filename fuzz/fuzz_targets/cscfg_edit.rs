//! The .cscfg editor: any bytes in; after an edit the output is well-formed XML and differs from the input only
//! inside attribute values (comments, whitespace, quotes and order stay byte for byte).
#![no_main]

use std::path::Path;

use certkit_ca::Thumbprint;
use certkit_ca::cscfg::Cscfg;
use libfuzzer_sys::fuzz_target;

/// The text with every attribute's value emptied, found independently of the editor: from the `=` after the
/// name to the attribute's closing quote.
fn skeleton(text: &str) -> String {
    let doc = roxmltree::Document::parse(text).expect("the edited file parses"); // ok: fuzz assertion
    let mut spans = Vec::new();
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        for a in node.attributes() {
            let range = a.range();
            let source = &text[range.clone()];
            let quote = source.chars().last().expect("attribute text"); // ok: fuzz assertion
            let equals = source.find('=').expect("an ="); // ok: fuzz assertion
            let open = equals + 1 + source[equals + 1..].find(quote).expect("an opening quote"); // ok: fuzz assertion
            spans.push(range.start + open + 1..range.end - 1);
        }
    }
    spans.sort_by_key(|r| r.start);
    let mut out = String::new();
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut cscfg) = Cscfg::from_bytes(Path::new("fuzz.cscfg"), data.to_vec()) else {
        return;
    };
    let original = cscfg.text().to_string();
    let t = |s: &str| Thumbprint::parse(s).expect("thumbprint"); // ok: fuzz assertion
    let ssl = t("A909502DD82AE41433E6F83886B00D4277A32A7B");
    let alice = t("0123456789ABCDEF0123456789ABCDEF01234567");
    // Each edit may fail (an entry no role has): what succeeded before must still hold.
    let _ = cscfg.set_certificate("SSL", &ssl);
    let _ = cscfg.set_certificate("CA", &ssl);
    let _ = cscfg.set_setting("ClientCertificateRevocationCheck", "Online", false);
    let _ = cscfg.set_setting("SetupWebAppForClientCertificates", "a\"b<&'>", false);
    let _ = cscfg.edit_allowed_clients(&[alice], &[ssl]);
    let edited = cscfg.text();
    assert_eq!(
        skeleton(&original),
        skeleton(edited),
        "the edit changed more than attribute values"
    );
    if cscfg.changes().is_empty() {
        assert_eq!(original, edited);
    }
    // The dry-run diff is made from the same text, and never fails.
    let _ = cscfg.diff();
});
