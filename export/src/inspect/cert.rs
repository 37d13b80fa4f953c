//! A certificate's facts, and the lint of the guide's roles.

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use certkit_ca::ad_mapping::{AdMapping, EKU_SMARTCARD_LOGON};
use certkit_ca::certinfo::{EKU_CLIENT_AUTH, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH};
use certkit_ca::thumbprint::hex_upper;
use certkit_ca::{CertInfo, Result, Thumbprint};

use super::finding::{Finding, Level, Role};

/// How soon an expiry is worth a warning.
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// basicConstraints as the certificate states it.
#[derive(Clone, Debug, Serialize)]
pub struct BasicConstraints {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub pathlen: Option<u32>,
    /// Marked critical.
    pub critical: bool,
}

/// What a certificate says about itself.
#[derive(Clone, Debug, Serialize)]
pub struct CertFacts {
    /// Subject, RFC 4514.
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// Serial number, hex (with a minus sign when negative).
    pub serial: String,
    /// Whether the serial is a positive number (RFC 5280).
    pub serial_positive: bool,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The public key, e.g. `rsa2048`, `p256`.
    pub key: String,
    /// The signature algorithm, as OpenSSL names it.
    pub signature_algorithm: String,
    /// Issuer and subject are the same and the certificate's own key verifies it.
    pub self_signed: bool,
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage bits, if the extension is present.
    pub key_usage: Option<Vec<String>>,
    /// extendedKeyUsage OIDs, if the extension is present.
    pub extended_key_usage: Option<Vec<String>>,
    /// Subject alternative names (`DNS:…`, `IP:…`, `email:…`).
    pub subject_alt_names: Vec<String>,
    /// Subject key identifier, hex.
    pub subject_key_id: Option<String>,
    /// Authority key identifier, hex.
    pub authority_key_id: Option<String>,
    /// CRL distribution point URLs.
    pub crl_distribution_points: Vec<String>,
    /// OCSP responder URLs (authorityInfoAccess id-ad-ocsp).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ocsp_urls: Vec<String>,
    /// Where the issuer's certificate is published (authorityInfoAccess caIssuers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers_urls: Vec<String>,
    /// SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// For a client or smart-card logon certificate: whether and how Active Directory can map it strongly,
    /// with the `altSecurityIdentities` values that map it explicitly (docs/ad-mapping.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_mapping: Option<AdMapping>,
    #[serde(skip)]
    pub(super) info: CertInfo,
    #[serde(skip)]
    rsa_bits: Option<u32>,
}

/// The key of a certificate as certkit names key types (`rsa1024` too, which certkit never makes).
fn key_name(spki: &[u8]) -> Result<(String, Option<u32>)> {
    use openssl::pkey::Id;
    let key = openssl::pkey::PKey::public_key_from_der(spki)?;
    Ok(match key.id() {
        Id::RSA => (format!("rsa{}", key.bits()), Some(key.bits())),
        Id::EC => {
            let curve =
                key.ec_key()?
                    .group()
                    .curve_name()
                    .map_or("unknown-curve", |nid| match nid {
                        openssl::nid::Nid::X9_62_PRIME256V1 => "p256",
                        openssl::nid::Nid::SECP384R1 => "p384",
                        openssl::nid::Nid::SECP521R1 => "p521",
                        _ => "other-curve",
                    });
            (curve.to_string(), None)
        }
        Id::ED25519 => ("ed25519".into(), None),
        Id::DSA => (format!("dsa{}", key.bits()), None),
        _ => ("unknown".into(), None),
    })
}

