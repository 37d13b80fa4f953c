//! The `<identities>` of an API Management policy's `validate-client-certificate`, edited in place as
//! `cscfg` edits a `.cscfg`: the file's bytes are kept except the identity lines certkit adds or removes; the
//! previous file is kept as `FILE.bak`; a diff shows the change first.
//!
//! certkit manages the identities that are this CA's (a thumbprint it issued, or an issuer subject that is
//! one of its names); any other identity stays where it is.

use std::path::{Path, PathBuf};

use certkit_ca::{Error, Result, files};

/// One `<identity>` of the policy, by the attributes certkit reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `thumbprint`, uppercase.
    pub thumbprint: Option<String>,
    /// `subject`.
    pub subject: Option<String>,
    /// `issuer-subject`.
    pub issuer_subject: Option<String>,
}

impl Identity {
    /// An identity by thumbprint.
    pub fn by_thumbprint(thumbprint: &str) -> Identity {
        Identity {
            thumbprint: Some(thumbprint.to_ascii_uppercase()),
            subject: None,
            issuer_subject: None,
        }
    }

    /// An identity by subject and issuer subject.
    pub fn by_subject(subject: &str, issuer: &str) -> Identity {
        Identity {
            thumbprint: None,
            subject: Some(subject.into()),
            issuer_subject: Some(issuer.into()),
        }
    }

    fn element(&self) -> String {
        let mut out = String::from("<identity");
        for (name, value) in [
            ("thumbprint", &self.thumbprint),
            ("subject", &self.subject),
            ("issuer-subject", &self.issuer_subject),
        ] {
            if let Some(value) = value {
                out.push_str(&format!(" {name}=\"{}\"", escape(value)));
            }
        }
        out.push_str(" />");
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What an edit changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdentityChange {
    /// Identities added.
    pub added: usize,
    /// Identities removed.
    pub removed: usize,
}

/// A policy file being edited.
#[derive(Debug)]
pub struct Policy {
    path: PathBuf,
    target: PathBuf,
    original: String,
    text: String,
}

const ELEMENT: &str = "validate-client-certificate";

impl Policy {
    /// Reads a policy file: well-formed XML with one `validate-client-certificate` element.
    pub fn load(path: &Path) -> Result<Policy> {
        let target = if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            std::fs::canonicalize(path).map_err(|e| Error::io("follow the link", path, e))?
        } else {
            path.to_path_buf()
        };
        let bytes = files::read(&target)?;
        Policy::from_bytes(path, &target, bytes)
    }

    /// Reads a policy's contents (as [`Policy::load`] does); `path` names it and is where it is saved.
    pub fn from_bytes(path: &Path, target: &Path, bytes: Vec<u8>) -> Result<Policy> {
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::malformed(path, "not UTF-8 text; save the policy as UTF-8"))?;
        let policy = Policy {
            path: path.into(),
            target: target.into(),
            original: text.clone(),
            text,
        };
        policy.with_element(|_, _| Ok(()))?;
        Ok(policy)
    }

