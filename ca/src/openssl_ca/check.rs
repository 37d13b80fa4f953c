//! Every line of a source's `index.txt` checked against the certificate it names: signed by the CA's key (as
//! `certkit-ca audit` will check it), with the serial, subject and notAfter the line gives. What passes is an
//! [`ImportPlan`]; every problem names its line, and a plan with problems writes nothing.

use std::collections::HashMap;
use std::fmt::Write as _;

use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use super::index_txt::{IndexLine, LineStatus};
use super::source::{Certificates, Found, on_every_core};
use crate::certinfo::{
    CertInfo, EKU_CLIENT_AUTH, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH, IssuerCheck,
};
use crate::error::Result;
use crate::keys::KeyType;
use crate::profile::Profile;
use crate::serial::Serial;

/// One certificate to bring in.
#[derive(Clone, Debug)]
pub struct ImportedCert {
    /// Its line in `index.txt`.
    pub line: IndexLine,
    /// The certificate.
    pub cert: CertInfo,
    /// Its key's type.
    pub key: KeyType,
    /// The profile its extended key usages fit (`unknown` when none does).
    pub profile: Profile,
    /// Its extended key usages beyond the profile's own.
    pub extra_ekus: Vec<String>,
    /// Whether its authority key identifier names the CA certificate's issuer and serial (easy-rsa's
    /// `issuer:always`): then it chains only to that very CA certificate, not to a renewal of it.
    pub names_ca_serial: bool,
}

/// A line whose certificate file is gone, brought in as such with `--accept-missing`.
#[derive(Clone, Debug)]
pub struct MissingCert {
    /// Its line.
    pub line: IndexLine,
}

/// What an import would bring in, and what stops it.
#[derive(Debug, Default)]
pub struct ImportPlan {
    /// The certificates, in index order.
    pub certificates: Vec<ImportedCert>,
    /// Lines without their certificate (only with `--accept-missing`; otherwise each is a problem).
    pub missing: Vec<MissingCert>,
    /// Every problem, naming its line (or file).
    pub problems: Vec<String>,
    /// Certificate files of this CA that no line names (not brought in).
    pub unlisted: usize,
    /// The line that lists the CA certificate itself (XCA's index does), left out: the CA did not issue it.
    pub ca_line: Option<usize>,
}

/// The dates and names of a line and its certificate must agree to the second and the byte.
pub fn plan(
    lines: &[IndexLine],
    found: &Certificates,
    ca: &CertInfo,
    accept_missing: bool,
) -> Result<ImportPlan> {
    let check = IssuerCheck::new(ca)?;
    let mut plan = ImportPlan::default();
    let mut first_line: HashMap<&Serial, usize> = HashMap::new();
    for line in lines {
        if let Some(first) = first_line.insert(&line.serial, line.number) {
            plan.problems.push(format!(
                "line {}: serial {} is on line {} already: a serial is used once",
                line.number, line.serial, first
            ));
        }
    }
    // A file named for one serial that holds another hides which certificate a line means.
    for files in found.by_serial.values() {
        for file in files {
            let serial = &file.serial;
            if let Some(named) = &file.named_serial
                && named != serial
            {
                let on = lines
                    .iter()
                    .find(|l| l.serial == *named)
                    .map(|l| format!("line {}: ", l.number))
                    .unwrap_or_default();
                plan.problems.push(format!(
                    "{on}{} is named for serial {named} but holds serial {serial}",
                    file.path.display()
                ));
            }
        }
    }
    // XCA lists the CA certificate itself: the same serial and subject, and (when its file is there) the same
    // certificate.
    let is_ca_line = |line: &IndexLine| {
        line.serial == ca.serial
            && line.not_after == ca.not_after
            && found
                .by_serial
                .get(&line.serial)
                .is_none_or(|files| files.iter().all(|f| f.der == ca.der))
    };
    let results = on_every_core(lines, |line| judge(line, found, &check, ca))?;
    for (line, result) in lines.iter().zip(results) {
        if plan.ca_line.is_none() && is_ca_line(line) {
            plan.ca_line = Some(line.number);
            continue;
        }
        match result {
            Judged::Import(cert) => plan.certificates.push(*cert),
            Judged::Missing if line.status == LineStatus::Revoked => plan.problems.push(format!(
                "line {}: the revoked certificate of serial {} ({}) has no file; certkit lists a revocation on its CRLs only with the certificate's record: restore the file (from a backup of the source) and import again",
                line.number, line.serial, line.subject
            )),
            Judged::Missing if accept_missing => plan.missing.push(MissingCert { line: line.clone() }),
            Judged::Missing => plan.problems.push(format!(
                "line {}: no certificate file holds serial {} ({}); restore the file, or give --accept-missing to record it as missing",
                line.number, line.serial, line.subject
            )),
            Judged::Problem(what) => plan.problems.push(format!("line {}: {what}", line.number)),
        }
    }
    let listed: std::collections::HashSet<&Serial> = lines.iter().map(|l| &l.serial).collect();
    plan.unlisted = found
        .by_serial
        .iter()
        .filter(|(serial, files)| {
            !listed.contains(serial)
                && *serial != &ca.serial
                && files.iter().any(|f| check.issued(&f.der))
        })
        .count();
    Ok(plan)
}

