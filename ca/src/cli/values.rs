//! How the library's value types appear on the command line: possible values with their help, and a password
//! source parser whose errors never repeat what was typed.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::keys::KeyType;
use crate::pfx::PfxProfile;
use crate::profile::Profile;
use crate::secret::SecretSource;
use crate::store::inventory::RevocationReason;

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

/// clap parser for [`SecretSource`] whose errors never repeat the value given (it may be a password).
#[derive(Clone, Copy, Debug)]
pub struct SecretSourceParser;

impl clap::builder::TypedValueParser for SecretSourceParser {
    type Value = SecretSource;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SecretSource, clap::Error> {
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
            .ok_or_else(|| refuse("the source is not UTF-8 text".into()))?;
        text.parse().map_err(refuse)
    }
}

impl clap::builder::ValueParserFactory for SecretSource {
    type Parser = SecretSourceParser;
    fn value_parser() -> SecretSourceParser {
        SecretSourceParser
    }
}

/// Parses `YYYY-MM-DD` for `--expires`.
pub fn date(text: &str) -> Result<time::Date, String> {
    crate::dates::parse_date(text)
}
