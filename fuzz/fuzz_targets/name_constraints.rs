//! Name constraints: a CA certificate's nameConstraints extension (input starting with byte 0, the rest DER)
//! and the values of `--permit-dns`, `--permit-email`, `--permit-ip` (text, one per line). Whatever parses
//! can be checked against any name without a panic; a parsed subtree holds the name it was made from.
#![no_main]

use certkit_ca::constraints::{NameConstraints, Subtree};
use certkit_ca::san::San;
use libfuzzer_sys::fuzz_target;

fn names(text: &str) -> Vec<San> {
    let mut names = vec![
        San::Dns(text.to_string()),
        San::Email(format!("user@{text}")),
        San::Dns(format!("www.{text}")),
    ];
    if let Ok(ip) = text.parse() {
        names.push(San::Ip(ip));
    }
    names
}

fuzz_target!(|data: &[u8]| {
    if let Some((0, der)) = data.split_first() {
        if let Ok(constraints) = NameConstraints::of_cert(der) {
            for name in names("example.com") {
                let _ = constraints.check(&name);
            }
            let _ = constraints.check_names(Some("www.example.com"), &[]);
        }
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        for made in [Subtree::dns(line), Subtree::email(line), Subtree::ip(line)] {
            let Ok(tree) = made else { continue };
            let constraints = NameConstraints {
                permitted: vec![tree.clone()],
                excluded: vec![],
            };
            for name in names(line) {
                let _ = constraints.check(&name);
            }
            if let Subtree::Dns(domain) = &tree
                && !domain.starts_with('.')
            {
                assert!(
                    constraints.check(&San::Dns(domain.clone())).is_ok(),
                    "{domain} is not within its own tree"
                );
            }
            let _ = constraints.to_rcgen();
        }
    }
});
