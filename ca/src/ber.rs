//! A small, strict-where-it-matters BER reader (and the one DER value writer certkit's hand-built structures use) for the structures certkit inspects before handing them to a
//! crypto library (PKCS#12). BER, not only DER, because PFX files from some tools use indefinite lengths and
//! constructed OCTET STRINGs. Every length is checked against the input, nesting is bounded, and nothing is
//! trusted: hostile input gives an error, never a panic or unbounded work.

use std::borrow::Cow;

/// How deep constructed values may nest.
const MAX_DEPTH: usize = 32;

/// Why a value could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BerError(pub &'static str);

/// One value: its identifier octet and its content (for a constructed OCTET STRING, the segments joined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (class, constructed bit, tag number below 31).
    pub tag: u8,
    /// The content octets.
    pub content: Cow<'a, [u8]>,
}

/// Universal tags certkit reads.
pub mod tag {
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// OCTET STRING (primitive).
    pub const OCTET_STRING: u8 = 0x04;
    /// OCTET STRING (constructed, BER).
    pub const OCTET_STRING_CONSTRUCTED: u8 = 0x24;
    /// NULL.
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;
    /// UTF8String.
    pub const UTF8_STRING: u8 = 0x0C;
    /// BMPString.
    pub const BMP_STRING: u8 = 0x1E;
    /// SEQUENCE.
    pub const SEQUENCE: u8 = 0x30;
    /// SET.
    pub const SET: u8 = 0x31;
    /// [0] EXPLICIT, constructed.
    pub const CONTEXT_0: u8 = 0xA0;
    /// [0] IMPLICIT, primitive.
    pub const CONTEXT_0_PRIMITIVE: u8 = 0x80;
}

/// One DER value to write: `tag`, the definite length of `content` (short or long form), `content`.
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Reads one value from the start of `input`; returns it and what follows.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), BerError> {
    read_at(input, 0)
}

fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError("values nest too deeply"));
    }
    let (&tag, rest) = input.split_first().ok_or(BerError("the data ends early"))?;
    if tag & 0x1F == 0x1F {
        return Err(BerError("a tag number above 30 is not used here"));
    }
    let constructed = tag & 0x20 != 0;
    let (&first, rest) = rest.split_first().ok_or(BerError("the data ends early"))?;
    let (content, after): (Cow<'_, [u8]>, &[u8]) = if first == 0x80 {
        if !constructed {
            return Err(BerError("an indefinite length on a primitive value"));
        }
        // Indefinite length: the content is the values up to the end-of-contents octets.
        let mut at = rest;
        loop {
            if at.len() >= 2 && at[0] == 0 && at[1] == 0 {
                let used = rest.len() - at.len();
                break (Cow::Borrowed(&rest[..used]), &at[2..]);
            }
            let (_, next) = read_at(at, depth + 1)?;
            at = next;
        }
    } else {
        let len = if first & 0x80 == 0 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(BerError("a length is malformed or too large"));
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            let rest_after = &rest[n..];
            if len > rest_after.len() {
                return Err(BerError("a length runs past the end of the data"));
            }
            return finish(
                tag,
                Cow::Borrowed(&rest_after[..len]),
                &rest_after[len..],
                depth,
            );
        };
        if len > rest.len() {
            return Err(BerError("a length runs past the end of the data"));
        }
        (Cow::Borrowed(&rest[..len]), &rest[len..])
    };
    finish(tag, content, after, depth)
}

/// A constructed OCTET STRING becomes one string: its segments joined.
fn finish<'a>(
    tag: u8,
    content: Cow<'a, [u8]>,
    after: &'a [u8],
    depth: usize,
) -> Result<(Tlv<'a>, &'a [u8]), BerError> {
    if tag != tag::OCTET_STRING_CONSTRUCTED {
        return Ok((Tlv { tag, content }, after));
    }
    let mut joined = Vec::new();
    let mut at: &[u8] = &content;
    while !at.is_empty() {
        let (segment, next) = read_at(at, depth + 1)?;
        if segment.tag != tag::OCTET_STRING && segment.tag != tag::OCTET_STRING_CONSTRUCTED {
            return Err(BerError("a constructed OCTET STRING holds something else"));
        }
        joined.extend_from_slice(&segment.content);
        at = next;
    }
    Ok((
        Tlv {
            tag: tag::OCTET_STRING,
            content: Cow::Owned(joined),
        },
        after,
    ))
}

