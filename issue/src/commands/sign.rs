//! `certkit-issue sign`: a certificate for the key in a request (CSR); the private key never comes here.

use std::net::IpAddr;
use std::path::PathBuf;

use certkit_ca::dates::Validity;
use certkit_ca::profile_file::SubjectAttribute;
use certkit_ca::secret::SecretUse;
use certkit_ca::term::{self, Format, secrets};
use certkit_ca::{Result, SecretSource};

use super::ca;
use super::report::IssueReport;
use crate::by_profile::ProfileChoice;
use crate::engine::{Engine, Order, Signer, SubjectKey};
use crate::leaf::LeafSpec;
use crate::outputs::OutputPlan;

/// What `certkit-issue sign` was asked to do.
#[derive(Debug)]
pub struct SignRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// The request file.
    pub csr: PathBuf,
    /// The profile whose extensions the certificate gets.
    pub profile: ProfileChoice,
    /// Subject attributes beyond the CN (`--subject`).
    pub subject: Vec<(SubjectAttribute, String)>,
    /// Output prefix.
    pub out: PathBuf,
    /// Extra DNS names (server).
    pub dns: Vec<String>,
    /// IP addresses (server).
    pub ips: Vec<IpAddr>,
    /// E-mail address (client).
    pub email: Option<String>,
    /// UPN, SID and URIs (client).
    pub identity: crate::leaf::Identity,
    /// Validity.
    pub validity: Validity,
    /// Extra EKUs.
    pub extra_ekus: Vec<String>,
    /// `--crl-url`.
    pub crl_url: Option<String>,
    /// The CA key password's source.
    pub ca_pass: Option<SecretSource>,
    /// The token's module (`--pkcs11-module`).
    pub module: Option<std::path::PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// Signs the request.
pub fn run(req: SignRequest) -> Result<()> {
    if let Some(source) = &req.ca_pass {
        source.check(certkit_ca::secret::CA_PASS)?;
    }
    let crl_flag_given = req.crl_url.is_some();
    let context = ca::open(&req.ca, &req.validity, req.crl_url, req.module)?;
    let (profile, profile_file) = req.profile.resolve(&context.store)?;
    let request = certkit_ca::csr::read(&req.csr)?;
    let mut spec = LeafSpec {
        profile,
        cn: request.cn.clone(),
        dns: req.dns,
        ips: req.ips,
        email: req.email,
        identity: req.identity,
        extra_ekus: req.extra_ekus,
        key_type: request.key_type,
        validity: req.validity,
        crl_url: context.crl_url.clone(),
        subject: req.subject,
        profile_file,
    };
    spec.take_profile(crl_flag_given)?;
    spec.validate()?;
    let plan = OutputPlan {
        prefix: req.out,
        with_key: false,
        with_pfx: false,
    };
    if let Some((issued, issuer)) = super::issue::finished_earlier(&context, &plan, &spec.cn)? {
        let report = IssueReport::new(issued, profile, request.key_type, issuer, None, vec![]);
        return term::render(&report, req.format);
    }
    plan.check_free(Some(&context.store))?;
    let password = secrets::obtain(req.ca_pass.as_ref(), context.secret, SecretUse::Existing)?;
    let ca = context.store.unlock(&password)?;
    drop(password);
    let lock = term::lock(&context.store)?;
    let engine = Engine::new(Signer::Ca {
        store: &context.store,
        ca: &ca,
        lock: &lock,
    })?;
    let order = Order {
        spec,
        key: SubjectKey::Request(request.public_key),
        plan,
        key_password: None,
        pfx: None,
        renewal_of: None,
    };
    let issued = super::issue::issue_one(&engine, order)?;
    drop(lock);
    let report = IssueReport::new(
        issued,
        profile,
        request.key_type,
        Some(ca.cert.subject.clone()),
        None,
        vec![],
    );
    term::render(&report, req.format)
}
