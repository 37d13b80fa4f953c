//! How an edit lays out the XML it changes: a new element indented and ended like its siblings, placed right
//! after the one it follows; a removed element takes the whitespace before it.

use std::ops::Range;

use roxmltree::{Document, Node};

use crate::cscfg::{Cscfg, is_element};
use crate::error::Result;

/// The containers of the network configuration, outermost first.
pub(super) const CONTAINERS: [&str; 3] = ["NetworkConfiguration", "AccessControls", "EndpointAcls"];

/// Where a new element goes inside its parent.
pub(super) enum Place {
    /// Right after the parent's start tag.
    First,
    /// After the last element child, or first if there is none.
    Last,
    /// After the last child of this name, or first if there is none.
    After(&'static str),
}

/// A new element: lines with their depth below the element.
pub(super) struct Fragment(pub(super) Vec<(usize, String)>);

impl Fragment {
    pub(super) fn render(&self, indent: &str, unit: &str, eol: &str) -> String {
        self.0
            .iter()
            .map(|(depth, line)| format!("{indent}{}{line}", unit.repeat(*depth)))
            .collect::<Vec<_>>()
            .join(eol)
    }
}

pub(super) fn element<'a, 'input>(
    parent: Node<'a, 'input>,
    local: &str,
) -> Option<Node<'a, 'input>> {
    parent.children().find(|n| is_element(n, local))
}

/// The line ending the file uses.
pub(super) fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The spaces and tabs between the start of the line and `pos`, if nothing else is there.
pub(super) fn indent_at(text: &str, pos: usize) -> Option<&str> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..pos];
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(indent)
}

/// The file's indentation step near `node`: how much further `node` (or the nearest ancestor that shows it)
/// is indented than its parent; else the first such step in the file; else two spaces.
pub(super) fn indent_unit(doc: &Document, text: &str, node: Node) -> String {
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
pub(super) fn start_tag_end(text: &str, node: Node) -> usize {
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

pub(super) fn is_self_closing(text: &str, node: Node) -> bool {
    text[..start_tag_end(text, node)].ends_with("/>")
}

/// True for a text node of nothing but whitespace.
pub(super) fn is_blank(node: &Node) -> bool {
    node.is_text() && node.text().is_some_and(|t| t.trim().is_empty())
}

/// The range that removing `node` deletes: the element and the whitespace before it.
pub(super) fn removal_range(text: &str, node: Node) -> Range<usize> {
    let start = node.range().start;
    let ws = text[..start]
        .trim_end_matches([' ', '\t', '\r', '\n'])
        .len();
    ws..node.range().end
}

/// The prefix the root element's name carries (`sc:`), which new elements must carry too.
pub(super) fn prefix(text: &str, doc: &Document) -> String {
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
pub(super) enum Target<'s> {
    Root,
    Container(&'static str),
    AccessControl(&'s str),
    EndpointAcl(&'s str, &'s str),
}

pub(super) fn find<'a, 'input>(
    doc: &'a Document<'input>,
    target: Target,
) -> Option<Node<'a, 'input>> {
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
    /// Creates a container of the network configuration (and the ones it sits in) if it is missing.
    pub(super) fn ensure_container(&mut self, name: &'static str) -> Result<()> {
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
    pub(super) fn insert(
        &mut self,
        parent: Target,
        place: Place,
        fragment: &Fragment,
    ) -> Result<()> {
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
    pub(super) fn expand(&mut self, target: Target) -> Result<()> {
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
    pub(super) fn remove(&mut self, target: Target) -> Result<()> {
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

    /// The prefix new elements carry: the root element's (`sc:`), usually none.
    pub(super) fn prefix(&self) -> Result<String> {
        let doc = self.parse()?;
        Ok(prefix(&self.text, &doc))
    }
}
