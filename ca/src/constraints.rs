//! Name constraints (RFC 5280 4.2.1.10) on a CA: the DNS names, e-mail domains and IP ranges the certificates
//! under it may name. certkit writes them as a critical extension and refuses, before anything is signed, a
//! certificate whose names fall outside them: a verifier would reject it, and a CA key that can sign only
//! inside its names does less damage when stolen.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::san::San;

/// One subtree of a name constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subtree {
    /// A DNS name and every name below it; with a leading `.`, only the names below it.
    Dns(String),
    /// A mailbox (`user@host`), every mailbox at a host (`host`), or at any host below a domain (`.domain`).
    Email(String),
    /// An IP range.
    Ip(IpNet),
}

impl fmt::Display for Subtree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subtree::Dns(name) => write!(f, "DNS:{name}"),
            Subtree::Email(name) => write!(f, "email:{name}"),
            Subtree::Ip(net) => write!(f, "IP:{net}"),
        }
    }
}

impl Subtree {
    /// A DNS subtree as `--permit-dns` and `--exclude-dns` take it.
    pub fn dns(text: &str) -> Result<Self> {
        let name = text.strip_prefix('.').unwrap_or(text);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(Error::BadInput(format!(
                "'{text}' is not a DNS name for a name constraint: give a domain such as example.com (it covers every name below it) or .example.com (only the names below it)"
            )));
        }
        Ok(Subtree::Dns(text.to_ascii_lowercase()))
    }

    /// An e-mail subtree as `--permit-email` takes it.
    pub fn email(text: &str) -> Result<Self> {
        let (local, host) = match text.rsplit_once('@') {
            Some((local, host)) => (Some(local), host),
            None => (None, text),
        };
        let local_ok = local
            .is_none_or(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_graphic() && c != '@'));
        if !local_ok || Subtree::dns(host).is_err() {
            return Err(Error::BadInput(format!(
                "'{text}' is not an e-mail constraint: give a domain (example.com: every mailbox there), .example.com (every host below it) or one mailbox (alice@example.com)"
            )));
        }
        Ok(Subtree::Email(match local {
            Some(local) => format!("{local}@{}", host.to_ascii_lowercase()),
            None => host.to_ascii_lowercase(),
        }))
    }

    /// An IP subtree as `--permit-ip` and `--exclude-ip` take it: an address and a prefix length.
    pub fn ip(text: &str) -> Result<Self> {
        let net: IpNet = text.parse().map_err(|_| {
            Error::BadInput(format!(
                "'{text}' is not an IP range: give an address and a prefix length, e.g. 10.0.0.0/8 or fd00::/8"
            ))
        })?;
        if net.trunc() != net {
            return Err(Error::BadInput(format!(
                "'{text}' has bits set below its prefix length; the range starts at {}",
                net.trunc()
            )));
        }
        Ok(Subtree::Ip(net))
    }

    /// Whether `name` is of this subtree's kind (a constraint of another kind says nothing about it).
    fn same_kind(&self, name: &San) -> bool {
        matches!(
            (self, name),
            (Subtree::Dns(_), San::Dns(_))
                | (Subtree::Email(_), San::Email(_))
                | (Subtree::Ip(_), San::Ip(_))
        )
    }

    /// Whether `name` is in this subtree (RFC 5280's matching rules; DNS and domains without regard to case).
    fn holds(&self, name: &San) -> bool {
        match (self, name) {
            (Subtree::Dns(tree), San::Dns(name)) => dns_within(&name.to_ascii_lowercase(), tree),
            (Subtree::Email(tree), San::Email(addr)) => {
                let Some((local, host)) = addr.rsplit_once('@') else {
                    return false;
                };
                let host = host.to_ascii_lowercase();
                match tree.rsplit_once('@') {
                    Some((tree_local, tree_host)) => local == tree_local && host == tree_host,
                    None if tree.starts_with('.') => host.ends_with(tree.as_str()),
                    None => host == *tree,
                }
            }
            (Subtree::Ip(net), San::Ip(ip)) => net.contains(ip),
            _ => false,
        }
    }

    /// Whether some name that `name` stands for is in this subtree: a wildcard stands for every name one label
    /// below its base, so `*.example.com` touches `bad.example.com` (which a verifier would accept it for)
    /// though it is not within it. For any other name, the same as [`Subtree::holds`].
    fn touches(&self, name: &San) -> bool {
        if self.holds(name) {
            return true;
        }
        match (self, name) {
            (Subtree::Dns(tree), San::Dns(name)) => {
                let name = name.to_ascii_lowercase();
                let Some(base) = name.strip_prefix("*.") else {
                    return false;
                };
                // A tree with a leading dot holds only names below it: a single label over the base never is
                // one unless the whole wildcard is (`holds` above).
                tree.strip_suffix(base)
                    .and_then(|label| label.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            }
            _ => false,
        }
    }
}

