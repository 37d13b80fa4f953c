//! Revocation: marking certificates revoked and signing CRLs, one at a time or a series ahead.

pub mod publish;

use std::path::{Path, PathBuf};

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};

use crate::certinfo::CertInfo;
use crate::dates::{now_utc_seconds, rfc3339};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::serial::Serial;
use crate::signer::SigningCa;
use crate::store::inventory::{
    CrlRecord, CrlSeries, Entry, Event, RevocationReason, RevokedRecord,
};
use crate::store::{self, CaStore, StoreLock};

/// Default CRL lifetime: a month, so a monthly publishing job never leaves clients with an expired CRL.
pub const DEFAULT_CRL_DAYS: u32 = 30;

/// Records the revocation of `entry`; revoking twice is an error. The caller holds the lock (and found `entry`
/// under it, e.g. with [`CaStore::find`]).
pub fn revoke(
    store: &CaStore,
    lock: &StoreLock,
    entry: &Entry,
    reason: RevocationReason,
) -> Result<RevokedRecord> {
    if let Some(previous) = &entry.revoked {
        return Err(Error::BadInput(format!(
            "{} ({}) was already revoked on {} ({}); nothing changed",
            entry.issued.serial,
            entry.issued.subject,
            rfc3339(previous.revoked_at),
            previous.reason
        )));
    }
    let record = RevokedRecord {
        serial: entry.issued.serial.clone(),
        revoked_at: now_utc_seconds()?,
        reason,
    };
    store.append(lock, &[Event::Revoked(record.clone())])?;
    Ok(record)
}

fn rcgen_reason(reason: RevocationReason) -> rcgen::RevocationReason {
    match reason {
        RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
        RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
        RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
        RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
        RevocationReason::CaCompromise => rcgen::RevocationReason::CaCompromise,
        RevocationReason::CertificateHold => rcgen::RevocationReason::CertificateHold,
    }
}

/// The most CRLs one series may hold: a year of daily CRLs, or thirty years of monthly ones.
pub const MAX_SERIES: u32 = 366;

/// Days a CRL of a series stays valid past the next one's thisUpdate, unless `--overlap` says otherwise: a day
/// for whoever publishes them (`certkit-ca crl publish`, from cron) to put the next one in place.
pub const DEFAULT_OVERLAP_DAYS: u32 = 1;

/// When a CRL is current: from thisUpdate to nextUpdate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
}

/// A series of CRLs to sign at one unlock (`crl --series N --every DAYS --overlap DAYS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesPlan {
    /// How many CRLs.
    pub count: u32,
    /// Days from one CRL's thisUpdate to the next one's.
    pub every_days: u32,
    /// Days each stays valid past the next one's thisUpdate.
    pub overlap_days: u32,
}

impl SeriesPlan {
    /// A checked plan: 1 to [`MAX_SERIES`] CRLs, each window within a hundred years.
    pub fn new(count: u32, every_days: u32, overlap_days: u32) -> Result<SeriesPlan> {
        Self::of("CRLs", count, every_days, overlap_days)
    }

    /// [`SeriesPlan::new`] for a series of `what` (CRLs, OCSP windows), as messages name them.
    pub fn of(what: &str, count: u32, every_days: u32, overlap_days: u32) -> Result<SeriesPlan> {
        if count == 0 || count > MAX_SERIES {
            return Err(Error::BadInput(format!(
                "--series {count} is out of range: sign 1 to {MAX_SERIES} {what} at once"
            )));
        }
        crate::dates::check_days("--every", every_days, what)?;
        let span = u64::from(count) * u64::from(every_days) + u64::from(overlap_days);
        if span > u64::from(crate::dates::MAX_DAYS) {
            return Err(Error::BadInput(format!(
                "--series {count} --every {every_days} --overlap {overlap_days} reaches {span} days ahead; keep a series within {} days (a hundred years)",
                crate::dates::MAX_DAYS
            )));
        }
        Ok(SeriesPlan {
            count,
            every_days,
            overlap_days,
        })
    }

    /// The windows from `start`: CRL i from start + i*every to that + every + overlap.
    pub fn windows(&self, start: OffsetDateTime) -> Vec<Window> {
        let every = Duration::days(self.every_days.into());
        let length = every + Duration::days(self.overlap_days.into());
        (0..self.count)
            .map(|i| {
                let this_update = start + every * i;
                Window {
                    this_update,
                    next_update: this_update + length,
                }
            })
            .collect()
    }
}

