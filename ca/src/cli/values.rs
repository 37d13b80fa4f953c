//! How the library's value types appear on the command line: possible values with their help, and a password
//! source parser whose errors never repeat what was typed.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::commands::list::StatusFilter;
use crate::keys::KeyType;
use crate::pfx::PfxProfile;
use crate::profile::Profile;
use crate::secret::SecretSource;
use crate::store::inventory::RevocationReason;
use crate::token::TokenUri;

impl ValueEnum for KeyType {
    fn value_variants<'a>() -> &'a [Self] {
        &KeyType::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

impl ValueEnum for Profile {
    fn value_variants<'a>() -> &'a [Self] {
        &Profile::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

impl ValueEnum for PfxProfile {
    fn value_variants<'a>() -> &'a [Self] {
        &PfxProfile::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.summary()))
    }
}

impl ValueEnum for RevocationReason {
    fn value_variants<'a>() -> &'a [Self] {
        &RevocationReason::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

impl ValueEnum for StatusFilter {
    fn value_variants<'a>() -> &'a [Self] {
        &StatusFilter::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

/// clap parser for values that may hold a secret typed in the wrong place (a password source, a PKCS#11 URI):
/// its errors never repeat the value given.
#[derive(Clone, Copy, Debug)]
pub struct QuietParser<T>(std::marker::PhantomData<fn() -> T>);

impl<T> clap::builder::TypedValueParser for QuietParser<T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let flag = arg
            .and_then(|a| a.get_long())
            .map(|l| format!("--{l}: "))
            .unwrap_or_default();
        let refuse = |msg: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("{flag}{msg}\n"),
            )
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("the value is not UTF-8 text".into()))?;
        text.parse().map_err(|e: T::Err| refuse(e.to_string()))
    }
}

impl clap::builder::ValueParserFactory for SecretSource {
    type Parser = QuietParser<SecretSource>;
    fn value_parser() -> Self::Parser {
        QuietParser(std::marker::PhantomData)
    }
}

impl clap::builder::ValueParserFactory for TokenUri {
    type Parser = QuietParser<TokenUri>;
    fn value_parser() -> Self::Parser {
        QuietParser(std::marker::PhantomData)
    }
}

/// Parses `--ca-thumbprint`: the CA certificate's SHA-1 thumbprint, as the signing command printed it.
pub fn ca_thumbprint(text: &str) -> Result<crate::thumbprint::Thumbprint, String> {
    crate::thumbprint::Thumbprint::parse(text).map_err(|e| {
        format!("{e}; give the CA's thumbprint as the command that signed the folder printed it")
    })
}

/// Parses `YYYY-MM-DD` for `--expires`.
pub fn date(text: &str) -> Result<time::Date, String> {
    crate::dates::parse_date(text)
}

/// Parses `YYYY-MM-DD` (the start of that day, UTC) or an RFC 3339 time, for `--at`.
pub fn moment(text: &str) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    crate::dates::parse_date(text)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            format!("'{text}' is not a date or time; write YYYY-MM-DD or e.g. 2030-12-31T08:00:00Z")
        })
}
