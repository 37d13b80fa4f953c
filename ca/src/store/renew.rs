//! Renewing the CA certificate (`certkit-ca renew`): a new certificate for the same key, with the subject
//! byte for byte, the same key identifier, extensions and constraints, a new serial and a new validity, so that
//! everything the CA signed before verifies under it. The old certificate is kept in `history/`; the new one is
//! recorded in the inventory like any certificate the key signs (profile `ca`, a renewal of the old serial)
//! before `ca.cer` and `ca.pem` are replaced; an interrupted renewal is finished by the next command.

use std::path::PathBuf;

use super::deliver::Delivery;
use super::folder::{CaStore, StoreLock};
use super::inventory::{DeliveredRecord, Entry, Event, IssuedRecord};
use super::layout::*;
use crate::certinfo::CertInfo;
use crate::dates::Validity;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::serial::Serial;
use crate::signer::SigningCa;

/// A renewal that was made.
#[derive(Debug)]
pub struct Renewed {
    /// The certificate it replaced.
    pub old: CertInfo,
    /// The new CA certificate.
    pub new: CertInfo,
    /// Where the old one is kept.
    pub kept: PathBuf,
}

/// The certificate a renewal of `ca` for `validity` would be, signed by its own key.
pub fn renewal_of(ca: &SigningCa, validity: Validity) -> Result<CertInfo> {
    let old = &ca.cert;
    if old.issuer != old.subject {
        return Err(Error::BadInput(format!(
            "{} is signed by {}, not by itself: the CA above renews it (certkit-ca sign-ca, then install)",
            old.subject, old.issuer
        )));
    }
    let mut params = params_like(old, validity)?;
    if let Some(ski) = &old.subject_key_id {
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(ski.clone());
    }
    let cert = params.self_signed(ca.issuer().key()).map_err(|e| {
        ca.issuer()
            .key()
            .explain(e, "signing the renewed CA certificate")
    })?;
    let new = CertInfo::from_der(cert.der(), std::path::Path::new("(renewed CA certificate)"))?;
    if subject_der(&new.der)? != subject_der(&old.der)? || new.spki_der != old.spki_der {
        return Err(Error::Bug(
            "the renewed CA certificate does not have the old one's subject and key",
        ));
    }
    Ok(new)
}

/// A CA certificate's own parameters, for a new certificate of the same CA valid for `validity`: its subject
/// as encoded, CA flag and pathLen, key usages and name constraints, and a new random serial.
pub(super) fn params_like(old: &CertInfo, validity: Validity) -> Result<rcgen::CertificateParams> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject_of(&old.der)?;
    params.is_ca = rcgen::IsCa::Ca(match old.path_len {
        Some(n) => rcgen::BasicConstraints::Constrained(u8::try_from(n).unwrap_or(u8::MAX)),
        None => rcgen::BasicConstraints::Unconstrained,
    });
    params.key_usages = key_usages_of(&old.der)?;
    let constraints = crate::constraints::NameConstraints::of_cert(&old.der)?;
    if !constraints.is_empty() {
        params.name_constraints = Some(constraints.to_rcgen());
    }
    if let Some(policies) = crate::profile_file::policies_extension_of(&old.der) {
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                crate::profile_file::CERTIFICATE_POLICIES_OID,
                policies,
            ));
    }
    params.serial_number = Some(Serial::random()?.to_rcgen());
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    Ok(params)
}

/// The certificate parameters for a renewal of the CA below `parent` whose certificate is `old`, for
/// `validity`: its own parameters (subject byte for byte, pathLen, key usages, name constraints), the parent's
/// CRL distribution point and an authority key identifier. `parent` signs them for `old`'s key.
pub fn renewal_below(parent: &SigningCa, old: &CertInfo, validity: Validity) -> Result<CertInfo> {
    if !old.is_signed_by_key(&parent.cert.spki_der)? {
        return Err(Error::BadInput(format!(
            "{} did not sign {}: renew a CA with the CA that signed it",
            parent.cert.subject, old.subject
        )));
    }
    let mut params = params_like(old, validity)?;
    params.use_authority_key_identifier_extension = true;
    if let Some(url) = &parent.crl_url {
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![url.clone()],
        }];
    }
    let key = rcgen::SubjectPublicKeyInfo::from_der(&old.spki_der)
        .map_err(|e| Error::crypto("reading the CA's key", e))?;
    let new = parent.sign(&params, &key)?;
    if subject_der(&new.der)? != subject_der(&old.der)?
        || new.spki_der != old.spki_der
        || new.subject_key_id != old.subject_key_id
    {
        return Err(Error::Bug(
            "the renewed CA certificate does not have the old one's subject, key and key identifier",
        ));
    }
    Ok(new)
}

