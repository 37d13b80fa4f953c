//! The batch file: a CSV with a `cn` column (and optionally `email` and `out`), checked whole before any key is
//! made.

use std::collections::HashMap;
use std::path::Path;

use certkit_ca::naming::check_cn;
use certkit_ca::{Error, Result};

use crate::leaf::check_email;

/// One row of the batch file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRow {
    /// 1-based line number in the file (for messages).
    pub line: u64,
    /// Common name.
    pub cn: String,
    /// E-mail address for the SAN.
    pub email: Option<String>,
    /// Output name inside the output folder (default: derived from the CN).
    pub out: String,
}

/// A file-name-safe form of a common name: lower case, runs of other characters become one hyphen.
pub fn slug(cn: &str) -> String {
    let mut out = String::new();
    for c in cn.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Reads and checks the whole batch file before any key is made.
pub fn read_rows(path: &Path) -> Result<Vec<BatchRow>> {
    parse_rows(&certkit_ca::files::read(path)?, path)
}

/// What is wrong with a CSV row, without the csv crate's own position (counted here, see `parse_rows`).
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{len} field(s) where the header has {expected_len}; put a field that holds a comma in double quotes"
        ),
        csv::ErrorKind::Utf8 { .. } => {
            "not UTF-8 text; save the file as UTF-8 (\"CSV UTF-8\" in Excel)".into()
        }
        _ => e.to_string(),
    }
}

/// Checks a whole batch file: header with `cn` (and optionally `email`, `out`), no empty or duplicate CN,
/// valid e-mail addresses, safe output names. `path` names the file in errors.
pub fn parse_rows(bytes: &[u8], path: &Path) -> Result<Vec<BatchRow>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    // Line numbers are counted here from byte offsets: after a CRLF line end (Excel writes them) the csv
    // crate puts a record's start on the LF before it, and counts one line short. Records come in order, so the
    // count goes on from the last record's start: the file is read once, however many rows it has.
    let counted = std::cell::Cell::new((0usize, 1u64));
    let line_at = |position: Option<&csv::Position>| {
        position.map_or(0, |p| {
            let mut start = usize::try_from(p.byte()).map_or(bytes.len(), |b| b.min(bytes.len()));
            while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                start += 1;
            }
            let (mut from, mut line) = counted.get();
            if start < from {
                (from, line) = (0, 1);
            }
            // A line ends at LF, CRLF or a lone CR, as the csv crate reads records.
            for i in from..start {
                let b = bytes[i];
                if b == b'\n' || (b == b'\r' && !(i + 1 < start && bytes[i + 1] == b'\n')) {
                    line += 1;
                }
            }
            counted.set((start, line));
            line
        })
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let bad = |line: u64, what: String| Error::malformed(path, format!("line {line}: {what}"));
    let headers = reader
        .headers()
        .map_err(|e| bad(1, csv_problem(&e)))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let cn_col = column("cn").ok_or_else(|| {
        bad(
            1,
            "the header has no 'cn' column (expected e.g. \"cn,email,out\")".into(),
        )
    })?;
    let (email_col, out_col) = (column("email"), column("out"));
    let mut rows: Vec<BatchRow> = Vec::new();
    let mut seen_cn: HashMap<String, u64> = HashMap::new();
    let mut seen_out: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(line_at(e.position()), csv_problem(&e)))?;
        let line = line_at(record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cn = record.get(cn_col).unwrap_or("").to_string();
        if cn.is_empty() {
            return Err(bad(line, "the CN is empty".into()));
        }
        check_cn(&cn).map_err(|e| bad(line, e.to_string()))?;
        if let Some(first) = seen_cn.insert(cn.to_lowercase(), line) {
            return Err(bad(
                line,
                format!("the CN '{cn}' already appears on line {first}"),
            ));
        }
        let email = email_col
            .and_then(|c| record.get(c))
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        if let Some(e) = &email {
            check_email(e).map_err(|err| bad(line, err.to_string()))?;
        }
        let out = match out_col
            .and_then(|c| record.get(c))
            .filter(|o| !o.is_empty())
        {
            Some(o) => o.to_string(),
            None => slug(&cn),
        };
        let safe = !out.is_empty()
            && !out.starts_with('.')
            && out
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !safe {
            return Err(bad(
                line,
                format!(
                    "the output name '{out}' must be letters, digits, '-', '_' or '.' (no folders)"
                ),
            ));
        }
        if let Some(first) = seen_out.insert(out.clone(), line) {
            return Err(bad(
                line,
                format!("the output name '{out}' is also used on line {first}"),
            ));
        }
        rows.push(BatchRow {
            line,
            cn,
            email,
            out,
        });
    }
    if rows.is_empty() {
        return Err(Error::malformed(path, "no rows below the header"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<BatchRow>> {
        parse_rows(text.as_bytes(), Path::new("people.csv"))
    }

    #[test]
    fn crlf_line_ends_and_a_byte_order_mark_keep_line_numbers_right() {
        // Found by the batch_csv fuzz target (fuzz/regressions/batch_csv/): the row was reported on line 1.
        let parsed = rows("\u{feff}cn,out\r\nAnn,ann\r\n\r\n").expect("rows");
        assert_eq!(parsed[0].line, 2);
        let err = rows("\u{feff}cn\r\nAnn\r\nann\r\n").expect_err("duplicate");
        assert!(err.to_string().contains("line 3"), "{err}");
        // Lone CRs end lines too (old Mac files), as the csv crate reads them.
        let parsed = rows("cn\r\r\rol\n\r1111").expect("rows");
        assert_eq!((parsed[0].line, parsed[1].line), (4, 6));
    }

    /// Each row's line is counted on from the last one: 300,000 rows parse at once (every row used to count the
    /// lines from the start of the file again, so a million rows never finished).
    #[test]
    fn a_large_file_is_read_once() {
        let mut text = String::from("cn\r\n");
        for i in 0..300_000 {
            text.push_str(&format!("person{i}\r\n"));
        }
        let parsed = rows(&text).expect("rows");
        assert_eq!(parsed.len(), 300_000);
        assert_eq!(parsed[299_999].line, 300_001);
        assert_eq!(parsed[1].line, 3);
    }

    #[test]
    fn rows_parse_with_defaults() {
        let parsed = rows("cn,email\nAlice Smith,alice@example.com\nBob,\n").expect("rows");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].out, "alice-smith");
        assert_eq!(parsed[1].email, None);
        assert_eq!(parsed[1].line, 3);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = rows("cn,email\nAlice,\n,x@example.com\n")
            .expect_err("empty cn")
            .to_string();
        assert!(err.contains("line 3") && err.contains("empty"), "{err}");
        let err = rows("cn\nAlice\nalice\n")
            .expect_err("duplicate")
            .to_string();
        assert!(err.contains("line 3") && err.contains("line 2"), "{err}");
        let err = rows("cn,email\nAlice,not-an-email\n")
            .expect_err("email")
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(rows("name\nAlice\n").is_err());
        assert!(rows("cn,out\nAlice,../etc/passwd\n").is_err());
    }
}
