//! The CA's profile files (`profiles/NAME.toml`, docs/profiles.md): each recorded in the signed settings by
//! its SHA-256, so a profile that was edited, planted or removed after the CA key signed it is never used.
//!
//! `profile add` stages the file as `NAME.toml.new`, has the CA key sign settings that name its hash, then
//! moves it into place. A crash before the signature leaves the profile as it was (the staged file is never
//! read: nothing signed its hash); a crash after it leaves the staged file signed, which is read until the next
//! `profile add` moves it into place.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::folder::{CaStore, StoreLock};
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC, sha256_hex};
use crate::profile_file::{MAX_PROFILE_BYTES, PROFILES_DIR, ProfileFile, check_name};
use crate::signer::SigningCa;

/// A profile file as the folder holds it, against what the CA key signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileState {
    /// The file is what the CA key signed.
    Signed,
    /// The file the CA key signed is staged (`NAME.toml.new`, an interrupted `profile add`).
    Staged,
    /// The file differs from what the CA key signed.
    Changed,
    /// The CA key signed a profile of this name, and its file is gone.
    Missing,
    /// A file nothing signed: planted, or left by a `profile add` cut short before the signature.
    Unsigned,
}

impl ProfileState {
    /// Its name in listings and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            ProfileState::Signed => "signed",
            ProfileState::Staged => "staged",
            ProfileState::Changed => "changed",
            ProfileState::Missing => "missing",
            ProfileState::Unsigned => "unsigned",
        }
    }
}

/// One profile of the CA folder.
#[derive(Debug, Clone)]
pub struct ProfileEntry {
    /// Its name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// How it stands against the signed settings.
    pub state: ProfileState,
}

/// Reads a profile file whole, refusing one larger than any profile (it could be anything).
pub fn read_profile_text(path: &Path) -> Result<Option<String>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_PROFILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(Error::BadInput(format!(
            "{} is larger than {} KB: a profile file is a few lines",
            path.display(),
            MAX_PROFILE_BYTES / 1024
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::BadInput(format!("{} is not UTF-8 text", path.display())))
}

fn staged_name(name: &str) -> String {
    format!("{name}.toml.new")
}

impl CaStore {
    /// The file of profile `name`.
    pub fn profile_path(&self, name: &str) -> PathBuf {
        self.path(PROFILES_DIR).join(format!("{name}.toml"))
    }

    /// The signed text of profile `name`, from its file or from the staged file the CA key signed.
    pub(crate) fn signed_profile_text(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<(Option<String>, ProfileState)> {
        let path = self.profile_path(name);
        let text = read_profile_text(&path)?;
        if text.as_deref().map(|t| sha256_hex(t.as_bytes())).as_deref() == Some(sha256) {
            return Ok((text, ProfileState::Signed));
        }
        let staged = read_profile_text(&self.path(PROFILES_DIR).join(staged_name(name)))?;
        if staged
            .as_deref()
            .map(|t| sha256_hex(t.as_bytes()))
            .as_deref()
            == Some(sha256)
        {
            return Ok((staged, ProfileState::Staged));
        }
        Ok((
            None,
            if text.is_some() {
                ProfileState::Changed
            } else {
                ProfileState::Missing
            },
        ))
    }

    /// Profile `name` as the CA key signed it, checked. Refused when the CA has no such profile, or its file
    /// is not what the key signed.
    pub fn profile(&self, name: &str) -> Result<ProfileFile> {
        check_name(name)?;
        let settings = self.settings()?;
        let Some(sha256) = settings.profiles.get(name) else {
            let known: Vec<&str> = settings.profiles.keys().map(String::as_str).collect();
            return Err(Error::BadInput(format!(
                "this CA has no profile {name} ({}); add one with certkit-ca profile add --ca {} --from FILE.toml",
                if known.is_empty() {
                    "it has none: server, client and encryption are built in".to_string()
                } else {
                    format!("its profiles: {}", known.join(", "))
                },
                self.dir().display()
            )));
        };
        match self.signed_profile_text(name, sha256)? {
            (Some(text), _) => ProfileFile::parse(name, &text),
            (None, state) => Err(Error::SettingsChanged {
                path: self.profile_path(name),
                what: format!(
                    "the profile is {} (the CA key signed {})",
                    if state == ProfileState::Missing {
                        "gone"
                    } else {
                        "not what the CA key signed"
                    },
                    &sha256[..sha256.len().min(16)]
                ),
                fix: " or add it again with certkit-ca profile add",
            }),
        }
    }

    /// Every profile the CA key signed, and every profile file in the folder nothing signed, by name.
    pub fn profiles(&self) -> Result<Vec<ProfileEntry>> {
        let settings = self.settings()?;
        let mut entries = Vec::new();
        for (name, sha256) in &settings.profiles {
            let (_, state) = self.signed_profile_text(name, sha256)?;
            entries.push(ProfileEntry {
                name: name.clone(),
                path: self.profile_path(name),
                state,
            });
        }
        for name in self.profile_files()? {
            if !settings.profiles.contains_key(&name) {
                entries.push(ProfileEntry {
                    path: self.profile_path(&name),
                    name,
                    state: ProfileState::Unsigned,
                });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The names of the `profiles/*.toml` files there are (any name a file has, even one certkit would refuse).
    pub fn profile_files(&self) -> Result<Vec<String>> {
        let dir = self.path(PROFILES_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", &dir, e))?;
            let file_name = entry.file_name();
            if let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".toml")) {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Whether profile `name` is this very `text` already, signed and in place: adding it again changes
    /// nothing and needs no key.
    pub fn holds_profile(&self, name: &str, text: &str) -> Result<bool> {
        let sha256 = sha256_hex(text.as_bytes());
        let in_place =
            read_profile_text(&self.profile_path(name))?.map(|t| sha256_hex(t.as_bytes()));
        Ok(self.settings()?.profiles.get(name) == Some(&sha256) && in_place == Some(sha256))
    }

    /// Records `profile` (its file's `text`) under the CA key: staged, signed with the settings, moved into
    /// place. Returns false when the CA already holds this very profile.
    pub fn add_profile(
        &self,
        lock: &StoreLock,
        ca: &SigningCa,
        profile: &ProfileFile,
        text: &str,
    ) -> Result<bool> {
        if self.holds_profile(&profile.name, text)? {
            return Ok(false);
        }
        let mut settings = self.settings()?;
        let sha256 = sha256_hex(text.as_bytes());
        let path = self.profile_path(&profile.name);
        let dir = self.path(PROFILES_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let staged = dir.join(staged_name(&profile.name));
        files::replace(&staged, text.as_bytes(), PUBLIC)?;
        settings.profiles.insert(profile.name.clone(), sha256);
        self.change_settings(lock, ca, &settings)?;
        files::rename_into_place(&staged, &path)?;
        Ok(true)
    }
}
