//! Key generation (rcgen on aws-lc) and private keys at rest (encrypted PKCS#8 PEM, PBKDF2-SHA256).

use std::fmt;
use std::path::Path;

use pkcs8::pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfoRef, LineEnding, PrivateKeyInfoRef, SecretDocument};
use rcgen::{KeyPair, RsaKeySize};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// PBKDF2-HMAC-SHA256 iterations for keys at rest: OWASP's current guidance; OpenSSL 3 reads it.
pub const KEY_FILE_PBKDF2_ITERATIONS: u32 = 600_000;

/// The most PBKDF2 iterations certkit derives a key file's key with: today's 600,000 with room to spare (a
/// fraction of a second here). A key file asking for more is a mistake or an attack (2^31 would take minutes),
/// and is refused before any work is done.
pub const MAX_KEY_FILE_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The environment variable a debug build takes another count of iterations from ([`key_file_iterations`]).
pub const DEBUG_KDF_ITERATIONS_VAR: &str = "CERTKIT_DEBUG_KDF_ITERATIONS";

/// The PBKDF2 iterations certkit encrypts a key file with: [`KEY_FILE_PBKDF2_ITERATIONS`], always, in a release
/// build. A debug build (`cargo build`, `debug_assertions` on) takes another count from 1 to
/// [`MAX_KEY_FILE_PBKDF2_ITERATIONS`] from `CERTKIT_DEBUG_KDF_ITERATIONS`: the test suite unlocks and writes
/// keys thousands of times, and spent most of its time deriving keys (docs/testing.md). Reading a key file
/// always uses the count the file names.
pub fn key_file_iterations() -> u32 {
    if cfg!(debug_assertions)
        && let Some(n) = std::env::var(DEBUG_KDF_ITERATIONS_VAR)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| (1..=MAX_KEY_FILE_PBKDF2_ITERATIONS).contains(n))
    {
        return n;
    }
    KEY_FILE_PBKDF2_ITERATIONS
}

/// The most memory (128 · N · r bytes) an scrypt-protected key file may ask for: twice OpenSSL's own limit.
pub const MAX_SCRYPT_MEMORY: u64 = 64 << 20;

/// The key algorithms certkit generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// RSA 2048 bits: the minimum Azure Cloud Services accepts, and the default.
    Rsa2048,
    /// RSA 3072 bits.
    Rsa3072,
    /// RSA 4096 bits.
    Rsa4096,
    /// ECDSA on NIST P-256 (not for Azure Cloud Services, which wants RSA key exchange).
    P256,
    /// ECDSA on NIST P-384.
    P384,
}

