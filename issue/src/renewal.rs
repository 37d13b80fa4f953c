//! Renewal: a new key and certificate with the old one's subject, names, profile, extended key usages and CRL
//! URL. The rules are the same for one certificate (`renew SERIAL`) and for everything that expires soon
//! (`renew --expiring-within DAYS`): a revoked certificate is never renewed, and one that already has a valid,
//! delivered renewal is not renewed twice (two overlapping scheduled rotations) unless forced. Renewing many
//! unlocks the CA once and goes through the batch's pipeline.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;

use certkit_ca::ad_mapping::{Sid, StrongMapping};
use certkit_ca::dates::Validity;
use certkit_ca::san::San;
use certkit_ca::secret::Secret;
use certkit_ca::signer::SigningCa;
use certkit_ca::store::StoreLock;
use certkit_ca::store::inventory::{Entry, IssuedRecord, RevokedRecord};
use certkit_ca::{CaStore, Error, KeyType, Result};

use crate::batch::{CertSummary, slug};
use crate::by_profile::ProfileUse;
use crate::engine::{Engine, Order, PfxOutput, Signer, SubjectKey};
use crate::leaf::{Identity, LeafSpec};
use crate::outputs::OutputPlan;
use crate::pipeline::{InOrder, KeyPool, Progress, deliver_all};

/// What the renewal rules make of a certificate.
#[derive(Debug, Clone)]
pub enum Decision {
    /// It is to be renewed.
    Due,
    /// It has a valid, delivered renewal already: this one (the newest).
    AlreadyRenewed(Box<Entry>),
    /// It was revoked: it is never renewed (issue a new certificate instead).
    Revoked(RevokedRecord),
}

/// The outcome of `old` when `decision` says there is nothing to make: revoked, or renewed already (by the
/// renewal it names); None when it is due.
pub fn settled_outcome(old: &Entry, decision: Decision) -> Option<RenewalOutcome> {
    let mut old_record = old.issued.clone();
    old_record.der = None;
    let (new, status) = match decision {
        Decision::Due => return None,
        Decision::Revoked(_) => (None, RenewalStatus::Revoked),
        Decision::AlreadyRenewed(renewal) => (
            Some(CertSummary {
                serial: renewal.issued.serial.clone(),
                thumbprint: renewal.issued.thumbprint,
                not_after: renewal.issued.not_after,
                ad_mapping: None,
            }),
            RenewalStatus::Skipped,
        ),
    };
    Some(RenewalOutcome {
        old: old_record,
        new,
        status,
        files: vec![],
    })
}

/// What to do with `old` at `now`, as its record and the log's renewals of it say; `force` renews a
/// certificate renewed already (never a revoked one).
pub fn decide(store: &CaStore, old: &Entry, force: bool, now: OffsetDateTime) -> Result<Decision> {
    if let Some(revoked) = &old.revoked {
        return Ok(Decision::Revoked(revoked.clone()));
    }
    if force {
        return Ok(Decision::Due);
    }
    Ok(match store.successor(&old.issued.serial, now)? {
        Some(renewal) => Decision::AlreadyRenewed(Box::new(renewal)),
        None => Decision::Due,
    })
}

/// `entry` with the certificate its record carries, when its content depends on it: a certificate with a SID
/// may carry the SID extension, and one issued by a profile file subject attributes, which the record does
/// not list. (Lookups return records without their certificates.)
pub fn with_certificate(store: &CaStore, mut entry: Entry) -> Result<Entry> {
    let has_sid = entry
        .issued
        .sans
        .iter()
        .any(|san| matches!(san, San::Uri(uri) if Sid::of_uri(uri).is_some()));
    let by_profile = entry.issued.profile_file.is_some();
    if (has_sid || by_profile) && entry.issued.der.is_none() {
        entry.issued.der = store
            .record_certificate(&entry)?
            .map(|der| openssl::base64::encode_block(&der));
    }
    Ok(entry)
}

