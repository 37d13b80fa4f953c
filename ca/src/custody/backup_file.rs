//! The backup file (`certkit-ca backup`): the CA private key as a PKCS#8 `EncryptedPrivateKeyInfo` whose
//! password is the hex of a random 256-bit secret, the CA certificate, and a header that names the CA and the
//! split of the secret into SLIP-39 shares. Nothing in it opens the key without the shares, and everything in
//! it can be read with the openssl CLI once the shares are combined (docs/custody.md). A checksum over the
//! whole file tells a damaged copy from a good one before any share is asked for; a MAC keyed by the secret
//! (`header-mac`) proves, once the shares are combined, that nobody without them changed the header, the
//! certificates or the key: what the restored CA will use (its CRL and AIA URLs, its parent, its chain).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::certinfo::CertInfo;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files::sha256_hex;
use crate::keys;
use crate::secret::Secret;
use crate::slip39::Scheme;
use crate::store::ParentRecord;
use crate::thumbprint::{Thumbprint, hex_upper};

const TITLE: &str =
    "certkit CA key backup: the CA private key, encrypted under a secret split into SLIP-39 shares";
const RECOVER: &str = "recover-without-certkit: combine the shares with \"shamir recover\" (pip install shamir-mnemonic), then \"openssl pkey -in THIS-FILE -passin pass:SECRET\" where SECRET is the hex it prints (docs/custody.md)";
const CHECKSUM: &str = "checksum: ";
const KEY_LABEL: &str = "ENCRYPTED PRIVATE KEY";

const HEADER_MAC: &str = "header-mac";

/// What a restored CA needs besides its key and certificate: its settings and, for a CA below another, the
/// chain up to its root.
#[derive(Clone, Debug, Default)]
pub struct BackupSettings {
    /// The CA's CRL distribution point.
    pub crl_url: Option<String>,
    /// Where its certificate is published (authorityInfoAccess caIssuers).
    pub aia_url: Option<String>,
    /// Its OCSP responder (authorityInfoAccess id-ad-ocsp).
    pub ocsp_url: Option<String>,
    /// The CA above it, for an issuing CA.
    pub parent: Option<ParentRecord>,
    /// The CAs above it, the one that signed it first, the root last (what `chain.pem` holds above it).
    pub chain: Vec<CertInfo>,
}

/// A backup of a CA key, as written or read.
pub struct BackupFile {
    /// The CA certificate: which CA the backup restores.
    pub cert: CertInfo,
    /// The split's identifier (the number every share of it carries).
    pub split: u16,
    /// How the secret was split.
    pub scheme: Scheme,
    /// When it was made.
    pub made: OffsetDateTime,
    /// The CA's settings and chain, restored with the key.
    pub settings: BackupSettings,
    /// The MAC over everything the backup says, keyed by the secret (None in a backup made before it had one).
    mac: Option<String>,
    /// The encrypted key, PEM.
    key_pem: Zeroizing<String>,
}

/// The secret's hex: the password of the encrypted key.
fn password(secret: &[u8]) -> Secret {
    let mut hex = Zeroizing::new(String::with_capacity(secret.len() * 2));
    for b in secret {
        let _ = write!(hex, "{b:02x}");
    }
    Secret::new(hex)
}

