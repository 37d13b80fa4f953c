//! The part of an `openssl.cnf` that `openssl ca` reads to find its files: the `[ca]` section's `default_ca`,
//! and that section's `dir`, `database`, `new_certs_dir`, `certificate`, `private_key`, `serial`, `crlnumber`
//! and `crl`, with `$var` and `${var}` expanded as OpenSSL does (from the same section, then the default one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where an `openssl ca` keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaPaths {
    /// `database`: index.txt.
    pub database: PathBuf,
    /// `new_certs_dir`: a copy of each certificate as SERIAL.pem.
    pub new_certs_dir: PathBuf,
    /// `certificate`: the CA certificate.
    pub certificate: PathBuf,
    /// `private_key`: the CA key.
    pub private_key: PathBuf,
    /// `serial`: the next serial, hex.
    pub serial: PathBuf,
    /// `crlnumber`: the next CRL number, hex (absent: the CA signs CRLs without a number).
    pub crlnumber: Option<PathBuf>,
    /// `crl`: the current CRL.
    pub crl: Option<PathBuf>,
}

impl CaPaths {
    /// OpenSSL's own defaults (its demoCA layout) in `dir`.
    pub fn defaults(dir: &Path) -> Self {
        CaPaths {
            database: dir.join("index.txt"),
            new_certs_dir: dir.join("newcerts"),
            certificate: dir.join("cacert.pem"),
            private_key: dir.join("private/cakey.pem"),
            serial: dir.join("serial"),
            crlnumber: Some(dir.join("crlnumber")),
            crl: Some(dir.join("crl.pem")),
        }
    }

    /// The paths the configuration `text` (read from `file`) gives; relative paths are taken in `base`, as if
    /// `openssl ca` ran there.
    pub fn from_config(text: &str, file: &Path, base: &Path) -> Result<Self> {
        let sections = sections(text, file)?;
        let value = |section: &str, key: &str| -> Result<Option<String>> {
            match sections.get(section).and_then(|s| s.get(key)) {
                Some(raw) => expand(raw, section, &sections)
                    .map(Some)
                    .map_err(|what| Error::malformed(file, format!("[{section}] {key}: {what}"))),
                None => Ok(None),
            }
        };
        let ca = value("ca", "default_ca")?.ok_or_else(|| {
            Error::malformed(
                file,
                "no default_ca in its [ca] section: it is not an openssl ca configuration",
            )
        })?;
        if !sections.contains_key(&ca) {
            return Err(Error::malformed(
                file,
                format!("default_ca names the section [{ca}], which it does not hold"),
            ));
        }
        let path =
            |key: &str| -> Result<Option<PathBuf>> { Ok(value(&ca, key)?.map(|v| base.join(v))) };
        let needed = |key: &'static str| -> Result<PathBuf> {
            path(key)?.ok_or_else(|| {
                Error::malformed(file, format!("[{ca}] has no {key}: openssl ca needs one"))
            })
        };
        Ok(CaPaths {
            database: needed("database")?,
            new_certs_dir: needed("new_certs_dir")?,
            certificate: needed("certificate")?,
            private_key: needed("private_key")?,
            serial: needed("serial")?,
            crlnumber: path("crlnumber")?,
            crl: path("crl")?,
        })
    }
}

type Sections = HashMap<String, HashMap<String, String>>;

/// The sections and their `key = value` lines (comments after `#` removed; the lines before the first
/// section are the default section, `""`).
fn sections(text: &str, file: &Path) -> Result<Sections> {
    let mut all: Sections = HashMap::new();
    let mut current = String::new();
    all.insert(current.clone(), HashMap::new());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('.') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name.strip_suffix(']').ok_or_else(|| {
                Error::malformed(
                    file,
                    format!("line {}: a section header without ']'", i + 1),
                )
            })?;
            current = name.trim().to_string();
            all.entry(current.clone()).or_default();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::malformed(
                file,
                format!("line {}: expected 'name = value'", i + 1),
            ));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        all.entry(current.clone())
            .or_default()
            .insert(key.trim().to_string(), value.to_string());
    }
    Ok(all)
}

/// `$name`, `${name}` and `$section::name` expanded, as far as eight levels deep.
fn expand(raw: &str, section: &str, all: &Sections) -> std::result::Result<String, String> {
    expand_depth(raw, section, all, 0)
}

fn expand_depth(
    raw: &str,
    section: &str,
    all: &Sections,
    depth: usize,
) -> std::result::Result<String, String> {
    if depth > 8 {
        return Err("variables nested too deep (a loop?)".into());
    }
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').ok_or("a '${' without its '}'")?;
            (&braced[..end], &braced[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let (from, key) = match name.split_once("::") {
            Some((s, k)) => (s, k),
            None => (section, name),
        };
        let value = all
            .get(from)
            .and_then(|s| s.get(key))
            .or_else(|| all.get("").and_then(|s| s.get(key)))
            .ok_or_else(|| format!("${name} is not set"))?;
        out.push_str(&expand_depth(value, from, all, depth + 1)?);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;