/// The content of the renewal of `old`: its subject, names (with the UPN, SID and URIs, and the SID extension
/// when it had one), profile, extended key usages and CRL URL (the CA's `crl_url` when it had none), with a key
/// of `key_type` and `validity`.
pub fn spec(
    old: &IssuedRecord,
    validity: Validity,
    key_type: KeyType,
    crl_url: Option<String>,
    profile_file: Option<Arc<ProfileUse>>,
) -> Result<LeafSpec> {
    let (mut dns, mut ips, mut email) = (Vec::new(), Vec::new(), None);
    let mut identity = Identity::default();
    for san in &old.sans {
        match san {
            San::Dns(name) => dns.push(name.clone()),
            San::Ip(ip) => ips.push(*ip),
            San::Email(addr) => email = Some(addr.clone()),
            San::Upn(upn) => identity.upn = Some(upn.clone()),
            San::Uri(uri) => match Sid::of_uri(uri) {
                Some(sid) if identity.sid.is_none() => identity.sid = Some(sid),
                _ => identity.uris.push(uri.clone()),
            },
            San::Other(text) => {
                return Err(Error::BadInput(format!(
                    "recorded SAN {text} of {} cannot be renewed by certkit; issue a new certificate",
                    old.serial
                )));
            }
        }
    }
    // The SID extension is not a name: it is read from the certificate the record carries.
    identity.sid_extension = identity.sid.is_some()
        && old
            .cert_der()
            .and_then(|der| certkit_ca::ad_mapping::AdMapping::of_der(&der).ok())
            .is_some_and(|m| m.strong_mapping == StrongMapping::SidExtension);
    let mut spec = LeafSpec {
        profile: old.profile,
        cn: old.cn.clone(),
        dns,
        ips,
        email,
        identity,
        extra_ekus: old.extra_ekus.clone(),
        key_type,
        validity,
        crl_url: old.crl_url.clone().or(crl_url),
        subject: Vec::new(),
        profile_file: None,
    };
    if let Some(profile) = profile_file {
        // Renewed by the profile as the CA key signs it now: its EKUs and fixed attributes, and the
        // attributes the old certificate was given, checked again.
        let fixed = &profile.file.spec.subject.fixed;
        spec.subject = old
            .cert_der()
            .map(|der| certkit_ca::profile_file::subject_attributes(&der))
            .unwrap_or_default()
            .into_iter()
            .filter(|(attribute, _)| !fixed.contains_key(attribute))
            .collect();
        spec.extra_ekus = Vec::new();
        spec.profile_file = Some(profile);
        spec.take_profile(old.crl_url.is_some())
            .map_err(|e| Error::BadInput(format!("{} cannot be renewed: {e}", old.serial)))?;
    }
    spec.validate()?;
    Ok(spec)
}

/// The profile file `old` was issued by, as the CA key signs it now (loaded once per name into `loaded`).
pub fn profile_of(
    store: &CaStore,
    old: &IssuedRecord,
    loaded: &mut HashMap<String, Arc<ProfileUse>>,
) -> Result<Option<Arc<ProfileUse>>> {
    let Some(name) = &old.profile_file else {
        return Ok(None);
    };
    if let Some(used) = loaded.get(name) {
        return Ok(Some(used.clone()));
    }
    let used = crate::by_profile::load(store, name)?;
    loaded.insert(name.clone(), used.clone());
    Ok(Some(used))
}

/// What became of a certificate due for renewal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewalStatus {
    /// Renewed by this run.
    Renewed,
    /// Renewed already (by an earlier run, or by hand): the renewal reported is that one.
    Skipped,
    /// Revoked: never renewed.
    Revoked,
}

impl RenewalStatus {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            RenewalStatus::Renewed => "renewed",
            RenewalStatus::Skipped => "skipped",
            RenewalStatus::Revoked => "revoked",
        }
    }
}

/// What happened to one certificate due for renewal.
#[derive(Debug)]
pub struct RenewalOutcome {
    /// The old certificate's record (without the certificate it carries).
    pub old: IssuedRecord,
    /// Its renewal: made by this run, or the one that existed (None when it was revoked).
    pub new: Option<CertSummary>,
    /// What became of it.
    pub status: RenewalStatus,
    /// The files written (none unless renewed by this run).
    pub files: Vec<PathBuf>,
}

/// Everything a renewal of many certificates needs.
pub struct RenewalJob<'a> {
    /// The folder every renewal's files go into (PREFIX.cer, .pem, .key and .pfx).
    pub out_dir: PathBuf,
    /// Validity of every renewal.
    pub validity: Validity,
    /// Key type of every renewal (None: each old certificate's).
    pub key_type: Option<KeyType>,
    /// The CA's CRL URL, for old certificates that had none.
    pub crl_url: Option<String>,
    /// The password of every new key file; none with a PFX only.
    pub key_password: Option<&'a Secret>,
    /// A PFX for every renewal, when asked.
    pub pfx: Option<PfxOutput<'a>>,
    /// Worker threads.
    pub jobs: usize,
}

