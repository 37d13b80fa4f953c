//! An offline chain build of every valid certificate the CA issued against a CA certificate (and the
//! cross-certificates a client may be given), so that "nothing breaks" after a renewal or a re-key is checked,
//! not promised: openssl's verifier with RFC 5280's strict rules, the CA certificate as the only trust anchor.

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509StoreContext};
use serde::Serialize;
use time::OffsetDateTime;

use super::folder::CaStore;
use super::index::ListFilter;
use crate::certinfo::CertInfo;
use crate::error::Result;
use crate::serial::Serial;
use crate::thumbprint::Thumbprint;

/// What the chain build found.
#[derive(Debug, Clone, Serialize)]
pub struct ChainCheck {
    /// The CA certificate trusted.
    pub anchor: Thumbprint,
    /// The cross-certificates a path may go through.
    pub through: Vec<Thumbprint>,
    /// Valid certificates the CA issued (its own certificates aside).
    pub checked: usize,
    /// How many of them verify.
    pub verified: usize,
    /// Those that do not, and why.
    pub failed: Vec<ChainFailure>,
    /// Valid certificates that end after the CA certificate clients will trust does: they stop verifying
    /// when it ends.
    pub outlive_ca: Vec<Serial>,
}

/// A certificate the chain build refused.
#[derive(Debug, Clone, Serialize)]
pub struct ChainFailure {
    /// Its serial.
    pub serial: Serial,
    /// Its subject.
    pub subject: String,
    /// openssl's reason.
    pub why: String,
}

impl CaStore {
    /// Builds the chain of every certificate valid now from `anchor` (the only trust anchor) through
    /// `through`, as a client trusting only `anchor` would; those that end after `ca_ends` (when the CA
    /// certificate clients will trust ends) are named.
    pub fn check_chains(
        &self,
        anchor: &CertInfo,
        through: &[CertInfo],
        ca_ends: OffsetDateTime,
    ) -> Result<ChainCheck> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (to_check, chunks) = std::sync::mpsc::sync_channel::<Vec<Leaf>>(2 * workers);
        let chunks = std::sync::Mutex::new(chunks);
        let filter = ListFilter {
            status: Some(super::records::Status::Valid),
            with_certificates: true,
            ..Default::default()
        };
        let (listed, found) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| scope.spawn(|| verify_chunks(anchor, through, ca_ends, &chunks)))
                .collect();
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut index = 0;
            let listed = self.list(&filter, OffsetDateTime::now_utc(), &mut |entry| {
                let record = entry.issued;
                // The CA's own certificates (renewals, cross-certificates) are not what clients present.
                if record.subject == anchor.subject {
                    return Ok(true);
                }
                let Some(der) = record.cert_der() else {
                    return Ok(true);
                };
                chunk.push(Leaf {
                    index,
                    serial: record.serial,
                    subject: record.subject,
                    not_after: record.not_after,
                    der,
                });
                index += 1;
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if to_check.send(full).is_err() {
                        return Ok(false);
                    }
                }
                Ok(true)
            });
            if !chunk.is_empty() {
                let _ = to_check.send(chunk);
            }
            drop(to_check);
            let found: Vec<Result<Found>> = handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or(Err(crate::error::Error::Bug(
                        "a chain check thread panicked",
                    )))
                })
                .collect();
            (listed, found)
        });
        listed?;
        let mut all = Found::default();
        for part in found {
            let part = part?;
            all.checked += part.checked;
            all.verified += part.verified;
            all.failed.extend(part.failed);
            all.outlive.extend(part.outlive);
        }
        // In the listing's order (newest first), whichever thread checked them.
        all.failed.sort_by_key(|(i, _)| *i);
        all.outlive.sort_by_key(|(i, _)| *i);
        Ok(ChainCheck {
            anchor: anchor.thumbprint,
            through: through.iter().map(|c| c.thumbprint).collect(),
            checked: all.checked,
            verified: all.verified,
            failed: all.failed.into_iter().map(|(_, f)| f).collect(),
            outlive_ca: all.outlive.into_iter().map(|(_, s)| s).collect(),
        })
    }
}

/// Certificates a thread checks at a time.
const CHUNK: usize = 256;

/// A valid certificate to check, with its place in the listing.
struct Leaf {
    index: usize,
    serial: Serial,
    subject: String,
    not_after: OffsetDateTime,
    der: Vec<u8>,
}

/// What one thread found.
#[derive(Default)]
struct Found {
    checked: usize,
    verified: usize,
    failed: Vec<(usize, ChainFailure)>,
    outlive: Vec<(usize, Serial)>,
}

/// Checks the chunks it takes from `chunks` until there are none, with its own store of `anchor`.
fn verify_chunks(
    anchor: &CertInfo,
    through: &[CertInfo],
    ca_ends: OffsetDateTime,
    chunks: &std::sync::Mutex<std::sync::mpsc::Receiver<Vec<Leaf>>>,
) -> Result<Found> {
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(X509::from_der(&anchor.der)?)?;
    store.set_flags(X509VerifyFlags::X509_STRICT)?;
    let store = store.build();
    let mut untrusted = Stack::new()?;
    for cert in through {
        untrusted.push(X509::from_der(&cert.der)?)?;
    }
    let mut found = Found::default();
    loop {
        let next = chunks
            .lock()
            .map_err(|_| crate::error::Error::Bug("a chain check thread panicked"))?
            .recv();
        let Ok(chunk) = next else {
            return Ok(found);
        };
        for leaf in chunk {
            found.checked += 1;
            let cert = X509::from_der(&leaf.der)?;
            let mut context = X509StoreContext::new()?;
            let (ok, why) = context.init(&store, &cert, &untrusted, |c| {
                let ok = c.verify_cert()?;
                Ok((ok, c.error().error_string().to_string()))
            })?;
            if ok {
                found.verified += 1;
            } else {
                found.failed.push((
                    leaf.index,
                    ChainFailure {
                        serial: leaf.serial.clone(),
                        subject: leaf.subject,
                        why,
                    },
                ));
            }
            if leaf.not_after > ca_ends {
                found.outlive.push((leaf.index, leaf.serial));
            }
        }
    }
}
