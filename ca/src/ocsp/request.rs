//! Reading what a client asks the responder (RFC 6960 4.1, A.1; RFC 5019 2.1): one CertID, from a POST body or
//! a GET path. Everything here is fed by the network: bounded, never trusted, never a panic.

use base64::Engine;
use der::Decode;
use der::asn1::ObjectIdentifier;
use x509_ocsp::OcspRequest;

use crate::serial::Serial;

/// The largest request read: a request for one certificate is about 80 bytes, with a nonce or a signature a
/// few kilobytes at most.
pub const MAX_REQUEST: usize = 16 * 1024;

/// The certificate a client asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    /// The CertID's hash algorithm.
    pub algorithm: ObjectIdentifier,
    /// Hash of the issuer's name.
    pub name_hash: Vec<u8>,
    /// Hash of the issuer's key.
    pub key_hash: Vec<u8>,
    /// The serial.
    pub serial: Serial,
}

/// Why a request is refused as malformed (the responder logs it and answers `malformedRequest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Reads a DER OCSPRequest asking about one certificate. Extensions (a nonce) are read past: the responses
/// are signed ahead, so a nonce cannot be echoed (RFC 5019 2.1). A request about several certificates is
/// refused: a signed-ahead response is about one (RFC 5019 2.1.1 asks clients for one).
pub fn parse_der(der: &[u8]) -> Result<Asked, Malformed> {
    if der.len() > MAX_REQUEST {
        return Err(Malformed("the request is too large"));
    }
    let request = OcspRequest::from_der(der).map_err(|_| Malformed("not a DER OCSPRequest"))?;
    let list = &request.tbs_request.request_list;
    let [one] = list.as_slice() else {
        return Err(Malformed(if list.is_empty() {
            "the request asks about no certificate"
        } else {
            "the request asks about more than one certificate"
        }));
    };
    let id = &one.req_cert;
    Ok(Asked {
        algorithm: id.hash_algorithm.oid,
        name_hash: id.issuer_name_hash.as_bytes().to_vec(),
        key_hash: id.issuer_key_hash.as_bytes().to_vec(),
        serial: Serial::from_der_integer(id.serial_number.as_bytes()),
    })
}

/// The DER of the request in a GET path: the last segments of `path` are the request in base64, URL-encoded
/// or not (base64 holds `/`, which some clients leave as it is). Leading segments that are not part of it
/// (the URL's own path, `/ocsp/...`) are skipped.
pub fn der_from_path(path: &str) -> Result<Vec<u8>, Malformed> {
    if path.len() > MAX_REQUEST * 2 {
        return Err(Malformed("the request is too large"));
    }
    let path = path.trim_start_matches('/');
    let mut rest = path;
    loop {
        if let Some(der) = decode_base64(rest) {
            return Ok(der);
        }
        match rest.split_once('/') {
            Some((_, after)) if !after.is_empty() => rest = after,
            _ => return Err(Malformed("the GET path is not a base64 OCSPRequest")),
        }
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let decoded = percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
    let trimmed: Vec<u8> = decoded
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if trimmed.is_empty() {
        return None;
    }
    // The standard alphabet as RFC 6960 says; the URL-safe one as some clients send.
    base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&trimmed))
        .ok()
        .filter(|der| der.first() == Some(&0x30))
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl ocsp -issuer ca.pem -serial 0x1234 -reqout req.der -no_nonce` for a test CA, SHA-1 CertID.
    const REQUEST: &str = "MEMwQTA/MD0wOzAJBgUrDgMCGgUABBQbKyHECkYEL/hDCio9BVBzRBbe8AQUQ3NcIF+w85sb+ZNQIGABUDg6PVwCAhI0";

    #[test]
    fn a_get_path_is_read_with_or_without_a_prefix_and_url_encoding() {
        let der = der_from_path(&format!("/{REQUEST}")).expect("plain");
        let asked = parse_der(&der).expect("request");
        assert_eq!(asked.serial, Serial::parse("1234").expect("serial"));
        assert_eq!(asked.algorithm, super::super::response::SHA1);
        let encoded = REQUEST.replace('/', "%2F").replace('+', "%2B");
        assert_eq!(der_from_path(&format!("/ocsp/{encoded}")), Ok(der));
        assert!(der_from_path("/").is_err());
        assert!(der_from_path("/not base64!").is_err());
        assert!(der_from_path("/ocsp/").is_err());
    }

    #[test]
    fn bad_requests_are_malformed_never_a_panic() {
        let der = der_from_path(&format!("/{REQUEST}")).expect("plain");
        for cut in 0..der.len() {
            assert!(parse_der(&der[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_der(&vec![0x30; MAX_REQUEST + 1]).is_err());
        assert!(parse_der(&[]).is_err());
    }
}
