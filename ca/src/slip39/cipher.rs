//! SLIP-39's encryption of the master secret: a four-round Feistel network whose round function is
//! PBKDF2-HMAC-SHA256 (2,500 x 2^e iterations a round) keyed by the round number and the passphrase, salted
//! (for shares that are not extendable) with "shamir" and the split's identifier.

use openssl::hash::MessageDigest;
use openssl::pkcs5::pbkdf2_hmac;
use zeroize::Zeroizing;

const BASE_ITERATIONS: usize = 10_000;
const ROUNDS: u8 = 4;

fn salt(identifier: u16, extendable: bool) -> Vec<u8> {
    if extendable {
        Vec::new()
    } else {
        let mut salt = b"shamir".to_vec();
        salt.extend_from_slice(&identifier.to_be_bytes());
        salt
    }
}

fn round(i: u8, passphrase: &[u8], e: u8, salt: &[u8], r: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut password = Zeroizing::new(vec![i]);
    password.extend_from_slice(passphrase);
    let mut salted = Zeroizing::new(salt.to_vec());
    salted.extend_from_slice(r);
    let mut out = Zeroizing::new(vec![0u8; r.len()]);
    let iterations = (BASE_ITERATIONS << e) / usize::from(ROUNDS);
    // PBKDF2 with a valid digest and a non-empty output cannot fail.
    let _ = pbkdf2_hmac(
        &password,
        &salted,
        iterations,
        MessageDigest::sha256(),
        &mut out,
    );
    out
}

fn feistel(
    input: &[u8],
    passphrase: &[u8],
    e: u8,
    identifier: u16,
    extendable: bool,
    order: &mut dyn Iterator<Item = u8>,
) -> Zeroizing<Vec<u8>> {
    let half = input.len() / 2;
    let mut l = Zeroizing::new(input[..half].to_vec());
    let mut r = Zeroizing::new(input[half..].to_vec());
    let salt = salt(identifier, extendable);
    for i in order {
        let f = round(i, passphrase, e, &salt, &r);
        let next: Vec<u8> = l.iter().zip(f.iter()).map(|(a, b)| a ^ b).collect();
        l = std::mem::replace(&mut r, Zeroizing::new(next));
    }
    let mut out = Zeroizing::new(r.to_vec());
    out.extend_from_slice(&l);
    out
}

/// The encrypted master secret.
pub fn encrypt(
    secret: &[u8],
    passphrase: &[u8],
    e: u8,
    identifier: u16,
    extendable: bool,
) -> Zeroizing<Vec<u8>> {
    feistel(
        secret,
        passphrase,
        e,
        identifier,
        extendable,
        &mut (0..ROUNDS),
    )
}

/// The master secret.
pub fn decrypt(
    encrypted: &[u8],
    passphrase: &[u8],
    e: u8,
    identifier: u16,
    extendable: bool,
) -> Zeroizing<Vec<u8>> {
    feistel(
        encrypted,
        passphrase,
        e,
        identifier,
        extendable,
        &mut (0..ROUNDS).rev(),
    )
}
