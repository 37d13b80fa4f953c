//! A CRL as certkit reads one back (a published CRL, one of a pre-signed series, one given to `status` or
//! `audit`): its number, its window, its issuer, what it lists, and whether a CA certificate signed it.

use std::path::Path;

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::serial::Serial;

/// One CRL, DER or PEM.
#[derive(Clone, Debug)]
pub struct CrlFile {
    /// Its DER bytes.
    pub der: Vec<u8>,
    /// Its CRL number (None when it has none, or one past 2^64).
    pub number: Option<u64>,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate (None when it has none: clients cannot tell when it is stale).
    pub next_update: Option<OffsetDateTime>,
    /// The serials it lists.
    pub revoked: Vec<Serial>,
    /// Its issuer name, DER.
    issuer_der: Vec<u8>,
}

impl CrlFile {
    /// Parses a CRL from DER or PEM (`X509 CRL` block) bytes; the error says what is wrong.
    pub fn parse(bytes: &[u8]) -> std::result::Result<CrlFile, &'static str> {
        let der = if bytes.first() == Some(&0x30) {
            bytes.to_vec()
        } else {
            let (_, pem) = x509_parser::pem::parse_x509_pem(bytes)
                .map_err(|_| "neither a DER CRL nor PEM text")?;
            if pem.label != "X509 CRL" {
                return Err("the PEM block is not an X509 CRL");
            }
            pem.contents
        };
        let (rest, crl) =
            CertificateRevocationList::from_der(&der).map_err(|_| "not a valid X.509 CRL")?;
        if !rest.is_empty() {
            return Err("bytes follow the CRL");
        }
        let number = crl.crl_number().and_then(|n| u64::try_from(n.clone()).ok());
        let this_update = crl.last_update().to_datetime();
        let next_update = crl.next_update().map(|t| t.to_datetime());
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| Serial::from_der_integer(r.raw_serial()))
            .collect();
        let issuer_der = crl.issuer().as_raw().to_vec();
        Ok(CrlFile {
            number,
            this_update,
            next_update,
            revoked,
            issuer_der,
            der,
        })
    }

    /// Reads and parses the CRL at `path`.
    pub fn read(path: &Path) -> Result<CrlFile> {
        let bytes = crate::files::read(path)?;
        CrlFile::parse(&bytes).map_err(|what| Error::malformed(path, what))
    }

    /// Whether `ca` issued this CRL: the issuer is the CA's subject, byte for byte, and the CA's key signed it.
    pub fn signed_by(&self, ca: &CertInfo) -> bool {
        let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(&ca.der) else {
            return false;
        };
        if cert.subject().as_raw() != self.issuer_der.as_slice() {
            return false;
        }
        let (Ok(crl), Ok(key)) = (
            openssl::x509::X509Crl::from_der(&self.der),
            openssl::pkey::PKey::public_key_from_der(&ca.spki_der),
        ) else {
            return false;
        };
        crl.verify(&key).unwrap_or(false)
    }

    /// Whether it is current at `at`: thisUpdate reached and nextUpdate not yet.
    pub fn current_at(&self, at: OffsetDateTime) -> bool {
        self.this_update <= at && self.next_update.is_some_and(|next| at < next)
    }
}
