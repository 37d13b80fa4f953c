//! `certkit-ca init`: create a self-signed CA.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::backup::{BackupPlan, BackupReport};
use crate::dates::Validity;
use crate::error::Result;
use crate::keys::KeyType;
use crate::profile;
use crate::secret::{self, SecretSource, SecretUse};
use crate::serial::Serial;
use crate::signer::CaKey;
use crate::store::{self, CaSpec, CaStore, KeyLocation, NewCaKey};
use crate::term::{self, Format, Report, output::path_texts, secrets};
use crate::thumbprint::Thumbprint;
use crate::token::{self, ModuleSearch, TokenUri};

/// What `certkit-ca init` was asked to do.
#[derive(Debug)]
pub struct InitRequest {
    /// The CA to make.
    pub spec: CaSpec,
    /// The token to make the key on, if not in `ca.key`.
    pub token: Option<TokenChoice>,
    /// A backup of the new key into recovery shares (with a token: made before the key goes onto it).
    pub backup: Option<BackupPlan>,
    /// Where the new CA key password (or the token PIN) comes from (default: ask).
    pub ca_pass: Option<SecretSource>,
    /// How to print the result.
    pub format: Format,
}

/// A token for the CA key, as `--pkcs11` and `--pkcs11-module` name it.
#[derive(Debug)]
pub struct TokenChoice {
    /// The token and the key's label.
    pub uri: TokenUri,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
}

/// What `certkit-ca init` made.
#[derive(Debug, Serialize)]
pub struct InitReport {
    /// The CA's subject.
    pub subject: String,
    /// Its serial.
    pub serial: Serial,
    /// Its key type.
    pub key: KeyType,
    /// basicConstraints pathLenConstraint.
    pub pathlen: u8,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// CRL distribution point for the certificates it will issue.
    pub crl_url: Option<String>,
    /// Files written.
    pub files: Vec<String>,
    /// The two .cscfg lines for the CA.
    pub config_lines: [String; 2],
    /// Where the CA key is.
    pub key_location: KeyLocation,
    /// The name constraints' permitted subtrees (`DNS:`, `email:`, `IP:`), enforced when certkit issues.
    pub permitted_names: Vec<String>,
    /// Their excluded subtrees.
    pub excluded_names: Vec<String>,
    /// The backup made (with --backup-shares).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupReport>,
    #[serde(skip)]
    dir: PathBuf,
}

/// Creates the CA; asks for the password only once everything else has been checked.
pub fn run(req: InitRequest) -> Result<()> {
    let validity = req.spec.validate()?;
    if let Some(plan) = &req.backup {
        plan.check()?;
    }
    let (created, backup) = match &req.token {
        None => {
            let password = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PASS, SecretUse::New)?;
            let created = store::init(
                &req.spec,
                &NewCaKey::File(&password),
                &mut term::waiting_for_lock,
            )?;
            let backup = match &req.backup {
                Some(plan) => {
                    let ca = CaStore::open(&req.spec.dir)?;
                    let lock = term::lock(&ca)?;
                    Some(plan.make(&ca, &lock, &ca.unlock(&password)?)?)
                }
                None => None,
            };
            (created, backup)
        }
        Some(choice) => {
            let pin = secrets::obtain(req.ca_pass.as_ref(), secret::CA_PIN, SecretUse::Existing)?;
            let search = ModuleSearch::new(choice.module.as_deref(), None);
            let home = NewCaKey::Token {
                search: &search,
                uri: &choice.uri,
                pin: &pin,
            };
            match &req.backup {
                Some(plan) => {
                    let (created, backup) = backed_up_on_token(&req.spec, validity, plan, &home)?;
                    (created, Some(backup))
                }
                None => {
                    let created = store::init(&req.spec, &home, &mut term::waiting_for_lock)?;
                    term::warn(
                        "the CA key was made on the token and cannot be read out, so it has no backup: if the token is lost, so is the CA. To keep M-of-N recovery shares, make it with --backup-shares N --threshold M (docs/custody.md)",
                    );
                    (created, None)
                }
            }
        }
    };
    let cert = created.cert;
    let report = InitReport {
        config_lines: profile::ca_lines(&cert.thumbprint),
        subject: cert.subject,
        serial: cert.serial,
        key: req.spec.key,
        pathlen: req.spec.pathlen,
        not_before: cert.not_before,
        not_after: cert.not_after,
        thumbprint: cert.thumbprint,
        sha256: cert.sha256,
        crl_url: req.spec.crl_url.clone(),
        files: path_texts(&created.files),
        key_location: created.key,
        permitted_names: req.spec.constraints.permitted_names(),
        excluded_names: req.spec.constraints.excluded_names(),
        backup,
        dir: req.spec.dir.clone(),
    };
    term::render(&report, req.format)
}

