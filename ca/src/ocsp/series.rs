//! Signing a series of OCSP windows at one unlock (`certkit-ca ocsp`): for each window, one response for every
//! certificate the CA issued that has not expired by the window's start, in one file per window.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::response::{ResponseTemplate, Status};
use super::signing::{Signed, Subject, Work};
use super::window;
use crate::certinfo::IssuerCheck;
use crate::crl::{Scope, SeriesPlan};
use crate::dates::now_utc_seconds;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::signer::{CaKey, SigningCa};
use crate::store::inventory::{CrlSeries, Event, OcspRecord};
use crate::store::{CaStore, StoreLock};

/// One window that was signed and written.
#[derive(Debug)]
pub struct SignedWindow {
    /// Its file.
    pub path: PathBuf,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// How many responses.
    pub responses: usize,
    /// Of which revoked.
    pub revoked: usize,
}

/// A series that was signed and written.
#[derive(Debug)]
pub struct SignedSeries {
    /// When (every response's producedAt).
    pub produced_at: OffsetDateTime,
    /// Each window, in order.
    pub windows: Vec<SignedWindow>,
    /// What the user should know.
    pub warnings: Vec<String>,
}

/// Signs the windows of `plan` from now into `out_dir`: every window's responses are signed and staged, then
/// recorded in the log (one record per window, before any file is in place), then put in place. A run killed
/// before the records leaves nothing a responder reads; after them, whole files (each placed atomically) and a
/// rerun signs the series again.
pub fn sign_series(
    store: &CaStore,
    lock: &StoreLock,
    ca: &SigningCa,
    plan: &SeriesPlan,
    out_dir: &Path,
    scope: Scope,
) -> Result<SignedSeries> {
    let produced = now_utc_seconds()?;
    let windows = plan.windows(produced);
    let warnings = crate::crl::outlives_ca(&windows, &ca.cert, "last window")
        .into_iter()
        .collect();
    let template = ResponseTemplate::new(&ca.cert, ca.key_type)?;
    let absolute = std::path::absolute(out_dir).map_err(|e| Error::io("find", out_dir, e))?;
    let series = CrlSeries {
        count: plan.count,
        every_days: plan.every_days,
        overlap_days: plan.overlap_days,
        out_dir: absolute.to_string_lossy().into_owned(),
    };
    let mut staged = Vec::new();
    let mut records = Vec::new();
    let mut signed = Vec::new();
    // Each window is staged as soon as it is signed, while the next is being signed.
    let mut finish = |index: usize, window_signed: Signed| -> Result<()> {
        let window = &windows[index];
        let name = window::file_name(window.this_update, produced);
        let path = out_dir.join(&name);
        records.push(Event::Ocsp(OcspRecord {
            produced_at: produced,
            this_update: window.this_update,
            next_update: window.next_update,
            responses: window_signed.responses,
            revoked: window_signed.revoked,
            file: name,
            sha256: files::sha256_hex(&window_signed.bytes),
            series: series.clone(),
        }));
        staged.push(files::stage(&path, &window_signed.bytes, PUBLIC)?);
        signed.push(SignedWindow {
            path,
            this_update: window.this_update,
            next_update: window.next_update,
            responses: window_signed.responses,
            revoked: window_signed.revoked,
        });
        Ok(())
    };
    let work = Work {
        template: &template,
        windows: &windows,
        produced,
    };
    let list = Box::new(|each: &mut dyn FnMut(Subject) -> Result<()>| {
        subjects(store, ca, scope, produced, each)
    });
    match ca.issuer().key() {
        CaKey::File(pair) => {
            use rcgen::SigningKey;
            let sign = |tbs: &[u8]| {
                pair.sign(tbs)
                    .map_err(|e| Error::crypto("signing an OCSP response", e))
            };
            work.on_every_core(list, &sign, &mut finish)?;
        }
        key @ CaKey::Token(_) => {
            let sign = |tbs: &[u8]| key.sign_message(tbs, "signing an OCSP response");
            work.one_at_a_time(list, &sign, &mut finish)?;
        }
    }
    files::flush(&staged)?;
    // Recorded before any is in place (the write-ahead rule): every file a responder can read is in the log.
    store.append(lock, &records)?;
    for file in staged {
        file.place_over()?;
    }
    files::sync_folders(signed.iter().map(|w| w.path.as_path()))?;
    Ok(SignedSeries {
        produced_at: produced,
        windows: signed,
        warnings,
    })
}

/// Every certificate the CA issued (or, for `IssuedByThisKey`, its current key did) that has not expired by
/// `now`, with its status: what the log says, its revocations checked against the checkpoint. A certificate
/// recorded ahead of a delivery that never happened gets no response: nobody has it.
fn subjects(
    store: &CaStore,
    ca: &SigningCa,
    scope: Scope,
    now: OffsetDateTime,
    each: &mut dyn FnMut(Subject) -> Result<()>,
) -> Result<()> {
    let check = match scope {
        Scope::Everything => None,
        Scope::IssuedByThisKey => Some(IssuerCheck::new(&ca.cert)?),
    };
    let filter = crate::store::index::ListFilter {
        with_certificates: check.is_some(),
        ..Default::default()
    };
    store.list(&filter, now, &mut |entry| {
        if entry.issued.not_after < now || (!entry.delivered && entry.revoked.is_none()) {
            return Ok(true);
        }
        if let Some(check) = &check {
            let issued_here = entry
                .issued
                .cert_der()
                .is_some_and(|der| check.issued(&der));
            if !issued_here {
                return Ok(true);
            }
        }
        each(Subject {
            serial: entry.issued.serial.clone(),
            not_after: entry.issued.not_after,
            status: match &entry.revoked {
                Some(r) => Status::Revoked(r.revoked_at, r.reason),
                None => Status::Good,
            },
        })?;
        Ok(true)
    })
}
