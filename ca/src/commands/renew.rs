//! `certkit-ca renew`: a new CA certificate for the same key (docs: README, "Renewing the CA"). Everything
//! the CA signed before verifies under the new certificate; only the CA thumbprint that service configurations
//! hold changes. `--plan` says what would change without the password and writes nothing.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cscfg::Cscfg;
use crate::dates::{Lifetime, Validity, rfc3339};
use crate::error::{Error, Result};
use crate::profile::{self, names};
use crate::secret;
use crate::secret::{SecretSource, SecretUse};
use crate::serial::Serial;
use crate::store::CaStore;
use crate::store::ChainCheck;
use crate::term::secrets::Passwords;
use crate::term::{self, Format, Report, output::path_text, secrets};
use crate::thumbprint::Thumbprint;

/// What `certkit-ca renew` was asked to do.
#[derive(Debug)]
pub struct RenewCaRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The new validity.
    pub lifetime: Lifetime,
    /// The validity asked for, if any (a CA below another defaults to five years, never past its parent).
    pub asked: Option<Lifetime>,
    /// For a CA below another: the CA folder that signs the renewal.
    pub parent: Option<PathBuf>,
    /// Its key's password (or token PIN).
    pub parent_pass: Option<SecretSource>,
    /// Only say what would change.
    pub plan: bool,
    /// Service configurations to look at (with `--plan`).
    pub cscfg: Vec<PathBuf>,
    /// The CA key's password (or token PIN).
    pub ca_pass: Option<SecretSource>,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// A service configuration that holds the CA's thumbprint.
#[derive(Debug, Serialize)]
pub struct Deployment {
    /// The file.
    pub file: String,
    /// Whether it trusts the current CA certificate (and needs the new thumbprint after the renewal).
    pub trusts_current: bool,
    /// The command that gives it the new thumbprint, once the renewal is made.
    pub edit: String,
}

/// What the renewal did, or would do.
#[derive(Debug, Serialize)]
pub struct RenewCaReport {
    /// Whether this is only the plan.
    pub plan: bool,
    /// The CA's subject (the same, byte for byte, in the new certificate).
    pub subject: String,
    /// The current (old) certificate's serial.
    pub old_serial: Serial,
    /// The current certificate's thumbprint.
    pub old_thumbprint: Thumbprint,
    /// Its end.
    #[serde(with = "time::serde::rfc3339")]
    pub old_not_after: OffsetDateTime,
    /// The new certificate's serial (none in a plan: it is random).
    pub serial: Option<Serial>,
    /// Its thumbprint (none in a plan).
    pub thumbprint: Option<Thumbprint>,
    /// Its start.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// Its end.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Certificates valid now, which stay valid under the new certificate (same key, same subject).
    pub still_valid: usize,
    /// Where the old certificate is kept.
    pub kept: Option<String>,
    /// The configuration lines for the new certificate.
    pub config_lines: Vec<String>,
    /// The service configurations given, and what each needs.
    pub deployments: Vec<Deployment>,
    /// Every valid certificate built into a chain offline: in a plan, under the current CA certificate (the
    /// renewal has the same key and subject) against the new end; after, under the new certificate.
    pub chain_check: ChainCheck,
    /// In a plan: the order of steps that keeps every deployment working.
    pub steps: Vec<String>,
}

/// The order of steps for a deployment that trusts one CA thumbprint (`AdditionalTrustedRootCertificationAuthorities`
/// holds one, as the guide documents it), from the change `change` to removing the old CA certificate.
pub fn steps(
    change: &str,
    ca_cer: &str,
    deployments: &[Deployment],
    path_note: &str,
) -> Vec<String> {
    let mut steps = vec![
        change.to_string(),
        format!(
            "upload {ca_cer} (the new CA certificate) to each cloud service, beside the old one"
        ),
    ];
    if !path_note.is_empty() {
        steps.push(path_note.to_string());
    }
    let trusting: Vec<&Deployment> = deployments.iter().filter(|d| d.trusts_current).collect();
    if trusting.is_empty() {
        steps.push(format!(
            "in each service configuration that trusts this CA: certkit-export cscfg --file FILE.cscfg --ca-cert {ca_cer}, then deploy it"
        ));
    }
    for d in trusting {
        steps.push(format!("{}, then deploy {}", d.edit, d.file));
    }
    steps.push(
        "once every deployment names the new thumbprint (certkit-export cscfg --check), remove the old CA certificate from the cloud services".into(),
    );
    steps
}

