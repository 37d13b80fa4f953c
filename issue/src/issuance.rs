//! Issuing one certificate: sign, write the files all-or-nothing, record it in the CA's inventory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use certkit_ca::files::{self, NewFiles, PRIVATE, PUBLIC};
use certkit_ca::inventory::IssuedRecord;
use certkit_ca::store::SigningCa;
use certkit_ca::{CaStore, CertInfo, Error, Result, Secret, keys};
use rcgen::{KeyPair, PublicKeyData};
use time::OffsetDateTime;

use crate::leaf::LeafSpec;

/// Who signs the certificate.
pub enum Signer<'a> {
    /// The CA in this folder, unlocked.
    Ca {
        /// The CA folder.
        store: &'a CaStore,
        /// The unlocked CA.
        ca: &'a SigningCa,
    },
    /// The certificate's own key (the guide's SSL and encryption certificates).
    SelfSigned,
}

/// `PREFIX` + `.ext`, keeping any folder and dots in the prefix.
pub fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The files a run writes for one certificate.
pub struct OutputPlan {
    /// Where they go: PREFIX.cer, PREFIX.pem, PREFIX.key, PREFIX.pfx.
    pub prefix: PathBuf,
    /// Write an encrypted PREFIX.key.
    pub with_key: bool,
    /// Write PREFIX.pfx.
    pub with_pfx: bool,
}

impl OutputPlan {
    /// The paths this plan will write.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![with_ext(&self.prefix, "cer"), with_ext(&self.prefix, "pem")];
        if self.with_key {
            paths.push(with_ext(&self.prefix, "key"));
        }
        if self.with_pfx {
            paths.push(with_ext(&self.prefix, "pfx"));
        }
        paths
    }

    /// Fails if any output exists or its folder cannot be made; run before asking for passwords.
    pub fn check_free(&self) -> Result<()> {
        for path in self.paths() {
            if path.exists() {
                return Err(Error::Exists { path });
            }
        }
        Ok(())
    }
}

/// A certificate that was issued and written.
#[derive(Debug)]
pub struct Issued {
    /// The new certificate.
    pub cert: CertInfo,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Subject of the issuer (itself when self-signed).
    pub issuer: String,
    /// True for self-signed certificates.
    pub self_signed: bool,
}

/// Signs `spec` for `public_key` with `signer`.
pub fn sign(
    spec: &LeafSpec,
    public_key: &impl PublicKeyData,
    signer: &Signer<'_>,
    self_key: Option<&KeyPair>,
) -> Result<CertInfo> {
    let params = spec.params()?;
    match signer {
        Signer::Ca { ca, .. } => ca.sign(&params, public_key),
        Signer::SelfSigned => {
            let key = self_key.ok_or_else(|| {
                Error::BadInput("a self-signed certificate needs its own key".into())
            })?;
            let cert = params.self_signed(key)?;
            CertInfo::from_der(cert.der(), Path::new("(new certificate)"))
        }
    }
}

/// The inventory record of a CA-signed certificate.
pub fn record_for(spec: &LeafSpec, cert: &CertInfo, renewal_of: Option<String>) -> IssuedRecord {
    IssuedRecord {
        serial: cert.serial.clone(),
        subject: cert.subject.clone(),
        cn: spec.cn.clone(),
        profile: spec.profile,
        sans: cert.sans.clone(),
        extra_ekus: spec.extra_ekus.clone(),
        key: spec.key_type,
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        crl_url: spec.crl_url.clone(),
        renewal_of,
    }
}

/// Writes the outputs of one certificate and, when CA-signed, records it; all or nothing.
/// `key` is the new private key and its file's password (None when signing a CSR); `pfx` the PFX bytes.
pub fn write_and_record(
    plan: &OutputPlan,
    cert: &CertInfo,
    key: Option<(&KeyPair, &Secret)>,
    pfx: Option<Vec<u8>>,
    signer: &Signer<'_>,
    record: Option<IssuedRecord>,
) -> Result<Vec<PathBuf>> {
    let mut set = NewFiles::new();
    set.add(with_ext(&plan.prefix, "cer"), cert.der.clone(), PUBLIC);
    set.add(with_ext(&plan.prefix, "pem"), cert.pem(), PUBLIC);
    if let Some((key, password)) = key {
        let pem = keys::encrypt_pem(key, password)?;
        set.add(with_ext(&plan.prefix, "key"), pem.as_bytes(), PRIVATE);
    }
    if let Some(bytes) = pfx {
        set.add(with_ext(&plan.prefix, "pfx"), bytes, PRIVATE);
    }
    if let Some(folder) = plan.prefix.parent()
        && !folder.as_os_str().is_empty()
        && !folder.exists()
    {
        std::fs::create_dir_all(folder).map_err(|e| Error::io("create folder", folder, e))?;
    }
    match (signer, record) {
        (Signer::Ca { store, .. }, Some(record)) => {
            let lock = store.lock()?;
            let written = set.commit()?;
            if let Err(err) = store.record_issued(&lock, cert, record) {
                files::remove_all(&written);
                return Err(err);
            }
            Ok(written)
        }
        _ => set.commit(),
    }
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
