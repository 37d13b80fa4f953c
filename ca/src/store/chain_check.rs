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
        let mut store = X509StoreBuilder::new()?;
        store.add_cert(X509::from_der(&anchor.der)?)?;
        store.set_flags(X509VerifyFlags::X509_STRICT)?;
        let store = store.build();
        let mut untrusted = Stack::new()?;
        for cert in through {
            untrusted.push(X509::from_der(&cert.der)?)?;
        }
        let mut check = ChainCheck {
            anchor: anchor.thumbprint,
            through: through.iter().map(|c| c.thumbprint).collect(),
            checked: 0,
            verified: 0,
            failed: Vec::new(),
            outlive_ca: Vec::new(),
        };
        let filter = ListFilter {
            status: Some(super::records::Status::Valid),
            with_certificates: true,
            ..Default::default()
        };
        self.list(&filter, OffsetDateTime::now_utc(), &mut |entry| {
            let record = &entry.issued;
            // The CA's own certificates (renewals, cross-certificates) are not what clients present.
            if record.subject == anchor.subject {
                return Ok(true);
            }
            let Some(der) = record.cert_der() else {
                return Ok(true);
            };
            check.checked += 1;
            let leaf = X509::from_der(&der)?;
            let mut context = X509StoreContext::new()?;
            let (ok, why) = context.init(&store, &leaf, &untrusted, |c| {
                let ok = c.verify_cert()?;
                Ok((ok, c.error().error_string().to_string()))
            })?;
            if ok {
                check.verified += 1;
            } else {
                check.failed.push(ChainFailure {
                    serial: record.serial.clone(),
                    subject: record.subject.clone(),
                    why,
                });
            }
            if record.not_after > ca_ends {
                check.outlive_ca.push(record.serial.clone());
            }
            Ok(true)
        })?;
        Ok(check)
    }
}
