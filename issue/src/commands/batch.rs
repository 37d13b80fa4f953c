//! `certkit-issue client --batch`: the terminal side of [`crate::batch`] (passwords, progress bar, summary).

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use certkit_ca::ad_mapping::AdMapping;
use certkit_ca::dates::Validity;
use certkit_ca::profile::{SettingLine, ThumbprintList, names};
use certkit_ca::secret::{self, SecretSource, SecretUse};
use certkit_ca::term::secrets::{self, Passwords};
use certkit_ca::term::{self, Format, Report, RowStream, output::path_texts};
use certkit_ca::{Error, KeyType, Result, Secret, Serial, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use super::ca;
use super::issue::NewKeySecrets;
use crate::batch::{self, BatchJob, BatchRows, KeyProtection, PfxPasswords, RowStatus};
use crate::pipeline::{KeyPool, Progress};
use certkit_ca::constraints::NameConstraints;
use certkit_ca::san::San;

/// What `certkit-issue client --batch` was asked to do.
#[derive(Debug)]
pub struct BatchRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The CSV file.
    pub file: PathBuf,
    /// Where every row's files go.
    pub out_dir: PathBuf,
    /// One PFX password file per person, in this folder.
    pub pfx_pass_dir: Option<PathBuf>,
    /// Worker threads.
    pub jobs: usize,
    /// Key type for every row.
    pub key_type: KeyType,
    /// Validity for every row.
    pub validity: Validity,
    /// Extra EKUs.
    pub extra_ekus: Vec<String>,
    /// `--sid-extension`: the SID extension for every row with a SID.
    pub sid_extension: bool,
    /// `--crl-url`.
    pub crl_url: Option<String>,
    /// `--profile NAME`: the profile file of rows whose `profile` column is empty.
    pub profile: Option<String>,
    /// Passwords and PFX.
    pub secrets: NewKeySecrets,
    /// How to print the result.
    pub format: Format,
}

/// One row of the summary.
#[derive(Debug, Serialize)]
pub struct BatchRowReport {
    /// Line in the CSV file.
    pub line: u64,
    /// Common name.
    pub cn: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Subject.
    pub subject: String,
    /// Serial.
    pub serial: Serial,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `issued`, or what became of a certificate an earlier run issued: `skipped` (valid), `revoked`,
    /// `expired`.
    pub status: &'static str,
    /// Files written by this run.
    pub files: Vec<String>,
    /// How Active Directory maps the certificate, with the `altSecurityIdentities` values (docs/ad-mapping.md).
    pub ad_mapping: Option<AdMapping>,
}

/// The batch summary, printed after its rows (in JSON, its fields follow `rows[]`): the counts, the thumbprints
/// that may be allowed (the valid certificates of the batch), and `config_line`, the
/// AllowedClientCertificateThumbprints line with them, written out as it is printed and never held whole (a
/// batch of a million rows makes a 41 MB line).
#[derive(Debug)]
pub struct BatchReport {
    /// Rows issued by this run.
    pub issued: usize,
    /// Rows an earlier run issued, still valid.
    pub skipped: usize,
    /// Rows an earlier run issued, revoked since.
    pub revoked: usize,
    /// Rows an earlier run issued, expired since.
    pub expired: usize,
    /// The thumbprints that may be allowed: the valid certificates of the batch.
    pub allowed: Vec<Thumbprint>,
    ca_subject: String,
    /// The batch's folder, for the command that puts a long allow-list into a .cscfg.
    out_dir: String,
}

/// Up to this many thumbprints, the text shows the AllowedClientCertificateThumbprints line itself; beyond,
/// a line nobody copies by hand (2,000 make 82 KB) gives way to the command that writes it (`--json` keeps
/// `config_line` whole).
const LINE_SHOWN_UP_TO: usize = 20;

impl BatchReport {
    /// The AllowedClientCertificateThumbprints line.
    fn config_line(&self) -> SettingLine<'_, ThumbprintList<'_>> {
        SettingLine {
            name: names::ALLOWED_CLIENTS,
            value: ThumbprintList(&self.allowed),
        }
    }
}

impl Serialize for BatchReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// A value serialized as the text it displays, without holding that text.
        struct Shown<T>(T);
        impl<T: std::fmt::Display> Serialize for Shown<T> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }
        let mut fields = serializer.serialize_struct("BatchReport", 6)?;
        fields.serialize_field("issued", &self.issued)?;
        fields.serialize_field("skipped", &self.skipped)?;
        fields.serialize_field("revoked", &self.revoked)?;
        fields.serialize_field("expired", &self.expired)?;
        fields.serialize_field("allowed", &self.allowed)?;
        fields.serialize_field("config_line", &Shown(self.config_line()))?;
        fields.end()
    }
}

