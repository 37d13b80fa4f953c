//! Running a batch: every row's certificate made through the issuance engine on all cores, rows an earlier run
//! delivered skipped, rows an interrupted run left half-written made again.

use std::collections::HashMap;
use std::path::PathBuf;

use rcgen::KeyPair;

use certkit_ca::dates::Validity;
use certkit_ca::pfx::PfxProfile;
use certkit_ca::signer::SigningCa;
use certkit_ca::store::StoreLock;
use certkit_ca::store::inventory::Status;
use certkit_ca::{CaStore, CertInfo, Error, KeyType, Profile, Result, Secret, Serial, Thumbprint};

use super::rows::{BatchRow, BatchRows};
use crate::engine::{Engine, Order, PfxOutput, Signer, SubjectKey};
use crate::leaf::{Identity, LeafSpec};
use crate::outputs::OutputPlan;
use crate::pipeline::{InOrder, KeyPool, Progress, deliver_all};

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
    /// How Active Directory maps it (held until its row is reported).
    pub ad_mapping: Option<Box<certkit_ca::ad_mapping::AdMapping>>,
}

impl From<&CertInfo> for CertSummary {
    fn from(cert: &CertInfo) -> Self {
        CertSummary {
            serial: cert.serial.clone(),
            thumbprint: cert.thumbprint,
            not_after: cert.not_after,
            ad_mapping: certkit_ca::ad_mapping::AdMapping::of_der(&cert.der)
                .ok()
                .map(Box::new),
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

/// The profile files of a batch: `--profile`'s for rows without a `profile` column, each file loaded once.
#[derive(Debug, Default)]
pub struct Profiles {
    default: Option<String>,
    crl_flag_given: bool,
    loaded: std::collections::HashMap<String, std::sync::Arc<crate::by_profile::ProfileUse>>,
}

impl Profiles {
    /// None loaded yet; `default` for rows that name none.
    pub fn new(default: Option<String>, crl_flag_given: bool) -> Self {
        Profiles {
            default,
            crl_flag_given,
            loaded: Default::default(),
        }
    }

    fn name_of<'a>(&'a self, row: &'a BatchRow) -> Option<&'a str> {
        row.profile.as_deref().or(self.default.as_deref())
    }

    /// Checks a row against its profile file (loading it from `store` the first time): `spec` is the row's
    /// certificate as the batch will issue it ([`row_spec`]).
    pub fn check(
        &mut self,
        store: &certkit_ca::CaStore,
        row: &BatchRow,
        mut spec: LeafSpec,
    ) -> Result<()> {
        if let Some(name) = self.name_of(row)
            && !self.loaded.contains_key(name)
        {
            let name = name.to_string();
            let used = crate::by_profile::load(store, &name)?;
            self.loaded.insert(name, used);
        }
        self.apply(row, &mut spec)
    }

    /// Puts the row's profile file into `spec` and takes what it says (checked by [`Profiles::check`]).
    fn apply(&self, row: &BatchRow, spec: &mut LeafSpec) -> Result<()> {
        spec.profile_file = match self.name_of(row) {
            Some(name) => Some(
                self.loaded
                    .get(name)
                    .cloned()
                    .ok_or(Error::Bug("a batch row's profile was not loaded"))?,
            ),
            None => None,
        };
        spec.take_profile(self.crl_flag_given)
    }
}

/// A row's certificate as the batch issues it, before its profile file is taken: the same when the row is
/// checked (before any key is made) and when it is issued.
pub fn row_spec(
    row: &BatchRow,
    key_type: KeyType,
    validity: Validity,
    extra_ekus: &[String],
    sid_extension: bool,
    crl_url: Option<String>,
) -> LeafSpec {
    LeafSpec {
        profile: Profile::Client,
        cn: row.cn.clone(),
        dns: vec![],
        ips: vec![],
        email: row.email.clone(),
        identity: Identity {
            sid_extension: sid_extension && row.identity.sid.is_some(),
            ..row.identity.clone()
        },
        extra_ekus: extra_ekus.to_vec(),
        key_type,
        validity,
        crl_url,
        subject: row.subject.clone(),
        profile_file: None,
    }
}

/// Everything a batch run needs.
pub struct BatchJob {
    /// Rows to issue.
    pub rows: BatchRows,
    /// Output folder.
    pub out_dir: PathBuf,
    /// Key type for every row.
    pub key_type: KeyType,
    /// Validity for every row.
    pub validity: Validity,
    /// Extra EKUs for every row.
    pub extra_ekus: Vec<String>,
    /// `--sid-extension`: the SID extension for every row with a SID.
    pub sid_extension: bool,
    /// CRL distribution point.
    pub crl_url: Option<String>,
    /// The profile files the rows are issued by.
    pub profiles: Profiles,
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
        let mut spec = row_spec(
            row,
            self.key_type,
            self.validity,
            &self.extra_ekus,
            self.sid_extension,
            self.crl_url.clone(),
        );
        self.profiles.apply(row, &mut spec)?;
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
    for row in job.rows.iter() {
        let plan = job.plan(&row);
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
        for path in all_outputs(&job.plan(&row)) {
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
/// files on all cores; this thread delivers them in groups and signs a checkpoint at the end. Each row's
/// outcome goes to `each` in row order as soon as it is known (a row an earlier run made at once), so that a
/// report can be printed as it goes.
pub fn run(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    job: &BatchJob,
    keys: &KeyPool,
    progress: &dyn Progress,
    each: &mut dyn FnMut(RowOutcome) -> Result<()>,
) -> Result<()> {
    certkit_ca::store::guard::check_output_dir(&job.out_dir)?;
    std::fs::create_dir_all(&job.out_dir)
        .map_err(|e| Error::io("create folder", &job.out_dir, e))?;
    let mut done = survey(store, lock, &ca.cert, job)?;
    let engine = Engine::new(Signer::Ca { store, ca, lock })?;
    let mut in_order = InOrder::default();
    let mut todo = Vec::new();
    for (index, row) in job.rows.iter().enumerate() {
        match done.remove(&row.out) {
            Some((cert, status)) => in_order.push(
                index,
                RowOutcome {
                    index,
                    cert,
                    status,
                    files: vec![],
                },
                each,
            )?,
            None => todo.push(index),
        }
    }
    keys.want(todo.len());
    let prepare = |i: usize| {
        let row = job
            .rows
            .get(todo[i])
            .ok_or(Error::Bug("a batch row out of range"))?;
        keys.take(job.key_type)
            .and_then(|key| job.order(&row, key))
            .and_then(|order| engine.prepare(order))
    };
    deliver_all(
        &engine,
        job.jobs,
        todo.len(),
        &prepare,
        progress,
        &mut |i, issued| {
            let index = todo[i];
            in_order.push(
                index,
                RowOutcome {
                    index,
                    cert: CertSummary::from(&issued.cert),
                    status: RowStatus::Issued,
                    files: issued.files,
                },
                each,
            )
        },
    )
}
