//! End-entity certificate profiles (docs/profiles.md) turned into rcgen parameters.

use std::net::IpAddr;

use certkit_ca::ad_mapping::{self, Sid};
use certkit_ca::certinfo::{EKU_CLIENT_AUTH, EKU_DOCUMENT_ENCRYPTION, EKU_SERVER_AUTH};
use certkit_ca::dates::Validity;
use certkit_ca::naming::check_cn;
use certkit_ca::profile_file::{KeyUsage, Policy, ProfileRequest, SanKind, SubjectAttribute};
use certkit_ca::{Error, KeyType, Profile, Result, Serial};
use std::sync::Arc;

use crate::by_profile::ProfileUse;
use rcgen::{
    CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, OtherNameValue, SanType,
};

/// Everything that decides the content of an end-entity certificate.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// The profile.
    pub profile: Profile,
    /// Subject common name.
    pub cn: String,
    /// Extra DNS names (server).
    pub dns: Vec<String>,
    /// IP addresses (server).
    pub ips: Vec<IpAddr>,
    /// E-mail address (client).
    pub email: Option<String>,
    /// Who the person is to Active Directory (client).
    pub identity: Identity,
    /// Extra extended key usages, dotted OIDs.
    pub extra_ekus: Vec<String>,
    /// The subject key's type (decides key usage bits).
    pub key_type: KeyType,
    /// Validity.
    pub validity: Validity,
    /// CRL distribution point.
    pub crl_url: Option<String>,
    /// Subject attributes beyond the CN (`--subject`, and those its profile file fixes).
    pub subject: Vec<(SubjectAttribute, String)>,
    /// The profile file it is issued by (`--profile NAME`), if not a built-in profile.
    pub profile_file: Option<Arc<ProfileUse>>,
}

/// Who a client certificate's holder is to Active Directory and other relying parties (docs/ad-mapping.md):
/// the names beyond the e-mail address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// User principal name (SAN otherName 1.3.6.1.4.1.311.20.2.3).
    pub upn: Option<String>,
    /// The account's SID (SAN URI `tag:microsoft.com,2022-09-14:sid:SID`).
    pub sid: Option<Sid>,
    /// With a SID: the SID security extension too (1.3.6.1.4.1.311.25.2), as AD CS writes it.
    pub sid_extension: bool,
    /// Further SAN URIs.
    pub uris: Vec<String>,
}

impl Identity {
    /// True when it adds nothing.
    pub fn is_empty(&self) -> bool {
        self == &Identity::default()
    }

    /// Checks every value; `--sid-extension` needs a SID.
    pub fn validate(&self) -> Result<()> {
        if let Some(upn) = &self.upn {
            ad_mapping::check_upn(upn)?;
        }
        for uri in &self.uris {
            ad_mapping::check_uri(uri)?;
            if Sid::of_uri(uri).is_some() {
                return Err(Error::BadInput(format!(
                    "--uri {uri} is a SID URI: give the SID with --sid instead"
                )));
            }
        }
        if self.sid_extension && self.sid.is_none() {
            return Err(Error::BadInput(
                "--sid-extension writes the SID given with --sid: add --sid SID".into(),
            ));
        }
        Ok(())
    }

    /// Its SAN entries: the UPN, the SID URI, the other URIs.
    fn sans(&self) -> Vec<SanType> {
        let mut sans = Vec::new();
        if let Some(upn) = &self.upn
            && let Ok(oid) = parse_oid(ad_mapping::OID_UPN)
        {
            sans.push(SanType::OtherName((
                oid,
                OtherNameValue::Utf8String(upn.clone()),
            )));
        }
        let uris = self
            .sid
            .iter()
            .map(Sid::uri)
            .chain(self.uris.iter().cloned());
        for uri in uris {
            if let Ok(ia5) = uri.try_into() {
                sans.push(SanType::URI(ia5));
            }
        }
        sans
    }

    /// Its extensions: the SID extension, when asked.
    fn extensions(&self) -> Result<Vec<CustomExtension>> {
        match (&self.sid, self.sid_extension) {
            (Some(sid), true) => Ok(vec![CustomExtension::from_oid_content(
                &parse_oid(ad_mapping::OID_SID_EXTENSION)?,
                sid.extension_value(),
            )]),
            _ => Ok(Vec::new()),
        }
    }
}

