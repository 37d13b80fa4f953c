//! An issuing CA made apart from its root (air-gapped): `certkit-ca init --request FILE` makes its key and a
//! request and nothing that signs; the root signs the request (`certkit-ca sign-ca`); `certkit-ca install`
//! checks that the certificate is for the key and that the chain verifies it, then makes the folder a CA.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::init::TokenChoice;
use crate::certinfo::{self, CertInfo};
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::profile;
use crate::secret::{self, SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::{self, KeyLocation, NewCaKey, guard};
use crate::term::{self, Format, Report, output::path_text, secrets};
use crate::thumbprint::Thumbprint;
use crate::token::ModuleSearch;

/// The request that was made.
#[derive(Debug, Serialize)]
pub struct RequestReport {
    /// The CA folder, waiting for its certificate.
    #[serde(rename = "ca")]
    pub dir: String,
    /// The request file given.
    pub request: String,
    /// Files written.
    pub files: Vec<String>,
    /// Where its key is.
    pub key_location: KeyLocation,
}

/// What `certkit-ca init --request FILE` was asked to do.
#[derive(Debug)]
pub struct KeyRequest {
    /// The CA to make (its name, key type, CRL URL; the CA above decides the rest).
    pub spec: store::CaSpec,
    /// The token to make the key on, if not in `ca.key`.
    pub token: Option<TokenChoice>,
    /// Where the request goes.
    pub out: PathBuf,
    /// Where the new CA key password (or the token PIN) comes from.
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// `init --request FILE`: the key and the request, written to FILE and into the folder.
pub fn request(req: KeyRequest) -> Result<()> {
    let out = req.out.as_path();
    guard::check_output(out, &[])?;
    // A run interrupted after it made the folder: the request is there; hand it out again (or, when the
    // run had written it too, report it).
    let dir = &req.spec.dir;
    let made = dir.join(store::CA_REQUEST);
    let earlier = made.is_file()
        && !dir.join(store::CA_PEM).exists()
        && crate::csr::read(&made)?.cn == req.spec.cn;
    let given = std::fs::read(out).ok();
    if out.symlink_metadata().is_ok() && !(earlier && given == Some(files::read(&made)?)) {
        return Err(Error::Exists {
            path: out.to_path_buf(),
        });
    }
    if earlier {
        term::note(&format!(
            "{} was made by an earlier run that could not finish; its request is written again",
            dir.display()
        ));
        if given.is_none() {
            files::write_new(out, &files::read(&made)?, PUBLIC)?;
        }
        let report = RequestReport {
            dir: path_text(dir),
            request: path_text(out),
            files: vec![path_text(out)],
            key_location: store::waiting_key_location(dir)?,
        };
        return term::render(&report, req.format);
    }
    let requested = match &req.token {
        None => {
            let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::New)?;
            store::request(
                &req.spec,
                &NewCaKey::File(&password),
                &mut term::waiting_for_lock,
            )?
        }
        Some(choice) => {
            let pin = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PIN, SecretUse::Existing)?;
            let search = ModuleSearch::new(choice.module.as_deref(), None);
            let home = NewCaKey::Token {
                search: &search,
                uri: &choice.uri,
                pin: &pin,
            };
            store::request(&req.spec, &home, &mut term::waiting_for_lock)?
        }
    };
    files::write_new(out, requested.csr_pem.as_bytes(), PUBLIC)?;
    let mut written: Vec<String> = requested.files.iter().map(|p| path_text(p)).collect();
    written.push(path_text(out));
    let report = RequestReport {
        dir: path_text(&req.spec.dir),
        request: path_text(out),
        files: written,
        key_location: requested.key,
    };
    term::render(&report, req.format)
}

impl Report for RequestReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Made the key of the CA in {} and its request {}",
            self.dir, self.request
        )?;
        super::show::write_key_location(out, &self.key_location)?;
        writeln!(
            out,
            "Take {} to the CA above; there: certkit-ca sign-ca --ca ROOT --csr {} --out ISSUING",
            self.request, self.request
        )?;
        writeln!(
            out,
            "Back here: certkit-ca install --ca {} --cert ISSUING.cer --chain ROOT.cer (until then it signs nothing)",
            self.dir
        )
    }
}

