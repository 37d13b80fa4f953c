//! The index file: opening it, checking it against the log, catching up, rebuilding, applying lines.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::schema;

use crate::error::{Error, Result};
use crate::store::inventory::{self, ChainHash, LogLine};

/// The index file in the CA folder.
pub const INDEX: &str = "index.sqlite";

/// An open index, up to date with the log.
pub struct Index {
    pub(super) conn: Connection,
    pub(super) log: PathBuf,
    /// Lines of the log applied.
    pub lines: usize,
    /// Bytes of the log applied.
    pub bytes: u64,
    /// The hash of the last line applied (the CA binding when none).
    pub head: ChainHash,
}

/// How far the index had to go to be up to date when it was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Why it was rebuilt from the whole log, if it was.
    pub rebuilt: Option<String>,
    /// Lines it read from the log.
    pub applied: usize,
}

/// What the index is built against: the log and what its first line is bound to.
struct Meta {
    binding: String,
    lines: usize,
    bytes: u64,
    head: String,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("lines", &self.lines)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

/// An SQLite error of the index beside `path` (the log, or the index file itself): the error names the index
/// file, never the log (whose loss would be the CA's record).
pub(super) fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Index {
        path: path.with_file_name(INDEX),
        what: e.to_string(),
    }
}

impl Index {
    /// Opens the index at `path` for the log at `log` bound to `binding`, brings it up to date, and rebuilds it
    /// when it cannot be used as it is. A folder that cannot be written to (a mounted backup) gets an index in
    /// memory instead.
    pub fn open(path: &Path, log: &Path, binding: &str) -> Result<(Index, Refresh)> {
        match Self::open_file(path, log, binding) {
            Ok(opened) => Ok(opened),
            Err(Error::Index { what, .. }) if !writable(path) => {
                let conn = Connection::open_in_memory().map_err(sql(path))?;
                let mut index = Self::with(conn, log)?;
                index.rebuild(binding)?;
                Ok((
                    index,
                    Refresh {
                        rebuilt: Some(format!(
                            "{} cannot be written ({what}), so it was built in memory",
                            path.display()
                        )),
                        applied: 0,
                    },
                ))
            }
            Err(e) => Err(e),
        }
    }

    fn open_file(path: &Path, log: &Path, binding: &str) -> Result<(Index, Refresh)> {
        let opened = Connection::open(path)
            .map_err(sql(path))
            .and_then(|conn| Self::with(conn, log))
            .and_then(|mut index| {
                let reason = index.unusable(binding)?;
                Ok((index, reason))
            });
        let (mut index, reason) = match opened {
            Ok(opened) => opened,
            // A damaged file (a power loss while it was written without fsync): start afresh.
            Err(Error::Index { what, .. }) if path.exists() => {
                std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
                let _ = std::fs::remove_file(path.with_extension("sqlite-journal"));
                let conn = Connection::open(path).map_err(sql(path))?;
                (
                    Self::with(conn, log)?,
                    Some(format!("it was damaged ({what})")),
                )
            }
            Err(e) => return Err(e),
        };
        match reason {
            Some(reason) => {
                index.rebuild(binding)?;
                Ok((
                    index,
                    Refresh {
                        rebuilt: Some(reason),
                        applied: 0,
                    },
                ))
            }
            None => {
                let applied = index.catch_up()?;
                Ok((
                    index,
                    Refresh {
                        rebuilt: None,
                        applied,
                    },
                ))
            }
        }
    }

