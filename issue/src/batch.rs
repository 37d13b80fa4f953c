//! Batch issuance of client certificates from a CSV file, at the speed of key generation.
//!
//! The CA key is unlocked once. Worker threads (one per core by default) generate keys, sign and build the
//! PFX or encrypted key through the issuance engine; the calling thread commits what has arrived in groups, by
//! the write-ahead rule (records first, then files), so an interrupted batch loses no record. Rows whose
//! certificate an earlier run delivered are skipped, so running the same batch again issues nothing new, and
//! rows an interrupted run left half-written are made again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rcgen::KeyPair;

use certkit_ca::dates::Validity;
use certkit_ca::naming::check_cn;
use certkit_ca::pfx::PfxProfile;
use certkit_ca::signer::SigningCa;
use certkit_ca::store::StoreLock;
use certkit_ca::store::inventory::Status;
use certkit_ca::{CaStore, CertInfo, Error, KeyType, Profile, Result, Secret, Serial, Thumbprint};

use crate::engine::{Engine, Order, PfxOutput, Prepared, Signer, SubjectKey};
use crate::leaf::{LeafSpec, check_email};
use crate::outputs::OutputPlan;

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
    // crate puts a record's start on the LF before it, and counts one line short.
    let line_at = |position: Option<&csv::Position>| {
        position.map_or(0, |p| {
            let mut start = usize::try_from(p.byte()).map_or(bytes.len(), |b| b.min(bytes.len()));
            while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                start += 1;
            }
            // A line ends at LF, CRLF or a lone CR, as the csv crate reads records.
            let before = &bytes[..start];
            let breaks = before
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    **b == b'\n' || (**b == b'\r' && before.get(i + 1) != Some(&b'\n'))
                })
                .count();
            1 + breaks as u64
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

/// How a batch protects each person's private key.
pub enum KeyProtection {
    /// A PFX per person (no separate key file), with one password for all or one per row.
    Pfx {
        /// Profile of the PFX files.
        profile: PfxProfile,
        /// The PFX passwords.
        passwords: PfxPasswords,
    },
    /// An encrypted key file per person, all with this password.
    KeyFile(Secret),
}

/// PFX passwords: one for everybody, or one per person (by output name).
pub enum PfxPasswords {
    /// The same password for every row.
    One(Secret),
    /// A password per row, keyed by output name.
    PerRow(HashMap<String, Secret>),
}

impl PfxPasswords {
    fn for_row(&self, row: &BatchRow) -> Option<&Secret> {
        match self {
            PfxPasswords::One(secret) => Some(secret),
            PfxPasswords::PerRow(map) => map.get(&row.out),
        }
    }
}

/// The few facts the summary needs about a row's certificate; the certificate itself is on disk, so memory
/// stays small however many rows a batch has.
#[derive(Clone, Debug)]
pub struct CertSummary {
    /// Serial.
    pub serial: Serial,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// End of validity.
    pub not_after: time::OffsetDateTime,
}

impl From<&CertInfo> for CertSummary {
    fn from(cert: &CertInfo) -> Self {
        CertSummary {
            serial: cert.serial.clone(),
            thumbprint: cert.thumbprint,
            not_after: cert.not_after,
        }
    }
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStatus {
    /// Issued by this run.
    Issued,
    /// Issued by an earlier run, and valid.
    Skipped,
    /// Issued by an earlier run, and revoked since: never allowed again.
    Revoked,
    /// Issued by an earlier run, and expired.
    Expired,
}

impl RowStatus {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            RowStatus::Issued => "issued",
            RowStatus::Skipped => "skipped",
            RowStatus::Revoked => "revoked",
            RowStatus::Expired => "expired",
        }
    }

    /// True if the row's certificate may be allowed (it is valid).
    pub fn allowed(self) -> bool {
        matches!(self, RowStatus::Issued | RowStatus::Skipped)
    }
}

/// What happened to one row.
#[derive(Debug)]
pub struct RowOutcome {
    /// Index of the row in the job's rows.
    pub index: usize,
    /// Its certificate.
    pub cert: CertSummary,
    /// What became of it.
    pub status: RowStatus,
    /// The files written (none when an earlier run made them).
    pub files: Vec<PathBuf>,
}

/// Told about a batch's progress (the command line draws a bar with it).
pub trait Progress: Sync {
    /// `total` certificates are to be made.
    fn start(&self, total: usize);
    /// One more is done.
    fn done_one(&self);
}

/// Everything a batch run needs.
pub struct BatchJob {
    /// Rows to issue.
    pub rows: Vec<BatchRow>,
    /// Output folder.
    pub out_dir: PathBuf,
    /// Key type for every row.
    pub key_type: KeyType,
    /// Validity for every row.
    pub validity: Validity,
    /// Extra EKUs for every row.
    pub extra_ekus: Vec<String>,
    /// CRL distribution point.
    pub crl_url: Option<String>,
    /// How keys are protected.
    pub protection: KeyProtection,
    /// Worker threads.
    pub jobs: usize,
}

