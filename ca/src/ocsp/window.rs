//! A window's file: the OCSP responses the CA signed for one window of a series, one per certificate, each a
//! whole DER OCSPResponse, one after the other in the order the CA lists them. `openssl ocsp -respin` reads the first;
//! the responder reads them all. The file's name says when the window starts and when the series was signed
//! (`ocsp-2027-01-01T120000Z-20261205T093000Z.resp`); the responses themselves say the same, signed.

use std::ops::Range;
use std::path::Path;

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::serial::Serial;

/// What a window file's name ends with.
pub const EXTENSION: &str = "resp";

/// The name of the file of the window starting at `this_update` of a series signed at `produced`.
pub fn file_name(this_update: OffsetDateTime, produced: OffsetDateTime) -> String {
    format!(
        "ocsp-{}-{}.{EXTENSION}",
        stamp(this_update),
        stamp(produced).replace('-', "")
    )
}

fn stamp(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// When the window named `name` starts and when its series was signed, if `name` is a window file's name.
pub fn parse_name(name: &str) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let rest = name
        .strip_prefix("ocsp-")?
        .strip_suffix(&format!(".{EXTENSION}"))?;
    let (start, produced) = rest.split_at_checked(18)?;
    let produced = produced.strip_prefix('-')?;
    let start = parse_stamp(start)?;
    // The signing time without its dashes: YYYYMMDDTHHMMSSZ.
    if produced.len() != 16 {
        return None;
    }
    let produced = format!(
        "{}-{}-{}",
        produced.get(0..4)?,
        produced.get(4..6)?,
        produced.get(6..)?
    );
    Some((start, parse_stamp(&produced)?))
}

fn parse_stamp(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// A window file read into memory, its responses found by serial.
pub struct WindowFile {
    bytes: Vec<u8>,
    /// Each response's serial and where it is in `bytes`, in order of serial.
    entries: Vec<(Serial, Range<usize>)>,
}

impl std::fmt::Debug for WindowFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowFile")
            .field("responses", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl WindowFile {
    /// Reads the file at `path`: every response must be a whole DER value with a serial (their signatures are
    /// checked when served).
    pub fn read(path: &Path) -> Result<WindowFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        Self::parse(bytes).map_err(|why| Error::malformed(path, why))
    }

    /// [`WindowFile::read`] from the bytes.
    pub fn parse(bytes: Vec<u8>) -> std::result::Result<WindowFile, &'static str> {
        let mut entries = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            let (_, after) =
                crate::ber::read(rest).map_err(|_| "is not a file of OCSP responses")?;
            let end = at + (rest.len() - after.len());
            let response = super::response::read(&bytes[at..end])?;
            entries.push((response.serial, at..end));
            at = end;
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("holds two responses for one serial");
        }
        Ok(WindowFile { bytes, entries })
    }

    /// How many responses it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of the response for `serial`, if there is one.
    pub fn find(&self, serial: &Serial) -> Option<usize> {
        self.entries.binary_search_by(|e| e.0.cmp(serial)).ok()
    }

    /// The DER of response `index`.
    pub fn response(&self, index: usize) -> Option<&[u8]> {
        self.entries
            .get(index)
            .and_then(|(_, range)| self.bytes.get(range.clone()))
    }

    /// Every response's DER, in order of serial.
    pub fn responses(&self) -> impl Iterator<Item = &[u8]> {
        self.entries
            .iter()
            .filter_map(|(_, r)| self.bytes.get(r.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_when_the_window_starts_and_when_it_was_signed() {
        let start = time::macros::datetime!(2027-01-01 12:00:00 UTC);
        let produced = time::macros::datetime!(2026-12-05 09:30:05 UTC);
        let name = file_name(start, produced);
        assert_eq!(name, "ocsp-2027-01-01T120000Z-20261205T093005Z.resp");
        assert_eq!(parse_name(&name), Some((start, produced)));
        assert_eq!(parse_name("ocsp-2027-01-01T120000Z.resp"), None);
        assert_eq!(parse_name("ca.cer"), None);
        assert_eq!(
            parse_name("ocsp-2027-13-01T120000Z-20261205T093005Z.resp"),
            None
        );
    }
}