/// Reads DIR/<cn>.txt, or DIR/<out>.txt, for each row; every password is checked before any certificate is
/// made. A CN is used as a file name only when it is a plain name (no folder separator, no `..`, no leading
/// dot, no control or invisible character), so no row can make certkit read a file outside DIR; the output
/// name is always one (the CSV check makes sure).
fn per_person_passwords(dir: &Path, rows: &BatchRows) -> Result<HashMap<String, Secret>> {
    let mut passwords = HashMap::new();
    for row in rows.iter() {
        let by_out = dir.join(format!("{}.txt", row.out));
        let by_cn = is_plain_file_name(&row.cn)
            .then(|| dir.join(format!("{}.txt", row.cn)))
            .filter(|p| p.is_file());
        let path = match by_cn {
            Some(path) => path,
            None if by_out.is_file() => by_out,
            None if is_plain_file_name(&row.cn) => {
                return Err(Error::BadInput(format!(
                    "no PFX password file for '{}' (line {}): expected {} or {}",
                    row.cn,
                    row.line,
                    dir.join(format!("{}.txt", row.cn)).display(),
                    by_out.display()
                )));
            }
            None => {
                return Err(Error::BadInput(format!(
                    "line {}: no PFX password file {} (the CN on that line cannot name a file in {}, so the row's output name is used)",
                    row.line,
                    by_out.display(),
                    dir.display()
                )));
            }
        };
        let source = SecretSource::File(path);
        let password = secrets::obtain(Some(&source), secret::PFX_PASS, SecretUse::New)
            .map_err(|e| Error::BadInput(format!("line {}: {e}", row.line)))?;
        passwords.insert(row.out.clone(), password);
    }
    Ok(passwords)
}

/// True if `name` can be a file name in a folder without leaving it or hiding in it.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name
            .chars()
            .any(|c| c.is_control() || certkit_ca::naming::is_invisible(c))
}

/// A progress bar on stderr, drawn only on a terminal (and never with `--json`).
pub(super) struct Bar(indicatif::ProgressBar);

impl Bar {
    /// A bar counting certificates, hidden unless `format` is text and stderr a terminal.
    pub(super) fn new(format: Format) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            None,
            if format == Format::Text && io::stderr().is_terminal() {
                indicatif::ProgressDrawTarget::stderr()
            } else {
                indicatif::ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} certificates, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar(bar)
    }

    /// Runs `f` with the bar out of the way of the lines it prints.
    pub(super) fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.suspend(f)
    }

    /// Removes the bar.
    pub(super) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, total: usize) {
        self.0.set_length(total as u64);
    }
    fn done_one(&self) {
        self.0.inc(1);
    }
}

