//! `certkit-ca restore`: gather the shares of a backup, open it, and write a new CA folder with the key
//! encrypted under a new password; with `--check`, the recovery drill, which writes nothing but its record.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::custody::{BackupFile, Gathered, SharePile, scheme_text};
use crate::error::{Error, Result};
use crate::files::sha256_hex;
use crate::secret::{self, SecretReader, SecretSource, SecretUse};
use crate::store::records::{CustodyAction, CustodyRecord, Event};
use crate::store::{self, KeyLocation, NewCaKey, check_can_init};
use crate::term::{self, Format, Report, custody as shares_term, output::path_text, secrets};
use crate::thumbprint::Thumbprint;
use crate::token::{self, ModuleSearch};

use super::init::TokenChoice;

/// What `certkit-ca restore` was asked to do.
#[derive(Debug)]
pub struct RestoreRequest {
    /// The backup file.
    pub backup: PathBuf,
    /// The new CA folder; with `check`, the CA whose inventory records the drill.
    pub ca: Option<PathBuf>,
    /// Only prove the shares open the backup.
    pub check: bool,
    /// Where the shares come from (none: asked on the terminal).
    pub shares: Vec<SecretSource>,
    /// The new CA key password's source (with `token`: the token's user PIN).
    pub ca_pass: Option<SecretSource>,
    /// A token to import the key into instead of `ca.key`.
    pub token: Option<TokenChoice>,
    /// How to print the result.
    pub format: Format,
}

/// What the restore or the drill did.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    /// The backup file.
    pub backup: String,
    /// The CA's thumbprint (the same as the original's).
    pub thumbprint: Thumbprint,
    /// The split whose shares opened it.
    pub split: u16,
    /// How many shares were used.
    pub shares_used: usize,
    /// `restored` or `drill passed`.
    pub result: &'static str,
    /// The new CA folder (restore), or the CA whose inventory records the drill.
    pub ca: Option<String>,
    /// Where the restored CA key is (restore only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_location: Option<KeyLocation>,
    /// What the restored CA uses, as the backup says.
    pub settings: RestoredSettings,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// The settings a backup restores with the key.
#[derive(Debug, Serialize)]
pub struct RestoredSettings {
    /// The CRL distribution point.
    pub crl_url: Option<String>,
    /// The AIA caIssuers URL.
    pub aia_url: Option<String>,
    /// The OCSP responder URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocsp_url: Option<String>,
    /// The CA above, for an issuing CA.
    pub parent: Option<store::ParentRecord>,
    /// The subjects of the CAs above, the root last.
    pub chain: Vec<String>,
}

impl RestoredSettings {
    fn of(backup: &BackupFile) -> Self {
        RestoredSettings {
            crl_url: backup.settings.crl_url.clone(),
            aia_url: backup.settings.aia_url.clone(),
            ocsp_url: backup.settings.ocsp_url.clone(),
            parent: backup.settings.parent.clone(),
            chain: backup
                .settings
                .chain
                .iter()
                .map(|c| c.subject.clone())
                .collect(),
        }
    }
}

/// What the user should know about the shares and the backup they opened.
fn notes(
    req: &RestoreRequest,
    backup: &BackupFile,
    pile: &SharePile,
    authenticated: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(given) = pile.split_given().filter(|s| *s != backup.split) {
        notes.push(format!(
            "the shares are of split {given}, not of split {} that {} records: another split of the same secret (made from it with the reference implementation); they open it",
            backup.split,
            req.backup.display()
        ));
    }
    if !authenticated {
        notes.push(format!(
            "{} was made before backups carried a MAC: nothing proves its header was not changed; check the settings printed below before you use the CA",
            req.backup.display()
        ));
    }
    notes
}

