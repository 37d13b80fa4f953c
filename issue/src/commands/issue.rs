//! `certkit-issue server|client|encryption`: one certificate with a new key, CA-signed or self-signed.

use std::path::PathBuf;

use certkit_ca::pfx::PfxProfile;
use certkit_ca::secret::{self, SecretKind, SecretUse};
use certkit_ca::term::secrets::Passwords;
use certkit_ca::term::{self, Format};
use certkit_ca::{Profile, Result, Secret, SecretSource, Serial};

use super::ca::{self, CaContext};
use super::report::IssueReport;
use crate::engine::{Engine, Issued, Order, PfxOutput, Signer, SubjectKey};
use crate::leaf::LeafSpec;
use crate::outputs::OutputPlan;

/// A PFX asked for with `--pfx`.
#[derive(Debug, Clone)]
pub struct PfxRequest {
    /// Its protection profile.
    pub profile: PfxProfile,
    /// Where its password comes from (default: ask twice).
    pub pass: Option<SecretSource>,
}

/// The passwords of a command that makes a new key, and whether it writes a PFX.
#[derive(Debug, Clone)]
pub struct NewKeySecrets {
    /// The CA key's password source.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<PathBuf>,
    /// The new key file's password source.
    pub key_pass: Option<SecretSource>,
    /// The PFX, with `--pfx`.
    pub pfx: Option<PfxRequest>,
}

/// What `certkit-issue server|client|encryption` was asked to do.
#[derive(Debug)]
pub struct IssueRequest {
    /// The CA folder; None for a self-signed certificate.
    pub ca: Option<PathBuf>,
    /// The certificate (its CRL URL is the `--crl-url` flag; the CA's default is filled in here).
    pub spec: LeafSpec,
    /// The CA's profile file it is issued by (`--profile NAME`).
    pub by_profile: Option<String>,
    /// Output prefix.
    pub out: PathBuf,
    /// Passwords and PFX.
    pub secrets: NewKeySecrets,
    /// How to print the result.
    pub format: Format,
}

/// Issues the certificate.
pub fn run(req: IssueRequest) -> Result<()> {
    req.secrets.check(Some(secret::CA_PASS))?;
    let mut spec = req.spec;
    let crl_flag_given = spec.crl_url.is_some();
    let context = match &req.ca {
        Some(dir) => Some(ca::open(
            dir,
            &spec.validity,
            spec.crl_url.take(),
            req.secrets.module.clone(),
        )?),
        None => None,
    };
    spec.crl_url = context.as_ref().and_then(|c| c.crl_url.clone());
    if let Some(name) = &req.by_profile {
        let context = context.as_ref().ok_or_else(|| {
            certkit_ca::Error::BadInput(format!(
                "--profile {name} needs --ca DIR: a profile file belongs to a CA"
            ))
        })?;
        spec.profile_file = Some(crate::by_profile::load(&context.store, name)?);
    }
    spec.take_profile(crl_flag_given)?;
    spec.validate()?;
    if spec.profile == Profile::Client && context.is_none() {
        return Err(certkit_ca::Error::Bug("a client certificate needs a CA"));
    }
    let mut warnings = Vec::new();
    if spec.profile == Profile::Encryption && !spec.key_type.is_rsa() {
        warnings.push(format!(
            "an {} key cannot do key encipherment; Azure Cloud Services wants RSA for DataEncryptionPrimary",
            spec.key_type
        ));
    }
    let profile = spec.profile;
    let key = spec.key_type;
    let pfx_profile = req.secrets.pfx.as_ref().map(|p| p.profile);
    let (issued, issuer) = issue_with_new_key(context.as_ref(), spec, req.out, &req.secrets)?;
    let report = IssueReport::new(issued, profile, key, issuer, pfx_profile, warnings);
    term::render(&report, req.format)
}

/// The passwords of a new key: its key file's, and the PFX's with its profile.
pub(super) struct NewKeyPasswords {
    key: Option<Secret>,
    pfx: Option<(PfxProfile, Secret)>,
}

impl NewKeySecrets {
    /// Reads every password source given (with the CA's, of kind `ca`, when the CA signs), in the documented
    /// order.
    pub(super) fn read(&self, ca: Option<SecretKind>) -> Result<Passwords> {
        let mut wanted = vec![(secret::KEY_PASS, self.key_pass.as_ref())];
        if let Some(kind) = ca {
            wanted.push((kind, self.ca_pass.as_ref()));
        }
        if let Some(pfx) = &self.pfx {
            wanted.push((secret::PFX_PASS, pfx.pass.as_ref()));
        }
        Passwords::read(&wanted)
    }

    /// Checks every password source given (without reading one), before any lock is waited for.
    pub(super) fn check(&self, ca: Option<SecretKind>) -> Result<()> {
        if let (Some(kind), Some(source)) = (ca, &self.ca_pass) {
            source.check(kind)?;
        }
        if let Some(source) = &self.key_pass {
            source.check(secret::KEY_PASS)?;
        }
        if let Some(source) = self.pfx.as_ref().and_then(|p| p.pass.as_ref()) {
            source.check(secret::PFX_PASS)?;
        }
        Ok(())
    }

    /// Whether a PFX is asked for.
    pub(super) fn has_pfx(&self) -> bool {
        self.pfx.is_some()
    }

    /// Whether a source was given for the new key file's password.
    pub(super) fn key_pass_given(&self) -> bool {
        self.key_pass.is_some()
    }
}

impl NewKeyPasswords {
    /// The new key file's and PFX's passwords (asked for now when they have no source).
    pub(super) fn take(passwords: &mut Passwords, secrets: &NewKeySecrets) -> Result<Self> {
        Self::take_for(passwords, secrets, true)
    }

