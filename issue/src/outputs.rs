//! The files one certificate is delivered in: `PREFIX.cer` (DER), `PREFIX.pem`, and the private key as an
//! encrypted `PREFIX.key` and/or a `PREFIX.pfx`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use certkit_ca::store::guard;
use certkit_ca::{CaStore, Error, Result};

/// `PREFIX` + `.ext`, keeping any folder and dots in the prefix.
pub fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The files a run writes for one certificate.
#[derive(Clone, Debug)]
pub struct OutputPlan {
    /// Where they go: PREFIX.cer, PREFIX.pem, PREFIX.key, PREFIX.pfx.
    pub prefix: PathBuf,
    /// Write an encrypted PREFIX.key.
    pub with_key: bool,
    /// Write PREFIX.pfx.
    pub with_pfx: bool,
}

impl OutputPlan {
    /// The certificate in DER.
    pub fn cer(&self) -> PathBuf {
        with_ext(&self.prefix, "cer")
    }

    /// The paths this plan will write, in the order they are written.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.cer(), with_ext(&self.prefix, "pem")];
        if self.with_key {
            paths.push(with_ext(&self.prefix, "key"));
        }
        if self.with_pfx {
            paths.push(with_ext(&self.prefix, "pfx"));
        }
        paths
    }

    /// Fails if any output lies in a CA folder or exists (for a CA-signed certificate, unless it is a
    /// leftover of an interrupted delivery of that CA, which a rerun replaces); run before asking for passwords.
    pub fn check_free(&self, ca: Option<&CaStore>) -> Result<()> {
        match ca {
            Some(store) => store.check_outputs_free(&self.paths()),
            None => {
                for path in self.paths() {
                    guard::check_output(&path, &[])?;
                    if path.symlink_metadata().is_ok() {
                        return Err(Error::Exists { path });
                    }
                }
                Ok(())
            }
        }
    }
}