/// Checks what the backup says the restored CA will use, as `init` checks its flags: URLs as certkit takes
/// them, and a chain that reaches a self-signed root from the CA certificate, its first CA the parent named.
fn check_settings(req: &RestoreRequest, backup: &BackupFile) -> Result<()> {
    let bad = |what: String| {
        Error::BadInput(format!(
            "{}: {what}; nothing was written. Use another copy of the backup",
            req.backup.display()
        ))
    };
    for url in [&backup.settings.crl_url, &backup.settings.aia_url]
        .into_iter()
        .flatten()
    {
        crate::naming::check_crl_url(url).map_err(|e| bad(e.to_string()))?;
    }
    if let Some(url) = &backup.settings.ocsp_url {
        crate::naming::check_ocsp_url(url).map_err(|e| bad(e.to_string()))?;
    }
    let chain = &backup.settings.chain;
    let mut below = &backup.cert;
    for above in chain {
        if !below.is_signed_by(above)? {
            return Err(bad(format!(
                "its chain does not hold: '{}' is not signed by '{}'",
                below.subject, above.subject
            )));
        }
        below = above;
    }
    if let Some(gap) = store::chain_gap(&backup.cert, chain)? {
        return Err(bad(format!("its CA is not a root and {gap}")));
    }
    let parent = chain.first().map(|c| store::ParentRecord {
        subject: c.subject.clone(),
        thumbprint: c.thumbprint,
    });
    if parent != backup.settings.parent {
        return Err(bad("its parent is not the first CA of its chain".into()));
    }
    Ok(())
}

/// Restores, or runs the drill.
pub fn run(req: RestoreRequest) -> Result<()> {
    let bytes = crate::files::read(&req.backup)?;
    let backup = BackupFile::parse(&req.backup, &bytes)?;
    let backup_sha256 = sha256_hex(&bytes);
    // Everything that can be checked before a share is asked for.
    let drilled = match (&req.ca, req.check) {
        (Some(dir), true) => {
            let store = term::open_ca(dir, None)?;
            let cert = store.cert()?;
            // The same key is the same CA: a backup made before a renewal holds the earlier certificate.
            if cert.spki_der != backup.cert.spki_der {
                return Err(Error::BadInput(format!(
                    "{} is a backup of the key of {} ({}), not of the CA in {} ({})",
                    req.backup.display(),
                    backup.cert.subject,
                    backup.cert.thumbprint,
                    dir.display(),
                    cert.thumbprint
                )));
            }
            Some(store)
        }
        (Some(dir), false) => {
            check_can_init(dir)?;
            None
        }
        (None, true) => None,
        (None, false) => {
            return Err(Error::BadInput(
                "restore needs --ca NEWDIR (a folder that holds no CA), or --check for a drill"
                    .into(),
            ));
        }
    };
    let secret = match (&req.token, req.check) {
        (_, true) => None,
        (None, false) => Some(secrets::obtain(
            req.ca_pass.as_ref(),
            secret::CA_PASS,
            SecretUse::New,
        )?),
        (Some(choice), false) => {
            let pin = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PIN, SecretUse::Existing)?;
            // The token is checked before any custodian types a share: reachable, the PIN right, the label free.
            let search = ModuleSearch::new(choice.module.as_deref(), None);
            token::open(&search, &choice.uri)?
                .login(&pin)?
                .check_free(&choice.uri)?;
            Some(pin)
        }
    };
    let mut pile = SharePile::new(backup.split);
    let opened = gather(&req, &backup, &mut pile).and_then(|()| {
        pile.secret()
            .map_err(|e| Error::BadInput(format!("{e}; nothing was written")))
            .and_then(|secret| {
                let key = backup.open(&req.backup, &secret)?;
                let authenticated = backup.check_mac(&req.backup, &secret)?;
                Ok((key, authenticated))
            })
    });
    let mut warnings = opened
        .as_ref()
        .map(|(_, authenticated)| notes(&req, &backup, &pile, *authenticated))
        .unwrap_or_default();
    if let Some(store) = &drilled
        && store.cert()?.thumbprint != backup.cert.thumbprint
    {
        warnings.push(format!(
            "{} holds an earlier certificate of this CA ({}; the key is the same): a restore from it gives that certificate; make a new backup",
            req.backup.display(),
            backup.cert.thumbprint
        ));
    }
    let record = |action, failure: Option<String>| CustodyRecord {
        action,
        time: crate::dates::now_utc_seconds().unwrap_or(backup.made),
        shares: scheme_text(&backup.scheme),
        split: backup.split,
        backup_sha256: backup_sha256.clone(),
        failure,
        key_id: crate::keys::key_id(&backup.cert.spki_der).ok(),
        file: None,
    };
    if req.check {
        // A drill that got as far as shares is recorded, passed or failed (a usage error is not a drill).
        if let Some(store) = drilled
            .as_ref()
            .filter(|_| !req.shares.is_empty() || !pile.is_empty())
        {
            let lock = term::lock(store)?;
            let failure = opened.as_ref().err().map(ToString::to_string);
            store.append(
                &lock,
                &[Event::Custody(record(CustodyAction::Drill, failure))],
            )?;
        }
        opened?;
        return term::render(
            &RestoreReport {
                backup: path_text(&req.backup),
                thumbprint: backup.cert.thumbprint,
                split: pile.split_given().unwrap_or(backup.split),
                shares_used: pile.len(),
                result: "drill passed",
                ca: req.ca.as_deref().map(path_text),
                key_location: None,
                settings: RestoredSettings::of(&backup),
                warnings,
            },
            req.format,
        );
    }
    let (key, _) = opened?;
    check_settings(&req, &backup)?;
    let dir = req
        .ca
        .clone()
        .ok_or(Error::Bug("restore without a folder"))?;
    let secret = secret.ok_or(Error::Bug("restore without a password"))?;
    let search = req
        .token
        .as_ref()
        .map(|choice| ModuleSearch::new(choice.module.as_deref(), None));
    let home = match (&req.token, &search) {
        (Some(choice), Some(search)) => NewCaKey::Token {
            search,
            uri: &choice.uri,
            pin: &secret,
        },
        _ => NewCaKey::File(&secret),
    };
    let settings = store::CaSettings {
        crl_url: backup.settings.crl_url.clone(),
        aia_url: backup.settings.aia_url.clone(),
        ocsp_url: backup.settings.ocsp_url.clone(),
        parent: backup.settings.parent.clone(),
        ..Default::default()
    };
    let created = store::restore(
        &dir,
        &backup.cert,
        key,
        &home,
        (settings, &backup.settings.chain),
        &[Event::Custody(record(CustodyAction::Restore, None))],
        &mut term::waiting_for_lock,
    )?;
    term::render(
        &RestoreReport {
            backup: path_text(&req.backup),
            thumbprint: backup.cert.thumbprint,
            split: pile.split_given().unwrap_or(backup.split),
            shares_used: pile.len(),
            result: "restored",
            ca: Some(path_text(&dir)),
            key_location: Some(created.key),
            settings: RestoredSettings::of(&backup),
            warnings,
        },
        req.format,
    )
}

