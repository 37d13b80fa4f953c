//! Passwords: where they come from (`--ca-pass` and friends) and how they are kept in memory. Asking on a
//! terminal is the command line's job (`term::secrets`); this module never prompts.
//!
//! Invariants: a secret is never taken from a plain command-line value, never printed (its `Debug` says
//! `[redacted]`), and its bytes are zeroized when it is dropped. No error repeats what the user typed as a
//! source, because a password typed in the wrong place must not end up in a terminal log.

use std::fmt;
use std::fs::File;
use std::io::Read;
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
    /// `empty`: no password at all, for opening a PFX that has none (Azure Key Vault hands PFX files out with an
    /// empty password); never for a new password or a key file.
    Empty,
}

impl FromStr for SecretSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stdin" => return Ok(SecretSource::Stdin),
            "empty" => return Ok(SecretSource::Empty),
            _ => {}
        }
        match s.split_once(':') {
            Some(("pass", _)) => Err(
                "pass:... is refused: a password on the command line is visible in `ps` and \
                 shell history; use env:VAR, file:PATH, fd:N or stdin"
                    .into(),
            ),
            Some(("env", var)) if !var.is_empty() => Ok(SecretSource::Env(var.into())),
            Some(("file", path)) if !path.is_empty() => Ok(SecretSource::File(path.into())),
            // The value is not repeated: it may be a password typed in the wrong place.
            Some(("fd", n)) => n.parse().map(SecretSource::Fd).map_err(|_| {
                "fd: must be followed by a file descriptor number, e.g. fd:3".to_string()
            }),
            // The value is not repeated: it may be a password typed in the wrong place.
            _ => Err(
                "that is not a password source; use env:VAR, file:PATH, fd:N, stdin (or empty, for a PFX that has no password)".into(),
            ),
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
            SecretSource::Empty => f.write_str("empty"),
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
    /// Its place in the one order every command reads sources in ([`READING_ORDER`]).
    pub order: u8,
}

/// The CA key's password.
pub const CA_PASS: SecretKind = SecretKind {
    flag: "--ca-pass",
    what: "CA key password",
    order: 0,
};
/// The key password of a CA brought in from another program (`certkit-ca import`): read before the new one.
pub const SOURCE_PASS: SecretKind = SecretKind {
    flag: "--source-pass",
    what: "source CA key password",
    order: 0,
};
/// The user PIN of the token that holds the CA key: given with `--ca-pass`, so that scripts written for a
/// key file work unchanged.
pub const CA_PIN: SecretKind = SecretKind {
    flag: "--ca-pass",
    what: "token user PIN",
    order: 0,
};
/// The key password (or token PIN) of the CA that signs a new one (`certkit-ca init --parent`): read before
/// the new CA's.
pub const PARENT_PASS: SecretKind = SecretKind {
    flag: "--parent-pass",
    what: "parent CA key password (or token PIN)",
    order: 0,
};
/// The password a re-keyed CA's key files are encrypted under from then on (`certkit-ca rekey`), when it is
/// not the current one.
pub const NEW_CA_PASS: SecretKind = SecretKind {
    flag: "--new-ca-pass",
    what: "new CA key password",
    order: 1,
};
/// A token's user PIN when `--ca-pass` is a key file's password (`certkit-ca move-key`).
pub const PIN: SecretKind = SecretKind {
    flag: "--pin",
    what: "token user PIN",
    order: 1,
};
/// A leaf key file's password.
pub const KEY_PASS: SecretKind = SecretKind {
    flag: "--key-pass",
    what: "key file password",
    order: 2,
};
/// One password for a new key file and its PFX, asked once at the terminal when neither has a source (a
/// certificate with --pfx would otherwise take four entries besides the CA's).
pub const KEY_AND_PFX_PASS: SecretKind = SecretKind {
    flag: "--key-pass and --pfx-pass",
    what: "key file and PFX password",
    order: 2,
};
/// The password of the PFX given with `--from`.
pub const FROM_PASS: SecretKind = SecretKind {
    flag: "--from-pass",
    what: "PFX password",
    order: 3,
};
/// A PFX file's password.
pub const PFX_PASS: SecretKind = SecretKind {
    flag: "--pfx-pass",
    what: "PFX password",
    order: 4,
};

/// A SLIP-39 recovery share (`certkit-ca restore --share`): a share file, or the next line of a stream.
pub const SHARE: SecretKind = SecretKind {
    flag: "--share",
    what: "recovery share",
    order: 5,
};

/// The order in which every command reads the password sources it was given, whatever the order of the flags
/// on the command line: when several flags name the same `fd:N`, `file:PATH` or `stdin`, they take its
/// successive lines in this order.
pub const READING_ORDER: &str =
    "--parent-pass, --ca-pass, --new-ca-pass, --pin, --key-pass, --from-pass, --pfx-pass, --share";

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

/// Whether `kind`, used as `usage`, may be explicitly empty (`empty`): only the password of a PFX being opened.
pub fn may_be_empty(kind: SecretKind, usage: SecretUse) -> bool {
    usage == SecretUse::Existing && (kind == FROM_PASS || kind == PFX_PASS)
}