/// Checks a DNS name for a SAN: letters, digits, hyphens, dots; a leading `*.` wildcard is allowed.
pub fn check_dns_name(name: &str) -> Result<()> {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let ok = !bare.is_empty()
        && name.len() <= 253
        && bare.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{name}' is not a DNS name; use a host name such as myservice.cloudapp.net (a leading *. is allowed)"
        )))
    }
}

/// Checks an e-mail address for a SAN (ASCII `local@domain`).
pub fn check_email(email: &str) -> Result<()> {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && email.is_ascii()
                && !email
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == ',')
                && check_dns_name(domain).is_ok()
                && domain.contains('.')
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{email}' is not an e-mail address (expected name@example.com)"
        )))
    }
}

/// Parses a dotted OID such as 1.3.6.1.5.5.7.3.4.
pub fn parse_oid(text: &str) -> Result<Vec<u64>> {
    let parts: Option<Vec<u64>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts {
        Some(parts) if parts.len() >= 2 && parts[0] <= 2 && (parts[0] == 2 || parts[1] < 40) => {
            Ok(parts)
        }
        _ => Err(Error::BadInput(format!(
            "'{text}' is not an OID; write it dotted, e.g. 1.3.6.1.5.5.7.3.4"
        ))),
    }
}

fn eku(oid: &str) -> Result<ExtendedKeyUsagePurpose> {
    Ok(match oid {
        EKU_SERVER_AUTH => ExtendedKeyUsagePurpose::ServerAuth,
        EKU_CLIENT_AUTH => ExtendedKeyUsagePurpose::ClientAuth,
        other => ExtendedKeyUsagePurpose::Other(parse_oid(other)?),
    })
}

