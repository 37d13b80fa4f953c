//! The batch file: a CSV with a `cn` column (and optionally `email`, `upn`, `sid`, `uri`, `out`, `profile` and
//! the subject attributes `c`, `st`, `l`, `o`, `ou`), checked whole before any key is made.

use std::hash::BuildHasher;
use std::path::Path;

use certkit_ca::naming::check_cn;
use certkit_ca::{Error, Result};

use certkit_ca::profile_file::SubjectAttribute;

use crate::leaf::{Identity, check_email};

/// One row of the batch file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRow {
    /// 1-based line number in the file (for messages).
    pub line: u64,
    /// Common name.
    pub cn: String,
    /// E-mail address for the SAN.
    pub email: Option<String>,
    /// Who the person is to Active Directory: the `upn`, `sid` and `uri` columns (several URIs separated by
    /// spaces).
    pub identity: Identity,
    /// Output name inside the output folder (default: derived from the CN).
    pub out: String,
    /// The CA's profile file the row is issued by (the `profile` column; default: `--profile`).
    pub profile: Option<String>,
    /// Subject attributes beyond the CN (the `c`, `st`, `l`, `o` and `ou` columns), in subject order.
    pub subject: Vec<(SubjectAttribute, String)>,
}

/// The fields of a row, in the order they are packed: six, the profile, then one per subject attribute.
const FIELDS: usize = 7 + SubjectAttribute::ALL.len();
const CN: usize = 0;
const EMAIL: usize = 1;
const UPN: usize = 2;
const SID: usize = 3;
const URI: usize = 4;
const OUT: usize = 5;
const PROFILE: usize = 6;
const SUBJECT: usize = 7;

/// The rows of a batch file, packed: one string holds every row's fields one after the other, so that a row
/// costs its text and 32 bytes, however many rows the file has (a `Vec` of rows cost ten times that).
#[derive(Debug, Default)]
pub struct BatchRows {
    text: String,
    rows: Vec<Packed>,
}

/// Where one row's fields are in [`BatchRows::text`]: their lengths in turn (empty for none), from `start`.
#[derive(Clone, Copy, Debug)]
struct Packed {
    line: u64,
    start: usize,
    lengths: [u16; FIELDS],
}

impl BatchRows {
    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `index` (from 0).
    pub fn get(&self, index: usize) -> Option<BatchRow> {
        let packed = self.rows.get(index)?;
        let fields = self.fields(packed);
        let given = |i: usize| (!fields[i].is_empty()).then(|| fields[i].to_string());
        Some(BatchRow {
            line: packed.line,
            cn: fields[CN].to_string(),
            email: given(EMAIL),
            identity: Identity {
                upn: given(UPN),
                // Checked when the row was read.
                sid: given(SID).and_then(|sid| sid.parse().ok()),
                sid_extension: false,
                uris: fields[URI].split_whitespace().map(str::to_string).collect(),
            },
            out: fields[OUT].to_string(),
            profile: given(PROFILE),
            subject: SubjectAttribute::ALL
                .into_iter()
                .enumerate()
                .filter_map(|(i, attribute)| given(SUBJECT + i).map(|value| (attribute, value)))
                .collect(),
        })
    }

    /// Every row, in file order.
    pub fn iter(&self) -> impl Iterator<Item = BatchRow> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    fn fields(&self, packed: &Packed) -> [&str; FIELDS] {
        let mut at = packed.start;
        packed.lengths.map(|len| {
            let field = &self.text[at..at + usize::from(len)];
            at += usize::from(len);
            field
        })
    }

    /// Adds a row whose fields were checked; None when a field is too long to pack (more than 65,535 bytes).
    fn push(&mut self, line: u64, fields: [&str; FIELDS]) -> Option<()> {
        let mut lengths = [0u16; FIELDS];
        for (length, field) in lengths.iter_mut().zip(fields) {
            *length = u16::try_from(field.len()).ok()?;
        }
        let packed = Packed {
            line,
            start: self.text.len(),
            lengths,
        };
        for field in fields {
            self.text.push_str(field);
        }
        self.rows.push(packed);
        Some(())
    }