impl<'a> Tlv<'a> {
    /// The values inside a constructed value.
    pub fn children(&self) -> Result<Vec<Tlv<'_>>, BerError> {
        if self.tag & 0x20 == 0 {
            return Err(BerError("a primitive value has no parts"));
        }
        let mut out = Vec::new();
        let mut at: &[u8] = &self.content;
        while !at.is_empty() {
            let (value, next) = read(at)?;
            out.push(value);
            at = next;
        }
        Ok(out)
    }

    /// Fails unless the tag is `expected`.
    pub fn expect_tag(self, expected: u8, what: &'static str) -> Result<Self, BerError> {
        if self.tag == expected {
            Ok(self)
        } else {
            Err(BerError(what))
        }
    }

    /// A non-negative INTEGER that fits in 64 bits.
    pub fn uint(&self) -> Result<u64, BerError> {
        if self.tag != tag::INTEGER || self.content.is_empty() {
            return Err(BerError("an INTEGER was expected"));
        }
        if self.content[0] & 0x80 != 0 {
            return Err(BerError("a negative INTEGER where a count was expected"));
        }
        let digits: &[u8] = match self.content.iter().position(|b| *b != 0) {
            Some(first) => &self.content[first..],
            None => &[],
        };
        if digits.len() > 8 {
            return Err(BerError("an INTEGER too large for a count"));
        }
        Ok(digits
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// An OBJECT IDENTIFIER in dotted form.
    pub fn oid(&self) -> Result<String, BerError> {
        if self.tag != tag::OID || self.content.is_empty() || self.content.len() > 64 {
            return Err(BerError("an OBJECT IDENTIFIER was expected"));
        }
        let mut arcs: Vec<u64> = Vec::new();
        let mut value: u64 = 0;
        for (i, byte) in self.content.iter().enumerate() {
            if value > (u64::MAX >> 7) {
                return Err(BerError("an OBJECT IDENTIFIER arc is too large"));
            }
            value = (value << 7) | u64::from(byte & 0x7F);
            if byte & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (value / 40).min(2);
                    arcs.push(first);
                    arcs.push(value - first * 40);
                } else {
                    arcs.push(value);
                }
                value = 0;
            } else if i == self.content.len() - 1 {
                return Err(BerError(
                    "an OBJECT IDENTIFIER ends in the middle of an arc",
                ));
            }
        }
        Ok(arcs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_indefinite_and_constructed_strings() {
        // SEQUENCE { INTEGER 3, OCTET STRING (constructed, indefinite) { "ab", "c" } } with an indefinite outer.
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x03, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0,
            0, 0, 0,
        ];
        let (outer, rest) = read(&ber).expect("read");
        assert!(rest.is_empty());
        let parts = outer.children().expect("children");
        assert_eq!(parts[0].uint(), Ok(3));
        assert_eq!(parts[1].tag, tag::OCTET_STRING);
        assert_eq!(&*parts[1].content, b"abc");
    }

    #[test]
    fn hostile_lengths_and_nesting_are_errors() {
        assert!(read(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(read(&[0x04, 0x80, 0, 0]).is_err());
        assert!(read(&[0x30, 0x05, 0x02, 0x01]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 40).flatten().collect();
        assert!(read(&deep).is_err());
        assert!(
            read(&[0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9])
                .map(|(t, _)| t.uint())
                .expect("read")
                .is_err()
        );
    }

    #[test]
    fn oids_read_back() {
        let (oid, _) = read(&[
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x03,
        ])
        .expect("read");
        assert_eq!(oid.oid().expect("oid"), "1.2.840.113549.1.12.3");
    }
}
