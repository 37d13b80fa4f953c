//! The CA's lineage: its first certificate (the one the inventory is bound to) and every key that certificate's
//! key endorsed since, through a renewal (the same key) or a re-key (a cross-certificate: the new key certified
//! by an endorsed one). The folder keeps them in `history/`; an intruder can delete from it (the lineage then
//! breaks, loudly) but cannot add a key to it without a CA key.

use std::path::Path;

use super::folder::CaStore;
use super::inventory::ca_binding;
use super::layout::{CA_PEM, HISTORY_DIR, TEMP_PREFIX};
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};

/// The CA's certificates and keys over its life.
#[derive(Clone, Debug)]
pub struct Lineage {
    /// The CA's first certificate.
    pub first: CertInfo,
    /// Every certificate of the CA the folder keeps that an endorsed key signed (`ca.pem` and `history/`),
    /// oldest first: earlier CA certificates, renewals, and cross-certificates.
    pub certs: Vec<CertInfo>,
    /// The endorsed keys (SubjectPublicKeyInfo DER): the first certificate's, then each key a cross-certificate
    /// brought in, in that order.
    pub keys: Vec<Vec<u8>>,
}

impl Lineage {
    /// The lineage of a CA whose only known key is `current`'s (when the folder's own lineage is broken).
    pub fn of_current(current: &CertInfo) -> Self {
        Lineage {
            first: current.clone(),
            certs: vec![current.clone()],
            keys: vec![current.spki_der.clone()],
        }
    }

    /// True if `spki_der` is one of the CA's keys.
    pub fn endorses_key(&self, spki_der: &[u8]) -> bool {
        self.keys.iter().any(|k| k == spki_der)
    }

    /// The self-signed certificate of the CA key `spki_der` with the latest end: the certificate that key
    /// signs under.
    pub fn cert_of_key(&self, spki_der: &[u8]) -> Option<&CertInfo> {
        self.certs
            .iter()
            .filter(|c| {
                c.spki_der == spki_der
                    && (c.authority_key_id.is_none() || c.authority_key_id == c.subject_key_id)
            })
            .max_by_key(|c| c.not_after)
    }

    /// True if one of the CA's keys signed `checkpoint`.
    pub fn signed(&self, checkpoint: &super::checkpoint::Checkpoint) -> Result<bool> {
        for key in &self.keys {
            if checkpoint.verify(key)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The cross-certificates that lead from what an earlier key signed to a later key: each certifies an
    /// earlier key under a later one. A client that trusts only the CA's current certificate verifies what
    /// every earlier key signed through them (the other direction is left out, so a path never turns back).
    pub fn cross_certificates_forward(&self) -> Result<Vec<CertInfo>> {
        let position = |key: &[u8]| self.keys.iter().position(|k| k == key);
        let mut forward = Vec::new();
        for cert in &self.certs {
            let Some(signer) = self.signer_of(cert)? else {
                continue;
            };
            if let (Some(by), Some(of)) = (position(signer), position(&cert.spki_der))
                && by > of
            {
                forward.push(cert.clone());
            }
        }
        Ok(forward)
    }

    /// The CA key that signed `cert`, if one did.
    pub fn signer_of(&self, cert: &CertInfo) -> Result<Option<&[u8]>> {
        for key in &self.keys {
            if cert.is_signed_by_key(key)? {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }
}

impl CaStore {
    /// The CA's lineage from `ca.pem` and `history/`; fails when the first certificate cannot be found (`history/`
    /// lost it) or `ca.pem`'s key is not one the first certificate's key endorsed.
    pub fn lineage(&self) -> Result<Lineage> {
        let current = self.cert()?;
        let binding = self.binding()?;
        let mut candidates = vec![current.clone()];
        candidates.extend(self.history()?);
        candidates.sort_by_key(|c| c.not_before);
        let Some(first) = candidates
            .iter()
            .find(|c| ca_binding(&c.der) == binding)
            .cloned()
        else {
            return Err(Error::CaUnusable(format!(
                "the CA's first certificate (SHA-256 {binding}, which the inventory is bound to) is neither {} nor in {}: restore {} from a backup",
                CA_PEM,
                self.path(HISTORY_DIR).display(),
                HISTORY_DIR
            )));
        };
        let mut lineage = Lineage {
            keys: vec![first.spki_der.clone()],
            certs: vec![first.clone()],
            first,
        };
        // Each pass endorses what an endorsed key signed; a key brought in may endorse more.
        loop {
            let mut grew = false;
            for cert in &candidates {
                if lineage.certs.iter().any(|c| c.der == cert.der)
                    || cert.subject != lineage.first.subject
                    || cert.issuer != lineage.first.subject
                    || !cert.is_ca
                    || lineage.signer_of(cert)?.is_none()
                {
                    continue;
                }
                if !lineage.endorses_key(&cert.spki_der) {
                    lineage.keys.push(cert.spki_der.clone());
                }
                lineage.certs.push(cert.clone());
                grew = true;
            }
            if !grew {
                break;
            }
        }
        lineage.certs.sort_by_key(|c| c.not_before);
        if !lineage.endorses_key(&current.spki_der) {
            return Err(Error::CaUnusable(format!(
                "{}'s key is not the CA's (neither its first certificate's key nor one a cross-certificate in {}/ brings in): the CA certificate was replaced; restore it from a backup",
                self.path(CA_PEM).display(),
                HISTORY_DIR
            )));
        }
        Ok(lineage)
    }

    /// The certificates in `history/` (unreadable files are passed over: they endorse nothing).
    pub fn history(&self) -> Result<Vec<CertInfo>> {
        let dir = self.path(HISTORY_DIR);
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read folder", &dir, e)),
        };
        let mut certs = Vec::new();
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) || !name.ends_with(".cer") {
                continue;
            }
            if let Ok(der) = std::fs::read(entry.path())
                && let Ok(cert) = CertInfo::from_der(&der, Path::new(&name))
            {
                certs.push(cert);
            }
        }
        Ok(certs)
    }
}
