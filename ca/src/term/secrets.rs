//! Getting a password: from its source flag, or by asking on the terminal when there is none.

use std::io::IsTerminal;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{
    self, MIN_NEW_PASSWORD_CHARS, OnDemand, Secret, SecretKind, SecretSource, SecretUse,
};

/// Gets a password from `source`, or from a prompt when there is no source and stdin is a terminal.
pub fn obtain(source: Option<&SecretSource>, kind: SecretKind, usage: SecretUse) -> Result<Secret> {
    let secret = match source {
        Some(source) => secret::read_source(source, kind)?,
        None if std::io::stdin().is_terminal() => prompt(kind, usage)?,
        None => {
            return Err(Error::Secret(format!(
                "no {} given and no terminal to ask on; pass {} env:VAR, file:PATH, fd:N or stdin",
                kind.what, kind.flag
            )));
        }
    };
    secret::check(&secret, kind, usage)?;
    Ok(secret)
}

fn prompt(kind: SecretKind, usage: SecretUse) -> Result<Secret> {
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
