//! `certkit-ca profile add|list|show`: the CA's profile files (docs/profiles.md).

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::files::sha256_hex;
use crate::profile::Profile;
use crate::profile_file::{ProfileFile, ProfileSpec};
use crate::secret::{SecretSource, SecretUse};
use crate::store::{CaStore, read_profile_text};
use crate::term::{self, Format, Report, output::path_text, secrets};

/// anyExtendedKeyUsage: a CA whose EKU extension holds it constrains nothing.
const ANY_EKU: &str = "2.5.29.37.0";

/// What `certkit-ca profile add` was asked to do.
#[derive(Debug)]
pub struct AddRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The profile file.
    pub from: PathBuf,
    /// Its name.
    pub name: String,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// What `certkit-ca profile list` was asked to do.
#[derive(Debug)]
pub struct ListRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// How to print the result.
    pub format: Format,
}

/// What `certkit-ca profile show` was asked to do.
#[derive(Debug)]
pub struct ShowRequest {
    /// The CA folder, for one of its profiles.
    pub ca: Option<PathBuf>,
    /// The profile's name.
    pub name: String,
    /// How to print the result.
    pub format: Format,
}

/// A profile recorded.
#[derive(Debug, Serialize)]
pub struct AddReport {
    /// The CA folder.
    pub ca: String,
    /// The profile's name.
    pub profile: String,
    /// Its file in the CA folder.
    pub file: String,
    /// The SHA-256 of the file, as the CA key signed it.
    pub sha256: String,
    /// Its base profile.
    pub base: Profile,
    /// The EKUs it writes, dotted.
    pub ekus: Vec<String>,
    /// False when the CA held this very profile already (nothing was signed).
    pub changed: bool,
}

/// One of the CA's profiles.
#[derive(Debug, Serialize)]
pub struct ProfileRow {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// `signed`, `staged`, `changed`, `missing` or `unsigned`.
    pub state: String,
    /// Its base profile, when it can be read as signed.
    pub base: Option<Profile>,
    /// Its description.
    pub description: Option<String>,
}

/// The CA's profiles.
#[derive(Debug, Serialize)]
pub struct ListReport {
    /// The CA folder.
    pub ca: String,
    /// Its profiles, by name.
    pub profiles: Vec<ProfileRow>,
}

/// A profile as a file.
#[derive(Debug, Serialize)]
pub struct ShowReport {
    /// Its name.
    pub profile: String,
    /// True for server, client and encryption.
    pub builtin: bool,
    /// Its file in the CA folder.
    pub file: Option<String>,
    /// The file's text (TOML).
    pub text: String,
}

/// Checks a profile and records it in the CA.
pub fn add(req: AddRequest) -> Result<()> {
    let text = read_profile_text(&req.from)?.ok_or_else(|| {
        Error::BadInput(format!(
            "{} does not exist; write a profile file (start from certkit-ca profile show client)",
            req.from.display()
        ))
    })?;
    let profile = ProfileFile::parse(&req.name, &text)?;
    let ca = term::open_ca(&req.ca, req.module.clone())?;
    check_against_ca(&ca, &profile)?;
    // The same profile again (a script may add it every run) changes nothing and asks for no password.
    let changed = !ca.holds_profile(&profile.name, &text)? && {
        let password =
            secrets::obtain(req.ca_pass.as_ref(), ca.secret_kind()?, SecretUse::Existing)?;
        let signing = ca.unlock(&password)?;
        drop(password);
        let lock = term::lock(&ca)?;
        let changed = ca.add_profile(&lock, &signing, &profile, &text)?;
        drop(lock);
        changed
    };
    let report = AddReport {
        ca: path_text(ca.dir()),
        file: path_text(&ca.profile_path(&profile.name)),
        sha256: sha256_hex(text.as_bytes()),
        base: profile.spec.base,
        ekus: profile.ekus.clone(),
        profile: profile.name,
        changed,
    };
    term::render(&report, req.format)
}

/// What only the CA can tell: a validity the CA cannot give, an EKU its own certificate does not allow.
fn check_against_ca(ca: &CaStore, profile: &ProfileFile) -> Result<()> {
    let cert = ca.cert()?;
    if let Some(max) = profile.spec.max_days {
        let left = (cert.not_after - OffsetDateTime::now_utc()).whole_days();
        if i64::from(max) > left {
            return Err(Error::BadInput(format!(
                "profile {}: max_days {max} is past the CA's own validity ({left} days left, until {}); lower it, or renew the CA first",
                profile.name,
                crate::dates::rfc3339(cert.not_after)
            )));
        }
    }
    if !cert.ekus.is_empty()
        && !cert.ekus.iter().any(|e| e == ANY_EKU)
        && let Some(eku) = profile.ekus.iter().find(|e| !cert.ekus.contains(e))
    {
        return Err(Error::BadInput(format!(
            "profile {}: the CA's certificate allows only the EKUs {}, not {eku}; certificates with it would not verify",
            profile.name,
            cert.ekus.join(", ")
        )));
    }
    Ok(())
}