impl BatchJob {
    fn plan(&self, row: &BatchRow) -> OutputPlan {
        let with_pfx = matches!(self.protection, KeyProtection::Pfx { .. });
        OutputPlan {
            prefix: self.out_dir.join(&row.out),
            with_key: !with_pfx,
            with_pfx,
        }
    }

    fn order(&self, row: &BatchRow, key: KeyPair) -> Result<Order<'_>> {
        let spec = LeafSpec {
            profile: Profile::Client,
            cn: row.cn.clone(),
            dns: vec![],
            ips: vec![],
            email: row.email.clone(),
            extra_ekus: self.extra_ekus.clone(),
            key_type: self.key_type,
            validity: self.validity,
            crl_url: self.crl_url.clone(),
        };
        let (key_password, pfx) = match &self.protection {
            KeyProtection::KeyFile(password) => (Some(password), None),
            KeyProtection::Pfx { profile, passwords } => {
                let password = passwords
                    .for_row(row)
                    .ok_or_else(|| Error::Secret(format!("no PFX password for '{}'", row.cn)))?;
                (
                    None,
                    Some(PfxOutput {
                        profile: *profile,
                        password,
                    }),
                )
            }
        };
        Ok(Order {
            spec,
            key: SubjectKey::New(key),
            plan: self.plan(row),
            key_password,
            pfx,
            renewal_of: None,
        })
    }
}

/// Keys made ahead, on all cores. Key generation needs no CA, so a batch starts it before the CA is unlocked,
/// the inventory reconciled and the rows surveyed; the workers that sign then take keys ready-made. It holds
/// at most [`KEYS_AHEAD`] keys; stopping it (dropping it) lets its threads end after the key they are making.
pub struct KeyPool {
    key_type: KeyType,
    /// None for key types that take microseconds to make (EC): the workers make those themselves.
    keys: Option<Mutex<mpsc::Receiver<Result<KeyPair>>>>,
    stop: Arc<AtomicBool>,
    /// How many keys the batch needs, once it knows; the threads stop making keys there.
    wanted: Arc<AtomicUsize>,
}

/// How many keys a pool makes ahead of the workers: enough to keep every core busy while the batch starts up
/// (a fraction of a second; a few dozen RSA keys), and small in memory.
pub const KEYS_AHEAD: usize = 64;

