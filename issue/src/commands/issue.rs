//! `certkit-issue server|client|encryption`: one certificate with a new key, CA-signed or self-signed.

use std::path::PathBuf;

use certkit_ca::pfx::PfxProfile;
use certkit_ca::secret::{self, SecretUse};
use certkit_ca::term::{self, Format, secrets};
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
    /// Output prefix.
    pub out: PathBuf,
    /// Passwords and PFX.
    pub secrets: NewKeySecrets,
    /// How to print the result.
    pub format: Format,
}

/// Issues the certificate.
pub fn run(req: IssueRequest) -> Result<()> {
    let mut spec = req.spec;
    let context = match &req.ca {
        Some(dir) => Some(ca::open(dir, &spec.validity, spec.crl_url.take())?),
        None => None,
    };
    spec.crl_url = context.as_ref().and_then(|c| c.crl_url.clone());
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
    let (issued, issuer) = issue_with_new_key(context.as_ref(), spec, req.out, &req.secrets, None)?;
    let report = IssueReport::new(issued, profile, key, issuer, pfx_profile, warnings);
    term::render(&report, req.format)
}

/// Makes a key, signs `spec` (by the CA in `context`, else self-signed), writes PREFIX.cer/.pem/.key (and
/// .pfx) and records a CA-signed certificate; asks for the CA password first, then the new ones. Returns the
/// issued certificate and its issuer's subject (None when self-signed).
pub(super) fn issue_with_new_key(
    context: Option<&CaContext>,
    spec: LeafSpec,
    out: PathBuf,
    secrets: &NewKeySecrets,
    renewal_of: Option<Serial>,
) -> Result<(Issued, Option<String>)> {
    let plan = OutputPlan {
        prefix: out,
        with_key: true,
        with_pfx: secrets.pfx.is_some(),
    };
    plan.check_free()?;
    let unlocked = match context {
        Some(c) => {
            let password = secrets::obtain(
                secrets.ca_pass.as_ref(),
                secret::CA_PASS,
                SecretUse::Existing,
            )?;
            Some(c.store.unlock(&password)?)
        }
        None => None,
    };
    let key_password =
        secrets::obtain(secrets.key_pass.as_ref(), secret::KEY_PASS, SecretUse::New)?;
    let pfx_password: Option<(PfxProfile, Secret)> = match &secrets.pfx {
        Some(pfx) => Some((
            pfx.profile,
            secrets::obtain(pfx.pass.as_ref(), secret::PFX_PASS, SecretUse::New)?,
        )),
        None => None,
    };
    let order = Order {
        key: SubjectKey::Generate(spec.key_type),
        spec,
        plan,
        key_password: Some(&key_password),
        pfx: pfx_password.as_ref().map(|(profile, password)| PfxOutput {
            profile: *profile,
            password,
        }),
        renewal_of,
    };
    match (context, &unlocked) {
        (Some(c), Some(ca)) => {
            let lock = c.store.lock(&mut term::waiting_for_lock)?;
            let engine = Engine::new(Signer::Ca {
                store: &c.store,
                ca,
                lock: &lock,
            });
            let issued = engine.commit(engine.prepare(order)?)?;
            Ok((issued, Some(ca.cert.subject.clone())))
        }
        _ => {
            let engine = Engine::new(Signer::SelfSigned);
            Ok((engine.commit(engine.prepare(order)?)?, None))
        }
    }
}