/// The warning that the last of `windows` (`what`: "CRL", "last window") runs past the end of the CA `ca`,
/// whose signatures then prove nothing.
pub fn outlives_ca(windows: &[Window], ca: &CertInfo, what: &str) -> Option<String> {
    let last = windows.last()?;
    (last.next_update > ca.not_after).then(|| {
        format!(
            "the {what}'s nextUpdate ({}) is after the CA expires ({})",
            rfc3339(last.next_update),
            rfc3339(ca.not_after)
        )
    })
}

/// A CRL that was signed and written.
#[derive(Debug)]
pub struct Signed {
    /// Where.
    pub path: PathBuf,
    /// Its CRL number.
    pub number: u64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Serials listed.
    pub serials: Vec<Serial>,
}

/// CRLs that were signed and written, with what the user should know (e.g. they outlive the CA).
#[derive(Debug)]
pub struct SignedCrls {
    /// Each CRL, in order of CRL number.
    pub crls: Vec<Signed>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

/// Signs a CRL v2 valid for `days` from now, listing every revoked, not yet expired certificate, with the next
/// CRL number, and writes it (replacing the previous CRL at `out` atomically: a CRL is republished, not
/// archived).
pub fn sign(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    days: u32,
    out: &Path,
    pem: bool,
) -> Result<SignedCrls> {
    sign_for(store, lock, ca, days, out, pem, Scope::Everything)
}

/// Which revoked certificates a CRL lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every one (a CA that has had one key).
    Everything,
    /// Those the signing key issued (a re-keyed CA signs one CRL per key).
    IssuedByThisKey,
}

/// [`sign`], listing the revoked certificates `scope` says.
pub fn sign_for(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    days: u32,
    out: &Path,
    pem: bool,
    scope: Scope,
) -> Result<SignedCrls> {
    if days == 0 {
        return Err(Error::BadInput(
            "--days 0 gives a CRL that is already out of date; use 1 or more".into(),
        ));
    }
    crate::dates::check_days("--days", days, "a CRL")?;
    let now = now_utc_seconds()?;
    let window = Window {
        this_update: now,
        next_update: now + Duration::days(days.into()),
    };
    sign_windows(store, lock, ca, &[window], None, (pem, scope), |_, _| {
        out.to_path_buf()
    })
}

/// Signs the CRLs of `plan` from now, each listing every certificate revoked now that has not expired by its
/// thisUpdate, with increasing CRL numbers, and writes them into `out_dir` under names that say when each
/// becomes current (`ca-2027-01-01T120000Z-12.crl`). Recorded in the log, one record each, before any is
/// written.
pub fn sign_series(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    plan: &SeriesPlan,
    out_dir: &Path,
    pem: bool,
    scope: Scope,
) -> Result<SignedCrls> {
    let now = now_utc_seconds()?;
    let absolute = std::path::absolute(out_dir).map_err(|e| Error::io("find", out_dir, e))?;
    let series = CrlSeries {
        count: plan.count,
        every_days: plan.every_days,
        overlap_days: plan.overlap_days,
        out_dir: absolute.to_string_lossy().into_owned(),
    };
    let windows = plan.windows(now);
    sign_windows(
        store,
        lock,
        ca,
        &windows,
        Some(series),
        (pem, scope),
        |window, number| out_dir.join(series_file_name(window.this_update, number, pem)),
    )
}

/// The file name of a CRL of a series: when it becomes current, then its number.
pub fn series_file_name(this_update: OffsetDateTime, number: u64, pem: bool) -> String {
    format!(
        "ca-{:04}-{:02}-{:02}T{:02}{:02}{:02}Z-{number}.{}",
        this_update.year(),
        u8::from(this_update.month()),
        this_update.day(),
        this_update.hour(),
        this_update.minute(),
        this_update.second(),
        if pem { "crl.pem" } else { "crl" }
    )
}

