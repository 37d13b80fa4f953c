//! Active Directory's strong certificate mapping (Microsoft KB5014754; docs/ad-mapping.md): the user's SID in a
//! certificate (the SAN URI, or the SID security extension that AD CS writes), the user principal name, and the
//! `altSecurityIdentities` values that map a certificate to an account explicitly.
//!
//! Since full enforcement (September 2025), a domain controller refuses a certificate for Kerberos (smart-card
//! and Windows Hello sign-in, NPS/802.1X EAP-TLS, IIS client mapping) unless it is strongly mapped: the SID in
//! the certificate, or an explicit `X509IssuerSerialNumber`, `X509SKI` or `X509SHA1PublicKey` entry on the
//! account.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::ber::{self, der, tag};
use crate::error::{Error, Result};
use crate::thumbprint::{hex_lower, hex_upper};

/// The SAN URI prefix of a SID (Windows Server 2019 and later KDCs): `tag:microsoft.com,2022-09-14:sid:<SID>`.
pub const SID_URI_PREFIX: &str = "tag:microsoft.com,2022-09-14:sid:";
/// The SID security extension (szOID_NTDS_CA_SECURITY_EXT), as AD CS writes it into online-template
/// certificates.
pub const OID_SID_EXTENSION: &str = "1.3.6.1.4.1.311.25.2";
/// The otherName inside the SID extension that carries the SID as text (szOID_NTDS_OBJECTSID).
pub const OID_SID_VALUE: &str = "1.3.6.1.4.1.311.25.2.1";
/// The user principal name otherName of a SAN (szOID_NT_PRINCIPAL_NAME), a UTF8String.
pub const OID_UPN: &str = "1.3.6.1.4.1.311.20.2.3";
/// The Smart Card Logon extended key usage.
pub const EKU_SMARTCARD_LOGON: &str = "1.3.6.1.4.1.311.20.2.2";

/// The longest SID: revision, authority and 15 sub-authorities.
const MAX_SUB_AUTHORITIES: usize = 15;

/// A security identifier in its text form, `S-1-5-21-1004336348-1177238915-682003330-512`: revision 1, an
/// identifier authority below 2^48, and 1 to 15 sub-authorities of 32 bits, all decimal without leading zeros.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Sid(String);

impl FromStr for Sid {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::BadInput(format!(
                "'{text}' is not a SID ({why}); give the account's objectSid as text, e.g. \
                 S-1-5-21-1004336348-1177238915-682003330-1105 (Get-ADUser NAME | Select SID)"
            ))
        };
        let mut parts = text.split('-');
        if !matches!(parts.next(), Some("S" | "s")) {
            return Err(bad("it must start with S-"));
        }
        if parts.next() != Some("1") {
            return Err(bad("the revision after S- must be 1"));
        }
        let decimal = |part: &str| -> Option<u64> {
            let plain = !part.is_empty()
                && part.len() <= 15
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            plain.then(|| part.parse().ok()).flatten()
        };
        match parts.next().map(decimal) {
            Some(Some(authority)) if authority < 1 << 48 => {}
            _ => return Err(bad("the identifier authority is not a number below 2^48")),
        }
        let subs: Vec<&str> = parts.collect();
        if subs.is_empty() || subs.len() > MAX_SUB_AUTHORITIES {
            return Err(bad("it needs 1 to 15 sub-authorities"));
        }
        for sub in &subs {
            match decimal(sub) {
                Some(value) if value <= u64::from(u32::MAX) => {}
                _ => return Err(bad("a sub-authority is not a 32-bit number")),
            }
        }
        Ok(Sid(format!("S{}", &text[1..])))
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Sid> for String {
    fn from(sid: Sid) -> String {
        sid.0
    }
}

impl TryFrom<String> for Sid {
    type Error = Error;
    fn try_from(text: String) -> Result<Self> {
        text.parse()
    }
}

impl Sid {
    /// The SAN URI that carries it.
    pub fn uri(&self) -> String {
        format!("{SID_URI_PREFIX}{}", self.0)
    }

    /// The SID a SAN URI carries, if it is the SID URI (and the SID parses).
    pub fn of_uri(uri: &str) -> Option<Sid> {
        uri.strip_prefix(SID_URI_PREFIX)?.parse().ok()
    }