    /// As [`NewKeyPasswords::take`]; the key file's password only `with_key_file` (a renewal of many with
    /// --pfx writes none).
    pub(super) fn take_for(
        passwords: &mut Passwords,
        secrets: &NewKeySecrets,
        with_key_file: bool,
    ) -> Result<Self> {
        // At a terminal, with neither password given: one password, asked once, protects both the key file
        // and the PFX (it opens the same key either way).
        if let Some(pfx) = &secrets.pfx
            && with_key_file
            && !passwords.has(secret::KEY_PASS)
            && !passwords.has(secret::PFX_PASS)
            && std::io::IsTerminal::is_terminal(&std::io::stdin())
        {
            let both = passwords.take(secret::KEY_AND_PFX_PASS, SecretUse::New)?;
            let copy = Secret::new(zeroize::Zeroizing::new(both.expose().to_string()));
            return Ok(NewKeyPasswords {
                key: Some(both),
                pfx: Some((pfx.profile, copy)),
            });
        }
        let key = match with_key_file {
            true => Some(passwords.take(secret::KEY_PASS, SecretUse::New)?),
            false => None,
        };
        let pfx = match &secrets.pfx {
            Some(pfx) => Some((
                pfx.profile,
                passwords.take(secret::PFX_PASS, SecretUse::New)?,
            )),
            None => None,
        };
        Ok(NewKeyPasswords { key, pfx })
    }

    /// The new key file's password, and the PFX to write (when asked).
    pub(super) fn protection(&self) -> (Option<&Secret>, Option<PfxOutput<'_>>) {
        (
            self.key.as_ref(),
            self.pfx.as_ref().map(|(profile, password)| PfxOutput {
                profile: *profile,
                password,
            }),
        )
    }

    /// The order for a new key of `spec` delivered by `plan`.
    pub(super) fn order(
        &self,
        spec: LeafSpec,
        plan: OutputPlan,
        renewal_of: Option<Serial>,
    ) -> Order<'_> {
        Order {
            key: SubjectKey::Generate(spec.key_type),
            spec,
            plan,
            key_password: self.key.as_ref(),
            pfx: self.pfx.as_ref().map(|(profile, password)| PfxOutput {
                profile: *profile,
                password,
            }),
            renewal_of,
        }
    }
}

/// The files of a new key's certificate: PREFIX.cer/.pem/.key, and .pfx when asked.
pub(super) fn new_key_plan(out: PathBuf, secrets: &NewKeySecrets) -> OutputPlan {
    OutputPlan {
        prefix: out,
        with_key: true,
        with_pfx: secrets.pfx.is_some(),
    }
}

/// Delivers one order through `engine` and signs a checkpoint.
pub(super) fn issue_one(engine: &Engine<'_>, order: Order<'_>) -> Result<Issued> {
    let issued = engine
        .commit(vec![engine.prepare(order)?])?
        .into_iter()
        .next()
        .ok_or(certkit_ca::Error::Bug("a commit returned nothing"))?;
    engine.checkpoint().map_err(|e| {
        certkit_ca::Error::Failed(format!(
            "{e}; the certificate {} was delivered and recorded, but this run could not finish: run the same command again to finish it",
            issued.cert.serial
        ))
    })?;
    Ok(issued)
}

/// Makes a key, signs `spec` (by the CA in `context`, else self-signed), records a CA-signed certificate and
/// writes PREFIX.cer/.pem/.key (and .pfx); asks for the CA password first, then the new ones. Returns the
/// issued certificate and its issuer's subject (None when self-signed).
fn issue_with_new_key(
    context: Option<&CaContext>,
    spec: LeafSpec,
    out: PathBuf,
    secrets: &NewKeySecrets,
) -> Result<(Issued, Option<String>)> {
    let plan = new_key_plan(out, secrets);
    if let Some(context) = context
        && let Some(done) = finished_earlier(context, &plan, &spec.cn)?
    {
        return Ok(done);
    }
    plan.check_free(context.map(|c| &c.store))?;
    let mut read = secrets.read(context.map(|c| c.secret))?;
    let Some(context) = context else {
        let passwords = NewKeyPasswords::take(&mut read, secrets)?;
        let engine = Engine::new(Signer::SelfSigned)?;
        return Ok((issue_one(&engine, passwords.order(spec, plan, None))?, None));
    };
    let password = read.take(context.secret, SecretUse::Existing)?;
    let ca = context.store.unlock(&password)?;
    drop(password);
    let passwords = NewKeyPasswords::take(&mut read, secrets)?;
    let lock = term::lock(&context.store)?;
    let engine = Engine::new(Signer::Ca {
        store: &context.store,
        ca: &ca,
        lock: &lock,
    })?;
    let issued = issue_one(&engine, passwords.order(spec, plan, None))?;
    Ok((issued, Some(ca.cert.subject.clone())))
}

/// What an earlier run of the same command delivered to `plan` but could not confirm (see
/// `CaStore::unconfirmed_delivery`): reported as this run's result, with a note, instead of an error about
/// files that exist.
pub(super) fn finished_earlier(
    context: &CaContext,
    plan: &OutputPlan,
    cn: &str,
) -> Result<Option<(Issued, Option<String>)>> {
    let Some(cert) = context.store.unconfirmed_delivery(&plan.paths(), cn)? else {
        return Ok(None);
    };
    term::note(&format!(
        "{} was delivered by an earlier run that could not finish; nothing new was issued",
        cert.serial
    ));
    let issuer = context.store.cert()?.subject;
    Ok(Some((
        Issued {
            cert,
            files: plan.paths(),
        },
        Some(issuer),
    )))
}
