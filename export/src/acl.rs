//! IP access controls: checks of the subnets a user asks for, and of the access controls a .cscfg holds
//! (docs/cscfg-network.md). Rules apply in ascending `order`; the first rule whose subnet holds the address
//! decides, so a rule inside an earlier rule's subnet never applies.

use certkit_ca::cscfg::network::{
    AccessControl, Action, HTTP_ENDPOINT, Network, Rule, Subnet, SubnetError, is_http_endpoint,
    is_https_endpoint,
};
use certkit_ca::{Error, Result};

use crate::check::RoleFinding;
use crate::inspect::Finding;

/// Refuses subnet lists that contradict themselves: a subnet given twice, `0.0.0.0/0` or `::/0`, a deny subnet
/// that covers an allowed one (deny rules come first, so it would never be let in).
pub fn check_request(allow: &[Subnet], deny: &[Subnet]) -> Result<()> {
    let bad = |what: String| Err(Error::BadInput(what));
    for (flag, list) in [("--allow-subnet", allow), ("--deny-subnet", deny)] {
        for (i, s) in list.iter().enumerate() {
            if list[..i].contains(s) {
                return bad(format!("{flag} {s} is given twice; give each subnet once"));
            }
            if s.is_all() && flag == "--allow-subnet" {
                return bad(format!(
                    "--allow-subnet {s} lets every address in; use --allow-all-https for that"
                ));
            }
            if s.is_all() {
                return bad(format!(
                    "--deny-subnet {s} shuts the endpoint to everyone; give narrower subnets"
                ));
            }
        }
    }
    for d in deny {
        if let Some(a) = allow.iter().find(|a| d.contains(a)) {
            return bad(format!(
                "--deny-subnet {d} covers --allow-subnet {a} (deny rules come first), so {a} would never be let in; drop one of them"
            ));
        }
    }
    Ok(())
}

/// Rules that would add nothing: an allowed subnet inside another, a denied subnet outside every allowed one.
pub fn redundant(allow: &[Subnet], deny: &[Subnet]) -> Vec<String> {
    let mut warnings = Vec::new();
    for d in deny {
        if !allow.is_empty() && !allow.iter().any(|a| a.contains(d)) {
            warnings.push(format!(
                "--deny-subnet {d} adds nothing: it lies outside every allowed subnet, and those are denied anyway"
            ));
        }
    }
    for (i, a) in allow.iter().enumerate() {
        if let Some((_, wider)) = allow
            .iter()
            .enumerate()
            .find(|(j, w)| *j != i && w.contains(a))
        {
            warnings.push(format!(
                "--allow-subnet {a} adds nothing: it lies inside --allow-subnet {wider}"
            ));
        }
    }
    warnings
}

/// A rule's subnet as the service reads it: a subnet with host bits set means its network.
fn subnet_of(written: &str) -> std::result::Result<Subnet, SubnetError> {
    match written.parse::<Subnet>() {
        Err(SubnetError::HostBits(network)) => network.parse(),
        other => other,
    }
}

/// Problems of one access control: invalid rules, orders given twice, subnets with host bits, rules that
/// never apply. Returns the findings and the valid rules in the order they apply.
fn access_control_findings(control: &AccessControl) -> (Vec<Finding>, Vec<(u32, Rule)>) {
    let name = &control.name;
    let mut findings = Vec::new();
    let mut rules: Vec<(u32, Rule)> = Vec::new();
    let fix = format!(
        "correct the <Rule> of <AccessControl name=\"{name}\">, or rebuild it with certkit-export cscfg --allow-subnet"
    );
    for rule in &control.rules {
        let Some(order) = rule.order_number() else {
            findings.push(Finding::error(
                "acl-rule-invalid",
                format!(
                    "access control \"{name}\" has a rule whose order '{}' is not a whole number",
                    rule.order
                ),
                fix.clone(),
            ));
            continue;
        };
        let Some(action) = Action::parse(&rule.action) else {
            findings.push(Finding::error(
                "acl-rule-invalid",
                format!(
                    "access control \"{name}\", rule {order}: action '{}' is neither permit nor deny",
                    rule.action
                ),
                fix.clone(),
            ));
            continue;
        };
        let subnet = match subnet_of(&rule.remote_subnet) {
            Ok(subnet) => subnet,
            Err(e) => {
                findings.push(Finding::error(
                    "acl-rule-invalid",
                    format!(
                        "access control \"{name}\", rule {order}: remoteSubnet '{}': {e}",
                        rule.remote_subnet
                    ),
                    fix.clone(),
                ));
                continue;
            }
        };
        if let Err(SubnetError::HostBits(network)) = rule.remote_subnet.parse::<Subnet>() {
            findings.push(Finding::warning(
                "acl-host-bits",
                format!(
                    "access control \"{name}\", rule {order}: remoteSubnet {} has host bits set; it means {network}",
                    rule.remote_subnet
                ),
                format!("write remoteSubnet=\"{network}\""),
            ));
        }
        if rules.iter().any(|(o, _)| *o == order) {
            findings.push(Finding::error(
                "acl-order-duplicate",
                format!("access control \"{name}\" has two rules with order {order}; which applies first is undefined"),
                "give every rule its own order".to_string(),
            ));
            continue;
        }
        rules.push((order, Rule { action, subnet }));
    }
    rules.sort_by_key(|(order, _)| *order);
    for (i, (order, rule)) in rules.iter().enumerate() {
        if let Some((first, earlier)) = rules[..i]
            .iter()
            .find(|(_, e)| e.subnet.contains(&rule.subnet))
        {
            findings.push(Finding::warning(
                "acl-rule-shadowed",
                format!(
                    "access control \"{name}\": rule {order} ({} {}) never applies: rule {first} ({} {}) comes first and covers it",
                    rule.action.as_str(),
                    rule.subnet,
                    earlier.action.as_str(),
                    earlier.subnet
                ),
                "reorder the rules (narrower subnets first) or remove the one that never applies".to_string(),
            ));
        }
    }
    (findings, rules)
}

