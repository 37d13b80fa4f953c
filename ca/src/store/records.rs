//! What the CA's inventory records: the events of its log (a certificate issued, delivered, revoked; a CRL
//! signed) and what a certificate's events fold into (an entry with a status).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::certinfo::{CertInfo, IssuerCheck, RecordFacts, Signature};
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::san::San;
use crate::serial::Serial;
use crate::thumbprint::Thumbprint;

/// One file a certificate was (to be) delivered in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputRecord {
    /// Absolute path.
    pub path: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// One issued certificate, as recorded when it was signed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IssuedRecord {
    /// Serial number.
    pub serial: Serial,
    /// Subject, e.g. `CN=Alice`.
    pub subject: String,
    /// Subject common name.
    pub cn: String,
    /// Profile it was issued with.
    pub profile: Profile,
    /// Subject alternative names (`DNS:`, `IP:`, `email:`).
    pub sans: Vec<San>,
    /// Extended key usages added with `--eku`, beyond the profile's own.
    #[serde(default)]
    pub extra_ekus: Vec<String>,
    /// Key type of the certificate's public key.
    pub key: KeyType,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// CRL distribution point URL put into the certificate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// Serial of the certificate this one renews, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_of: Option<Serial>,
    /// The profile file it was issued by (`certkit-issue --profile NAME`), when not a built-in profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_file: Option<String>,
    /// The certificate itself, base64 DER (records written before certkit 0.2 lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub der: Option<String>,
    /// The files it is delivered in, with their hashes, so that leftovers of an interrupted delivery can be
    /// recognised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputRecord>,
    /// True when it was recorded before delivery (write-ahead) and no `delivered` event has followed yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl IssuedRecord {
    /// The record of `cert`, issued to `cn` with `profile`; `extra_ekus` are those beyond the profile's own.
    /// It carries the certificate itself and starts out delivered, with no outputs.
    pub fn new(
        cert: &CertInfo,
        cn: &str,
        profile: Profile,
        extra_ekus: Vec<String>,
        key: KeyType,
        crl_url: Option<String>,
        renewal_of: Option<Serial>,
    ) -> Self {
        IssuedRecord {
            serial: cert.serial.clone(),
            subject: cert.subject.clone(),
            cn: cn.to_string(),
            profile,
            sans: cert.sans.clone(),
            extra_ekus,
            key,
            not_before: cert.not_before,
            not_after: cert.not_after,
            thumbprint: cert.thumbprint,
            crl_url,
            renewal_of,
            profile_file: None,
            der: Some(openssl::base64::encode_block(&cert.der)),
            outputs: vec![],
            pending: false,
        }
    }

    /// The certificate's DER, when the record carries it.
    pub fn cert_der(&self) -> Option<Vec<u8>> {
        self.der
            .as_deref()
            .and_then(|b64| openssl::base64::decode_block(b64).ok())
    }

    /// What is wrong with this record as a record of the certificate `der` issued by `ca`: the CA must have
    /// signed the certificate, and every fact the record states must be the certificate's (serial, thumbprint,
    /// subject, names, dates, key, the profile's extended key usage). `signature` says whether the CA's
    /// signature is to be verified or is vouched for already. None when the record is true.
    pub fn falsehood(
        &self,
        der: &[u8],
        ca: &IssuerCheck,
        signature: Signature,
    ) -> Option<Falsehood> {
        let serial = &self.serial;
        let Some((cert, issued_by_ca)) = RecordFacts::checked(der, ca, signature) else {
            return Some(Falsehood {
                code: "record-mismatch",
                message: format!("the certificate of serial {serial} cannot be read"),
            });
        };
        if !issued_by_ca {
            return Some(Falsehood {
                code: "not-signed-by-ca",
                message: format!(
                    "the certificate of serial {serial} is not signed by this CA: a forged record"
                ),
            });
        }
        let profile_eku = self.profile.eku();
        let differs = [
            (cert.serial != *serial, "serial"),
            (cert.thumbprint != self.thumbprint, "thumbprint"),
            (cert.subject != self.subject, "subject"),
            (cert.sans != self.sans, "subject alternative names"),
            (cert.not_before != self.not_before, "start of validity"),
            (cert.not_after != self.not_after, "end of validity"),
            (cert.key != Some(self.key), "key type"),
            (
                profile_eku.is_some_and(|eku| !cert.ekus.iter().any(|e| e == eku))
                    || !self.extra_ekus.iter().all(|e| cert.ekus.contains(e)),
                "extended key usage",
            ),
            (
                cert.is_ca != (self.profile == Profile::Ca),
                "basic constraints",
            ),
        ];
        differs
            .iter()
            .find(|(wrong, _)| *wrong)
            .map(|(_, what)| Falsehood {
                code: "record-mismatch",
                message: format!(
                    "the record of serial {serial} does not match its certificate ({what} differs)"
                ),
            })
    }
}