impl KeyType {
    /// Every key type, in the order the help lists them.
    pub const ALL: [KeyType; 5] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::P256,
        KeyType::P384,
    ];

    /// Its name on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
            KeyType::P256 => "p256",
            KeyType::P384 => "p384",
        }
    }

    /// One line on what it is and where it fits.
    pub fn description(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => {
                "RSA 2048 bits: the minimum Azure Cloud Services accepts, and the default"
            }
            KeyType::Rsa3072 => "RSA 3072 bits",
            KeyType::Rsa4096 => "RSA 4096 bits",
            KeyType::P256 => {
                "ECDSA on NIST P-256 (not for Azure Cloud Services, which wants RSA key exchange)"
            }
            KeyType::P384 => "ECDSA on NIST P-384",
        }
    }

    /// The signature algorithm a key of this type signs with: RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256
    /// on P-256 and SHA-384 on P-384.
    pub fn signature_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        if self.is_rsa() {
            &rcgen::PKCS_RSA_SHA256
        } else if self == KeyType::P384 {
            &rcgen::PKCS_ECDSA_P384_SHA384
        } else {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }

    /// Generates a fresh key pair of this type.
    pub fn generate(self) -> Result<KeyPair> {
        let algorithm = self.signature_algorithm();
        let key = match self {
            KeyType::Rsa2048 => KeyPair::generate_rsa_for(algorithm, RsaKeySize::_2048),
            KeyType::Rsa3072 => KeyPair::generate_rsa_for(algorithm, RsaKeySize::_3072),
            KeyType::Rsa4096 => KeyPair::generate_rsa_for(algorithm, RsaKeySize::_4096),
            KeyType::P256 | KeyType::P384 => KeyPair::generate_for(algorithm),
        };
        key.map_err(|e| Error::crypto("generating a key", e))
    }

    /// True for RSA keys (which may do key encipherment).
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    /// The type of a public key given as SubjectPublicKeyInfo DER, if certkit knows it.
    pub fn of_spki_der(spki: &[u8]) -> Result<Self> {
        use x509_parser::prelude::FromDer;
        // Read with x509-parser: decoding a key with OpenSSL 3.0 takes global locks, and the audit does this
        // for every certificate.
        let unsupported = || {
            Error::BadInput(
                "unsupported key: certkit handles RSA 2048-4096, P-256 and P-384".into(),
            )
        };
        let (_, info) =
            x509_parser::x509::SubjectPublicKeyInfo::from_der(spki).map_err(|_| unsupported())?;
        Self::of_spki(&info)
    }

    /// The type of a parsed SubjectPublicKeyInfo.
    pub fn of_spki(info: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Result<Self> {
        use x509_parser::public_key::PublicKey;
        let unsupported = || {
            Error::BadInput(
                "unsupported key: certkit handles RSA 2048-4096, P-256 and P-384".into(),
            )
        };
        match info.parsed().map_err(|_| unsupported())? {
            PublicKey::RSA(rsa) => match rsa.key_size() {
                2048 => Ok(KeyType::Rsa2048),
                3072 => Ok(KeyType::Rsa3072),
                4096 => Ok(KeyType::Rsa4096),
                bits => Err(Error::BadInput(format!(
                    "RSA keys of {bits} bits are not accepted: use 2048, 3072 or 4096"
                ))),
            },
            PublicKey::EC(_) => {
                let curve = info
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| oid.to_id_string());
                match curve.as_deref() {
                    Some("1.2.840.10045.3.1.7") => Ok(KeyType::P256),
                    Some("1.3.132.0.34") => Ok(KeyType::P384),
                    _ => Err(unsupported()),
                }
            }
            _ => Err(unsupported()),
        }
    }

    /// The type of an OpenSSL public key.
    pub fn of_public<T: openssl::pkey::HasPublic>(key: &openssl::pkey::PKeyRef<T>) -> Result<Self> {
        use openssl::nid::Nid;
        use openssl::pkey::Id;
        let unsupported = || {
            Error::BadInput(
                "unsupported key: certkit handles RSA 2048-4096, P-256 and P-384".into(),
            )
        };
        match key.id() {
            Id::RSA => match key.bits() {
                2048 => Ok(KeyType::Rsa2048),
                3072 => Ok(KeyType::Rsa3072),
                4096 => Ok(KeyType::Rsa4096),
                bits => Err(Error::BadInput(format!(
                    "RSA keys of {bits} bits are not accepted: use 2048, 3072 or 4096"
                ))),
            },
            Id::EC => match key.ec_key()?.group().curve_name() {
                Some(Nid::X9_62_PRIME256V1) => Ok(KeyType::P256),
                Some(Nid::SECP384R1) => Ok(KeyType::P384),
                _ => Err(unsupported()),
            },
            _ => Err(unsupported()),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Encrypts a key pair as an `ENCRYPTED PRIVATE KEY` PEM (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC).
pub fn encrypt_pem(key: &KeyPair, password: &Secret) -> Result<Zeroizing<String>> {
    let der = Zeroizing::new(key.serialize_der());
    encrypt_pkcs8_der(&der, password)
}

/// Encrypts PKCS#8 DER as an `ENCRYPTED PRIVATE KEY` PEM.
pub fn encrypt_pkcs8_der(der: &[u8], password: &Secret) -> Result<Zeroizing<String>> {
    let info = PrivateKeyInfoRef::try_from(der).map_err(|e| Error::Encoding {
        what: "the private key",
        detail: e.to_string(),
    })?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt)?;
    openssl::rand::rand_bytes(&mut iv)?;
    let params =
        pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(key_file_iterations(), &salt, iv)
            .map_err(|e| Error::crypto("key encryption parameters", e))?;
    let encrypted = info
        .encrypt_with_params(params, password.expose().as_bytes())
        .map_err(|e| Error::crypto("encrypting the key", e))?;
    encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map_err(|e| Error::Encoding {
            what: "the encrypted key as PEM",
            detail: e.to_string(),
        })
}

/// Decrypts an `ENCRYPTED PRIVATE KEY` PEM read from `path` into PKCS#8 DER.
pub fn decrypt_pem_to_der(path: &Path, pem: &str, password: &Secret) -> Result<SecretDocument> {
    let (label, doc) = SecretDocument::from_pem(pem.trim_start()).map_err(|_| {
        Error::malformed(
            path,
            "not a PEM key file; expected an ENCRYPTED PRIVATE KEY written by certkit or openssl",
        )
    })?;
    match label {
        "ENCRYPTED PRIVATE KEY" => {}
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            return Err(Error::malformed(
                path,
                "the key is not encrypted; certkit keeps keys encrypted: run \
                 \"openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.enc\" and use KEY.enc",
            ));
        }
        other => {
            return Err(Error::malformed(
                path,
                format!("holds a {other}, not an encrypted private key"),
            ));
        }
    }
    let info = EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
        .map_err(|e| Error::malformed(path, format!("damaged encrypted key: {e}")))?;
    check_kdf(&info.encryption_algorithm, path)?;
    info.decrypt(password.expose().as_bytes())
        .map_err(|_| Error::WrongPassword { path: path.into() })
}