/// The subject of a certificate as rcgen writes it again: each attribute with its string type, in order.
fn subject_of(der: &[u8]) -> Result<rcgen::DistinguishedName> {
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|_| Error::Bug("a certificate certkit signed cannot be read"))?;
    let mut dn = rcgen::DistinguishedName::new();
    for rdn in cert.subject().iter() {
        for attr in rdn.iter() {
            let oid: Vec<u64> = attr
                .attr_type()
                .iter()
                .ok_or(Error::Bug("an attribute type past 64 bits"))?
                .collect();
            let text = || -> Result<String> {
                attr.as_str().map(str::to_string).map_err(|_| {
                    Error::BadInput(
                        "the CA's subject holds a value certkit cannot renew byte for byte".into(),
                    )
                })
            };
            let value = match attr.attr_value().header.tag() {
                Tag::Utf8String => rcgen::DnValue::Utf8String(text()?),
                Tag::PrintableString => rcgen::DnValue::PrintableString(
                    text()?
                        .try_into()
                        .map_err(|_| Error::Bug("a PrintableString that is not one"))?,
                ),
                Tag::Ia5String => rcgen::DnValue::Ia5String(
                    text()?
                        .try_into()
                        .map_err(|_| Error::Bug("an IA5String that is not one"))?,
                ),
                _ => {
                    return Err(Error::BadInput(
                        "the CA's subject holds a string type certkit cannot write again byte for byte; not renewed".into(),
                    ));
                }
            };
            dn.push(rcgen::DnType::from_oid(&oid), value);
        }
    }
    Ok(dn)
}

/// The key usages of a CA certificate, for its renewal.
fn key_usages_of(der: &[u8]) -> Result<Vec<rcgen::KeyUsagePurpose>> {
    use rcgen::KeyUsagePurpose::*;
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|_| Error::Bug("a certificate certkit signed cannot be read"))?;
    let Ok(Some(usage)) = cert.key_usage() else {
        return Ok(vec![KeyCertSign, CrlSign]);
    };
    let u = &usage.value;
    let mut out = Vec::new();
    for (set, purpose) in [
        (u.digital_signature(), DigitalSignature),
        (u.non_repudiation(), ContentCommitment),
        (u.key_encipherment(), KeyEncipherment),
        (u.data_encipherment(), DataEncipherment),
        (u.key_agreement(), KeyAgreement),
        (u.key_cert_sign(), KeyCertSign),
        (u.crl_sign(), CrlSign),
        (u.encipher_only(), EncipherOnly),
        (u.decipher_only(), DecipherOnly),
    ] {
        if set {
            out.push(purpose);
        }
    }
    Ok(out)
}

/// The subject of a certificate, DER.
pub(super) fn subject_der(der: &[u8]) -> Result<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|_| Error::Bug("a certificate certkit signed cannot be read"))?;
    Ok(cert.subject().as_raw().to_vec())
}

impl CaStore {
    /// Renews the CA certificate of `ca` (unlocked from this folder) to `validity`: the inventory binds to the
    /// first certificate from now on (a settings change the key signs), the renewal is recorded, the old
    /// certificate kept in `history/`, then `ca.cer` and `ca.pem` replaced and a checkpoint signed.
    pub fn renew_ca(
        &self,
        lock: &StoreLock,
        ca: &SigningCa,
        validity: Validity,
    ) -> Result<Renewed> {
        let new = renewal_of(ca, validity)?;
        let mut settings = self.settings()?;
        if settings.binding.is_none() {
            settings.binding = Some(self.binding()?);
            self.change_settings(lock, ca, &settings)?;
        }
        let key = KeyType::of_spki_der(&new.spki_der)?;
        let cn = new.cn.clone().unwrap_or_default();
        let record = IssuedRecord::new(
            &new,
            &cn,
            Profile::Ca,
            Vec::new(),
            key,
            None,
            Some(ca.cert.serial.clone()),
        );
        let leftovers = self.leftovers()?;
        self.deliver(
            lock,
            &leftovers,
            vec![Delivery {
                record,
                files: Vec::new(),
            }],
        )?;
        let kept = self.put_in_place(&ca.cert, &new)?;
        Ok(Renewed {
            old: ca.cert.clone(),
            new,
            kept,
        })
    }

