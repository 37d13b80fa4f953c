//! Keeping every command's output out of CA folders: no `--out`, `--out-dir`, `crl --out` or `--file` may
//! name a file of a CA folder, except the one file a command owns there (`ca.crl` for `certkit-ca crl`).
//! Paths are compared after resolving symbolic links and `..`, so a link into the CA folder is refused too.

use std::path::{Path, PathBuf};

use super::layout::{CA_PEM, CA_SETTINGS, INVENTORY, ISSUED_DIR};
use crate::error::{Error, Result};

/// `path` with its folder resolved (links and `..`), or the file itself resolved when it exists.
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(folder), path.file_name()) {
        (Ok(real), Some(name)) => real.join(name),
        _ => path.to_path_buf(),
    }
}

/// True if `dir` holds a CA made by certkit.
pub fn is_ca_folder(dir: &Path) -> bool {
    dir.join(CA_PEM).is_file() && (dir.join(INVENTORY).is_file() || dir.join(CA_SETTINGS).is_file())
}

/// The CA folder that `path` (resolved) lies in, directly or in its `issued/` folder.
pub fn ca_folder_of(path: &Path) -> Option<PathBuf> {
    let resolved = resolve(path);
    let folder = resolved.parent()?;
    if is_ca_folder(folder) {
        return Some(folder.to_path_buf());
    }
    let above = folder.parent()?;
    (folder.file_name()? == ISSUED_DIR && is_ca_folder(above)).then(|| above.to_path_buf())
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
