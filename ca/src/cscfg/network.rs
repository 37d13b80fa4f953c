//! The `<NetworkConfiguration>` of a .cscfg: IP access controls (`<AccessControl>` with ordered `<Rule>`s)
//! and the endpoints they guard (`<EndpointAcl>`), read for checks and edited in place (docs/cscfg-network.md).
//!
//! Edits are made one element at a time, each on a fresh parse: a new element takes the indentation and line
//! ending of its siblings (or its parent's plus the file's indentation step) and goes right after the sibling
//! it follows, so nothing outside the changed region moves. Removing an element takes the whitespace before it,
//! so removing what certkit added returns the file to its earlier bytes.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use ipnet::IpNet;
use roxmltree::{Document, Node};

use super::{Change, Cscfg, escape, is_element, value_range};
use crate::error::Result;

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

/// The containers of the network configuration, outermost first.
const CONTAINERS: [&str; 3] = ["NetworkConfiguration", "AccessControls", "EndpointAcls"];

/// Where a new element goes inside its parent.
enum Place {
    /// Right after the parent's start tag.
    First,
    /// After the last element child, or first if there is none.
    Last,
    /// After the last child of this name, or first if there is none.
    After(&'static str),
}

/// A new element: lines with their depth below the element.
struct Fragment(Vec<(usize, String)>);

impl Fragment {
    fn render(&self, indent: &str, unit: &str, eol: &str) -> String {
        self.0
            .iter()
            .map(|(depth, line)| format!("{indent}{}{line}", unit.repeat(*depth)))
            .collect::<Vec<_>>()
            .join(eol)
    }
}

fn element<'a, 'input>(parent: Node<'a, 'input>, local: &str) -> Option<Node<'a, 'input>> {
    parent.children().find(|n| is_element(n, local))
}

/// The line ending the file uses.
fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The spaces and tabs between the start of the line and `pos`, if nothing else is there.
fn indent_at(text: &str, pos: usize) -> Option<&str> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..pos];
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(indent)
}

/// The file's indentation step near `node`: how much further `node` (or the nearest ancestor that shows it)
/// is indented than its parent; else the first such step in the file; else two spaces.
fn indent_unit(doc: &Document, text: &str, node: Node) -> String {
    let step = |n: Node| {
        let parent = n.parent_element()?;
        let outer = indent_at(text, parent.range().start)?;
        let inner = indent_at(text, n.range().start)?;
        inner
            .strip_prefix(outer)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    node.ancestors()
        .filter(|n| n.is_element())
        .find_map(step)
        .or_else(|| doc.descendants().filter(|n| n.is_element()).find_map(step))
        .unwrap_or_else(|| "  ".into())
}

/// The end of an element's start tag (after its `>`), skipping quoted attribute values.
fn start_tag_end(text: &str, node: Node) -> usize {
    let mut quote = None;
    for (i, c) in text[node.range()].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return node.range().start + i + 1,
            _ => {}
        }
    }
    node.range().end
}

fn is_self_closing(text: &str, node: Node) -> bool {
    text[..start_tag_end(text, node)].ends_with("/>")
}

/// True for a text node of nothing but whitespace.
fn is_blank(node: &Node) -> bool {
    node.is_text() && node.text().is_some_and(|t| t.trim().is_empty())
}

/// The range that removing `node` deletes: the element and the whitespace before it.
fn removal_range(text: &str, node: Node) -> Range<usize> {
    let start = node.range().start;
    let ws = text[..start]
        .trim_end_matches([' ', '\t', '\r', '\n'])
        .len();
    ws..node.range().end
}

/// The prefix the root element's name carries (`sc:`), which new elements must carry too.
fn prefix(text: &str, doc: &Document) -> String {
    let start = doc.root_element().range().start + 1;
    let name: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    match name.split_once(':') {
        Some((p, _)) => format!("{p}:"),
        None => String::new(),
    }
}

