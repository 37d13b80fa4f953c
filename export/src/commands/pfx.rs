//! `certkit-export pfx`: pvk2pfx, or re-protecting a PFX (e.g. modern -> compat for Azure).

use std::io::{self, Write};
use std::path::PathBuf;

use certkit_ca::files::{self, PRIVATE};
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::secret::{self, SecretUse};
use certkit_ca::term::output::path_text;
use certkit_ca::term::secrets::{Passwords, PfxPassword};
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{CertInfo, Error, Result, SecretSource, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use crate::sources;

/// Where the key and certificate come from.
#[derive(Debug)]
pub enum PfxInput {
    /// A certificate file and its encrypted key file.
    CertAndKey {
        /// The certificate.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The key file password's source.
        pass: Option<SecretSource>,
    },
    /// An existing PFX.
    Pfx {
        /// The PFX.
        file: PathBuf,
        /// Its password's source.
        pass: Option<SecretSource>,
    },
}

/// What `certkit-export pfx` was asked to do.
#[derive(Debug)]
pub struct PfxRequest {
    /// Key and certificate.
    pub input: PfxInput,
    /// CA certificates to include.
    pub chain: Vec<PathBuf>,
    /// Protection profile.
    pub profile: PfxProfile,
    /// friendlyName (default: the CN).
    pub name: Option<String>,
    /// The PFX to write.
    pub out: PathBuf,
    /// The new PFX password's source.
    pub pfx_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// The PFX that was written.
#[derive(Debug, Serialize)]
pub struct PfxReport {
    /// The file.
    pub file: String,
    /// Its protection profile.
    pub profile: PfxProfile,
    /// The certificate's subject.
    pub subject: String,
    /// friendlyName on key and certificate.
    pub friendly_name: String,
    /// Subjects of the CA certificates included.
    pub chain: Vec<String>,
    /// The certificate's thumbprint.
    pub thumbprint: Thumbprint,
    /// The certificate's end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Writes the PFX.
pub fn run(req: PfxRequest) -> Result<()> {
    certkit_ca::store::guard::check_output(&req.out, &[])?;
    if req.out.exists() {
        return Err(Error::Exists {
            path: req.out.clone(),
        });
    }
    let mut chain = Vec::new();
    for path in &req.chain {
        for der in certkit_ca::certinfo::read_cert_ders(path)? {
            chain.push(CertInfo::from_der(&der, path)?);
        }
    }
    let mut read = Passwords::read(&[
        (
            secret::KEY_PASS,
            match &req.input {
                PfxInput::CertAndKey { pass, .. } => pass.as_ref(),
                PfxInput::Pfx { .. } => None,
            },
        ),
        (
            secret::FROM_PASS,
            match &req.input {
                PfxInput::Pfx { pass, .. } => pass.as_ref(),
                PfxInput::CertAndKey { .. } => None,
            },
        ),
        (secret::PFX_PASS, req.pfx_pass.as_ref()),
    ])?;
    let (cert, key, cert_path) = match &req.input {
        PfxInput::Pfx { file, .. } => {
            let mut password =
                PfxPassword::known(read.take(secret::FROM_PASS, SecretUse::Existing)?);
            let read = sources::read_cert_file(file, &mut password)?;
            let key = read.key.ok_or_else(|| {
                Error::malformed(file, "the PFX holds no private key; export it again from Windows with \"Yes, export the private key\"")
            })?;
            sources::check_pair(&key, &read.cert, file, file)?;
            for other in read.others {
                if !chain.iter().any(|c| c.thumbprint == other.thumbprint) {
                    chain.push(other);
                }
            }
            (read.cert, key, file.clone())
        }
        PfxInput::CertAndKey { cert, key, .. } => {
            let info = certkit_ca::certinfo::read_cert(cert)?;
            let key_password = read.take(secret::KEY_PASS, SecretUse::Existing)?;
            let pkey = sources::read_key(key, &key_password)?;
            sources::check_pair(&pkey, &info, key, cert)?;
            (info, pkey, cert.clone())
        }
    };
    let mut warnings = Vec::new();
    if !chain.is_empty()
        && sources::find_issuer(&cert, &chain)?.is_none()
        && cert.issuer != cert.subject
    {
        warnings.push(format!(
            "no --chain certificate issued {} (its issuer is {}); the PFX will not carry its CA",
            cert_path.display(),
            cert.issuer
        ));
    }
    let name = req
        .name
        .clone()
        .or_else(|| cert.cn.clone())
        .unwrap_or_else(|| cert.subject.clone());
    let pfx_password = read.take(secret::PFX_PASS, SecretUse::New)?;
    let chain_x509 = chain
        .iter()
        .map(sources::x509)
        .collect::<Result<Vec<_>>>()?;
    let bytes = pfx::build(
        req.profile,
        &key,
        &sources::x509(&cert)?,
        &chain_x509,
        &name,
        &pfx_password,
    )?;
    files::write_new(&req.out, &bytes, PRIVATE)?;
    let report = PfxReport {
        file: path_text(&req.out),
        profile: req.profile,
        subject: cert.subject,
        friendly_name: name,
        chain: chain.into_iter().map(|c| c.subject).collect(),
        thumbprint: cert.thumbprint,
        not_after: cert.not_after,
        warnings,
    };
    term::render(&report, req.format)
}

impl Report for PfxReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Wrote {}", self.file)?;
        writeln!(out, "  subject     {}", self.subject)?;
        writeln!(out, "  name        {}", self.friendly_name)?;
        for ca in &self.chain {
            writeln!(out, "  chain       {ca}")?;
        }
        writeln!(
            out,
            "  profile     {}: {}",
            self.profile.name(),
            self.profile.description()
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
