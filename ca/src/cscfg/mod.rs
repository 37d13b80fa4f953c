//! Editing a service configuration file (`ServiceConfiguration.cscfg`) in place.
//!
//! The XML is read with a real parser (roxmltree) only to find the byte ranges of the attribute values to
//! change; the new values are spliced into the original text, so comments, whitespace, attribute order,
//! other roles and the XML declaration stay byte for byte. Saving is atomic and keeps `FILE.bak`
//! (docs/cscfg-editing.md).

pub mod network;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;
use crate::profile::names;
use crate::thumbprint::Thumbprint;

/// The .cscfg XML namespace.
pub const NAMESPACE: &str =
    "http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration";

/// One value that changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The role's name.
    pub role: String,
    /// What changed, e.g. `Certificate "SSL" thumbprint`.
    pub what: String,
    /// Old value.
    pub old: String,
    /// New value.
    pub new: String,
}

/// One role's certificate entries and settings, as written (for checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleValues {
    /// The role's name.
    pub role: String,
    /// `<Certificate name thumbprint thumbprintAlgorithm>` entries: name, thumbprint, algorithm.
    pub certificates: Vec<(String, String, Option<String>)>,
    /// `<Setting name value>` entries.
    pub settings: Vec<(String, String)>,
}

impl RoleValues {
    /// A setting's value.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A certificate entry's thumbprint.
    pub fn certificate(&self, name: &str) -> Option<&str> {
        self.certificates
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, _)| t.as_str())
    }
}

/// A .cscfg file being edited.
pub struct Cscfg {
    path: PathBuf,
    /// Where the file really is: `path`, or the target of the link `path` is.
    target: PathBuf,
    original: String,
    text: String,
    changes: Vec<Change>,
}

/// Where an attribute value sits, and what it says.
struct Spot {
    role: String,
    range: std::ops::Range<usize>,
    value: String,
}

/// The byte range of an attribute's value inside its quotes, found from the quote characters of the whole
/// attribute (`name = "value"`): roxmltree's own value range is off when the whitespace around `=` is long.
fn value_range(text: &str, attribute: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
    let source = text.get(attribute.clone())?;
    let quote = source.chars().last().filter(|q| *q == '"' || *q == '\'')?;
    let equals = source.find('=')?;
    let open = equals + 1 + source[equals + 1..].find(quote)?;
    (open < source.len() - 1).then(|| attribute.start + open + 1..attribute.end - 1)
}

/// True for an element of this local name in the .cscfg namespace.
fn is_element(node: &roxmltree::Node, local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && node.tag_name().namespace() == Some(NAMESPACE)
}

fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

