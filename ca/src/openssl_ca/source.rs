//! Where a CA made by another program keeps its files (an easy-rsa PKI, an `openssl ca` folder, or an
//! `index.txt` with a folder of certificates), and reading them: never writing, never following a link out of
//! the source's folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use super::config::CaPaths;
use crate::certinfo::CertInfo;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::serial::Serial;

/// The CA to bring in, as the command line names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An easy-rsa 3 PKI folder (`easyrsa init-pki` made it).
    EasyRsa(PathBuf),
    /// An `openssl ca` folder, with its configuration (default: `DIR/openssl.cnf` if there, else OpenSSL's
    /// own defaults in DIR).
    OpensslCa {
        /// The folder; relative paths in the configuration are taken in it.
        dir: PathBuf,
        /// The configuration file.
        config: Option<PathBuf>,
    },
    /// An `index.txt` (XCA's export, or any other) with the certificates, the CA certificate and its key.
    Index {
        /// The index file.
        index: PathBuf,
        /// The folder of certificates.
        certs: PathBuf,
        /// The CA certificate.
        ca_cert: PathBuf,
        /// The CA key (None: it is on a token, `--pkcs11`).
        ca_key: Option<PathBuf>,
    },
}

/// A folder of certificates to read, and how deep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFolder {
    /// The folder.
    pub path: PathBuf,
    /// Whether its subfolders are read too (an easy-rsa PKI: `issued/`, `certs_by_serial/`, `revoked/`,
    /// `renewed/`; never `private/` or `reqs/`).
    pub recursive: bool,
    /// Whether its files are named by serial (`SERIAL.pem`), as `openssl ca` names them; in a recursive
    /// folder, the subfolders called `certs_by_serial` are.
    pub by_serial: bool,
}

/// Where the source keeps each thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `easy-rsa`, `openssl ca` or `index`.
    pub kind: &'static str,
    /// The folder no link may lead out of.
    pub root: PathBuf,
    /// `index.txt`.
    pub index: PathBuf,
    /// Where the certificates are.
    pub certs: Vec<CertFolder>,
    /// The CA certificate.
    pub ca_cert: PathBuf,
    /// The CA key's file (None for an index whose key is on a token).
    pub ca_key: Option<PathBuf>,
    /// The next serial (hex), when kept.
    pub serial: Option<PathBuf>,
    /// The next CRL number (hex), when kept.
    pub crlnumber: Option<PathBuf>,
    /// The current CRL, when kept.
    pub crl: Option<PathBuf>,
}

/// Folders of an easy-rsa PKI that hold keys or requests, never read.
const EASYRSA_SKIPPED: [&str; 4] = ["private", "reqs", "private_by_serial", "reqs_by_serial"];

impl Source {
    /// The files of the source, checked to be there.
    pub fn layout(&self) -> Result<Layout> {
        let layout = match self {
            Source::EasyRsa(pki) => {
                if !pki.join("index.txt").is_file() || !pki.join("ca.crt").is_file() {
                    return Err(Error::BadInput(format!(
                        "{} is not an easy-rsa PKI with a CA (no index.txt or ca.crt in it): give the pki folder that easyrsa init-pki and build-ca made",
                        pki.display()
                    )));
                }
                Layout {
                    kind: "easy-rsa",
                    root: pki.clone(),
                    index: pki.join("index.txt"),
                    certs: vec![CertFolder {
                        path: pki.clone(),
                        recursive: true,
                        by_serial: false,
                    }],
                    ca_cert: pki.join("ca.crt"),
                    ca_key: Some(pki.join("private/ca.key")),
                    serial: Some(pki.join("serial")),
                    crlnumber: Some(pki.join("crlnumber")),
                    crl: Some(pki.join("crl.pem")),
                }
            }
            Source::OpensslCa { dir, config } => {
                if !dir.is_dir() {
                    return Err(Error::BadInput(format!(
                        "{} is not a folder: give the folder openssl ca works in",
                        dir.display()
                    )));
                }
                let config = config
                    .clone()
                    .or_else(|| Some(dir.join("openssl.cnf")).filter(|p| p.is_file()));
                let paths = match &config {
                    Some(file) => {
                        let text = String::from_utf8(crate::files::read(file)?)
                            .map_err(|_| Error::malformed(file, "not a text file"))?;
                        CaPaths::from_config(&text, file, dir)?
                    }
                    None => CaPaths::defaults(dir),
                };
                if !paths.database.is_file() {
                    return Err(Error::BadInput(format!(
                        "{} has no certificate database ({} is missing): give the folder of an openssl ca, with --config if its openssl.cnf is elsewhere",
                        dir.display(),
                        paths.database.display()
                    )));
                }
                Layout {
                    kind: "openssl ca",
                    root: dir.clone(),
                    index: paths.database,
                    certs: vec![CertFolder {
                        path: paths.new_certs_dir,
                        recursive: false,
                        by_serial: true,
                    }],
                    ca_cert: paths.certificate,
                    ca_key: Some(paths.private_key),
                    serial: Some(paths.serial),
                    crlnumber: paths.crlnumber,
                    crl: paths.crl,
                }
            }
            Source::Index {
                index,
                certs,
                ca_cert,
                ca_key,
            } => Layout {
                kind: "index",
                root: certs.clone(),
                index: index.clone(),
                // Exported by hand or by XCA: named as the user chose, not by serial.
                certs: vec![CertFolder {
                    path: certs.clone(),
                    recursive: false,
                    by_serial: false,
                }],
                ca_cert: ca_cert.clone(),
                ca_key: ca_key.clone(),
                serial: None,
                crlnumber: None,
                crl: None,
            },
        };
        Ok(layout)
    }
}

