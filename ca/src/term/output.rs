//! One way to print a command's result: a report type that derives `Serialize`, rendered as text or as JSON by
//! [`render`]. The JSON field names are the report's field names; scripts depend on them (README, JSON fields).

use std::io::{self, Write};

use serde::Serialize;

use crate::error::{Error, Result};

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    Text,
    /// Pretty-printed JSON for scripts.
    Json,
}

impl Format {
    /// `Json` when `--json` was given.
    pub fn json_if(json: bool) -> Self {
        if json { Format::Json } else { Format::Text }
    }
}

/// A command's result.
pub trait Report: Serialize {
    /// Writes the text form for people.
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()>;

    /// Warnings to show on stderr, whatever the format.
    fn warnings(&self) -> &[String] {
        &[]
    }
}

/// Prints a report on stdout in `format`, and its warnings on stderr.
pub fn render<R: Report>(report: &R, format: Format) -> Result<()> {
    for warning in report.warnings() {
        warn(warning);
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Text => report.write_text(&mut TerminalSafe(&mut out)),
        Format::Json => serde_json::to_writer_pretty(&mut out, report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
    };
    written.and_then(|()| out.flush()).map_err(Error::Output)
}

/// A report printed as it is made: its rows one at a time, as they are known, then a summary. In JSON it is
/// one object whose first field, `rows`, is the array of rows, followed by the summary's fields; in text, the
/// lines each row writes, then the summary's text. Memory holds one row at a time, however many there are. A
/// write that fails (a closed pipe) stops the printing, not the work: the error is kept and `finish` returns it.
pub struct RowStream {
    format: Format,
    rows: usize,
    failed: Option<io::Error>,
}

impl RowStream {
    /// A report in `format` with no rows yet.
    pub fn new(format: Format) -> Self {
        RowStream {
            format,
            rows: 0,
            failed: None,
        }
    }

    fn write(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.failed.is_some() {
            return;
        }
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let written = match self.format {
            Format::Text => write(&mut TerminalSafe(&mut out)),
            Format::Json => write(&mut out),
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            self.failed = Some(e);
        }
    }

    /// Lines printed before the rows in text (a table's header); nothing in JSON.
    pub fn text(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.format == Format::Text {
            self.write(write);
        }
    }

    /// One row: `row` in JSON, what `text` writes in text.
    pub fn row<R: Serialize>(
        &mut self,
        row: &R,
        text: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) {
        match self.format {
            Format::Text => self.write(text),
            Format::Json => {
                let lead = if self.rows == 0 {
                    "{\n  \"rows\": [\n"
                } else {
                    ",\n"
                };
                let json = match serde_json::to_string_pretty(row) {
                    Ok(json) => json,
                    Err(e) => {
                        self.failed.get_or_insert(io::Error::other(e));
                        return;
                    }
                };
                let indented = json.replace('\n', "\n    ");
                self.write(|out| write!(out, "{lead}    {indented}"));
            }
        }
        self.rows += 1;
    }

    /// Ends the report with `summary` (its text, or its fields after `rows`) and its warnings on stderr.
    pub fn finish<S: Report>(mut self, summary: &S) -> Result<()> {
        for warning in summary.warnings() {
            warn(warning);
        }
        match self.format {
            Format::Text => self.write(|out| summary.write_text(out)),
            Format::Json => {
                let head = if self.rows == 0 {
                    "{\n  \"rows\": []"
                } else {
                    "\n  ]"
                };
                // The summary's fields follow the rows: its object is written as it is serialized, with its
                // opening "{\n" turned into ",\n" (a summary can be large; it is never held whole).
                self.write(|out| {
                    out.write_all(head.as_bytes())?;
                    let mut fields = AfterRows { out, seen: 0 };
                    serde_json::to_writer_pretty(&mut fields, summary).map_err(io::Error::other)?;
                    writeln!(fields.out)
                });
            }
        }
        match self.failed {
            Some(e) => Err(Error::Output(e)),
            None => Ok(()),
        }
    }
}

/// Writes a pretty JSON object as the continuation of an object already open: its "{" becomes "," (and an
/// object without fields, "{}", just closes the open one).
struct AfterRows<'a> {
    out: &'a mut dyn Write,
    /// Bytes seen so far, up to the first after the object's "{".
    seen: usize,
}

impl Write for AfterRows<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while self.seen < 2 && !rest.is_empty() {
            match (self.seen, rest[0]) {
                (0, b'{') => {}
                (1, b'}') => self.out.write_all(b"\n}")?,
                (1, other) => self.out.write_all(&[b',', other])?,
                (_, other) => self.out.write_all(&[other])?,
            }
            self.seen += 1;
            rest = &rest[1..];
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A path as text in reports (JSON cannot hold a path that is not UTF-8; the lossy form can).
pub fn path_text(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// Paths as text in reports.
pub fn path_texts(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths.iter().map(|p| path_text(p)).collect()
}

/// Shows a warning on stderr (never on stdout, which scripts parse).
pub fn warn(message: &str) {
    let _ = writeln!(io::stderr(), "warning: {}", terminal_safe(message));
}

/// Shows a note on stderr: something the user may want to know that is not a problem.
pub fn note(message: &str) {
    let _ = writeln!(io::stderr(), "note: {}", terminal_safe(message));
}

/// `text` as it may reach a terminal: a control character (other than a line end or a tab) would let a
/// hostile file move the cursor, recolour or erase what certkit printed, and an invisible or bidirectional
/// formatting character would make text read as something it is not; each shows as an escape instead
/// (`\x1B`, `\u{202E}`). What is printed for people passes through here; JSON is escaped by JSON itself.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || crate::naming::is_invisible(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if c.is_ascii_control() && unsafe_char(c) => {
                safe.push_str(&format!("\\x{:02X}", u32::from(c)));
            }
            c if unsafe_char(c) => safe.push_str(&format!("\\u{{{:04X}}}", u32::from(c))),
            c => safe.push(c),
        }
    }
    std::borrow::Cow::Owned(safe)
}

/// A writer that passes text through [`terminal_safe`] (the text reports write whole strings at a time).
struct TerminalSafe<'a>(&'a mut dyn Write);

impl Write for TerminalSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(terminal_safe(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Says on stderr that another certkit process holds the CA folder's lock and this one waits for it.
pub fn waiting_for_lock(dir: &std::path::Path) {
    let _ = writeln!(
        io::stderr(),
        "waiting for another certkit process that is using the CA in {}...",
        dir.display()
    );
}

/// The `permits` and `excludes` lines of a CA's name constraints (none when it has none).
pub fn constraint_lines(
    out: &mut dyn std::io::Write,
    permitted: &[String],
    excluded: &[String],
) -> std::io::Result<()> {
    if !permitted.is_empty() {
        writeln!(out, "  permits     {}", permitted.join(", "))?;
    }
    if !excluded.is_empty() {
        writeln!(out, "  excludes    {}", excluded.join(", "))?;
    }
    Ok(())
}