impl Cscfg {
    /// Reads and checks a .cscfg: well-formed XML whose root is `ServiceConfiguration` in the .cscfg namespace.
    pub fn load(path: &Path) -> Result<Self> {
        // A link is edited at its target, never replaced by a copy of it.
        let target = if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            std::fs::canonicalize(path).map_err(|e| Error::io("follow the link", path, e))?
        } else {
            path.to_path_buf()
        };
        let bytes = files::read(&target)?;
        let mut cscfg = Self::from_bytes(path, bytes)?;
        cscfg.target = target;
        Ok(cscfg)
    }

    /// Reads and checks a .cscfg's contents (as [`Cscfg::load`] does); `path` names it in errors and is where
    /// [`Cscfg::save`] writes.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let text = String::from_utf8(bytes).map_err(|_| Error::Cscfg {
            path: path.into(),
            what: "not UTF-8 text; save it as UTF-8".into(),
        })?;
        let cscfg = Cscfg {
            path: path.into(),
            target: path.into(),
            original: text.clone(),
            text,
            changes: Vec::new(),
        };
        cscfg.parse()?;
        Ok(cscfg)
    }

    /// The file's text with the changes made so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn error(&self, what: impl Into<String>) -> Error {
        Error::Cscfg {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    fn parse(&self) -> Result<roxmltree::Document<'_>> {
        let doc = roxmltree::Document::parse(&self.text)
            .map_err(|e| self.error(format!("malformed XML ({e}); fix the file and try again")))?;
        let root = doc.root_element();
        if root.tag_name().name() != "ServiceConfiguration"
            || root.tag_name().namespace() != Some(NAMESPACE)
        {
            return Err(self.error(format!(
                "not a service configuration: the root element must be <ServiceConfiguration xmlns=\"{NAMESPACE}\">"
            )));
        }
        Ok(doc)
    }

    /// Attribute `attr` of every `<group><element name="name">` in every role.
    fn spots(&self, group: &str, element: &str, name: &str, attr: &str) -> Result<Vec<Spot>> {
        let doc = self.parse()?;
        let mut spots = Vec::new();
        let is = is_element;
        for role in doc.root_element().children().filter(|n| is(n, "Role")) {
            let role_name = role.attribute("name").unwrap_or("(unnamed)").to_string();
            for holder in role.children().filter(|n| is(n, group)) {
                for node in holder
                    .children()
                    .filter(|n| is(n, element) && n.attribute("name") == Some(name))
                {
                    let found = node
                        .attributes()
                        .find(|a| a.name() == attr && a.namespace().is_none());
                    match found {
                        Some(a) => spots.push(Spot {
                            role: role_name.clone(),
                            range: value_range(&self.text, a.range()).ok_or_else(|| {
                                self.error("an attribute's quotes cannot be found")
                            })?,
                            value: a.value().to_string(),
                        }),
                        None => {
                            return Err(self.error(format!(
                                "<{element} name=\"{name}\"> in role \"{role_name}\" has no {attr} attribute; add {attr}=\"\" to it"
                            )));
                        }
                    }
                }
            }
        }
        Ok(spots)
    }

    /// Sets an attribute at every spot to `new(old)`; returns how many places exist.
    fn rewrite(
        &mut self,
        spots: Vec<Spot>,
        what: &str,
        new: impl Fn(&str) -> Result<String>,
    ) -> Result<usize> {
        let count = spots.len();
        let mut edits = Vec::new();
        for spot in spots {
            let value = new(&spot.value)?;
            if value != spot.value {
                self.changes.push(Change {
                    role: spot.role,
                    what: what.to_string(),
                    old: spot.value,
                    new: value.clone(),
                });
                edits.push((spot.range, escape(&value)));
            }
        }
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, value) in edits {
            self.text.replace_range(range, &value);
        }
        Ok(count)
    }

    /// Sets `<Certificate name="NAME" thumbprint=... thumbprintAlgorithm="sha1">` in every role that has it.
    pub fn set_certificate(&mut self, name: &str, thumbprint: &Thumbprint) -> Result<()> {
        let spots = self.spots("Certificates", "Certificate", name, "thumbprint")?;
        if spots.is_empty() {
            return Err(self.error(format!(
                "no role has <Certificate name=\"{name}\">; add it to the role's <Certificates> section first"
            )));
        }
        let value = thumbprint.to_string();
        self.rewrite(spots, &format!("Certificate \"{name}\" thumbprint"), |_| {
            Ok(value.clone())
        })?;
        let algorithms = self.spots("Certificates", "Certificate", name, "thumbprintAlgorithm")?;
        self.rewrite(
            algorithms,
            &format!("Certificate \"{name}\" thumbprintAlgorithm"),
            |_| Ok("sha1".into()),
        )?;
        Ok(())
    }

    /// The thumbprint of `<Certificate name="NAME">` in the first role that has one.
    pub fn certificate(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .spots("Certificates", "Certificate", name, "thumbprint")?
            .into_iter()
            .map(|s| s.value)
            .next())
    }

    /// Updates `<Setting name="NAME" value=...>` in every role that has it with `new(old)`. With `required`, a
    /// setting that no role has is an error.
    pub fn update_setting(
        &mut self,
        name: &str,
        required: bool,
        new: impl Fn(&str) -> Result<String>,
    ) -> Result<usize> {
        let spots = self.spots("ConfigurationSettings", "Setting", name, "value")?;
        if spots.is_empty() && required {
            return Err(self.error(format!(
                "no role has <Setting name=\"{name}\">; add it to the role's <ConfigurationSettings> first"
            )));
        }
        self.rewrite(spots, &format!("Setting \"{name}\""), new)
    }

    /// Sets a setting to a fixed value (see [`Cscfg::update_setting`]).
    pub fn set_setting(&mut self, name: &str, value: &str, required: bool) -> Result<usize> {
        self.update_setting(name, required, |_| Ok(value.to_string()))
    }

    /// Adds `allow` to and removes `disallow` from `AllowedClientCertificateThumbprints` in every role that has
    /// it. Order is kept; nothing is added twice. Returns the thumbprints in `disallow` that were not listed.
    pub fn edit_allowed_clients(
        &mut self,
        allow: &[Thumbprint],
        disallow: &[Thumbprint],
    ) -> Result<Vec<Thumbprint>> {
        let absent = std::cell::RefCell::new(disallow.to_vec());
        let path = self.path.clone();
        self.update_setting(names::ALLOWED_CLIENTS, true, |old| {
            let mut list = parse_allow_list(old).map_err(|what| Error::Cscfg {
                path: path.clone(),
                what,
            })?;
            let before = list.clone();
            for t in allow {
                if !list.contains(t) {
                    list.push(*t);
                }
            }
            absent.borrow_mut().retain(|t| !list.contains(t));
            list.retain(|t| !disallow.contains(t));
            if list == before {
                return Ok(old.to_string());
            }
            Ok(list
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","))
        })?;
        Ok(absent.into_inner())
    }

    /// Every role's certificate entries and settings, in file order.
    pub fn roles(&self) -> Result<Vec<RoleValues>> {
        let doc = self.parse()?;
        let is = is_element;
        let mut roles = Vec::new();
        for role in doc.root_element().children().filter(|n| is(n, "Role")) {
            let mut values = RoleValues {
                role: role.attribute("name").unwrap_or("(unnamed)").to_string(),
                certificates: Vec::new(),
                settings: Vec::new(),
            };
            for group in role.children() {
                if is(&group, "ConfigurationSettings") {
                    for setting in group.children().filter(|n| is(n, "Setting")) {
                        values.settings.push((
                            setting.attribute("name").unwrap_or_default().to_string(),
                            setting.attribute("value").unwrap_or_default().to_string(),
                        ));
                    }
                } else if is(&group, "Certificates") {
                    for cert in group.children().filter(|n| is(n, "Certificate")) {
                        values.certificates.push((
                            cert.attribute("name").unwrap_or_default().to_string(),
                            cert.attribute("thumbprint").unwrap_or_default().to_string(),
                            cert.attribute("thumbprintAlgorithm").map(str::to_string),
                        ));
                    }
                }
            }
            roles.push(values);
        }
        Ok(roles)
    }

    /// The changes made so far.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// A unified diff between the file on disk and the edited text, in which no setting value that certkit
    /// does not change is shown: every other `value` attribute, comment and text is masked as `***` (settings
    /// such as connection strings hold passwords, and a diff lands in terminals and logs).
    pub fn diff(&self) -> String {
        let name = self.path.display().to_string();
        // The same values are shown on both sides, so an unchanged line never looks changed.
        let shown: Vec<&str> = self
            .changes
            .iter()
            .flat_map(|c| [c.old.as_str(), c.new.as_str()])
            .collect();
        let before = masked(&self.original, &shown);
        let after = masked(&self.text, &shown);
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(2)
            .header(&name, &format!("{name} (edited)"))
            .to_string()
    }

    /// Writes the edited file atomically after saving the previous version as `FILE.bak` (for a link: at and
    /// beside its target). Does nothing when nothing changed. Returns the backup path if it wrote.
    pub fn save(&self) -> Result<Option<PathBuf>> {
        if self.text == self.original {
            return Ok(None);
        }
        self.parse()?;
        crate::store::guard::check_output(&self.target, &[])?;
        let backup = files::replace_keeping_backup(
            &self.target,
            self.original.as_bytes(),
            self.text.as_bytes(),
            || self.error("changed on disk while certkit was editing it; run the command again"),
        )?;
        Ok(Some(backup))
    }
}