/// Refuses `empty` where a password is needed (a new password, a key file, the CA key).
pub fn check_empty_source(kind: SecretKind, usage: SecretUse) -> Result<()> {
    if may_be_empty(kind, usage) {
        return Ok(());
    }
    Err(Error::Secret(format!(
        "{} empty: the {} cannot be empty; empty is only for opening a PFX that has no password",
        kind.flag, kind.what
    )))
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

/// Reads password sources the way OpenSSL's `-passin` and `-passout` do: each file, descriptor or stdin is
/// opened once per run, and every flag that names it takes its next line. Lines are read a byte at a time,
/// so nothing beyond a password's own line is consumed (a script's next command finds the rest of stdin) and
/// no buffer holds other passwords. A UTF-8 byte order mark at the start of a file or stream (Notepad writes
/// one) is not part of the password.
#[derive(Default)]
pub struct SecretReader {
    open: Vec<(Stream, File, bool)>,
}

#[derive(PartialEq, Eq)]
enum Stream {
    File(PathBuf),
    Fd(u32),
    Stdin,
}

impl SecretSource {
    /// Whether this source can be read, looked at without reading it (nothing is consumed from a descriptor
    /// or stdin): an environment variable that is set, a file that can be opened, a descriptor that is open.
    /// Commands check every source before they wait for the CA's lock or do any work, so that a typo in
    /// `env:NAME` is said at once.
    pub fn check(&self, kind: SecretKind) -> Result<()> {
        let unreadable = |why: String| {
            Error::Secret(format!(
                "cannot read the {} from {}: {why}",
                kind.what, self
            ))
        };
        match self {
            SecretSource::Empty | SecretSource::Stdin => Ok(()),
            SecretSource::Env(var) => match std::env::var_os(var) {
                Some(_) => Ok(()),
                None => Err(unreadable(format!("environment variable {var} is not set"))),
            },
            SecretSource::File(path) => File::open(path)
                .map(drop)
                .map_err(|e| unreadable(e.to_string())),
            SecretSource::Fd(n) => std::fs::metadata(format!("/dev/fd/{n}"))
                .map(drop)
                .map_err(|e| unreadable(e.to_string())),
        }
    }
}

impl SecretReader {
    /// A reader with nothing open yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the password for `kind` from `source`: an environment variable's value, or the next line of a
    /// file, descriptor or stdin. Errors name the source but never repeat anything read.
    pub fn read(&mut self, source: &SecretSource, kind: SecretKind) -> Result<Secret> {
        let unreadable = |why: String| {
            Error::Secret(format!(
                "cannot read the {} from {}: {why}",
                kind.what, source
            ))
        };
        let stream = match source {
            SecretSource::Empty => return Ok(Secret(Zeroizing::new(String::new()))),
            SecretSource::Env(var) => {
                return match std::env::var_os(var) {
                    Some(value) => match value.into_string() {
                        Ok(text) => Ok(Secret(Zeroizing::new(text))),
                        Err(_) => Err(unreadable("its value is not UTF-8 text".into())),
                    },
                    None => Err(unreadable(format!("environment variable {var} is not set"))),
                };
            }
            SecretSource::File(path) => {
                Stream::File(std::fs::canonicalize(path).map_err(|e| unreadable(e.to_string()))?)
            }
            SecretSource::Fd(n) => Stream::Fd(*n),
            SecretSource::Stdin => Stream::Stdin,
        };
        let at = match self.open.iter().position(|(s, _, _)| *s == stream) {
            Some(at) => at,
            None => {
                let file = match &stream {
                    Stream::File(path) => File::open(path),
                    // Opening /dev/fd/N reads an inherited descriptor without unsafe code.
                    Stream::Fd(n) => File::open(format!("/dev/fd/{n}")),
                    // A duplicate of descriptor 0 shares its position: what is not read stays for the next reader.
                    Stream::Stdin => {
                        use std::os::fd::AsFd;
                        std::io::stdin()
                            .as_fd()
                            .try_clone_to_owned()
                            .map(File::from)
                    }
                }
                .map_err(|e| unreadable(e.to_string()))?;
                self.open.push((stream, file, true));
                self.open.len() - 1
            }
        };
        let (_, file, first) = &mut self.open[at];
        let mut line = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        let mut read_any = false;
        loop {
            match file.read(&mut byte) {
                Ok(0) => break,
                Ok(_) if byte[0] == b'\n' => {
                    read_any = true;
                    break;
                }
                Ok(_) => {
                    read_any = true;
                    line.push(byte[0]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(unreadable(e.to_string())),
            }
            byte[0] = 0;
        }
        if *first && line.starts_with(b"\xEF\xBB\xBF") {
            line.drain(..3);
        }
        *first = false;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if !read_any {
            return Err(unreadable(
                "it gives no line for it (each flag that names a file, descriptor or stdin takes the next line)"
                    .into(),
            ));
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| unreadable("the line is not UTF-8 text".into()))?;
        Ok(Secret(Zeroizing::new(text.to_string())))
    }
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
    fn one_file_named_twice_gives_successive_lines_and_a_bom_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "\u{feff}first line\r\nsecond line\n").expect("write");
        let source = SecretSource::File(file);
        let mut reader = SecretReader::new();
        assert_eq!(
            reader.read(&source, KEY_PASS).expect("read").expose(),
            "first line"
        );
        assert_eq!(
            reader.read(&source, PFX_PASS).expect("read").expose(),
            "second line"
        );
        let err = reader.read(&source, CA_PASS).expect_err("no third line");
        assert!(err.to_string().contains("no line"), "{err}");
    }

    #[test]
    fn file_source_reads_first_line_and_new_passwords_must_be_long() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "short\nsecond line\n").expect("write");
        let source = SecretSource::File(file);
        let existing = SecretReader::new().read(&source, PFX_PASS).expect("read");
        assert_eq!(existing.expose(), "short");
        check(&existing, PFX_PASS, SecretUse::Existing).expect("any length unlocks");
        let err =
            check(&existing, PFX_PASS, SecretUse::New).expect_err("short password must be refused");
        assert!(err.to_string().contains("at least 12"), "{err}");
    }
}
