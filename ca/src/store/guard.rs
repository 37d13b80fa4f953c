//! Keeping every command's output out of CA folders: no `--out`, `--out-dir`, `crl --out` or `--file` may
//! name a file anywhere below a CA folder, except the one file a command owns there (`ca.crl` for `certkit-ca crl`).
//! Paths are compared after resolving symbolic links and `..`, so a link into the CA folder is refused too.

use std::path::{Path, PathBuf};

use super::layout::{CA_PEM, CA_SETTINGS, INVENTORY};
use crate::error::{Error, Result};

/// `path` resolved: the deepest part of it that exists with links and `..` resolved, and the rest appended (a
/// path into folders that do not exist yet resolves to where it would be made).
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        match existing.parent() {
            Some(parent) => {
                if let Some(name) = existing.file_name() {
                    rest.push(name.to_os_string());
                }
                existing = parent;
            }
            None => return path.to_path_buf(),
        }
        let folder = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        if let Ok(real) = std::fs::canonicalize(folder) {
            return rest.iter().rev().fold(real, |p, name| p.join(name));
        }
    }
}

/// True if `dir` holds a CA made by certkit.
pub fn is_ca_folder(dir: &Path) -> bool {
    dir.join(CA_PEM).is_file() && (dir.join(INVENTORY).is_file() || dir.join(CA_SETTINGS).is_file())
}

/// The CA folder that `path` (resolved) lies in, at any depth.
pub fn ca_folder_of(path: &Path) -> Option<PathBuf> {
    let resolved = resolve(path);
    resolved
        .ancestors()
        .skip(1)
        .find(|folder| is_ca_folder(folder))
        .map(Path::to_path_buf)
}

/// Refuses an output path inside a CA folder, unless it is one of `owned`.
pub fn check_output(path: &Path, owned: &[PathBuf]) -> Result<()> {
    let Some(ca) = ca_folder_of(path) else {
        return Ok(());
    };
    let resolved = resolve(path);
    if owned.iter().any(|o| resolve(o) == resolved) {
        return Ok(());
    }
    Err(Error::BadInput(format!(
        "{} is a file of the CA in {}; certkit never writes its outputs into a CA folder, so no CA file can be replaced: choose a path outside it",
        path.display(),
        ca.display()
    )))
}

/// Refuses an output folder that is a CA folder or its `issued/` folder.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    check_output(&dir.join("certkit-output"), &[])
}
