//! A PFX's facts without its password (how each part is protected), with it (key, certificates, chain), and
//! whether the consumers of the guide's certificates will load it.

use serde::Serialize;

use certkit_ca::pfx::structure::{BagKind, Content, Protection, Structure};

/// The iterations .NET 9's PKCS#12 loader allows for one key derivation.
pub const DOTNET_ITERATIONS_EACH: u64 = 300_000;
/// The iterations .NET 9's loader allows for a whole file.
pub const DOTNET_ITERATIONS_TOTAL: u64 = 1_000_000;
/// The iterations Java's PKCS12 keystore allows for one derivation.
pub const JAVA_ITERATIONS_EACH: u64 = 5_000_000;

/// One protected part of a PFX.
#[derive(Clone, Debug, Serialize)]
pub struct ProtectedPart {
    /// What it protects: `mac`, `certificates` (an encrypted content), `key` (a shrouded key bag).
    pub part: &'static str,
    /// The algorithm, e.g. `pbeWithSHA1And3-KeyTripleDES-CBC`, `PBES2 AES-256-CBC`, `HMAC-SHA256`.
    pub algorithm: String,
    /// The key derivation.
    pub kdf: String,
    /// Its iterations.
    pub iterations: u64,
    /// friendlyName of a key bag.
    pub friendly_name: Option<String>,
    /// localKeyID of a key bag, hex.
    pub local_key_id: Option<String>,
}

/// Whether one consumer will load the file.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// `windows-legacy`, `windows-modern`, `dotnet`, `openssl3` or `java`.
    pub consumer: &'static str,
    /// Whether it loads.
    pub ok: bool,
    /// Why not (or what it checks when it does).
    pub reason: String,
}

/// Every protected part of the file, in order: the MAC first.
pub fn parts(structure: &Structure) -> Vec<ProtectedPart> {
    let part = |name: &'static str, p: &Protection| ProtectedPart {
        part: name,
        algorithm: p.algorithm.clone(),
        kdf: p.kdf.clone(),
        iterations: p.iterations,
        friendly_name: None,
        local_key_id: None,
    };
    let mut out: Vec<ProtectedPart> = structure.mac.iter().map(|m| part("mac", m)).collect();
    for content in &structure.contents {
        match content {
            Content::Encrypted { protection } => out.push(part("certificates", protection)),
            Content::Data { bags } => {
                for bag in bags {
                    if let (BagKind::ShroudedKey, Some(p)) = (&bag.kind, &bag.protection) {
                        let mut key = part("key", p);
                        key.friendly_name = bag.friendly_name.clone();
                        key.local_key_id = bag.local_key_id.clone();
                        out.push(key);
                    }
                }
            }
            Content::Enveloped => {}
        }
    }
    out
}

const LEGACY_CIPHERS: [&str; 4] = [
    "pbeWithSHA1And3-KeyTripleDES-CBC",
    "pbeWithSHA1And2-KeyTripleDES-CBC",
    "pbeWithSHA1And40BitRC2-CBC",
    "pbeWithSHA1And128BitRC2-CBC",
];
/// What OpenSSL 3 reads only with its legacy provider: RC2, RC4 and single DES, in PKCS#12 PBE or PBES2.
const OPENSSL_LEGACY_ONLY: [&str; 9] = [
    "pbeWithSHA1And40BitRC2-CBC",
    "pbeWithSHA1And128BitRC2-CBC",
    "pbeWithSHA1And40BitRC4",
    "pbeWithSHA1And128BitRC4",
    "pbeWithMD5AndDES-CBC",
    "pbeWithSHA1AndDES-CBC",
    "PBES2 DES-CBC",
    "PBES2 RC2-CBC",
    "pbeWithMD5AndRC2-CBC",
];
/// The encryptions JDK 17's PKCS12 keystore reads (SunJCE's PBE algorithms; in PBES2 only AES-128 and
/// AES-256), as keytool shows (tests/tests/inspect.rs checks each against it).
const JAVA_CIPHERS: [&str; 8] = [
    "pbeWithSHA1And3-KeyTripleDES-CBC",
    "pbeWithSHA1And40BitRC2-CBC",
    "pbeWithSHA1And128BitRC2-CBC",
    "pbeWithSHA1And40BitRC4",
    "pbeWithSHA1And128BitRC4",
    "pbeWithMD5AndDES-CBC",
    "PBES2 AES-128-CBC",
    "PBES2 AES-256-CBC",
];
/// The MACs JDK 17's PKCS12 keystore verifies (HmacPBESHA1 ... HmacPBESHA512/256; never MD5).
const JAVA_MACS: [&str; 7] = [
    "HMAC-SHA1",
    "HMAC-SHA224",
    "HMAC-SHA256",
    "HMAC-SHA384",
    "HMAC-SHA512",
    "HMAC-SHA512-224",
    "HMAC-SHA512-256",
];
/// The PBKDF2 pseudorandom functions JDK 17 derives PBES2 keys with.
const JAVA_PRFS: [&str; 5] = [
    "PBKDF2-HMAC-SHA1",
    "PBKDF2-HMAC-SHA224",
    "PBKDF2-HMAC-SHA256",
    "PBKDF2-HMAC-SHA384",
    "PBKDF2-HMAC-SHA512",
];

fn is_pbes2_aes(algorithm: &str) -> bool {
    algorithm.starts_with("PBES2 AES-")
}

