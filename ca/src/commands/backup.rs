//! `certkit-ca backup`: the CA key encrypted under a fresh random secret, the secret split into SLIP-39 shares
//! shown to one custodian at a time (or written to share files), and the step recorded in the inventory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use zeroize::Zeroizing;

use crate::certinfo::CertInfo;
use crate::custody::{self, BackupFile, scheme_text};
use crate::error::{Error, Result};
use crate::files::{NewFiles, PRIVATE, sha256_hex};
use crate::secret::{self, SecretSource, SecretUse};
use crate::signer::CaKey;
use crate::signer::SigningCa;
use crate::slip39::{Scheme, Share};
use crate::store::records::{CustodyAction, CustodyRecord, Event};
use crate::store::{CaStore, StoreLock, guard};
use crate::term::{self, Format, Report, custody as shares_term, output::path_text, secrets};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca backup` was asked to do.
#[derive(Debug)]
pub struct BackupRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// How to split the secret.
    pub scheme: Scheme,
    /// The groups' names, one per group of `scheme` (empty for a single group of shares).
    pub group_names: Vec<String>,
    /// The backup file (default `DIR-backup.key` beside the CA folder).
    pub out: Option<PathBuf>,
    /// Write the shares to files in this folder instead of showing them.
    pub share_dir: Option<PathBuf>,
    /// Where the CA key password comes from.
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// The backup that was made.
#[derive(Debug, Serialize)]
pub struct BackupReport {
    /// The backup file.
    pub backup: String,
    /// Its SHA-256 (recorded in the inventory).
    pub sha256: String,
    /// The CA's thumbprint.
    pub thumbprint: Thumbprint,
    /// The split's identifier, which every share carries.
    pub split: u16,
    /// How the secret was split, e.g. "3 of 5".
    pub shares: String,
    /// The share files written (with --share-dir).
    pub share_files: Vec<String>,
}

/// One share's place in the split: its file name, how its custodian is called, and what its file says it is.
struct Place {
    file: String,
    custodian: String,
    what: String,
}

/// The places of every share of `scheme`, group by group, in the order the split makes them.
fn places(scheme: &Scheme, names: &[String]) -> Vec<Place> {
    let groups = scheme.groups.len();
    let mut places = Vec::new();
    for (g, &(m, n)) in scheme.groups.iter().enumerate() {
        for i in 1..=n {
            places.push(match names.get(g) {
                None => Place {
                    file: format!("share-{i}-of-{n}.txt"),
                    custodian: format!("Custodian {i} of {n}"),
                    what: format!("share {i} of {n} (any {m} of them restore the key of this CA)"),
                },
                Some(name) => Place {
                    file: format!("share-{name}-{i}-of-{n}.txt"),
                    custodian: format!("Custodian {i} of {n} of group {name}"),
                    what: format!(
                        "share {i} of {n} of group {name} (any {m} of the group's {n} make its part; {} of the {groups} groups restore the key of this CA)",
                        scheme.group_threshold
                    ),
                },
            });
        }
    }
    places
}

fn share_text(share: &Share, place: &Place, backup: &BackupFile, file: &Path) -> Zeroizing<String> {
    let mut text = Zeroizing::new(format!(
        "certkit CA key recovery {}
         ca: {}
thumbprint: {}
split: {}
backup: {}
         Print this share, hand it to its custodian, and delete this file: a share on disk is a share anyone who reads the disk has.\n\n",
        place.what,
        backup.cert.subject,
        backup.cert.thumbprint,
        backup.split,
        file.display(),
    ));
    text.push_str(&share.mnemonic());
    text.push('\n');
    text
}

/// A backup to make: how to split, where the backup and the share files go (checked before any password is
/// asked for), for `backup` and for `move-key --backup-shares`.
#[derive(Debug)]
pub struct BackupPlan {
    /// How to split the secret.
    pub scheme: Scheme,
    /// The groups' names (empty for one group).
    pub group_names: Vec<String>,
    /// The backup file.
    pub out: PathBuf,
    /// Where share files go, or None to show the shares.
    pub share_dir: Option<PathBuf>,
}

impl BackupPlan {
    /// Checks the scheme and every output path, and makes the share folder (mode 0700): all before the CA key
    /// is asked for.
    pub fn check(&self) -> Result<()> {
        if let Some(problem) = self.scheme.problem() {
            return Err(Error::BadInput(format!(
                "{problem}; e.g. --shares 5 --threshold 3"
            )));
        }
        if let Some((i, name)) = self
            .group_names
            .iter()
            .enumerate()
            .find(|(i, name)| self.group_names[..*i].contains(name))
        {
            return Err(Error::BadInput(format!(
                "group {name} is given twice (as group {} and {}): give each group its own name",
                self.group_names.iter().position(|n| n == name).unwrap_or(0) + 1,
                i + 1
            )));
        }
        // The fewest shares that restore the key: at least two, or one person could do it alone.
        let mut thresholds: Vec<u8> = self.scheme.groups.iter().map(|(m, _)| *m).collect();
        thresholds.sort_unstable();
        let fewest: usize = thresholds
            .iter()
            .take(usize::from(self.scheme.group_threshold))
            .map(|m| usize::from(*m))
            .sum();
        if fewest < 2 {
            return Err(Error::BadInput(
                "one share alone would restore the key: ask for at least two (e.g. --group-threshold 2)".into(),
            ));
        }
        let mut planned = vec![self.out.clone()];
        if let Some(dir) = &self.share_dir {
            guard::check_output_dir(dir)?;
            let places = places(&self.scheme, &self.group_names);
            planned.extend(places.iter().map(|p| dir.join(&p.file)));
        } else if !shares_term::has_terminal() {
            return Err(Error::BadInput(
                "the shares are shown on a terminal, one custodian at a time, and there is none here: write them to files with --share-dir DIR (then print them and delete the files)".into(),
            ));
        }
        if !self.out.exists() {
            // The backup file is written last: without it, share files of the same split are what an
            // interrupted backup left, of a secret that encrypts nothing anyone has. They go, with their
            // temporary files, so that a rerun can write its own.
            for path in planned.iter().skip(1) {
                if is_share_of_unfinished(path, &self.out) {
                    std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
                }
            }
            if let Some(dir) = &self.share_dir {
                crate::files::remove_temporary(dir);
            }
        }
        for path in &planned {
            guard::check_output(path, &[])?;
            if path.symlink_metadata().is_ok() {
                return Err(Error::BadInput(format!(
                    "{} exists; certkit never overwrites a file: move it away or choose another --out / --share-dir",
                    path.display()
                )));
            }
        }
        if let Some(dir) = &self.share_dir {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io("create folder", dir, e))?;
        }
        Ok(())
    }

    /// Backs up the key of the unlocked file CA `ca`: the split, its record in the inventory (signed over at
    /// once), the shares shown or written, the backup file last.
    pub fn make(&self, store: &CaStore, lock: &StoreLock, ca: &SigningCa) -> Result<BackupReport> {
        let CaKey::File(key) = ca.issuer().key() else {
            return Err(Error::BadInput(
                "the CA key is on a token and cannot be read out to back it up (see docs/custody.md)".into(),
            ));
        };
        let settings = store.settings()?;
        let backed_up = custody::BackupSettings {
            crl_url: ca.crl_url.clone(),
            aia_url: settings.aia_url,
            ocsp_url: settings.ocsp_url,
            parent: settings.parent,
            chain: store.chain_above(&ca.cert)?,
        };
        let split = self.split(&ca.cert, key, backed_up)?;
        // Recorded first: the trail never misses a backup that exists.
        store.append(lock, std::slice::from_ref(&split.record))?;
        store.checkpoint(lock, ca)?;
        Ok(self.hand_out(split)?.0)
    }

    /// Splits a fresh secret for `key`, the key of `cert`, and encrypts the key under it: the backup to hand
    /// out, and its record for the inventory.
    pub fn split(
        &self,
        cert: &CertInfo,
        key: &rcgen::KeyPair,
        settings: custody::BackupSettings,
    ) -> Result<SplitBackup> {
        let der = Zeroizing::new(key.serialize_der());
        let made = custody::split_key(cert.clone(), &der, self.scheme.clone(), settings)?;
        let bytes = made.backup.to_bytes();
        let sha256 = sha256_hex(&bytes);
        let record = Event::Custody(CustodyRecord {
            action: CustodyAction::Backup,
            time: made.backup.made,
            shares: scheme_text(&self.scheme),
            split: made.backup.split,
            backup_sha256: sha256.clone(),
            failure: None,
            key_id: Some(crate::keys::key_id(&cert.spki_der)?),
            file: std::path::absolute(&self.out)
                .ok()
                .map(|p| p.display().to_string()),
        });
        Ok(SplitBackup {
            made,
            bytes,
            sha256,
            record,
        })
    }

    /// Shows the shares one custodian at a time or writes their files, then writes the backup file: the
    /// report, and every file written.
    pub fn hand_out(&self, split: SplitBackup) -> Result<(BackupReport, Vec<PathBuf>)> {
        let SplitBackup {
            made,
            bytes,
            sha256,
            ..
        } = split;
        let places = places(&self.scheme, &self.group_names);
        let all: Vec<&Share> = made.shares.iter().flatten().collect();
        // The share files first, the backup last: a backup file that exists has all its shares beside it.
        let mut files = NewFiles::new();
        let mut share_files = Vec::new();
        if let Some(dir) = &self.share_dir {
            for (share, place) in all.iter().zip(&places) {
                let path = dir.join(&place.file);
                let text = share_text(share, place, &made.backup, &self.out);
                files.add(&path, text.as_bytes().to_vec(), PRIVATE);
                share_files.push(path_text(&path));
            }
        } else {
            let shown: Vec<(String, Share)> = all
                .iter()
                .zip(&places)
                .map(|(share, place)| (place.custodian.clone(), (*share).clone()))
                .collect();
            shares_term::show_shares(&shown, &format!("the key of {}", made.backup.cert.subject))?;
        }
        files.add(&self.out, bytes, PRIVATE);
        let written = files.commit()?;
        let report = BackupReport {
            backup: path_text(&self.out),
            sha256,
            thumbprint: made.backup.cert.thumbprint,
            split: made.backup.split,
            shares: scheme_text(&self.scheme),
            share_files,
        };
        Ok((report, written))
    }
}

/// Whether `path` is a share file certkit wrote for a backup at `out` (its `backup:` line names it).
fn is_share_of_unfinished(path: &Path, out: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let named = text
        .lines()
        .take(8)
        .find_map(|l| l.trim_start().strip_prefix("backup: "))
        .map(str::trim);
    text.starts_with("certkit CA key recovery ") && named == Some(&*out.display().to_string())
}

/// A key's backup, split and not yet handed out.
pub struct SplitBackup {
    made: custody::Split,
    bytes: Vec<u8>,
    sha256: String,
    /// Its record for the CA's inventory.
    pub record: Event,
}

/// Makes the backup.
pub fn run(req: BackupRequest) -> Result<()> {
    let plan = BackupPlan {
        scheme: req.scheme,
        group_names: req.group_names,
        out: req.out.unwrap_or_else(|| custody::default_path(&req.ca)),
        share_dir: req.share_dir,
    };
    let store = term::open_ca(&req.ca, None)?;
    if store.settings()?.pkcs11.is_some() {
        return Err(Error::BadInput(format!(
            "the key of the CA in {} is on a token and cannot be read out to back it up; a token key is backed up as it is made (see docs/custody.md)",
            req.ca.display()
        )));
    }
    plan.check()?;
    let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::Existing)?;
    let lock = term::lock(&store)?;
    let ca = store.unlock(&password)?;
    let report = plan.make(&store, &lock, &ca)?;
    term::render(&report, req.format)
}

impl Report for BackupReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Backed up the CA key ({}) to {}",
            self.thumbprint, self.backup
        )?;
        writeln!(
            out,
            "  split       {} ({} shares restore it)",
            self.split, self.shares
        )?;
        writeln!(out, "  sha256      {}", self.sha256)?;
        for file in &self.share_files {
            writeln!(out, "  share       {file}")?;
        }
        writeln!(out)?;
        if self.share_files.is_empty() {
            writeln!(
                out,
                "Keep the backup file apart from the CA folder. Prove the shares work now and once a year: certkit-ca restore --backup {} --check",
                self.backup
            )
        } else {
            writeln!(
                out,
                "Print each share file, hand it to its custodian, and delete the files. Keep the backup file apart from the CA folder; run a drill: certkit-ca restore --backup {} --check",
                self.backup
            )
        }
    }
}
