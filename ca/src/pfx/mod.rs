//! PKCS#12 (PFX) files in the two profiles Windows and Azure read (docs/pfx-profiles.md), built with OpenSSL's
//! PKCS12 builder. Never RC2: OpenSSL 3 refuses it without the legacy provider. Reading a PFX first checks its
//! declared iteration counts (`structure`), so a hostile file cannot keep certkit busy for minutes.

mod mac;
pub mod structure;

use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::X509;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Iterations for the compat profile: what Windows' Export-PfxCertificate writes.
pub const COMPAT_ITERATIONS: u32 = 2000;
/// PBKDF2 and MAC iterations for the modern profile: 50 times the compat work, and with key bag, cert bag and MAC
/// together (300,000) well inside .NET 9's limits (300,000 per derivation, 1,000,000 in all).
pub const MODERN_ITERATIONS: u32 = 100_000;

/// How a PFX is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PfxProfile {
    /// 3DES key and certificate bags, HMAC-SHA1 MAC, 2000 iterations: every Windows, Azure Cloud Services, .NET,
    /// Java, OpenSSL 3.
    #[default]
    Compat,
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), HMAC-SHA256 MAC: Windows 10 1709 / Server 2019 and later,
    /// OpenSSL 3, Java, .NET; NOT Azure Cloud Services.
    Modern,
}

impl PfxProfile {
    /// Both profiles, in the order the help lists them.
    pub const ALL: [PfxProfile; 2] = [PfxProfile::Compat, PfxProfile::Modern];

    /// One line on who reads it, for the help.
    pub fn summary(self) -> &'static str {
        match self {
            PfxProfile::Compat => {
                "3DES key and certificate bags, HMAC-SHA1 MAC, 2000 iterations: every Windows, Azure Cloud Services, .NET, Java, OpenSSL 3"
            }
            PfxProfile::Modern => {
                "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), HMAC-SHA256 MAC: Windows 10 1709 / Server 2019 and later, OpenSSL 3, Java, .NET; NOT Azure Cloud Services"
            }
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PfxProfile::Compat => "compat",
            PfxProfile::Modern => "modern",
        }
    }

    /// Algorithms and who can read it, for the success message.
    pub fn description(self) -> &'static str {
        match self {
            PfxProfile::Compat => {
                "3DES (pbeWithSHA1And3-KeyTripleDES-CBC) key and certificate bags, HMAC-SHA1 MAC, 2000 iterations; \
                 readable by every Windows, Azure Cloud Services, .NET, Java and OpenSSL 3"
            }
            PfxProfile::Modern => {
                "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) bags, HMAC-SHA256 MAC, 100000 iterations; readable by Windows \
                 10 1709 / Server 2019 and later, OpenSSL 3, Java and .NET, but NOT by Azure Cloud Services"
            }
        }
    }
}

/// Builds a PFX holding `key`, `cert` and the `chain` CA certificates, with `friendly_name` on key and
/// certificate (OpenSSL also sets localKeyID on both, pairing them).
pub fn build(
    profile: PfxProfile,
    key: &PKey<Private>,
    cert: &X509,
    chain: &[X509],
    friendly_name: &str,
    password: &Secret,
) -> Result<Vec<u8>> {
    let mut builder = Pkcs12::builder();
    builder.name(friendly_name).pkey(key).cert(cert);
    if !chain.is_empty() {
        let mut stack = Stack::new()?;
        for ca in chain {
            stack.push(ca.clone())?;
        }
        builder.ca(stack);
    }
    match profile {
        PfxProfile::Compat => {
            builder
                .key_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
                .cert_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
                .key_iter(COMPAT_ITERATIONS)
                .mac_iter(COMPAT_ITERATIONS)
                .mac_md(MessageDigest::sha1());
        }
        PfxProfile::Modern => {
            builder
                .key_algorithm(Nid::AES_256_CBC)
                .cert_algorithm(Nid::AES_256_CBC)
                .key_iter(MODERN_ITERATIONS)
                .mac_iter(MODERN_ITERATIONS)
                .mac_md(MessageDigest::sha256());
        }
    }
    let pfx = builder
        .build2(password.expose())
        .map_err(|e| Error::crypto("building the PFX", e))?;
    Ok(pfx.to_der()?)
}

