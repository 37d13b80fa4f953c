//! What certkit accepts as names and URLs inside certificates.

use crate::error::{Error, Result};

/// Checks that `cn` is usable as a common name.
pub fn check_cn(cn: &str) -> Result<()> {
    if cn.trim().is_empty() {
        return Err(Error::BadInput("the common name (--cn) is empty".into()));
    }
    if cn.chars().count() > 64 {
        return Err(Error::BadInput(format!(
            "the common name '{cn}' is longer than 64 characters (the X.509 limit)"
        )));
    }
    if cn.chars().any(char::is_control) {
        return Err(Error::BadInput(
            "the common name contains control characters".into(),
        ));
    }
    Ok(())
}

/// Checks a CRL distribution point URL.
pub fn check_crl_url(url: &str) -> Result<()> {
    let ok =
        (url.starts_with("http://") || url.starts_with("https://") || url.starts_with("ldap://"))
            && url.len() > 8
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "'{url}' is not a CRL URL; give an http:// URL where the CRL will be published, e.g. http://pki.example.com/ca.crl"
        )))
    }
}