/// How an encrypted PKCS#8 key is protected, read without its password (for `inspect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyEncryption {
    /// `PBES2` or `PBES1`.
    pub scheme: &'static str,
    /// The key derivation: `PBKDF2-HMAC-SHA256`, `scrypt`, ...
    pub kdf: String,
    /// PBKDF2 (or PBES1) iterations.
    pub iterations: Option<u64>,
    /// scrypt's N, r and p.
    pub scrypt: Option<[u64; 3]>,
    /// The cipher: `AES-256-CBC`, ...
    pub cipher: String,
}

/// How the `EncryptedPrivateKeyInfo` in `der` is protected.
pub fn key_encryption(der: &[u8]) -> std::result::Result<KeyEncryption, String> {
    use pkcs8::pkcs5::pbes2::{EncryptionScheme as Cipher, Kdf, Pbkdf2Prf};
    let info = EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| e.to_string())?;
    match &info.encryption_algorithm {
        pkcs8::pkcs5::EncryptionScheme::Pbes2(params) => {
            let cipher = match params.encryption {
                Cipher::Aes128Cbc { .. } => "AES-128-CBC",
                Cipher::Aes192Cbc { .. } => "AES-192-CBC",
                Cipher::Aes256Cbc { .. } => "AES-256-CBC",
                Cipher::Aes128Gcm { .. } => "AES-128-GCM",
                Cipher::Aes256Gcm { .. } => "AES-256-GCM",
                _ => "unknown",
            };
            let (kdf, iterations, scrypt) = match &params.kdf {
                Kdf::Pbkdf2(p) => {
                    let prf = match p.prf {
                        Pbkdf2Prf::HmacWithSha1 => "HMAC-SHA1",
                        Pbkdf2Prf::HmacWithSha224 => "HMAC-SHA224",
                        Pbkdf2Prf::HmacWithSha256 => "HMAC-SHA256",
                        Pbkdf2Prf::HmacWithSha384 => "HMAC-SHA384",
                        Pbkdf2Prf::HmacWithSha512 => "HMAC-SHA512",
                        _ => "unknown",
                    };
                    (
                        format!("PBKDF2-{prf}"),
                        Some(u64::from(p.iteration_count)),
                        None,
                    )
                }
                Kdf::Scrypt(p) => (
                    "scrypt".to_string(),
                    None,
                    Some([
                        p.cost_parameter,
                        u64::from(p.block_size),
                        u64::from(p.parallelization),
                    ]),
                ),
                _ => ("unknown".to_string(), None, None),
            };
            Ok(KeyEncryption {
                scheme: "PBES2",
                kdf,
                iterations,
                scrypt,
                cipher: cipher.into(),
            })
        }
        pkcs8::pkcs5::EncryptionScheme::Pbes1(algorithm) => Ok(KeyEncryption {
            scheme: "PBES1",
            kdf: "PBKDF1".into(),
            iterations: Some(u64::from(algorithm.parameters.iteration_count)),
            scrypt: None,
            cipher: format!("{:?}", algorithm.encryption),
        }),
        _ => Err("an unknown encryption scheme".into()),
    }
}

