//! Opening the CA a command signs with, before any password is asked.

use std::path::Path;

use certkit_ca::dates::Validity;
use certkit_ca::naming::check_crl_url;
use certkit_ca::secret::SecretKind;
use certkit_ca::signer::check_can_sign;
use certkit_ca::store::CA_PEM;
use certkit_ca::term;
use certkit_ca::{CaStore, Result};

use crate::engine::check_within_ca;

/// An opened CA and the CRL distribution point a new certificate gets from it.
pub struct CaContext {
    /// The CA folder.
    pub store: CaStore,
    /// `--crl-url`, else the CA's own.
    pub crl_url: Option<String>,
    /// What opens the CA key: its file's password, or the PIN of the token that holds it.
    pub secret: SecretKind,
}

/// Opens the CA in `dir` and checks that it can sign a certificate valid for `validity`. It takes the CA lock
/// once to reconcile what an interrupted run left, so that the outputs are judged against the true state
/// (a delivery that finished before a crash is marked delivered, and never taken for a leftover).
pub fn open(
    dir: &Path,
    validity: &Validity,
    crl_flag: Option<String>,
    module: Option<std::path::PathBuf>,
) -> Result<CaContext> {
    let store = CaStore::open(dir)?.with_module(module);
    let cert = store.cert()?;
    check_can_sign(&cert, &store.path(CA_PEM))?;
    check_within_ca(validity.not_after, &cert)?;
    drop(term::lock(&store)?);
    let crl_url = match crl_flag {
        Some(url) => Some(url),
        None => store.settings()?.crl_url,
    };
    if let Some(url) = &crl_url {
        check_crl_url(url)?;
    }
    let secret = store.secret_kind()?;
    Ok(CaContext {
        store,
        crl_url,
        secret,
    })
}