    /// The file's text with the edits made so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn error(&self, what: impl std::fmt::Display) -> Error {
        Error::malformed(&self.path, what.to_string())
    }

    /// Runs `f` on the parsed text and its one `validate-client-certificate` element.
    fn with_element<T>(
        &self,
        f: impl FnOnce(&str, roxmltree::Node<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let doc = roxmltree::Document::parse(&self.text).map_err(|e| {
            self.error(format!(
                "not well-formed XML ({e}); an APIM policy expression with a raw < or & must be escaped (&lt; &amp;)"
            ))
        })?;
        let found: Vec<roxmltree::Node<'_, '_>> = doc
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == ELEMENT)
            .collect();
        match found.as_slice() {
            [one] => f(&self.text, *one),
            [] => Err(self.error(format!(
                "holds no <{ELEMENT}> element; add the policy to the inbound section (<{ELEMENT} validate-revocation=\"true\" validate-trust=\"true\"><identities /></{ELEMENT}>) and run again"
            ))),
            _ => Err(self.error(format!(
                "holds {} <{ELEMENT}> elements; certkit edits a policy with one",
                found.len()
            ))),
        }
    }

    /// The identities listed now.
    pub fn identities(&self) -> Result<Vec<Identity>> {
        self.with_element(|_, element| {
            Ok(identities_of(element)
                .into_iter()
                .map(|(_, identity)| identity)
                .collect())
        })
    }

    /// Makes the identities that `ours` claims exactly `wanted`: ours that are not wanted are removed (their
    /// line with them), wanted ones that are missing are added after the last identity; every other byte
    /// stays.
    pub fn set_identities(
        &mut self,
        wanted: &[Identity],
        ours: impl Fn(&Identity) -> bool,
    ) -> Result<IdentityChange> {
        let (edits, change) = self.with_element(|text, element| {
            let listed = identities_of(element);
            let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
            let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
            let mut change = IdentityChange::default();
            for (range, identity) in &listed {
                if ours(identity) && !wanted.contains(identity) {
                    edits.push((line_of(text, range.clone()), String::new()));
                    change.removed += 1;
                }
            }
            let missing: Vec<&Identity> = wanted
                .iter()
                .filter(|w| !listed.iter().any(|(_, l)| l == *w))
                .collect();
            if missing.is_empty() {
                return Ok((edits, change));
            }
            change.added = missing.len();
            let element_indent = indent_at(text, element.range().start);
            let container = element
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == "identities");
            let step = step_of(text, element, &element_indent);
            match container {
                Some(container) => {
                    let indent = listed.first().map_or_else(
                        || format!("{}{step}", indent_at(text, container.range().start)),
                        |(range, _)| indent_at(text, range.start),
                    );
                    let lines: String = missing
                        .iter()
                        .map(|m| format!("{newline}{indent}{}", m.element()))
                        .collect();
                    let range = container.range();
                    if text[range.clone()].ends_with("/>") {
                        let outer = indent_at(text, range.start);
                        edits.push((
                            range,
                            format!("<identities>{lines}{newline}{outer}</identities>"),
                        ));
                    } else {
                        let at = container
                            .children()
                            .rfind(|n| n.is_element())
                            .map(|n| n.range().end)
                            .or_else(|| container.first_child().map(|n| n.range().start))
                            .or_else(|| text[..range.end].rfind("</"))
                            .unwrap_or(range.end);
                        edits.push((at..at, lines));
                    }
                }
                None => {
                    let range = element.range();
                    if text[range.clone()].ends_with("/>") {
                        return Err(self.error(format!(
                            "its <{ELEMENT}> is empty (<{ELEMENT} ... />); write it as <{ELEMENT} ...><identities /></{ELEMENT}> and run again"
                        )));
                    }
                    let indent = format!("{element_indent}{step}");
                    let lines: String = missing
                        .iter()
                        .map(|m| format!("{newline}{indent}{step}{}", m.element()))
                        .collect();
                    let at = element
                        .first_child()
                        .map(|n| n.range().start)
                        .or_else(|| text[..range.end].rfind("</"))
                        .unwrap_or(range.end);
                    edits.push((
                        at..at,
                        format!("{newline}{indent}<identities>{lines}{newline}{indent}</identities>"),
                    ));
                }
            }
            Ok((edits, change))
        })?;
        let mut edits = edits;
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, with) in edits {
            self.text.replace_range(range, &with);
        }
        // What was written must read back as what was wanted.
        let now = self.identities()?;
        if wanted.iter().any(|w| !now.contains(w)) {
            return Err(Error::Bug("an identity certkit added is not in the policy"));
        }
        Ok(change)
    }

    /// A unified diff between the file on disk and the edited text.
    pub fn diff(&self) -> String {
        let name = self.path.display().to_string();
        similar::TextDiff::from_lines(&self.original, &self.text)
            .unified_diff()
            .context_radius(2)
            .header(&name, &format!("{name} (edited)"))
            .to_string()
    }

    /// Whether the text was changed.
    pub fn changed(&self) -> bool {
        self.text != self.original
    }

    /// Writes the edited file atomically after saving the previous version as `FILE.bak` (for a link: at and
    /// beside its target), with the file's mode. Does nothing when nothing changed. Returns the backup path
    /// if it wrote.
    pub fn save(&self) -> Result<Option<PathBuf>> {
        if !self.changed() {
            return Ok(None);
        }
        certkit_ca::store::guard::check_output(&self.target, &[])?;
        let backup = files::replace_keeping_backup(
            &self.target,
            self.original.as_bytes(),
            self.text.as_bytes(),
            || self.error("changed on disk while certkit was editing it; run the command again"),
        )?;
        Ok(Some(backup))
    }
}

/// The `<identity>` elements under `element`'s `<identities>`, with their byte ranges.
fn identities_of(element: roxmltree::Node<'_, '_>) -> Vec<(std::ops::Range<usize>, Identity)> {
    element
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "identities")
        .flat_map(|c| c.children())
        .filter(|n| n.is_element() && n.tag_name().name() == "identity")
        .map(|n| {
            (
                n.range(),
                Identity {
                    thumbprint: n.attribute("thumbprint").map(str::to_ascii_uppercase),
                    subject: n.attribute("subject").map(str::to_string),
                    issuer_subject: n.attribute("issuer-subject").map(str::to_string),
                },
            )
        })
        .collect()
}

