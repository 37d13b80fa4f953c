//! `inspect`: what a certificate, PFX, CSR, CRL or key file is, whether it will load where it is going, and what
//! the guide's roles would find wrong with it (docs/inspect.md).

pub mod cert;
pub mod chain;
pub mod finding;
pub mod pfx;

use std::path::Path;

use openssl::pkey::PKey;
use openssl::x509::{X509, X509Crl, X509Req};
use serde::Serialize;
use time::OffsetDateTime;

use certkit_ca::{Error, Result, Secret, certinfo, keys};

use cert::CertFacts;
pub use finding::{Finding, Level, Role};
use pfx::{ProtectedPart, Verdict};

/// What a key file holds.
#[derive(Clone, Debug, Serialize)]
pub struct KeyFacts {
    /// `pkcs8-encrypted`, `pkcs8`, `pkcs1` or `sec1`.
    pub format: &'static str,
    /// How it is encrypted (read without a password).
    pub encryption: Option<keys::KeyEncryption>,
    /// The key type, when it is not encrypted.
    pub key: Option<String>,
}

/// What a CSR says.
#[derive(Clone, Debug, Serialize)]
pub struct CsrFacts {
    /// Subject, RFC 4514.
    pub subject: String,
    /// The requester's key.
    pub key: String,
    /// The signature algorithm.
    pub signature_algorithm: String,
    /// Whether the request's signature verifies with its own key.
    pub signature_ok: bool,
}

/// What a CRL says.
#[derive(Clone, Debug, Serialize)]
pub struct CrlFacts {
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// thisUpdate.
    pub this_update: String,
    /// nextUpdate.
    pub next_update: Option<String>,
    /// The CRL number.
    pub crl_number: Option<String>,
    /// Revoked serials, hex.
    pub revoked: Vec<String>,
    /// The signature algorithm.
    pub signature_algorithm: String,
}

/// What a PFX says.
#[derive(Clone, Debug, Serialize)]
pub struct PfxFacts {
    /// The MAC, every encrypted content and shrouded key, with algorithms and iterations.
    pub protection: Vec<ProtectedPart>,
    /// Whether it was opened with the password (the parts below need it).
    pub opened: bool,
    /// Whether it holds a private key.
    pub has_key: Option<bool>,
    /// Whether the key belongs to the end-entity certificate.
    pub key_matches: Option<bool>,
    /// The end-entity certificate's friendlyName.
    pub friendly_name: Option<String>,
    /// The certificates: the end-entity one first, then the chain.
    pub certificates: Vec<CertFacts>,
    /// Whether each consumer will load it.
    pub compatibility: Vec<Verdict>,
    /// The certkit command that makes a copy every consumer loads, when one does not.
    pub fix: Option<String>,
}

/// The facts of one file, by kind.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Facts {
    /// A certificate or a PEM bundle of them (the first is the one the roles apply to).
    Certificate {
        /// `der` or `pem`.
        format: &'static str,
        /// The certificates, in file order.
        certificates: Vec<CertFacts>,
    },
    /// A PKCS#12 file.
    Pfx(Box<PfxFacts>),
    /// A certificate signing request.
    Csr(CsrFacts),
    /// A certificate revocation list.
    Crl(CrlFacts),
    /// A private key.
    Key(KeyFacts),
}

/// What `inspect` found in one file.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    /// The file, as given.
    pub file: String,
    /// Its facts (with `kind`).
    #[serde(flatten)]
    pub facts: Facts,
    /// What is wrong with it for its role.
    pub findings: Vec<Finding>,
}

impl Inspection {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// Finds a PEM block's label, if the text holds one.
pub(crate) fn pem_labels(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
        })
        .map(str::to_string)
        .collect()
}

fn key_name(key: &openssl::pkey::PKeyRef<impl openssl::pkey::HasPublic>) -> String {
    use openssl::pkey::Id;
    match key.id() {
        Id::RSA => format!("rsa{}", key.bits()),
        Id::EC => format!("ec{}", key.bits()),
        Id::ED25519 => "ed25519".into(),
        _ => "unknown".into(),
    }
}