    /// Puts the renewal `new` of the CA below another (`ca`, unlocked from this folder, signed by the CA above)
    /// in place: the inventory binds to the first certificate from now on (a settings change `ca` signs), the
    /// old certificate is kept in `history/`, then `ca.cer` and `ca.pem` are replaced. The CA above recorded
    /// `new` in its own inventory first.
    pub fn install_renewal(
        &self,
        lock: &StoreLock,
        ca: &SigningCa,
        new: &CertInfo,
    ) -> Result<Renewed> {
        let mut settings = self.settings()?;
        if settings.binding.is_none() {
            settings.binding = Some(self.binding()?);
            self.change_settings(lock, ca, &settings)?;
        }
        let kept = self.put_in_place(&ca.cert, new)?;
        // chain.pem starts with the CA's own certificate: the renewed one from now on.
        let above = self.chain_above(new)?;
        let chain: String = std::iter::once(new)
            .chain(above.iter())
            .map(CertInfo::pem)
            .collect();
        files::replace(&self.path(CHAIN_PEM), chain.as_bytes(), PUBLIC)?;
        Ok(Renewed {
            old: ca.cert.clone(),
            new: new.clone(),
            kept,
        })
    }

    /// Keeps `old` in `history/` and makes `new` the CA certificate (`ca.cer`, then `ca.pem`, each replaced
    /// atomically).
    pub(super) fn put_in_place(&self, old: &CertInfo, new: &CertInfo) -> Result<PathBuf> {
        let history = self.path(HISTORY_DIR);
        if let Err(e) = std::fs::create_dir(&history)
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            return Err(Error::io("create folder", &history, e));
        }
        let kept = history.join(format!("{}.cer", old.serial));
        match std::fs::read(&kept) {
            Ok(bytes) if bytes == old.der => {}
            Ok(_) => {
                return Err(Error::CaUnusable(format!(
                    "{} holds another certificate than the CA's serial {}; restore it from a backup",
                    kept.display(),
                    old.serial
                )));
            }
            Err(_) => files::write_new(&kept, &old.der, PUBLIC)?,
        }
        files::replace(&self.path(CA_CER), &new.der, PUBLIC)?;
        files::replace(&self.path(CA_PEM), new.pem().as_bytes(), PUBLIC)?;
        Ok(kept)
    }

    /// Finishes a renewal or a re-key an interrupted run recorded but did not put in place: the newest CA
    /// certificate in the inventory that its own key signed, with the CA's subject, a key of the CA's lineage
    /// whose key file is here, not before the current one, becomes the CA certificate (and its key `ca.key`).
    /// Returns whether it did.
    pub(super) fn finish_renewal(&self, lock: &StoreLock) -> Result<bool> {
        // A renewal or re-key binds the inventory to the first certificate before it records anything: a CA
        // without that binding was never renewed, and has nothing to finish.
        if self.settings_file()?.binding.is_none() {
            return Ok(false);
        }
        let current = self.cert()?;
        let lineage = self.lineage()?;
        // Only a certificate recorded after the current one's record (the first has none) can be what an
        // interrupted run meant to put in its place.
        let after = self
            .entry_by_thumbprint(&current.thumbprint)?
            .map_or(0, |e| e.line);
        let mut newest: Option<(CertInfo, &Entry)> = None;
        let mut candidates = Vec::new();
        self.list(
            &super::index::ListFilter {
                profile: Some(Profile::Ca),
                ..Default::default()
            },
            time::OffsetDateTime::now_utc(),
            &mut |entry| {
                candidates.push(entry);
                Ok(true)
            },
        )?;
        for entry in &candidates {
            if entry.revoked.is_some() || entry.line <= after {
                continue;
            }
            let Some(der) = self.record_certificate(entry)? else {
                continue;
            };
            let Ok(cert) = CertInfo::from_der(&der, &self.path(INVENTORY)) else {
                continue;
            };
            let key_here = cert.spki_der == current.spki_der
                || self.key_file_of(&cert.spki_der)? != self.path(CA_KEY);
            if cert.subject == current.subject
                && cert.issuer == current.subject
                && cert.der != current.der
                && lineage.endorses_key(&cert.spki_der)
                && cert.is_signed_by_key(&cert.spki_der)?
                && key_here
                && newest.as_ref().is_none_or(|(_, n)| entry.line > n.line)
            {
                newest = Some((cert, entry));
            }
        }
        let Some((new, entry)) = newest else {
            return self.finish_key_copy();
        };
        self.put_in_place(&current, &new)?;
        self.finish_key_copy()?;
        if !entry.delivered {
            self.append(
                lock,
                &[Event::Delivered(DeliveredRecord {
                    serial: entry.issued.serial.clone(),
                })],
            )?;
        }
        Ok(true)
    }
}
