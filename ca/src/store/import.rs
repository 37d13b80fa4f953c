//! `certkit-ca import`: a CA folder made for a CA another program kept (docs/import.md): its key encrypted as
//! certkit keeps keys, its history as `imported`, `missing` and `revoked` records, the `issued/` copies, the
//! CRL number it reached, and a checkpoint its key signs over all of it. All or nothing: the folder is made
//! under a temporary name and moved into place complete.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::checkpoint::CoveredState;
use super::create::{
    Created, StartingLog, check_can_init, in_new_folder, place_if_staged, write_folder,
};
use super::folder::lock_dir;
use super::inventory;
use super::layout::*;
use super::log_append;
use super::settings::{CaSettings, KeyLocation, TokenRecord};
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys::{self, KeyType};
use crate::secret::Secret;
use crate::signer::CaKey;
use crate::store::records::Event;

/// Where the imported CA's key goes.
// One value per import, moved once: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ImportedKey<'a> {
    /// Into `ca.key`, encrypted under this password.
    File {
        /// The key.
        key: rcgen::KeyPair,
        /// Its new password.
        password: &'a Secret,
    },
    /// It stays on the token it is on (checked to be the CA certificate's): the folder records where.
    Token {
        /// The key on its token.
        key: crate::token::TokenKey,
        /// What `ca.json` records of it.
        record: TokenRecord,
        /// Where it is, as commands report it.
        location: KeyLocation,
    },
}

/// Makes the CA folder `dir` (absent, or an empty folder) for the CA certificate `cert` and its `key`, with
/// `events` as its history and `crl_number` as the last CRL number used. `wait` is called if another certkit
/// process holds the new folder's lock.
pub fn import(
    dir: &Path,
    cert: &CertInfo,
    key: ImportedKey<'_>,
    events: &[Event],
    crl_number: Option<u64>,
    wait: &mut dyn FnMut(&Path),
) -> Result<Created> {
    check_can_init(dir)?;
    // Always made beside and moved into place whole: an empty folder given is taken away first (only an
    // empty one can be).
    if dir.is_dir() {
        std::fs::remove_dir(dir).map_err(|_| {
            Error::BadInput(format!(
                "{} is a folder that is not empty: import makes a new CA folder; name one that does not exist",
                dir.display()
            ))
        })?;
    }
    let key_type = KeyType::of_spki_der(&cert.spki_der)?;
    let mut key = Some(key);
    // The log, and what the first checkpoint says of it, made before anything is written.
    let binding = inventory::ca_binding(&cert.der);
    let (text, head) = log_append::chained_events(events, binding)?;
    let state = CoveredState::of_events(events.iter());
    let start = StartingLog {
        text: &text,
        head: &head,
        count: events.len(),
        state: &state,
    };
    in_new_folder(dir, wait, &mut |work, wait| {
        let _lock = lock_dir(work, wait)?;
        let (placed, key_file, settings, location) = match key
            .take()
            .ok_or(Error::Bug("an imported key placed twice"))?
        {
            ImportedKey::File { key, password } => {
                let pem = keys::encrypt_pem(&key, password)?;
                let location = KeyLocation::file(dir.join(CA_KEY));
                (CaKey::File(key), Some(pem), CaSettings::default(), location)
            }
            ImportedKey::Token {
                key,
                record,
                location,
            } => {
                let settings = CaSettings {
                    pkcs11: Some(record),
                    ..CaSettings::default()
                };
                (CaKey::Token(key), None, settings, location)
            }
        };
        // The copies and the CRL number first: the folder is a CA only once write_folder put ca.pem in place.
        let issued = work.join(ISSUED_DIR);
        std::fs::create_dir(&issued).map_err(|e| Error::io("create folder", &issued, e))?;
        write_copies(&issued, events)?;
        if let Some(number) = crl_number {
            files::write_new(
                &work.join(CRL_NUMBER),
                format!("{number}\n").as_bytes(),
                PUBLIC,
            )?;
        }
        let created = write_folder(
            dir,
            work,
            cert.clone(),
            &placed,
            key_type,
            key_file,
            &settings,
            location,
            Some(&start),
        )?;
        // Everything on disk before the folder appears: one syncfs for the whole folder.
        let folder = std::fs::File::open(work).map_err(|e| Error::io("open", work, e))?;
        nix::unistd::syncfs(&folder).map_err(|e| Error::io("flush to disk", work, e.into()))?;
        place_if_staged(work, dir)?;
        Ok(created)
    })
}

/// `issued/SERIAL.cer` for every imported certificate, flushed with the folder (not one by one).
fn write_copies(issued: &Path, events: &[Event]) -> Result<()> {
    for event in events {
        let Event::Imported(record) = event else {
            continue;
        };
        let der = record
            .cert_der()
            .ok_or(Error::Bug("an imported record without its certificate"))?;
        let path = issued.join(format!("{}.cer", record.serial));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PUBLIC)
            .open(&path)
            .map_err(|e| Error::io("write", &path, e))?;
        file.write_all(&der)
            .map_err(|e| Error::io("write", &path, e))?;
    }
    Ok(())
}