fn hex_serial(raw: &[u8]) -> String {
    let digits = certkit_ca::thumbprint::hex_upper(raw);
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// OpenSSL's long name of an algorithm OID (`sha256WithRSAEncryption`), or the OID.
fn algorithm_name(oid: &str) -> String {
    openssl::asn1::Asn1Object::from_str(oid)
        .ok()
        .and_then(|o| o.nid().long_name().ok().map(str::to_string))
        .unwrap_or_else(|| oid.to_string())
}

/// Lints the certificates of a chain in file order: the first in `role`, the others as CAs.
fn lint_chain(certs: &[CertFacts], role: Option<Role>, now: OffsetDateTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, cert) in certs.iter().enumerate() {
        let issuer = certs
            .iter()
            .find(|c| !std::ptr::eq(*c, cert) && c.subject == cert.issuer);
        let cas_below = certs[..i]
            .iter()
            .filter(|c| c.basic_constraints.as_ref().is_some_and(|b| b.ca))
            .count() as u32;
        let this_role = if i == 0 { role } else { Some(Role::Ca) };
        findings.extend(cert.lint(this_role, issuer, cas_below, now));
    }
    findings
}

/// Inspects the bytes of one file named `path`; the PFX password, when there is one, opens a PFX's
/// certificates and key. `role` is what the first certificate is for (guessed from its EKU when `None`).
pub fn inspect(
    path: &Path,
    bytes: &[u8],
    pfx_password: Option<&Secret>,
    role: Option<Role>,
    now: OffsetDateTime,
) -> Result<Inspection> {
    let file = path.display().to_string();
    let labels = pem_labels(bytes);
    let is_pem = !labels.is_empty();
    let (facts, findings) = if !is_pem && certkit_ca::pfx::structure::parse(bytes).is_ok() {
        inspect_pfx(path, bytes, pfx_password, role, now)?
    } else if labels
        .iter()
        .any(|l| l == "CERTIFICATE" || l == "TRUSTED CERTIFICATE")
        || (!is_pem && X509::from_der(bytes).is_ok())
    {
        let certs = certinfo::parse_cert_ders(bytes, path)?
            .iter()
            .map(|der| CertFacts::from_der(der, path))
            .collect::<Result<Vec<_>>>()?;
        let findings = lint_chain(&certs, role, now);
        (
            Facts::Certificate {
                format: if is_pem { "pem" } else { "der" },
                certificates: certs,
            },
            findings,
        )
    } else if labels
        .iter()
        .any(|l| l == "CERTIFICATE REQUEST" || l == "NEW CERTIFICATE REQUEST")
        || (!is_pem && X509Req::from_der(bytes).is_ok())
    {
        use x509_parser::prelude::FromDer;
        let req = if is_pem {
            X509Req::from_pem(bytes)
        } else {
            X509Req::from_der(bytes)
        }
        .map_err(|_| Error::malformed(path, "a damaged certificate signing request"))?;
        let der = req.to_der()?;
        let (_, parsed) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&der).map_err(
                |e| Error::malformed(path, format!("a damaged certificate signing request ({e})")),
            )?;
        let key = req.public_key()?;
        let facts = CsrFacts {
            subject: certkit_ca::naming::rfc4514(&parsed.certification_request_info.subject),
            key: key_name(&key),
            signature_algorithm: algorithm_name(
                &parsed.signature_algorithm.algorithm.to_id_string(),
            ),
            signature_ok: req.verify(&key).unwrap_or(false),
        };
        let mut findings = Vec::new();
        if key.rsa().is_ok() && key.bits() < 2048 {
            findings.push(Finding::error(
                "rsa-too-small",
                format!("the request's key is RSA {} bits; Azure and current clients refuse keys below 2048 bits", key.bits()),
                "ask for a new request with a 2048-bit key (openssl req -new -newkey rsa:2048)",
            ));
        }
        if !facts.signature_ok {
            findings.push(Finding::error(
                "csr-signature",
                "the request's signature does not verify: it was altered or damaged",
                "ask the requester for a new request",
            ));
        }
        (Facts::Csr(facts), findings)
    } else if labels.iter().any(|l| l == "X509 CRL")
        || (!is_pem && X509Crl::from_der(bytes).is_ok())
    {
        use x509_parser::prelude::FromDer;
        let crl = if is_pem {
            X509Crl::from_pem(bytes)
        } else {
            X509Crl::from_der(bytes)
        }
        .map_err(|_| Error::malformed(path, "a damaged CRL"))?;
        let der = crl.to_der()?;
        let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der)
            .map_err(|e| Error::malformed(path, format!("a damaged CRL ({e})")))?;
        let facts = CrlFacts {
            issuer: certkit_ca::naming::rfc4514(parsed.issuer()),
            this_update: certkit_ca::dates::rfc3339(parsed.last_update().to_datetime()),
            next_update: parsed
                .next_update()
                .map(|t| certkit_ca::dates::rfc3339(t.to_datetime())),
            revoked: parsed
                .iter_revoked_certificates()
                .map(|r| hex_serial(r.raw_serial()))
                .collect(),
            crl_number: parsed.crl_number().map(|n| n.to_str_radix(10)),
            signature_algorithm: algorithm_name(
                &parsed.signature_algorithm.algorithm.to_id_string(),
            ),
        };
        (Facts::Crl(facts), Vec::new())
    } else if let Some(facts) = key_facts(bytes, &labels) {
        let mut findings = Vec::new();
        if facts.encryption.is_none() {
            findings.push(Finding::warning(
                "key-not-encrypted",
                "the private key is stored without a password",
                "encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000 -in KEY -out KEY.enc",
            ));
        }
        (Facts::Key(facts), findings)
    } else {
        return Err(Error::malformed(
            path,
            "not a certificate, PFX, CSR, CRL or private key certkit can read (DER or PEM)",
        ));
    };
    Ok(Inspection {
        file,
        facts,
        findings,
    })
}