/// The whitespace before `at` on its line (empty when something else is before it).
fn indent_at(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[start..at];
    if before.chars().all(|c| c == ' ' || c == '\t') {
        before.to_string()
    } else {
        String::new()
    }
}

/// One level of indentation: the difference between `element`'s indent and its parent's, else four spaces.
fn step_of(text: &str, element: roxmltree::Node<'_, '_>, indent: &str) -> String {
    let parent = element
        .parent_element()
        .map(|p| indent_at(text, p.range().start))
        .unwrap_or_default();
    match indent.strip_prefix(parent.as_str()) {
        Some(step) if !step.is_empty() => step.to_string(),
        _ => "    ".into(),
    }
}

/// `range` widened to its whole line when nothing else is on it: the indent before it and the line break that
/// ends the line before.
fn line_of(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    if line_start == 0
        || !text[line_start..range.start]
            .chars()
            .all(|c| c == ' ' || c == '\t')
    {
        return range;
    }
    let mut start = line_start - 1;
    if start > 0 && text.as_bytes()[start - 1] == b'\r' {
        start -= 1;
    }
    start..range.end
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "<policies>\n    <inbound>\n        <base />\n        <validate-client-certificate validate-revocation=\"true\" validate-trust=\"true\">\n            <identities>\n                <identity thumbprint=\"AAAA\" />\n                <identity issuer-thumbprint=\"OTHER\" />\n            </identities>\n        </validate-client-certificate>\n    </inbound>\n</policies>\n";

    fn policy(text: &str) -> Policy {
        Policy::from_bytes(Path::new("p.xml"), Path::new("p.xml"), text.into()).expect("edit")
    }

    #[test]
    fn adds_and_removes_only_its_own_lines() {
        let mut p = policy(POLICY);
        let change = p
            .set_identities(&[Identity::by_thumbprint("bbbb")], |i| {
                i.thumbprint.is_some()
            })
            .expect("edit");
        assert_eq!(
            change,
            IdentityChange {
                added: 1,
                removed: 1
            }
        );
        assert_eq!(
            p.text(),
            POLICY.replace(
                "                <identity thumbprint=\"AAAA\" />\n                <identity issuer-thumbprint=\"OTHER\" />\n",
                "                <identity issuer-thumbprint=\"OTHER\" />\n                <identity thumbprint=\"BBBB\" />\n"
            )
        );
        // Again: nothing to do.
        let again = p
            .set_identities(&[Identity::by_thumbprint("BBBB")], |i| {
                i.thumbprint.is_some()
            })
            .expect("edit");
        assert_eq!(again, IdentityChange::default());
    }

    #[test]
    fn fills_an_empty_identities_and_adds_one_where_missing() {
        let text = "<policies>\r\n  <inbound>\r\n    <validate-client-certificate validate-trust=\"true\">\r\n      <identities />\r\n    </validate-client-certificate>\r\n  </inbound>\r\n</policies>";
        let mut p = policy(text);
        p.set_identities(&[Identity::by_subject("CN=A & B", "CN=CA")], |_| true)
            .expect("edit");
        assert_eq!(
            p.text(),
            text.replace(
                "<identities />",
                "<identities>\r\n        <identity subject=\"CN=A &amp; B\" issuer-subject=\"CN=CA\" />\r\n      </identities>"
            )
        );
        let bare = "<policies>\n    <inbound>\n        <validate-client-certificate>\n        </validate-client-certificate>\n    </inbound>\n</policies>\n";
        let mut p = policy(bare);
        p.set_identities(&[Identity::by_thumbprint("CC")], |_| true)
            .expect("edit");
        assert!(p.text().contains("        <validate-client-certificate>\n            <identities>\n                <identity thumbprint=\"CC\" />\n            </identities>\n        </validate-client-certificate>"), "{}", p.text());
    }

    #[test]
    fn refuses_what_it_cannot_edit() {
        for text in [
            "<policies/>",
            "<policies><validate-client-certificate/><validate-client-certificate/></policies>",
            "<policies>@(a < b)</policies>",
        ] {
            assert!(
                Policy::from_bytes(Path::new("p.xml"), Path::new("p.xml"), text.into()).is_err()
            );
        }
    }
}
