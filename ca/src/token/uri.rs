//! RFC 7512 PKCS#11 URIs naming a CA key on a token, e.g. `pkcs11:token=certkit-ca;object=MyCA`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A token and a key on it, as a PKCS#11 URI names them. The key is found by its label (`object`), and by
/// `id` too when given; the token by its label, serial, manufacturer and model, those given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenUri {
    /// The token's label (`token=`).
    pub token: Option<String>,
    /// The token's serial number (`serial=`).
    pub serial: Option<String>,
    /// The token's manufacturer (`manufacturer=`).
    pub manufacturer: Option<String>,
    /// The token's model (`model=`).
    pub model: Option<String>,
    /// The key's label (`object=`), required.
    pub object: String,
    /// The key's CKA_ID (`id=`, percent-encoded bytes).
    pub id: Option<Vec<u8>>,
    /// The module named in the query (`?module-path=`).
    pub module_path: Option<PathBuf>,
}

/// Why a PKCS#11 URI cannot be used; the message says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriError(pub String);

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const EXAMPLE: &str = "e.g. pkcs11:token=certkit-ca;object=MyCA";

fn error(what: impl Into<String>) -> UriError {
    UriError(what.into())
}

/// An attribute name as an error may show it: only a plain name is repeated, never text that may be a PIN
/// pasted in the wrong place or hold control characters.
fn shown_name(name: &str) -> String {
    if !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.bytes().all(|b| b.is_ascii_digit())
    {
        format!(" '{name}'")
    } else {
        String::new()
    }
}

/// Decodes `%XX` escapes; the result is bytes (an `id` need not be text).
fn percent_decode(value: &str, name: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    error(format!(
                        "the {name} attribute has a '%' not followed by two hex digits; write a '%' as %25"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, name: &str) -> Result<String, UriError> {
    let decoded = percent_decode(value, name)?;
    let text = String::from_utf8(decoded)
        .map_err(|_| error(format!("the {name} attribute is not UTF-8 text")))?;
    if text.is_empty() {
        return Err(error(format!("the {name} attribute is empty; {EXAMPLE}")));
    }
    if text.chars().any(char::is_control) {
        return Err(error(format!(
            "the {name} attribute holds a control character"
        )));
    }
    Ok(text)
}

impl FromStr for TokenUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, UriError> {
        let rest = s
            .strip_prefix("pkcs11:")
            .ok_or_else(|| error(format!("a PKCS#11 URI starts with 'pkcs11:'; {EXAMPLE}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = TokenUri::default();
        let mut object = None;
        for part in path.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                error(format!(
                    "an attribute has no '=': write name=value, separated by ';', {EXAMPLE}"
                ))
            })?;
            let seen = match name {
                "token" => uri.token.replace(text(value, name)?).is_some(),
                "serial" => uri.serial.replace(text(value, name)?).is_some(),
                "manufacturer" => uri.manufacturer.replace(text(value, name)?).is_some(),
                "model" => uri.model.replace(text(value, name)?).is_some(),
                "object" => object.replace(text(value, name)?).is_some(),
                "id" => {
                    let id = percent_decode(value, name)?;
                    if id.is_empty() {
                        return Err(error(
                            "the id attribute is empty; leave it out or give bytes, e.g. id=%01",
                        ));
                    }
                    uri.id.replace(id).is_some()
                }
                "type" => {
                    if value != "private" {
                        return Err(error(
                            "type= must be private (the URI names the private key of the CA), or be left out",
                        ));
                    }
                    false
                }
                "pin-value" | "pin-source" => {
                    return Err(error(format!(
                        "{name} is refused: give the PIN with --ca-pass (env:VAR, file:PATH, fd:N, stdin or the prompt), never in the URI, which is recorded in the CA folder"
                    )));
                }
                "library-manufacturer"
                | "library-description"
                | "library-version"
                | "slot-id"
                | "slot-description"
                | "slot-manufacturer" => {
                    return Err(error(format!(
                        "{name} is not supported; name the token with token=, serial=, manufacturer= or model="
                    )));
                }
                _ => {
                    return Err(error(format!(
                        "unknown attribute{}; certkit reads token, serial, manufacturer, model, object, id and type",
                        shown_name(name)
                    )));
                }
            };
            if seen {
                return Err(error(format!("the {name} attribute is given twice")));
            }
        }
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            match name {
                "module-path" => uri.module_path = Some(PathBuf::from(text(value, name)?)),
                "pin-value" | "pin-source" => {
                    return Err(error(format!(
                        "{name} is refused: give the PIN with --ca-pass (env:VAR, file:PATH, fd:N, stdin or the prompt), never in the URI, which is recorded in the CA folder"
                    )));
                }
                _ => {
                    return Err(error(format!(
                        "unknown query attribute{}; certkit reads module-path (or use --pkcs11-module)",
                        shown_name(name)
                    )));
                }
            }
        }
        uri.object = object.ok_or_else(|| {
            error(format!(
                "the URI names no key: add object=LABEL (the label of the key on the token), {EXAMPLE}"
            ))
        })?;
        Ok(uri)
    }
}

