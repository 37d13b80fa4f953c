//! `inspect --chain CA.cer...`: a certificate checked against the name constraints of the CAs above it, so a
//! certificate that a verifier would reject for its names is caught before it is deployed (whoever made it).

use std::path::{Path, PathBuf};

use certkit_ca::certinfo::{self, CertInfo};
use certkit_ca::constraints::NameConstraints;
use certkit_ca::{Error, Result, Secret};

use super::Finding;

/// A CA certificate given with `--chain`, with its name constraints.
#[derive(Clone, Debug)]
pub struct ChainCa {
    /// Its subject.
    pub subject: String,
    /// Its name constraints (empty when it has none).
    pub constraints: NameConstraints,
}

/// Reads the CA certificates of `paths` (each a certificate or a PEM bundle); anything but a CA certificate is
/// refused.
pub fn read(paths: &[PathBuf]) -> Result<Vec<ChainCa>> {
    let mut chain = Vec::new();
    for path in paths {
        for der in certinfo::read_cert_ders(path)? {
            let cert = CertInfo::from_der(&der, path)?;
            if !cert.is_ca {
                return Err(Error::BadInput(format!(
                    "{}: {} is not a CA certificate; give --chain only the CAs above the certificate",
                    path.display(),
                    cert.subject
                )));
            }
            chain.push(ChainCa {
                subject: cert.subject,
                constraints: NameConstraints::of_cert(&der)?,
            });
        }
    }
    Ok(chain)
}

/// The end-entity certificate of a certificate file or (opened with `password`) a PFX, if there is one.
pub fn leaf(path: &Path, bytes: &[u8], password: Option<&Secret>) -> Option<CertInfo> {
    let der = if certkit_ca::pfx::structure::parse(bytes).is_ok() {
        let contents = certkit_ca::pfx::read(path, bytes, password?).ok()?;
        let cert = contents
            .cert
            .or_else(|| contents.chain.into_iter().next())?;
        cert.to_der().ok()?
    } else {
        certinfo::parse_cert_ders(bytes, path)
            .ok()?
            .into_iter()
            .next()?
    };
    CertInfo::from_der(&der, path).ok()
}

/// A finding for each name of `leaf` that a CA of `chain` does not allow.
pub fn findings(leaf: &CertInfo, chain: &[ChainCa]) -> Vec<Finding> {
    chain
        .iter()
        .flat_map(|ca| {
            ca.constraints
                .violations(leaf.cn.as_deref(), &leaf.sans)
                .into_iter()
                .map(move |why| {
                    Finding::error(
                        "outside-name-constraints",
                        format!("{why}, of {}: verifiers reject this certificate", ca.subject),
                        "issue it again with names the CA allows (certkit refuses to sign outside them)",
                    )
                })
        })
        .collect()
}