/// What is false about a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Falsehood {
    /// `not-signed-by-ca` (the CA did not sign the certificate) or `record-mismatch` (the record says
    /// something the certificate does not), as the audit reports it.
    pub code: &'static str,
    /// What, in words.
    pub message: String,
}

/// Why a certificate was revoked (RFC 5280 reason codes that apply to an end-entity certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevocationReason {
    /// No reason given.
    #[serde(rename = "unspecified")]
    Unspecified,
    /// The private key was lost or exposed (a lost laptop).
    #[serde(rename = "keyCompromise")]
    KeyCompromise,
    /// The person left or changed role.
    #[serde(rename = "affiliationChanged")]
    AffiliationChanged,
    /// Replaced by a new certificate.
    #[serde(rename = "superseded")]
    Superseded,
    /// No longer needed.
    #[serde(rename = "cessationOfOperation")]
    CessationOfOperation,
    /// The CA's key was exposed: only from an imported CA's history (`certkit-ca import`), never given here.
    #[serde(rename = "cACompromise")]
    CaCompromise,
    /// On hold: only from an imported CA's history (`certkit-ca import`); certkit never releases a hold.
    #[serde(rename = "certificateHold")]
    CertificateHold,
}

impl RevocationReason {
    /// Every reason, in the order the help lists them.
    pub const ALL: [RevocationReason; 5] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
    ];

    /// Its RFC 5280 name, as the command line and the inventory spell it.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::CertificateHold => "certificateHold",
        }
    }

    /// One line on when to use it.
    pub fn description(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "No reason given",
            RevocationReason::KeyCompromise => {
                "The private key was lost or exposed (a lost laptop)"
            }
            RevocationReason::AffiliationChanged => "The person left or changed role",
            RevocationReason::Superseded => "Replaced by a new certificate",
            RevocationReason::CessationOfOperation => "No longer needed",
            RevocationReason::CaCompromise => {
                "The CA key was exposed (from an imported CA's history)"
            }
            RevocationReason::CertificateHold => "On hold (from an imported CA's history)",
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A revocation, as recorded.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RevokedRecord {
    /// Serial of the revoked certificate.
    pub serial: Serial,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// A certificate recorded ahead of its delivery has reached every output file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeliveredRecord {
    /// Its serial.
    pub serial: Serial,
}

/// A CRL the CA signed: recorded before the CRL is written anywhere, so that a CRL found later with a higher
/// number than the log records shows the log was rolled back.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CrlRecord {
    /// Its CRL number.
    pub number: u64,
    /// Its thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// Its nextUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// How many certificates it lists.
    pub revoked: usize,
    /// SHA-256 of its DER, lowercase hex.
    pub sha256: String,
    /// The pre-signed series it belongs to (`certkit-ca crl --series`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<CrlSeries>,
}

/// The OCSP responses of one window, signed ahead: one response for every certificate the CA issued that had
/// not expired by the window's start, all in one file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OcspRecord {
    /// When they were signed (the responses' producedAt).
    #[serde(with = "time::serde::rfc3339")]
    pub produced_at: OffsetDateTime,
    /// Their thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// Their nextUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// How many responses (certificates).
    pub responses: usize,
    /// How many of them say revoked.
    pub revoked: usize,
    /// The file's name in the series folder.
    pub file: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The series the window belongs to.
    pub series: CrlSeries,
}