/// Renews the CA of `store`, below `parent`: the parent signs the renewal and records it (or an interrupted run's
/// recorded renewal is taken), then it is put in place and the CA's own key signs a checkpoint.
fn renew_below(
    store: &CaStore,
    parent: &CaStore,
    req: &RenewCaRequest,
    validity: Validity,
) -> Result<crate::store::Renewed> {
    let current = store.cert()?;
    // Both secrets first, the parent's before the CA's own (one order for fd:N and stdin).
    let mut passwords = Passwords::read(&[
        (secret::PARENT_PASS, req.parent_pass.as_ref()),
        (store.secret_kind()?, req.ca_pass.as_ref()),
    ])?;
    let parent_secret = passwords.take(secret::PARENT_PASS, SecretUse::Existing)?;
    let parent_signing = parent.unlock(&parent_secret)?;
    drop(parent_secret);
    let own = passwords.take(store.secret_kind()?, SecretUse::Existing)?;
    let signing = store.unlock_to_renew(&own)?;
    drop(own);
    let new = match recorded_renewal(parent, &current)? {
        Some(new) => new,
        None => {
            let new = crate::store::renewal_below(&parent_signing, &current, validity)?;
            super::sign_ca::record_renewal(parent, &parent_signing, &current, &new, Vec::new())?;
            new
        }
    };
    let lock = term::lock(store)?;
    let renewed = store.install_renewal(&lock, &signing, &new)?;
    store.checkpoint(&lock, &signing)?;
    Ok(renewed)
}

/// The renewal of `current` the parent recorded by a run that stopped before putting it in place: a
/// certificate for the same key and subject, recorded as a renewal of its serial.
fn recorded_renewal(
    parent: &CaStore,
    current: &crate::certinfo::CertInfo,
) -> Result<Option<crate::certinfo::CertInfo>> {
    let mut renewals = parent.renewals_of(&current.serial)?;
    renewals.retain(|e| e.revoked.is_none());
    for entry in renewals.iter().rev() {
        if let Some(der) = parent.record_certificate(entry)?
            && let Ok(cert) = crate::certinfo::CertInfo::from_der(&der, parent.dir())
            && cert.spki_der == current.spki_der
            && cert.subject == current.subject
        {
            return Ok(Some(cert));
        }
    }
    Ok(None)
}

/// What each service configuration in `files` needs once `current` (the CA certificate now) is replaced.
pub fn deployments(
    store: &crate::store::CaStore,
    current: &crate::certinfo::CertInfo,
    files: &[PathBuf],
) -> Result<Vec<Deployment>> {
    let mut deployments = Vec::new();
    for file in files {
        let cscfg = Cscfg::load(file)?;
        let trusts_current = cscfg.roles()?.iter().any(|role| {
            role.certificate(names::CA)
                .and_then(|t| Thumbprint::parse(t).ok())
                == Some(current.thumbprint)
        });
        deployments.push(Deployment {
            file: path_text(file),
            trusts_current,
            edit: format!(
                "certkit-export cscfg --file {} --ca-cert {}",
                path_text(file),
                path_text(&store.path(crate::store::CA_CER))
            ),
        });
    }
    Ok(deployments)
}