    /// The SID extension's value as AD CS writes it: GeneralNames holding one otherName of type
    /// 1.3.6.1.4.1.311.25.2.1 whose value is `[0] EXPLICIT OCTET STRING` of the SID's text.
    pub fn extension_value(&self) -> Vec<u8> {
        // OID_SID_VALUE, DER.
        const SID_VALUE_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02, 0x01];
        let sid = der(tag::OCTET_STRING, self.0.as_bytes());
        let oid = der(tag::OID, SID_VALUE_OID);
        let other_name = der(tag::CONTEXT_0, &[oid, der(tag::CONTEXT_0, &sid)].concat());
        der(tag::SEQUENCE, &other_name)
    }

    /// The SID in a SID extension's value, if it is one (and the SID parses).
    pub fn of_extension(value: &[u8]) -> Option<Sid> {
        let (names, rest) = ber::read(value).ok()?;
        if !rest.is_empty() || names.tag != tag::SEQUENCE {
            return None;
        }
        names.children().ok()?.iter().find_map(|name| {
            let parts = name.clone().expect_tag(tag::CONTEXT_0, "").ok()?;
            let parts = parts.children().ok()?;
            match parts.as_slice() {
                [oid, value] if oid.oid().ok()? == OID_SID_VALUE => {
                    let inner = value.clone().expect_tag(tag::CONTEXT_0, "").ok()?;
                    let (text, _) = ber::read(&inner.content).ok()?;
                    let text = text.expect_tag(tag::OCTET_STRING, "").ok()?;
                    std::str::from_utf8(&text.content).ok()?.parse().ok()
                }
                _ => None,
            }
        })
    }
}

/// The text of a user principal name otherName's value (`[0] EXPLICIT UTF8String`), as x509-parser hands it
/// over after the type OID.
pub fn upn_of_other_name(value: &[u8]) -> Option<String> {
    let (outer, rest) = ber::read(value).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let outer = outer.expect_tag(tag::CONTEXT_0, "").ok()?;
    let (text, rest) = ber::read(&outer.content).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let text = text.expect_tag(tag::UTF8_STRING, "").ok()?;
    std::str::from_utf8(&text.content).ok().map(str::to_string)
}

/// Checks a user principal name: `name@domain`, one `@`, no spaces or control characters, at most 1024
/// characters (the attribute's limit in AD).
pub fn check_upn(upn: &str) -> Result<()> {
    let ok = match upn.split_once('@') {
        Some((name, domain)) => {
            !name.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && upn.chars().count() <= 1024
                && !upn
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || crate::naming::is_invisible(c))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{upn}' is not a user principal name; give the account's userPrincipalName, e.g. alice@contoso.com"
        )))
    }
}

/// Checks a URI for a SAN: a scheme (a letter, then letters, digits, `+`, `-`, `.`), a colon, and printable
/// ASCII without spaces (RFC 3986; IA5String allows nothing else).
pub fn check_uri(uri: &str) -> Result<()> {
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
    });
    if scheme_ok && uri.len() <= 2048 && uri.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{uri}' is not a URI; write it with its scheme and no spaces, e.g. https://contoso.com/people/alice"
        )))
    }
}

/// The ready-to-paste lines that map one certificate to an account explicitly: the `altSecurityIdentities`
/// values (strong: issuer and serial number, subject key identifier) and the PowerShell line that adds the
/// first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AltSecurityIdentities {
    /// `X509:<I>issuer<SR>serial`: the issuer's RDNs in the order the certificate encodes them (the reverse
    /// of the RFC 4514 text) and the serial number's bytes reversed, in uppercase hex.
    pub issuer_serial_number: String,
    /// `X509:<SKI>identifier`, the subject key identifier in lowercase hex (when the certificate has one).
    pub ski: Option<String>,
    /// `Set-ADUser ACCOUNT -Add @{altSecurityIdentities='...'}` adding the issuer-and-serial value; ACCOUNT
    /// is the SID when the certificate carries one, else the common name (replace it with the account's
    /// sAMAccountName if that differs).
    pub set_aduser: String,
}

/// How AD can map a certificate strongly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrongMapping {
    /// The SID extension (1.3.6.1.4.1.311.25.2): every KDC since the May 2022 update.
    SidExtension,
    /// The SID SAN URI: KDCs on Windows Server 2019 and later (not 2016).
    SidUri,
    /// Neither: only an explicit `altSecurityIdentities` entry on the account maps it.
    ExplicitOnly,
}

impl StrongMapping {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            StrongMapping::SidExtension => "sid-extension",
            StrongMapping::SidUri => "sid-uri",
            StrongMapping::ExplicitOnly => "explicit-only",
        }
    }
}

/// What a certificate says to Active Directory's mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdMapping {
    /// How it maps strongly.
    pub strong_mapping: StrongMapping,
    /// The SID it carries (in the extension, else in the SAN URI).
    pub sid: Option<Sid>,
    /// Its user principal name.
    pub upn: Option<String>,
    /// The explicit mapping values.
    pub alt_security_identities: AltSecurityIdentities,
}