impl CertFacts {
    /// Reads the facts of a DER certificate; `origin` names it in errors.
    pub fn from_der(der: &[u8], origin: &std::path::Path) -> Result<Self> {
        let info = CertInfo::from_der(der, origin)?;
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| {
            certkit_ca::Error::malformed(origin, format!("not a certificate ({e})"))
        })?;
        let mut facts = CertFacts {
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            serial: String::new(),
            serial_positive: cert.raw_serial().first().is_some_and(|b| b & 0x80 == 0)
                && cert.raw_serial().iter().any(|b| *b != 0),
            not_before: info.not_before,
            not_after: info.not_after,
            key: String::new(),
            signature_algorithm: String::new(),
            self_signed: false,
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
            subject_alt_names: info.sans.iter().map(ToString::to_string).collect(),
            subject_key_id: info.subject_key_id.as_deref().map(hex_upper),
            authority_key_id: info.authority_key_id.as_deref().map(hex_upper),
            crl_distribution_points: Vec::new(),
            ocsp_urls: Vec::new(),
            ca_issuers_urls: Vec::new(),
            thumbprint: info.thumbprint,
            sha256: info.sha256.clone(),
            rsa_bits: None,
            ad_mapping: None,
            info: info.clone(),
        };
        (facts.key, facts.rsa_bits) = key_name(&info.spki_der)?;
        let x509 = openssl::x509::X509::from_der(der)?;
        // As a signed number: a negative serial (makecert wrote some) shows with its sign.
        facts.serial = x509.serial_number().to_bn()?.to_hex_str()?.to_string();
        facts.signature_algorithm = x509
            .signature_algorithm()
            .object()
            .nid()
            .long_name()
            .map_or_else(
                |_| x509.signature_algorithm().object().to_string(),
                str::to_string,
            );
        facts.self_signed =
            info.subject == info.issuer && x509.verify(&*x509.public_key()?).unwrap_or(false);
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    facts.basic_constraints = Some(BasicConstraints {
                        ca: bc.ca,
                        pathlen: bc.path_len_constraint,
                        critical: ext.critical,
                    });
                }
                ParsedExtension::KeyUsage(ku) => {
                    let names = [
                        (ku.digital_signature(), "digitalSignature"),
                        (ku.non_repudiation(), "nonRepudiation"),
                        (ku.key_encipherment(), "keyEncipherment"),
                        (ku.data_encipherment(), "dataEncipherment"),
                        (ku.key_agreement(), "keyAgreement"),
                        (ku.key_cert_sign(), "keyCertSign"),
                        (ku.crl_sign(), "cRLSign"),
                        (ku.encipher_only(), "encipherOnly"),
                        (ku.decipher_only(), "decipherOnly"),
                    ];
                    facts.key_usage = Some(
                        names
                            .iter()
                            .filter(|(set, _)| *set)
                            .map(|(_, n)| n.to_string())
                            .collect(),
                    );
                }
                ParsedExtension::ExtendedKeyUsage(_) => {
                    facts.extended_key_usage = Some(info.ekus.clone());
                }
                ParsedExtension::CRLDistributionPoints(points) => {
                    for point in points.iter() {
                        if let Some(x509_parser::extensions::DistributionPointName::FullName(
                            names,
                        )) = &point.distribution_point
                        {
                            for name in names {
                                if let GeneralName::URI(uri) = name {
                                    facts.crl_distribution_points.push(uri.to_string());
                                }
                            }
                        }
                    }
                }
                ParsedExtension::AuthorityInfoAccess(access) => {
                    for description in &access.accessdescs {
                        let GeneralName::URI(uri) = &description.access_location else {
                            continue;
                        };
                        match description.access_method.to_id_string().as_str() {
                            "1.3.6.1.5.5.7.48.1" => facts.ocsp_urls.push(uri.to_string()),
                            "1.3.6.1.5.5.7.48.2" => facts.ca_issuers_urls.push(uri.to_string()),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let signs_in = info.ekus.iter().any(|e| e == EKU_SMARTCARD_LOGON);
        if !facts.is_ca() && (signs_in || facts.guessed_role() == Some(Role::Client)) {
            facts.ad_mapping = AdMapping::of_der(der).ok();
        }
        Ok(facts)
    }

    /// The role the certificate's extensions suggest.
    pub fn guessed_role(&self) -> Option<Role> {
        if self.basic_constraints.as_ref().is_some_and(|b| b.ca) {
            return Some(Role::Ca);
        }
        let ekus = self.extended_key_usage.as_deref().unwrap_or_default();
        if ekus.iter().any(|e| e == EKU_CLIENT_AUTH) && !ekus.iter().any(|e| e == EKU_SERVER_AUTH) {
            Some(Role::Client)
        } else if ekus.iter().any(|e| e == EKU_DOCUMENT_ENCRYPTION) {
            Some(Role::Encryption)
        } else if ekus.iter().any(|e| e == EKU_SERVER_AUTH) {
            Some(Role::Ssl)
        } else {
            None
        }
    }

    fn cn(&self) -> Option<&str> {
        self.info.cn.as_deref()
    }

    fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|b| b.ca)
    }

    /// The findings for this certificate in `role` (guessed when `None`), given the certificate that issued
    /// it when the file holds it, and how many CA certificates sit below it in the chain.
    pub fn lint(
        &self,
        role: Option<Role>,
        issuer: Option<&CertFacts>,
        cas_below: u32,
        now: OffsetDateTime,
    ) -> Vec<Finding> {
        let mut f = Vec::new();
        let role = role.or_else(|| self.guessed_role());
        let ca = role == Some(Role::Ca);
        let leaf_or_ca = |ca_level| if ca { ca_level } else { Level::Warning };
        let who = &self.subject;
        if let Some(bits) = self.rsa_bits
            && bits < 2048
        {
            f.push(Finding::error(
                "rsa-too-small",
                format!("{who}: an RSA key of {bits} bits; Azure and current clients refuse keys below 2048 bits"),
                "make a new key and certificate: certkit-issue ... --key rsa2048",
            ));
        }
        let algorithm = self.signature_algorithm.to_ascii_lowercase();
        if algorithm.contains("sha1") || algorithm.contains("md5") || algorithm.contains("md2") {
            let level = if self.self_signed && ca {
                Level::Warning
            } else {
                Level::Error
            };
            f.push(Finding::new(
                level,
                "weak-signature",
                format!(
                    "{who}: signed with {}, which clients no longer accept",
                    self.signature_algorithm
                ),
                "issue it again with SHA-256 (certkit always signs with SHA-256)",
            ));
        }
        if let Some(Role::Ssl | Role::Client) = role {
            let (wanted, name, profile) = if role == Some(Role::Ssl) {
                (EKU_SERVER_AUTH, "serverAuth", "server")
            } else {
                (EKU_CLIENT_AUTH, "clientAuth", "client")
            };
            match &self.extended_key_usage {
                Some(ekus) if !ekus.iter().any(|e| e == wanted) => f.push(Finding::error(
                    "eku-wrong-role",
                    format!("{who}: its extended key usages do not include {name} ({wanted}), which this role needs"),
                    format!("issue it with the right profile: certkit-issue {profile} ..."),
                )),
                None => f.push(Finding::warning(
                    "eku-wrong-role",
                    format!("{who}: no extended key usage; some TLS stacks want {name} ({wanted}) stated"),
                    format!("issue it with certkit-issue {profile}"),
                )),
                _ => {}
            }
        }
        if role == Some(Role::Ssl) {
            let dns: Vec<String> = self
                .subject_alt_names
                .iter()
                .filter_map(|s| s.strip_prefix("DNS:"))
                .map(str::to_ascii_lowercase)
                .collect();
            if let Some(cn) = self.cn() {
                let cn = cn.to_ascii_lowercase();
                let covered = dns.iter().any(|d| {
                    *d == cn
                        || d.strip_prefix("*.").is_some_and(|suffix| {
                            cn.split_once('.').is_some_and(|(_, rest)| rest == suffix)
                        })
                });
                if !covered {
                    f.push(Finding::error(
                        "san-missing-cn",
                        format!("{who}: the subject alternative names do not include the CN {cn}; browsers and current TLS clients match host names only against SANs"),
                        "issue it with certkit-issue server --cn HOST (the CN always goes into the SANs)",
                    ));
                }
            }
        }
        if self.key_usage.is_none() {
            f.push(Finding::new(
                leaf_or_ca(Level::Error),
                "no-key-usage",
                format!("{who}: no keyUsage extension (a makecert certificate?); openssl verify -x509_strict and some clients reject it"),
                "issue it again with certkit, which sets keyUsage for every profile",
            ));
        }
        if self.basic_constraints.is_none() {
            f.push(Finding::new(
                leaf_or_ca(Level::Error),
                "no-basic-constraints",
                format!("{who}: no basicConstraints extension; a CA certificate must have CA:TRUE, an end-entity one should say CA:FALSE"),
                "issue it again with certkit (critical basicConstraints on every certificate)",
            ));
        }
        if self.subject_key_id.is_none() {
            f.push(Finding::new(
                leaf_or_ca(Level::Error),
                "no-ski",
                format!("{who}: no subject key identifier; openssl verify -x509_strict requires one on a CA"),
                "issue it again with certkit (SKI on every certificate)",
            ));
        }
        if self.authority_key_id.is_none() && !self.self_signed {
            f.push(Finding::error(
                "no-aki",
                format!("{who}: no authority key identifier; openssl verify -x509_strict rejects a CA-signed certificate without one"),
                "issue it again with certkit (AKI equal to the CA's SKI)",
            ));
        }
        if !self.serial_positive {
            f.push(Finding::error(
                "serial-not-positive",
                format!("{who}: the serial number {} is zero or negative, which RFC 5280 forbids and strict clients reject", self.serial),
                "issue it again with certkit (positive random 16-byte serials)",
            ));
        }
        if self.not_after < now {
            f.push(Finding::error(
                "expired",
                format!(
                    "{who}: expired on {}",
                    certkit_ca::dates::rfc3339(self.not_after)
                ),
                "renew it: certkit-issue renew --ca DIR FILE --out NEW",
            ));
        } else if self.not_after < now + time::Duration::days(EXPIRING_SOON_DAYS) {
            f.push(Finding::warning(
                "expiring-soon",
                format!(
                    "{who}: expires on {}, within {EXPIRING_SOON_DAYS} days",
                    certkit_ca::dates::rfc3339(self.not_after)
                ),
                "renew it now: certkit-issue renew --ca DIR FILE --out NEW",
            ));
        }
        if self.not_before > now {
            f.push(Finding::error(
                "not-yet-valid",
                format!(
                    "{who}: not valid before {}",
                    certkit_ca::dates::rfc3339(self.not_before)
                ),
                "check this machine's clock, or wait until then",
            ));
        }
        if let Some(issuer) = issuer
            && self.not_after > issuer.not_after
        {
            f.push(Finding::warning(
                "outlives-issuer",
                format!(
                    "{who}: valid until {}, past its issuer's end ({}); it stops validating then",
                    certkit_ca::dates::rfc3339(self.not_after),
                    certkit_ca::dates::rfc3339(issuer.not_after)
                ),
                "issue it again no later than the CA's notAfter (certkit refuses to go past it)",
            ));
        }
        if ca {
            let cannot_sign = !self.is_ca()
                || self
                    .key_usage
                    .as_ref()
                    .is_some_and(|ku| !ku.iter().any(|k| k == "keyCertSign"));
            let pathlen_too_small = self
                .basic_constraints
                .as_ref()
                .and_then(|b| b.pathlen)
                .is_some_and(|n| n < cas_below);
            if cannot_sign || pathlen_too_small {
                f.push(Finding::error(
                    "ca-cannot-sign",
                    if pathlen_too_small {
                        format!("{who}: its path length constraint forbids the {cas_below} CA certificate(s) below it")
                    } else {
                        format!("{who}: not allowed to sign certificates (needs basicConstraints CA:TRUE and keyUsage keyCertSign)")
                    },
                    "make a CA with certkit-ca init (keyCertSign, cRLSign, pathlen 1)",
                ));
            }
        }
        if matches!(role, Some(Role::Ssl | Role::Encryption)) && self.rsa_bits.is_none() {
            f.push(Finding::warning(
                "not-rsa-for-azure",
                format!("{who}: a {} key; Azure Cloud Services wants an RSA key for its SSL and data encryption certificates", self.key),
                "issue it with --key rsa2048",
            ));
        }
        f
    }
}