enum Judged {
    Import(Box<ImportedCert>),
    Missing,
    Problem(String),
}

fn judge(line: &IndexLine, found: &Certificates, check: &IssuerCheck, ca: &CertInfo) -> Judged {
    let Some(files) = found.by_serial.get(&line.serial) else {
        return Judged::Missing;
    };
    // easy-rsa keeps a certificate in several places (issued/, certs_by_serial/): the same bytes are one.
    let mut distinct: Vec<&Found> = Vec::new();
    for file in files {
        if !distinct.iter().any(|d| d.der == file.der) {
            distinct.push(file);
        }
    }
    let signed: Vec<&Found> = distinct
        .iter()
        .copied()
        .filter(|f| check.issued(&f.der))
        .collect();
    let Some(file) = signed.first() else {
        return Judged::Problem(format!(
            "the certificate of serial {} ({}) is not signed by this CA's key ({}), or with an algorithm certkit does not verify (sha256WithRSAEncryption, ecdsa-with-SHA256 or -SHA384)",
            line.serial,
            distinct[0].path.display(),
            ca.subject
        ));
    };
    if signed.len() > 1 {
        return Judged::Problem(format!(
            "{} and {} are two different certificates of serial {}, both signed by this CA",
            signed[0].path.display(),
            signed[1].path.display(),
            line.serial
        ));
    }
    let cert = match CertInfo::from_der(&file.der, &file.path) {
        Ok(cert) => cert,
        Err(e) => return Judged::Problem(e.to_string()),
    };
    if cert.not_after != line.not_after {
        return Judged::Problem(format!(
            "{} expires {}, the line says {}",
            file.path.display(),
            crate::dates::rfc3339(cert.not_after),
            crate::dates::rfc3339(line.not_after)
        ));
    }
    let parsed = X509Certificate::from_der(&file.der).ok().map(|(_, c)| c);
    let subject = parsed
        .as_ref()
        .map(|c| oneline(c.subject()))
        .unwrap_or_default();
    let names_ca_serial = parsed.as_ref().is_some_and(|c| {
        c.extensions().iter().any(|e| {
            matches!(
                e.parsed_extension(),
                x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki)
                    if aki.authority_cert_serial.is_some()
            )
        })
    });
    if subject != line.subject {
        return Judged::Problem(format!(
            "{} has the subject {subject}, the line says {}",
            file.path.display(),
            line.subject
        ));
    }
    if line.status == LineStatus::Valid
        && let Some(r) = &line.revocation
    {
        return Judged::Problem(format!("a V line with a revocation ({})", r.at));
    }
    let key = match KeyType::of_spki_der(&cert.spki_der) {
        Ok(key) => key,
        Err(_) => {
            return Judged::Problem(format!(
                "{} has a key certkit does not keep records of (RSA 2048/3072/4096, P-256 and P-384 are)",
                file.path.display()
            ));
        }
    };
    let (profile, extra_ekus) = profile_of(&cert);
    Judged::Import(Box::new(ImportedCert {
        line: line.clone(),
        cert,
        key,
        profile,
        extra_ekus,
        names_ca_serial,
    }))
}

/// The profile a certificate's extended key usages fit, and its EKUs beyond the profile's own: serverAuth (with
/// clientAuth too, easy-rsa's serverClient) is `server`, clientAuth `client`, Document Encryption
/// `encryption`, CA:TRUE `ca`; anything else `unknown`.
pub fn profile_of(cert: &CertInfo) -> (Profile, Vec<String>) {
    let has = |eku: &str| cert.ekus.iter().any(|e| e == eku);
    let profile = if cert.is_ca {
        Profile::Ca
    } else if has(EKU_SERVER_AUTH) {
        Profile::Server
    } else if has(EKU_CLIENT_AUTH) {
        Profile::Client
    } else if has(EKU_DOCUMENT_ENCRYPTION) {
        Profile::Encryption
    } else {
        Profile::Unknown
    };
    let own = profile.eku();
    let extra = cert
        .ekus
        .iter()
        .filter(|e| Some(e.as_str()) != own)
        .cloned()
        .collect();
    (profile, extra)
}

/// A name as OpenSSL's `X509_NAME_oneline` writes it into `index.txt`: `/KEY=value` for each attribute, the
/// key as OpenSSL's short name (else the dotted OID), bytes outside printable ASCII as `\xHH`.
pub fn oneline(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for rdn in name.iter() {
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            out.push('/');
            out.push_str(openssl_short_name(&oid).unwrap_or(&oid));
            out.push('=');
            for &b in atv.attr_value().data {
                if (b' '..=b'~').contains(&b) {
                    out.push(b as char);
                } else {
                    let _ = write!(out, "\\x{b:02X}");
                }
            }
        }
    }
    out
}

fn openssl_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

/// The last CRL number the source used: the greater of its `crlnumber` file (which holds the next one) less
/// one and its current CRL's number.
pub fn last_crl_number(next_in_file: Option<&[u8]>, crl_number: Option<u64>) -> Option<u64> {
    let from_file = next_in_file.map(|bytes| {
        if bytes.len() > 8 {
            return u64::MAX;
        }
        bytes
            .iter()
            .fold(0u64, |n, b| (n << 8) | u64::from(*b))
            .saturating_sub(1)
    });
    match (from_file, crl_number) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
