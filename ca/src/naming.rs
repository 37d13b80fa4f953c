//! What certkit accepts as names and URLs inside certificates, and how it shows names: as RFC 4514 strings,
//! escaped so that a name can never display as something it is not (a CN of `Bob, O=Contoso` shows as
//! `CN=Bob\, O=Contoso`, not as two attributes; invisible and control characters show as `\XX`).

use x509_parser::x509::X509Name;

use crate::error::{Error, Result};

/// Characters that change how text displays without showing themselves: bidirectional overrides and
/// isolates, zero-width characters, the byte order mark, the soft hyphen (Unicode category Cf, the ones that
/// occur in practice).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// `text` with control and invisible characters written as `\XX` (their UTF-8 bytes), so that a name read from
/// a file cannot hide or rewrite what the terminal shows; None when it has none.
pub fn escape_hidden(text: &str) -> Option<String> {
    if !text.chars().any(|c| c.is_control() || is_invisible(c)) {
        return None;
    }
    let mut out = String::new();
    for c in text.chars() {
        if c.is_control() || is_invisible(c) {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Checks that `cn` is usable as a common name.
pub fn check_cn(cn: &str) -> Result<()> {
    if cn.trim().is_empty() {
        return Err(Error::BadInput("the common name (--cn) is empty".into()));
    }
    if cn.chars().count() > 64 {
        return Err(Error::BadInput(format!(
            "the common name '{cn}' is longer than 64 characters (the X.509 limit)"
        )));
    }
    if cn.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(Error::BadInput(
            "the common name contains control or invisible formatting characters (such as a right-to-left override), which make a name display as something it is not; type it plainly".into(),
        ));
    }
    Ok(())
}

/// The RFC 4514 string of a name: its RDNs last first, separated by `,`; several attributes in one RDN joined
/// by `+`; known attribute types by their short names, others as dotted OIDs; values escaped.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let mut rdns = rdn_texts(name, short_name, escape_value);
    rdns.reverse();
    rdns.join(",")
}

/// Each RDN of `name` as text, in the order the name encodes them: its attributes as `KEY=value` joined by
/// `+`, KEY as `key_name` gives it (else the dotted OID), a text value as `quote` writes it, any other value as
/// `#` and its hex.
pub fn rdn_texts(
    name: &X509Name<'_>,
    key_name: fn(&str) -> Option<&'static str>,
    quote: fn(&str) -> String,
) -> Vec<String> {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = key_name(&oid).map_or(oid, str::to_string);
                    let value = match atv.as_str() {
                        Ok(text) => quote(text),
                        Err(_) => {
                            format!("#{}", crate::thumbprint::hex_upper(atv.attr_value().data))
                        }
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect()
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// RFC 4514 section 2.4 escaping, plus `\XX` for control and invisible characters so they cannot hide.
fn escape_value(value: &str) -> String {
    let mut out = String::new();
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            c if c.is_control() || is_invisible(c) => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{byte:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Checks a CRL distribution point URL.
pub fn check_crl_url(url: &str) -> Result<()> {
    let ok =
        (url.starts_with("http://") || url.starts_with("https://") || url.starts_with("ldap://"))
            && url.len() > 8
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{url}' is not a CRL URL; give an http:// URL where the CRL will be published, e.g. http://pki.example.com/ca.crl"
        )))
    }
}

/// Fails unless `url` is an http:// URL for an OCSP responder: plain HTTP, as RFC 5019 says (a client checking
/// revocation over TLS would need revocation checked for the TLS server first).
pub fn check_ocsp_url(url: &str) -> Result<()> {
    let ok = url.starts_with("http://")
        && url.len() > 7
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{url}' is not an OCSP URL; give the http:// URL the responder (certkit-ca ocsp serve) answers at, e.g. http://ocsp.example.com/ (plain http: OCSP responses are signed, and clients do not check revocation over TLS)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    #[test]
    fn names_are_rfc4514_with_escaping() {
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::OrganizationName, "Contoso");
        dn.push(rcgen::DnType::CommonName, "Bob, O=Contoso");
        params.distinguished_name = dn;
        let key = crate::keys::KeyType::P256.generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let (_, parsed) =
            x509_parser::certificate::X509Certificate::from_der(cert.der()).expect("parse");
        assert_eq!(rfc4514(parsed.subject()), "CN=Bob\\, O=Contoso,O=Contoso");
    }

    #[test]
    fn leading_trailing_and_invisible_characters_are_escaped() {
        assert_eq!(escape_value(" #a+b "), "\\ #a\\+b\\ ");
        assert_eq!(escape_value("#x"), "\\#x");
        assert_eq!(escape_value("evil\u{202e}txt"), "evil\\E2\\80\\AEtxt");
        assert!(check_cn("evil\u{202e}gnp.exe").is_err());
        assert!(check_cn("zero\u{200b}width").is_err());
        assert!(check_cn("Alice Smith").is_ok());
    }
}