/// True if an address may get in through these rules (in the order they apply).
fn lets_anyone_in(rules: &[(u32, Rule)]) -> bool {
    rules.iter().enumerate().any(|(i, (_, rule))| {
        rule.action == Action::Permit
            && !rules[..i]
                .iter()
                .any(|(_, e)| e.subnet.contains(&rule.subnet))
    })
}

/// Every problem of the network configuration, under the role whose endpoint it concerns: an endpoint bound
/// to an access control that does not exist or to a role the file lacks, access controls with invalid or
/// shadowed rules, plain HTTP let in, an HTTPS endpoint that lets no one in.
pub fn findings(network: &Network, roles: &[String]) -> Vec<RoleFinding> {
    let mut out = Vec::new();
    let mut reported: Vec<(&str, &str)> = Vec::new();
    for acl in &network.endpoint_acls {
        let mut add = |finding| {
            out.push(RoleFinding {
                role: acl.role.clone(),
                finding,
            })
        };
        if !roles.contains(&acl.role) {
            add(Finding::error(
                "acl-role-missing",
                format!(
                    "an <EndpointAcl> binds endpoint {} of role \"{}\", which the file does not have",
                    acl.endpoint, acl.role
                ),
                "correct its role attribute or remove it".to_string(),
            ));
        }
        let Some(control) = network.access_control(&acl.access_control) else {
            add(Finding::error(
                "acl-missing",
                format!(
                    "endpoint {} is bound to access control \"{}\", which no <AccessControl> defines",
                    acl.endpoint, acl.access_control
                ),
                format!(
                    "define <AccessControl name=\"{}\">, or bind the endpoint anew with certkit-export cscfg --allow-subnet or --allow-all-https",
                    acl.access_control
                ),
            ));
            continue;
        };
        let (found, rules) = access_control_findings(control);
        if !reported.contains(&(acl.role.as_str(), control.name.as_str())) {
            reported.push((&acl.role, &control.name));
            found.into_iter().for_each(&mut add);
        }
        let open = lets_anyone_in(&rules);
        if is_http_endpoint(&acl.endpoint) && open {
            add(Finding::warning(
                "http-allowed",
                format!(
                    "plain HTTP is let in: endpoint {} is bound to \"{}\"; requests to it can carry credentials in clear text",
                    acl.endpoint, control.name
                ),
                format!(
                    "bind {} to an access control that denies everything (the guide's DenyAll)",
                    acl.endpoint
                ),
            ));
        } else if !is_http_endpoint(&acl.endpoint) && !open {
            add(Finding::warning(
                "acl-denies-all",
                format!(
                    "endpoint {} is bound to \"{}\", which lets no address in",
                    acl.endpoint, control.name
                ),
                "add a permit rule before the deny rules, or --allow-all-https".to_string(),
            ));
        }
    }
    out.extend(duplicate_findings(network));
    out.extend(unguarded_http(network, roles));
    out
}