/// `text` with every `value` attribute whose value is not in `shown`, every comment and every text node
/// replaced by `***` (newlines inside them are kept, so lines stay where they were).
fn masked(text: &str, shown: &[&str]) -> String {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return "(the file cannot be shown)\n".into();
    };
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    for node in doc.descendants() {
        if node.is_element() {
            for a in node.attributes() {
                if a.name() == "value"
                    && !shown.contains(&a.value())
                    && let Some(range) = value_range(text, a.range())
                {
                    spans.push(range);
                }
            }
        } else if node.is_comment() {
            let range = node.range();
            spans.push(range.start + 4..range.end.saturating_sub(3));
        } else if node.is_text() && !node.text().is_some_and(|t| t.trim().is_empty()) {
            spans.push(node.range());
        }
    }
    spans.sort_by_key(|r| r.start);
    let mut out = String::new();
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > text.len() || span.is_empty() {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str("***");
        out.extend(text[span.clone()].chars().filter(|c| *c == '\n'));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Parses a comma-separated allow-list, normalising each entry (spaces, U+200E, colons, case).
pub fn parse_allow_list(value: &str) -> std::result::Result<Vec<Thumbprint>, String> {
    let mut list = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let t = Thumbprint::parse(entry).map_err(|_| {
            format!("AllowedClientCertificateThumbprints holds '{entry}', which is not a SHA-1 thumbprint; fix it by hand first")
        })?;
        if !list.contains(&t) {
            list.push(t);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- keep me -->
<ServiceConfiguration serviceName="S" xmlns="http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration">
  <Role name="Web">
    <ConfigurationSettings>
      <Setting   value="" name="AllowedClientCertificateThumbprints"/>
    </ConfigurationSettings>
    <Certificates>
      <Certificate name="SSL" thumbprint="0000000000000000000000000000000000000000" thumbprintAlgorithm="sha1" />
    </Certificates>
  </Role>
</ServiceConfiguration>
"#;

    fn load(text: &str) -> (tempfile::TempDir, Cscfg) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.cscfg");
        std::fs::write(&path, text).expect("write");
        let c = Cscfg::load(&path).expect("load");
        (dir, c)
    }

    #[test]
    fn only_the_value_bytes_change() {
        let (_dir, mut c) = load(FIXTURE);
        let t = Thumbprint::of_der(b"x");
        c.set_certificate("SSL", &t).expect("set");
        c.edit_allowed_clients(&[t, t], &[]).expect("allow");
        let expected = FIXTURE
            .replace("0000000000000000000000000000000000000000", &t.to_string())
            .replace(r#"value="""#, &format!(r#"value="{t}""#));
        assert_eq!(c.text, expected);
        assert_eq!(c.changes().len(), 2);
    }

    #[test]
    fn long_whitespace_around_equals_is_valid_xml_and_edited_in_place() {
        let spaced = FIXTURE.replace(
            r#"<Setting   value="" name"#,
            &format!(
                "<Setting   value{}={}\"\" name",
                " ".repeat(400),
                "\t".repeat(400)
            ),
        );
        let (_dir, mut c) = load(&spaced);
        let t = Thumbprint::of_der(b"x");
        c.edit_allowed_clients(&[t], &[]).expect("allow");
        assert_eq!(
            c.text,
            spaced.replacen(
                &format!("{}\"\"", "\t".repeat(400)),
                &format!("{}\"{t}\"", "\t".repeat(400)),
                1
            )
        );
    }

    #[test]
    fn a_diff_shows_only_changed_lines_even_where_an_unchanged_value_equals_a_new_one() {
        let text = FIXTURE.replace(
            "    </ConfigurationSettings>",
            "      <Setting name=\"A\" value=\"true\" />\n      <Setting name=\"B\" value=\"false\" />\n    </ConfigurationSettings>",
        );
        let (_dir, mut c) = load(&text);
        c.set_setting("B", "true", true).expect("set");
        let diff = c.diff();
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| {
                (l.starts_with('-') || l.starts_with('+'))
                    && !l.starts_with("---")
                    && !l.starts_with("+++")
            })
            .collect();
        assert_eq!(
            changed,
            [
                "-      <Setting name=\"B\" value=\"false\" />",
                "+      <Setting name=\"B\" value=\"true\" />"
            ],
            "{diff}"
        );
    }

    #[test]
    fn missing_entries_and_wrong_namespace_are_errors() {
        let (_dir, mut c) = load(FIXTURE);
        assert!(c.set_certificate("CA", &Thumbprint::of_der(b"x")).is_err());
        assert!(
            c.set_setting("ClientCertificateRevocationCheck", "Online", true)
                .is_err()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.cscfg");
        std::fs::write(&path, FIXTURE.replace("2008/10", "2009/10")).expect("write");
        assert!(Cscfg::load(&path).is_err());
        std::fs::write(&path, "<ServiceConfiguration").expect("write");
        assert!(Cscfg::load(&path).is_err());
    }
}
