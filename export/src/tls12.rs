//! TLS 1.2 readiness, after the second source guide (TLS 1.2 for Azure Backup): the registry settings old
//! Windows needs, and the root CAs Azure's TLS endpoints chain to (docs/tls12.md).

use serde::Serialize;
use time::OffsetDateTime;

use certkit_ca::{CertInfo, Thumbprint};

/// The guide's registry settings: SChannel's TLS 1.2 client on, and .NET Framework 4.x using the system's TLS
/// versions and strong crypto, in the 64-bit and the 32-bit (WOW6432Node) keys.
pub const REGISTRY: &[(&str, &[(&str, u32)])] = &[
    (
        r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client",
        &[("Enabled", 1), ("DisabledByDefault", 0)],
    ),
    (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\.NETFramework\v4.0.30319",
        &[("SystemDefaultTlsVersions", 1), ("SchUseStrongCrypto", 1)],
    ),
    (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319",
        &[("SystemDefaultTlsVersions", 1), ("SchUseStrongCrypto", 1)],
    ),
];

/// The `.reg` file's text (regedit 5 format, CRLF line ends), before encoding.
pub fn reg_text() -> String {
    let mut text = String::from("Windows Registry Editor Version 5.00\r\n");
    for (key, values) in REGISTRY {
        text.push_str(&format!("\r\n[{key}]\r\n"));
        for (name, value) in *values {
            text.push_str(&format!("\"{name}\"=dword:{value:08x}\r\n"));
        }
    }
    text
}

/// The `.reg` file's bytes: UTF-16LE with a byte order mark, the encoding regedit writes and `reg import`
/// expects for "Version 5.00" files.
pub fn reg_bytes() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in reg_text().encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// A root CA that Azure's TLS endpoints chain to.
#[derive(Clone, Copy, Debug)]
pub struct AzureRoot {
    /// Its common name, as the guide gives it.
    pub name: &'static str,
    /// Its SHA-1 thumbprint.
    pub thumbprint: &'static str,
    /// When it expires: an expired root is no longer needed.
    pub expires: &'static str,
}

/// The guide's table of roots.
pub const AZURE_ROOTS: [AzureRoot; 6] = [
    AzureRoot {
        name: "DigiCert Global Root G2",
        thumbprint: "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
        expires: "2038-01-15",
    },
    AzureRoot {
        name: "DigiCert Global Root CA",
        thumbprint: "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
        expires: "2031-11-10",
    },
    AzureRoot {
        name: "Baltimore CyberTrust Root",
        thumbprint: "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
        expires: "2025-05-12",
    },
    AzureRoot {
        name: "D-TRUST Root Class 3 CA 2 2009",
        thumbprint: "58E8ABB0361533FB80F79B1B6D29D3FF8D5F00F0",
        expires: "2029-11-05",
    },
    AzureRoot {
        name: "Microsoft RSA Root Certificate Authority 2017",
        thumbprint: "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
        expires: "2042-07-18",
    },
    AzureRoot {
        name: "Microsoft ECC Root Certificate Authority 2017",
        thumbprint: "999A64C37FF47D9FAB95F14769891460EEC4C3C5",
        expires: "2042-07-18",
    },
];

/// What a trust store holds of one root.
#[derive(Clone, Debug, Serialize)]
pub struct RootStatus {
    /// The root's name.
    pub name: &'static str,
    /// Its SHA-1 thumbprint.
    pub thumbprint: Thumbprint,
    /// `present`, `missing` or `expired`.
    pub status: &'static str,
    /// Whether its absence breaks TLS to Azure (false for a root that has expired anyway).
    pub needed: bool,
    /// When it expires.
    pub expires: &'static str,
}

/// Each of Azure's roots against the certificates of a trust store.
pub fn check_roots(store: &[CertInfo], now: OffsetDateTime) -> Vec<RootStatus> {
    AZURE_ROOTS
        .iter()
        .filter_map(|root| {
            let thumbprint = Thumbprint::parse(root.thumbprint).ok()?;
            let expired_anyway =
                certkit_ca::dates::parse_date(root.expires).is_ok_and(|d| d < now.date());
            let found = store.iter().find(|c| c.thumbprint == thumbprint);
            let status = match found {
                Some(cert) if cert.not_after < now => "expired",
                Some(_) => "present",
                None => "missing",
            };
            Some(RootStatus {
                name: root.name,
                thumbprint,
                status,
                needed: !expired_anyway,
                expires: root.expires,
            })
        })
        .collect()
}