/// Percent-encodes everything but the characters RFC 7512 allows as they are in a path value (and in a query
/// value, which may also hold '/').
fn encode(bytes: &[u8], query: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~:[]@!$'()*+,".contains(b) || (query && *b == b'/') {
            write!(f, "{}", char::from(*b))?;
        } else {
            write!(f, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl fmt::Display for TokenUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pkcs11:")?;
        let mut first = true;
        let mut attribute = |f: &mut fmt::Formatter<'_>, name: &str, value: &[u8]| {
            if !std::mem::take(&mut first) {
                f.write_str(";")?;
            }
            write!(f, "{name}=")?;
            encode(value, false, f)
        };
        for (name, value) in [
            ("token", &self.token),
            ("serial", &self.serial),
            ("manufacturer", &self.manufacturer),
            ("model", &self.model),
        ] {
            if let Some(value) = value {
                attribute(f, name, value.as_bytes())?;
            }
        }
        attribute(f, "object", self.object.as_bytes())?;
        if let Some(id) = &self.id {
            // An id is bytes: every byte escaped, as RFC 7512 writes them.
            if !std::mem::take(&mut first) {
                f.write_str(";")?;
            }
            f.write_str("id=")?;
            for b in id {
                write!(f, "%{b:02X}")?;
            }
        }
        if let Some(module) = &self.module_path {
            f.write_str("?module-path=")?;
            encode(module.as_os_str().as_encoded_bytes(), true, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_show_back() {
        let uri: TokenUri = "pkcs11:token=certkit%20ca;object=My%20CA;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so"
            .parse()
            .expect("uri");
        assert_eq!(uri.token.as_deref(), Some("certkit ca"));
        assert_eq!(uri.object, "My CA");
        assert_eq!(uri.id, Some(vec![1, 2]));
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=certkit%20ca;object=My%20CA;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so"
        );
        assert_eq!(uri.to_string().parse::<TokenUri>(), Ok(uri));
    }

    #[test]
    fn bad_uris_say_what_to_write() {
        for (bad, says) in [
            ("token=x;object=y", "starts with 'pkcs11:'"),
            ("pkcs11:token=x", "object=LABEL"),
            ("pkcs11:object=y;pin-value=1234", "pin-value is refused"),
            (
                "pkcs11:object=y?pin-source=file:/x",
                "pin-source is refused",
            ),
            ("pkcs11:object=y;object=z", "given twice"),
            ("pkcs11:object=%zz", "two hex digits"),
            ("pkcs11:object=y;type=cert", "type= must be private"),
            ("pkcs11:object=y;colour=red", "unknown attribute 'colour'"),
            // Found by the pkcs11_uri fuzz target: text that is not a plain name is not repeated.
            ("pkcs11:object=y;1234=x", "unknown attribute; certkit reads"),
            ("pkcs11:object=y;1234", "has no '='"),
        ] {
            let err = bad.parse::<TokenUri>().expect_err(bad).to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("1234"), "{err}");
        }
    }
}
