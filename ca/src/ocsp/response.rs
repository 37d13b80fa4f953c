//! Building, signing and checking OCSP responses (RFC 6960 4.2, RFC 5019 2.2): a BasicOCSPResponse the CA
//! signs itself (responder ID by key hash, no certificates: the CA's certificate is what the client trusts),
//! one SingleResponse per CertID hash (SHA-1, as every client asks, and SHA-256), each saying `good` or
//! `revoked` with the time and reason.

use der::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::serial_number::SerialNumber;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::certinfo::CertInfo;
use crate::crl::Window;
use crate::error::{Error, Result};
use crate::keys::KeyType;
use crate::serial::Serial;
use crate::store::inventory::RevocationReason;

/// id-sha1.
pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// id-sha256.
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-pkix-ocsp-basic.
const BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// A certificate's status in one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not revoked.
    Good,
    /// Revoked at that time for that reason.
    Revoked(OffsetDateTime, RevocationReason),
}

/// What identifies a CA in a CertID: the hashes of its subject name and of its public key, for one hash
/// algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerHashes {
    /// The hash algorithm.
    pub algorithm: ObjectIdentifier,
    /// Hash of the DER of the CA's subject.
    pub name_hash: Vec<u8>,
    /// Hash of the CA's subjectPublicKey (the BIT STRING's bits).
    pub key_hash: Vec<u8>,
}

/// The issuer hashes of `ca` by SHA-1 and by SHA-256, in that order.
pub fn issuer_hashes(ca: &CertInfo) -> Result<[IssuerHashes; 2]> {
    let parsed = x509_cert::Certificate::from_der(&ca.der)
        .map_err(|e| Error::crypto("reading the CA certificate for OCSP", e))?;
    let name = parsed
        .tbs_certificate
        .subject
        .to_der()
        .map_err(|e| Error::crypto("encoding the CA's name for OCSP", e))?;
    let key = parsed
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    Ok([
        IssuerHashes {
            algorithm: SHA1,
            name_hash: crate::digest::sha1(&name).to_vec(),
            key_hash: crate::digest::sha1(key).to_vec(),
        },
        IssuerHashes {
            algorithm: SHA256,
            name_hash: crate::digest::sha256(&name).to_vec(),
            key_hash: crate::digest::sha256(key).to_vec(),
        },
    ])
}

/// The signature algorithm the CA's key signs with, as a response names it.
pub fn signature_algorithm(key_type: KeyType) -> AlgorithmIdentifierOwned {
    match key_type {
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => AlgorithmIdentifierOwned {
            // sha256WithRSAEncryption, with NULL parameters.
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
            parameters: Some(Null.into()),
        },
        KeyType::P256 => AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
            parameters: None,
        },
        KeyType::P384 => AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),
            parameters: None,
        },
    }
}

/// What every response of a CA has in common.
#[derive(Clone, Debug)]
pub struct ResponseTemplate {
    hashes: [IssuerHashes; 2],
    algorithm: AlgorithmIdentifierOwned,
}

impl ResponseTemplate {
    /// For the CA `ca` whose key is of type `key_type`.
    pub fn new(ca: &CertInfo, key_type: KeyType) -> Result<Self> {
        Ok(ResponseTemplate {
            hashes: issuer_hashes(ca)?,
            algorithm: signature_algorithm(key_type),
        })
    }