/// Refuses key-derivation parameters that are invalid or absurd, before deriving anything: a hostile key file
/// must not crash certkit or keep it busy for minutes.
fn check_kdf(scheme: &pkcs8::pkcs5::EncryptionScheme, path: &Path) -> Result<()> {
    use pkcs8::pkcs5::pbes2::Kdf;
    let refuse = |what: String| Error::malformed(path, what);
    let Some(pbes2) = scheme.pbes2() else {
        return Err(refuse(
            "the key is encrypted with the old PBES1 scheme; convert it with \"openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.new\""
                .into(),
        ));
    };
    match &pbes2.kdf {
        Kdf::Pbkdf2(params) => {
            let n = params.iteration_count;
            if n == 0 || n > MAX_KEY_FILE_PBKDF2_ITERATIONS {
                return Err(refuse(format!(
                    "the key asks for {n} PBKDF2 iterations; certkit accepts 1 to {MAX_KEY_FILE_PBKDF2_ITERATIONS} (re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000)"
                )));
            }
        }
        Kdf::Scrypt(params) => {
            let (n, r, p) = (
                params.cost_parameter,
                u64::from(params.block_size),
                u64::from(params.parallelization),
            );
            let valid =
                n >= 2 && n.is_power_of_two() && (1..=32).contains(&r) && (1..=16).contains(&p);
            if !valid || n.saturating_mul(r).saturating_mul(128) > MAX_SCRYPT_MEMORY {
                return Err(refuse(format!(
                    "the key asks for scrypt N={n} r={r} p={p}; certkit accepts N a power of two from 2 with 128·N·r up to {} MiB, r 1 to 32, p 1 to 16",
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
        }
        _ => {
            return Err(refuse(
                "the key uses an unknown key derivation function".into(),
            ));
        }
    }
    Ok(())
}

/// Reads and decrypts a key file into an rcgen key pair.
pub fn load_key(path: &Path, password: &Secret) -> Result<KeyPair> {
    let bytes = crate::files::read(path)?;
    let pem = Zeroizing::new(
        String::from_utf8(bytes).map_err(|_| Error::malformed(path, "not a PEM text file"))?,
    );
    let der = decrypt_pem_to_der(path, &pem, password)?;
    // A wrong password can still decrypt to garbage that passes the padding check: parsing catches it.
    KeyPair::try_from(der.as_bytes()).map_err(|_| Error::WrongPassword { path: path.into() })
}

/// The subject key identifier of a public key (SubjectPublicKeyInfo DER): the leftmost 160 bits of the SHA-256
/// of its subjectPublicKey BIT STRING (RFC 7093 section 2, method 1), a method linters and verifiers recognise.
pub fn subject_key_id(spki_der: &[u8]) -> Result<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|_| Error::Bug("a public key that cannot be read was about to be certified"))?;
    Ok(crate::digest::sha256(&spki.subject_public_key.data)[..20].to_vec())
}

/// The key identifier of RFC 5280 section 4.2.1.2 method 1: the SHA-1 of the subjectPublicKey BIT STRING, as
/// OpenSSL (`subjectKeyIdentifier = hash`), easy-rsa and XCA write it.
pub fn sha1_key_id(spki_der: &[u8]) -> Result<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|_| Error::Bug("a public key that cannot be read was about to be named"))?;
    Ok(crate::digest::sha1(&spki.subject_public_key.data).to_vec())
}

/// The identifier a CA key is known by in file names, `ca.json` and listings: its subject key identifier
/// (RFC 7093 method 1), uppercase hex.
pub fn key_id(spki_der: &[u8]) -> Result<String> {
    Ok(crate::thumbprint::hex_upper(&subject_key_id(spki_der)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_through_encrypted_pem() {
        let key = KeyType::P256.generate().expect("keygen");
        let pw = Secret::new(Zeroizing::new("a long enough password".into()));
        let pem = encrypt_pem(&key, &pw).expect("encrypt");
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.key");
        std::fs::write(&path, pem.as_bytes()).expect("write");
        let back = load_key(&path, &pw).expect("decrypt");
        assert_eq!(back.public_key_raw(), key.public_key_raw());
        let wrong = Secret::new(Zeroizing::new("not the password".into()));
        assert!(matches!(
            load_key(&path, &wrong),
            Err(Error::WrongPassword { .. })
        ));
    }
}
