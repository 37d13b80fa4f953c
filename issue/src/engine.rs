//! The issuance engine: the one path by which certkit signs an end-entity certificate, builds the files it
//! is delivered in, records it and writes them. Single issuance, CSR signing, renewal and batches all go
//! through [`Engine::prepare`] (sign and build in memory, safe to run on many threads) and [`Engine::commit`]
//! (record and deliver a group, under the CA lock, by the write-ahead rule of `CaStore::deliver`).

use std::path::{Path, PathBuf};

use certkit_ca::files::{NewFiles, PRIVATE, PUBLIC};
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::signer::SigningCa;
use certkit_ca::store::inventory::IssuedRecord;
use certkit_ca::store::{Delivery, Leftovers, OutputFile, StoreLock};
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
    /// A new key pair made already (by a batch's key pool).
    New(KeyPair),
    /// The public key of a request (CSR); its private key stays with the requester.
    Request(rcgen::SubjectPublicKeyInfo),
}

/// A PFX to deliver the certificate and its key in.
#[derive(Clone, Copy)]
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

/// A certificate signed and its files built, ready to be recorded and written.
pub struct Prepared {
    /// The certificate.
    pub cert: CertInfo,
    files: Vec<OutputFile>,
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
    leftovers: Leftovers,
}

impl<'a> Engine<'a> {
    /// An engine for `signer`. With a CA it learns which existing files are leftovers of interrupted
    /// deliveries (the only files it may replace).
    pub fn new(signer: Signer<'a>) -> Result<Self> {
        let leftovers = match &signer {
            Signer::Ca { store, .. } => store.leftovers()?,
            Signer::SelfSigned => Leftovers::default(),
        };
        Ok(Engine { signer, leftovers })
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
            (Signer::Ca { ca, .. }, SubjectKey::New(key)) => (ca.sign(&params, &key)?, Some(key)),
            (Signer::Ca { ca, .. }, SubjectKey::Request(spki)) => (ca.sign(&params, &spki)?, None),
            (Signer::SelfSigned, SubjectKey::Generate(kind)) => {
                let key = kind.generate()?;
                (self_signed(params, &key)?, Some(key))
            }
            (Signer::SelfSigned, SubjectKey::New(key)) => (self_signed(params, &key)?, Some(key)),
            (Signer::SelfSigned, SubjectKey::Request(_)) => {
                return Err(Error::Bug("a request cannot be self-signed"));
            }
        };
        let plan = &order.plan;
        let file = |path: PathBuf, bytes: Vec<u8>, mode: u32| OutputFile { path, bytes, mode };
        let mut files = vec![
            file(plan.cer(), cert.der.clone(), PUBLIC),
            file(
                with_ext(&plan.prefix, "pem"),
                cert.pem().into_bytes(),
                PUBLIC,
            ),
        ];
        if plan.with_key {
            let (Some(key), Some(password)) = (&key, order.key_password) else {
                return Err(Error::Bug(
                    "a key file was planned without a key or password",
                ));
            };
            let pem = keys::encrypt_pem(key, password)?;
            files.push(file(
                with_ext(&plan.prefix, "key"),
                pem.as_bytes().to_vec(),
                PRIVATE,
            ));
        }
        if plan.with_pfx {
            let (Some(key), Some(out)) = (&key, &order.pfx) else {
                return Err(Error::Bug("a PFX was planned without a key or password"));
            };
            let bytes = build_pfx(key, &cert, self.ca(), &order.spec.cn, out)?;
            files.push(file(with_ext(&plan.prefix, "pfx"), bytes, PRIVATE));
        }
        let record = self
            .ca()
            .map(|_| record_for(&order.spec, &cert, order.renewal_of));
        Ok(Prepared {
            cert,
            files,
            record,
        })
    }

    /// Delivers a group of prepared certificates. CA-signed ones are recorded before any of their files
    /// appears (`CaStore::deliver`); self-signed ones are written all or nothing, each.
    pub fn commit(&self, group: Vec<Prepared>) -> Result<Vec<Issued>> {
        for prepared in &group {
            for file in &prepared.files {
                // Checked before any folder is made, so not even an empty folder lands in a CA folder.
                certkit_ca::store::guard::check_output(&file.path, &[])?;
                if let Some(folder) = file.path.parent()
                    && !folder.as_os_str().is_empty()
                    && !folder.exists()
                {
                    std::fs::create_dir_all(folder)
                        .map_err(|e| Error::io("create folder", folder, e))?;
                }
            }
        }
        match &self.signer {
            Signer::Ca { store, lock, .. } => {
                let mut certs = Vec::new();
                let mut deliveries = Vec::new();
                for prepared in group {
                    let record = prepared
                        .record
                        .ok_or(Error::Bug("a CA-signed certificate without its record"))?;
                    deliveries.push(Delivery {
                        record,
                        files: prepared.files,
                    });
                    certs.push(prepared.cert);
                }
                let delivered = store.deliver(lock, &self.leftovers, deliveries)?;
                Ok(certs
                    .into_iter()
                    .zip(delivered)
                    .map(|(cert, files)| Issued { cert, files })
                    .collect())
            }
            Signer::SelfSigned => group
                .into_iter()
                .map(|prepared| {
                    let mut set = NewFiles::new();
                    for file in prepared.files {
                        certkit_ca::store::guard::check_output(&file.path, &[])?;
                        set.add(file.path, file.bytes, file.mode);
                    }
                    Ok(Issued {
                        cert: prepared.cert,
                        files: set.commit()?,
                    })
                })
                .collect(),
        }
    }

    /// Signs a checkpoint of the CA's inventory as it is now (a no-op when self-signing).
    pub fn checkpoint(&self) -> Result<()> {
        match &self.signer {
            Signer::Ca { store, ca, lock } => store.checkpoint(lock, ca),
            Signer::SelfSigned => Ok(()),
        }
    }
}

/// Builds the PFX for a freshly issued certificate; the CA certificate and those above it go in as the chain.
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
    // The whole path: "include all certificates in the certification path".
    let mut chain = Vec::new();
    if let Some(ca) = ca {
        for cert in std::iter::once(&ca.cert).chain(&ca.above) {
            chain.push(openssl::x509::X509::from_der(&cert.der)?);
        }
    }
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
    let mut record = IssuedRecord::new(
        cert,
        &spec.cn,
        spec.profile,
        spec.extra_ekus.clone(),
        spec.key_type,
        spec.crl_url.clone(),
        renewal_of,
    );
    record.profile_file = spec.profile_file.as_ref().map(|p| p.file.name.clone());
    record
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

/// A certificate signed by its own key, with the subject key identifier certkit gives every certificate.
fn self_signed(mut params: rcgen::CertificateParams, key: &rcgen::KeyPair) -> Result<CertInfo> {
    params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(
        certkit_ca::keys::subject_key_id(&rcgen::PublicKeyData::subject_public_key_info(key))?,
    );
    let cert = params
        .self_signed(key)
        .map_err(|e| Error::crypto("self-signing the certificate", e))?;
    CertInfo::from_der(cert.der(), Path::new("(new certificate)"))
}
