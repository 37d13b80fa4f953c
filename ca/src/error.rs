//! The one error type of the certkit core, with the exit code each failure maps to.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in certkit. Messages are lower-case, name the file or value, and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user gave a value that cannot be used (bad date, bad name, conflicting options...).
    #[error("{0}")]
    BadInput(String),
    /// `certkit-ca status` found something that needs attention; its report is printed, and the exit code says
    /// how much (1 warning, 2 critical, as monitoring plugins do).
    #[error("the CA needs attention (see its status)")]
    Attention(u8),
    /// `certkit-ca status` could not find out (a monitoring plugin's UNKNOWN, exit code 3).
    #[error("{0}")]
    Unknown(Box<Error>),
    /// A password could not be obtained from its source or the terminal.
    #[error("{0}")]
    Secret(String),
    /// A key file could not be decrypted with the password given.
    #[error(
        "cannot open {path}: wrong password; check the password (or its source flag) and try again"
    )]
    WrongPassword {
        /// The key file.
        path: PathBuf,
    },
    /// An input file is not what it should be (truncated, wrong format, wrong kind of object).
    #[error("{path}: {what}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        what: String,
    },
    /// A file or folder could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("write", "read", "create folder"...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An output file exists already; certkit never overwrites.
    #[error(
        "{path} exists already; certkit never overwrites: move it away or choose another output name"
    )]
    Exists {
        /// The file that is in the way.
        path: PathBuf,
    },
    /// The folder holds a CA already.
    #[error(
        "{dir} already holds a CA ({file} exists); nothing was changed. Use another --ca folder to create a new CA"
    )]
    CaExists {
        /// The CA folder.
        dir: PathBuf,
        /// The CA file found there.
        file: String,
    },
    /// The folder holds no CA.
    #[error(
        "no CA in {dir} ({file} not found); create one with \"certkit-ca init --ca {dir} --cn NAME\""
    )]
    NoCa {
        /// The folder.
        dir: PathBuf,
        /// The CA file that is missing.
        file: String,
    },
    /// The CA cannot sign (not a CA, expired, key does not match).
    #[error("{0}")]
    CaUnusable(String),
    /// A PKCS#11 module, token, PIN or token key cannot be used as asked.
    #[error("{0}")]
    Token(String),
    /// The CA's inventory is damaged.
    #[error("inventory {path} line {line}: {what}; restore it from a backup")]
    Inventory {
        /// The inventory file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The CA's settings file says something its key did not sign.
    #[error(
        "{path} was changed after the CA key signed it: {what}; nothing was loaded or written. Restore it from a backup (checkpoint.json holds the signed settings){fix}; see \"certkit-ca audit\""
    )]
    SettingsChanged {
        /// `ca.json`.
        path: PathBuf,
        /// What differs, naming both values.
        what: String,
        /// Another way out, when there is one.
        fix: &'static str,
    },
    /// The inventory's index cannot be used (it is rebuilt from the log when that helps).
    #[error(
        "the index {path} cannot be used: {what}; build it again from the inventory with \"certkit-ca reindex --ca {}\" (the inventory is the CA's record: keep it)",
        .path.parent().unwrap_or(std::path::Path::new(".")).display()
    )]
    Index {
        /// The index file (or the log it indexes).
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// A serial, thumbprint or certificate is not in the CA's inventory.
    #[error("{0}")]
    NotFound(String),
    /// The service configuration file cannot be edited as asked.
    #[error("{path}: {what}")]
    Cscfg {
        /// The .cscfg file.
        path: PathBuf,
        /// What is wrong and what to do.
        what: String,
    },
    /// A cryptographic library failed while certkit used it correctly.
    #[error("{doing}: {detail}")]
    Crypto {
        /// What certkit was doing, e.g. "signing the CRL".
        doing: String,
        /// The library's reason.
        detail: String,
    },
    /// The system clock gave a time certkit cannot use.
    #[error("the system clock is unusable ({0}); check this machine's date and time")]
    Clock(String),
    /// Data certkit produced could not be encoded (JSON, PEM).
    #[error("cannot encode {what}: {detail}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's reason.
        detail: String,
    },
    /// The command ran and found something wrong (an audit, a check); its report says what.
    #[error("{0}")]
    Failed(String),
    /// A broken promise inside certkit itself, not something the user did.
    #[error("internal error: {0}; please report this")]
    Bug(&'static str),
    /// Writing the command's output failed (a closed pipe is not reported as an error).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

/// Shorthand for results with the certkit [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Exit code: 2 for bad usage or bad input (the user can fix the command), 1 for a failed operation.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Attention(code) => *code,
            Error::Unknown(_) => 3,
            Error::BadInput(_)
            | Error::Secret(_)
            | Error::WrongPassword { .. }
            | Error::Malformed { .. }
            | Error::NoCa { .. }
            | Error::NotFound(_)
            | Error::Token(_)
            | Error::Cscfg { .. } => 2,
            Error::Io { .. }
            | Error::Exists { .. }
            | Error::CaExists { .. }
            | Error::CaUnusable(_)
            | Error::Inventory { .. }
            | Error::SettingsChanged { .. }
            | Error::Index { .. }
            | Error::Crypto { .. }
            | Error::Clock(_)
            | Error::Encoding { .. }
            | Error::Failed(_)
            | Error::Bug(_)
            | Error::Output(_) => 1,
        }
    }

    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// A malformed input file.
    pub fn malformed(path: &Path, what: impl Into<String>) -> Self {
        Error::Malformed {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    /// A crypto-library failure, with what was being done.
    pub fn crypto(doing: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Crypto {
            doing: doing.into(),
            detail: err.to_string(),
        }
    }

    /// A JSON encoding failure.
    pub fn json(what: &'static str, err: serde_json::Error) -> Self {
        Error::Encoding {
            what,
            detail: err.to_string(),
        }
    }
}

impl From<openssl::error::ErrorStack> for Error {
    fn from(err: openssl::error::ErrorStack) -> Self {
        Error::crypto("openssl", err)
    }
}

impl From<rcgen::Error> for Error {
    fn from(err: rcgen::Error) -> Self {
        Error::crypto("certificate generation", err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_error_names_the_index_and_reindex_never_deleting_the_log() {
        let e = Error::Index {
            path: PathBuf::from("pki/index.sqlite"),
            what: "a row of the index cannot be read".into(),
        };
        let text = e.to_string();
        assert!(text.contains("pki/index.sqlite"), "{text}");
        assert!(text.contains("certkit-ca reindex --ca pki"), "{text}");
        assert!(!text.contains("delete"), "{text}");
    }
}
