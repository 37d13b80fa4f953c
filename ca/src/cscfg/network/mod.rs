//! The `<NetworkConfiguration>` of a .cscfg: IP access controls (`<AccessControl>` with ordered `<Rule>`s)
//! and the endpoints they guard (`<EndpointAcl>`), read for checks and edited in place (docs/cscfg-network.md).
//!
//! Edits are made one element at a time, each on a fresh parse: a new element takes the indentation and line
//! ending of its siblings (or its parent's plus the file's indentation step) and goes right after the sibling
//! it follows, so nothing outside the changed region moves. Removing an element takes the whitespace before it,
//! so removing what certkit added returns the file to its earlier bytes.
use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use roxmltree::Node;

use super::{Cscfg, is_element};
use crate::error::Result;

mod edit;
mod layout;

use layout::element;

/// The access control certkit builds unless told otherwise (the guide's name).
pub const DEFAULT_ACCESS_CONTROL: &str = "Restricted";
/// The endpoint certkit restricts unless told otherwise: the web role's HTTPS endpoint.
pub const DEFAULT_ENDPOINT: &str = "HttpsIn";
/// The role whose endpoint certkit restricts unless told otherwise.
pub const DEFAULT_ROLE: &str = "SplitMergeWeb";
/// The guide's access control that lets every address in.
pub const ALLOW_ALL: &str = "AllowAll";
/// The guide's plain HTTP endpoint, which stays `DenyAll`.
pub const HTTP_ENDPOINT: &str = "HttpIn";

/// Whether `name` is the plain HTTP endpoint: endpoint names are compared without regard to case, as Azure
/// matches them, so `httpin` is `HttpIn`.
pub fn is_http_endpoint(name: &str) -> bool {
    name.eq_ignore_ascii_case(HTTP_ENDPOINT)
}

/// Whether `name` is the guide's HTTPS endpoint (without regard to case, as [`is_http_endpoint`]).
pub fn is_https_endpoint(name: &str) -> bool {
    name.eq_ignore_ascii_case(HTTPS_ENDPOINT)
}
/// The guide's HTTPS endpoint, the one `--allow-subnet` guards by default.
pub const HTTPS_ENDPOINT: &str = "HttpsIn";

/// A CIDR subnet, IPv4 or IPv6, with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet(IpNet);

/// Why a CIDR subnet was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubnetError {
    /// Not of the form ADDRESS/PREFIX.
    Malformed,
    /// A bare address.
    NoPrefix,
    /// Host bits set: the network address it means.
    HostBits(String),
}

impl fmt::Display for SubnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubnetError::Malformed => write!(
                f,
                "not a CIDR subnet; write ADDRESS/PREFIX, e.g. 100.100.0.0/16 or 2001:db8::/32"
            ),
            SubnetError::NoPrefix => {
                write!(
                    f,
                    "no prefix length; add /32 (IPv4) or /128 (IPv6) for one address"
                )
            }
            SubnetError::HostBits(network) => {
                write!(f, "host bits are set; the network is {network}")
            }
        }
    }
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(s: &str) -> std::result::Result<Self, SubnetError> {
        let s = s.trim();
        let net = IpNet::from_str(s).map_err(|_| {
            if s.parse::<std::net::IpAddr>().is_ok() {
                SubnetError::NoPrefix
            } else {
                SubnetError::Malformed
            }
        })?;
        if net.trunc() != net {
            return Err(SubnetError::HostBits(net.trunc().to_string()));
        }
        Ok(Subnet(net))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Subnet {
    /// Every IPv4 address (`0.0.0.0/0`).
    pub fn all_ipv4() -> Self {
        Subnet(IpNet::V4(ipnet::Ipv4Net::default()))
    }

    /// Every IPv6 address (`::/0`).
    pub fn all_ipv6() -> Self {
        Subnet(IpNet::V6(ipnet::Ipv6Net::default()))
    }

    /// True for `0.0.0.0/0` and `::/0`.
    pub fn is_all(&self) -> bool {
        self.0.prefix_len() == 0
    }

    /// True for an IPv6 subnet.
    pub fn is_ipv6(&self) -> bool {
        matches!(self.0, IpNet::V6(_))
    }

    /// True if every address of `other` is in this subnet (equal subnets contain each other).
    pub fn contains(&self, other: &Subnet) -> bool {
        self.0.contains(&other.0)
    }
}

/// What a rule does with an address it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let it in (`action="permit"`).
    Permit,
    /// Keep it out (`action="deny"`).
    Deny,
}

