//! An API Management policy file (`kit --policy FILE`): any bytes are read as a policy or refused, never a
//! panic; on one that is read, setting identities leaves every wanted identity in the file, is done in one
//! go (a second edit changes nothing), keeps the file well-formed, and never removes an identity it does not
//! own.
#![no_main]

use std::path::Path;

use certkit_export::kit::{Identity, IdentityChange, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("policy.xml");
    let Ok(mut policy) = Policy::from_bytes(path, path, data.to_vec()) else {
        return;
    };
    let Ok(before) = policy.identities() else {
        return;
    };
    let wanted = [
        Identity::by_thumbprint("00112233445566778899AABBCCDDEEFF00112233"),
        Identity::by_subject("CN=A \"quoted\" & <odd>, O=X", "CN=Fuzz CA"),
    ];
    // certkit owns identities by thumbprint only here: the others must all stay.
    let ours = |i: &Identity| i.thumbprint.is_some();
    let Ok(change) = policy.set_identities(&wanted, ours) else {
        return;
    };
    let after = policy.identities().expect("the edited policy reads back"); // ok: fuzz assertion
    for w in &wanted {
        assert!(after.contains(w), "{w:?} is missing"); // ok: fuzz assertion
    }
    for kept in before.iter().filter(|i| !ours(i)) {
        assert!(after.contains(kept), "{kept:?} was removed"); // ok: fuzz assertion
    }
    assert!(change.added <= wanted.len()); // ok: fuzz assertion
    let again = policy.set_identities(&wanted, ours).expect("a second edit"); // ok: fuzz assertion
    assert_eq!(again, IdentityChange::default()); // ok: fuzz assertion
});