impl AdMapping {
    /// What a certificate (DER) says to AD's mapping.
    pub fn of_der(der: &[u8]) -> Result<Self> {
        MappingReader::default().read(der)
    }
}

/// Reads the AD mapping of many certificates (`list --json`), each issuer's name worked out once: a short walk
/// over the certificate's DER to the serial, issuer, subject and the three extensions that matter, no full
/// parse.
#[derive(Default)]
pub struct MappingReader {
    issuers: Vec<(Vec<u8>, String)>,
}

/// The DER content of the three extension OIDs read here.
const SAN_OID: &[u8] = &[0x55, 0x1D, 0x11];
const SKI_OID: &[u8] = &[0x55, 0x1D, 0x0E];
const SID_EXTENSION_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02];
/// The DER content of [`OID_UPN`].
const UPN_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03];
/// A SAN's uniformResourceIdentifier ([6] IA5String) and otherName ([0] constructed).
const URI_TAG: u8 = 0x86;
const EXTENSIONS_TAG: u8 = 0xA3;

/// The parts of a certificate the mapping is made of.
struct MappedParts<'a> {
    serial: Vec<u8>,
    issuer: &'a [u8],
    subject: &'a [u8],
    extension_sid: Option<Sid>,
    uri_sid: Option<Sid>,
    upn: Option<String>,
    ski: Option<Vec<u8>>,
}

impl MappingReader {
    /// What one certificate (DER) says to AD's mapping.
    pub fn read(&mut self, der: &[u8]) -> Result<AdMapping> {
        let parts = mapped_parts(der)
            .map_err(|e| Error::BadInput(format!("not a certificate AD could map ({})", e.0)))?;
        let issuer = self.issuer_text(parts.issuer)?;
        let strong_mapping = match (&parts.extension_sid, &parts.uri_sid) {
            (Some(_), _) => StrongMapping::SidExtension,
            (None, Some(_)) => StrongMapping::SidUri,
            (None, None) => StrongMapping::ExplicitOnly,
        };
        let sid = parts.extension_sid.or(parts.uri_sid);
        let account = match &sid {
            Some(sid) => sid.to_string(),
            None => X509Name::from_der(parts.subject)
                .ok()
                .and_then(|(_, name)| {
                    name.iter_common_name()
                        .next()
                        .and_then(|cn| cn.as_str().ok())
                        .map(powershell_quoted)
                })
                .unwrap_or_else(|| "ACCOUNT".to_string()),
        };
        let issuer_serial_number = format!(
            "X509:<I>{issuer}<SR>{}",
            hex_upper(&reversed(&parts.serial))
        );
        let set_aduser = format!(
            "Set-ADUser {account} -Add @{{altSecurityIdentities={}}}",
            powershell_quoted(&issuer_serial_number)
        );
        Ok(AdMapping {
            strong_mapping,
            sid,
            upn: parts.upn,
            alt_security_identities: AltSecurityIdentities {
                issuer_serial_number,
                ski: parts.ski.map(|id| format!("X509:<SKI>{}", hex_lower(&id))),
                set_aduser,
            },
        })
    }

    fn issuer_text(&mut self, raw: &[u8]) -> Result<String> {
        if let Some((_, text)) = self.issuers.iter().find(|(known, _)| known == raw) {
            return Ok(text.clone());
        }
        let (_, name) = X509Name::from_der(raw).map_err(|e| {
            Error::BadInput(format!("not a certificate AD could map (its issuer: {e})"))
        })?;
        let text = issuer_in_encoded_order(&name);
        // A CA has one issuer name, or a few after renewals; a foreign listing is not kept without bound.
        if self.issuers.len() < 16 {
            self.issuers.push((raw.to_vec(), text.clone()));
        }
        Ok(text)
    }
}

/// One value at the start of `at`, its whole encoding, and what follows.
fn next_value(at: &[u8]) -> std::result::Result<(ber::Tlv<'_>, &[u8], &[u8]), ber::BerError> {
    let (value, rest) = ber::read(at)?;
    Ok((value, &at[..at.len() - rest.len()], rest))
}

