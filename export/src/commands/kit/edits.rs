//! The files a kit keeps in step outside its folder: an API Management policy's identities and a Cloud Services
//! service configuration's thumbprints.

use std::path::Path;

use certkit_ca::cscfg::Cscfg;
use certkit_ca::store::CaStore;
use certkit_ca::store::inventory::Status;
use certkit_ca::term::output::path_text;
use certkit_ca::{Result, Thumbprint};
use time::OffsetDateTime;

use super::report::CscfgLine;
use crate::kit::{self, CaMaterial, Identities, Identity, Policy};

/// The identities the policy should list: one per valid client certificate.
pub(super) fn wanted_identities(ca: &CaMaterial, how: Identities) -> Vec<Identity> {
    ca.clients
        .iter()
        .map(|c| match how {
            Identities::Thumbprint => Identity::by_thumbprint(&c.thumbprint.to_string()),
            Identities::Subject => Identity::by_subject(&c.subject, &c.issuer),
        })
        .collect()
}

/// Edits the policy's identities (not saved yet).
pub(super) fn edit_policy(
    path: &Path,
    store: &CaStore,
    ca: &CaMaterial,
    how: Identities,
) -> Result<(Policy, kit::IdentityChange)> {
    let mut policy = Policy::load(path)?;
    let names: Vec<String> = ca.issuers.iter().map(|i| i.cert.subject.clone()).collect();
    let mut issued = Vec::new();
    for identity in policy.identities()? {
        if let Some(t) = identity.thumbprint.as_deref()
            && let Ok(thumbprint) = t.parse::<Thumbprint>()
            && store.entry_by_thumbprint(&thumbprint)?.is_some()
        {
            issued.push(t.to_string());
        }
    }
    let change = policy.set_identities(&wanted_identities(ca, how), |i| match &i.thumbprint {
        Some(t) => issued.contains(t),
        None => i.issuer_subject.as_ref().is_some_and(|s| names.contains(s)),
    })?;
    Ok((policy, change))
}

/// Puts the kit's thumbprints into a service configuration (not saved yet): the server certificate as
/// `SSL`, the CA as `CA` where the file has one, every valid client of the CA allowed and every client it
/// revoked (or that expired) no longer allowed; other thumbprints stay.
pub(super) fn edit_cscfg(
    path: &Path,
    store: &CaStore,
    ca: &CaMaterial,
    server: Option<&Thumbprint>,
    now: OffsetDateTime,
) -> Result<Cscfg> {
    use certkit_ca::profile::names;
    let mut file = Cscfg::load(path)?;
    if let Some(thumbprint) = server {
        file.set_certificate(names::SSL, thumbprint)?;
    }
    if file.certificate(names::CA)?.is_some() {
        file.set_certificate(names::CA, &ca.ca().thumbprint)?;
    }
    let mut listed = Vec::new();
    for role in file.roles()? {
        if let Some(value) = role.setting(names::ALLOWED_CLIENTS) {
            listed.extend(certkit_ca::cscfg::parse_allow_list(value).unwrap_or_default());
        }
    }
    if !listed.is_empty() || !ca.clients.is_empty() {
        let has_setting = file
            .roles()?
            .iter()
            .any(|r| r.setting(names::ALLOWED_CLIENTS).is_some());
        if has_setting {
            let mut gone = Vec::new();
            for thumbprint in &listed {
                if let Some(entry) = store.entry_by_thumbprint(thumbprint)?
                    && entry.status(now) != Status::Valid
                {
                    gone.push(*thumbprint);
                }
            }
            let allow: Vec<Thumbprint> = ca.clients.iter().map(|c| c.thumbprint).collect();
            file.edit_allowed_clients(&allow, &gone)?;
        }
    }
    Ok(file)
}

pub(super) fn cscfg_line(path: &Path, file: &Cscfg, dry_run: bool) -> CscfgLine {
    CscfgLine {
        file: path_text(path),
        changes: file.changes().to_vec(),
        backup: None,
        diff: (dry_run && !file.changes().is_empty()).then(|| file.diff()),
    }
}
