//! The CA's inventory: an append-only, hash-chained JSON Lines log of what the CA signed (`inventory.jsonl`).
//!
//! Why a log: appending under the CA lock costs the same however long the inventory is, each append is
//! flushed to disk before anything it records is delivered, and the file is an audit trail a security officer
//! can read. Why a chain: every line carries `prev`, the SHA-256 of the line before it (the first line: of the
//! CA certificate), so a line changed, removed or inserted by hand breaks the chain at that point; the signed
//! checkpoint (`checkpoint`) pins the head so the end cannot be cut off unnoticed either.
//!
//! A crash in the middle of an append leaves a last line without its newline. If that line is a complete
//! record it is kept (its newline is written by the next append); otherwise it was never acted on (the
//! write-ahead rule) and it is ignored, and cut off by the next append.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use super::records::*;
use crate::error::{Error, Result};
use crate::serial::Serial;
use crate::thumbprint::hex_lower;

/// A SHA-256 hash in the chain, as 64 lowercase hex digits (what `sha256sum` prints).
pub type ChainHash = String;

/// The hash a line is known by: SHA-256 over its bytes without the newline.
pub fn line_hash(line: &[u8]) -> ChainHash {
    hex_lower(&crate::digest::sha256(line))
}

/// What the first line's `prev` must be: the SHA-256 of the CA certificate (`sha256sum ca.cer`).
pub fn ca_binding(ca_der: &[u8]) -> ChainHash {
    line_hash(ca_der)
}

/// One line as written: the event and the hash of the line before it.
#[derive(Serialize, Deserialize)]
pub(crate) struct Line {
    #[serde(flatten)]
    pub(crate) event: Event,
    pub(crate) prev: ChainHash,
}

/// One line of the log as read.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// 1-based line number.
    pub number: usize,
    /// Its hash.
    pub hash: ChainHash,
    /// The byte offset it starts at.
    pub start: u64,
    /// The byte offset just past it (past its newline, when it has one).
    pub end: u64,
    /// Its `prev` field (None in a certkit 0.1 inventory).
    pub prev: Option<ChainHash>,
    /// What it records.
    pub event: Event,
}

/// The whole log as read.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Every complete line, in order.
    pub lines: Vec<LogLine>,
    /// The bytes up to the end of the last complete line (its newline included).
    pub bytes: u64,
    /// True when a torn last line (a crash mid-append) was ignored.
    pub torn_tail: bool,
}

/// A place where the chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The 1-based line whose `prev` is wrong.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl Log {
    /// True for a certkit 0.1 inventory (no hash chain yet).
    pub fn is_legacy(&self) -> bool {
        self.lines.iter().any(|l| l.prev.is_none())
    }

    /// The CRLs the log records, in order.
    pub fn crls(&self) -> impl Iterator<Item = &CrlRecord> {
        self.lines.iter().filter_map(|l| match &l.event {
            Event::Crl(crl) => Some(crl),
            _ => None,
        })
    }

    /// The head of the chain: the last line's hash, or the CA binding when the log is empty.
    pub fn head(&self, binding: &str) -> ChainHash {
        self.lines
            .last()
            .map_or_else(|| binding.to_string(), |l| l.hash.clone())
    }

    /// Every place where a line's `prev` is not the hash of the line before it (the first: of the CA).
    pub fn chain_breaks(&self, binding: &str) -> Vec<ChainBreak> {
        let mut breaks = Vec::new();
        let mut expected = binding.to_string();
        for line in &self.lines {
            match &line.prev {
                None => breaks.push(ChainBreak {
                    line: line.number,
                    what: "the record has no hash chain (certkit 0.1 format)".into(),
                }),
                Some(prev) if *prev != expected => breaks.push(ChainBreak {
                    line: line.number,
                    what: if line.number == 1 {
                        "the first record is not bound to this CA's certificate".into()
                    } else {
                        format!(
                            "the record does not follow line {}: line {} was changed, or a record was removed or inserted before line {}",
                            line.number - 1,
                            line.number - 1,
                            line.number
                        )
                    },
                }),
                Some(_) => {}
            }
            expected = line.hash.clone();
        }
        breaks
    }

    /// The log folded into entries, in issuance order; `path` names the file in errors.
    pub fn entries(&self, path: &Path) -> Result<Vec<Entry>> {
        self.clone().into_entries(path)
    }

    /// The log folded into entries, consuming it (no copy of the records is made).
    pub fn into_entries(self, path: &Path) -> Result<Vec<Entry>> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: std::collections::HashMap<Serial, usize> = std::collections::HashMap::new();
        for line in self.lines {
            let bad = |what: String| Error::Inventory {
                path: path.to_path_buf(),
                line: line.number,
                what,
            };
            match line.event {
                Event::Issued(record) | Event::Imported(record) => {
                    index.insert(record.serial.clone(), entries.len());
                    entries.push(Entry {
                        delivered: !record.pending,
                        issued: record,
                        revoked: None,
                        line: line.number,
                    });
                }
                Event::Revoked(rev) => {
                    let at = *index.get(&rev.serial).ok_or_else(|| {
                        bad(format!("revocation of unknown serial {}", rev.serial))
                    })?;
                    entries[at].revoked = Some(rev);
                }
                Event::Delivered(done) => {
                    let at = *index.get(&done.serial).ok_or_else(|| {
                        bad(format!("delivery of unknown serial {}", done.serial))
                    })?;
                    entries[at].delivered = true;
                }
                Event::Crl(_) | Event::Custody(_) | Event::Ocsp(_) | Event::Missing(_) => {}
            }
        }
        Ok(entries)
    }
}

