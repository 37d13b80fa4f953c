//! A key backup file (`certkit-ca restore --backup FILE`), as a damaged copy or an intruder may leave it: never
//! a panic; a file that parses is written back to bytes that parse to the same header, settings, chain and
//! certificate; its MAC is checked without a panic.
#![no_main]

use std::path::Path;

use certkit_ca::custody::BackupFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("backup.key");
    if let Ok(backup) = BackupFile::parse(path, data) {
        let again =
            BackupFile::parse(path, &backup.to_bytes()).expect("a backup's own bytes parse"); // ok: the property
        assert!(again.cert.der == backup.cert.der && again.split == backup.split);
        assert!(again.scheme == backup.scheme && again.made == backup.made);
        // The settings and chain a restore would use come back the same (the MAC covers them).
        assert!(again.settings.crl_url == backup.settings.crl_url);
        assert!(again.settings.aia_url == backup.settings.aia_url);
        assert!(again.settings.parent == backup.settings.parent);
        assert!(again.settings.chain.len() == backup.settings.chain.len());
        let _ = backup.open(path, &[0u8; 32]);
        let _ = backup.check_mac(path, &[0u8; 32]);
    }
});