impl LeafSpec {
    fn sans(&self) -> Vec<SanType> {
        let mut sans = Vec::new();
        match self.profile {
            Profile::Server => {
                let mut names: Vec<&str> = Vec::new();
                let cn_ip = self.cn.parse::<IpAddr>().ok();
                if cn_ip.is_none() {
                    names.push(&self.cn);
                }
                for d in &self.dns {
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(d)) {
                        names.push(d);
                    }
                }
                for name in names {
                    if let Ok(ia5) = name.to_string().try_into() {
                        sans.push(SanType::DnsName(ia5));
                    }
                }
                let mut ips: Vec<IpAddr> = cn_ip.into_iter().collect();
                for ip in &self.ips {
                    if !ips.contains(ip) {
                        ips.push(*ip);
                    }
                }
                sans.extend(ips.into_iter().map(SanType::IpAddress));
            }
            Profile::Client => {
                if let Some(email) = &self.email
                    && let Ok(ia5) = email.clone().try_into()
                {
                    sans.push(SanType::Rfc822Name(ia5));
                }
                sans.extend(self.identity.sans());
            }
            Profile::Encryption | Profile::Ca | Profile::Unknown => {}
        }
        sans
    }

    /// Checks the names and OIDs; run before any key is made or password asked.
    pub fn validate(&self) -> Result<()> {
        if !self.profile.is_end_entity() {
            return Err(Error::BadInput(
                "certkit-issue makes end-entity certificates; a CA below this one is signed with certkit-ca sign-ca"
                    .into(),
            ));
        }
        if self.profile == Profile::Unknown {
            return Err(Error::BadInput(format!(
                "{} was imported with extended key usages that fit no certkit profile, so certkit cannot renew it as it is; issue its successor with certkit-issue server, client or encryption",
                self.cn
            )));
        }
        check_cn(&self.cn)?;
        if self.profile == Profile::Server {
            if self.cn.parse::<IpAddr>().is_err() {
                check_dns_name(&self.cn).map_err(|_| {
                    Error::BadInput(format!(
                        "the server --cn '{}' must be a host name (it goes into the SAN, which clients check); \
                         e.g. --cn myservice.cloudapp.net",
                        self.cn
                    ))
                })?;
            }
            for d in &self.dns {
                check_dns_name(d)?;
            }
        } else if !self.dns.is_empty() || !self.ips.is_empty() {
            return Err(Error::BadInput(format!(
                "--dns and --ip are for server certificates, not {}",
                self.profile
            )));
        }
        if let Some(email) = &self.email {
            if self.profile != Profile::Client {
                return Err(Error::BadInput("--email is for client certificates".into()));
            }
            check_email(email)?;
        }
        if !self.identity.is_empty() {
            if self.profile != Profile::Client {
                return Err(Error::BadInput(
                    "--upn, --sid and --uri are for client certificates".into(),
                ));
            }
            self.identity.validate()?;
        }
        for oid in &self.extra_ekus {
            parse_oid(oid)?;
        }
        Ok(())
    }

    /// The rcgen parameters: RFC 5280 profile with SKI, AKI, critical basicConstraints CA:FALSE and keyUsage.
    pub fn params(&self) -> Result<CertificateParams> {
        self.validate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (attribute, value) in &self.subject {
            dn.push(dn_type(*attribute), value.as_str());
        }
        dn.push(DnType::CommonName, self.cn.as_str());
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.serial_number = Some(Serial::random()?.to_rcgen());
        params.not_before = self.validity.not_before;
        params.not_after = self.validity.not_after;
        params.use_authority_key_identifier_extension = true;
        params.subject_alt_names = self.sans();
        params.custom_extensions = self.identity.extensions()?;
        params.key_usages = match self.profile_key_usage() {
            Some(usages) => usages.iter().map(|u| key_usage(*u)).collect(),
            None => key_usages(self.profile, self.key_type),
        };
        if !self.policies().is_empty() {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    certkit_ca::profile_file::CERTIFICATE_POLICIES_OID,
                    Policy::extension_value(self.policies())?,
                ));
        }
        if let Some(profile) = &self.profile_file
            && let Some(url) = &profile.file.spec.ocsp_url
            && let Some(aia) =
                certkit_ca::signer::authority_info_access(Some(url), profile.aia_url.as_deref())
        {
            params.custom_extensions.push(aia);
        }
        let profile_eku = match self.profile {
            Profile::Server => EKU_SERVER_AUTH,
            Profile::Client => EKU_CLIENT_AUTH,
            Profile::Encryption => EKU_DOCUMENT_ENCRYPTION,
            Profile::Ca | Profile::Unknown => {
                return Err(Error::Bug("an end-entity profile was expected"));
            }
        };
        params.insert_extended_key_usage(eku(profile_eku)?);
        for oid in &self.extra_ekus {
            params.insert_extended_key_usage(eku(oid)?);
        }
        if let Some(url) = &self.crl_url {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }];
        }
        Ok(params)
    }
}

impl LeafSpec {
    /// Checks the request against its profile file and takes the profile's content: the EKUs (a flag's EKU
    /// must be one the profile lists), the CRL URL unless `--crl-url` was given, and the subject attributes it
    /// fixes. Without a profile file, `--subject` is refused: the built-in profiles write the CN alone.
    pub fn take_profile(&mut self, crl_flag_given: bool) -> Result<()> {
        let Some(profile) = self.profile_file.clone() else {
            if let Some((attribute, value)) = self.subject.first() {
                return Err(Error::BadInput(format!(
                    "--subject {attribute}={value} needs --profile NAME: the built-in {} profile writes the CN alone; a profile file says which attributes a request may give (certkit-ca profile add)",
                    self.profile
                )));
            }
            return Ok(());
        };
        let file = &profile.file;
        if file.spec.base != self.profile {
            return Err(Error::BadInput(format!(
                "profile {} is a {base} profile: issue by it with certkit-issue {base} (or sign --profile {})",
                file.name,
                file.name,
                base = file.spec.base
            )));
        }
        // Days from when it was asked (the validity starts a little earlier, for clocks behind).
        let days =
            (self.validity.not_after - self.validity.not_before - certkit_ca::dates::BACKDATE)
                .as_seconds_f64()
                / 86_400.0;
        file.check_request(&ProfileRequest {
            subject: &self.subject,
            sans: &self.san_kinds(),
            key_type: self.key_type,
            days: days.ceil() as i64,
        })?;
        if let Some(eku) = self.extra_ekus.iter().find(|e| !file.ekus.contains(e)) {
            return Err(Error::BadInput(format!(
                "EKU {eku} is not allowed by profile {}: its EKUs are {}",
                file.name,
                file.ekus.join(", ")
            )));
        }
        if let Some(usages) = &file.spec.key_usage
            && let Some(usage) = usages.iter().find(|u| !u.fits(self.key_type))
        {
            return Err(Error::BadInput(format!(
                "profile {} asks for {}, which a {} key cannot do: give --key with a key type it allows",
                file.name,
                usage.name(),
                self.key_type
            )));
        }
        let base_eku = self.profile.eku().unwrap_or_default();
        self.extra_ekus = file
            .ekus
            .iter()
            .filter(|e| e.as_str() != base_eku)
            .cloned()
            .collect();
        if !crl_flag_given && let Some(url) = &file.spec.crl_url {
            self.crl_url = Some(url.clone());
        }
        self.subject = file.subject(&self.subject);
        Ok(())
    }

