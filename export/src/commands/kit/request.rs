//! What `kit` was asked to do, and what a new kit and a refresh share: absolute paths, the server
//! certificate with its passwords, the order of the files.

use std::path::{Path, PathBuf};

use certkit_ca::secret::{self, SecretUse};
use certkit_ca::store::CaStore;
use certkit_ca::term::Format;
use certkit_ca::term::secrets::Passwords;
use certkit_ca::{Error, Result, Secret, SecretSource};
use time::OffsetDateTime;

use crate::kit::{Identities, KeyFormat, KitFile, ServerMaterial};
use crate::targets::Target;

/// What a new kit is made of.
#[derive(Debug)]
pub struct NewKit {
    /// The consumer.
    pub target: Target,
    /// The CA folder.
    pub ca: PathBuf,
    /// The kit folder.
    pub out_dir: PathBuf,
    /// The server certificate's file prefix.
    pub server: Option<PathBuf>,
    /// The API Management policy to keep the identities of.
    pub policy: Option<PathBuf>,
    /// The service configuration to keep the thumbprints of (cses).
    pub cscfg: Option<PathBuf>,
    /// Key Vault's format.
    pub key_format: KeyFormat,
    /// Refuse a client CA without OCSP (Application Gateway).
    pub require_revocation: bool,
    /// How identities are written into the policy.
    pub identities: Identities,
    /// CRLs of the CAs above.
    pub crls: Vec<PathBuf>,
}

/// What `certkit-export kit` was asked to do.
#[derive(Debug)]
pub struct KitRequest {
    /// A new kit, or the folder of one to refresh.
    pub job: KitJob,
    /// The server key's password source.
    pub key_pass: Option<SecretSource>,
    /// The new PFX password's source.
    pub pfx_pass: Option<SecretSource>,
    /// Check and show, write nothing.
    pub dry_run: bool,
    /// How to print.
    pub format: Format,
}

/// A new kit or a refresh.
#[derive(Debug)]
pub enum KitJob {
    /// `kit --target ... --out-dir DIR`.
    New(Box<NewKit>),
    /// `kit --refresh DIR`.
    Refresh(PathBuf),
}

/// Whether `target` writes a PFX (and so needs a new PFX password) with this key format.
pub(super) fn writes_pfx(target: Target, format: KeyFormat) -> bool {
    match target {
        Target::Appgw | Target::Appservice => true,
        Target::Keyvault | Target::Cses => format == KeyFormat::Pfx,
        Target::Apim | Target::Nginx | Target::Haproxy => false,
    }
}

/// An absolute path for `path` (which may not exist yet).
pub(super) fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("find the current folder", path, e))?
            .join(path)
    };
    Ok(certkit_ca::store::guard::resolve(&path))
}

/// The server's files and passwords, read once.
pub(super) struct ServerInput {
    pub(super) server: ServerMaterial,
    pub(super) pfx_password: Option<Secret>,
}

pub(super) fn read_server(
    store: &CaStore,
    prefix: &Path,
    target: Target,
    format: KeyFormat,
    req: &KitRequest,
    now: OffsetDateTime,
) -> Result<ServerInput> {
    let wants_pfx = writes_pfx(target, format);
    let mut passwords = Passwords::read(&[
        (secret::KEY_PASS, req.key_pass.as_ref()),
        (
            secret::PFX_PASS,
            if wants_pfx {
                req.pfx_pass.as_ref()
            } else {
                None
            },
        ),
    ])?;
    let key_password = passwords.take(secret::KEY_PASS, SecretUse::Existing)?;
    let server = ServerMaterial::read(store, prefix, &key_password, now)?;
    let pfx_password = if wants_pfx {
        Some(passwords.take(secret::PFX_PASS, SecretUse::New)?)
    } else {
        None
    };
    Ok(ServerInput {
        server,
        pfx_password,
    })
}

/// Orders the kit's files: certificate, key and CRL files first, configuration lines last.
pub(super) fn ordered(mut files: Vec<KitFile>) -> Vec<KitFile> {
    files.sort_by_key(|f| !f.checked);
    files
}