/// Takes the shares from their sources, or asks for them on the terminal, until there are enough.
fn gather(req: &RestoreRequest, backup: &BackupFile, pile: &mut SharePile) -> Result<()> {
    if req.shares.is_empty() {
        if !shares_term::has_terminal() {
            return Err(Error::BadInput(
                "no --share given and no terminal to ask for shares on; give each share with --share file:PATH, env:VAR, fd:N or stdin".into(),
            ));
        }
        return shares_term::ask_shares(pile);
    }
    let mut reader = SecretReader::new();
    for source in &req.shares {
        let words = shares_term::read_share(&mut reader, source)?;
        pile.add(&words)
            .map_err(|e| Error::BadInput(format!("--share {source}: {e}; nothing was written")))?;
    }
    if let Gathered::More(more) = pile.progress() {
        return Err(Error::BadInput(format!(
            "{} share(s) given, {more} more needed ({} of split {} restore the key); nothing was written",
            pile.len(),
            scheme_text(&backup.scheme),
            backup.split
        )));
    }
    Ok(())
}

impl Report for RestoreReport {
    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.result == "restored" {
            writeln!(
                out,
                "Restored the CA {} from {} into {}",
                self.thumbprint,
                self.backup,
                self.ca.as_deref().unwrap_or("")
            )?;
            if let Some(location) = &self.key_location {
                super::show::write_key_location(out, location)?;
            }
            let settings = &self.settings;
            writeln!(
                out,
                "  CRL URL     {}",
                settings.crl_url.as_deref().unwrap_or("(none)")
            )?;
            writeln!(
                out,
                "  AIA URL     {}",
                settings.aia_url.as_deref().unwrap_or("(none)")
            )?;
            if let Some(url) = &settings.ocsp_url {
                writeln!(out, "  OCSP URL    {url}")?;
            }
            match &settings.parent {
                Some(parent) => {
                    writeln!(
                        out,
                        "  parent      {} ({})",
                        parent.subject, parent.thumbprint
                    )?;
                    writeln!(out, "  chain       {}", settings.chain.join(" <- "))?;
                }
                None => writeln!(out, "  parent      (none: a root)")?,
            }
        } else {
            writeln!(
                out,
                "Drill passed: {} shares of split {} open {} ({})",
                self.shares_used, self.split, self.backup, self.thumbprint
            )?;
            if let Some(ca) = &self.ca {
                writeln!(out, "  recorded in the inventory of {ca}")?;
            }
        }
        Ok(())
    }
}