impl RenewalJob<'_> {
    fn plan(&self, name: &str) -> OutputPlan {
        OutputPlan {
            prefix: self.out_dir.join(name),
            with_key: self.key_password.is_some(),
            with_pfx: self.pfx.is_some(),
        }
    }

    /// The key type of `old`'s renewal.
    pub fn key_type_for(&self, old: &IssuedRecord) -> KeyType {
        self.key_type.unwrap_or(old.key)
    }
}

/// The file name (without extension) a renewal of `old` is written under: its CN made file-safe (the profile's
/// name when nothing is left), the first 8 digits of its serial, `-renewed`; with the whole serial when `taken`
/// holds that name already. Stable across runs, so a rerun finds what an interrupted one left.
pub fn file_name(old: &IssuedRecord, taken: &HashSet<String>) -> String {
    let base = match slug(&old.cn) {
        s if s.is_empty() => old.profile.to_string(),
        s => s,
    };
    let serial = old.serial.to_string();
    let short = format!("{base}-{}-renewed", &serial[..serial.len().min(8)]);
    match taken.contains(&short) {
        false => short,
        true => format!("{base}-{serial}-renewed"),
    }
}

/// Renews `due` (certificates expiring soon, as [`CaStore::expiring`] finds them) for the unlocked CA `ca`,
/// its lock held: each is decided again under the lock (revoked: never renewed; renewed already: skipped),
/// every output is checked to be free before any key is made, the rest are made on all cores and delivered
/// in groups, and a checkpoint is signed at the end. Each outcome goes to `each` in the order of `due`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    job: &RenewalJob<'_>,
    due: &[Entry],
    keys: &KeyPool,
    progress: &dyn Progress,
    each: &mut dyn FnMut(RenewalOutcome) -> Result<()>,
) -> Result<()> {
    certkit_ca::store::guard::check_output_dir(&job.out_dir)?;
    let now = OffsetDateTime::now_utc();
    let mut decided = Vec::with_capacity(due.len());
    let mut todo = Vec::new();
    let mut names = HashSet::new();
    let mut paths = Vec::new();
    let mut profiles = HashMap::new();
    for (index, old) in due.iter().enumerate() {
        // Found again under the lock: an overlapping run may have renewed or revoked it meanwhile.
        let old = with_certificate(store, store.find_serial(&old.issued.serial)?)?;
        let decision = decide(store, &old, false, now)?;
        if matches!(decision, Decision::Due) {
            let name = file_name(&old.issued, &names);
            let plan = job.plan(&name);
            names.insert(name);
            paths.extend(plan.paths());
            // Checked before any key is made: a record certkit cannot renew stops the run here.
            spec(
                &old.issued,
                job.validity,
                job.key_type_for(&old.issued),
                job.crl_url.clone(),
                profile_of(store, &old.issued, &mut profiles)?,
            )?;
            todo.push((index, plan));
        }
        decided.push((old, decision));
    }
    store.check_outputs_free(&paths)?;
    drop(paths);
    std::fs::create_dir_all(&job.out_dir)
        .map_err(|e| Error::io("create folder", &job.out_dir, e))?;
    let engine = Engine::new(Signer::Ca { store, ca, lock })?;
    let mut in_order = InOrder::default();
    for (index, (old, decision)) in decided.iter().enumerate() {
        if let Some(outcome) = settled_outcome(old, decision.clone()) {
            in_order.push(index, outcome, each)?;
        }
    }
    keys.want(
        todo.iter()
            .filter(|(i, _)| job.key_type_for(&decided[*i].0.issued) == keys.key_type())
            .count(),
    );
    let prepare = |i: usize| {
        let (index, plan) = &todo[i];
        let old = &decided[*index].0.issued;
        let key_type = job.key_type_for(old);
        let order = Order {
            spec: spec(
                old,
                job.validity,
                key_type,
                job.crl_url.clone(),
                old.profile_file
                    .as_ref()
                    .and_then(|name| profiles.get(name).cloned()),
            )?,
            key: SubjectKey::New(keys.take(key_type)?),
            plan: plan.clone(),
            key_password: job.key_password,
            pfx: job.pfx,
            renewal_of: Some(old.serial.clone()),
        };
        engine.prepare(order)
    };
    deliver_all(
        &engine,
        job.jobs,
        todo.len(),
        &prepare,
        progress,
        &mut |i, issued| {
            let index = todo[i].0;
            let mut old = decided[index].0.issued.clone();
            old.der = None;
            in_order.push(
                index,
                RenewalOutcome {
                    old,
                    new: Some(CertSummary::from(&issued.cert)),
                    status: RenewalStatus::Renewed,
                    files: issued.files,
                },
                each,
            )
        },
    )
}