/// A certificate file found in the source.
#[derive(Clone, Debug)]
pub struct Found {
    /// Where.
    pub path: PathBuf,
    /// Its DER.
    pub der: Vec<u8>,
    /// The serial it holds.
    pub serial: Serial,
    /// The serial its name gives (`SERIAL.pem` in `new_certs_dir` and `certs_by_serial/`), if it is named so.
    pub named_serial: Option<Serial>,
}

/// The certificate files of the source, by serial, and how many files were not certificates.
#[derive(Debug, Default)]
pub struct Certificates {
    /// Every certificate file, by the serial it holds.
    pub by_serial: HashMap<Serial, Vec<Found>>,
    /// Files that hold no certificate (a CRL, a README).
    pub other_files: usize,
}

/// Finds and reads every certificate file of `layout` (on every core), refusing a link that leads out of its
/// root folder.
pub fn certificates(layout: &Layout) -> Result<Certificates> {
    let root =
        std::fs::canonicalize(&layout.root).map_err(|e| Error::io("open", &layout.root, e))?;
    let mut paths = Vec::new();
    for folder in &layout.certs {
        if !folder.path.is_dir() {
            continue;
        }
        walk(&folder.path, folder, &root, 0, &mut paths)?;
    }
    let read = on_every_core(&paths, |(path, named)| read_found(path, *named))?;
    let mut all = Certificates::default();
    for found in read {
        match found? {
            Some((serial, found)) => all.by_serial.entry(serial).or_default().push(found),
            None => all.other_files += 1,
        }
    }
    Ok(all)
}

/// `f` over every item, on every core, the answers in the items' order; an error if a worker stopped.
pub fn on_every_core<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync) -> Result<Vec<T>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(workers).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<T>>()))
            .collect();
        let mut all = Vec::with_capacity(items.len());
        for handle in handles {
            all.extend(
                handle
                    .join()
                    .map_err(|_| Error::Bug("a worker reading the source CA stopped"))?,
            );
        }
        Ok(all)
    })
}

/// The files of `dir` (and of its subfolders, for a recursive folder), each with whether its name is its serial.
fn walk(
    dir: &Path,
    folder: &CertFolder,
    root: &Path,
    depth: usize,
    out: &mut Vec<(PathBuf, bool)>,
) -> Result<()> {
    let by_serial =
        folder.by_serial || dir.file_name().and_then(|n| n.to_str()) == Some("certs_by_serial");
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the folder", dir, e))?;
    let mut names: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io("read the folder", dir, e))?;
    names.sort();
    for path in names {
        let meta = path
            .symlink_metadata()
            .map_err(|e| Error::io("read", &path, e))?;
        let target_meta = if meta.file_type().is_symlink() {
            let target =
                std::fs::canonicalize(&path).map_err(|e| Error::io("follow the link", &path, e))?;
            if !target.starts_with(root) {
                return Err(Error::BadInput(format!(
                    "{} is a link to {}, outside the source folder {}: nothing is read through it; copy the certificate into the folder or remove the link",
                    path.display(),
                    target.display(),
                    root.display()
                )));
            }
            std::fs::metadata(&target).map_err(|e| Error::io("read", &target, e))?
        } else {
            meta
        };
        if target_meta.is_dir() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if folder.recursive && depth < 4 && !EASYRSA_SKIPPED.contains(&name) {
                walk(&path, folder, root, depth + 1, out)?;
            }
        } else if target_meta.is_file() {
            out.push((path, by_serial));
        }
    }
    Ok(())
}