impl Action {
    /// As written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        }
    }

    /// Reads `permit` or `deny` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("permit") {
            Some(Action::Permit)
        } else if s.eq_ignore_ascii_case("deny") {
            Some(Action::Deny)
        } else {
            None
        }
    }
}

/// One rule of an access control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Permit or deny.
    pub action: Action,
    /// The addresses it matches.
    pub subnet: Subnet,
}

impl Rule {
    /// The description certkit writes for it.
    pub fn description(&self) -> String {
        let verb = match self.action {
            Action::Permit => "allow",
            Action::Deny => "deny",
        };
        if self.subnet.is_all() {
            format!("{verb} everything else")
        } else {
            format!("{verb} {}", self.subnet)
        }
    }

    /// The rules of an access control that lets in `allow` except `deny`: the deny rules first, then the permit
    /// rules, each in the order given, then a rule for everything else (deny when anything is allowed, permit
    /// when only subnets are denied); IPv6 gets its own closing rule when an IPv6 subnet is named.
    pub fn list(allow: &[Subnet], deny: &[Subnet]) -> Vec<Rule> {
        let mut rules: Vec<Rule> = deny
            .iter()
            .map(|s| Rule {
                action: Action::Deny,
                subnet: *s,
            })
            .chain(allow.iter().map(|s| Rule {
                action: Action::Permit,
                subnet: *s,
            }))
            .collect();
        let action = if allow.is_empty() {
            Action::Permit
        } else {
            Action::Deny
        };
        rules.push(Rule {
            action,
            subnet: Subnet::all_ipv4(),
        });
        if allow.iter().chain(deny).any(Subnet::is_ipv6) {
            rules.push(Rule {
                action,
                subnet: Subnet::all_ipv6(),
            });
        }
        rules
    }
}

/// Rules in one line: `permit 100.100.0.0/16, deny 0.0.0.0/0`.
pub fn rules_text(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| format!("{} {}", r.action.as_str(), r.subnet))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `<Rule>` as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenRule {
    /// `action`.
    pub action: String,
    /// `order`.
    pub order: String,
    /// `description`.
    pub description: Option<String>,
    /// `remoteSubnet`.
    pub remote_subnet: String,
}

impl WrittenRule {
    /// The rule it means, if its action and subnet are valid.
    pub fn rule(&self) -> Option<Rule> {
        Some(Rule {
            action: Action::parse(&self.action)?,
            subnet: self.remote_subnet.parse().ok()?,
        })
    }

    /// Its order as a number, if it is one.
    pub fn order_number(&self) -> Option<u32> {
        self.order.trim().parse().ok()
    }
}

/// An `<AccessControl>` as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessControl {
    /// `name`.
    pub name: String,
    /// Its rules, in file order.
    pub rules: Vec<WrittenRule>,
}

impl AccessControl {
    /// The rules in the order they are applied (ascending `order`), if every rule is valid.
    pub fn applied_rules(&self) -> Option<Vec<Rule>> {
        let mut rules = self
            .rules
            .iter()
            .map(|r| Some((r.order_number()?, r.rule()?)))
            .collect::<Option<Vec<_>>>()?;
        rules.sort_by_key(|(order, _)| *order);
        Some(rules.into_iter().map(|(_, r)| r).collect())
    }

    /// Its rules in one line, as written.
    pub fn text(&self) -> String {
        if self.rules.is_empty() {
            return "(no rules)".into();
        }
        match self.applied_rules() {
            Some(rules) => rules_text(&rules),
            None => self
                .rules
                .iter()
                .map(|r| format!("{} {}", r.action, r.remote_subnet))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// True if certkit wrote it as it stands: orders 1, 2, ... and certkit's descriptions.
    fn is_certkits(&self) -> bool {
        !self.rules.is_empty()
            && self.rules.iter().enumerate().all(|(i, r)| {
                r.order_number() == Some(i as u32 + 1)
                    && r.rule()
                        .is_some_and(|rule| r.description.as_deref() == Some(&rule.description()))
            })
    }
}

/// An `<EndpointAcl>` as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointAcl {
    /// `role`.
    pub role: String,
    /// `endPoint`.
    pub endpoint: String,
    /// `accessControl`.
    pub access_control: String,
}

/// The file's network configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    /// Every `<AccessControl>`, in file order.
    pub access_controls: Vec<AccessControl>,
    /// Every `<EndpointAcl>`, in file order.
    pub endpoint_acls: Vec<EndpointAcl>,
}

impl Network {
    /// The access control of this name.
    pub fn access_control(&self, name: &str) -> Option<&AccessControl> {
        self.access_controls.iter().find(|a| a.name == name)
    }