    /// The kinds of subject alternative name the request gives itself (a server's CN, which always goes into
    /// the SAN, is not counted).
    pub fn san_kinds(&self) -> Vec<SanKind> {
        let mut kinds = Vec::new();
        let mut add = |present: bool, kind| {
            if present {
                kinds.push(kind);
            }
        };
        add(!self.dns.is_empty(), SanKind::Dns);
        add(!self.ips.is_empty(), SanKind::Ip);
        add(self.email.is_some(), SanKind::Email);
        add(self.identity.upn.is_some(), SanKind::Upn);
        add(self.identity.sid.is_some(), SanKind::Sid);
        add(!self.identity.uris.is_empty(), SanKind::Uri);
        kinds
    }

    /// The key usage bits its profile file names, if it names them.
    pub fn profile_key_usage(&self) -> Option<&[KeyUsage]> {
        self.profile_file
            .as_ref()
            .and_then(|p| p.file.spec.key_usage.as_deref())
    }

    /// The certificate policies its profile file names.
    pub fn policies(&self) -> &[Policy] {
        self.profile_file
            .as_ref()
            .map_or(&[], |p| p.file.spec.policies.as_slice())
    }
}

fn dn_type(attribute: SubjectAttribute) -> DnType {
    match attribute {
        SubjectAttribute::C => DnType::CountryName,
        SubjectAttribute::ST => DnType::StateOrProvinceName,
        SubjectAttribute::L => DnType::LocalityName,
        SubjectAttribute::O => DnType::OrganizationName,
        SubjectAttribute::OU => DnType::OrganizationalUnitName,
    }
}

fn key_usage(usage: KeyUsage) -> KeyUsagePurpose {
    match usage {
        KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
        KeyUsage::NonRepudiation => KeyUsagePurpose::ContentCommitment,
        KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
        KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
        KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
    }
}