/// Renews the CA certificate, or plans it.
pub fn run(req: RenewCaRequest) -> Result<()> {
    let store = term::open_ca(&req.ca, req.module.clone())?;
    let current = store.cert()?;
    let above = store.chain_above(&current)?;
    let parent = match (above.first(), &req.parent) {
        (None, Some(_)) => {
            return Err(Error::BadInput(format!(
                "{} signed itself: renew it without --parent",
                current.subject
            )));
        }
        (Some(signer), None) => {
            return Err(Error::BadInput(format!(
                "{} is signed by {}: give that CA's folder with --parent DIR, which signs the renewal",
                current.subject, signer.subject
            )));
        }
        (Some(_), Some(dir)) => {
            let parent = term::open_ca(dir, None)?;
            let parent_cert = parent.cert()?;
            if !current.is_signed_by_key(&parent_cert.spki_der)? {
                return Err(Error::BadInput(format!(
                    "{} (in {}) did not sign {}: give the folder of the CA that did",
                    parent_cert.subject,
                    path_text(dir),
                    current.subject
                )));
            }
            Some((parent, parent_cert))
        }
        (None, None) => None,
    };
    let validity = match &parent {
        Some((_, parent_cert)) => {
            let (validity, warnings) = super::sign_ca::sub_ca_validity(parent_cert, req.asked)?;
            for warning in warnings {
                term::warn(&warning);
            }
            validity
        }
        None => Validity::starting_now(req.lifetime)?,
    };
    let now = OffsetDateTime::now_utc();
    let still_valid = store.counts(now)?.valid;
    let deployments = deployments(&store, &current, &req.cscfg)?;
    // A client trusts the root: for a CA below another, the path goes through the CA and those above it.
    let cross = store.lineage()?.cross_certificates_forward()?;
    let check = |ca: &crate::certinfo::CertInfo| match above.last() {
        Some(root) => {
            let mut through = cross.clone();
            through.push(ca.clone());
            through.extend(above[..above.len() - 1].iter().cloned());
            store.check_chains(root, &through, validity.not_after)
        }
        None => store.check_chains(ca, &cross, validity.not_after),
    };
    let planned_check = check(&current)?;
    let ca_cer = path_text(&store.path(crate::store::CA_CER));
    let mut report = RenewCaReport {
        plan: req.plan,
        subject: current.subject.clone(),
        old_serial: current.serial.clone(),
        old_thumbprint: current.thumbprint,
        old_not_after: current.not_after,
        serial: None,
        thumbprint: None,
        not_before: validity.not_before,
        not_after: validity.not_after,
        still_valid,
        kept: None,
        config_lines: Vec::new(),
        steps: steps(
            &format!("certkit-ca renew --ca {}", path_text(&req.ca)),
            &ca_cer,
            &deployments,
            "",
        ),
        deployments,
        chain_check: planned_check,
    };
    if req.plan {
        return term::render(&report, req.format);
    }
    report.steps.clear();
    let renewed = match &parent {
        Some((parent, _)) => renew_below(&store, parent, &req, validity)?,
        None => {
            let password = secrets::obtain(
                req.ca_pass.as_ref(),
                store.secret_kind()?,
                SecretUse::Existing,
            )?;
            let signing = store.unlock_to_renew(&password)?;
            drop(password);
            let lock = term::lock(&store)?;
            let renewed = store.renew_ca(&lock, &signing, validity)?;
            // The same key: the checkpoint it signs verifies under the renewed certificate.
            store.checkpoint(&lock, &signing)?;
            renewed
        }
    };
    report.serial = Some(renewed.new.serial.clone());
    report.thumbprint = Some(renewed.new.thumbprint);
    report.not_before = renewed.new.not_before;
    report.not_after = renewed.new.not_after;
    report.kept = Some(path_text(&renewed.kept));
    report.config_lines = profile::ca_lines(&renewed.new.thumbprint).to_vec();
    report.chain_check = check(&renewed.new)?;
    term::render(&report, req.format)
}

impl Report for RenewCaReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.plan {
            writeln!(
                out,
                "Plan: renew the CA {} (nothing was written)",
                self.subject
            )?;
        } else {
            writeln!(out, "Renewed the CA {}", self.subject)?;
        }
        writeln!(
            out,
            "  old         serial {}, thumbprint {}, until {}",
            self.old_serial,
            self.old_thumbprint,
            rfc3339(self.old_not_after)
        )?;
        match (&self.serial, &self.thumbprint) {
            (Some(serial), Some(thumbprint)) => writeln!(
                out,
                "  new         serial {serial}, thumbprint {thumbprint}, {} .. {}",
                rfc3339(self.not_before),
                rfc3339(self.not_after)
            )?,
            _ => writeln!(
                out,
                "  new         the same key and subject, a new serial and thumbprint, {} .. {}",
                rfc3339(self.not_before),
                rfc3339(self.not_after)
            )?,
        }
        writeln!(
            out,
            "  {} certificate(s) valid now stay valid under it (same key, same subject)",
            self.still_valid
        )?;
        if let Some(kept) = &self.kept {
            writeln!(out, "  the old certificate is kept in {kept}")?;
        }
        for d in &self.deployments {
            if d.trusts_current {
                writeln!(
                    out,
                    "  {} trusts the current thumbprint: after the renewal run {}",
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

/// The chain build's lines: how many verify, and each that does not or that outlives the CA certificate.
pub fn write_chain_check(out: &mut dyn Write, check: &ChainCheck, plan: bool) -> io::Result<()> {
    writeln!(
        out,
        "  chain check {} of {} valid certificate(s) verify under {}{}{}",
        check.verified,
        check.checked,
        if plan {
            "the current CA certificate "
        } else {
            "the new CA certificate "
        },
        check.anchor,
        if check.through.is_empty() {
            String::new()
        } else {
            format!(
                " through {}",
                check
                    .through
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )?;
    for failed in &check.failed {
        writeln!(
            out,
            "  NOT VERIFIED serial {} ({}): {}",
            failed.serial, failed.subject, failed.why
        )?;
    }
    for serial in &check.outlive_ca {
        writeln!(
            out,
            "  serial {serial} ends after the new CA certificate: it stops verifying when that ends; renew it"
        )?;
    }
    Ok(())
}

/// A plan's numbered steps.
pub fn write_steps(out: &mut dyn Write, steps: &[String]) -> io::Result<()> {
    if !steps.is_empty() {
        writeln!(out, "  steps (the service trusts one CA thumbprint):")?;
    }
    for (i, step) in steps.iter().enumerate() {
        writeln!(out, "    {}. {step}", i + 1)?;
    }
    Ok(())
}
