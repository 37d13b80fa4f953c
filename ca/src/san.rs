//! Subject alternative names as certkit records and prints them: `DNS:name`, `IP:address`, `email:address`,
//! `URI:uri`, `UPN:user@domain` (the user principal name otherName, docs/ad-mapping.md).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One subject alternative name of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum San {
    /// A DNS name (a leading `*.` wildcard is allowed).
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An RFC 822 e-mail address.
    Email(String),
    /// A URI (the user's SID travels as `tag:microsoft.com,2022-09-14:sid:<SID>`).
    Uri(String),
    /// A user principal name: the otherName 1.3.6.1.4.1.311.20.2.3 (a UTF8String).
    Upn(String),
    /// Any other kind of name, as text; certkit shows it but does not issue it.
    Other(String),
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(name) => write!(f, "DNS:{name}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Email(addr) => write!(f, "email:{addr}"),
            San::Uri(uri) => write!(f, "URI:{uri}"),
            San::Upn(upn) => write!(f, "UPN:{upn}"),
            San::Other(text) => f.write_str(text),
        }
    }
}

impl FromStr for San {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Ok(match text.split_once(':') {
            Some(("DNS", name)) => San::Dns(name.to_string()),
            Some(("email", addr)) => San::Email(addr.to_string()),
            Some(("URI", uri)) => San::Uri(uri.to_string()),
            Some(("UPN", upn)) => San::Upn(upn.to_string()),
            Some(("IP", ip)) => San::Ip(ip.parse().map_err(|_| {
                Error::BadInput(format!("'{text}' names an IP address that does not parse"))
            })?),
            _ => San::Other(text.to_string()),
        })
    }
}

impl From<San> for String {
    fn from(san: San) -> String {
        san.to_string()
    }
}

impl TryFrom<String> for San {
    type Error = Error;
    fn try_from(text: String) -> Result<Self> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for text in [
            "DNS:*.example.com",
            "IP:10.0.0.4",
            "IP:::1",
            "email:a@example.com",
            "URI:tag:microsoft.com,2022-09-14:sid:S-1-5-32-544",
            "UPN:alice@contoso.com",
            "otherName:1.2.3.4",
        ] {
            assert_eq!(text.parse::<San>().expect("parse").to_string(), text);
        }
        assert!("IP:not-an-ip".parse::<San>().is_err());
    }
}
