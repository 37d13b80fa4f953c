//! Crash-safe file writing: every file is written to a temporary file in its own folder, flushed to disk and
//! then moved into place, so a crash leaves the old file or the new one, never half of one.
//!
//! A group of files (a batch's certificates) is staged first, flushed with one `syncfs` per filesystem, and
//! only then moved into place, with one folder sync per folder: the cost of making a group durable does not
//! grow with the number of files in it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Names of temporary files start with this, so that what a crash leaves is recognised (and never taken for
/// an output).
pub const TEMP_PREFIX: &str = ".certkit-";

/// Mode of private key and PFX files: only the owner may read them.
pub const PRIVATE: u32 = 0o600;
/// Mode of certificates and other public files.
pub const PUBLIC: u32 = 0o644;

/// The folder a file is in (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn staged(path: &Path, bytes: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let folder = folder_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(folder)
        .map_err(|e| Error::io("write into", folder, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", path, e))?;
    Ok(tmp)
}

fn sync_folder(path: &Path) -> Result<()> {
    sync_dir(folder_of(path))
}

fn sync_dir(folder: &Path) -> Result<()> {
    File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync folder", folder, e))
}

/// Writes a new file atomically; fails with [`Error::Exists`] if `path` exists (never overwrites).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    place_new(path, bytes, mode)?;
    sync_folder(path)
}

/// [`write_new`] without syncing the folder (the caller syncs it once for several files).
fn place_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    if path.exists() {
        return Err(Error::Exists { path: path.into() });
    }
    let tmp = staged(path, bytes, mode)?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists { path: path.into() }
        } else {
            Error::io("write", path, e.error)
        }
    })?;
    Ok(())
}

/// Replaces (or creates) a file atomically, keeping `mode`.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = staged(path, bytes, mode)?;
    tmp.persist(path)
        .map_err(|e| Error::io("write", path, e.error))?;
    sync_folder(path)
}

/// Writes `edited` over `target`, a file certkit read as `original` and edited in place (a `.cscfg`, an API
/// Management policy; the caller has checked it is not a CA file): refused with `changed()` when the file is no longer `original` on disk; otherwise
/// `original` is kept as `TARGET.bak`, then the file is replaced atomically, both with the file's mode.
/// Returns the backup's path.
pub fn replace_keeping_backup(
    target: &Path,
    original: &[u8],
    edited: &[u8],
    changed: impl FnOnce() -> Error,
) -> Result<PathBuf> {
    if read(target)? != original {
        return Err(changed());
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(target)
        .map_err(|e| Error::io("read", target, e))?
        .permissions()
        .mode()
        & 0o777;
    let mut backup = target.as_os_str().to_owned();
    backup.push(".bak");
    let backup = PathBuf::from(backup);
    replace(&backup, original, mode)?;
    replace(target, edited, mode)?;
    Ok(backup)
}

/// Moves `from` to `to` (in the same folder), replacing what is there, and flushes the folder.
pub fn rename_into_place(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io("write", to, e))?;
    sync_folder(to)
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::BadInput(format!("{} not found; check the file name", path.display()))
        }
        _ => Error::io("read", path, e),
    })
}

/// A file written under a temporary name (`.certkit-*`) in its target folder; not yet flushed, not yet in place.
/// Dropped before it is placed, it is removed.
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// Writes `bytes` to a temporary file next to `path`, with `mode`; [`flush`] and a `place` make it durable.
pub fn stage(path: &Path, bytes: &[u8], mode: u32) -> Result<Staged> {
    stage_as(path, bytes, mode, TEMP_PREFIX)
}