/// What `certkit-ca install` was asked to do.
#[derive(Debug)]
pub struct InstallRequest {
    /// The folder made by `init --request`.
    pub ca: PathBuf,
    /// Its certificate, signed by the CA above.
    pub cert: PathBuf,
    /// The CA above and those above it, to the root (files or bundles).
    pub chain: Vec<PathBuf>,
    /// The CA key's password (or the token's PIN).
    pub ca_pass: Option<SecretSource>,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// The CA that was installed.
#[derive(Debug, Serialize)]
pub struct InstallReport {
    /// The CA folder.
    #[serde(rename = "ca")]
    pub dir: String,
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Its SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// The chain above it, the CA that signed it first, the root last (subjects).
    pub chain: Vec<String>,
    /// The root's SHA-1 thumbprint: what services trust.
    pub root_thumbprint: Thumbprint,
    /// The configuration lines for the service (the root's).
    pub config_lines: [String; 2],
    /// Files written.
    pub files: Vec<String>,
}

/// Installs the certificate.
pub fn run(req: InstallRequest) -> Result<()> {
    if req.ca.join(store::CA_PEM).is_file() {
        return install_renewal(req);
    }
    let cert = certinfo::read_cert(&req.cert)?;
    let mut chain = Vec::new();
    for path in &req.chain {
        for der in certinfo::read_cert_ders(path)? {
            chain.push(CertInfo::from_der(&der, path)?);
        }
    }
    let kind = store::waiting_secret_kind(&req.ca)?;
    let secret = secrets::obtain(req.ca_pass.as_ref(), kind, SecretUse::Existing)?;
    let created = store::install(
        &req.ca,
        &cert,
        &chain,
        &secret,
        req.module.as_deref(),
        &mut term::waiting_for_lock,
    )?;
    drop(secret);
    let root = chain
        .last()
        .ok_or(Error::Bug("a chain without a root was installed"))?;
    let mut files = created.files.clone();
    files.push(req.ca.join(store::CHAIN_PEM));
    let report = InstallReport {
        dir: path_text(&req.ca),
        subject: cert.subject.clone(),
        serial: cert.serial.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        chain: chain.iter().map(|c| c.subject.clone()).collect(),
        root_thumbprint: root.thumbprint,
        config_lines: profile::ca_lines(&root.thumbprint),
        files: files.iter().map(|p| path_text(p)).collect(),
    };
    term::render(&report, req.format)
}

/// Puts a renewal the CA above signed (`sign-ca --renew`) in place in a CA folder that has its certificate: it
/// must be for the folder's key and subject and signed by the CA above it (`chain.pem`).
fn install_renewal(req: InstallRequest) -> Result<()> {
    let store = term::open_ca(&req.ca, req.module.clone())?;
    let current = store.cert()?;
    let new = certinfo::read_cert(&req.cert)?;
    if new.spki_der != current.spki_der || new.subject != current.subject {
        return Err(Error::BadInput(format!(
            "{} is not a renewal of the CA in {} (another key or subject); give the certificate sign-ca --renew wrote for it",
            path_text(&req.cert),
            path_text(&req.ca)
        )));
    }
    let above = store.chain_above(&current)?;
    let Some(signer) = above.first() else {
        return Err(Error::BadInput(format!(
            "the CA in {} signed itself: renew it with certkit-ca renew",
            path_text(&req.ca)
        )));
    };
    if !new.is_signed_by(signer)? {
        return Err(Error::BadInput(format!(
            "{} is not signed by {}, the CA above this one; give the renewal that CA signed",
            path_text(&req.cert),
            signer.subject
        )));
    }
    // A chain given must be the folder's: a renewal does not move the CA under another.
    for path in &req.chain {
        for der in certinfo::read_cert_ders(path)? {
            if !above.iter().any(|c| c.der == der) {
                return Err(Error::BadInput(format!(
                    "{} holds a certificate that is not in the chain of {} ({}); a renewal keeps the CA's chain: leave out --chain",
                    path_text(path),
                    path_text(&req.ca),
                    store::CHAIN_PEM
                )));
            }
        }
    }
    let root = above.last().unwrap_or(signer).clone();
    let report = InstallReport {
        dir: path_text(&req.ca),
        subject: new.subject.clone(),
        serial: new.serial.clone(),
        not_before: new.not_before,
        not_after: new.not_after,
        thumbprint: new.thumbprint,
        chain: above.iter().map(|c| c.subject.clone()).collect(),
        root_thumbprint: root.thumbprint,
        config_lines: profile::ca_lines(&root.thumbprint),
        files: [store::CA_CER, store::CA_PEM, store::CHAIN_PEM]
            .iter()
            .map(|f| path_text(&req.ca.join(f)))
            .collect(),
    };
    if new.der == current.der {
        term::note(&format!(
            "{} has its certificate already ({}); nothing was changed",
            path_text(&req.ca),
            new.thumbprint
        ));
        return term::render(&report, req.format);
    }
    let secret = secrets::obtain(
        req.ca_pass.as_ref(),
        store.secret_kind()?,
        SecretUse::Existing,
    )?;
    let signing = store.unlock(&secret)?;
    drop(secret);
    let lock = term::lock(&store)?;
    // Taking the lock may have finished an interrupted run that put this very renewal in place.
    if new.der != store.cert()?.der {
        store.install_renewal(&lock, &signing, &new)?;
    }
    store.checkpoint(&lock, &signing)?;
    drop(lock);
    term::render(&report, req.format)
}

impl Report for InstallReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Installed the CA {} in {}", self.subject, self.dir)?;
        writeln!(out, "  serial      {}", self.serial)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        for (i, above) in self.chain.iter().enumerate() {
            writeln!(
                out,
                "  {}  {above}",
                if i + 1 == self.chain.len() {
                    "root      "
                } else {
                    "signed by "
                }
            )?;
        }
        writeln!(
            out,
            "Services trust the root (and clients present their certificate with this CA's): paste into the .cscfg:"
        )?;
        for line in &self.config_lines {
            writeln!(out, "  {line}")?;
        }
        Ok(())
    }
}
