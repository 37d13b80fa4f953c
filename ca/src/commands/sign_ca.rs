//! `certkit-ca sign-ca`: this CA (a root, kept offline) signs a CA below it from its request, and records it
//! like any certificate it signs (profile `ca`): listed, revoked and put on this CA's CRL like the others.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::constraints::NameConstraints;
use crate::dates::{Lifetime, Validity, rfc3339};
use crate::error::{Error, Result};
use crate::files::PUBLIC;
use crate::naming::check_cn;
use crate::profile::Profile;
use crate::secret::{SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::inventory::IssuedRecord;
use crate::store::{self, CaStore, Delivery, OutputFile};
use crate::term::{self, Format, Report, output::path_text, secrets};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca sign-ca` was asked to do.
#[derive(Debug)]
pub struct SignCaRequest {
    /// The signing CA's folder.
    pub ca: PathBuf,
    /// What to sign.
    pub what: SignCaWhat,
    /// Output prefix: PREFIX.cer and PREFIX.pem.
    pub out: PathBuf,
    /// Its pathLen (default: one less than the signing CA's).
    pub pathlen: Option<u8>,
    /// Its validity; None: five years, or up to the signing CA's end if that comes first.
    pub lifetime: Option<Lifetime>,
    /// Its name constraints.
    pub constraints: NameConstraints,
    /// Its certificate policies.
    pub policies: Vec<crate::profile_file::Policy>,
    /// The signing CA's key password (or token PIN).
    pub ca_pass: Option<SecretSource>,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What `sign-ca` signs.
#[derive(Debug)]
pub enum SignCaWhat {
    /// A new CA below, from its request.
    Request(PathBuf),
    /// A renewal of a CA below, from its current certificate.
    Renewal(PathBuf),
}

/// The CA that was signed.
#[derive(Debug, Serialize)]
pub struct SignCaReport {
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Its pathLen.
    pub pathlen: u8,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// The signing CA's subject.
    pub issuer: String,
    /// Files written.
    pub files: Vec<String>,
    /// Its permitted names.
    pub permitted_names: Vec<String>,
    /// Its excluded names.
    pub excluded_names: Vec<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Signs the lower CA.
pub fn run(req: SignCaRequest) -> Result<()> {
    let store = CaStore::open(&req.ca)?.with_module(req.module.clone());
    // Taking the lock repairs what an interrupted run left, so that a rerun sees its delivery.
    drop(term::lock(&store)?);
    let csr = match &req.what {
        SignCaWhat::Request(csr) => csr,
        SignCaWhat::Renewal(old) => return renew(&store, &req, old),
    };
    let request = crate::csr::read(csr)?;
    check_cn(&request.cn)?;
    let parent = store.cert()?;
    let cer = req.out.with_extension("cer");
    let pem = req.out.with_extension("pem");
    let paths = [cer.clone(), pem.clone()];
    if let Some(cert) = store.unconfirmed_delivery(&paths, &request.cn)? {
        // A run killed after it delivered: the same CA, reported again.
        term::note(&format!(
            "{} was delivered by an earlier run that could not finish; nothing new was signed",
            cert.serial
        ));
        let pathlen = cert
            .path_len
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0);
        return term::render(
            &report(cert, pathlen, &parent.subject, &paths, Vec::new())?,
            req.format,
        );
    }
    let validity = sub_ca_validity(&parent, req.lifetime)?;
    let signing = unlock_for(&store, &req, &paths)?;
    let (cert, pathlen) = sign_and_record(
        &store,
        &signing,
        &request,
        SubCaTerms {
            pathlen: req.pathlen,
            validity: validity.0,
            constraints: &req.constraints,
            policies: &req.policies,
        },
        |cert| cert_files(&cer, &pem, cert),
    )?;
    term::render(
        &report(cert, pathlen, &parent.subject, &paths, validity.1)?,
        req.format,
    )
}

/// Signs a renewal of the CA whose certificate is `old` (one this CA signed and recorded): the same key,
/// subject, pathLen and name constraints, recorded as a renewal of its serial, delivered in PREFIX.cer/.pem.
fn renew(store: &CaStore, req: &SignCaRequest, old: &std::path::Path) -> Result<()> {
    let parent = store.cert()?;
    let old = crate::certinfo::read_cert(old)?;
    let recorded = store.entry_by_thumbprint(&old.thumbprint)?;
    match &recorded {
        Some(entry) if entry.issued.profile == Profile::Ca && entry.revoked.is_none() => {}
        Some(entry) if entry.revoked.is_some() => {
            return Err(Error::BadInput(format!(
                "{} (serial {}) was revoked; a revoked CA is not renewed",
                old.subject, old.serial
            )));
        }
        _ => {
            return Err(Error::BadInput(format!(
                "{} (serial {}) is not a CA this CA signed: renew a CA with the CA that signed it",
                old.subject, old.serial
            )));
        }
    }
    let cer = req.out.with_extension("cer");
    let pem = req.out.with_extension("pem");
    let paths = [cer.clone(), pem.clone()];
    let cn = old.cn.clone().unwrap_or_default();
    if let Some(cert) = store.unconfirmed_delivery(&paths, &cn)? {
        term::note(&format!(
            "{} was delivered by an earlier run that could not finish; nothing new was signed",
            cert.serial
        ));
        let pathlen = cert
            .path_len
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0);
        return term::render(
            &report(cert, pathlen, &parent.subject, &paths, Vec::new())?,
            req.format,
        );
    }
    let (validity, warnings) = sub_ca_validity(&parent, req.lifetime)?;
    let signing = unlock_for(store, req, &paths)?;
    let cert = store::renewal_below(&signing, &old, validity)?;
    record_renewal(store, &signing, &old, &cert, cert_files(&cer, &pem, &cert))?;
    let pathlen = cert
        .path_len
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(0);
    term::render(
        &report(cert, pathlen, &parent.subject, &paths, warnings)?,
        req.format,
    )
}

/// Checks the outputs are free, unlocks the signing CA and makes the outputs' folder.
fn unlock_for(
    store: &CaStore,
    req: &SignCaRequest,
    paths: &[PathBuf],
) -> Result<crate::signer::SigningCa> {
    store.check_outputs_free(paths)?;
    let password = secrets::obtain(
        req.ca_pass.as_ref(),
        store.secret_kind()?,
        SecretUse::Existing,
    )?;
    let signing = store.unlock(&password)?;
    drop(password);
    if let Some(cer) = paths.first()
        && let Some(folder) = cer.parent()
        && !folder.as_os_str().is_empty()
        && !folder.exists()
    {
        store::guard::check_output(cer, &[])?;
        std::fs::create_dir_all(folder).map_err(|e| Error::io("create folder", folder, e))?;
    }
    Ok(signing)
}

/// A CA certificate delivered as PREFIX.cer and PREFIX.pem.
fn cert_files(
    cer: &std::path::Path,
    pem: &std::path::Path,
    cert: &crate::certinfo::CertInfo,
) -> Vec<OutputFile> {
    vec![
        OutputFile {
            path: cer.to_path_buf(),
            bytes: cert.der.clone(),
            mode: PUBLIC,
        },
        OutputFile {
            path: pem.to_path_buf(),
            bytes: cert.pem().into_bytes(),
            mode: PUBLIC,
        },
    ]
}

/// Records `new`, which `signing` signed, as the renewal of the CA certificate `old`, delivered in `files`,
/// then signs a checkpoint.
pub fn record_renewal(
    store: &CaStore,
    signing: &crate::signer::SigningCa,
    old: &crate::certinfo::CertInfo,
    new: &crate::certinfo::CertInfo,
    files: Vec<OutputFile>,
) -> Result<()> {
    let record = IssuedRecord::new(
        new,
        new.cn.as_deref().unwrap_or_default(),
        Profile::Ca,
        Vec::new(),
        crate::keys::KeyType::of_spki_der(&new.spki_der)?,
        signing.crl_url.clone(),
        Some(old.serial.clone()),
    );
    let lock = term::lock(store)?;
    let leftovers = store.leftovers()?;
    store.deliver(&lock, &leftovers, vec![Delivery { record, files }])?;
    store.checkpoint(&lock, signing)
}

/// The validity of a CA `parent` signs: as asked (never past the parent's end), or five years cut short at
/// the parent's end (with a warning saying so).
pub fn sub_ca_validity(
    parent: &crate::certinfo::CertInfo,
    lifetime: Option<Lifetime>,
) -> Result<(Validity, Vec<String>)> {
    match lifetime {
        Some(lifetime) => {
            let validity = Validity::starting_now(lifetime)?;
            if validity.not_after > parent.not_after {
                return Err(Error::BadInput(format!(
                    "the CA would outlive the CA that signs it: {} expires on {}; choose an earlier --expires or fewer --days",
                    parent.subject,
                    rfc3339(parent.not_after)
                )));
            }
            Ok((validity, Vec::new()))
        }
        None => {
            let validity = Validity::starting_now(Lifetime::Days(store::DEFAULT_SUB_CA_DAYS))?;
            if validity.not_after > parent.not_after {
                Ok((
                    Validity {
                        not_after: parent.not_after,
                        ..validity
                    },
                    vec![format!(
                        "valid until {}, when {} expires (not the default five years)",
                        rfc3339(parent.not_after),
                        parent.subject
                    )],
                ))
            } else {
                Ok((validity, Vec::new()))
            }
        }
    }
}

/// What a CA below is given beyond its request: pathLen (None: one less than its signer's), validity, name
/// constraints and certificate policies.
pub struct SubCaTerms<'a> {
    /// `--pathlen`.
    pub pathlen: Option<u8>,
    /// Its validity.
    pub validity: Validity,
    /// Its name constraints.
    pub constraints: &'a NameConstraints,
    /// Its certificate policies.
    pub policies: &'a [crate::profile_file::Policy],
}

/// Signs the CA of `request` with `signing` (pathLen as asked, or one less than its own) and records it in
/// `store`'s inventory by the write-ahead rule, delivered in the files `files` gives (none: the record and
/// the `issued/` copy are the delivery), then signs a checkpoint. Returns it with its pathLen.
pub fn sign_and_record(
    store: &CaStore,
    signing: &crate::signer::SigningCa,
    request: &crate::csr::CsrRequest,
    terms: SubCaTerms<'_>,
    files: impl Fn(&crate::certinfo::CertInfo) -> Vec<OutputFile>,
) -> Result<(crate::certinfo::CertInfo, u8)> {
    let SubCaTerms {
        pathlen,
        validity,
        constraints,
        policies,
    } = terms;
    let pathlen = signing.sub_ca_pathlen(pathlen)?;
    let mut params = store::ca_params(&request.cn, pathlen, validity, constraints, policies)?;
    params.use_authority_key_identifier_extension = true;
    if let Some(url) = &signing.crl_url {
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![url.clone()],
        }];
    }
    let cert = signing.sign(&params, &request.public_key)?;
    let record = IssuedRecord::new(
        &cert,
        &request.cn,
        Profile::Ca,
        Vec::new(),
        request.key_type,
        signing.crl_url.clone(),
        None,
    );
    let lock = term::lock(store)?;
    let leftovers = store.leftovers()?;
    store.deliver(
        &lock,
        &leftovers,
        vec![Delivery {
            record,
            files: files(&cert),
        }],
    )?;
    store.checkpoint(&lock, signing)?;
    Ok((cert, pathlen))
}

fn report(
    cert: crate::certinfo::CertInfo,
    pathlen: u8,
    issuer: &str,
    paths: &[PathBuf],
    warnings: Vec<String>,
) -> Result<SignCaReport> {
    let constraints = NameConstraints::of_cert(&cert.der)?;
    Ok(SignCaReport {
        permitted_names: constraints.permitted_names(),
        excluded_names: constraints.excluded_names(),
        subject: cert.subject,
        serial: cert.serial,
        pathlen,
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        sha256: cert.sha256,
        issuer: issuer.to_string(),
        files: paths.iter().map(|p| path_text(p)).collect(),
        warnings,
    })
}

impl Report for SignCaReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Signed the CA {} (serial {})",
            self.subject, self.serial
        )?;
        writeln!(out, "  issuer      {}", self.issuer)?;
        writeln!(out, "  pathLen     {}", self.pathlen)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        term::output::constraint_lines(out, &self.permitted_names, &self.excluded_names)?;
        for file in &self.files {
            writeln!(out, "Wrote {file}")?;
        }
        writeln!(
            out,
            "It is in this CA's inventory (profile ca): revoke it here, and it is on this CA's next CRL."
        )
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
