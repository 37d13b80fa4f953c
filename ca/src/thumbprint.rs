//! Certificate thumbprints as Windows and Azure use them: SHA-1 over the DER, 40 uppercase hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The SHA-1 thumbprint of a certificate, shown as 40 uppercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Thumbprint([u8; 20]);

impl Thumbprint {
    /// The thumbprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        let digest = crate::digest::sha1(der);
        Thumbprint(digest)
    }

    /// Parses a typed or pasted thumbprint: drops whitespace, colons and invisible format characters
    /// (the U+200E that the Windows certificate dialog puts before the first digit), then requires
    /// exactly 40 hex digits.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':' && !is_format_char(*c))
            .collect();
        let refuse = || {
            Error::BadInput(format!(
                "'{}' is not a SHA-1 thumbprint: expected 40 hex digits",
                text.trim()
            ))
        };
        if cleaned.len() != 40 || !cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(refuse());
        }
        let mut bytes = [0u8; 20];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&cleaned[2 * i..2 * i + 2], 16).map_err(|_| refuse())?;
        }
        Ok(Thumbprint(bytes))
    }
}

/// Unicode "format" characters (category Cf) that show up in pasted thumbprints.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 40];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair.copy_from_slice(&hex_pair(byte, UPPER_DIGITS));
        }
        // Hex digits are ASCII.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({self})")
    }
}

impl FromStr for Thumbprint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl From<Thumbprint> for String {
    fn from(t: Thumbprint) -> String {
        t.to_string()
    }
}

impl TryFrom<String> for Thumbprint {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

const UPPER_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_DIGITS: &[u8; 16] = b"0123456789abcdef";

fn hex_pair(byte: u8, digits: &[u8; 16]) -> [u8; 2] {
    [
        digits[usize::from(byte >> 4)],
        digits[usize::from(byte & 0x0F)],
    ]
}

fn hex_with(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for digit in hex_pair(*byte, digits) {
            text.push(char::from(digit));
        }
    }
    text
}

/// Uppercase hex of `bytes`, e.g. for serial numbers and SHA-256 fingerprints.
pub fn hex_upper(bytes: &[u8]) -> String {
    hex_with(bytes, UPPER_DIGITS)
}

/// Lowercase hex of `bytes`, as `sha256sum` prints hashes.
pub fn hex_lower(bytes: &[u8]) -> String {
    hex_with(bytes, LOWER_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_windows_thumbprint_is_normalised() {
        let pasted = "\u{200E}a9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b";
        let t = Thumbprint::parse(pasted).expect("parse");
        assert_eq!(t.to_string(), "A909502DD82AE41433E6F83886B00D4277A32A7B");
        let colons = "A9:09:50:2D:D8:2A:E4:14:33:E6:F8:38:86:B0:0D:42:77:A3:2A:7B";
        assert_eq!(Thumbprint::parse(colons).expect("parse"), t);
    }

    #[test]
    fn wrong_lengths_and_letters_are_refused() {
        assert!(Thumbprint::parse("A909502DD82AE41433E6F83886B00D4277A32A7").is_err());
        assert!(Thumbprint::parse("A909502DD82AE41433E6F83886B00D4277A32A7BB").is_err());
        assert!(Thumbprint::parse("G909502DD82AE41433E6F83886B00D4277A32A7B").is_err());
        assert!(Thumbprint::parse("client.cer").is_err());
    }

    #[test]
    fn thumbprint_is_sha1_of_der() {
        // SHA-1("abc") is a published test vector.
        assert_eq!(
            Thumbprint::of_der(b"abc").to_string(),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }

    #[test]
    fn hex_writes_every_nibble() {
        let bytes: Vec<u8> = (0..=255).collect();
        let expected: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex_upper(&bytes), expected);
        assert_eq!(hex_lower(&bytes), expected.to_lowercase());
        assert_eq!(hex_upper(&[]), "");
    }
}
