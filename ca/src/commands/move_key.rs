//! `certkit-ca move-key`: move a CA key from `ca.key` onto a PKCS#11 token.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use super::backup::{BackupPlan, BackupReport};
use crate::error::Result;
use crate::secret::{self, SecretSource, SecretUse};
use crate::store::{CA_KEY, CaStore, KeyLocation};
use crate::term::{self, Format, Report, output::path_text, secrets::Passwords};
use crate::thumbprint::Thumbprint;
use crate::token::{ModuleSearch, TokenUri};

/// What `certkit-ca move-key` was asked to do.
#[derive(Debug)]
pub struct MoveKeyRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The token and the key's label there.
    pub uri: TokenUri,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// Where the password of `ca.key` comes from.
    pub ca_pass: Option<SecretSource>,
    /// Where the token PIN comes from.
    pub pin: Option<SecretSource>,
    /// A backup into recovery shares to make before the key moves.
    pub backup: Option<BackupPlan>,
    /// How to print the result.
    pub format: Format,
}

/// Where the key went.
#[derive(Debug, Serialize)]
pub struct MoveKeyReport {
    /// The CA folder.
    #[serde(rename = "ca")]
    pub dir: String,
    /// The CA certificate's thumbprint: the same as before.
    pub thumbprint: Thumbprint,
    /// The key file removed.
    pub removed: String,
    /// Where the CA key is now.
    pub key_location: KeyLocation,
    /// The backup made before the move (with --backup-shares).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupReport>,
}

/// Moves the key; the folder is locked from the first check to the removal of `ca.key`.
pub fn run(req: MoveKeyRequest) -> Result<()> {
    let ca = CaStore::open(&req.ca)?;
    let moving = ca.settings()?.pkcs11.is_none();
    // A move that stopped after the token was recorded and before ca.key was removed is finished by a rerun.
    let interrupted = !moving && ca.path(CA_KEY).exists();
    let plan = match &req.backup {
        Some(plan) if moving => {
            plan.check()?;
            Some(plan)
        }
        // The backup is made before the key goes onto the token, and its file written last: it is whole.
        Some(plan) if interrupted && plan.out.exists() => {
            term::warn(&format!(
                "an earlier move-key made the backup {} and stopped before it removed ca.key; finishing that move (no second backup)",
                plan.out.display()
            ));
            None
        }
        Some(_) if interrupted => {
            return Err(crate::Error::BadInput(format!(
                "an earlier move-key put the key of the CA in {} on the token without a backup and stopped before it removed ca.key; run move-key again without --backup-shares to finish it",
                req.ca.display()
            )));
        }
        Some(_) => {
            return Err(crate::Error::BadInput(format!(
                "the key of the CA in {} is on a token already and cannot be read out to back it up",
                req.ca.display()
            )));
        }
        None => None,
    };
    let mut wanted = vec![(secret::PIN, req.pin.as_ref())];
    if moving {
        wanted.push((secret::CA_PASS, req.ca_pass.as_ref()));
    }
    let mut read = Passwords::read(&wanted)?;
    // Finishing an interrupted move only removes ca.key: its password is not needed then.
    let password = if moving {
        Some(read.take(secret::CA_PASS, SecretUse::Existing)?)
    } else {
        None
    };
    let pin = read.take(secret::PIN, SecretUse::Existing)?;
    let lock = term::lock(&ca)?;
    let search = ModuleSearch::new(req.module.as_deref(), None);
    // The backup first: once the key is on the token it can never be read out again.
    let backup = match (plan, &password) {
        (Some(plan), Some(password)) => Some(plan.make(&ca, &lock, &ca.unlock(password)?)?),
        _ => None,
    };
    let moved = ca.move_key(&lock, password.as_ref(), &search, &req.uri, &pin)?;
    let report = MoveKeyReport {
        dir: path_text(&req.ca),
        thumbprint: moved.thumbprint,
        removed: path_text(&moved.removed),
        key_location: moved.key,
        backup,
    };
    term::render(&report, req.format)
}

impl Report for MoveKeyReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Moved the key of the CA in {} onto a token", self.dir)?;
        super::show::write_key_location(out, &self.key_location)?;
        writeln!(out, "  thumbprint  {} (unchanged)", self.thumbprint)?;
        writeln!(out, "  removed     {}", self.removed)?;
        if let Some(backup) = &self.backup {
            writeln!(
                out,
                "  backup      {} (split {}, {} shares restore it)",
                backup.backup, backup.split, backup.shares
            )?;
            for file in &backup.share_files {
                writeln!(out, "  share       {file}")?;
            }
        }
        writeln!(out)?;
        match &self.backup {
            Some(backup) => writeln!(
                out,
                "The key is now sensitive and not extractable on the token; {} and its shares restore it (certkit-ca restore). Run a drill: certkit-ca restore --backup {} --check --ca {}",
                backup.backup, backup.backup, self.dir
            ),
            None => writeln!(
                out,
                "The key is now sensitive and not extractable: it has NO BACKUP unless your token supports one (move-key --backup-shares N --threshold M makes recovery shares first). Destroy any other copy of ca.key only once you are sure of that."
            ),
        }
    }
}