/// Files larger than this are not certificates.
const MAX_CERT_FILE: u64 = 1 << 20;

/// A certificate file and the serial it holds.
type SerialFile = (Serial, Found);

/// The certificate in the file at `path`, with its serial, or None when the file holds none.
fn read_found(path: &Path, named_by_serial: bool) -> Result<Option<SerialFile>> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if size > MAX_CERT_FILE {
        return Ok(None);
    }
    let bytes = crate::files::read(path)?;
    let Some(der) = certificate_der(&bytes) else {
        return Ok(None);
    };
    let Ok((_, cert)) = X509Certificate::from_der(&der) else {
        return Ok(None);
    };
    let serial = Serial::from_der_integer(cert.raw_serial());
    let named_serial = Some(path)
        .filter(|_| named_by_serial)
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .filter(|s| s.len() >= 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| Serial::parse(s).ok());
    Ok(Some((
        serial.clone(),
        Found {
            path: path.to_path_buf(),
            der,
            serial,
            named_serial,
        },
    )))
}

/// The first certificate of a PEM file (easy-rsa's and OpenSSL's have text before it), or DER bytes. Decoded
/// without OpenSSL, whose PEM reading takes a global lock per call (a hundred thousand files on every core).
fn certificate_der(bytes: &[u8]) -> Option<Vec<u8>> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    match bytes.windows(BEGIN.len()).position(|w| w == BEGIN) {
        Some(at) => x509_parser::pem::parse_x509_pem(&bytes[at..])
            .ok()
            .filter(|(_, pem)| pem.label == "CERTIFICATE")
            .map(|(_, pem)| pem.contents),
        None if bytes.first() == Some(&0x30) => Some(bytes.to_vec()),
        None => None,
    }
}

/// The CA certificate of the source.
pub fn ca_certificate(layout: &Layout) -> Result<CertInfo> {
    let cert = crate::certinfo::read_cert(&layout.ca_cert)?;
    if !cert.is_ca {
        return Err(Error::BadInput(format!(
            "{} is not a CA certificate (basicConstraints CA:TRUE is missing)",
            layout.ca_cert.display()
        )));
    }
    Ok(cert)
}

/// True when the PEM key at `pem` is encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's traditional
/// `Proc-Type: 4,ENCRYPTED`).
pub fn key_is_encrypted(pem: &str) -> bool {
    pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || pem.contains("Proc-Type: 4,ENCRYPTED")
}

/// The source's CA key (PEM: PKCS#8 or PKCS#1/SEC 1, encrypted with `password` or not) as PKCS#8 DER,
/// checked to be the key of `ca`. OpenSSL never asks on the terminal: a missing password is an error.
pub fn ca_key(
    path: &Path,
    pem: &str,
    password: Option<&Secret>,
    ca: &CertInfo,
) -> Result<Zeroizing<Vec<u8>>> {
    if !pem.contains("PRIVATE KEY-----") {
        return Err(Error::malformed(path, "not a PEM private key"));
    }
    let wrong = || Error::WrongPassword { path: path.into() };
    let key = openssl::pkey::PKey::private_key_from_pem_callback(pem.as_bytes(), |buf| {
        let Some(password) = password else {
            return Err(openssl::error::ErrorStack::get());
        };
        let bytes = password.expose().as_bytes();
        if bytes.len() > buf.len() {
            return Err(openssl::error::ErrorStack::get());
        }
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(bytes.len())
    })
    .map_err(|_| match password {
        Some(_) if key_is_encrypted(pem) => wrong(),
        _ => Error::malformed(path, "not a private key OpenSSL can read"),
    })?;
    let public = key
        .public_key_to_der()
        .map_err(|e| Error::crypto("reading the CA key", e))?;
    if public != ca.spki_der {
        return Err(Error::BadInput(format!(
            "{} is not the key of the CA certificate ({}): the source's key and certificate do not belong together",
            path.display(),
            ca.subject
        )));
    }
    Ok(Zeroizing::new(
        key.private_key_to_pkcs8()
            .map_err(|e| Error::crypto("reading the CA key", e))?,
    ))
}

/// A number in a hex file (`serial`, `crlnumber`): None when the file is absent.
pub fn hex_number_file(path: &Path) -> Result<Option<Vec<u8>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let serial = Serial::parse(text.trim())
        .map_err(|_| Error::malformed(path, "expected a number in hex, as openssl ca writes it"))?;
    Ok(Some(serial.bytes().to_vec()))
}