    pub(super) fn with(conn: Connection, log: &Path) -> Result<Index> {
        // Derived data: a crash of certkit loses nothing (SQLite's journal), a power loss at most the index.
        conn.execute_batch(
            "PRAGMA synchronous = OFF; PRAGMA journal_mode = DELETE; PRAGMA foreign_keys = OFF;",
        )
        .map_err(sql(log))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql(log))?;
        Ok(Index {
            conn,
            log: log.to_path_buf(),
            lines: 0,
            bytes: 0,
            head: String::new(),
        })
    }

    /// Why the index cannot be brought up to date by reading what the log gained: None when it can.
    fn unusable(&mut self, binding: &str) -> Result<Option<String>> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql(&self.log))?;
        if version == 0 {
            return Ok(Some("there was none".into()));
        }
        if version != schema::VERSION {
            return Ok(Some(format!(
                "it was made by another version of certkit (format {version})"
            )));
        }
        let Some(meta) = self.meta()? else {
            return Ok(Some("it was empty".into()));
        };
        if meta.binding != binding {
            return Ok(Some("it was made for another CA certificate".into()));
        }
        let holds = match meta.lines {
            0 => meta.bytes == 0 && meta.head == binding,
            _ => inventory::line_ending_at(&self.log, meta.bytes)?
                .is_some_and(|line| inventory::line_hash(&line) == meta.head),
        };
        if !holds {
            return Ok(Some(format!(
                "the log no longer ends line {} where the index says",
                meta.lines
            )));
        }
        self.lines = meta.lines;
        self.bytes = meta.bytes;
        self.head = meta.head;
        Ok(None)
    }

    fn meta(&self) -> Result<Option<Meta>> {
        self.conn
            .query_row(
                "SELECT binding, lines, bytes, head FROM meta WHERE id = 1",
                [],
                |r| {
                    Ok(Meta {
                        binding: r.get(0)?,
                        lines: r.get::<_, i64>(1)? as usize,
                        bytes: r.get::<_, i64>(2)? as u64,
                        head: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql(&self.log))
    }

    /// Rebuilds the whole index from the log, checking its hash chain on the way.
    pub fn rebuild(&mut self, binding: &str) -> Result<usize> {
        schema::create(&self.conn).map_err(sql(&self.log))?;
        self.conn
            .execute(
                "INSERT INTO meta (id, binding, lines, bytes, head) VALUES (1, ?1, 0, 0, ?1)",
                params![binding],
            )
            .map_err(sql(&self.log))?;
        self.lines = 0;
        self.bytes = 0;
        self.head = binding.to_string();
        self.catch_up()
    }

    /// Reads what the log gained since the index was last brought up to date and applies it, a batch of lines
    /// at a time (a rebuild of a long log holds one batch in memory, not the log).
    pub fn catch_up(&mut self) -> Result<usize> {
        const BATCH: usize = 4096;
        let log = self.log.clone();
        let mut batch = Vec::with_capacity(BATCH);
        let mut count = 0;
        let mut failed = None;
        inventory::visit(&log, self.bytes, self.lines + 1, false, &mut |read| {
            match read {
                inventory::LineRead::Line(line) => batch.push(line),
                inventory::LineRead::Damaged(line, what) => {
                    failed = Some(Error::Inventory {
                        path: log.clone(),
                        line,
                        what,
                    });
                    return Ok(false);
                }
                inventory::LineRead::Torn => return Ok(false),
            }
            if batch.len() == BATCH {
                count += batch.len();
                self.apply(&batch)?;
                batch.clear();
            }
            Ok(true)
        })?;
        if let Some(err) = failed {
            return Err(err);
        }
        count += batch.len();
        self.apply(&batch)?;
        Ok(count)
    }

    /// Applies lines that follow what the index holds (just appended by this process, or read from the log),
    /// checking that each follows the one before in the hash chain. Lines it holds already are skipped (another
    /// process may have applied them).
    pub fn apply(&mut self, lines: &[LogLine]) -> Result<()> {
        let log = self.log.clone();
        let tx = self.conn.transaction().map_err(sql(&log))?;
        let applied: (i64, i64, String) = tx
            .query_row(
                "SELECT lines, bytes, head FROM meta WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(sql(&log))?;
        let (mut count, mut bytes, mut head) = (applied.0 as usize, applied.1 as u64, applied.2);
        // A certkit 0.1 log has no chain until a writing command upgrades it; it can still be read.
        let legacy =
            lines.iter().any(|l| l.prev.is_none()) && inventory::first_line_is_legacy(&log)?;
        let held = count;
        for line in lines.iter().filter(|l| l.number > held) {
            if line.prev.as_deref() != Some(head.as_str()) && !(legacy && line.prev.is_none()) {
                return Err(Error::Inventory {
                    path: log,
                    line: line.number,
                    what: format!(
                        "the record does not follow line {}: the log was changed; nothing was written. See \"certkit-ca audit\"",
                        line.number - 1
                    ),
                });
            }
            schema::apply(&tx, line).map_err(|e| match e {
                schema::ApplyError::Sql(e) => sql(&log)(e),
                schema::ApplyError::Record(what) => Error::Inventory {
                    path: log.clone(),
                    line: line.number,
                    what,
                },
            })?;
            count = line.number;
            bytes = line.end;
            head = line.hash.clone();
        }
        tx.execute(
            "UPDATE meta SET lines = ?1, bytes = ?2, head = ?3 WHERE id = 1",
            params![count as i64, bytes as i64, head],
        )
        .map_err(sql(&log))?;
        tx.commit().map_err(sql(&log))?;
        self.lines = count;
        self.bytes = bytes;
        self.head = head;
        Ok(())
    }
}

/// True if a file can be created or written at `path`.
fn writable(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) => {
            !meta.permissions().readonly() && {
                std::fs::OpenOptions::new().append(true).open(path).is_ok()
            }
        }
        Err(_) => tempfile::tempfile_in(crate::files::folder_of(path)).is_ok(),
    }
}