/// Whether the DNS name `name` is within `tree`: the name itself or below it (`.tree`: only below it). A
/// wildcard name is within a tree when every name it stands for (one label over its base) is.
fn dns_within(name: &str, tree: &str) -> bool {
    if let Some(base) = name.strip_prefix("*.") {
        // Every `label.base` is within the tree exactly when the base is, or (a leading dot) when the base is
        // the tree's domain itself.
        return dns_within(base, tree) || tree.strip_prefix('.') == Some(base);
    }
    match tree.strip_prefix('.') {
        Some(domain) => name.ends_with(tree) && name.len() > domain.len() + 1,
        None => name == tree || name.ends_with(&format!(".{tree}")),
    }
}

/// A CA's name constraints: the subtrees its certificates' names must be in (of each kind that has any), and
/// those they must not be in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraints {
    /// Permitted subtrees.
    pub permitted: Vec<Subtree>,
    /// Excluded subtrees.
    pub excluded: Vec<Subtree>,
}

impl NameConstraints {
    /// The permitted subtrees as `show`, `init` and `sign-ca` print them (`DNS:example.com`, ...).
    pub fn permitted_names(&self) -> Vec<String> {
        self.permitted.iter().map(ToString::to_string).collect()
    }

    /// The excluded subtrees as `show`, `init` and `sign-ca` print them (`DNS:example.com`, ...).
    pub fn excluded_names(&self) -> Vec<String> {
        self.excluded.iter().map(ToString::to_string).collect()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.permitted.is_empty() && self.excluded.is_empty()
    }

    /// The constraints of the CA certificate `der` (none when it has no nameConstraints extension). A kind of
    /// subtree certkit does not check (a directory name, a URI) is an error: signing under it unchecked could
    /// make a certificate every verifier rejects.
    pub fn of_cert(der: &[u8]) -> Result<Self> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| Error::BadInput(format!("the CA certificate cannot be read ({e})")))?;
        let mut constraints = NameConstraints::default();
        for ext in cert.extensions() {
            let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() else {
                continue;
            };
            let read = |trees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
                trees
                    .iter()
                    .flatten()
                    .map(|t| match &t.base {
                        GeneralName::DNSName(name) => Ok(Subtree::Dns(name.to_ascii_lowercase())),
                        GeneralName::RFC822Name(name) => Ok(Subtree::Email(name.to_string())),
                        GeneralName::IPAddress(bytes) => ip_subtree(bytes),
                        other => Err(Error::CaUnusable(format!(
                            "the CA certificate constrains names of a kind certkit does not check ({other}); certkit signs nothing under it"
                        ))),
                    })
                    .collect::<Result<Vec<_>>>()
            };
            constraints.permitted.extend(read(&nc.permitted_subtrees)?);
            constraints.excluded.extend(read(&nc.excluded_subtrees)?);
        }
        Ok(constraints)
    }

    /// The extension as rcgen writes it (critical).
    pub fn to_rcgen(&self) -> rcgen::NameConstraints {
        let tree = |t: &Subtree| match t {
            Subtree::Dns(name) => rcgen::GeneralSubtree::DnsName(name.clone()),
            Subtree::Email(name) => rcgen::GeneralSubtree::Rfc822Name(name.clone()),
            Subtree::Ip(net) => rcgen::GeneralSubtree::IpAddress(
                rcgen::CidrSubnet::from_addr_prefix(net.network(), net.prefix_len()),
            ),
        };
        rcgen::NameConstraints {
            permitted_subtrees: self.permitted.iter().map(tree).collect(),
            excluded_subtrees: self.excluded.iter().map(tree).collect(),
        }
    }

    /// Checks one name: in a permitted subtree of its kind (when there is any) and in no excluded one. The
    /// error names the name and the constraint it breaks.
    pub fn check(&self, name: &San) -> Result<()> {
        match self.violation(name) {
            Some(why) => Err(Error::BadInput(format!(
                "{why}; certkit signs no certificate a verifier would reject"
            ))),
            None => Ok(()),
        }
    }

    /// How `name` breaks the constraints (`NAME is excluded by ...`, `NAME is outside ...`), if it does.
    pub fn violation(&self, name: &San) -> Option<String> {
        if let Some(tree) = self.excluded.iter().find(|t| t.touches(name)) {
            return Some(format!(
                "{name} is excluded by the CA's name constraint {tree}"
            ));
        }
        let permitted: Vec<&Subtree> = self
            .permitted
            .iter()
            .filter(|t| t.same_kind(name))
            .collect();
        if !permitted.is_empty() && !permitted.iter().any(|t| t.holds(name)) {
            let list: Vec<String> = permitted.iter().map(ToString::to_string).collect();
            return Some(format!(
                "{name} is outside the CA's name constraints (it permits {})",
                list.join(", ")
            ));
        }
        None
    }

    /// Every way a certificate's names (its SANs, and a CN that looks like a DNS name) break the constraints.
    pub fn violations(&self, cn: Option<&str>, sans: &[San]) -> Vec<String> {
        let mut names: Vec<San> = sans.to_vec();
        if let Some(cn) = cn.filter(|cn| looks_like_dns(cn)) {
            names.push(San::Dns(cn.to_string()));
        }
        names.iter().filter_map(|n| self.violation(n)).collect()
    }

    /// Checks the names a certificate is to have: its subject alternative names, and its common name when that
    /// looks like a DNS name (verifiers check such a CN as one).
    pub fn check_names(&self, cn: Option<&str>, sans: &[San]) -> Result<()> {
        for san in sans {
            self.check(san)?;
        }
        match cn {
            Some(cn) if looks_like_dns(cn) => self.check(&San::Dns(cn.to_string())),
            _ => Ok(()),
        }
    }

    /// Checks the names of certificate parameters about to be signed (see [`NameConstraints::check_names`]).
    pub fn check_params(&self, params: &rcgen::CertificateParams) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let sans: Vec<San> = params
            .subject_alt_names
            .iter()
            .filter_map(|san| match san {
                rcgen::SanType::DnsName(name) => Some(San::Dns(name.as_str().to_string())),
                rcgen::SanType::Rfc822Name(addr) => Some(San::Email(addr.as_str().to_string())),
                rcgen::SanType::IpAddress(ip) => Some(San::Ip(*ip)),
                _ => None,
            })
            .collect();
        let cn = params
            .distinguished_name
            .get(&rcgen::DnType::CommonName)
            .and_then(|value| match value {
                rcgen::DnValue::Utf8String(s) => Some(s.clone()),
                rcgen::DnValue::PrintableString(s) => Some(s.as_str().to_string()),
                _ => None,
            });
        self.check_names(cn.as_deref(), &sans)
    }
}