    /// The whole OCSPResponse for `serial` in `window`, produced at `produced`, its ResponseData signed by
    /// `sign` (which gets the DER to sign and gives the signature).
    pub fn sign(
        &self,
        serial: &Serial,
        status: Status,
        window: &Window,
        produced: OffsetDateTime,
        sign: &dyn Fn(&[u8]) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let data = self.data(serial, status, window, produced)?;
        let bad = |e: der::Error| Error::crypto("encoding an OCSP response", e);
        let signature = sign(&data.to_der().map_err(bad)?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: self.algorithm.clone(),
            signature: BitString::from_bytes(&signature).map_err(bad)?,
            certs: None,
        };
        let response = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(x509_ocsp::ResponseBytes {
                response_type: BASIC,
                response: OctetString::new(basic.to_der().map_err(bad)?).map_err(bad)?,
            }),
        };
        response.to_der().map_err(bad)
    }

    /// The ResponseData for `serial` in `window`, produced at `produced`: what the CA key signs.
    fn data(
        &self,
        serial: &Serial,
        status: Status,
        window: &Window,
        produced: OffsetDateTime,
    ) -> Result<ResponseData> {
        let serial = SerialNumber::new(serial.bytes())
            .map_err(|e| Error::crypto("encoding a serial for OCSP", e))?;
        let cert_status = match status {
            Status::Good => CertStatus::good(),
            Status::Revoked(at, reason) => CertStatus::revoked(RevokedInfo {
                revocation_time: time_of(at)?,
                // RFC 5280 5.3.1: unspecified is said by leaving the reason out.
                revocation_reason: crl_reason(reason),
            }),
        };
        let this_update = time_of(window.this_update)?;
        let next_update = time_of(window.next_update)?;
        let responses = self
            .hashes
            .iter()
            .map(|hashes| {
                Ok(SingleResponse {
                    cert_id: CertId {
                        hash_algorithm: AlgorithmIdentifierOwned {
                            oid: hashes.algorithm,
                            parameters: Some(Null.into()),
                        },
                        issuer_name_hash: octets(&hashes.name_hash)?,
                        issuer_key_hash: octets(&hashes.key_hash)?,
                        serial_number: serial.clone(),
                    },
                    cert_status,
                    this_update,
                    next_update: Some(next_update),
                    single_extensions: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(octets(&self.hashes[0].key_hash)?),
            produced_at: time_of(produced)?,
            responses,
            response_extensions: None,
        })
    }
}

/// An OCSPResponse with no response in it, only an error status (`malformedRequest`, `unauthorized`...):
/// unsigned, as RFC 6960 4.2.1 has it.
pub fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }.
    vec![0x30, 0x03, 0x0A, 0x01, status as u8]
}

/// A signed response as read back: what the responder checks before serving it.
#[derive(Clone, Debug)]
pub struct ReadResponse {
    /// The serial it answers for.
    pub serial: Serial,
    /// Good or revoked.
    pub status: Status,
    /// producedAt.
    pub produced_at: OffsetDateTime,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// The issuer hashes of each SingleResponse, with its hash algorithm.
    pub issuers: Vec<IssuerHashes>,
    /// The DER of the ResponseData (what was signed).
    pub tbs: Vec<u8>,
    /// The signature algorithm's OID.
    pub algorithm: ObjectIdentifier,
    /// The signature.
    pub signature: Vec<u8>,
}

/// Reads a response certkit signed: successful, basic, every SingleResponse about one serial with the same
/// status and times. Anything else is an error (the responder never serves it).
pub fn read(der: &[u8]) -> std::result::Result<ReadResponse, &'static str> {
    let response = OcspResponse::from_der(der).map_err(|_| "not an OCSP response")?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err("an OCSP response without a status");
    }
    let bytes = response
        .response_bytes
        .ok_or("an OCSP response without a status")?;
    if bytes.response_type != BASIC {
        return Err("not a basic OCSP response");
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|_| "a damaged basic OCSP response")?;
    let data = &basic.tbs_response_data;
    let first = data
        .responses
        .first()
        .ok_or("an OCSP response about nothing")?;
    let serial = Serial::from_der_integer(first.cert_id.serial_number.as_bytes());
    let status = status_of(&first.cert_status)?;
    let this_update = when(&first.this_update)?;
    let next_update = when(
        first
            .next_update
            .as_ref()
            .ok_or("an OCSP response without nextUpdate")?,
    )?;
    let mut issuers = Vec::new();
    for single in &data.responses {
        if Serial::from_der_integer(single.cert_id.serial_number.as_bytes()) != serial
            || status_of(&single.cert_status)? != status
            || when(&single.this_update)? != this_update
            || single.next_update.as_ref().map(when).transpose()? != Some(next_update)
        {
            return Err("an OCSP response whose parts disagree");
        }
        issuers.push(IssuerHashes {
            algorithm: single.cert_id.hash_algorithm.oid,
            name_hash: single.cert_id.issuer_name_hash.as_bytes().to_vec(),
            key_hash: single.cert_id.issuer_key_hash.as_bytes().to_vec(),
        });
    }
    let tbs = data.to_der().map_err(|_| "a damaged basic OCSP response")?;
    Ok(ReadResponse {
        serial,
        status,
        produced_at: when(&data.produced_at)?,
        this_update,
        next_update,
        issuers,
        tbs,
        algorithm: basic.signature_algorithm.oid,
        signature: basic
            .signature
            .as_bytes()
            .ok_or("a damaged signature")?
            .to_vec(),
    })
}

