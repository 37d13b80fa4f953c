//! The edits of the network configuration: an endpoint restricted to an access control of given rules, or
//! opened again; all or nothing, and never the plain HTTP endpoint.

use std::ops::Range;

use roxmltree::Node;

use super::layout::{Fragment, Place, Target, eol, find, indent_at, indent_unit, removal_range};
use super::{ALLOW_ALL, Binding, HTTP_ENDPOINT, Rule, is_http_endpoint, rules_text};
use crate::cscfg::{Change, Cscfg, escape, is_element, value_range};
use crate::error::Result;

impl Cscfg {
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
