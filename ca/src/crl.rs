//! Revocation: marking certificates revoked and publishing CRLs signed by the CA.

use std::path::{Path, PathBuf};

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};

use crate::dates::{now_utc_seconds, rfc3339};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::serial::Serial;
use crate::signer::SigningCa;
use crate::store::inventory::{CrlRecord, Entry, Event, RevocationReason, RevokedRecord};
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
    }
}

/// A CRL that was written.
#[derive(Debug)]
pub struct Published {
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
    /// Things the user should know (e.g. the CRL outlives the CA).
    pub warnings: Vec<String>,
}

/// Signs a CRL v2 listing every revoked, not yet expired certificate, with the next CRL number, and writes it
/// (replacing the previous CRL at `out` atomically: a CRL is republished, not archived).
pub fn publish(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    days: u32,
    out: &Path,
    pem: bool,
) -> Result<Published> {
    if days == 0 {
        return Err(Error::BadInput(
            "--days 0 gives a CRL that is already out of date; use 1 or more".into(),
        ));
    }
    crate::dates::check_days("--days", days, "a CRL")?;
    let now = now_utc_seconds()?;
    let next_update = now + Duration::days(days.into());
    let mut warnings = Vec::new();
    if next_update > ca.cert.not_after {
        warnings.push(format!(
            "the CRL's nextUpdate ({}) is after the CA expires ({})",
            rfc3339(next_update),
            rfc3339(ca.cert.not_after)
        ));
    }
    // What is revoked comes from the index, checked against the checkpoint, each record read again from the
    // log: the cost is the number of revoked certificates, not of issued ones.
    let mut revoked = Vec::new();
    let mut serials = Vec::new();
    for entry in store.revoked()? {
        if let Some(r) = &entry.revoked
            && entry.issued.not_after >= now
        {
            revoked.push(RevokedCertParams {
                serial_number: entry.issued.serial.to_rcgen(),
                revocation_time: r.revoked_at,
                reason_code: Some(rcgen_reason(r.reason)),
                invalidity_date: None,
            });
            serials.push(entry.issued.serial.clone());
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
    let number = last_file
        .max(last_recorded)
        .checked_add(1)
        .ok_or_else(|| Error::malformed(&number_path, "the CRL number cannot grow any further"))?;
    let ski = ca.cert.subject_key_id.clone().ok_or_else(|| {
        Error::CaUnusable(
            "the CA certificate has no subject key identifier, which a CRL's AKI needs".into(),
        )
    })?;
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update,
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::PreSpecified(ski),
    };
    let crl = params
        .signed_by(ca.issuer())
        .map_err(|e| ca.issuer().key().explain(e, "signing the CRL"))?;
    // Recorded before it is written anywhere (the write-ahead rule), then the number is stored: a failure can
    // skip a number but never reuse one.
    store.append(
        lock,
        &[Event::Crl(CrlRecord {
            number,
            this_update: now,
            next_update,
            revoked: serials.len(),
            sha256: files::sha256_hex(crl.der()),
        })],
    )?;
    files::replace(&number_path, format!("{number}\n").as_bytes(), PUBLIC)?;
    let bytes = if pem {
        crate::certinfo::pem_encode("X509 CRL", crl.der())
    } else {
        String::new()
    };
    let data: &[u8] = if pem { bytes.as_bytes() } else { crl.der() };
    files::replace(out, data, PUBLIC)?;
    Ok(Published {
        path: out.to_path_buf(),
        number,
        this_update: now,
        next_update,
        serials,
        warnings,
    })
}

/// Where `certkit-ca crl` writes by default: `DIR/ca.crl` (DER) or `DIR/ca.crl.pem`.
pub fn default_path(store: &CaStore, pem: bool) -> PathBuf {
    store.path(if pem { "ca.crl.pem" } else { "ca.crl" })
}
