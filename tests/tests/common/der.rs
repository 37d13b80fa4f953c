//! Just enough DER to write the hostile files the tests need (encrypted keys with absurd KDF parameters, a PFX
//! with an absurd MAC iteration count), byte by byte, independent of certkit's own parsers.

/// A DER TLV.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn int(value: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = value
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

pub fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// An OID from its dotted form.
pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7F) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.insert(0, 0x80 | (rest & 0x7F) as u8);
            rest >>= 7;
        }
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

/// An `ENCRYPTED PRIVATE KEY` PEM: PBES2 with the given key derivation and AES-256-CBC over junk.
fn encrypted_key(kdf: Vec<u8>) -> String {
    let pbes2 = seq(&[
        oid("1.2.840.113549.1.5.13"),
        seq(&[
            kdf,
            seq(&[oid("2.16.840.1.101.3.4.1.42"), octets(&[7; 16])]),
        ]),
    ]);
    let der = seq(&[pbes2, octets(&[0x5A; 48])]);
    let b64 = openssl_base64(&der);
    format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{b64}-----END ENCRYPTED PRIVATE KEY-----\n")
}

/// PBKDF2-HMAC-SHA256 with `iterations`.
pub fn pbkdf2_key(iterations: u64) -> String {
    encrypted_key(seq(&[
        oid("1.2.840.113549.1.5.12"),
        seq(&[
            octets(&[1; 16]),
            int(iterations),
            seq(&[oid("1.2.840.113549.2.9"), tlv(0x05, &[])]),
        ]),
    ]))
}

/// scrypt with cost `n` (r = 8, p = 1).
pub fn scrypt_key(n: u64) -> String {
    encrypted_key(seq(&[
        oid("1.3.6.1.4.1.11591.4.11"),
        seq(&[octets(&[1; 16]), int(n), int(8), int(1)]),
    ]))
}

fn openssl_base64(der: &[u8]) -> String {
    let b64 = {
        const TABLE: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in der.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    };
    b64.as_bytes()
        .chunks(64)
        .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
        .collect()
}

/// The tag, header length and content length of the TLV at the start of `der`.
fn header(der: &[u8]) -> (usize, usize) {
    let first = der[1];
    if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7F) as usize;
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + n, len)
    }
}

/// A PFX (DER, as openssl writes it) with its MAC's iteration count replaced by `iterations`: the PFX is
/// `SEQUENCE { version, authSafe, macData }` and macData is `SEQUENCE { DigestInfo, salt, iterations }`.
pub fn pfx_with_mac_iterations(pfx: &[u8], iterations: u64) -> Vec<u8> {
    let (head, _) = header(pfx);
    let mut items = Vec::new();
    let mut at = head;
    while at < pfx.len() {
        let (h, len) = header(&pfx[at..]);
        items.push(pfx[at..at + h + len].to_vec());
        at += h + len;
    }
    let mac = items.pop().expect("macData");
    let (h, _) = header(&mac);
    let mut parts = Vec::new();
    let mut at = h;
    while at < mac.len() {
        let (ih, len) = header(&mac[at..]);
        parts.push(mac[at..at + ih + len].to_vec());
        at += ih + len;
    }
    assert_eq!(parts.len(), 3, "macData with an explicit iteration count");
    parts[2] = int(iterations);
    items.push(seq(&parts));
    seq(&items)
}
