//! Writing a kit: a new one all or nothing; a refresh file by file, each replaced atomically, the record
//! written first with both hashes of what changes so an interrupted refresh is finished by the next, and a
//! file changed by hand never replaced.

use std::path::{Path, PathBuf};

use certkit_ca::files::{self, NewFiles, PRIVATE, PUBLIC};
use certkit_ca::{Error, Result};
use serde::Serialize;

use super::contents::KitFile;
use super::record::{KIT_JSON, KitRecord, RecordedFile};

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Written new.
    Written,
    /// Replaced with new contents.
    Replaced,
    /// Already what it should be.
    Unchanged,
    /// No longer part of the kit; removed.
    Removed,
    /// Would be written or replaced (a dry run).
    Planned,
}

fn mode(file: &KitFile) -> u32 {
    if file.private { PRIVATE } else { PUBLIC }
}

/// The record of `files`.
pub fn recorded(files: &[KitFile]) -> Vec<RecordedFile> {
    files
        .iter()
        .map(|f| RecordedFile {
            name: f.name.clone(),
            sha256: files::sha256_hex(&f.bytes),
            was: None,
        })
        .collect()
}

/// Writes a new kit into `dir` (made if missing; it must be empty): every file and `kit.json`, or none.
pub fn write_new(dir: &Path, files: &[KitFile], record: &KitRecord) -> Result<Vec<PathBuf>> {
    certkit_ca::store::guard::check_output_dir(dir)?;
    match std::fs::read_dir(dir) {
        Ok(mut listing) => {
            if dir.join(KIT_JSON).exists() {
                return Err(Error::BadInput(format!(
                    "{} is a kit already; bring it up to date with certkit-export kit --refresh {}",
                    dir.display(),
                    dir.display()
                )));
            }
            if listing.next().is_some() {
                return Err(Error::BadInput(format!(
                    "{} is not empty; give a new folder for the kit (it is written whole, never among other files)",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(if files.iter().any(|f| f.private) {
                    0o700
                } else {
                    0o755
                })
                .create(dir)
                .map_err(|e| Error::io("create folder", dir, e))?;
        }
        Err(e) => return Err(Error::io("read folder", dir, e)),
    }
    let mut set = NewFiles::new();
    for file in files {
        set.add(dir.join(&file.name), file.bytes.to_vec(), mode(file));
    }
    set.add(dir.join(KIT_JSON), record.to_bytes()?, PUBLIC);
    set.commit()
}

/// Brings the kit in `dir` to `files`: `old` is its record, `new` the record to write. Fails before
/// changing anything when a file is not what certkit wrote. Returns what happened to each file.
pub fn refresh(
    dir: &Path,
    old: &KitRecord,
    new: &mut KitRecord,
    files: &[KitFile],
) -> Result<Vec<(String, Outcome)>> {
    let mut outcomes = Vec::new();
    let mut to_place = Vec::new();
    for (file, entry) in files.iter().zip(new.files.iter_mut()) {
        let path = dir.join(&file.name);
        let current = match std::fs::read(&path) {
            Ok(bytes) => Some(files::sha256_hex(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        if current.as_deref() == Some(entry.sha256.as_str()) {
            outcomes.push((file.name.clone(), Outcome::Unchanged));
            continue;
        }
        let recorded = old.file(&file.name);
        let ours = match (&current, recorded) {
            (None, _) => true,
            (Some(hash), Some(r)) => &r.sha256 == hash || r.was.as_ref() == Some(hash),
            (Some(_), None) => false,
        };
        if !ours {
            return Err(Error::Failed(format!(
                "{} was changed since certkit wrote it; nothing was replaced. Put back what certkit wrote (or remove the file) and run the refresh again",
                path.display()
            )));
        }
        entry.was = current.clone();
        outcomes.push((
            file.name.clone(),
            if current.is_some() {
                Outcome::Replaced
            } else {
                Outcome::Written
            },
        ));
        to_place.push(file);
    }
    let gone: Vec<&RecordedFile> = old
        .files
        .iter()
        .filter(|r| !files.iter().any(|f| f.name == r.name))
        .collect();
    for r in &gone {
        let path = dir.join(&r.name);
        if let Ok(bytes) = std::fs::read(&path)
            && files::sha256_hex(&bytes) != r.sha256
            && r.was.as_ref() != Some(&files::sha256_hex(&bytes))
        {
            return Err(Error::Failed(format!(
                "{} is no longer part of the kit but was changed since certkit wrote it; nothing was replaced. Move it away and run the refresh again",
                path.display()
            )));
        }
    }
    if to_place.is_empty() && gone.is_empty() {
        return Ok(outcomes);
    }
    // The record first, naming both hashes of each file about to change: a refresh cut short here is
    // finished by the next one.
    let record = dir.join(KIT_JSON);
    files::replace(&record, &new.to_bytes()?, PUBLIC)?;
    for file in to_place {
        files::replace(&dir.join(&file.name), &file.bytes, mode(file))?;
    }
    for r in gone {
        let path = dir.join(&r.name);
        match std::fs::remove_file(&path) {
            Ok(()) => outcomes.push((r.name.clone(), Outcome::Removed)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &path, e)),
        }
    }
    for entry in &mut new.files {
        entry.was = None;
    }
    files::replace(&record, &new.to_bytes()?, PUBLIC)?;
    Ok(outcomes)
}