impl KeyPool {
    /// Starts `threads` threads making keys of `key_type` (for RSA, whose keys take tens of milliseconds).
    pub fn start(key_type: KeyType, threads: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let wanted = Arc::new(AtomicUsize::new(usize::MAX));
        if !key_type.is_rsa() {
            return KeyPool {
                key_type,
                keys: None,
                stop,
                wanted,
            };
        }
        let (sender, keys) = mpsc::sync_channel(KEYS_AHEAD);
        let made = Arc::new(AtomicUsize::new(0));
        for _ in 0..threads.max(1) {
            let (sender, stop) = (sender.clone(), Arc::clone(&stop));
            let (wanted, made) = (Arc::clone(&wanted), Arc::clone(&made));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed)
                    && made.fetch_add(1, Ordering::Relaxed) < wanted.load(Ordering::Relaxed)
                {
                    if sender.send(key_type.generate()).is_err() {
                        break;
                    }
                }
            });
        }
        KeyPool {
            key_type,
            keys: Some(Mutex::new(keys)),
            stop,
            wanted,
        }
    }

    /// The batch needs `n` keys in all: the threads make no more than that.
    fn want(&self, n: usize) {
        self.wanted.store(n, Ordering::Relaxed);
    }

    fn take(&self) -> Result<KeyPair> {
        let Some(keys) = &self.keys else {
            return self.key_type.generate();
        };
        let keys = keys
            .lock()
            .map_err(|_| Error::Bug("the key pool's lock was poisoned"))?;
        keys.recv()
            .map_err(|_| Error::Bug("the key pool stopped"))?
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The most certificates committed together: one durable append of their records, one flush of their files.
pub const GROUP_MAX: usize = 64;

/// Looks at every row's outputs before anything is made. A row whose certificate an earlier run delivered is
/// done; a row whose delivery was interrupted is made again (its leftovers are replaced); a certificate of this
/// CA found at a row's output without a record (left by certkit 0.1, which wrote before recording) is recorded
/// as undelivered, and the row made again. Anything else in the way is an error naming the file.
fn survey(
    store: &CaStore,
    lock: &StoreLock,
    ca_cert: &CertInfo,
    job: &BatchJob,
) -> Result<HashMap<String, (CertSummary, RowStatus)>> {
    let now = time::OffsetDateTime::now_utc();
    let mut done = HashMap::new();
    for row in &job.rows {
        let plan = job.plan(row);
        let cer = plan.cer();
        if cer.exists() {
            let cert = certkit_ca::certinfo::read_cert(&cer)?;
            let ours = cert.cn.as_deref() == Some(row.cn.as_str()) && cert.is_signed_by(ca_cert)?;
            match store.entry_by_thumbprint(&cert.thumbprint)?.as_ref() {
                Some(entry) if entry.delivered && entry.issued.cn == row.cn => {
                    let status = match entry.status(now) {
                        Status::Revoked(_) => RowStatus::Revoked,
                        Status::Expired => RowStatus::Expired,
                        Status::Valid | Status::Undelivered => RowStatus::Skipped,
                    };
                    done.insert(row.out.clone(), (CertSummary::from(&cert), status));
                    continue;
                }
                Some(entry) if !entry.delivered => {}
                None if ours => {
                    let present: Vec<PathBuf> = all_outputs(&plan)
                        .into_iter()
                        .filter(|p| p.exists())
                        .collect();
                    store.record_found(lock, &cert, &present)?;
                }
                _ => {
                    return Err(Error::BadInput(format!(
                        "{} exists but is not this CA's certificate for '{}' (line {}); remove {}.* or choose another out name",
                        cer.display(),
                        row.cn,
                        row.line,
                        plan.prefix.display()
                    )));
                }
            }
        }
    }
    let leftovers = store.leftovers()?;
    for row in job.rows.iter().filter(|r| !done.contains_key(&r.out)) {
        for path in all_outputs(&job.plan(row)) {
            if path.symlink_metadata().is_ok() && !leftovers.holds(&path) {
                return Err(Error::BadInput(format!(
                    "{} exists and is not a file this CA left in an interrupted run (line {}); remove it or choose another out name",
                    path.display(),
                    row.line
                )));
            }
        }
    }
    Ok(done)
}

/// Every file a row could have, whichever protection a run used (a stray key file counts too).
fn all_outputs(plan: &OutputPlan) -> Vec<PathBuf> {
    OutputPlan {
        with_key: true,
        with_pfx: true,
        ..plan.clone()
    }
    .paths()
}

/// Runs the batch for the unlocked CA `ca`, its lock held, with keys from `keys`. Workers sign and build the
/// files on all cores; this thread commits them in groups (up to [`GROUP_MAX`]) as they arrive, and signs a
/// checkpoint at the end. The outcomes come back in row order.
pub fn run(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    job: &BatchJob,
    keys: &KeyPool,
    progress: &dyn Progress,
) -> Result<Vec<RowOutcome>> {
    certkit_ca::store::guard::check_output_dir(&job.out_dir)?;
    std::fs::create_dir_all(&job.out_dir)
        .map_err(|e| Error::io("create folder", &job.out_dir, e))?;
    let done = survey(store, lock, &ca.cert, job)?;
    let engine = Engine::new(Signer::Ca { store, ca, lock })?;
    let mut outcomes = Vec::new();
    let mut todo = Vec::new();
    for (index, row) in job.rows.iter().enumerate() {
        match done.get(&row.out) {
            Some((cert, status)) => outcomes.push(RowOutcome {
                index,
                cert: cert.clone(),
                status: *status,
                files: vec![],
            }),
            None => todo.push(index),
        }
    }
    keys.want(todo.len());
    progress.start(todo.len());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = job.jobs.max(1);
    let (sender, receiver) = mpsc::sync_channel::<Result<(usize, Prepared)>>(GROUP_MAX);
    let engine = &engine;
    let result = std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let sender = sender.clone();
            let (todo, next, stop) = (&todo, &next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let slot = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = todo.get(slot) else { break };
                    let made = keys
                        .take()
                        .and_then(|key| job.order(&job.rows[index], key))
                        .and_then(|order| engine.prepare(order))
                        .map(|prepared| (index, prepared));
                    if sender.send(made).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let stop_on = |err| {
            stop.store(true, Ordering::Relaxed);
            err
        };
        while let Ok(first) = receiver.recv() {
            let mut group = vec![first.map_err(stop_on)?];
            while group.len() < GROUP_MAX {
                match receiver.try_recv() {
                    Ok(made) => group.push(made.map_err(stop_on)?),
                    Err(_) => break,
                }
            }
            let (indexes, prepared): (Vec<usize>, Vec<Prepared>) = group.into_iter().unzip();
            let issued = engine.commit(prepared).map_err(stop_on)?;
            for (index, issued) in indexes.into_iter().zip(issued) {
                progress.done_one();
                outcomes.push(RowOutcome {
                    index,
                    cert: CertSummary::from(&issued.cert),
                    status: RowStatus::Issued,
                    files: issued.files,
                });
            }
        }
        Ok(())
    });
    // Whatever happened, the records made so far are covered by a checkpoint.
    let checkpoint = engine.checkpoint();
    result?;
    checkpoint?;
    outcomes.sort_by_key(|o| o.index);
    Ok(outcomes)
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