/// The verdict of each consumer of the guide's files.
pub fn compatibility(parts: &[ProtectedPart], enveloped: bool) -> Vec<Verdict> {
    let ciphers: Vec<&ProtectedPart> = parts.iter().filter(|p| p.part != "mac").collect();
    let mac = parts.iter().find(|p| p.part == "mac");
    let described = |p: &ProtectedPart| format!("{} ({})", p.part, p.algorithm);
    let mut verdicts = Vec::new();

    let legacy_bad: Vec<String> = ciphers
        .iter()
        .filter(|p| !LEGACY_CIPHERS.contains(&p.algorithm.as_str()))
        .map(|p| described(p))
        .chain(mac.filter(|m| m.algorithm != "HMAC-SHA1").map(&described))
        .collect();
    verdicts.push(Verdict {
        consumer: "windows-legacy",
        ok: legacy_bad.is_empty() && !enveloped,
        reason: if legacy_bad.is_empty() {
            "3DES or RC2 encryption with a SHA-1 MAC".into()
        } else {
            format!(
                "{}: Windows before 10 1709 / Server 2016 and Azure Cloud Services read only 3DES or RC2 with a SHA-1 MAC, and say \"the password is incorrect\"",
                legacy_bad.join(", ")
            )
        },
    });

    let modern_bad: Vec<String> = ciphers
        .iter()
        .filter(|p| !LEGACY_CIPHERS.contains(&p.algorithm.as_str()) && !is_pbes2_aes(&p.algorithm))
        .map(|p| described(p))
        .collect();
    verdicts.push(Verdict {
        consumer: "windows-modern",
        ok: modern_bad.is_empty() && !enveloped,
        reason: if modern_bad.is_empty() {
            "3DES, RC2 or PBES2 AES".into()
        } else {
            format!(
                "{}: Windows reads 3DES, RC2 and PBES2 AES only",
                modern_bad.join(", ")
            )
        },
    });

    let too_many: Vec<String> = parts
        .iter()
        .filter(|p| p.iterations > DOTNET_ITERATIONS_EACH)
        .map(|p| format!("{} ({} iterations)", p.part, p.iterations))
        .collect();
    let total: u64 = parts.iter().map(|p| p.iterations).sum();
    verdicts.push(Verdict {
        consumer: "dotnet",
        ok: too_many.is_empty() && total <= DOTNET_ITERATIONS_TOTAL && modern_bad.is_empty(),
        reason: if !too_many.is_empty() {
            format!(
                "{}: .NET 9's loader allows {DOTNET_ITERATIONS_EACH} iterations per key derivation",
                too_many.join(", ")
            )
        } else if total > DOTNET_ITERATIONS_TOTAL {
            format!(
                "{total} iterations in all: .NET 9's loader allows {DOTNET_ITERATIONS_TOTAL} per file"
            )
        } else if !modern_bad.is_empty() {
            format!("{}: .NET reads 3DES, RC2 and PBES2 AES only", modern_bad.join(", "))
        } else {
            format!("{total} iterations in all, within .NET 9's loader limits")
        },
    });

    let needs_legacy: Vec<String> = ciphers
        .iter()
        .filter(|p| OPENSSL_LEGACY_ONLY.contains(&p.algorithm.as_str()))
        .map(|p| described(p))
        .collect();
    verdicts.push(Verdict {
        consumer: "openssl3",
        ok: needs_legacy.is_empty() && !enveloped,
        reason: if needs_legacy.is_empty() {
            "no algorithm of the legacy provider".into()
        } else {
            format!(
                "{}: OpenSSL 3 reads it only with its legacy provider (openssl pkcs12 -legacy)",
                needs_legacy.join(", ")
            )
        },
    });
    verdicts.push(Verdict {
        consumer: "openssl3-legacy",
        ok: !enveloped,
        reason: "OpenSSL 3 with its legacy provider (openssl pkcs12 -legacy) reads every PKCS#12 encryption"
            .into(),
    });

    let java_bad: Vec<String> = ciphers
        .iter()
        .filter(|p| {
            !JAVA_CIPHERS.contains(&p.algorithm.as_str())
                || (p.algorithm.starts_with("PBES2") && !JAVA_PRFS.contains(&p.kdf.as_str()))
        })
        .map(|p| format!("{} ({}, {})", p.part, p.algorithm, p.kdf))
        .chain(
            mac.filter(|m| !JAVA_MACS.contains(&m.algorithm.as_str()))
                .map(&described),
        )
        .collect();
    let java_too_many: Vec<String> = parts
        .iter()
        .filter(|p| p.iterations > JAVA_ITERATIONS_EACH)
        .map(|p| format!("{} ({} iterations)", p.part, p.iterations))
        .collect();
    verdicts.push(Verdict {
        consumer: "java",
        ok: java_bad.is_empty() && java_too_many.is_empty() && !enveloped,
        reason: if !java_bad.is_empty() {
            format!(
                "{}: Java's PKCS12 keystore reads 3DES, RC2, RC4, MD5-DES and PBES2 AES-128/256 with a SHA MAC only",
                java_bad.join(", ")
            )
        } else if !java_too_many.is_empty() {
            format!(
                "{}: Java's PKCS12 keystore allows {JAVA_ITERATIONS_EACH} iterations",
                java_too_many.join(", ")
            )
        } else {
            "3DES, RC2, RC4, MD5-DES or PBES2 AES-128/256, with a SHA MAC".into()
        },
    });
    verdicts
}