/// Parses the bytes of an inventory; `path` names it in errors. A torn last line is ignored; a damaged line
/// before it is an error naming the line.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Log> {
    let (log, damaged) = parse_lenient(bytes);
    match damaged.into_iter().next() {
        Some((line, what)) => Err(Error::Inventory {
            path: path.to_path_buf(),
            line,
            what,
        }),
        None => Ok(log),
    }
}

/// Parses what can be read and lists the lines that cannot (line number, why), for the audit.
pub fn parse_lenient(bytes: &[u8]) -> (Log, Vec<(usize, String)>) {
    let mut reader = Reader::new(1);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, complete) = match rest.iter().position(|b| *b == b'\n') {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                (line, true)
            }
            None => (std::mem::take(&mut rest), false),
        };
        reader.line(line, complete);
    }
    (reader.log, reader.damaged)
}

/// Builds a [`Log`] one line at a time.
struct Reader {
    log: Log,
    damaged: Vec<(usize, String)>,
    number: usize,
    bytes_read: u64,
    /// Records on this line and after keep the certificates they carry.
    certificates_from: usize,
}

impl Reader {
    fn new(certificates_from: usize) -> Self {
        Reader {
            log: Log::default(),
            damaged: Vec::new(),
            number: 0,
            bytes_read: 0,
            certificates_from,
        }
    }

    fn line(&mut self, line: &[u8], complete: bool) {
        self.number += 1;
        let start = self.bytes_read;
        let end = start + line.len() as u64 + u64::from(complete);
        self.bytes_read = end;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match parse_line(line) {
            Ok((mut event, prev)) => {
                if self.number < self.certificates_from
                    && let Event::Issued(record) | Event::Imported(record) = &mut event
                {
                    record.der = None;
                }
                self.log.lines.push(LogLine {
                    number: self.number,
                    hash: line_hash(line),
                    start,
                    end,
                    prev,
                    event,
                });
                if complete {
                    self.log.bytes = end;
                }
            }
            // The last line, cut off by a crash mid-append: it was never acted on.
            Err(_) if !complete => self.log.torn_tail = true,
            Err(what) => self.damaged.push((self.number, what)),
        }
    }
}

/// Parses one line of the log: its event and its `prev` (None in a certkit 0.1 log), or why it cannot be read.
pub fn parse_line(line: &[u8]) -> std::result::Result<(Event, Option<ChainHash>), String> {
    let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8 text".to_string())?;
    // The usual line, read in one go; anything else (a certkit 0.1 line without `prev`, a damaged line) takes
    // the slower way, which also says what is wrong.
    if let Ok(line) = serde_json::from_str::<Line>(text)
        && line.prev.len() == 64
        && line.prev.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok((line.event, Some(line.prev)));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if value.get("prev").is_some() {
        let line: Line = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if line.prev.len() != 64 || !line.prev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("its prev is not a SHA-256 hash".into());
        }
        Ok((line.event, Some(line.prev)))
    } else {
        let event: Event = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok((event, None))
    }
}

/// The record of an `issued` line, read straight into the record (the usual line starts with its event tag, so
/// that nothing is buffered on the way); any other line, or an unusual one, through [`parse_line`].
pub fn parse_issued(line: &[u8]) -> Option<IssuedRecord> {
    if line.starts_with(br#"{"event":"issued","#) {
        // "event" and "prev" are not fields of the record, and are passed over.
        if let Ok(record) = serde_json::from_slice::<IssuedRecord>(line) {
            return Some(record);
        }
    }
    match parse_line(line) {
        Ok((Event::Issued(record) | Event::Imported(record), _)) => Some(record),
        _ => None,
    }
}

/// Reads the log at `path` (an absent file is an empty log), a line at a time. With `certificates` false the
/// records are read without the certificates they carry, which most commands do not need: memory then stays
/// small however long the inventory is.
pub fn read(path: &Path, certificates: bool) -> Result<Log> {
    read_keeping_certificates_from(path, if certificates { 1 } else { usize::MAX })
}

/// Reads the log at `path` like [`read`], keeping the certificates of the records from line `first` on.
pub fn read_keeping_certificates_from(path: &Path, first: usize) -> Result<Log> {
    read_from(path, 0, 1, first)
}

