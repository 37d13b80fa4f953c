//! The issuance engine: the one path by which certkit signs an end-entity certificate, builds the files it
//! is delivered in, writes them and records the certificate in its CA's inventory. Single issuance, CSR
//! signing, renewal and batches all go through [`Engine::prepare`] (sign and build, safe to run on many
//! threads) and [`Engine::commit`] (write and record, under the CA lock).

use std::path::{Path, PathBuf};

use certkit_ca::files::{self, NewFiles, PRIVATE, PUBLIC};
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::signer::SigningCa;
use certkit_ca::store::StoreLock;
use certkit_ca::store::inventory::IssuedRecord;
use certkit_ca::{CaStore, CertInfo, Error, KeyType, Result, Secret, Serial, keys};
use rcgen::KeyPair;
use time::OffsetDateTime;

use crate::leaf::LeafSpec;
use crate::outputs::{OutputPlan, with_ext};

/// Who signs the certificate.
pub enum Signer<'a> {
    /// The CA in this folder, unlocked, with its lock held.
    Ca {
        /// The CA folder.
        store: &'a CaStore,
        /// The unlocked CA.
        ca: &'a SigningCa,
        /// The CA's write lock.
        lock: &'a StoreLock,
    },
    /// The certificate's own key (the guide's SSL and encryption certificates).
    SelfSigned,
}

/// The subject's key pair.
pub enum SubjectKey {
    /// Make a new key pair of this type.
    Generate(KeyType),
    /// The public key of a request (CSR); its private key stays with the requester.
    Request(rcgen::SubjectPublicKeyInfo),
}

/// A PFX to deliver the certificate and its key in.
pub struct PfxOutput<'a> {
    /// Its protection profile.
    pub profile: PfxProfile,
    /// Its password.
    pub password: &'a Secret,
}

/// One certificate to issue.
pub struct Order<'a> {
    /// What goes into it.
    pub spec: LeafSpec,
    /// Whose key it certifies.
    pub key: SubjectKey,
    /// Where it goes.
    pub plan: OutputPlan,
    /// The password of the encrypted PREFIX.key, when the plan writes one.
    pub key_password: Option<&'a Secret>,
    /// The PFX, when the plan writes one.
    pub pfx: Option<PfxOutput<'a>>,
    /// The serial of the certificate this one renews.
    pub renewal_of: Option<Serial>,
}

/// A certificate signed and its files built, ready to be written.
pub struct Prepared {
    /// The certificate.
    pub cert: CertInfo,
    files: NewFiles,
    folder: PathBuf,
    record: Option<IssuedRecord>,
}

/// A certificate that was issued and written.
#[derive(Debug)]
pub struct Issued {
    /// The new certificate.
    pub cert: CertInfo,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Signs and delivers certificates for one signer.
pub struct Engine<'a> {
    signer: Signer<'a>,
}

impl<'a> Engine<'a> {
    /// An engine for `signer`.
    pub fn new(signer: Signer<'a>) -> Self {
        Engine { signer }
    }

    /// The CA's certificate, or None when self-signing.
    pub fn ca(&self) -> Option<&SigningCa> {
        match &self.signer {
            Signer::Ca { ca, .. } => Some(ca),
            Signer::SelfSigned => None,
        }
    }

