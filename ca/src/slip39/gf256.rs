//! Shamir's scheme over GF(256) as SLIP-39 specifies it: the secret at x = 255, a digest of it at x = 254
//! (HMAC-SHA256 of the secret under random bytes, its first four bytes, then those random bytes), the shares
//! at x = 0, 1, ...; Lagrange interpolation with the field's log and exp tables (x^8 + x^4 + x^3 + x + 1).

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use zeroize::Zeroizing;

use super::error::ShareError;

const SECRET_INDEX: u8 = 255;
const DIGEST_INDEX: u8 = 254;
const DIGEST_LENGTH: usize = 4;

struct Tables {
    exp: [u8; 255],
    log: [u8; 256],
}

const TABLES: Tables = {
    let mut exp = [0u8; 255];
    let mut log = [0u8; 256];
    let mut poly: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = poly as u8;
        log[poly as usize] = i as u8;
        // Times x + 1, reduced by x^8 + x^4 + x^3 + x + 1.
        poly ^= poly << 1;
        if poly & 0x100 != 0 {
            poly ^= 0x11b;
        }
        i += 1;
    }
    Tables { exp, log }
};

/// f(x) of the polynomials through `points` (distinct x, values of one length).
fn interpolate(points: &[(u8, &[u8])], x: u8) -> Zeroizing<Vec<u8>> {
    if let Some((_, y)) = points.iter().find(|(px, _)| *px == x) {
        return Zeroizing::new(y.to_vec());
    }
    let log = |v: u8| u32::from(TABLES.log[usize::from(v)]);
    let log_product: u32 = points.iter().map(|(px, _)| log(px ^ x)).sum();
    let len = points.first().map_or(0, |(_, y)| y.len());
    let mut result = Zeroizing::new(vec![0u8; len]);
    for (px, y) in points {
        let others: u32 = points.iter().map(|(ox, _)| log(px ^ ox)).sum();
        // log of the Lagrange basis polynomial at x; the sums are small, so adding 255s keeps it positive.
        let basis = (log_product + 255 * 32 - log(px ^ x) - others) % 255;
        for (r, &v) in result.iter_mut().zip(y.iter()) {
            if v != 0 {
                *r ^= TABLES.exp[((log(v) + basis) % 255) as usize];
            }
        }
    }
    result
}

fn digest(random: &[u8], secret: &[u8]) -> [u8; DIGEST_LENGTH] {
    let mut out = [0u8; DIGEST_LENGTH];
    let mac = PKey::hmac(random)
        .and_then(|key| {
            let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
            signer.update(secret)?;
            signer.sign_to_vec()
        })
        .unwrap_or_default();
    out.copy_from_slice(&mac[..DIGEST_LENGTH.min(mac.len())]);
    out
}

/// `count` shares of `secret`, any `threshold` of which restore it: (x, value) with x = 0, 1, ...
pub fn split(
    threshold: u8,
    count: u8,
    secret: &[u8],
    random: &mut dyn FnMut(&mut [u8]),
) -> Vec<(u8, Zeroizing<Vec<u8>>)> {
    if threshold == 1 {
        return (0..count)
            .map(|i| (i, Zeroizing::new(secret.to_vec())))
            .collect();
    }
    let mut shares: Vec<(u8, Zeroizing<Vec<u8>>)> = Vec::new();
    for i in 0..threshold - 2 {
        let mut value = Zeroizing::new(vec![0u8; secret.len()]);
        random(&mut value);
        shares.push((i, value));
    }
    let mut random_part = Zeroizing::new(vec![0u8; secret.len() - DIGEST_LENGTH]);
    random(&mut random_part);
    let mut digest_share = Zeroizing::new(digest(&random_part, secret).to_vec());
    digest_share.extend_from_slice(&random_part);
    let mut base: Vec<(u8, &[u8])> = shares.iter().map(|(x, v)| (*x, v.as_slice())).collect();
    base.push((DIGEST_INDEX, &digest_share));
    base.push((SECRET_INDEX, secret));
    let made: Vec<(u8, Zeroizing<Vec<u8>>)> = (threshold - 2..count)
        .map(|x| (x, interpolate(&base, x)))
        .collect();
    shares.extend(made);
    shares
}

/// The secret behind exactly `threshold` shares, its digest checked.
pub fn recover(threshold: usize, points: &[(u8, &[u8])]) -> Result<Zeroizing<Vec<u8>>, ShareError> {
    let Some((_, first)) = points.first() else {
        return Err(ShareError::Empty);
    };
    if threshold == 1 {
        return Ok(Zeroizing::new(first.to_vec()));
    }
    if points.iter().any(|(_, v)| v.len() != first.len()) || first.len() < DIGEST_LENGTH {
        return Err(ShareError::Digest);
    }
    let secret = interpolate(points, SECRET_INDEX);
    let digest_share = interpolate(points, DIGEST_INDEX);
    if digest_share[..DIGEST_LENGTH] != digest(&digest_share[DIGEST_LENGTH..], &secret) {
        return Err(ShareError::Digest);
    }
    Ok(secret)
}