/// A series of CRLs (or of OCSP windows) signed at one unlock, whose windows follow each other.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CrlSeries {
    /// How many CRLs.
    pub count: u32,
    /// Days between one CRL's thisUpdate and the next one's.
    pub every_days: u32,
    /// Days each CRL stays valid past the next one's thisUpdate.
    pub overlap_days: u32,
    /// The folder they were written to (absolute).
    pub out_dir: String,
}

/// A step in the custody of the CA key (`certkit-ca backup`, `restore`, `restore --check`). Never a share,
/// the secret or the key: what was split how, and which backup file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustodyRecord {
    /// What happened.
    pub action: CustodyAction,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// How the secret was split: "3 of 5", or "2 of [2 of 3, 1 of 1]" with groups.
    pub shares: String,
    /// The split's identifier (every share of it carries it).
    pub split: u16,
    /// SHA-256 of the backup file, lowercase hex.
    pub backup_sha256: String,
    /// Why a drill failed (absent when it passed, and for a backup or a restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The CA key the step concerns (its key identifier, as `keys/KEYID.key`): custody facts belong to a key, and
    /// a re-keyed CA's new key has none of the old one's backups. Absent in records made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Where a backup was written (absolute): it may be moved away later, as it should be; `show` says when it
    /// is not there. Absent in records made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A custody step.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CustodyAction {
    /// A backup was made and its secret split into shares.
    Backup,
    /// A recovery drill: the shares were combined and opened the backup (or did not).
    Drill,
    /// The key was restored from a backup into this folder.
    Restore,
}

impl fmt::Display for CustodyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CustodyAction::Backup => "backup",
            CustodyAction::Drill => "drill",
            CustodyAction::Restore => "restore",
        })
    }
}

/// One event of the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "lowercase")]
// Events live briefly while a line is read or written; boxing the large variant would only add allocations.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A certificate was signed.
    Issued(IssuedRecord),
    /// A certificate was revoked.
    Revoked(RevokedRecord),
    /// A certificate recorded ahead of delivery was delivered.
    Delivered(DeliveredRecord),
    /// A CRL was signed.
    Crl(CrlRecord),
    /// A step in the custody of the CA key.
    Custody(CustodyRecord),
    /// The OCSP responses of one window of a series were signed (`certkit-ca ocsp`).
    Ocsp(OcspRecord),
    /// A certificate another CA program signed with this CA's key, brought in with its history
    /// (`certkit-ca import`): the same record as `issued`, delivered, with no outputs.
    Imported(IssuedRecord),
    /// A line of an imported CA's `index.txt` whose certificate file was gone (`import --accept-missing`):
    /// what the line said, never a certificate; its serial stays taken.
    Missing(MissingRecord),
}

/// What the `index.txt` of an imported CA said of a certificate whose file was gone.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MissingRecord {
    /// Its serial.
    pub serial: Serial,
    /// Its subject as the line wrote it (OpenSSL's one-line form, `/CN=alice`).
    pub subject: String,
    /// Its notAfter as the line gave it.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Its line in the source's `index.txt`.
    pub index_line: usize,
}

/// A certificate's current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Delivered, within its validity and not revoked.
    Valid,
    /// Revoked (whatever its dates).
    Revoked(RevocationReason),
    /// Recorded ahead of a delivery that was interrupted: nobody has it, and it is never allowed.
    Undelivered,
    /// Past its notAfter.
    Expired,
}

impl Status {
    /// Whether `other` is the same status, whatever the reason of a revocation.
    pub fn same_kind(self, other: Status) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Valid => "valid",
            Status::Revoked(_) => "revoked",
            Status::Undelivered => "undelivered",
            Status::Expired => "expired",
        })
    }
}

/// An issued certificate with what happened to it since.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The issuance record.
    pub issued: IssuedRecord,
    /// The revocation, if revoked.
    pub revoked: Option<RevokedRecord>,
    /// False while a write-ahead record waits for its delivery.
    pub delivered: bool,
    /// The inventory line it was recorded on (1-based).
    pub line: usize,
}

impl Entry {
    /// The status at time `now`.
    pub fn status(&self, now: OffsetDateTime) -> Status {
        match &self.revoked {
            Some(r) => Status::Revoked(r.reason),
            None if !self.delivered => Status::Undelivered,
            None if self.issued.not_after < now => Status::Expired,
            None => Status::Valid,
        }
    }
}
