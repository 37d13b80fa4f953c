//! Writing the inventory: appending events chained to the last line and flushed to disk before anything they
//! record is delivered, and cutting off a torn last line that a crash left (the write-ahead rule: a record
//! never finished was never acted on). Reading it is `inventory`'s.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::inventory::{ChainHash, Event, Line, line_hash, parse_line, read_at};
use crate::error::{Error, Result};

/// The text of a whole log in the chained format, from events: what an upgrade writes.
pub fn chained_text(lines: &[serde_json::Value], binding: &str) -> Result<String> {
    let mut text = String::new();
    let mut prev = binding.to_string();
    for value in lines {
        let mut object = value.clone();
        let Some(map) = object.as_object_mut() else {
            return Err(Error::Bug("an inventory line is not a JSON object"));
        };
        map.insert("prev".into(), serde_json::Value::String(prev));
        let line =
            serde_json::to_string(&object).map_err(|e| Error::json("an inventory record", e))?;
        prev = line_hash(line.as_bytes());
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// The lines of `events`, each chained to the one before it and the first to `prev`; and the last one's hash.
pub fn chained_events(events: &[Event], mut prev: ChainHash) -> Result<(String, ChainHash)> {
    let mut text = String::new();
    for event in events {
        let line = serde_json::to_string(&Line {
            event: event.clone(),
            prev,
        })
        .map_err(|e| Error::json("an inventory record", e))?;
        prev = line_hash(line.as_bytes());
        text.push_str(&line);
        text.push('\n');
    }
    Ok((text, prev))
}

/// Appends events to the log, chained to its last line (or to `binding`), and flushes them to disk. The caller
/// holds the CA lock and has upgraded a certkit 0.1 log. Returns the new head.
pub fn append(path: &Path, events: &[Event], binding: &str) -> Result<ChainHash> {
    let mut file = crate::files::open_append(path, crate::files::PUBLIC)?;
    let (mut prev, needs_newline) = match last_line(&mut file, path)? {
        Tail::Empty => (binding.to_string(), false),
        Tail::Complete(hash) => (hash, false),
        Tail::WithoutNewline(hash) => (hash, true),
    };
    let mut text = String::new();
    if needs_newline {
        text.push('\n');
    }
    let (lines, head) = chained_events(events, prev)?;
    text.push_str(&lines);
    prev = head;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io("append to", path, e))?;
    Ok(prev)
}

/// Repairs the end of the log after a crash mid-append: a torn last line is cut off, a complete last record
/// without its newline gets it. Returns true if it changed the file. The caller holds the CA lock.
pub fn repair_tail(path: &Path) -> Result<bool> {
    let Ok(mut file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    else {
        return Ok(false);
    };
    let before = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    let tail = last_line(&mut file, path)?;
    let mut changed = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len()
        != before;
    if let Tail::WithoutNewline(_) = tail {
        file.seek(SeekFrom::End(0))
            .and_then(|_| file.write_all(b"\n"))
            .map_err(|e| Error::io("repair", path, e))?;
        changed = true;
    }
    if changed {
        file.sync_data().map_err(|e| Error::io("repair", path, e))?;
    }
    Ok(changed)
}

enum Tail {
    Empty,
    Complete(ChainHash),
    WithoutNewline(ChainHash),
}

/// The hash of the last complete record. A torn last line (a crash mid-append) is cut off; a complete record
/// that only lacks its newline is kept. Reads only the tail, so an append costs the same however long the
/// inventory is.
fn last_line(file: &mut File, path: &Path) -> Result<Tail> {
    let read_err = |e| Error::io("read", path, e);
    let len = file.metadata().map_err(read_err)?.len();
    // Find the start of the last line: walk back block by block to the newline before it.
    let ends_with_newline = len > 0 && read_at(file, len - 1, 1, path)? == b"\n";
    let end = if ends_with_newline { len - 1 } else { len };
    let mut start = end;
    let block = 4096u64;
    while start > 0 {
        let from = start.saturating_sub(block);
        let chunk = read_at(file, from, (start - from) as usize, path)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            start = from + i as u64 + 1;
            break;
        }
        start = from;
    }
    if start == end {
        return Ok(Tail::Empty);
    }
    let last = read_at(file, start, (end - start) as usize, path)?;
    match parse_line(&last) {
        Ok((_, Some(_))) if ends_with_newline => Ok(Tail::Complete(line_hash(&last))),
        Ok((_, Some(_))) => Ok(Tail::WithoutNewline(line_hash(&last))),
        Ok((_, None)) => Err(Error::Bug(
            "appending to an inventory that was not upgraded",
        )),
        Err(what) if ends_with_newline => Err(Error::Inventory {
            path: path.to_path_buf(),
            // Counted only now that something is wrong: the lines before it.
            line: 1 + count_lines(file, start, path)?,
            what: format!("the last record is damaged ({what}); run certkit-ca audit"),
        }),
        Err(_) => {
            file.set_len(start)
                .map_err(|e| Error::io("repair", path, e))?;
            if start == 0 {
                return Ok(Tail::Empty);
            }
            // The line before the torn one is complete: it ends with the newline we stopped at.
            last_line(file, path)
        }
    }
}

/// How many lines end before byte `end`.
fn count_lines(file: &mut File, end: u64, path: &Path) -> Result<usize> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("read", path, e))?;
    let mut lines = 0;
    let mut buf = vec![0u8; 1 << 16];
    let mut left = end;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(buf.len()));
        let n = file
            .read(&mut buf[..want])
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count();
        left -= n as u64;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::keys::KeyType;
    use crate::profile::Profile;
    use crate::serial::Serial;
    use crate::store::inventory::*;
    use crate::thumbprint::Thumbprint;
    use time::OffsetDateTime;

    const BINDING: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn record(serial: &str) -> IssuedRecord {
        IssuedRecord {
            serial: Serial::parse(serial).expect("serial"),
            subject: "CN=A".into(),
            cn: "A".into(),
            profile: Profile::Client,
            sans: vec![],
            extra_ekus: vec![],
            key: KeyType::Rsa2048,
            not_before: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::now_utc() + time::Duration::days(1),
            thumbprint: Thumbprint::of_der(serial.as_bytes()),
            crl_url: None,
            renewal_of: None,
            profile_file: None,
            der: None,
            outputs: vec![],
            pending: false,
        }
    }

    fn issued(serial: &str) -> Event {
        Event::Issued(record(serial))
    }

    #[test]
    fn the_chain_links_every_line_and_a_changed_byte_breaks_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        for s in ["01", "02", "03"] {
            append(&path, &[issued(s)], BINDING).expect("append");
        }
        let log = read(&path, true).expect("read");
        assert_eq!(log.lines.len(), 3);
        assert!(log.chain_breaks(BINDING).is_empty());
        assert!(
            !log.chain_breaks(&"1".repeat(64)).is_empty(),
            "bound to the CA"
        );
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[1] = lines[1].replace("CN=A", "CN=B");
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let breaks = read(&path, true).expect("read").chain_breaks(BINDING);
        assert_eq!(breaks.iter().map(|b| b.line).collect::<Vec<_>>(), [3]);
        assert!(
            breaks[0].what.contains("line 2 was changed"),
            "{}",
            breaks[0].what
        );
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_even_inside_a_utf8_character() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        append(&path, &[issued("01")], BINDING).expect("append");
        // The crash cut "é" (c3 a9) after its first byte.
        let torn = b"{\"event\":\"issued\",\"subject\":\"CN=J\xc3".to_vec();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&torn))
            .expect("tear");
        let log = read(&path, true).expect("a torn line never makes the log unreadable");
        assert_eq!(log.lines.len(), 1);
        assert!(log.torn_tail);
        append(&path, &[issued("02")], BINDING).expect("append");
        let log = read(&path, true).expect("read");
        assert_eq!(log.lines.len(), 2);
        assert!(!log.torn_tail && log.chain_breaks(BINDING).is_empty());
    }

    #[test]
    fn a_complete_last_record_without_its_newline_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        append(&path, &[issued("01"), issued("02")], BINDING).expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.trim_end_matches('\n')).expect("write");
        assert_eq!(read(&path, true).expect("read").lines.len(), 2);
        append(&path, &[issued("03")], BINDING).expect("append");
        let log = read(&path, true).expect("read");
        assert_eq!(log.lines.len(), 3, "the record without newline was kept");
        assert!(log.chain_breaks(BINDING).is_empty());
    }

    #[test]
    fn revocation_and_delivery_fold_into_the_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.jsonl");
        let mut pending = record("01");
        pending.pending = true;
        let rev = RevokedRecord {
            serial: Serial::parse("02").expect("serial"),
            revoked_at: OffsetDateTime::UNIX_EPOCH,
            reason: RevocationReason::KeyCompromise,
        };
        append(
            &path,
            &[Event::Issued(pending), issued("02"), Event::Revoked(rev)],
            BINDING,
        )
        .expect("append");
        let now = OffsetDateTime::now_utc();
        let entries = read(&path, true)
            .expect("read")
            .entries(&path)
            .expect("entries");
        assert_eq!(entries[0].status(now), Status::Undelivered);
        assert_eq!(
            entries[1].status(now),
            Status::Revoked(RevocationReason::KeyCompromise)
        );
        let done = Event::Delivered(DeliveredRecord {
            serial: Serial::parse("01").expect("serial"),
        });
        append(&path, &[done], BINDING).expect("append");
        let entries = read(&path, true)
            .expect("read")
            .entries(&path)
            .expect("entries");
        assert_eq!(entries[0].status(now), Status::Valid);
    }

    #[test]
    fn a_non_hex_serial_names_its_line_instead_of_panicking() {
        let text = "{\"event\":\"revoked\",\"serial\":\"4A3\u{e9}0C\",\"revoked_at\":\"2026-01-01T00:00:00Z\",\"reason\":\"unspecified\"}\n";
        let err = parse(text.as_bytes(), Path::new("inventory.jsonl")).expect_err("bad serial");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
