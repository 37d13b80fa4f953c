//! The guide's roles, and findings with their levels: the words `inspect` and `cscfg --check` report in.

use serde::Serialize;

/// The guide's roles of a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The service's TLS certificate (`<Certificate name="SSL">`).
    Ssl,
    /// The CA that issues client certificates (`<Certificate name="CA">`).
    Ca,
    /// A person's client certificate (`AllowedClientCertificateThumbprints`).
    Client,
    /// The data encryption certificate (`<Certificate name="DataEncryptionPrimary">`).
    Encryption,
}

impl Role {
    /// Every role, in the order the help lists them.
    pub const ALL: [Role; 4] = [Role::Ssl, Role::Ca, Role::Client, Role::Encryption];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ssl => "ssl",
            Role::Ca => "ca",
            Role::Client => "client",
            Role::Encryption => "encryption",
        }
    }

    /// What it is, for the help.
    pub fn description(self) -> &'static str {
        match self {
            Role::Ssl => "the service's TLS certificate (Certificate name=\"SSL\")",
            Role::Ca => "the CA of the client certificates (Certificate name=\"CA\")",
            Role::Client => "a person's client certificate (AllowedClientCertificateThumbprints)",
            Role::Encryption => "the data encryption certificate (DataEncryptionPrimary)",
        }
    }
}

/// How bad a finding is: an error breaks the deployment, a warning may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// It will not work.
    Error,
    /// It may not work, or will stop working.
    Warning,
}

/// One thing wrong with a file, with a stable code and the fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub level: Level,
    /// Stable code, e.g. `rsa-too-small`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

impl Finding {
    /// A finding at `level`.
    pub fn new(
        level: Level,
        code: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            level,
            code,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// An error.
    pub fn error(code: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Level::Error, code, message, fix)
    }

    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Level::Warning, code, message, fix)
    }
}