/// A token CA whose key is made in memory, backed up into recovery shares (shown or written, the backup file
/// last), then imported into the token as sensitive; the copy in memory is dropped (and wiped) after. The token
/// is checked before the ceremony: reachable, the PIN right, the label free. If the CA cannot be made after the
/// shares were handed out, the backup and share files are removed again (they would restore a CA that does not
/// exist).
fn backed_up_on_token(
    spec: &CaSpec,
    validity: Validity,
    plan: &BackupPlan,
    home: &NewCaKey<'_>,
) -> Result<(store::Created, BackupReport)> {
    if let NewCaKey::Token { search, uri, pin } = home {
        token::open(search, uri)?.login(pin)?.check_free(uri)?;
    }
    let signer = CaKey::File(spec.key.generate()?);
    let cert = store::self_signed_ca(spec, validity, &signer)?;
    let CaKey::File(key) = signer else {
        return Err(crate::Error::Bug("a key made in memory is not in memory"));
    };
    let backed_up = crate::custody::BackupSettings {
        crl_url: spec.crl_url.clone(),
        aia_url: spec.aia_url.clone(),
        ocsp_url: spec.ocsp_url.clone(),
        parent: None,
        chain: Vec::new(),
    };
    let settings = store::CaSettings {
        crl_url: spec.crl_url.clone(),
        aia_url: spec.aia_url.clone(),
        ocsp_url: spec.ocsp_url.clone(),
        ..Default::default()
    };
    let split = plan.split(&cert, &key, backed_up)?;
    let record = split.record.clone();
    let (report, written) = plan.hand_out(split)?;
    match store::restore(
        &spec.dir,
        &cert,
        key,
        home,
        (settings, &[]),
        &[record],
        &mut term::waiting_for_lock,
    ) {
        Ok(created) => Ok((created, report)),
        Err(e) => {
            crate::files::remove_all(&written);
            Err(e)
        }
    }
}

impl Report for InitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        use crate::dates::rfc3339;
        writeln!(out, "Created CA in {}", self.dir.display())?;
        writeln!(out, "  subject     {}", self.subject)?;
        writeln!(out, "  key         {} (pathlen {})", self.key, self.pathlen)?;
        writeln!(out, "  serial      {}", self.serial)?;
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.not_before),
            rfc3339(self.not_after)
        )?;
        writeln!(out, "  thumbprint  {}", self.thumbprint)?;
        term::output::constraint_lines(out, &self.permitted_names, &self.excluded_names)?;
        for file in &self.files {
            writeln!(out, "  wrote       {file}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "Service configuration lines (ServiceConfiguration.cscfg):"
        )?;
        for line in &self.config_lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        if let Some(backup) = &self.backup {
            writeln!(
                out,
                "  backup      {} (split {}, {} shares restore it)",
                backup.backup, backup.split, backup.shares
            )?;
            for file in &backup.share_files {
                writeln!(out, "  share       {file}")?;
            }
            writeln!(out)?;
        }
        match (
            &self.key_location.token,
            &self.key_location.uri,
            &self.backup,
        ) {
            (Some(token), Some(uri), Some(backup)) => writeln!(
                out,
                "The CA key was imported into the token '{}' (serial {}) as {uri}: it cannot be copied off it, and {} with its shares restores it (certkit-ca restore). Run a drill now: certkit-ca restore --backup {} --check --ca {}",
                token.label,
                token.serial,
                backup.backup,
                backup.backup,
                self.dir.display()
            ),
            (Some(token), Some(uri), None) => {
                writeln!(
                    out,
                    "The CA key was made on the token '{}' (serial {}) as {uri}: it cannot be copied off it.",
                    token.label, token.serial
                )?;
                writeln!(
                    out,
                    "It has NO BACKUP unless your token supports one: if the token is lost or wiped, this CA can never sign again."
                )
            }
            _ => writeln!(
                out,
                "Keep {} and its password safe and offline: whoever has both can issue certificates your service trusts.",
                self.dir.join(store::CA_KEY).display()
            ),
        }
    }
}