/// A key file's facts, if `bytes` is one.
fn key_facts(bytes: &[u8], labels: &[String]) -> Option<KeyFacts> {
    let der = if labels.is_empty() {
        bytes.to_vec()
    } else {
        let text = String::from_utf8_lossy(bytes);
        let label = labels.iter().find(|l| l.contains("PRIVATE KEY"))?;
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let body = text.split(&begin).nth(1)?.split(&end).next()?;
        if body.contains("Proc-Type") {
            // A traditional OpenSSL-encrypted PEM key (PKCS#1 or SEC1 with a DEK-Info header).
            return Some(KeyFacts {
                format: if label.starts_with("RSA") {
                    "pkcs1"
                } else {
                    "sec1"
                },
                encryption: Some(keys::KeyEncryption {
                    scheme: "OpenSSL PEM",
                    kdf: "EVP_BytesToKey (MD5, one iteration)".into(),
                    iterations: Some(1),
                    scrypt: None,
                    cipher: body
                        .lines()
                        .find_map(|l| l.strip_prefix("DEK-Info: "))
                        .and_then(|d| d.split(',').next())
                        .unwrap_or("unknown")
                        .to_string(),
                }),
                key: None,
            });
        }
        openssl::base64::decode_block(&body.split_whitespace().collect::<String>()).ok()?
    };
    if let Ok(encryption) = keys::key_encryption(&der) {
        return Some(KeyFacts {
            format: "pkcs8-encrypted",
            encryption: Some(encryption),
            key: None,
        });
    }
    let plain = |format, key: PKey<openssl::pkey::Private>| {
        Some(KeyFacts {
            format,
            encryption: None,
            key: Some(key_name(&key)),
        })
    };
    if let Ok(key) = PKey::private_key_from_pkcs8(&der) {
        return plain("pkcs8", key);
    }
    if let Ok(rsa) = openssl::rsa::Rsa::private_key_from_der(&der) {
        return PKey::from_rsa(rsa).ok().and_then(|k| plain("pkcs1", k));
    }
    if let Ok(ec) = openssl::ec::EcKey::private_key_from_der(&der) {
        return PKey::from_ec_key(ec).ok().and_then(|k| plain("sec1", k));
    }
    None
}