    /// The first row (in file order) whose `key` a row before it has too, and the line of that earlier row. Keys are compared through a keyed hash, sorted (16 bytes a row, and only while it runs); rows
    /// whose hashes meet are compared by their keys, so a collision never makes a false duplicate.
    fn first_duplicate(&self, key: impl Fn(&str, &str) -> String) -> Option<(BatchRow, u64)> {
        let hasher = std::collections::hash_map::RandomState::new();
        let key_of = |i: usize| {
            let fields = self.fields(&self.rows[i]);
            key(fields[CN], fields[OUT])
        };
        let mut hashes: Vec<(u64, usize)> = Vec::with_capacity(self.rows.len());
        hashes.extend((0..self.rows.len()).map(|i| {
            let key = key_of(i);
            (hasher.hash_one(key.as_str()), i)
        }));
        hashes.sort_unstable();
        let mut found: Option<(usize, usize)> = None;
        for group in hashes.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
            for (j, &(_, later)) in group.iter().enumerate().skip(1) {
                if found.is_some_and(|(second, _)| second <= later) {
                    break;
                }
                let key = key_of(later);
                if let Some(&(_, first)) = group[..j].iter().find(|(_, i)| key_of(*i) == key) {
                    found = Some((later, first));
                    break;
                }
            }
        }
        let (second, first) = found?;
        Some((self.get(second)?, self.rows[first].line))
    }
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
pub fn read_rows(path: &Path) -> Result<BatchRows> {
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

/// Checks a whole batch file: header with `cn` (and optionally `email`, `upn`, `sid`, `uri`, `out`), no empty
/// or duplicate CN, valid e-mail addresses, UPNs, SIDs and URIs, safe output names. `path` names the file in errors.
pub fn parse_rows(bytes: &[u8], path: &Path) -> Result<BatchRows> {
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
    let (upn_col, sid_col, uri_col) = (column("upn"), column("sid"), column("uri"));
    let profile_col = column("profile");
    let subject_cols = SubjectAttribute::ALL.map(|attribute| column(attribute.name()));
    let mut rows = BatchRows::default();
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
        let email = email_col
            .and_then(|c| record.get(c))
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        if let Some(e) = &email {
            check_email(e).map_err(|err| bad(line, err.to_string()))?;
        }
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
        let identity = Identity {
            upn: Some(field(upn_col))
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            sid: match field(sid_col) {
                "" => None,
                sid => Some(sid.parse().map_err(|e: Error| bad(line, e.to_string()))?),
            },
            sid_extension: false,
            uris: field(uri_col)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        };
        identity.validate().map_err(|e| bad(line, e.to_string()))?;
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
        let sid = identity
            .sid
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let uris = identity.uris.join(" ");
        let profile = match field(profile_col) {
            "" | "client" => "",
            name => {
                certkit_ca::profile_file::check_name(name).map_err(|e| bad(line, e.to_string()))?;
                name
            }
        };
        let mut fields = [""; FIELDS];
        fields[..=PROFILE].copy_from_slice(&[
            cn.as_str(),
            email.as_deref().unwrap_or(""),
            identity.upn.as_deref().unwrap_or(""),
            sid.as_str(),
            uris.as_str(),
            out.as_str(),
            profile,
        ]);
        for ((attribute, col), slot) in SubjectAttribute::ALL
            .into_iter()
            .zip(subject_cols)
            .zip(&mut fields[SUBJECT..])
        {
            let value = field(col);
            if !value.is_empty() {
                attribute
                    .check_value(value)
                    .map_err(|e| bad(line, e.to_string()))?;
                *slot = value;
            }
        }
        rows.push(line, fields)
            .ok_or_else(|| bad(line, "a field is longer than 65,535 bytes".into()))?;
    }
    if rows.is_empty() {
        return Err(Error::malformed(path, "no rows below the header"));
    }
    if let Some((row, first)) = rows.first_duplicate(|cn, _| cn.to_lowercase()) {
        return Err(bad(
            row.line,
            format!("the CN '{}' already appears on line {first}", row.cn),
        ));
    }
    if let Some((row, first)) = rows.first_duplicate(|_, out| out.to_string()) {
        return Err(bad(
            row.line,
            format!("the output name '{}' is also used on line {first}", row.out),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<BatchRow>> {
        parse_rows(text.as_bytes(), Path::new("people.csv")).map(|rows| rows.iter().collect())
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

    /// Duplicates are found after the rows are packed: the first repeated row in file order is named, with the
    /// row it repeats, however far apart they are.
    #[test]
    fn the_first_repeated_row_is_named_with_the_row_it_repeats() {
        let err = rows("cn\nA\nB\nb\na\n").expect_err("duplicate").to_string();
        assert!(
            err.contains("line 4") && err.contains("'b'") && err.contains("line 3"),
            "{err}"
        );
        let mut text = String::from("cn,out\n");
        for i in 0..50_000 {
            text.push_str(&format!("person {i},p{i}\n"));
        }
        text.push_str("Person 17,other\n");
        let err = rows(&text).expect_err("duplicate").to_string();
        assert!(
            err.contains("line 50002") && err.contains("line 19"),
            "{err}"
        );
        text.push_str("x,p40000\n");
        let err = rows(&text.replace("Person 17,other", "someone,else"))
            .expect_err("duplicate out")
            .to_string();
        assert!(err.contains("'p40000' is also used on line 40002"), "{err}");
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
    fn identity_columns_are_read_and_checked_by_line() {
        let parsed = rows(
            "cn,upn,sid,uri\nAlice,alice@contoso.com,S-1-5-21-1-2-3-1105,urn:a https://b.example/c\nBob,,,\n",
        )
        .expect("rows");
        assert_eq!(parsed[0].identity.upn.as_deref(), Some("alice@contoso.com"));
        assert_eq!(
            parsed[0]
                .identity
                .sid
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("S-1-5-21-1-2-3-1105")
        );
        assert_eq!(parsed[0].identity.uris, ["urn:a", "https://b.example/c"]);
        assert!(parsed[1].identity.is_empty());
        let err = rows("cn,sid\nAlice,S-1-5-21-1-2-3-1105\nBob,S-1-5-21-x\n")
            .expect_err("bad sid")
            .to_string();
        assert!(err.contains("line 3") && err.contains("not a SID"), "{err}");
        let err = rows("cn,upn\nAlice,alice\n")
            .expect_err("bad upn")
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("user principal name"),
            "{err}"
        );
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
