//! Passwords: where they come from (`--ca-pass` and friends) and how they are kept in memory. Asking on a
//! terminal is the command line's job (`term::secrets`); this module never prompts.
//!
//! Invariants: a secret is never taken from a plain command-line value, never printed (its `Debug` says
//! `[redacted]`), and its bytes are zeroized when it is dropped. No error repeats what the user typed as a
//! source, because a password typed in the wrong place must not end up in a terminal log.

use std::fmt;
use std::io::BufRead;
use std::path::PathBuf;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// New passwords shorter than this are refused: a PFX or key file may be attacked offline.
pub const MIN_NEW_PASSWORD_CHARS: usize = 12;

/// A password held in memory that is zeroized on drop and never shown.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a password that is already in a zeroizing buffer.
    pub fn new(value: Zeroizing<String>) -> Self {
        Secret(value)
    }

    /// The password text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where a password is read from, in OpenSSL's passphrase-source style (without `pass:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `env:VAR`: the value of an environment variable.
    Env(String),
    /// `file:PATH`: the first line of a file.
    File(PathBuf),
    /// `fd:N`: the first line read from an open file descriptor.
    Fd(u32),
    /// `stdin`: the next line of standard input.
    Stdin,
}

impl FromStr for SecretSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "stdin" {
            return Ok(SecretSource::Stdin);
        }
        match s.split_once(':') {
            Some(("pass", _)) => Err(
                "pass:... is refused: a password on the command line is visible in `ps` and \
                 shell history; use env:VAR, file:PATH, fd:N or stdin"
                    .into(),
            ),
            Some(("env", var)) if !var.is_empty() => Ok(SecretSource::Env(var.into())),
            Some(("file", path)) if !path.is_empty() => Ok(SecretSource::File(path.into())),
            Some(("fd", n)) => n.parse().map(SecretSource::Fd).map_err(|_| {
                format!("fd:{n} is not a file descriptor number; use fd:N, e.g. fd:3")
            }),
            // The value is not repeated: it may be a password typed in the wrong place.
            _ => Err("that is not a password source; use env:VAR, file:PATH, fd:N or stdin".into()),
        }
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "env:{var}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
            SecretSource::Fd(n) => write!(f, "fd:{n}"),
            SecretSource::Stdin => f.write_str("stdin"),
        }
    }
}

/// Which password is wanted: its flag and a human name, used in prompts and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretKind {
    /// The flag that gives its source, e.g. `--ca-pass`.
    pub flag: &'static str,
    /// What it protects, e.g. "CA key password".
    pub what: &'static str,
}

/// The CA key's password.
pub const CA_PASS: SecretKind = SecretKind {
    flag: "--ca-pass",
    what: "CA key password",
};
/// A leaf key file's password.
pub const KEY_PASS: SecretKind = SecretKind {
    flag: "--key-pass",
    what: "key file password",
};
/// A PFX file's password.
pub const PFX_PASS: SecretKind = SecretKind {
    flag: "--pfx-pass",
    what: "PFX password",
};
/// The password of the PFX given with `--from`.
pub const FROM_PASS: SecretKind = SecretKind {
    flag: "--from-pass",
    what: "PFX password",
};

/// Whether the password opens something that exists or protects something new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretUse {
    /// Unlocks an existing file: asked once, any length.
    Existing,
    /// Protects a new file: asked twice on a terminal, at least [`MIN_NEW_PASSWORD_CHARS`] characters.
    New,
}

/// A password fetched only when it is needed, e.g. only if one of the files given turns out to be a PFX. The
/// command line implements it (from a source flag, or by asking once on the terminal).
pub trait OnDemand {
    /// The password, fetched on first use.
    fn get(&mut self) -> Result<&Secret>;
}

/// Refuses a password certkit cannot use, or a new one that is too short.
pub fn check(secret: &Secret, kind: SecretKind, usage: SecretUse) -> Result<()> {
    if secret.expose().contains('\0') {
        return Err(Error::Secret(format!(
            "the {} contains a NUL character, which PKCS#12 and OpenSSL cannot use",
            kind.what
        )));
    }
    if usage == SecretUse::New && secret.expose().chars().count() < MIN_NEW_PASSWORD_CHARS {
        return Err(Error::Secret(format!(
            "the new {} is too short: use at least {MIN_NEW_PASSWORD_CHARS} characters",
            kind.what
        )));
    }
    if secret.expose().is_empty() {
        return Err(Error::Secret(format!("the {} is empty", kind.what)));
    }
    Ok(())
}

/// Reads a password from its source (the first line of a file or descriptor, the next line of stdin).
pub fn read_source(source: &SecretSource, kind: SecretKind) -> Result<Secret> {
    let unreadable = |why: String| {
        Error::Secret(format!(
            "cannot read the {} from {}: {why}",
            kind.what, source
        ))
    };
    let mut line = Zeroizing::new(String::new());
    match source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(value) => line.push_str(&Zeroizing::new(value)),
            Err(_) => return Err(unreadable(format!("environment variable {var} is not set"))),
        },
        SecretSource::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
            std::io::BufReader::new(file)
                .read_line(&mut line)
                .map_err(|e| unreadable(e.to_string()))?;
        }
        SecretSource::Fd(n) => {
            // Opening /dev/fd/N reads an inherited descriptor without unsafe code.
            let file = std::fs::File::open(format!("/dev/fd/{n}"))
                .map_err(|e| unreadable(e.to_string()))?;
            std::io::BufReader::new(file)
                .read_line(&mut line)
                .map_err(|e| unreadable(e.to_string()))?;
        }
        SecretSource::Stdin => {
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| unreadable(e.to_string()))?;
        }
    }
    let trimmed = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(trimmed);
    Ok(Secret(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_pass_is_refused() {
        assert_eq!(
            "env:X".parse::<SecretSource>(),
            Ok(SecretSource::Env("X".into()))
        );
        assert_eq!(
            "file:/a/b".parse::<SecretSource>(),
            Ok(SecretSource::File("/a/b".into()))
        );
        assert_eq!("fd:3".parse::<SecretSource>(), Ok(SecretSource::Fd(3)));
        assert_eq!("stdin".parse::<SecretSource>(), Ok(SecretSource::Stdin));
        let refused = "pass:hunter2"
            .parse::<SecretSource>()
            .expect_err("pass: must be refused");
        assert!(refused.contains("visible in `ps`"), "{refused}");
        assert!(!refused.contains("hunter2"));
        assert!("hunter2".parse::<SecretSource>().is_err());
        assert!("fd:x".parse::<SecretSource>().is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new(Zeroizing::new("correct horse".into()));
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }

    #[test]
    fn file_source_reads_first_line_and_new_passwords_must_be_long() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "short\nsecond line\n").expect("write");
        let source = SecretSource::File(file);
        let existing = read_source(&source, PFX_PASS).expect("read");
        assert_eq!(existing.expose(), "short");
        check(&existing, PFX_PASS, SecretUse::Existing).expect("any length unlocks");
        let err =
            check(&existing, PFX_PASS, SecretUse::New).expect_err("short password must be refused");
        assert!(err.to_string().contains("at least 12"), "{err}");
    }
}