/// Two `<AccessControl>` elements of one name: which one an endpoint gets is up to the platform.
fn duplicate_findings(network: &Network) -> Vec<RoleFinding> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for control in &network.access_controls {
        let name = control.name.as_str();
        let count = network
            .access_controls
            .iter()
            .filter(|c| c.name == name)
            .count();
        if count < 2 || seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let mut roles: Vec<&str> = network
            .endpoint_acls
            .iter()
            .filter(|e| e.access_control == name)
            .map(|e| e.role.as_str())
            .collect();
        roles.dedup();
        for role in roles {
            out.push(RoleFinding {
                role: role.into(),
                finding: Finding::error(
                    "acl-duplicate",
                    format!(
                        "{count} <AccessControl> elements are named \"{name}\": which rules an endpoint bound to it gets is not defined"
                    ),
                    format!("keep one <AccessControl name=\"{name}\"> and rename or remove the others"),
                ),
            });
        }
    }
    out
}

/// A web role (its HTTPS endpoint is guarded) whose plain HTTP endpoint is bound to nothing: an endpoint
/// without an `<EndpointAcl>` is open to everyone.
fn unguarded_http(network: &Network, roles: &[String]) -> Vec<RoleFinding> {
    let mut out = Vec::new();
    for role in roles {
        let bound: Vec<&str> = network
            .endpoint_acls
            .iter()
            .filter(|e| &e.role == role)
            .map(|e| e.endpoint.as_str())
            .collect();
        if bound.iter().any(|e| is_https_endpoint(e)) && !bound.iter().any(|e| is_http_endpoint(e))
        {
            out.push(RoleFinding {
                role: role.clone(),
                finding: Finding::warning(
                    "http-unguarded",
                    format!(
                        "no <EndpointAcl> guards endpoint {HTTP_ENDPOINT}: if the service definition has that plain HTTP endpoint, it is open to everyone"
                    ),
                    format!(
                        "bind {HTTP_ENDPOINT} to an access control that denies everything (the guide's DenyAll)"
                    ),
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use certkit_ca::cscfg::network::{EndpointAcl, WrittenRule};

    fn subnets(list: &[&str]) -> Vec<Subnet> {
        list.iter().map(|s| s.parse().expect("subnet")).collect()
    }

    fn rule(action: &str, order: &str, subnet: &str) -> WrittenRule {
        WrittenRule {
            action: action.into(),
            order: order.into(),
            description: None,
            remote_subnet: subnet.into(),
        }
    }

    #[test]
    fn contradictions_are_errors_and_redundancy_is_a_warning() {
        assert!(check_request(&subnets(&["10.1.0.0/16"]), &subnets(&["10.0.0.0/8"])).is_err());
        assert!(check_request(&subnets(&["0.0.0.0/0"]), &[]).is_err());
        assert!(check_request(&subnets(&["10.0.0.0/8", "10.0.0.0/8"]), &[]).is_err());
        let (allow, deny) = (
            subnets(&["10.0.0.0/8", "10.1.0.0/16"]),
            subnets(&["192.168.0.0/16"]),
        );
        assert!(check_request(&allow, &deny).is_ok());
        assert_eq!(redundant(&allow, &deny).len(), 2);
        let (allow, deny) = (subnets(&["10.0.0.0/8"]), subnets(&["10.9.0.0/16"]));
        assert!(check_request(&allow, &deny).is_ok());
        assert!(redundant(&allow, &deny).is_empty());
    }

    #[test]
    fn a_deny_all_first_shadows_the_rest_and_http_open_is_reported() {
        let network = Network {
            access_controls: vec![
                AccessControl {
                    name: "Restricted".into(),
                    rules: vec![
                        rule("deny", "1", "0.0.0.0/0"),
                        rule("permit", "2", "10.0.0.0/8"),
                    ],
                },
                AccessControl {
                    name: "AllowAll".into(),
                    rules: vec![rule("permit", "1", "0.0.0.0/0")],
                },
            ],
            endpoint_acls: vec![
                EndpointAcl {
                    role: "Web".into(),
                    endpoint: "HttpsIn".into(),
                    access_control: "Restricted".into(),
                },
                EndpointAcl {
                    role: "Web".into(),
                    endpoint: "HttpIn".into(),
                    access_control: "AllowAll".into(),
                },
                EndpointAcl {
                    role: "Web".into(),
                    endpoint: "Admin".into(),
                    access_control: "Nowhere".into(),
                },
            ],
        };
        let codes: Vec<&str> = findings(&network, &["Web".into()])
            .iter()
            .map(|f| f.finding.code)
            .collect();
        assert_eq!(
            codes,
            [
                "acl-rule-shadowed",
                "acl-denies-all",
                "http-allowed",
                "acl-missing"
            ]
        );
    }
}
