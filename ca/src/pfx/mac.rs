//! A MAC for a PFX that has none (`openssl pkcs12 -export -nomac`). OpenSSL 3.0 opens a PFX with a password
//! only after checking its MAC, and takes a missing MAC for a wrong password; certkit gives such a file a MAC
//! of its own (HMAC-SHA1 with the PKCS#12 key derivation of RFC 7292 appendix B, one iteration) over the very
//! same contents, in memory, so that OpenSSL can read it. The file itself has no integrity protection, which
//! `inspect` says.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::structure;
use crate::ber::der;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// `bytes`, a PFX without a MAC, with a MAC computed with `password` added.
pub fn with_mac(bytes: &[u8], password: &Secret) -> Result<Vec<u8>> {
    let octets = structure::auth_safe_octets(bytes)
        .map_err(|e| Error::crypto("reading the PFX's contents", e.0))?;
    let mut salt = [0u8; 8];
    openssl::rand::rand_bytes(&mut salt)?;
    let key = mac_key(password.expose(), &salt);
    let pkey = PKey::hmac(&key)?;
    let mut signer = Signer::new(MessageDigest::sha1(), &pkey)?;
    signer.update(&octets)?;
    let mac = signer.sign_to_vec()?;
    let sha1 = der(
        0x30,
        &[der(0x06, &[0x2B, 0x0E, 0x03, 0x02, 0x1A]), der(0x05, &[])].concat(),
    );
    let mac_data = der(
        0x30,
        &[
            der(0x30, &[sha1, der(0x04, &mac)].concat()),
            der(0x04, &salt),
            der(0x02, &[1]),
        ]
        .concat(),
    );
    // PKCS#7 data: 1.2.840.113549.1.7.1
    let data = der(
        0x06,
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01],
    );
    let auth_safe = der(0x30, &[data, der(0xA0, &der(0x04, &octets))].concat());
    Ok(der(0x30, &[der(0x02, &[3]), auth_safe, mac_data].concat()))
}

/// The 20-byte MAC key of RFC 7292 appendix B.2 (ID 3) for `password` and `salt`, with SHA-1 and one
/// iteration: SHA-1(D || S || P), where D is 64 bytes of 3, and S and P are the salt and the password (as a
/// NUL-terminated BMPString) each repeated to a multiple of 64 bytes. With one iteration and a key no longer
/// than the hash, that is the whole derivation.
fn mac_key(password: &str, salt: &[u8]) -> Vec<u8> {
    const V: usize = 64;
    let mut bmp: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    bmp.extend([0, 0]);
    let repeat = |input: &[u8]| -> Vec<u8> {
        let len = V * input.len().div_ceil(V);
        input.iter().copied().cycle().take(len).collect()
    };
    let mut hasher = openssl::sha::Sha1::new();
    hasher.update(&[3u8; V]);
    hasher.update(&repeat(salt));
    hasher.update(&repeat(&bmp));
    let key = hasher.finish().to_vec();
    bmp.iter_mut().for_each(|b| *b = 0);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_derivation_matches_openssl() {
        // OpenSSL's own MAC of a compat PFX (HMAC-SHA1, one iteration) must verify with this key: rebuild the
        // MAC of a file made with `mac_iter(1)` and compare.
        let key = crate::keys::KeyType::P256.generate().expect("key");
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let cert = params.self_signed(&key).expect("cert");
        let pkey = openssl::pkey::PKey::private_key_from_pkcs8(&key.serialize_der()).expect("pkey");
        let x509 = openssl::x509::X509::from_der(cert.der()).expect("x509");
        let mut builder = openssl::pkcs12::Pkcs12::builder();
        builder
            .pkey(&pkey)
            .cert(&x509)
            .mac_iter(1)
            .mac_md(MessageDigest::sha1());
        let pfx = builder
            .build2("pässword 1")
            .expect("pfx")
            .to_der()
            .expect("der");
        let parsed = structure::parse(&pfx).expect("structure");
        assert_eq!(parsed.mac.as_ref().map(|m| m.iterations), Some(1));
        // MacData { DigestInfo { algorithm, OCTET STRING mac }, OCTET STRING salt, iterations (omitted: 1) }
        let (outer, _) = crate::ber::read(&pfx).expect("pfx");
        let parts = outer.children().expect("parts");
        let mac_data = parts[2].children().expect("mac data");
        let digest_info = mac_data[0].children().expect("digest info");
        let expected = digest_info[1].content.to_vec();
        let salt = mac_data[1].content.to_vec();
        let salt = &salt[..];
        let octets = structure::auth_safe_octets(&pfx).expect("octets");
        let hmac = PKey::hmac(&mac_key("pässword 1", salt)).expect("hmac");
        let mut signer = Signer::new(MessageDigest::sha1(), &hmac).expect("signer");
        signer.update(&octets).expect("update");
        assert_eq!(signer.sign_to_vec().expect("mac"), expected);
        // And the PFX certkit gives a MAC to (the same contents without one) opens in OpenSSL.
        let password = Secret::new(zeroize::Zeroizing::new("pässword 1".into()));
        let rebuilt = with_mac(&pfx, &password).expect("with a MAC");
        let opened = openssl::pkcs12::Pkcs12::from_der(&rebuilt)
            .expect("der")
            .parse2("pässword 1")
            .expect("opens");
        assert!(opened.pkey.is_some());
    }
}