/// The contents of a PFX file.
pub struct PfxContents {
    /// The private key, if the PFX has one.
    pub key: Option<PKey<Private>>,
    /// The end-entity certificate, if any.
    pub cert: Option<X509>,
    /// Other (CA) certificates.
    pub chain: Vec<X509>,
}

/// True if the file starts like a PKCS#12 (a DER SEQUENCE whose first element is INTEGER 3).
pub fn looks_like_pfx(bytes: &[u8]) -> bool {
    Pkcs12::from_der(bytes).is_ok()
}

/// The most iterations certkit runs one key derivation of a PFX with. Files it writes use 2000 or 100,000;
/// Windows, Java and OpenSSL write 2000 to 10,000. .NET 9 refuses more than 300,000; certkit reads up to this
/// (a fraction of a second) so that it can still convert such a file, and refuses absurd counts at once.
pub const MAX_PFX_ITERATIONS: u64 = 1_000_000;
/// The most iterations certkit runs for one PFX in all (every derivation of every bag and the MAC).
pub const MAX_PFX_TOTAL_ITERATIONS: u64 = 3_000_000;

/// Refuses a PFX whose declared key derivations are absurd, before any is run.
pub fn check_work(path: &Path, bytes: &[u8]) -> Result<structure::Structure> {
    let shape = structure::parse(bytes).map_err(|e| {
        Error::malformed(
            path,
            format!("not a PFX (PKCS#12) file, or damaged: {}", e.0),
        )
    })?;
    let mut total: u64 = 0;
    for p in shape.protections() {
        if p.iterations == 0 || p.iterations > MAX_PFX_ITERATIONS {
            return Err(Error::malformed(
                path,
                format!(
                    "the PFX asks for {} iterations ({}); certkit runs 1 to {MAX_PFX_ITERATIONS} per key derivation (.NET 9 refuses more than 300000): have it exported again with fewer",
                    p.iterations, p.algorithm
                ),
            ));
        }
        total = total.saturating_add(p.iterations.saturating_mul(p.derivations));
    }
    if total > MAX_PFX_TOTAL_ITERATIONS {
        return Err(Error::malformed(
            path,
            format!(
                "the PFX asks for {total} iterations in all; certkit runs at most {MAX_PFX_TOTAL_ITERATIONS}: have it exported again with fewer"
            ),
        ));
    }
    Ok(shape)
}

/// Loads OpenSSL 3's legacy provider (RC2, RC4, DES) beside the default one, once; false if it is not
/// installed.
fn legacy_provider() -> bool {
    static LEGACY: std::sync::OnceLock<Option<openssl::provider::Provider>> =
        std::sync::OnceLock::new();
    LEGACY
        .get_or_init(|| openssl::provider::Provider::try_load(None, "legacy", true).ok())
        .is_some()
}

