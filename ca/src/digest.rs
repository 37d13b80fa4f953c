//! SHA-256 and SHA-1 with aws-lc, not OpenSSL 3.0, whose one-shot digests take a global lock each: going over a
//! whole inventory (the audit) hashes every line and certificate.

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-1 of `bytes` (thumbprints).
pub fn sha1(bytes: &[u8]) -> [u8; 20] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}