/// Lists the CA's profiles.
pub fn list(req: ListRequest) -> Result<()> {
    let ca = term::open_ca(&req.ca, None)?;
    let mut profiles = Vec::new();
    for entry in ca.profiles()? {
        let unusable = match entry.state {
            crate::store::ProfileState::Changed => Some("is not what the CA key signed"),
            crate::store::ProfileState::Missing => Some("is gone, though the CA key signed it"),
            crate::store::ProfileState::Unsigned => Some("was never signed by the CA key"),
            _ => None,
        };
        if let Some(why) = unusable {
            term::warn(&format!(
                "{} {why}: nothing is issued by profile {} (see certkit-ca audit --ca {})",
                path_text(&entry.path),
                entry.name,
                path_text(ca.dir())
            ));
        }
        let signed = matches!(
            entry.state,
            crate::store::ProfileState::Signed | crate::store::ProfileState::Staged
        );
        let spec = signed
            .then(|| ca.profile(&entry.name).ok())
            .flatten()
            .map(|p| p.spec);
        profiles.push(ProfileRow {
            file: path_text(&entry.path),
            state: entry.state.name().to_string(),
            base: spec.as_ref().map(|s| s.base),
            description: spec.and_then(|s| s.description),
            name: entry.name,
        });
    }
    term::render(
        &ListReport {
            ca: path_text(ca.dir()),
            profiles,
        },
        req.format,
    )
}

/// Shows a profile as a file.
pub fn show(req: ShowRequest) -> Result<()> {
    let builtin = Profile::ALL
        .into_iter()
        .find(|p| p.is_end_entity() && p.name() == req.name);
    let report = match (builtin, &req.ca) {
        (Some(base), _) => ShowReport {
            profile: req.name.clone(),
            builtin: true,
            file: None,
            text: builtin_text(base)?,
        },
        (None, Some(dir)) => {
            let ca = term::open_ca(dir, None)?;
            let profile = ca.profile(&req.name)?;
            ShowReport {
                profile: req.name.clone(),
                builtin: false,
                file: Some(path_text(&ca.profile_path(&req.name))),
                text: ProfileFile::to_toml(&profile.spec)?,
            }
        }
        (None, None) => {
            return Err(Error::BadInput(format!(
                "'{}' is not a built-in profile (server, client, encryption); for one of a CA's profiles add --ca DIR",
                req.name
            )));
        }
    };
    term::render(&report, req.format)
}

fn builtin_text(base: Profile) -> Result<String> {
    let spec: ProfileSpec = ProfileFile::builtin_spec(base);
    Ok(format!(
        "# The built-in {base} profile as a profile file: change it, then\n# certkit-ca profile add --ca DIR --from FILE.toml (docs/profiles.md lists every key)\n{}",
        ProfileFile::to_toml(&spec)?
    ))
}

impl Report for AddReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.changed {
            writeln!(
                out,
                "Profile {} recorded in {}; the CA key signed it (SHA-256 {}).",
                self.profile, self.file, self.sha256
            )?;
        } else {
            writeln!(
                out,
                "Profile {} is already this file; nothing changed.",
                self.profile
            )?;
        }
        writeln!(
            out,
            "Issue by it: certkit-issue {} --ca {} --profile {} --cn NAME (add --subject KEY=VALUE for what it allows)",
            self.base, self.ca, self.profile
        )
    }
}

impl Report for ListReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.profiles.is_empty() {
            return writeln!(
                out,
                "The CA in {} has no profile files; server, client and encryption are built in (certkit-ca profile show client).",
                self.ca
            );
        }
        writeln!(
            out,
            "{:<20} {:<11} {:<9} DESCRIPTION",
            "PROFILE", "BASE", "STATE"
        )?;
        for row in &self.profiles {
            writeln!(
                out,
                "{:<20} {:<11} {:<9} {}",
                row.name,
                row.base.map_or("?", Profile::name),
                row.state,
                row.description.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    }
}

impl Report for ShowReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "{}", self.text)
    }
}
