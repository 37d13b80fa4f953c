//! Certificate serial numbers: positive integers shown as uppercase hex, as `openssl x509 -serial` does.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::thumbprint::hex_upper;

/// A certificate serial number: its magnitude in big-endian bytes without leading zeros.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Serial(Vec<u8>);

impl Serial {
    /// A fresh random serial of 16 bytes: the top bit clear keeps it positive, the next bit set keeps all 16
    /// bytes (RFC 5280 allows up to 20; at least 64 random bits make collisions and guessing impractical).
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; 16];
        openssl::rand::rand_bytes(&mut bytes)
            .map_err(|e| Error::crypto("drawing a random serial", e))?;
        bytes[0] = (bytes[0] & 0x7F) | 0x40;
        Ok(Serial(bytes.to_vec()))
    }

    /// The serial of a certificate, from the INTEGER's content bytes.
    pub fn from_der_integer(raw: &[u8]) -> Self {
        let first = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
        Serial(raw[first..].to_vec())
    }

    /// Parses hex digits, with or without colons and spaces, in either case (e.g. from `openssl x509 -serial`).
    pub fn parse(text: &str) -> Result<Self> {
        let digits: String = text
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        if digits.is_empty() || digits.len() > 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Error::BadInput(format!(
                "'{}' is not a serial number: expected hex digits such as 4A3F0C",
                text.trim()
            )));
        }
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        };
        let bytes: Vec<u8> = padded
            .as_bytes()
            .chunks(2)
            .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
            .collect();
        Ok(Self::from_der_integer(&bytes))
    }

    /// The magnitude bytes (empty for zero).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The serial for rcgen (which encodes it as a positive INTEGER).
    pub fn to_rcgen(&self) -> rcgen::SerialNumber {
        rcgen::SerialNumber::from_slice(&self.0)
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("00");
        }
        f.write_str(&hex_upper(&self.0))
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({self})")
    }
}

impl From<Serial> for String {
    fn from(serial: Serial) -> String {
        serial.to_string()
    }
}

impl TryFrom<String> for Serial {
    type Error = Error;
    fn try_from(text: String) -> Result<Self> {
        Self::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_agree_with_openssl_style() {
        let s = Serial::parse("4a:3f:0C").expect("parse");
        assert_eq!(s.to_string(), "4A3F0C");
        assert_eq!(
            Serial::parse("0ABC").expect("parse"),
            Serial::parse("abc").expect("parse")
        );
        assert_eq!(Serial::from_der_integer(&[0, 0x4A]).to_string(), "4A");
        assert_eq!(Serial::from_der_integer(&[0]).to_string(), "00");
    }

    #[test]
    fn non_hex_and_non_ascii_are_errors_not_panics() {
        for bad in ["", "xyz", "4A3é0C", "4A3\u{200E}F", &"F".repeat(65)] {
            assert!(Serial::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn random_serials_are_positive_16_bytes() {
        let s = Serial::random().expect("random");
        assert_eq!(s.bytes().len(), 16);
        assert!(s.bytes()[0] & 0x80 == 0 && s.bytes()[0] & 0x40 != 0);
    }
}
