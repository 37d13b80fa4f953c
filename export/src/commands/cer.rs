//! `certkit-export cer`: a public certificate from any certificate file; `--issuer` finds the CA's.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use certkit_ca::files::{self, PUBLIC};
use certkit_ca::term::output::path_text;
use certkit_ca::term::secrets::PfxPassword;
use certkit_ca::term::{self, Format, Report};
use certkit_ca::{CertInfo, Error, Result, SecretSource, Thumbprint};
use serde::Serialize;
use time::OffsetDateTime;

use crate::sources;

/// What `certkit-export cer` was asked to do.
#[derive(Debug)]
pub struct CerRequest {
    /// The input file.
    pub input: PathBuf,
    /// Write the issuer's certificate instead.
    pub issuer: bool,
    /// Write the root at the top of the chain instead.
    pub root: bool,
    /// PEM instead of DER.
    pub pem: bool,
    /// The file to write.
    pub out: PathBuf,
    /// The PFX password's source, if the input is a PFX.
    pub pfx_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// How to trust a CA certificate as a root.
#[derive(Debug, Serialize)]
pub struct TrustCommands {
    /// For Windows.
    pub windows: String,
    /// For Debian and Ubuntu.
    pub debian: String,
}

/// The certificate that was written.
#[derive(Debug, Serialize)]
pub struct CerReport {
    /// The file.
    pub file: String,
    /// `DER` or `PEM`.
    pub format: &'static str,
    /// The certificate's subject.
    pub subject: String,
    /// Its SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// Its end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// With --issuer or --root, when it is a root: how to trust it.
    pub trust: Option<TrustCommands>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Writes the certificate.
pub fn run(req: CerRequest) -> Result<()> {
    certkit_ca::store::guard::check_output(&req.out, &[])?;
    if req.out.exists() {
        return Err(Error::Exists {
            path: req.out.clone(),
        });
    }
    let mut password = PfxPassword::new(req.pfx_pass.as_ref());
    let file = sources::read_cert_file(&req.input, &mut password)?;
    let missing = |cert: &CertInfo| {
        Error::malformed(
            &req.input,
            format!(
                "holds no certificate of the issuer {}; export the PFX again with \"Include all certificates in the certification path\", or use the CA's own .cer",
                cert.issuer
            ),
        )
    };
    let chosen = if req.root {
        sources::root_of(&file.cert, &file.others)?.map_err(missing)?
    } else if req.issuer {
        if file.cert.issuer == file.cert.subject {
            return Err(Error::BadInput(format!(
                "{} is self-signed ({}): it is its own issuer; export it without --issuer",
                req.input.display(),
                file.cert.subject
            )));
        }
        sources::find_issuer(&file.cert, &file.others)?.ok_or_else(|| missing(&file.cert))?
    } else {
        &file.cert
    };
    let bytes = if req.pem {
        chosen.pem().into_bytes()
    } else {
        chosen.der.clone()
    };
    files::write_new(&req.out, &bytes, PUBLIC)?;
    let inform = if req.pem { "PEM" } else { "DER" };
    let out = path_text(&req.out);
    let is_root = chosen.issuer == chosen.subject;
    let mut warnings = Vec::new();
    if (req.issuer || req.root) && !is_root {
        warnings.push(format!(
            "{} is an issuing CA, not a root: services and admin machines trust the root (certkit-export cer --root); clients present this CA with their certificate (their PFX holds it)",
            chosen.subject
        ));
    }
    let trust = ((req.issuer || req.root) && is_root).then(|| TrustCommands {
        windows: format!("certutil -addstore -f Root {out}"),
        debian: format!(
            "openssl x509 -inform {inform} -in {out} -out /usr/local/share/ca-certificates/{}.crt && update-ca-certificates",
            file_stem(&req.out)
        ),
    });
    let report = CerReport {
        file: out,
        format: inform,
        subject: chosen.subject.clone(),
        thumbprint: chosen.thumbprint,
        not_after: chosen.not_after,
        trust,
        warnings,
    };
    term::render(&report, req.format)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "certkit-ca".into())
}

impl Report for CerReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Wrote {} ({})", self.file, self.format)?;
        writeln!(out, "  subject     {}", self.subject)?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        if let Some(trust) = &self.trust {
            writeln!(out)?;
            writeln!(out, "Trust it as a root:")?;
            writeln!(out, "  Windows: {}", trust.windows)?;
            writeln!(out, "  Debian/Ubuntu: {}", trust.debian)?;
        }
        Ok(())
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