impl ReadResponse {
    /// Whether the CA `hashes` and `check` stand for signed it: it names that CA in every part, and the CA's
    /// key verifies its signature.
    pub fn signed_by(
        &self,
        hashes: &[IssuerHashes; 2],
        check: &crate::certinfo::IssuerCheck,
    ) -> bool {
        self.issuers.iter().all(|i| hashes.contains(i))
            && check.signed(&self.algorithm.to_string(), &self.tbs, &self.signature)
    }
}

fn status_of(status: &CertStatus) -> std::result::Result<Status, &'static str> {
    match status {
        CertStatus::Good(_) => Ok(Status::Good),
        CertStatus::Revoked(info) => Ok(Status::Revoked(
            when(&info.revocation_time)?,
            info.revocation_reason
                .map(reason_of)
                .unwrap_or(RevocationReason::Unspecified),
        )),
        CertStatus::Unknown(_) => Err("an OCSP response saying unknown"),
    }
}

fn when(time: &OcspGeneralizedTime) -> std::result::Result<OffsetDateTime, &'static str> {
    let seconds = time.0.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).map_err(|_| "a time out of range")?)
        .map_err(|_| "a time out of range")
}

fn time_of(at: OffsetDateTime) -> Result<OcspGeneralizedTime> {
    let seconds = u64::try_from(at.unix_timestamp())
        .map_err(|_| Error::BadInput(format!("{at} is before 1970: no OCSP time")))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(seconds))
        .map(OcspGeneralizedTime)
        .map_err(|e| Error::crypto("encoding an OCSP time", e))
}

fn octets(bytes: &[u8]) -> Result<OctetString> {
    OctetString::new(bytes).map_err(|e| Error::crypto("encoding an OCSP response", e))
}

fn crl_reason(reason: RevocationReason) -> Option<CrlReason> {
    match reason {
        RevocationReason::Unspecified => None,
        RevocationReason::KeyCompromise => Some(CrlReason::KeyCompromise),
        RevocationReason::AffiliationChanged => Some(CrlReason::AffiliationChanged),
        RevocationReason::Superseded => Some(CrlReason::Superseded),
        RevocationReason::CessationOfOperation => Some(CrlReason::CessationOfOperation),
        RevocationReason::CaCompromise => Some(CrlReason::CaCompromise),
        RevocationReason::CertificateHold => Some(CrlReason::CertificateHold),
    }
}

fn reason_of(reason: CrlReason) -> RevocationReason {
    match reason {
        CrlReason::KeyCompromise => RevocationReason::KeyCompromise,
        CrlReason::AffiliationChanged => RevocationReason::AffiliationChanged,
        CrlReason::Superseded => RevocationReason::Superseded,
        CrlReason::CessationOfOperation => RevocationReason::CessationOfOperation,
        CrlReason::CaCompromise => RevocationReason::CaCompromise,
        CrlReason::CertificateHold => RevocationReason::CertificateHold,
        _ => RevocationReason::Unspecified,
    }
}