/// [`stage`] under exactly the temporary name `temp` (in `path`'s folder), so that a later run can find what a
/// crash left without listing the folder.
pub fn stage_named(path: &Path, bytes: &[u8], mode: u32, temp: &str) -> Result<Staged> {
    let folder = folder_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(temp)
        .rand_bytes(0)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(folder)
        .map_err(|e| Error::io("write into", folder, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    Ok(Staged {
        tmp,
        target: path.to_path_buf(),
    })
}

/// [`stage`] under a temporary name that starts with `prefix` (which starts with `.certkit-`), so that what a
/// crash leaves can be told apart and removed.
pub fn stage_as(path: &Path, bytes: &[u8], mode: u32, prefix: &str) -> Result<Staged> {
    let folder = folder_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(folder)
        .map_err(|e| Error::io("write into", folder, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    Ok(Staged {
        tmp,
        target: path.to_path_buf(),
    })
}

impl Staged {
    /// Where it goes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves it into place; fails with [`Error::Exists`] if something is there (never overwrites).
    pub fn place_new(self) -> Result<()> {
        let target = self.target;
        self.tmp.persist_noclobber(&target).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists {
                    path: target.clone(),
                }
            } else {
                Error::io("write", &target, e.error)
            }
        })?;
        Ok(())
    }

    /// Moves it into place, replacing what is there (only for files the caller has proven are its own).
    pub fn place_over(self) -> Result<()> {
        let target = self.target;
        self.tmp
            .persist(&target)
            .map_err(|e| Error::io("write", &target, e.error))?;
        Ok(())
    }
}

/// Flushes the data of every staged file to disk: one `syncfs` per filesystem involved, however many files.
pub fn flush<'a>(staged: impl IntoIterator<Item = &'a Staged>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut devices: Vec<u64> = Vec::new();
    for file in staged {
        let meta = file
            .tmp
            .as_file()
            .metadata()
            .map_err(|e| Error::io("write", &file.target, e))?;
        if devices.contains(&meta.dev()) {
            continue;
        }
        devices.push(meta.dev());
        nix::unistd::syncfs(file.tmp.as_file())
            .map_err(|e| Error::io("flush to disk", &file.target, e.into()))?;
    }
    Ok(())
}

/// Flushes the folders of `paths` (their new entries), each folder once.
pub fn sync_folders<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    let mut done: Vec<&Path> = Vec::new();
    for path in paths {
        let folder = folder_of(path);
        if !done.contains(&folder) {
            sync_dir(folder)?;
            done.push(folder);
        }
    }
    Ok(())
}

/// SHA-256 of `bytes`, lowercase hex (as `sha256sum` prints it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::thumbprint::hex_lower(&crate::digest::sha256(bytes))
}

/// A set of new files written all or nothing: if one cannot be written, those already written are removed.
#[derive(Default)]
pub struct NewFiles {
    /// What to write: the bytes are wiped when the set is dropped (a recovery share file is plain text).
    files: Vec<(PathBuf, zeroize::Zeroizing<Vec<u8>>, u32)>,
}

impl NewFiles {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file to write.
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>, mode: u32) {
        self.files
            .push((path.into(), zeroize::Zeroizing::new(bytes.into()), mode));
    }

    /// Fails if any of the files exists, without writing anything.
    pub fn check_free(&self) -> Result<()> {
        for (path, _, _) in &self.files {
            if path.exists() {
                return Err(Error::Exists { path: path.clone() });
            }
        }
        Ok(())
    }

    /// Writes every file, or none of them. Returns the paths written, in order. Each file is flushed before it
    /// is renamed into place; each folder is flushed once at the end (one folder sync, not one per file).
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        self.check_free()?;
        let mut written: Vec<PathBuf> = Vec::new();
        for (path, bytes, mode) in &self.files {
            if let Err(err) = place_new(path, bytes, *mode) {
                remove_all(&written);
                return Err(err);
            }
            written.push(path.clone());
        }
        let mut folders: Vec<&Path> = written.iter().map(|p| folder_of(p)).collect();
        folders.dedup();
        for folder in folders {
            if let Err(err) = sync_dir(folder) {
                remove_all(&written);
                return Err(err);
            }
        }
        Ok(written)
    }
}

/// Removes the temporary files (`.certkit-*`) an interrupted write left in `dir`; errors are ignored (what
/// cannot be removed is in the way of nothing).
pub fn remove_temporary(dir: &Path) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in listing.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Removes files written earlier in a step that failed; errors are ignored because the first error is what
/// the user needs to see.
pub fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

/// Opens (creating if needed) a file for appending, with `mode` if it is created.
pub fn open_append(path: &Path, mode: u32) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_refuses_existing_and_sets_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.key");
        write_new(&path, b"one", PRIVATE).expect("first write");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_new(&path, b"two", PRIVATE),
            Err(Error::Exists { .. })
        ));
        assert_eq!(fs::read(&path).expect("read"), b"one");
    }

    #[test]
    fn new_files_is_all_or_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let taken = dir.path().join("b");
        fs::write(&taken, "keep").expect("write");
        let mut set = NewFiles::new();
        set.add(dir.path().join("a"), "a", PUBLIC);
        set.add(&taken, "b", PUBLIC);
        assert!(set.commit().is_err());
        assert!(!dir.path().join("a").exists());
        assert_eq!(fs::read_to_string(&taken).expect("read"), "keep");
    }
}