/// `2 of 3`, or `2 of [2 of 3, 1 of 1]` for groups.
pub fn scheme_text(scheme: &Scheme) -> String {
    match scheme.groups.as_slice() {
        [(m, n)] if scheme.group_threshold == 1 => format!("{m} of {n}"),
        groups => format!(
            "{} of [{}]",
            scheme.group_threshold,
            groups
                .iter()
                .map(|(m, n)| format!("{m} of {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn parse_pair(text: &str) -> Option<(u8, u8)> {
    let (m, n) = text.trim().split_once(" of ")?;
    Some((m.trim().parse().ok()?, n.trim().parse().ok()?))
}

/// Reads `scheme_text`'s form.
pub fn parse_scheme(text: &str) -> Option<Scheme> {
    let text = text.trim();
    let scheme = match text.split_once(" of [") {
        Some((g, rest)) => Scheme {
            group_threshold: g.trim().parse().ok()?,
            groups: rest
                .strip_suffix(']')?
                .split(',')
                .map(parse_pair)
                .collect::<Option<Vec<_>>>()?,
        },
        None => {
            let (m, n) = parse_pair(text)?;
            Scheme::single(m, n)
        }
    };
    scheme.problem().is_none().then_some(scheme)
}

impl BackupFile {
    /// A backup of the PKCS#8 key `key_der` of the CA `cert`, encrypted under `secret`.
    pub fn new(
        cert: CertInfo,
        key_der: &[u8],
        secret: &[u8],
        split: u16,
        scheme: Scheme,
        settings: BackupSettings,
    ) -> Result<Self> {
        let mut backup = BackupFile {
            cert,
            split,
            scheme,
            made: crate::dates::now_utc_seconds()?,
            settings,
            mac: None,
            key_pem: keys::encrypt_pkcs8_der(key_der, &password(secret))?,
        };
        backup.mac = Some(backup.expected_mac(secret));
        Ok(backup)
    }

    /// Everything the backup says, in one canonical text (not the file's layout): what the MAC covers.
    fn authenticated_text(&self) -> String {
        let mut text = format!(
            "certkit backup v1\ncert: {}\nsplit: {}\nshares: {}\nmade: {}\ncrl-url: {}\naia-url: {}\n",
            hex_upper(&self.cert.der),
            self.split,
            scheme_text(&self.scheme),
            rfc3339(self.made),
            self.settings.crl_url.as_deref().unwrap_or(""),
            self.settings.aia_url.as_deref().unwrap_or(""),
        );
        // Only when there is one: a backup made before the OCSP URL existed keeps the text its MAC covers.
        if let Some(url) = &self.settings.ocsp_url {
            text.push_str(&format!("ocsp-url: {url}\n"));
        }
        if let Some(parent) = &self.settings.parent {
            text.push_str(&format!(
                "parent: {} {}\n",
                parent.thumbprint, parent.subject
            ));
        }
        for above in &self.settings.chain {
            text.push_str(&format!("chain: {}\n", hex_upper(&above.der)));
        }
        text.push_str(self.key_pem.as_str());
        text
    }

    /// The MAC of [`BackupFile::authenticated_text`] under a key derived from `secret`.
    fn expected_mac(&self, secret: &[u8]) -> String {
        use aws_lc_rs::hmac;
        let derive = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let mac_key = hmac::sign(&derive, b"certkit backup header mac");
        let key = hmac::Key::new(hmac::HMAC_SHA256, mac_key.as_ref());
        hex_upper(hmac::sign(&key, self.authenticated_text().as_bytes()).as_ref())
    }

    /// Checks, with the combined `secret`, that nothing the backup says was changed since it was made. Ok(false)
    /// for a backup made before backups had a MAC (its header cannot be proven: print it for the user to check).
    pub fn check_mac(&self, path: &Path, secret: &[u8]) -> Result<bool> {
        let Some(mac) = &self.mac else {
            return Ok(false);
        };
        let expected = self.expected_mac(secret);
        if !subtle_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(Error::malformed(
                path,
                "was changed after it was made: its header, certificates or key are not those the shares were made for (header-mac); nothing was written. Use another copy of the backup",
            ));
        }
        Ok(true)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "{TITLE}\nca: {}\nthumbprint: {}\nsplit: {}\nshares: {}\nmade: {}\n",
            self.cert.subject,
            self.cert.thumbprint,
            self.split,
            scheme_text(&self.scheme),
            rfc3339(self.made)
        );
        if let Some(url) = &self.settings.crl_url {
            head.push_str(&format!("crl-url: {url}\n"));
        }
        if let Some(url) = &self.settings.aia_url {
            head.push_str(&format!("aia-url: {url}\n"));
        }
        if let Some(url) = &self.settings.ocsp_url {
            head.push_str(&format!("ocsp-url: {url}\n"));
        }
        if let Some(parent) = &self.settings.parent {
            head.push_str(&format!(
                "parent: {}\nparent-thumbprint: {}\n",
                parent.subject, parent.thumbprint
            ));
        }
        if let Some(mac) = &self.mac {
            head.push_str(&format!("{HEADER_MAC}: {mac}\n"));
        }
        head.push_str(RECOVER);
        head.push('\n');
        let mut body = format!("\n{}{}", self.key_pem.as_str(), self.cert.pem());
        for above in &self.settings.chain {
            body.push_str(&above.pem());
        }
        let checksum = sha256_hex(format!("{head}{body}").as_bytes());
        format!("{head}{CHECKSUM}{checksum}\n{body}").into_bytes()
    }

    /// Reads a backup file: its checksum, its header and the certificate (the key stays encrypted).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let damaged = |what: &str| {
            Error::malformed(
                path,
                format!(
                    "is not an intact certkit CA key backup ({what}); use another copy of the backup"
                ),
            )
        };
        let text = std::str::from_utf8(bytes).map_err(|_| damaged("it is not text"))?;
        let start = text
            .find(&format!("\n{CHECKSUM}"))
            .ok_or_else(|| damaged("it has no checksum line"))?
            + 1;
        let end = text[start..]
            .find('\n')
            .map(|i| start + i + 1)
            .ok_or_else(|| damaged("its checksum line is cut off"))?;
        let recorded = text[start + CHECKSUM.len()..end].trim();
        let rest = format!("{}{}", &text[..start], &text[end..]);
        if sha256_hex(rest.as_bytes()) != recorded {
            return Err(damaged("its checksum does not match: a byte was changed"));
        }
        let header = |key: &str| -> Option<&str> {
            text[..start]
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        };
        let field = |key: &'static str| header(key).ok_or_else(|| damaged(key));
        let split = field("split")?
            .parse()
            .map_err(|_| damaged("its split is not a number"))?;
        let scheme = parse_scheme(field("shares")?).ok_or_else(|| damaged("its shares line"))?;
        let made = time::OffsetDateTime::parse(
            field("made")?,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| damaged("its date"))?;
        let thumbprint =
            Thumbprint::parse(field("thumbprint")?).map_err(|_| damaged("its thumbprint"))?;
        let key_start = text
            .find(&format!("-----BEGIN {KEY_LABEL}-----"))
            .ok_or_else(|| damaged("it holds no encrypted key"))?;
        let key_end_marker = format!("-----END {KEY_LABEL}-----\n");
        let key_end = text[key_start..]
            .find(&key_end_marker)
            .map(|i| key_start + i + key_end_marker.len())
            .ok_or_else(|| damaged("its key is cut off"))?;
        let mut ders = crate::certinfo::parse_cert_ders(&text.as_bytes()[key_end..], path)
            .map_err(|_| damaged("it holds no CA certificate"))?
            .into_iter();
        let cert = ders
            .next()
            .ok_or_else(|| damaged("it holds no CA certificate"))?;
        let cert = CertInfo::from_der(&cert, path)?;
        if cert.thumbprint != thumbprint {
            return Err(damaged("its certificate is not the one its header names"));
        }
        let chain = ders
            .map(|der| CertInfo::from_der(&der, path))
            .collect::<Result<Vec<_>>>()?;
        let parent = match (header("parent"), header("parent-thumbprint")) {
            (Some(subject), Some(t)) => Some(ParentRecord {
                subject: subject.to_string(),
                thumbprint: Thumbprint::parse(t).map_err(|_| damaged("its parent-thumbprint"))?,
            }),
            (None, None) => None,
            _ => return Err(damaged("its parent lines")),
        };
        Ok(BackupFile {
            cert,
            split,
            scheme,
            made,
            settings: BackupSettings {
                crl_url: header("crl-url").map(String::from),
                aia_url: header("aia-url").map(String::from),
                ocsp_url: header("ocsp-url").map(String::from),
                parent,
                chain,
            },
            mac: header(HEADER_MAC).map(String::from),
            key_pem: Zeroizing::new(text[key_start..key_end].to_string()),
        })
    }

    /// The CA key, decrypted with `secret` and checked to be the certificate's.
    pub fn open(&self, path: &Path, secret: &[u8]) -> Result<rcgen::KeyPair> {
        use rcgen::PublicKeyData;
        let wrong = || {
            Error::BadInput(format!(
                "the shares do not open {}: they are not those of its split {}",
                path.display(),
                self.split
            ))
        };
        let der = keys::decrypt_pem_to_der(path, &self.key_pem, &password(secret)).map_err(
            |e| match e {
                Error::WrongPassword { .. } => wrong(),
                other => other,
            },
        )?;
        let key = rcgen::KeyPair::try_from(der.as_bytes()).map_err(|_| wrong())?;
        if key.subject_public_key_info() != self.cert.spki_der {
            return Err(Error::malformed(
                path,
                "holds a key that does not belong to its CA certificate; use another copy of the backup",
            ));
        }
        Ok(key)
    }
}

/// Where `backup` writes by default: `DIR-backup.key` beside the CA folder.
pub fn default_path(ca: &Path) -> PathBuf {
    let name = ca
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ca".into());
    crate::files::folder_of(ca).join(format!("{name}-backup.key"))
}

/// Compares two byte strings in time that does not depend on where they differ.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