fn inspect_pfx(
    path: &Path,
    bytes: &[u8],
    password: Option<&Secret>,
    role: Option<Role>,
    now: OffsetDateTime,
) -> Result<(Facts, Vec<Finding>)> {
    let structure = certkit_ca::pfx::check_work(path, bytes)?;
    let protection = pfx::parts(&structure);
    let enveloped = structure
        .contents
        .iter()
        .any(|c| matches!(c, certkit_ca::pfx::structure::Content::Enveloped));
    let compatibility = pfx::compatibility(&protection, enveloped);
    let mut facts = PfxFacts {
        protection,
        opened: false,
        has_key: None,
        key_matches: None,
        friendly_name: None,
        certificates: Vec::new(),
        fix: None,
        compatibility,
    };
    let mut findings = Vec::new();
    let no_mac = structure.mac.is_none();
    if facts.compatibility.iter().any(|v| !v.ok) || no_mac {
        let stem = path
            .file_stem()
            .map_or("file".into(), |s| s.to_string_lossy().into_owned());
        facts.fix = Some(format!(
            "certkit-export pfx --from {} --profile compat --out {}",
            shell_word(&path.display().to_string()),
            shell_word(&format!("{stem}-compat.pfx"))
        ));
    }
    if let Some(password) = password {
        let contents = certkit_ca::pfx::read(path, bytes, password)?;
        facts.opened = true;
        facts.has_key = Some(contents.key.is_some());
        let mut chain: Vec<X509> = contents.chain;
        let cert = match contents.cert {
            Some(cert) => Some(cert),
            None if !chain.is_empty() => Some(chain.remove(0)),
            None => None,
        };
        if let Some(cert) = &cert {
            facts.friendly_name = cert
                .alias()
                .map(|a| String::from_utf8_lossy(a).into_owned());
            if let Some(key) = &contents.key {
                facts.key_matches =
                    Some(key.public_key_to_der()? == cert.public_key()?.public_key_to_der()?);
            }
        }
        for x509 in cert.iter().chain(chain.iter()) {
            facts
                .certificates
                .push(CertFacts::from_der(&x509.to_der()?, path)?);
        }
        findings.extend(lint_chain(&facts.certificates, role, now));
        if facts.key_matches == Some(false) {
            findings.push(Finding::error(
                "key-mismatch",
                "the PFX's private key does not belong to its certificate",
                "export it again from the certificate that has the key, or pair them with certkit-export pfx --cert --key-file",
            ));
        }
        let role = role.or_else(|| facts.certificates.first().and_then(CertFacts::guessed_role));
        if facts.has_key == Some(false) && role != Some(Role::Ca) {
            findings.push(Finding::error(
                "no-private-key",
                "the PFX holds no private key; a service or a person cannot authenticate with it",
                "export it again with its private key",
            ));
        }
    }
    if no_mac {
        findings.push(Finding::warning(
            "pfx-no-mac",
            "the PFX has no MAC (openssl pkcs12 -nomac): nothing shows that its contents are what was exported; certkit and OpenSSL open it, some Windows tools do not",
            facts.fix.clone().unwrap_or_default(),
        ));
    }
    let role = role.or_else(|| facts.certificates.first().and_then(CertFacts::guessed_role));
    let legacy = facts
        .compatibility
        .iter()
        .find(|v| v.consumer == "windows-legacy")
        .filter(|v| !v.ok);
    if let (Some(legacy), Some(Role::Ssl | Role::Encryption)) = (legacy, role) {
        findings.push(Finding::error(
            "pfx-not-for-azure",
            format!("Azure Cloud Services will refuse it: {}", legacy.reason),
            facts.fix.clone().unwrap_or_default(),
        ));
    }
    Ok((Facts::Pfx(Box::new(facts)), findings))
}

/// `word` as one word of a POSIX shell command line, quoted when it needs to be (a file named
/// `my cert $(id).pfx` must not run `id` when the fix is pasted).
pub(crate) fn shell_word(word: &str) -> String {
    shlex::try_quote(word).map_or_else(
        |_| format!("'{}'", word.replace('\0', "")),
        |q| q.into_owned(),
    )
}
