//! Getting passwords: from their source flags, read in one documented order, or by asking on the terminal
//! when there is no source.

use std::io::IsTerminal;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{
    self, MIN_NEW_PASSWORD_CHARS, OnDemand, Secret, SecretKind, SecretReader, SecretSource,
    SecretUse,
};

/// The passwords of one command. Every source given is read up front, in [`secret::READING_ORDER`] whatever
/// the order of the flags, so that one `fd:N`, `file:PATH` or `stdin` named by several flags gives them
/// successive lines the same way in every command. Passwords without a source are asked for on the terminal
/// when the command needs them.
pub struct Passwords {
    read: Vec<(SecretKind, Secret)>,
    /// The kinds given as `empty`.
    empty: Vec<SecretKind>,
}

impl Passwords {
    /// Reads the sources given among `wanted`.
    pub fn read(wanted: &[(SecretKind, Option<&SecretSource>)]) -> Result<Self> {
        let mut order: Vec<&(SecretKind, Option<&SecretSource>)> = wanted.iter().collect();
        order.sort_by_key(|(kind, _)| kind.order);
        let mut reader = SecretReader::new();
        let mut read = Vec::new();
        let mut empty = Vec::new();
        for (kind, source) in order {
            if let Some(source) = source {
                if **source == SecretSource::Empty {
                    empty.push(*kind);
                }
                read.push((*kind, reader.read(source, *kind)?));
            }
        }
        Ok(Passwords { read, empty })
    }

    /// Whether a password of `kind` was read from a source (else `take` asks on the terminal).
    pub fn has(&self, kind: SecretKind) -> bool {
        self.read.iter().any(|(k, _)| *k == kind)
    }

    /// The password for `kind`: the one read from its source, or asked for on the terminal now. Checked for
    /// `usage` (a new password must be long enough).
    pub fn take(&mut self, kind: SecretKind, usage: SecretUse) -> Result<Secret> {
        let secret = match self.read.iter().position(|(k, _)| *k == kind) {
            Some(at) => self.read.remove(at).1,
            None => ask(kind, usage)?,
        };
        if self.empty.contains(&kind) {
            secret::check_empty_source(kind, usage)?;
            return Ok(secret);
        }
        secret::check(&secret, kind, usage)?;
        Ok(secret)
    }
}

/// Gets one password from `source`, or from a prompt when there is no source and stdin is a terminal.
pub fn obtain(source: Option<&SecretSource>, kind: SecretKind, usage: SecretUse) -> Result<Secret> {
    Passwords::read(&[(kind, source)])?.take(kind, usage)
}

/// Asks on the terminal, or says which flag gives the password when there is no terminal.
fn ask(kind: SecretKind, usage: SecretUse) -> Result<Secret> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Secret(format!(
            "no {} given and no terminal to ask on; pass {} env:VAR, file:PATH, fd:N or stdin",
            kind.what, kind.flag
        )));
    }
    let theme = dialoguer::theme::SimpleTheme;
    let mut question = dialoguer::Password::with_theme(&theme);
    let label = match usage {
        SecretUse::Existing => format!("Enter the {}", kind.what),
        SecretUse::New => format!(
            "New {} (at least {MIN_NEW_PASSWORD_CHARS} characters)",
            kind.what
        ),
    };
    question = question.with_prompt(label);
    if usage == SecretUse::New {
        question = question
            .with_confirmation(
                format!("Repeat the {}", kind.what),
                "The two entries differ; try again",
            )
            .validate_with(|input: &String| -> Result<(), String> {
                if input.chars().count() < MIN_NEW_PASSWORD_CHARS {
                    Err(format!("use at least {MIN_NEW_PASSWORD_CHARS} characters"))
                } else {
                    Ok(())
                }
            });
    }
    let answer = question
        .interact()
        .map_err(|e| Error::Secret(format!("cannot ask for the {}: {e}", kind.what)))?;
    Ok(Secret::new(Zeroizing::new(answer)))
}

/// Asks for a PFX password at most once per run, however many PFX files are read, and only if one is met.
pub struct PfxPassword<'a> {
    source: Option<&'a SecretSource>,
    cached: Option<Secret>,
}

impl<'a> PfxPassword<'a> {
    /// A password from `source` (or the terminal), fetched on first use.
    pub fn new(source: Option<&'a SecretSource>) -> Self {
        PfxPassword {
            source,
            cached: None,
        }
    }

    /// A password already read.
    pub fn known(secret: Secret) -> Self {
        PfxPassword {
            source: None,
            cached: Some(secret),
        }
    }
}

impl OnDemand for PfxPassword<'_> {
    fn get(&mut self) -> Result<&Secret> {
        if self.cached.is_none() {
            self.cached = Some(obtain(self.source, secret::PFX_PASS, SecretUse::Existing)?);
        }
        self.cached
            .as_ref()
            .ok_or(Error::Bug("the PFX password was not kept"))
    }
}
