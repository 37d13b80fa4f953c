//! Finishing what an interrupted re-key recorded (run by every command that takes the lock): a cross-certificate
//! between two keys the CA took is kept in `history/`; one for a key the CA never took is revoked, so no valid CA
//! certificate is left for a key the CA does not track.

use std::path::PathBuf;

use super::folder::{CaStore, StoreLock};
use super::layout::*;
use super::records::Entry;
use super::rekey::{make_folder, write_or_keep};
use crate::certinfo::CertInfo;
use crate::error::Result;
use crate::files::PUBLIC;
use crate::profile::Profile;

/// What finishes a CA certificate an interrupted re-key recorded but did not keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
    /// A cross-certificate between keys the CA took: kept in `history/`.
    Keep,
    /// A certificate for a key the CA never took: revoked.
    Revoke,
}

impl CaStore {
    /// The CA certificates an interrupted re-key recorded and did not finish: CA certificates with the CA's
    /// subject, not revoked, not `ca.pem`, each with what finishes it. A cross-certificate between two keys
    /// the CA took that is not in `history/` (killed between its record and its copy) is kept there; one for a
    /// key the CA never took (killed after recording "new key signed by the old", before the new key's own
    /// certificate was recorded) is a valid CA certificate for a key the CA does not track, and is revoked.
    pub fn unfinished_cross_certificates(&self) -> Result<Vec<(Entry, CertInfo, Unfinished)>> {
        let current = self.cert()?;
        let lineage = self.lineage()?;
        let now = time::OffsetDateTime::now_utc();
        let mut found = Vec::new();
        let mut candidates = Vec::new();
        self.list(
            &super::index::ListFilter {
                profile: Some(Profile::Ca),
                ..Default::default()
            },
            now,
            &mut |entry| {
                candidates.push(entry);
                Ok(true)
            },
        )?;
        // A key the CA took has its own (self-signed) certificate: ca.pem, or one in history/.
        let taken = |spki: &[u8]| {
            lineage
                .certs
                .iter()
                .chain(std::iter::once(&current))
                .any(|c| {
                    c.spki_der == spki
                        && c.issuer == c.subject
                        && c.is_signed_by_key(&c.spki_der).unwrap_or(false)
                })
        };
        for entry in candidates {
            if entry.revoked.is_some() {
                continue;
            }
            let Some(der) = self.record_certificate(&entry)? else {
                continue;
            };
            let Ok(cert) = CertInfo::from_der(&der, &self.path(INVENTORY)) else {
                continue;
            };
            if cert.subject != current.subject || cert.der == current.der || cert.not_after <= now {
                continue;
            }
            if !taken(&cert.spki_der) {
                // Kept in history/ or not: nothing may endorse a key the CA never took.
                found.push((entry, cert, Unfinished::Revoke));
            } else if !self.history_copy(&cert).is_file()
                && lineage
                    .keys
                    .iter()
                    .any(|k| cert.is_signed_by_key(k).unwrap_or(false))
            {
                found.push((entry, cert, Unfinished::Keep));
            }
        }
        Ok(found)
    }

    /// Where `history/` keeps a certificate of the CA.
    fn history_copy(&self, cert: &CertInfo) -> PathBuf {
        self.path(HISTORY_DIR).join(format!("{}.cer", cert.serial))
    }

    /// Finishes or undoes what [`CaStore::unfinished_cross_certificates`] finds: kept in `history/` (and
    /// marked delivered), or recorded revoked (superseded) so that the next CRL of the key that signed it lists
    /// it. Returns how many of each.
    pub(super) fn finish_cross_certificates(&self, lock: &StoreLock) -> Result<(usize, usize)> {
        if self.settings_file()?.binding.is_none() {
            // Never renewed nor re-keyed: nothing to finish.
            return Ok((0, 0));
        }
        let unfinished = self.unfinished_cross_certificates()?;
        if unfinished.is_empty() {
            return Ok((0, 0));
        }
        let now = crate::dates::now_utc_seconds()?;
        let mut events = Vec::new();
        let (mut kept, mut revoked) = (0, 0);
        for (entry, cert, what) in unfinished {
            match what {
                Unfinished::Keep => {
                    make_folder(&self.path(HISTORY_DIR))?;
                    write_or_keep(&self.history_copy(&cert), &cert.der, PUBLIC)?;
                    if !entry.delivered {
                        events.push(super::inventory::Event::Delivered(
                            super::inventory::DeliveredRecord {
                                serial: entry.issued.serial.clone(),
                            },
                        ));
                    }
                    kept += 1;
                }
                Unfinished::Revoke => {
                    events.push(super::inventory::Event::Revoked(
                        super::inventory::RevokedRecord {
                            serial: entry.issued.serial.clone(),
                            revoked_at: now,
                            reason: super::inventory::RevocationReason::Superseded,
                        },
                    ));
                    revoked += 1;
                }
            }
        }
        if !events.is_empty() {
            self.append(lock, &events)?;
        }
        Ok((kept, revoked))
    }
}