    /// Signs the order and builds its files in memory (key, PFX). Writes nothing; safe on worker threads.
    pub fn prepare(&self, order: Order<'_>) -> Result<Prepared> {
        let params = order.spec.params()?;
        let (cert, key) = match (&self.signer, order.key) {
            (Signer::Ca { ca, .. }, SubjectKey::Generate(kind)) => {
                let key = kind.generate()?;
                (ca.sign(&params, &key)?, Some(key))
            }
            (Signer::Ca { ca, .. }, SubjectKey::Request(spki)) => (ca.sign(&params, &spki)?, None),
            (Signer::SelfSigned, SubjectKey::Generate(kind)) => {
                let key = kind.generate()?;
                let cert = params
                    .self_signed(&key)
                    .map_err(|e| Error::crypto("self-signing the certificate", e))?;
                (
                    CertInfo::from_der(cert.der(), Path::new("(new certificate)"))?,
                    Some(key),
                )
            }
            (Signer::SelfSigned, SubjectKey::Request(_)) => {
                return Err(Error::Bug("a request cannot be self-signed"));
            }
        };
        let plan = &order.plan;
        let mut set = NewFiles::new();
        set.add(plan.cer(), cert.der.clone(), PUBLIC);
        set.add(with_ext(&plan.prefix, "pem"), cert.pem(), PUBLIC);
        if plan.with_key {
            let (Some(key), Some(password)) = (&key, order.key_password) else {
                return Err(Error::Bug(
                    "a key file was planned without a key or password",
                ));
            };
            let pem = keys::encrypt_pem(key, password)?;
            set.add(with_ext(&plan.prefix, "key"), pem.as_bytes(), PRIVATE);
        }
        if plan.with_pfx {
            let (Some(key), Some(out)) = (&key, &order.pfx) else {
                return Err(Error::Bug("a PFX was planned without a key or password"));
            };
            let bytes = build_pfx(key, &cert, self.ca(), &order.spec.cn, out)?;
            set.add(with_ext(&plan.prefix, "pfx"), bytes, PRIVATE);
        }
        let record = self
            .ca()
            .map(|_| record_for(&order.spec, &cert, order.renewal_of));
        let folder = match plan.prefix.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Prepared {
            cert,
            files: set,
            folder,
            record,
        })
    }

    /// Writes a prepared certificate's files and, when CA-signed, records it; all or nothing.
    pub fn commit(&self, prepared: Prepared) -> Result<Issued> {
        if !prepared.folder.exists() {
            std::fs::create_dir_all(&prepared.folder)
                .map_err(|e| Error::io("create folder", &prepared.folder, e))?;
        }
        let written = prepared.files.commit()?;
        if let (Signer::Ca { store, lock, .. }, Some(record)) = (&self.signer, prepared.record)
            && let Err(err) = store.record_issued(lock, &prepared.cert, record)
        {
            files::remove_all(&written);
            return Err(err);
        }
        Ok(Issued {
            cert: prepared.cert,
            files: written,
        })
    }
}

/// Builds the PFX for a freshly issued certificate; the CA certificate goes in as the chain.
fn build_pfx(
    key: &KeyPair,
    cert: &CertInfo,
    ca: Option<&SigningCa>,
    friendly_name: &str,
    out: &PfxOutput<'_>,
) -> Result<Vec<u8>> {
    let der = zeroize::Zeroizing::new(key.serialize_der());
    let pkey = openssl::pkey::PKey::private_key_from_pkcs8(&der)?;
    let x509 = openssl::x509::X509::from_der(&cert.der)?;
    let chain = match ca {
        Some(ca) => vec![openssl::x509::X509::from_der(&ca.cert.der)?],
        None => vec![],
    };
    pfx::build(
        out.profile,
        &pkey,
        &x509,
        &chain,
        friendly_name,
        out.password,
    )
}

/// The inventory record of a CA-signed certificate.
fn record_for(spec: &LeafSpec, cert: &CertInfo, renewal_of: Option<Serial>) -> IssuedRecord {
    IssuedRecord::new(
        cert,
        &spec.cn,
        spec.profile,
        spec.extra_ekus.clone(),
        spec.key_type,
        spec.crl_url.clone(),
        renewal_of,
    )
}

/// Refuses a validity that runs past the CA's own notAfter.
pub fn check_within_ca(not_after: OffsetDateTime, ca: &CertInfo) -> Result<()> {
    if not_after > ca.not_after {
        return Err(Error::BadInput(format!(
            "the certificate would outlive its CA: the CA {} expires on {}; choose an earlier --expires or fewer --days",
            ca.subject,
            certkit_ca::dates::rfc3339(ca.not_after)
        )));
    }
    Ok(())
}
