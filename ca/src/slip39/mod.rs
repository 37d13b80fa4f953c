//! SLIP-39: Shamir's secret sharing for mnemonic codes (SatoshiLabs, the format of Trezor's Shamir backup),
//! written from the specification and proven by its official test vectors and by interoperating with the
//! reference implementation (`shamir-mnemonic`): a secret is encrypted with a four-round Feistel cipher (PBKDF2-
//! HMAC-SHA256 round function), split over GF(256) into groups and member shares, and each share is written as
//! words of a 1024-word list with an RS1024 checksum. Any `threshold` shares of a split restore it; fewer learn
//! nothing about the secret.

mod cipher;
mod error;
mod gf256;
mod share;
mod sharing;
mod words;

pub use error::ShareError;
pub use share::Share;
pub use sharing::{MAX_SHARES, Scheme, combine, split};

#[cfg(test)]
mod tests;
