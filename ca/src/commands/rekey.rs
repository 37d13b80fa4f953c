//! `certkit-ca rekey`: a new CA key and certificate, and the two cross-certificates that let clients trusting
//! either CA certificate verify what both keys sign (docs: README, "Re-keying the CA"). The old key stays in
//! `keys/` to sign CRLs for what it issued. `--plan` says what would change without the password and writes
//! nothing.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use super::renew::{Deployment, deployments, steps, write_chain_check, write_steps};
use crate::certinfo::CertInfo;
use crate::dates::{Lifetime, Validity, rfc3339};
use crate::error::{Error, Result};
use crate::keys::key_id;
use crate::keys::{self, KeyType};
use crate::profile;
use crate::secret::{CA_PASS, NEW_CA_PASS, SecretSource, SecretUse};
use crate::serial::Serial;
use crate::signer::CaKey;
use crate::store::{ChainCheck, KeyOrigin, RekeyKeys, TokenRecord, rekey_certs};
use crate::term::{self, Format, Report, output::path_text, secrets::Passwords};
use crate::thumbprint::Thumbprint;
use crate::token::TokenUri;

/// What `certkit-ca rekey` was asked to do.
#[derive(Debug)]
pub struct RekeyRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The new certificate's validity.
    pub lifetime: Lifetime,
    /// The new key's type (default: the current key's).
    pub key: Option<KeyType>,
    /// The CRL distribution point of what the new key signs.
    pub crl_url: Option<String>,
    /// Only say what would change.
    pub plan: bool,
    /// Service configurations to look at.
    pub cscfg: Vec<PathBuf>,
    /// The CA key's password.
    pub ca_pass: Option<SecretSource>,
    /// The password of the CA's key files from now on, if not the current one.
    pub new_ca_pass: Option<SecretSource>,
    /// For a CA key on a token: the new key's URI (the same token, a new label).
    pub pkcs11: Option<TokenUri>,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// A cross-certificate the re-key made.
