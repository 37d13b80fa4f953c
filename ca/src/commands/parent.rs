//! `certkit-ca init --parent DIR`: an issuing CA made beside its root on one machine, in one command: the new
//! folder's key and request (as `init --request`), the parent's signature and record (as `sign-ca`, with the
//! parent's key unlocked once), and the install (as `install`). A rerun after a crash finishes what is left:
//! a folder that waits for its certificate gets the one the parent recorded for its key, or a new one.

use std::path::PathBuf;

use super::init::TokenChoice;
use super::install::InstallReport;
use crate::dates::Lifetime;
use crate::error::{Error, Result};
use crate::profile::{self, Profile};
use crate::secret::{self, SecretSource, SecretUse};
use crate::store::inventory::{DeliveredRecord, Event};
use crate::store::{self, CaSpec, CaStore, NewCaKey};
use crate::term::{self, Format, output::path_text, secrets::Passwords};
use crate::token::ModuleSearch;

/// What `certkit-ca init --parent` was asked to do.
#[derive(Debug)]
pub struct ParentRequest {
    /// The CA to make.
    pub spec: CaSpec,
    /// The token for its key, if not `ca.key`.
    pub token: Option<TokenChoice>,
    /// The parent CA's folder.
    pub parent: PathBuf,
    /// Where the parent's key password comes from.
    pub parent_pass: Option<SecretSource>,
    /// Its pathLen (default: one less than the parent's).
    pub pathlen: Option<u8>,
    /// Its validity (default: five years, never past the parent's end).
    pub lifetime: Option<Lifetime>,
    /// Where its own key password (or token PIN) comes from.
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// Makes the CA under its parent.
pub fn run(req: ParentRequest) -> Result<()> {
    let parent = CaStore::open(&req.parent)?;
    drop(term::lock(&parent)?);
    let parent_cert = parent.cert()?;
    let dir = &req.spec.dir;
    let waiting = dir.join(store::CA_REQUEST).is_file() && !dir.join(store::CA_PEM).exists();
    if !waiting {
        store::check_can_init(dir)?;
    }
    let (validity, warnings) = super::sign_ca::sub_ca_validity(&parent_cert, req.lifetime)?;
    // Both secrets first, the parent's before the new CA's (one order for fd:N and stdin).
    let own_kind = if waiting {
        store::waiting_secret_kind(dir)?
    } else if req.token.is_some() {
        secret::CA_PIN
    } else {
        secret::CA_PASS
    };
    let mut passwords = Passwords::read(&[
        (secret::PARENT_PASS, req.parent_pass.as_ref()),
        (own_kind, req.ca_pass.as_ref()),
    ])?;
    let parent_secret = passwords.take(secret::PARENT_PASS, SecretUse::Existing)?;
    let signing = parent.unlock(&parent_secret)?;
    drop(parent_secret);
    // Refused before a key is made when the parent may sign no CA (or not this pathLen).
    signing.sub_ca_pathlen(req.pathlen)?;
    let own = passwords.take(
        own_kind,
        if waiting || req.token.is_some() {
            SecretUse::Existing
        } else {
            SecretUse::New
        },
    )?;
    if waiting {
        term::note(&format!(
            "{} was made by an earlier run that could not finish; finishing it",
            dir.display()
        ));
    } else {
        match &req.token {
            None => store::request(
                &req.spec,
                &NewCaKey::File(&own),
                &mut term::waiting_for_lock,
            )?,
            Some(choice) => {
                let search = ModuleSearch::new(choice.module.as_deref(), None);
                let home = NewCaKey::Token {
                    search: &search,
                    uri: &choice.uri,
                    pin: &own,
                };
                store::request(&req.spec, &home, &mut term::waiting_for_lock)?
            }
        };
    }
    let request = crate::csr::read(&dir.join(store::CA_REQUEST))?;
    let spki = rcgen::PublicKeyData::subject_public_key_info(&request.public_key);
    // The certificate the parent recorded for this key by an interrupted run, or a new one.
    let mut candidates = Vec::new();
    parent.list(
        &store::index::ListFilter {
            profile: Some(Profile::Ca),
            ..Default::default()
        },
        time::OffsetDateTime::now_utc(),
        &mut |entry| {
            if entry.revoked.is_none() {
                candidates.push(entry);
            }
            Ok(true)
        },
    )?;
    let mut recorded = None;
    for entry in &candidates {
        if let Some(der) = parent.record_certificate(entry)?
            && let Ok(cert) = crate::certinfo::CertInfo::from_der(&der, &req.parent)
            && cert.spki_der == spki
        {
            recorded = Some((cert, entry));
            break;
        }
    }
    let cert = match recorded {
        Some((cert, entry)) => {
            if !entry.delivered {
                // Its record and issued/ copy are its delivery: the interrupted run got that far.
                let lock = term::lock(&parent)?;
                parent.append(
                    &lock,
                    &[Event::Delivered(DeliveredRecord {
                        serial: entry.issued.serial.clone(),
                    })],
                )?;
                parent.checkpoint(&lock, &signing)?;
            }
            cert
        }
        None => {
            super::sign_ca::sign_and_record(
                &parent,
                &signing,
                &request,
                super::sign_ca::SubCaTerms {
                    pathlen: req.pathlen,
                    validity,
                    constraints: &req.spec.constraints,
                    policies: &req.spec.policies,
                },
                |_| Vec::new(),
            )?
            .0
        }
    };
    let mut chain = vec![parent_cert.clone()];
    chain.extend(parent.chain_above(&parent_cert)?);
    let created = store::install(
        dir,
        &cert,
        &chain,
        &own,
        req.token.as_ref().and_then(|t| t.module.as_deref()),
        &mut term::waiting_for_lock,
    )?;
    drop(own);
    for warning in &warnings {
        term::warn(warning);
    }
    let root = chain.last().ok_or(Error::Bug("a chain without a root"))?;
    let mut files = created.files.clone();
    files.push(dir.join(store::CHAIN_PEM));
    let report = InstallReport {
        dir: path_text(dir),
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
