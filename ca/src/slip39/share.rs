//! One SLIP-39 share and its words: identifier (15 bits), extendable flag, iteration exponent, group index,
//! group threshold and count, member index and threshold (4 bits each), the value (10 bits a word, left-padded
//! with zero bits), and three RS1024 checksum words.

use zeroize::{Zeroize, Zeroizing};

use super::error::ShareError;
use super::words;

/// Words before the value: identifier and exponent (2), share parameters (2).
const PREFIX_WORDS: usize = 4;
const CHECKSUM_WORDS: usize = 3;
/// The shortest share: a 128-bit value.
const MIN_WORDS: usize = PREFIX_WORDS + CHECKSUM_WORDS + 13;

/// One share of a split.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    /// Ties the shares of one split together (15 bits).
    pub identifier: u16,
    /// An extendable share (SLIP-39 since 2024): the identifier is not part of the encryption's salt.
    pub extendable: bool,
    /// PBKDF2 iterations are 10,000 x 2^this.
    pub iteration_exponent: u8,
    /// Which group (from 0).
    pub group_index: u8,
    /// How many groups restore the secret.
    pub group_threshold: u8,
    /// How many groups there are.
    pub group_count: u8,
    /// Which member of its group (from 0).
    pub index: u8,
    /// How many members of its group restore the group's secret.
    pub member_threshold: u8,
    /// The share's value (secret material).
    pub value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share({})", self.label())
    }
}

fn bits_to_words(bits: usize) -> usize {
    bits.div_ceil(10)
}

impl Share {
    /// How the share is named in messages: its place in the split, never its words.
    pub fn label(&self) -> String {
        let group = if self.group_count > 1 {
            format!(" of group {}", self.group_index + 1)
        } else {
            String::new()
        };
        format!(
            "share {}{group} of split {}",
            self.index + 1,
            self.identifier
        )
    }

    /// Reads a share from its words (any case, separated by white space).
    pub fn parse(mnemonic: &str) -> Result<Share, ShareError> {
        let mut indices: Zeroizing<Vec<u16>> = Zeroizing::new(Vec::new());
        for (i, typed) in mnemonic.split_whitespace().enumerate() {
            let lower = Zeroizing::new(typed.to_lowercase());
            match words::index(&lower) {
                Some(index) => indices.push(index),
                None => {
                    return Err(ShareError::UnknownWord {
                        position: i + 1,
                        nearest: words::nearest(&lower),
                        word: lower,
                    });
                }
            }
        }
        let n = indices.len();
        if n < MIN_WORDS {
            return Err(ShareError::Length(n));
        }
        let padding = (10 * (n - PREFIX_WORDS - CHECKSUM_WORDS)) % 16;
        if padding > 8 {
            return Err(ShareError::Length(n));
        }
        let id_exp = (u32::from(indices[0]) << 10) | u32::from(indices[1]);
        let identifier = (id_exp >> 5) as u16;
        let extendable = (id_exp >> 4) & 1 == 1;
        let iteration_exponent = (id_exp & 15) as u8;
        let params = (u32::from(indices[2]) << 10) | u32::from(indices[3]);
        let nibble = |shift: u32| ((params >> shift) & 15) as u8;
        let mut share = Share {
            identifier,
            extendable,
            iteration_exponent,
            group_index: nibble(16),
            group_threshold: nibble(12) + 1,
            group_count: nibble(8) + 1,
            index: nibble(4),
            member_threshold: nibble(0) + 1,
            value: Zeroizing::new(Vec::new()),
        };
        if !words::verify(&indices, extendable) {
            return Err(ShareError::Checksum(share.label()));
        }
        if share.group_count < share.group_threshold {
            return Err(ShareError::GroupThreshold(share.label()));
        }
        // The value: 10 bits a word, big-endian, `padding` zero bits first.
        let value_words = &indices[PREFIX_WORDS..n - CHECKSUM_WORDS];
        let bits = 10 * value_words.len() - padding;
        let mut bytes = Zeroizing::new(vec![0u8; bits.div_ceil(8)]);
        let mut acc: u32 = 0;
        let mut have = 0;
        let mut out = 0;
        let mut skipped = 0;
        for &w in value_words {
            acc = (acc << 10) | u32::from(w);
            have += 10;
            while skipped < padding && have > 0 {
                // The padding bits must be zero.
                if (acc >> (have - 1)) & 1 == 1 {
                    acc.zeroize();
                    return Err(ShareError::Padding(share.label()));
                }
                have -= 1;
                skipped += 1;
                acc &= (1 << have) - 1;
            }
            while have >= 8 {
                bytes[out] = (acc >> (have - 8)) as u8;
                out += 1;
                have -= 8;
                acc &= (1 << have) - 1;
            }
        }
        acc.zeroize();
        if bytes.len() < 16 || !bytes.len().is_multiple_of(2) {
            return Err(ShareError::SecretLength(share.label()));
        }
        share.value = bytes;
        Ok(share)
    }

    /// The share's words, separated by spaces (secret material).
    pub fn mnemonic(&self) -> Zeroizing<String> {
        let mut indices: Zeroizing<Vec<u16>> = Zeroizing::new(Vec::new());
        let id_exp = (u32::from(self.identifier) << 5)
            | (u32::from(self.extendable) << 4)
            | u32::from(self.iteration_exponent);
        indices.push((id_exp >> 10) as u16);
        indices.push((id_exp & 1023) as u16);
        let params = (u32::from(self.group_index) << 16)
            | (u32::from(self.group_threshold - 1) << 12)
            | (u32::from(self.group_count - 1) << 8)
            | (u32::from(self.index) << 4)
            | u32::from(self.member_threshold - 1);
        indices.push((params >> 10) as u16);
        indices.push((params & 1023) as u16);
        let value_words = bits_to_words(self.value.len() * 8);
        let padding = value_words * 10 - self.value.len() * 8;
        // Big-endian bits of the value, `padding` zero bits in front, cut into 10-bit words.
        let mut acc: u32 = 0;
        let mut have = padding;
        for &byte in self.value.iter() {
            acc = (acc << 8) | u32::from(byte);
            have += 8;
            while have >= 10 {
                indices.push(((acc >> (have - 10)) & 1023) as u16);
                have -= 10;
                acc &= (1 << have) - 1;
            }
        }
        acc.zeroize();
        let checksum = words::checksum(&indices, self.extendable);
        indices.extend_from_slice(&checksum);
        let mut text = Zeroizing::new(String::new());
        for (i, index) in indices.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(words::word(*index));
        }
        text
    }

    /// The parameter that differs between this share and `other`, if they are not of one split.
    pub fn differs_in_split(&self, other: &Share) -> Option<&'static str> {
        if self.identifier != other.identifier {
            Some("their identifiers")
        } else if self.extendable != other.extendable {
            Some("their extendable flags")
        } else if self.iteration_exponent != other.iteration_exponent {
            Some("their iteration exponents")
        } else if self.group_threshold != other.group_threshold {
            Some("their group thresholds")
        } else if self.group_count != other.group_count {
            Some("their group counts")
        } else if self.value.len() != other.value.len() {
            Some("their lengths")
        } else {
            None
        }
    }

    /// The parameter that differs between this share and `other` of the same group, if any.
    pub fn differs_in_group(&self, other: &Share) -> Option<&'static str> {
        (self.member_threshold != other.member_threshold).then_some("their member thresholds")
    }
}
