//! Issuing by a profile file (docs/profiles.md): which profile `--profile` names, and the profile as the CA
//! key signed it (`leaf::LeafSpec::take_profile` checks a request against it and takes its content).

use std::sync::Arc;

use certkit_ca::profile_file::ProfileFile;
use certkit_ca::{CaStore, Error, Result};

/// A profile file as a certificate is issued by it: the profile, and the CA's own caIssuers URL (kept beside a
/// profile's OCSP URL in authorityInfoAccess).
#[derive(Debug, PartialEq, Eq)]
pub struct ProfileUse {
    /// The profile, as the CA key signed it.
    pub file: ProfileFile,
    /// The CA's caIssuers URL.
    pub aia_url: Option<String>,
}

/// Profile `name` of the CA in `store`, as its key signed it.
pub fn load(store: &CaStore, name: &str) -> Result<Arc<ProfileUse>> {
    let file = store.profile(name)?;
    Ok(Arc::new(ProfileUse {
        file,
        aia_url: store.settings()?.aia_url,
    }))
}

/// What `--profile` names: a built-in profile, or one of the CA's profile files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChoice {
    /// server, client or encryption (or ca, which certkit-issue refuses with a pointer to sign-ca).
    Builtin(certkit_ca::Profile),
    /// A profile file of the CA (`profiles/NAME.toml`).
    File(String),
    /// `compat` or `modern`: the PFX profile, by `--profile`'s old meaning in certkit-issue (now
    /// `--pfx-profile`), still taken so that scripts keep working.
    Pfx(certkit_ca::pfx::PfxProfile),
}

impl ProfileChoice {
    /// Reads `--profile`'s value (clap's value parser).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if let Some(builtin) = certkit_ca::Profile::ALL
            .into_iter()
            .find(|p| p.name() == text)
        {
            return Ok(ProfileChoice::Builtin(builtin));
        }
        match text {
            "compat" => return Ok(ProfileChoice::Pfx(certkit_ca::pfx::PfxProfile::Compat)),
            "modern" => return Ok(ProfileChoice::Pfx(certkit_ca::pfx::PfxProfile::Modern)),
            _ => {}
        }
        certkit_ca::profile_file::check_name(text)
            .map(|()| ProfileChoice::File(text.to_string()))
            .map_err(|e| e.to_string())
    }

    /// The built-in profile a certificate by it is, and the profile file (loaded from the CA in `store`).
    pub fn resolve(
        &self,
        store: &CaStore,
    ) -> Result<(certkit_ca::Profile, Option<Arc<ProfileUse>>)> {
        match self {
            ProfileChoice::Builtin(profile) => Ok((*profile, None)),
            ProfileChoice::File(name) => {
                let used = load(store, name)?;
                Ok((used.file.spec.base, Some(used)))
            }
            ProfileChoice::Pfx(_) => Err(Error::BadInput(
                "--profile compat|modern is a PFX profile (spelt --pfx-profile now); sign writes no PFX: give a certificate profile".into(),
            )),
        }
    }
}