/// Runs the batch.
pub fn run(req: BatchRequest) -> Result<()> {
    let rows = batch::read_rows(&req.file)?;
    req.secrets.check(Some(certkit_ca::secret::CA_PASS))?;
    let context = ca::open(
        &req.ca,
        &req.validity,
        req.crl_url.clone(),
        req.secrets.module.clone(),
    )?;
    for oid in &req.extra_ekus {
        crate::leaf::parse_oid(oid)?;
    }
    // Every row's names against the name constraints of the CA and of those above it, before a key is made: a
    // batch issues all or none.
    let cert = context.store.cert()?;
    let mut all = vec![NameConstraints::of_cert(&cert.der)?];
    for above in context.store.chain_above(&cert)? {
        all.push(NameConstraints::of_cert(&above.der)?);
    }
    all.retain(|c| !c.is_empty());
    for constraints in &all {
        for row in rows.iter() {
            let email: Vec<San> = row.email.iter().map(|e| San::Email(e.clone())).collect();
            constraints
                .check_names(Some(&row.cn), &email)
                .map_err(|e| {
                    Error::malformed(
                        &req.file,
                        format!("line {}: {e}; nothing was issued", row.line),
                    )
                })?;
        }
    }
    // Every row against its profile file, each file loaded once, before a key is made.
    let mut profiles = crate::batch::Profiles::new(req.profile.clone(), req.crl_url.is_some());
    for row in rows.iter() {
        profiles
            .check(
                &context.store,
                &row,
                crate::batch::row_spec(
                    &row,
                    req.key_type,
                    req.validity,
                    &req.extra_ekus,
                    req.sid_extension,
                    context.crl_url.clone(),
                ),
            )
            .map_err(|e| match e {
                // What the row asks that its profile refuses is the file's fault, named by line; a profile
                // file the CA key did not sign is the CA's (exit 1), said as it is.
                Error::BadInput(what) => Error::malformed(
                    &req.file,
                    format!("line {}: {what}; nothing was issued", row.line),
                ),
                other => other,
            })?;
    }
    // Everything is checked: keys can be made while the passwords are read and the CA key is decrypted.
    let keys = KeyPool::start(req.key_type, req.jobs);
    // The same order as every other command: CA, then the key file's or the PFX's.
    let mut wanted = vec![(context.secret, req.secrets.ca_pass.as_ref())];
    match &req.secrets.pfx {
        Some(pfx) if req.pfx_pass_dir.is_none() => {
            wanted.push((secret::PFX_PASS, pfx.pass.as_ref()))
        }
        Some(_) => {}
        None => wanted.push((secret::KEY_PASS, req.secrets.key_pass.as_ref())),
    }
    let mut read = Passwords::read(&wanted)?;
    let ca_password = read.take(context.secret, SecretUse::Existing)?;
    let protection = match &req.secrets.pfx {
        Some(pfx) => {
            let passwords = match &req.pfx_pass_dir {
                Some(dir) => PfxPasswords::PerRow(per_person_passwords(dir, &rows)?),
                None => PfxPasswords::One(read.take(secret::PFX_PASS, SecretUse::New)?),
            };
            KeyProtection::Pfx {
                profile: pfx.profile,
                passwords,
            }
        }
        None => KeyProtection::KeyFile(read.take(secret::KEY_PASS, SecretUse::New)?),
    };
    let ca = context.store.unlock(&ca_password)?;
    drop(ca_password);
    let job_out_dir = req.out_dir.clone();
    let job = BatchJob {
        rows,
        out_dir: req.out_dir,
        key_type: req.key_type,
        validity: req.validity,
        extra_ekus: req.extra_ekus,
        sid_extension: req.sid_extension,
        crl_url: context.crl_url.clone(),
        profiles,
        protection,
        jobs: req.jobs,
    };
    let bar = Bar::new(req.format);
    let width = job
        .rows
        .iter()
        .map(|r| r.cn.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut stream = RowStream::new(req.format);
    stream.text(|out| {
        writeln!(
            out,
            "{:<width$}  {:<40}  {:<8}  FILES",
            "CN", "THUMBPRINT", "STATUS"
        )
    });
    let mut report = BatchReport {
        issued: 0,
        skipped: 0,
        revoked: 0,
        expired: 0,
        allowed: Vec::new(),
        ca_subject: ca.cert.subject.clone(),
        out_dir: certkit_ca::term::output::path_text(&job_out_dir),
    };
    let lock = term::lock(&context.store)?;
    let ran = batch::run(
        &context.store,
        &lock,
        &ca,
        &job,
        &keys,
        &bar,
        &mut |outcome| {
            match outcome.status {
                RowStatus::Issued => report.issued += 1,
                RowStatus::Skipped => report.skipped += 1,
                RowStatus::Revoked => report.revoked += 1,
                RowStatus::Expired => report.expired += 1,
            }
            // Revoked and expired certificates are never allowed again, whatever the file says.
            if outcome.status.allowed() {
                report.allowed.push(outcome.cert.thumbprint);
            }
            let row = job
                .rows
                .get(outcome.index)
                .ok_or(Error::Bug("a batch outcome for no row"))?;
            let row = BatchRowReport {
                line: row.line,
                cn: row.cn.clone(),
                email: row.email.clone(),
                subject: format!("CN={}", row.cn),
                serial: outcome.cert.serial,
                thumbprint: outcome.cert.thumbprint,
                not_after: outcome.cert.not_after,
                status: outcome.status.name(),
                files: path_texts(&outcome.files),
                ad_mapping: outcome.cert.ad_mapping.map(|m| *m),
            };
            bar.suspend(|| stream.row(&row, |out| row.write_text(out, width)));
            Ok(())
        },
    );
    drop(keys);
    bar.finish();
    ran?;
    drop(lock);
    stream.finish(&report)
}

impl BatchRowReport {
    fn write_text(&self, out: &mut dyn Write, width: usize) -> io::Result<()> {
        let files = if self.status == "issued" {
            self.files.join(" ")
        } else {
            "(issued by an earlier run)".to_string()
        };
        writeln!(
            out,
            "{:<width$}  {}  {:<8}  {files}",
            self.cn, self.thumbprint, self.status
        )
    }
}

impl Report for BatchReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out)?;
        let mut counts = format!("{} issued, {} skipped", self.issued, self.skipped);
        if self.revoked > 0 {
            counts.push_str(&format!(", {} revoked", self.revoked));
        }
        if self.expired > 0 {
            counts.push_str(&format!(", {} expired", self.expired));
        }
        writeln!(out, "{counts} (signed by {})", self.ca_subject)?;
        if self.allowed.len() > LINE_SHOWN_UP_TO {
            return writeln!(
                out,
                "AllowedClientCertificateThumbprints: {} thumbprints, too many to copy by hand; put them into the \
                 service configuration with: certkit-export cscfg --file ServiceConfiguration.cscfg --allow {}/*.cer \
                 (--json gives the whole line as config_line)",
                self.allowed.len(),
                self.out_dir
            );
        }
        if self.revoked + self.expired > 0 {
            writeln!(
                out,
                "AllowedClientCertificateThumbprints for the valid ones (revoked and expired left out):"
            )?;
        } else {
            writeln!(out, "AllowedClientCertificateThumbprints for all of them:")?;
        }
        writeln!(out, "{}", self.config_line())
    }
}