    /// The binding of a role's endpoint.
    pub fn endpoint_acl(&self, role: &str, endpoint: &str) -> Option<&EndpointAcl> {
        self.endpoint_acls
            .iter()
            .find(|e| e.role == role && e.endpoint == endpoint)
    }
}

/// Which endpoint to guard, and with which access control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The role (`<Role name>`).
    pub role: String,
    /// The endpoint's name in the service definition, e.g. `HttpsIn`.
    pub endpoint: String,
    /// The access control's name, e.g. `Restricted`.
    pub access_control: String,
}

impl Cscfg {
    /// The network configuration: every access control and endpoint binding (empty without one).
    pub fn network(&self) -> Result<Network> {
        let doc = self.parse()?;
        let mut network = Network::default();
        let Some(config) = element(doc.root_element(), "NetworkConfiguration") else {
            return Ok(network);
        };
        let attr = |n: Node, name: &str| n.attribute(name).unwrap_or_default().to_string();
        if let Some(controls) = element(config, "AccessControls") {
            for control in controls
                .children()
                .filter(|n| is_element(n, "AccessControl"))
            {
                network.access_controls.push(AccessControl {
                    name: attr(control, "name"),
                    rules: control
                        .children()
                        .filter(|n| is_element(n, "Rule"))
                        .map(|r| WrittenRule {
                            action: attr(r, "action"),
                            order: attr(r, "order"),
                            description: r.attribute("description").map(str::to_string),
                            remote_subnet: attr(r, "remoteSubnet"),
                        })
                        .collect(),
                });
            }
        }
        if let Some(acls) = element(config, "EndpointAcls") {
            for acl in acls.children().filter(|n| is_element(n, "EndpointAcl")) {
                network.endpoint_acls.push(EndpointAcl {
                    role: attr(acl, "role"),
                    endpoint: attr(acl, "endPoint"),
                    access_control: attr(acl, "accessControl"),
                });
            }
        }
        Ok(network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE: &str = "<?xml version=\"1.0\"?>\n<ServiceConfiguration serviceName=\"S\" xmlns=\"http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration\">\n    <Role name=\"SplitMergeWeb\">\n        <ConfigurationSettings />\n    </Role>\n</ServiceConfiguration>\n";

    fn cscfg(text: &str) -> Cscfg {
        Cscfg::from_bytes(std::path::Path::new("s.cscfg"), text.as_bytes().to_vec()).expect("load")
    }

    fn subnets(list: &[&str]) -> Vec<Subnet> {
        list.iter().map(|s| s.parse().expect("subnet")).collect()
    }

    fn binding() -> Binding {
        Binding {
            role: DEFAULT_ROLE.into(),
            endpoint: DEFAULT_ENDPOINT.into(),
            access_control: DEFAULT_ACCESS_CONTROL.into(),
        }
    }

    #[test]
    fn subnets_are_validated_and_normalised() {
        assert_eq!(
            "100.100.3.4/16".parse::<Subnet>(),
            Err(SubnetError::HostBits("100.100.0.0/16".into()))
        );
        assert_eq!("10.0.0.1".parse::<Subnet>(), Err(SubnetError::NoPrefix));
        assert_eq!("10.0.0.0/33".parse::<Subnet>(), Err(SubnetError::Malformed));
        assert_eq!(
            "2001:DB8::/32".parse::<Subnet>().expect("v6").to_string(),
            "2001:db8::/32"
        );
        let wide: Subnet = "10.0.0.0/8".parse().expect("v4");
        assert!(wide.contains(&"10.1.0.0/16".parse().expect("v4")));
        assert!(!wide.contains(&"::/0".parse().expect("v6")));
    }

    #[test]
    fn a_whole_block_is_laid_out_like_the_file_and_removed_to_the_original_bytes() {
        let mut c = cscfg(BARE);
        let rules = Rule::list(&subnets(&["100.100.0.0/16", "10.0.0.0/8"]), &[]);
        c.restrict_endpoint(&binding(), &rules).expect("restrict");
        let expected = BARE.replace(
            "    </Role>\n",
            "    </Role>\n    <NetworkConfiguration>\n        <AccessControls>\n            <AccessControl name=\"Restricted\">\n                <Rule action=\"permit\" description=\"allow 100.100.0.0/16\" order=\"1\" remoteSubnet=\"100.100.0.0/16\" />\n                <Rule action=\"permit\" description=\"allow 10.0.0.0/8\" order=\"2\" remoteSubnet=\"10.0.0.0/8\" />\n                <Rule action=\"deny\" description=\"deny everything else\" order=\"3\" remoteSubnet=\"0.0.0.0/0\" />\n            </AccessControl>\n        </AccessControls>\n        <EndpointAcls>\n            <EndpointAcl role=\"SplitMergeWeb\" endPoint=\"HttpsIn\" accessControl=\"Restricted\" />\n        </EndpointAcls>\n    </NetworkConfiguration>\n",
        );
        assert_eq!(c.text(), expected);
        let again = c.text().to_string();
        let mut c = cscfg(&again);
        c.restrict_endpoint(&binding(), &rules).expect("rerun");
        assert_eq!(c.text(), again);
        assert!(c.changes().is_empty());
        c.open_endpoint(&binding()).expect("open");
        assert_eq!(c.text(), BARE);
    }

    #[test]
    fn rules_are_replaced_where_they_were_and_crlf_is_kept() {
        let text = BARE.replace('\n', "\r\n").replace(
            "    </Role>\r\n",
            "    </Role>\r\n    <NetworkConfiguration>\r\n      <AccessControls>\r\n\t<AccessControl name=\"Restricted\">\r\n\t  <!-- office -->\r\n\t  <Rule action=\"permit\" order=\"1\" remoteSubnet=\"1.2.3.0/24\" />\r\n\t</AccessControl>\r\n      </AccessControls>\r\n      <EndpointAcls/>\r\n    </NetworkConfiguration>\r\n",
        );
        let mut c = cscfg(&text);
        c.restrict_endpoint(&binding(), &Rule::list(&subnets(&["2001:db8::/32"]), &[]))
            .expect("restrict");
        let out = c.text();
        assert!(!out.replace("\r\n", "").contains('\n'), "{out}");
        assert!(out.contains("\t  <!-- office -->\r\n\t  <Rule action=\"permit\" description=\"allow 2001:db8::/32\" order=\"1\" remoteSubnet=\"2001:db8::/32\" />\r\n\t  <Rule action=\"deny\" description=\"deny everything else\" order=\"2\" remoteSubnet=\"0.0.0.0/0\" />\r\n\t  <Rule action=\"deny\" description=\"deny everything else\" order=\"3\" remoteSubnet=\"::/0\" />\r\n\t</AccessControl>"), "{out}");
        assert!(out.contains("      <EndpointAcls>\r\n        <EndpointAcl role=\"SplitMergeWeb\" endPoint=\"HttpsIn\" accessControl=\"Restricted\" />\r\n      </EndpointAcls>\r\n"), "{out}");
        let network = c.network().expect("network");
        assert_eq!(
            network.access_control("Restricted").map(|a| a.rules.len()),
            Some(3)
        );
    }

    #[test]
    fn a_prefixed_file_gets_prefixed_elements() {
        let text = BARE
            .replace("<ServiceConfiguration", "<sc:ServiceConfiguration")
            .replace("</ServiceConfiguration", "</sc:ServiceConfiguration")
            .replace("xmlns=", "xmlns:sc=")
            .replace("<Role", "<sc:Role")
            .replace("</Role", "</sc:Role")
            .replace("<ConfigurationSettings", "<sc:ConfigurationSettings");
        let mut c = cscfg(&text);
        c.restrict_endpoint(&binding(), &Rule::list(&subnets(&["10.0.0.0/8"]), &[]))
            .expect("restrict");
        assert_eq!(c.network().expect("network").endpoint_acls.len(), 1);
        assert!(c.text().contains("<sc:EndpointAcl "));
    }

    #[test]
    fn an_unknown_role_is_refused() {
        let mut c = cscfg(BARE);
        let mut b = binding();
        b.role = "Web".into();
        let err = c
            .restrict_endpoint(&b, &Rule::list(&subnets(&["10.0.0.0/8"]), &[]))
            .expect_err("refused");
        assert!(err.to_string().contains("SplitMergeWeb"), "{err}");
        assert_eq!(c.text(), BARE);
    }

    #[test]
    fn a_refused_edit_changes_nothing() {
        // Found by the cscfg_network fuzz target: the access control was added before the binding, which
        // lacks its accessControl attribute, was refused.
        let text = BARE.replace(
            "    </Role>\n",
            "    </Role>\n    <NetworkConfiguration>\n        <EndpointAcls>\n            <EndpointAcl role=\"SplitMergeWeb\" endPoint=\"HttpsIn\" acces=\"AllowAll\" />\n        </EndpointAcls>\n    </NetworkConfiguration>\n",
        );
        let mut c = cscfg(&text);
        let err = c
            .restrict_endpoint(&binding(), &Rule::list(&subnets(&["10.0.0.0/8"]), &[]))
            .expect_err("refused");
        assert!(
            err.to_string().contains("no accessControl attribute"),
            "{err}"
        );
        assert_eq!(c.text(), text);
        assert!(c.changes().is_empty());
    }
}