/// A subtree from the bytes of an iPAddress constraint: an address and a mask of the same length.
fn ip_subtree(bytes: &[u8]) -> Result<Subtree> {
    let damaged = || Error::CaUnusable("the CA certificate's IP name constraint is damaged".into());
    let (addr, mask): (IpAddr, &[u8]) = match bytes.len() {
        8 => {
            let a: [u8; 4] = bytes[..4].try_into().map_err(|_| damaged())?;
            (IpAddr::from(a), &bytes[4..])
        }
        32 => {
            let a: [u8; 16] = bytes[..16].try_into().map_err(|_| damaged())?;
            (IpAddr::from(a), &bytes[16..])
        }
        _ => return Err(damaged()),
    };
    let prefix: u32 = mask.iter().map(|b| b.leading_ones()).sum();
    let contiguous = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1 == 1))
        .skip_while(|bit| *bit)
        .all(|bit| !bit);
    if !contiguous {
        return Err(damaged());
    }
    let net =
        IpNet::new(addr, u8::try_from(prefix).map_err(|_| damaged())?).map_err(|_| damaged())?;
    Ok(Subtree::Ip(net.trunc()))
}

/// Whether a common name is a DNS name as a verifier that checks a CN against DNS constraints sees it.
/// OpenSSL's rule (`cn2dnsid` in crypto/x509/v3_ncons.c): letters, digits and `_`, with `-` and `.` inside
/// only, no `.` next to another `.` or after a `-`, and at least two labels, so `a_b.example.com` and
/// `123.456` are DNS names to it. A wildcard CN (`*.example.com`) is checked as its set of names.
fn looks_like_dns(cn: &str) -> bool {
    let name = cn.strip_prefix("*.").unwrap_or(cn).as_bytes();
    let mut labels = 1;
    for (i, &c) in name.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == b'_' {
            continue;
        }
        let inside = i > 0 && i + 1 < name.len();
        match c {
            b'-' if inside => {}
            b'.' if inside && name[i + 1] != b'.' && name[i - 1] != b'-' && name[i - 1] != b'.' => {
                labels += 1;
            }
            _ => return false,
        }
    }
    labels >= 2
}

#[cfg(test)]
mod tests;