#[derive(Debug, Serialize)]
pub struct CrossCertificate {
    /// Where it is.
    pub file: String,
    /// The key it certifies (its subject key identifier).
    pub key_id: String,
    /// The key that signed it.
    pub signed_by: String,
    /// Its thumbprint.
    pub thumbprint: Thumbprint,
    /// Its end (the old CA certificate's, or the new one's if sooner).
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A CA key and the certificates it signed that have not expired.
#[derive(Debug, Serialize)]
pub struct KeyUse {
    /// The key's identifier.
    pub key_id: String,
    /// Whether it is the key that signs now (before the re-key).
    pub current: bool,
    /// Certificates it signed that have not expired (revoked ones too).
    pub unexpired: usize,
    /// When the last of them expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

/// What the re-key did, or would do.
#[derive(Debug, Serialize)]
pub struct RekeyReport {
    /// Whether this is only the plan.
    pub plan: bool,
    /// The CA's subject (the same, byte for byte, in every new certificate).
    pub subject: String,
    /// The current certificate's serial.
    pub old_serial: Serial,
    /// Its thumbprint.
    pub old_thumbprint: Thumbprint,
    /// The current key's identifier.
    pub old_key_id: String,
    /// Where the old key is kept, to sign CRLs for what it issued (none in a plan).
    pub old_key_file: Option<String>,
    /// The new key's type.
    pub key: KeyType,
    /// The new key's identifier (none in a plan).
    pub key_id: Option<String>,
    /// The new certificate's serial (none in a plan).
    pub serial: Option<Serial>,
    /// Its thumbprint (none in a plan).
    pub thumbprint: Option<Thumbprint>,
    /// Its start.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// Its end.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The CRL distribution point of what the new key signs.
    pub crl_url: Option<String>,
    /// Certificates valid now: signed by the old key, they stay valid and its CRLs cover them.
    pub still_valid: usize,
    /// The two cross-certificates (none in a plan).
    pub cross_certificates: Vec<CrossCertificate>,
    /// Each key of the CA with what it signed that has not expired (whose CRLs it must sign until then).
    pub by_key: Vec<KeyUse>,
    /// The configuration lines for the new certificate.
    pub config_lines: Vec<String>,
    /// The service configurations given, and what each needs.
    pub deployments: Vec<Deployment>,
    /// Every valid certificate built into a chain offline: in a plan, under the current CA certificate; after,
    /// under the new one through the cross-certificate the new key signed (as a client that trusts only the new
    /// CA certificate and is given that cross-certificate would).
    pub chain_check: ChainCheck,
    /// In a plan: the order of steps that keeps every deployment working.
    pub steps: Vec<String>,
}

/// Re-keys the CA, or plans it.
pub fn run(req: RekeyRequest) -> Result<()> {
    let store = term::open_ca(&req.ca, req.module.clone())?;
    let current = store.cert()?;
    if current.issuer != current.subject {
        return Err(Error::BadInput(format!(
            "{} is signed by {}, not by itself: make a new key with certkit-ca init --request and have the CA above sign it",
            current.subject, current.issuer
        )));
    }
    let settings = store.settings()?;
    match (&settings.pkcs11, &req.pkcs11) {
        (Some(record), None) => {
            return Err(Error::BadInput(format!(
                "the CA key is on a token ({}): give the new key's place with --pkcs11 URI (the same token, a new object= label)",
                record.uri
            )));
        }
        (None, Some(_)) => {
            return Err(Error::BadInput(
                "the CA key is in ca.key: move it onto the token first (certkit-ca move-key --pkcs11 URI), then re-key it there with --pkcs11".into(),
            ));
        }
        (Some(_), Some(_)) if req.new_ca_pass.is_some() => {
            return Err(Error::BadInput(
                "--new-ca-pass is for key files; a token keeps its PIN".into(),
            ));
        }
        _ => {}
    }
    if settings.crl_url.is_some() && req.crl_url.is_none() {
        return Err(Error::BadInput(format!(
            "what the new key signs needs its own CRL location (the old key's CRLs stay at {}): give --crl-url URL",
            settings.crl_url.as_deref().unwrap_or_default()
        )));
    }
    if req.crl_url.is_some() && req.crl_url == settings.crl_url {
        return Err(Error::BadInput(
            "--crl-url is the old key's CRL location: give the new key's CRLs another URL".into(),
        ));
    }
    let key_type = match req.key {
        Some(key) => key,
        None => KeyType::of_spki_der(&current.spki_der)?,
    };
    let validity = Validity::starting_now(req.lifetime)?;
    let still_valid = store.counts(OffsetDateTime::now_utc())?.valid;
    let mut report = RekeyReport {
        plan: req.plan,
        subject: current.subject.clone(),
        old_serial: current.serial.clone(),
        old_thumbprint: current.thumbprint,
        old_key_id: key_id(&current.spki_der)?,
        old_key_file: None,
        key: key_type,
        key_id: None,
        serial: None,
        thumbprint: None,
        not_before: validity.not_before,
        not_after: validity.not_after,
        crl_url: req.crl_url.clone(),
        still_valid,
        cross_certificates: Vec::new(),
        by_key: key_uses(&store, &current)?,
        config_lines: Vec::new(),
        deployments: deployments(&store, &current, &req.cscfg)?,
        chain_check: store.check_chains(
            &current,
            &store.lineage()?.cross_certificates_forward()?,
            validity.not_after,
        )?,
        steps: Vec::new(),
    };
    if req.plan {
        let ca_cer = path_text(&store.path(crate::store::CA_CER));
        report.steps = steps(
            &format!("certkit-ca rekey --ca {}", path_text(&req.ca)),
            &ca_cer,
            &report.deployments,
            &format!(
                "certificates the old key signed verify under the new CA certificate only through the cross-certificate the new key signs (history/, printed by rekey): install it where the service builds client paths (its intermediate certificate store), or renew them under the new key first (certkit-issue renew --ca {} --expiring-within DAYS) before the switch below",
                path_text(&req.ca)
            ),
        );
        return term::render(&report, req.format);
    }
    // The lock first: a re-key an earlier run left unfinished is finished before this one starts from it.
    let lock = term::lock(&store)?;
    let current = store.cert()?;
    let mut passwords = Passwords::read(&[
        (CA_PASS, req.ca_pass.as_ref()),
        (NEW_CA_PASS, req.new_ca_pass.as_ref()),
    ])?;
    let password = passwords.take(CA_PASS, SecretUse::Existing)?;
    let new_password = match &req.new_ca_pass {
        Some(_) => Some(passwords.take(NEW_CA_PASS, SecretUse::New)?),
        None => None,
    };
    let signing = store.unlock(&password)?;
    let (new_key, keys) = match (&req.pkcs11, &settings.pkcs11) {
        (Some(uri), Some(old)) => {
            let token = crate::token::open(
                &crate::token::ModuleSearch::new(req.module.as_deref(), old.module.as_deref()),
                uri,
            )?;
            let module = token.module.clone();
            let (key, uri) = token.login(&password)?.generate(uri, key_type)?;
            let record = TokenRecord {
                uri: uri.to_string(),
                module: Some(module),
                origin: Some(KeyOrigin::MadeOnToken),
            };
            (CaKey::Token(key), RekeyKeys::Token(record))
        }
        _ => {
            let new_key = key_type.generate()?;
            let under = new_password.as_ref().unwrap_or(&password);
            let old = match (&new_password, signing.issuer().key()) {
                (Some(new), CaKey::File(old)) => {
                    keys::encrypt_pkcs8_der(&zeroize::Zeroizing::new(old.serialize_der()), new)?
                }
                _ => zeroize::Zeroizing::new(
                    String::from_utf8(crate::files::read(&store.key_file_of(&current.spki_der)?)?)
                        .map_err(|_| Error::Bug("a key file that is not PEM text"))?,
                ),
            };
            let files = RekeyKeys::Files {
                old,
                new: keys::encrypt_pem(&new_key, under)?,
            };
            (CaKey::File(new_key), files)
        }
    };
    drop(password);
    let rekeyed = rekey_certs(&signing, &new_key, validity)
        .and_then(|certs| store.rekey_ca(&lock, &signing, &certs, &keys, req.crl_url.clone()));
    let rekeyed = match rekeyed {
        Ok(rekeyed) => rekeyed,
        Err(e) => {
            // A key made on the token for a re-key that did not happen goes again.
            if let (CaKey::Token(key), RekeyKeys::Token(_)) = (new_key, &keys)
                && store.cert()?.spki_der == current.spki_der
                && store.settings()?.pkcs11 == settings.pkcs11
            {
                key.destroy();
            }
            return Err(e);
        }
    };
    drop(signing);
    // The new key signs the checkpoint over everything the re-key recorded.
    let new_signing = crate::signer::SigningCa::new(
        rekeyed.certs.new.clone(),
        new_key,
        req.crl_url.clone(),
        &store.path(crate::store::CA_PEM),
        &store.path(crate::store::CA_KEY),
    )?;
    store.checkpoint(&lock, &new_signing)?;
    drop(lock);
    let new = &rekeyed.certs.new;
    report.old_key_file = Some(path_text(&rekeyed.old_key));
    report.key_id = Some(key_id(&new.spki_der)?);
    report.serial = Some(new.serial.clone());
    report.thumbprint = Some(new.thumbprint);
    report.not_before = new.not_before;
    report.not_after = new.not_after;
    let cross = |cert: &CertInfo, file: &PathBuf, signer: &[u8]| -> Result<CrossCertificate> {
        Ok(CrossCertificate {
            file: path_text(file),
            key_id: key_id(&cert.spki_der)?,
            signed_by: key_id(signer)?,
            thumbprint: cert.thumbprint,
            not_after: cert.not_after,
        })
    };
    report.cross_certificates = vec![
        cross(
            &rekeyed.certs.new_by_old,
            &rekeyed.cross[0],
            &rekeyed.old.spki_der,
        )?,
        cross(&rekeyed.certs.old_by_new, &rekeyed.cross[1], &new.spki_der)?,
    ];
    report.config_lines = profile::ca_lines(&new.thumbprint).to_vec();
    report.chain_check = store.check_chains(
        new,
        &store.lineage()?.cross_certificates_forward()?,
        new.not_after,
    )?;
    term::render(&report, req.format)
}

/// Each key of the CA's lineage with what it signed that has not expired.
fn key_uses(store: &crate::store::CaStore, current: &CertInfo) -> Result<Vec<KeyUse>> {
    let mut unexpired = store.unexpired_by_key(OffsetDateTime::now_utc())?;
    let mut uses = Vec::new();
    for key in store.lineage()?.keys {
        let id = key_id(&key)?;
        let (count, until) = unexpired.remove(&id).unwrap_or((0, None));
        uses.push(KeyUse {
            current: key == current.spki_der,
            key_id: id,
            unexpired: count,
            until,
        });
    }
    Ok(uses)
}

impl Report for RekeyReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.plan {
            writeln!(
                out,
                "Plan: re-key the CA {} (nothing was written)",
                self.subject
            )?;
        } else {
            writeln!(out, "Re-keyed the CA {}", self.subject)?;
        }
        writeln!(
            out,
            "  old         key {}, serial {}, thumbprint {}",
            self.old_key_id, self.old_serial, self.old_thumbprint
        )?;
        match (&self.key_id, &self.serial, &self.thumbprint) {
            (Some(key_id), Some(serial), Some(thumbprint)) => writeln!(
                out,
                "  new         key {key_id} ({}), serial {serial}, thumbprint {thumbprint}, {} .. {}",
                self.key.name(),
                rfc3339(self.not_before),
                rfc3339(self.not_after)
            )?,
            _ => writeln!(
                out,
                "  new         a new {} key and certificate, the same subject, {} .. {}",
                self.key.name(),
                rfc3339(self.not_before),
                rfc3339(self.not_after)
            )?,
        }
        for cross in &self.cross_certificates {
            writeln!(
                out,
                "  cross       {} (key {} signed by key {}, until {})",
                cross.file,
                cross.key_id,
                cross.signed_by,
                rfc3339(cross.not_after)
            )?;
        }
        writeln!(
            out,
            "  {} certificate(s) valid now stay valid; the old key signs their CRLs{}",
            self.still_valid,
            match &self.old_key_file {
                Some(file) => format!(" (kept in {file} until certkit-ca retire-key)"),
                None => String::new(),
            }
        )?;
        if let Some(url) = &self.crl_url {
            writeln!(out, "  what the new key signs names its CRLs at {url}")?;
        }
        for key in &self.by_key {
            writeln!(
                out,
                "  key {}{}: {} unexpired certificate(s){}",
                key.key_id,
                if key.current { " (signs now)" } else { "" },
                key.unexpired,
                key.until
                    .map(|u| format!(", the last until {}", rfc3339(u)))
                    .unwrap_or_default()
            )?;
        }
        for d in &self.deployments {
            if d.trusts_current {
                writeln!(
                    out,
                    "  {} trusts the current thumbprint: after the re-key run {}",
                    d.file, d.edit
                )?;
            } else {
                writeln!(out, "  {} does not hold the current CA thumbprint", d.file)?;
            }
        }
        write_chain_check(out, &self.chain_check, self.plan)?;
        write_steps(out, &self.steps)?;
        for line in &self.config_lines {
            writeln!(out, "  {line}")?;
        }
        Ok(())
    }
}