/// keyUsage per profile: RSA keys encipher keys (TLS RSA key exchange, CMS); EC keys never do, they sign
/// (ECDHE handshakes) or agree on keys (ECDH-based encryption).
pub fn key_usages(profile: Profile, key: KeyType) -> Vec<KeyUsagePurpose> {
    use KeyUsagePurpose::*;
    match (profile, key.is_rsa()) {
        (Profile::Server | Profile::Client, true) => vec![DigitalSignature, KeyEncipherment],
        (Profile::Server | Profile::Client, false) => vec![DigitalSignature],
        (Profile::Encryption, true) => vec![KeyEncipherment, DataEncipherment],
        (Profile::Encryption, false) => vec![KeyAgreement],
        (Profile::Ca, _) => vec![KeyCertSign, CrlSign],
        (Profile::Unknown, _) => vec![DigitalSignature],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_and_wildcards() {
        assert!(check_dns_name("myservice.cloudapp.net").is_ok());
        assert!(check_dns_name("*.cloudapp.net").is_ok());
        assert!(check_dns_name("my service").is_err());
        assert!(check_dns_name("a.*.net").is_err());
        assert!(check_dns_name("-bad.net").is_err());
    }

    #[test]
    fn emails_and_oids() {
        assert!(check_email("alice@example.com").is_ok());
        assert!(check_email("alice").is_err());
        assert!(check_email("alice@localhost").is_err());
        assert_eq!(
            parse_oid("1.3.6.1.4.1.311.80.1").expect("oid"),
            vec![1, 3, 6, 1, 4, 1, 311, 80, 1]
        );
        assert!(parse_oid("serverAuth").is_err());
        assert!(parse_oid("1").is_err());
    }

    fn spec(profile: Profile, key_type: KeyType) -> LeafSpec {
        LeafSpec {
            profile,
            cn: "svc.example.com".into(),
            dns: vec!["*.example.com".into()],
            ips: vec!["10.0.0.4".parse().expect("ip")],
            email: None,
            identity: Identity::default(),
            extra_ekus: vec![],
            key_type,
            validity: Validity::starting_now(certkit_ca::dates::Lifetime::Days(30))
                .expect("validity"),
            crl_url: Some("http://pki.example.com/ca.crl".into()),
            subject: Vec::new(),
            profile_file: None,
        }
    }

    /// Issues a self-signed certificate for the spec and parses it back with x509-parser.
    fn parsed(spec: &LeafSpec) -> Vec<u8> {
        let key = spec.key_type.generate().expect("key");
        spec.params()
            .expect("params")
            .self_signed(&key)
            .expect("sign")
            .der()
            .to_vec()
    }

    #[test]
    fn each_profile_parses_back_with_its_extensions() {
        use x509_parser::prelude::{FromDer, X509Certificate};
        let cases = [
            (Profile::Server, EKU_SERVER_AUTH, (true, true, false)),
            (Profile::Client, EKU_CLIENT_AUTH, (true, true, false)),
            (
                Profile::Encryption,
                EKU_DOCUMENT_ENCRYPTION,
                (false, true, true),
            ),
        ];
        for (profile, eku, (digital_signature, key_encipherment, data_encipherment)) in cases {
            let mut s = spec(profile, KeyType::Rsa2048);
            if profile != Profile::Server {
                s.dns.clear();
                s.ips.clear();
            }
            if profile == Profile::Client {
                s.email = Some("alice@example.com".into());
            }
            let der = parsed(&s);
            let (_, cert) = X509Certificate::from_der(&der).expect("parse");
            let bc = cert.basic_constraints().expect("bc").expect("present");
            assert!(bc.critical && !bc.value.ca, "{profile}");
            let ku = cert.key_usage().expect("ku").expect("present");
            assert!(ku.critical);
            assert_eq!(ku.value.digital_signature(), digital_signature, "{profile}");
            assert_eq!(ku.value.key_encipherment(), key_encipherment, "{profile}");
            assert_eq!(ku.value.data_encipherment(), data_encipherment, "{profile}");
            let info =
                certkit_ca::CertInfo::from_der(&der, std::path::Path::new("test")).expect("info");
            assert_eq!(info.ekus, vec![eku.to_string()], "{profile}");
            assert!(info.subject_key_id.is_some() && info.authority_key_id.is_some());
            let serial = cert.raw_serial();
            assert!(
                serial.len() == 16 && serial[0] < 0x80,
                "positive 16-byte serial"
            );
            let sans: Vec<String> = info.sans.iter().map(ToString::to_string).collect();
            match profile {
                Profile::Server => assert_eq!(
                    sans,
                    ["DNS:svc.example.com", "DNS:*.example.com", "IP:10.0.0.4"]
                ),
                Profile::Client => assert_eq!(sans, ["email:alice@example.com"]),
                Profile::Encryption | Profile::Ca | Profile::Unknown => assert!(sans.is_empty()),
            }
        }
    }

    #[test]
    fn ec_keys_never_get_encipherment() {
        for profile in [Profile::Server, Profile::Client, Profile::Encryption] {
            let usages = key_usages(profile, KeyType::P256);
            assert!(!usages.contains(&KeyUsagePurpose::KeyEncipherment));
            assert!(!usages.contains(&KeyUsagePurpose::DataEncipherment));
        }
    }
}