/// Reads the log at `path` from byte `offset`, the start of line `number` (what comes before is not read, so
/// this costs what follows `offset`), keeping the certificates of the records from line `certificates_from`
/// on. Lines are numbered and offsets counted as in the whole file.
pub fn read_from(path: &Path, offset: u64, number: usize, certificates_from: usize) -> Result<Log> {
    use std::io::BufRead;
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Log::default()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("read", path, e))?;
    let mut input = std::io::BufReader::with_capacity(1 << 16, file);
    let mut reader = Reader::new(certificates_from);
    reader.number = number.saturating_sub(1);
    reader.bytes_read = offset;
    reader.log.bytes = offset;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        if complete {
            line.pop();
        }
        reader.line(&line, complete);
    }
    match reader.damaged.into_iter().next() {
        Some((line, what)) => Err(Error::Inventory {
            path: path.to_path_buf(),
            line,
            what,
        }),
        None => Ok(reader.log),
    }
}

/// True when the log's first line has no `prev`: a certkit 0.1 inventory, to be upgraded. Reads that line only.
pub fn first_line_is_legacy(path: &Path) -> Result<bool> {
    use std::io::BufRead;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let mut first = Vec::new();
    std::io::BufReader::new(file)
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::io("read", path, e))?;
    let complete = first.last() == Some(&b'\n');
    if complete {
        first.pop();
    }
    Ok(complete && matches!(parse_line(&first), Ok((_, None))))
}

/// The complete line that ends just before byte `end` (which follows its newline), without the newline; None
/// when `end` is 0, past the end of the file, or not just after a newline.
pub fn line_ending_at(path: &Path, end: u64) -> Result<Option<Vec<u8>>> {
    if end == 0 {
        return Ok(None);
    }
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if end > len || read_at(&mut file, end - 1, 1, path)? != b"\n" {
        return Ok(None);
    }
    let mut start = end - 1;
    while start > 0 {
        let from = start.saturating_sub(4096);
        let chunk = read_at(&mut file, from, (start - from) as usize, path)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            start = from + i as u64 + 1;
            break;
        }
        start = from;
    }
    read_at(&mut file, start, (end - 1 - start) as usize, path).map(Some)
}

/// Reads single lines of the log where the index says they are, through one open file.
pub struct LineReader {
    file: File,
    len: u64,
    path: PathBuf,
}

impl LineReader {
    /// Opens the log at `path` for reading single lines.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("read", path, e))?
            .len();
        Ok(LineReader {
            file,
            len,
            path: path.to_path_buf(),
        })
    }

    /// The bytes of the line `start..end` (`end` past its newline), without the newline; None when the log
    /// holds no such line (the range is outside the log, does not start a line, or does not end one).
    pub fn read(&mut self, start: u64, end: u64) -> Result<Option<Vec<u8>>> {
        if start >= end || end > self.len {
            return Ok(None);
        }
        let from = start.saturating_sub(1);
        let Ok(len) = usize::try_from(end - from) else {
            return Ok(None);
        };
        let mut bytes = read_at(&mut self.file, from, len, &self.path)?;
        if bytes.pop() != Some(b'\n') || (start > 0 && bytes.first() != Some(&b'\n')) {
            return Ok(None);
        }
        if start > 0 {
            bytes.remove(0);
        }
        Ok(Some(bytes))
    }
}

/// What reading one line of the log gave.
// One lives at a time, while a line is handed on; boxing the record would only add an allocation per line.
#[allow(clippy::large_enum_variant)]
pub enum LineRead {
    /// A record.
    Line(LogLine),
    /// A line that cannot be read: its number and why.
    Damaged(usize, String),
    /// The last line, cut off by a crash mid-append (never acted on).
    Torn,
}

/// Reads the log at `path` from byte `offset` (the start of line `number`) and hands each line to `each` as it
/// is read, so that memory holds one line at a time however long the log is; `each` returns false to stop.
/// Records keep the certificates they carry when `certificates` is true.
pub fn visit(
    path: &Path,
    offset: u64,
    number: usize,
    certificates: bool,
    each: &mut dyn FnMut(LineRead) -> Result<bool>,
) -> Result<()> {
    use std::io::BufRead;
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("read", path, e))?;
    let mut input = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let (mut number, mut start) = (number, offset);
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        let end = start + n as u64;
        let complete = line.last() == Some(&b'\n');
        if complete {
            line.pop();
        }
        let read = if line.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(match parse_line(&line) {
                Ok((mut event, prev)) => {
                    if !certificates
                        && let Event::Issued(record) | Event::Imported(record) = &mut event
                    {
                        record.der = None;
                    }
                    LineRead::Line(LogLine {
                        number,
                        hash: line_hash(&line),
                        start,
                        end,
                        prev,
                        event,
                    })
                }
                Err(_) if !complete => LineRead::Torn,
                Err(what) => LineRead::Damaged(number, what),
            })
        };
        if let Some(read) = read
            && !each(read)?
        {
            return Ok(());
        }
        number += 1;
        start = end;
    }
}

pub(crate) fn read_at(file: &mut File, offset: u64, len: usize, path: &Path) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| Error::io("read", path, e))?;
    Ok(buf)
}