fn mapped_parts(der: &[u8]) -> std::result::Result<MappedParts<'_>, ber::BerError> {
    use ber::BerError;
    let (certificate, _, _) = next_value(der)?;
    let certificate = certificate.expect_tag(tag::SEQUENCE, "it is not a SEQUENCE")?;
    let ber::Tlv { content, .. } = certificate;
    let std::borrow::Cow::Borrowed(content) = content else {
        return Err(BerError("it is not DER"));
    };
    let (tbs, _, _) = next_value(content)?;
    let tbs = tbs.expect_tag(tag::SEQUENCE, "its TBSCertificate is not a SEQUENCE")?;
    let std::borrow::Cow::Borrowed(tbs) = tbs.content else {
        return Err(BerError("it is not DER"));
    };
    let (mut value, _, mut at) = next_value(tbs)?;
    if value.tag == tag::CONTEXT_0 {
        (value, _, at) = next_value(at)?;
    }
    let serial = value
        .expect_tag(tag::INTEGER, "its serial number is not an INTEGER")?
        .content
        .into_owned();
    let (_, _, at) = next_value(at)?; // signature algorithm
    let (_, issuer, at) = next_value(at)?;
    let (_, _, at) = next_value(at)?; // validity
    let (_, subject, at) = next_value(at)?;
    let (_, _, mut at) = next_value(at)?; // subject public key info
    let mut parts = MappedParts {
        serial,
        issuer,
        subject,
        extension_sid: None,
        uri_sid: None,
        upn: None,
        ski: None,
    };
    while !at.is_empty() {
        let (value, _, rest) = next_value(at)?;
        at = rest;
        if value.tag != EXTENSIONS_TAG {
            continue;
        }
        let (extensions, _) = ber::read(&value.content)?;
        for extension in extensions
            .expect_tag(tag::SEQUENCE, "its extensions are not a SEQUENCE")?
            .children()?
        {
            let fields = extension.children()?;
            let (Some(oid), Some(extension_value)) = (fields.first(), fields.last()) else {
                return Err(BerError("an extension is malformed"));
            };
            if oid.tag != tag::OID || extension_value.tag != tag::OCTET_STRING {
                return Err(BerError("an extension is malformed"));
            }
            match &*oid.content {
                SKI_OID => {
                    let (id, _) = ber::read(&extension_value.content)?;
                    parts.ski = Some(
                        id.expect_tag(tag::OCTET_STRING, "its key identifier is malformed")?
                            .content
                            .into_owned(),
                    );
                }
                SID_EXTENSION_OID => {
                    parts.extension_sid = Sid::of_extension(&extension_value.content)
                }
                SAN_OID => read_san(&extension_value.content, &mut parts)?,
                _ => {}
            }
        }
    }
    Ok(parts)
}

/// The first SID URI and the first UPN of a SAN's GeneralNames.
fn read_san(value: &[u8], parts: &mut MappedParts<'_>) -> std::result::Result<(), ber::BerError> {
    let (names, _) = ber::read(value)?;
    for name in names
        .expect_tag(
            tag::SEQUENCE,
            "its subject alternative names are not a SEQUENCE",
        )?
        .children()?
    {
        match name.tag {
            URI_TAG if parts.uri_sid.is_none() => {
                parts.uri_sid = std::str::from_utf8(&name.content)
                    .ok()
                    .and_then(Sid::of_uri);
            }
            tag::CONTEXT_0 if parts.upn.is_none() => {
                let (oid, _, value) = next_value(&name.content)?;
                if oid.tag == tag::OID && *oid.content == *UPN_OID {
                    parts.upn = upn_of_other_name(value);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn reversed(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().rev().copied().collect()
}

/// A PowerShell single-quoted string (a `'` inside doubled).
fn powershell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The issuer as `altSecurityIdentities` wants it: RDNs in the order the certificate encodes them (for
/// `CN=CONTOSO-DC-CA,DC=contoso,DC=com`, `DC=com,DC=contoso,CN=CONTOSO-DC-CA`), joined by `,`; attribute names
/// as Windows writes them (`S` for stateOrProvinceName, `E` for emailAddress); a value with a special
/// character in double quotes, a `"` inside doubled (CertNameToStr's CERT_X500_NAME_STR form).
pub fn issuer_in_encoded_order(name: &X509Name<'_>) -> String {
    crate::naming::rdn_texts(name, windows_name, windows_quoted).join(",")
}

fn windows_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "2.5.4.5" => "SERIALNUMBER",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "E",
        _ => return None,
    })
}

fn windows_quoted(value: &str) -> String {
    let special = value.is_empty()
        || value.starts_with(' ')
        || value.ends_with(' ')
        || value.chars().any(|c| {
            matches!(
                c,
                ',' | '+' | '=' | '"' | '\n' | '\r' | '<' | '>' | '#' | ';'
            )
        });
    if special {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests;
