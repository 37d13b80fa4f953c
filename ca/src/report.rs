//! The pieces of `certkit-ca report --html`: one self-contained HTML page (no script, no fetched resource, a
//! style sheet inline that also lays it out for print), text escaped wherever it goes, and the expiry chart as
//! inline SVG.

pub mod chart;

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with the characters that mean something in HTML (`&`, `<`, `>`, `"`, `'`) escaped, so a subject such
/// as `CN=<script>` is shown as written and never read as markup (in text and in quoted attributes).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The style sheet: readable on screen, and in print each section starts a page and table headers repeat.
const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1b1f24;margin:2em auto;max-width:72em;padding:0 1em}
h1{font-size:1.7em;margin:0 0 .2em}h2{font-size:1.3em;border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin:1.4em 0 .4em}
.meta{color:#57606a}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1.2em}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
code,.mono,td.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.92em;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #d8dee4;vertical-align:top}
th{background:#f6f8fa;font-weight:600}thead{display:table-header-group}tr{break-inside:avoid}
.level-ok,.status-valid,.status-renewed{color:#1a7f37}.level-warning,.status-undelivered{color:#9a6700}
.level-critical,.level-error,.status-revoked,.status-forged{color:#cf222e;font-weight:600}.status-expired{color:#57606a}
.verdict{font-size:1.15em;font-weight:600;padding:.5em .8em;border-radius:6px;display:inline-block}
.verdict.pass{background:#dafbe1;color:#116329}.verdict.fail{background:#ffebe9;color:#a40e26}
.counts{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}.counts span{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.3em .7em}
.counts b{font-size:1.2em}
nav.months{columns:4 12em;margin:.5em 0 1em}nav.months a{color:#0969da;text-decoration:none}
svg text{font-family:inherit}
@media print{body{margin:0;max-width:none;font-size:10.5px}h2{break-before:page}h2.first{break-before:auto}a{color:inherit}
nav.months{display:none}section.month{break-inside:auto}}
";

/// What marks a page certkit wrote (in its head): `report --html` replaces a file only when it holds this.
pub const MARKER: &str = "<meta name=\"generator\" content=\"certkit-ca report\">";

/// Whether `bytes` are a page `certkit-ca report` wrote: the marker among its first lines, or (a report of an
/// earlier certkit, before the marker) its doctype and title as certkit writes them.
pub fn is_report(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let holds = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    holds(MARKER.as_bytes())
        || (head.starts_with(b"<!DOCTYPE html>\n<html lang=\"en\">")
            && holds(b"<title>certkit report: "))
}

/// An HTML page being written.
pub struct Page {
    html: String,
}

impl Page {
    /// A page titled `title` (escaped), with the style sheet.
    pub fn new(title: &str) -> Page {
        let mut html = String::with_capacity(64 * 1024);
        html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.push_str(MARKER);
        html.push('\n');
        let _ = writeln!(html, "<title>{}</title>", escape(title));
        let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>");
        Page { html }
    }

    /// A part of a page, to be put into one later with [`Page::markup`].
    pub fn fragment() -> Page {
        Page {
            html: String::with_capacity(1 << 20),
        }
    }

    /// A fragment's markup.
    pub fn into_markup(self) -> String {
        self.html
    }

    /// Appends markup that the caller built from escaped text.
    pub fn markup(&mut self, html: &str) {
        self.html.push_str(html);
    }

    /// Appends `text`, escaped.
    pub fn text(&mut self, text: &str) {
        self.html.push_str(&escape(text));
    }

    /// A section heading with an anchor (`first` for the one that does not start a printed page).
    pub fn heading(&mut self, id: &str, title: &str, first: bool) {
        let _ = writeln!(
            self.html,
            "<h2 id=\"{}\"{}>{}</h2>",
            escape(id),
            if first { " class=\"first\"" } else { "" },
            escape(title)
        );
    }

    /// A list of facts: each a name and a value (both escaped).
    pub fn facts(&mut self, facts: &[(&str, String)]) {
        self.html.push_str("<dl class=\"facts\">\n");
        for (name, value) in facts {
            let _ = writeln!(
                self.html,
                "<dt>{}</dt><dd>{}</dd>",
                escape(name),
                escape(value)
            );
        }
        self.html.push_str("</dl>\n");
    }

    /// Opens a table with these column headings.
    pub fn table(&mut self, headings: &[&str]) {
        self.html.push_str("<table>\n<thead><tr>");
        for h in headings {
            let _ = write!(self.html, "<th>{}</th>", escape(h));
        }
        self.html.push_str("</tr></thead>\n<tbody>\n");
    }

    /// A table row: each cell its text (escaped) and a class (e.g. `mono`, `status-revoked`), if any.
    pub fn row(&mut self, cells: &[(&str, &str)]) {
        self.html.push_str("<tr>");
        for (text, class) in cells {
            if class.is_empty() {
                let _ = write!(self.html, "<td>{}</td>", escape(text));
            } else {
                let _ = write!(
                    self.html,
                    "<td class=\"{}\">{}</td>",
                    escape(class),
                    escape(text)
                );
            }
        }
        self.html.push_str("</tr>\n");
    }

    /// Closes the table.
    pub fn end_table(&mut self) {
        self.html.push_str("</tbody>\n</table>\n");
    }

    /// The finished page.
    pub fn finish(mut self) -> String {
        self.html.push_str("</body>\n</html>\n");
        self.html
    }
}