/// Which element an edit step works on.
#[derive(Clone, Copy)]
enum Target<'s> {
    Root,
    Container(&'static str),
    AccessControl(&'s str),
    EndpointAcl(&'s str, &'s str),
}

fn find<'a, 'input>(doc: &'a Document<'input>, target: Target) -> Option<Node<'a, 'input>> {
    let root = doc.root_element();
    let network = || element(root, "NetworkConfiguration");
    match target {
        Target::Root => Some(root),
        Target::Container("NetworkConfiguration") => network(),
        Target::Container(name) => element(network()?, name),
        Target::AccessControl(name) => element(network()?, "AccessControls")?
            .children()
            .find(|n| is_element(n, "AccessControl") && n.attribute("name") == Some(name)),
        Target::EndpointAcl(role, endpoint) => {
            element(network()?, "EndpointAcls")?.children().find(|n| {
                is_element(n, "EndpointAcl")
                    && n.attribute("role") == Some(role)
                    && n.attribute("endPoint") == Some(endpoint)
            })
        }
    }
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

    /// Guards a role's endpoint with an access control holding exactly `rules` (in order): the access control
    /// is created or its rules replaced, and the endpoint bound to it. Rules already equal are left as written.
    /// On an error nothing has changed.
    pub fn restrict_endpoint(&mut self, binding: &Binding, rules: &[Rule]) -> Result<()> {
        self.all_or_nothing(|c| c.restrict(binding, rules))
    }

    /// Opens a role's endpoint to every address again: bound to `AllowAll` where the file defines it, else
    /// unbound (an endpoint without an access control is open). The access control it was bound to is removed
    /// when nothing else uses it and certkit wrote it as it stands; containers left empty go with it. On an
    /// error nothing has changed.
    pub fn open_endpoint(&mut self, binding: &Binding) -> Result<()> {
        self.all_or_nothing(|c| c.open(binding))
    }

    /// Runs a multi-step edit; on an error, puts the text and the list of changes back as they were.
    fn all_or_nothing(&mut self, edit: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let (text, changes) = (self.text.clone(), self.changes.len());
        let result = edit(self);
        if result.is_err() {
            self.text = text;
            self.changes.truncate(changes);
        }
        result
    }

    fn restrict(&mut self, binding: &Binding, rules: &[Rule]) -> Result<()> {
        self.require_role(&binding.role)?;
        self.refuse_plain_http(binding)?;
        let name = binding.access_control.as_str();
        let what = format!("AccessControl \"{name}\"");
        match self.network()?.access_control(name) {
            Some(control) if control.applied_rules().as_deref() == Some(rules) => {}
            Some(control) => {
                self.replace_rules(name, rules)?;
                self.note(&binding.role, &what, control.text(), rules_text(rules));
            }
            None => {
                self.ensure_container("AccessControls")?;
                let fragment = access_control_fragment(&self.prefix()?, name, rules);
                self.insert(Target::Container("AccessControls"), Place::Last, &fragment)?;
                self.note(&binding.role, &what, "(none)", rules_text(rules));
            }
        }
        self.bind(binding, name)
    }

    fn open(&mut self, binding: &Binding) -> Result<()> {
        self.require_role(&binding.role)?;
        self.refuse_plain_http(binding)?;
        let network = self.network()?;
        let what = format!("EndpointAcl {}", binding.endpoint);
        if let Some(acl) = network.endpoint_acl(&binding.role, &binding.endpoint)
            && acl.access_control != ALLOW_ALL
        {
            if network.access_control(ALLOW_ALL).is_some() {
                self.bind(binding, ALLOW_ALL)?;
            } else {
                let old = acl.access_control.clone();
                self.remove(Target::EndpointAcl(&binding.role, &binding.endpoint))?;
                self.note(&binding.role, &what, old, "(none: open to all)");
            }
        }
        let network = self.network()?;
        let name = binding.access_control.as_str();
        if let Some(control) = network.access_control(name)
            && !network
                .endpoint_acls
                .iter()
                .any(|e| e.access_control == name)
            && control.is_certkits()
        {
            let old = control.text();
            self.remove(Target::AccessControl(name))?;
            self.note(
                &binding.role,
                &format!("AccessControl \"{name}\""),
                old,
                "(removed)",
            );
        }
        Ok(())
    }

    /// Refuses an edit that could change what plain HTTP lets in: the endpoint is the plain HTTP one, or the
    /// access control to be rewritten guards it (in any role).
    fn refuse_plain_http(&self, binding: &Binding) -> Result<()> {
        if is_http_endpoint(&binding.endpoint) {
            return Err(self.error(format!(
                "{HTTP_ENDPOINT} is the plain HTTP endpoint; certkit never changes what plain HTTP lets in: guard the HTTPS endpoint (--endpoint HttpsIn)"
            )));
        }
        let name = binding.access_control.as_str();
        if let Some(http) = self
            .network()?
            .endpoint_acls
            .iter()
            .find(|e| is_http_endpoint(&e.endpoint) && e.access_control == name)
        {
            return Err(self.error(format!(
                "access control \"{name}\" guards the plain HTTP endpoint {HTTP_ENDPOINT} of role \"{}\"; certkit never changes what plain HTTP lets in: choose another --acl-name",
                http.role
            )));
        }
        Ok(())
    }

    fn note(&mut self, role: &str, what: &str, old: impl Into<String>, new: impl Into<String>) {
        self.changes.push(Change {
            role: role.into(),
            what: what.into(),
            old: old.into(),
            new: new.into(),
        });
    }

    fn require_role(&self, role: &str) -> Result<()> {
        let roles = self.roles()?;
        if roles.iter().any(|r| r.role == role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.role.as_str()).collect();
        Err(self.error(format!(
            "has no role \"{role}\" (its roles: {}); give the web role with --role",
            names.join(", ")
        )))
    }

    /// Binds the endpoint to `name`, adding the `<EndpointAcl>` if there is none.
    fn bind(&mut self, binding: &Binding, name: &str) -> Result<()> {
        let what = format!("EndpointAcl {}", binding.endpoint);
        let target = Target::EndpointAcl(&binding.role, &binding.endpoint);
        let splice = {
            let doc = self.parse()?;
            match find(&doc, target) {
                None => None,
                Some(node) => {
                    let attribute = node
                        .attributes()
                        .find(|a| a.name() == "accessControl" && a.namespace().is_none());
                    match attribute {
                        Some(a) if a.value() == name => return Ok(()),
                        Some(a) => {
                            let range = value_range(&self.text, a.range()).ok_or_else(|| {
                                self.error("an attribute's quotes cannot be found")
                            })?;
                            Some((range, a.value().to_string()))
                        }
                        None => {
                            return Err(self.error(format!(
                                "<EndpointAcl> of {} in role \"{}\" has no accessControl attribute; add accessControl=\"\" to it",
                                binding.endpoint, binding.role
                            )));
                        }
                    }
                }
            }
        };
        match splice {
            Some((range, old)) => {
                self.text.replace_range(range, &escape(name));
                self.note(&binding.role, &what, old, name);
            }
            None => {
                self.ensure_container("EndpointAcls")?;
                let line = format!(
                    "<{}EndpointAcl role=\"{}\" endPoint=\"{}\" accessControl=\"{}\" />",
                    self.prefix()?,
                    escape(&binding.role),
                    escape(&binding.endpoint),
                    escape(name)
                );
                self.insert(
                    Target::Container("EndpointAcls"),
                    Place::Last,
                    &Fragment(vec![(0, line)]),
                )?;
                self.note(&binding.role, &what, "(none)", name);
            }
        }
        Ok(())
    }

    /// Creates a container of the network configuration (and the ones it sits in) if it is missing.
    fn ensure_container(&mut self, name: &'static str) -> Result<()> {
        if find(&self.parse()?, Target::Container(name)).is_some() {
            return Ok(());
        }
        let (parent, place) = match name {
            "NetworkConfiguration" => (Target::Root, Place::After("Role")),
            "AccessControls" => (Target::Container("NetworkConfiguration"), Place::First),
            _ => (
                Target::Container("NetworkConfiguration"),
                Place::After("AccessControls"),
            ),
        };
        if name != "NetworkConfiguration" {
            self.ensure_container("NetworkConfiguration")?;
        }
        let p = self.prefix()?;
        let fragment = Fragment(vec![
            (0, format!("<{p}{name}>")),
            (0, format!("</{p}{name}>")),
        ]);
        self.insert(parent, place, &fragment)
    }

    /// Inserts a new element into `parent`, laid out like its siblings.
    fn insert(&mut self, parent: Target, place: Place, fragment: &Fragment) -> Result<()> {
        self.expand(parent)?;
        let (at, text) = {
            let doc = self.parse()?;
            let node = find(&doc, parent)
                .ok_or_else(|| self.error("an element certkit just added cannot be found"))?;
            let eol = eol(&self.text);
            let unit = indent_unit(&doc, &self.text, node);
            let children: Vec<Node> = node.children().filter(|n| n.is_element()).collect();
            let indent = match children.last() {
                Some(child) => indent_at(&self.text, child.range().start)
                    .unwrap_or_default()
                    .to_string(),
                None => format!(
                    "{}{unit}",
                    indent_at(&self.text, node.range().start).unwrap_or_default()
                ),
            };
            let after = match place {
                Place::First => None,
                Place::Last => children.last(),
                Place::After(name) => children.iter().rfind(|c| is_element(c, name)),
            };
            let body = fragment.render(&indent, &unit, eol);
            match after {
                Some(sibling) => (sibling.range().end, format!("{eol}{body}")),
                None => {
                    let open = start_tag_end(&self.text, node);
                    let close = self.text[node.range()]
                        .rfind("</")
                        .map_or(open, |i| node.range().start + i);
                    let mut text = format!("{eol}{body}");
                    if children.is_empty() && !self.text[open..close].contains('\n') {
                        text.push_str(eol);
                        text.push_str(
                            indent_at(&self.text, node.range().start).unwrap_or_default(),
                        );
                    }
                    (open, text)
                }
            }
        };
        self.text.insert_str(at, &text);
        Ok(())
    }

    /// Turns a self-closing `<X ... />` into `<X ...>` and `</X>` on a line of its own.
    fn expand(&mut self, target: Target) -> Result<()> {
        let splice = {
            let doc = self.parse()?;
            match find(&doc, target) {
                Some(node) if is_self_closing(&self.text, node) => {
                    let range = node.range();
                    let open = self.text[range.clone()]
                        .trim_end_matches("/>")
                        .trim_end()
                        .to_string();
                    let name: String = open[1..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let indent = indent_at(&self.text, range.start).unwrap_or_default();
                    Some((
                        range,
                        format!("{open}>{}{indent}</{name}>", eol(&self.text)),
                    ))
                }
                _ => None,
            }
        };
        if let Some((range, text)) = splice {
            self.text.replace_range(range, &text);
        }
        Ok(())
    }

    /// Removes an element with the whitespace before it, and each container this leaves empty.
    fn remove(&mut self, target: Target) -> Result<()> {
        let range = {
            let doc = self.parse()?;
            let Some(mut node) = find(&doc, target) else {
                return Ok(());
            };
            while let Some(parent) = node.parent_element().filter(|p| {
                CONTAINERS.iter().any(|c| is_element(p, c))
                    && p.children().all(|c| c == node || is_blank(&c))
            }) {
                node = parent;
            }
            removal_range(&self.text, node)
        };
        self.text.replace_range(range, "");
        Ok(())
    }

    /// Replaces every `<Rule>` of an access control by `rules`, where the first rule was and indented like it.
    fn replace_rules(&mut self, name: &str, rules: &[Rule]) -> Result<()> {
        let target = Target::AccessControl(name);
        let prefix = self.prefix()?;
        let fragment = Fragment(rules_lines(&prefix, rules, 0));
        let (removals, first) = {
            let doc = self.parse()?;
            let node = find(&doc, target)
                .ok_or_else(|| self.error(format!("access control \"{name}\" cannot be found")))?;
            let old: Vec<Node> = node.children().filter(|n| is_element(n, "Rule")).collect();
            let first = old.first().map(|r| {
                let indent = indent_at(&self.text, r.range().start).unwrap_or_default();
                let at = removal_range(&self.text, *r).start;
                let body =
                    fragment.render(indent, &indent_unit(&doc, &self.text, *r), eol(&self.text));
                (at, format!("{}{body}", eol(&self.text)))
            });
            let removals: Vec<Range<usize>> =
                old.iter().map(|r| removal_range(&self.text, *r)).collect();
            (removals, first)
        };
        for range in removals.into_iter().rev() {
            self.text.replace_range(range, "");
        }
        match first {
            Some((at, text)) => {
                self.text.insert_str(at, &text);
                Ok(())
            }
            None => self.insert(target, Place::First, &fragment),
        }
    }

    /// The prefix new elements carry: the root element's (`sc:`), usually none.
    fn prefix(&self) -> Result<String> {
        let doc = self.parse()?;
        Ok(prefix(&self.text, &doc))
    }
}

/// The lines of `rules`, numbered from 1, at `depth`.
fn rules_lines(prefix: &str, rules: &[Rule], depth: usize) -> Vec<(usize, String)> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            (
                depth,
                format!(
                    "<{prefix}Rule action=\"{}\" description=\"{}\" order=\"{}\" remoteSubnet=\"{}\" />",
                    rule.action.as_str(),
                    escape(&rule.description()),
                    i + 1,
                    rule.subnet
                ),
            )
        })
        .collect()
}

fn access_control_fragment(prefix: &str, name: &str, rules: &[Rule]) -> Fragment {
    let mut lines = vec![(
        0,
        format!("<{prefix}AccessControl name=\"{}\">", escape(name)),
    )];
    lines.extend(rules_lines(prefix, rules, 1));
    lines.push((0, format!("</{prefix}AccessControl>")));
    Fragment(lines)
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