/// Signs one CRL per window with consecutive numbers after the last one used, records them all, stores the
/// last number, then writes each where `target` says.
fn sign_windows(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    windows: &[Window],
    series: Option<CrlSeries>,
    (pem, scope): (bool, Scope),
    target: impl Fn(&Window, u64) -> PathBuf,
) -> Result<SignedCrls> {
    let warnings: Vec<String> = outlives_ca(windows, &ca.cert, "CRL").into_iter().collect();
    // What is revoked comes from the index, checked against the checkpoint, each record read again from the
    // log: the cost is the number of revoked certificates, not of issued ones.
    let mut revoked: Vec<(RevokedRecord, OffsetDateTime)> = Vec::new();
    for entry in store.revoked()? {
        if scope == Scope::IssuedByThisKey {
            let issued_here = match store.record_certificate(&entry)? {
                Some(der) => CertInfo::from_der(&der, &store.path(store::INVENTORY))?
                    .is_signed_by_key(&ca.cert.spki_der)?,
                None => false,
            };
            if !issued_here {
                continue;
            }
        }
        if let Some(r) = entry.revoked {
            revoked.push((r, entry.issued.not_after));
        }
    }
    let number_path = store.path(store::CRL_NUMBER);
    let last_file: u64 = match std::fs::read_to_string(&number_path) {
        Ok(text) => text.trim().parse().map_err(|_| {
            Error::malformed(&number_path, "damaged CRL number; restore it from a backup")
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(Error::io("read", &number_path, e)),
    };
    // The log is the record of every CRL signed; crlnumber keeps the count of CRLs older than that record.
    let last_recorded = store
        .with_index(|index| index.last_crl_number())?
        .unwrap_or(0);
    let first = last_file.max(last_recorded);
    let ski = ca.cert.subject_key_id.clone().ok_or_else(|| {
        Error::CaUnusable(
            "the CA certificate has no subject key identifier, which a CRL's AKI needs".into(),
        )
    })?;
    let mut signed = Vec::new();
    let mut records = Vec::new();
    let mut ders = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let number = first.checked_add(i as u64 + 1).ok_or_else(|| {
            Error::malformed(&number_path, "the CRL number cannot grow any further")
        })?;
        // A certificate that has expired by the CRL's thisUpdate need not be listed (RFC 5280 5.1.2.6).
        let listed: Vec<&(RevokedRecord, OffsetDateTime)> = revoked
            .iter()
            .filter(|(_, not_after)| *not_after >= window.this_update)
            .collect();
        let params = CertificateRevocationListParams {
            this_update: window.this_update,
            next_update: window.next_update,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: listed
                .iter()
                .map(|(r, _)| RevokedCertParams {
                    serial_number: r.serial.to_rcgen(),
                    revocation_time: r.revoked_at,
                    reason_code: Some(rcgen_reason(r.reason)),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(ski.clone()),
        };
        let crl = params
            .signed_by(ca.issuer())
            .map_err(|e| ca.issuer().key().explain(e, "signing the CRL"))?;
        records.push(Event::Crl(CrlRecord {
            number,
            this_update: window.this_update,
            next_update: window.next_update,
            revoked: listed.len(),
            sha256: files::sha256_hex(crl.der()),
            series: series.clone(),
        }));
        let bytes = if pem {
            crate::certinfo::pem_encode("X509 CRL", crl.der()).into_bytes()
        } else {
            crl.der().to_vec()
        };
        ders.push(bytes);
        signed.push(Signed {
            path: target(window, number),
            number,
            this_update: window.this_update,
            next_update: window.next_update,
            serials: listed.iter().map(|(r, _)| r.serial.clone()).collect(),
        });
    }
    let Some(last) = signed.last() else {
        return Err(Error::Bug("no CRL window was asked for"));
    };
    for crl in &signed {
        refuse_rollback(store, &crl.path, crl.number)?;
    }
    // Recorded before they are written anywhere (the write-ahead rule), then the number is stored: a failure
    // can skip numbers but never reuse one.
    store.append(lock, &records)?;
    files::replace(
        &number_path,
        format!("{}\n", last.number).as_bytes(),
        PUBLIC,
    )?;
    for (crl, bytes) in signed.iter().zip(&ders) {
        files::replace(&crl.path, bytes, PUBLIC)?;
    }
    Ok(SignedCrls {
        crls: signed,
        warnings,
    })
}

/// Refuses to put CRL number `number` where a CRL with that number or a higher one is (through a link, at
/// its target): clients would take the older list, a revoked certificate would be valid again, and the
/// evidence of the rollback (`audit --crl`) would be gone. That happens when the CA folder is older than
/// what it published: restored from a backup, or rolled back to an older copy.
fn refuse_rollback(store: &CaStore, path: &Path, number: u64) -> Result<()> {
    let target = store::guard::resolve(path);
    if target.symlink_metadata().is_err() {
        return Ok(());
    }
    let Ok(existing) = crate::crl_file::CrlFile::read(&target) else {
        // Not a CRL: the callers refuse to replace what is not this CA's CRL.
        return Ok(());
    };
    match existing.number {
        Some(there) if there >= number => Err(Error::Failed(format!(
            "{} holds CRL number {there}, and this CA would sign number {number}: the CA folder is older than the CRL it published (restored from a backup, or rolled back?); nothing was written. Check it with \"certkit-ca audit --ca {} --crl {}\" and never publish an older CRL over a newer one",
            path.display(),
            store.dir().display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Where `certkit-ca crl` writes by default: `DIR/ca.crl` (DER) or `DIR/ca.crl.pem`.
pub fn default_path(store: &CaStore, pem: bool) -> PathBuf {
    store.path(if pem { "ca.crl.pem" } else { "ca.crl" })
}