/// Opens a PFX with its password.
pub fn read(path: &Path, bytes: &[u8], password: &Secret) -> Result<PfxContents> {
    let shape = check_work(path, bytes)?;
    // A PFX without a MAC gets one in memory (see `mac`): OpenSSL 3.0 would call its password wrong.
    let given_mac;
    let bytes = if shape.mac.is_none() && !password.expose().is_empty() {
        given_mac = mac::with_mac(bytes, password)?;
        &given_mac[..]
    } else {
        bytes
    };
    let pfx = Pkcs12::from_der(bytes)
        .map_err(|_| Error::malformed(path, "not a PFX (PKCS#12) file, or damaged"))?;
    let mut parsed = pfx.parse2(password.expose());
    if parsed
        .as_ref()
        .is_err_and(|e| e.to_string().contains("unsupported"))
        && legacy_provider()
    {
        // RC2 and RC4 (old pvk2pfx, `openssl pkcs12 -legacy`) are in OpenSSL 3's legacy provider: reading
        // such a file is how it gets converted to a profile everything reads.
        parsed = pfx.parse2(password.expose());
    }
    let parsed = parsed.map_err(|e| {
        let text = e.to_string();
        if text.contains("mac verify failure") || text.contains("mac_verify") {
            Error::WrongPassword { path: path.into() }
        } else if text.contains("unsupported") {
            Error::malformed(
                path,
                "uses an algorithm OpenSSL 3 reads only with its legacy provider (RC2-40 from an old pvk2pfx?), which is not installed here; re-export it from Windows with AES or 3DES",
            )
        } else {
            Error::malformed(path, format!("cannot open the PFX: wrong password or damaged file ({text})"))
        }
    })?;
    let chain = parsed
        .ca
        .map(|s| s.into_iter().collect())
        .unwrap_or_default();
    Ok(PfxContents {
        key: parsed.pkey,
        cert: parsed.cert,
        chain,
    })
}

#[cfg(test)]
mod tests {
    use super::structure::{BagKind, Content};
    use super::*;

    fn sample(profile: PfxProfile) -> Vec<u8> {
        let key = crate::keys::KeyType::P256.generate().expect("key");
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let cert = params.self_signed(&key).expect("cert");
        let pkey = PKey::private_key_from_pkcs8(&key.serialize_der()).expect("pkey");
        let x509 = X509::from_der(cert.der()).expect("x509");
        let password = Secret::new(zeroize::Zeroizing::new("a long enough password".into()));
        build(profile, &pkey, &x509, &[], "Alice", &password).expect("pfx")
    }

    #[test]
    fn the_structure_of_both_profiles_reads_back() {
        let compat = structure::parse(&sample(PfxProfile::Compat)).expect("compat");
        let mac = compat.mac.as_ref().expect("mac");
        assert_eq!(
            (mac.algorithm.as_str(), mac.iterations),
            ("HMAC-SHA1", 2000)
        );
        let encrypted = compat
            .contents
            .iter()
            .find_map(|c| match c {
                Content::Encrypted { protection } => Some(protection),
                _ => None,
            })
            .expect("encrypted certificates");
        assert_eq!(encrypted.algorithm, "pbeWithSHA1And3-KeyTripleDES-CBC");
        let key_bag = compat
            .contents
            .iter()
            .find_map(|c| match c {
                Content::Data { bags } => bags.iter().find(|b| b.kind == BagKind::ShroudedKey),
                _ => None,
            })
            .expect("shrouded key");
        assert_eq!(key_bag.friendly_name.as_deref(), Some("Alice"));
        assert!(key_bag.local_key_id.is_some());
        assert_eq!(
            key_bag.protection.as_ref().map(|p| p.iterations),
            Some(2000)
        );

        let modern = structure::parse(&sample(PfxProfile::Modern)).expect("modern");
        let mac = modern.mac.as_ref().expect("mac");
        assert_eq!(
            (mac.algorithm.as_str(), mac.iterations),
            ("HMAC-SHA256", 100_000)
        );
        for p in modern.protections().iter().skip(1) {
            assert_eq!(p.algorithm, "PBES2 AES-256-CBC");
            assert_eq!(p.kdf, "PBKDF2-HMAC-SHA256");
            assert_eq!(p.iterations, 100_000);
        }
    }

    #[test]
    fn absurd_counts_are_refused_before_any_work() {
        let mut bytes = sample(PfxProfile::Compat);
        // The MAC's iteration count is the file's last INTEGER: 02 02 07 D0 (2000). Make it 0.
        let at = bytes.len() - 2;
        bytes[at] = 0;
        bytes[at + 1] = 0;
        let err = check_work(Path::new("x.pfx"), &bytes).expect_err("zero iterations");
        assert!(err.to_string().contains("iterations"), "{err}");
    }
}
