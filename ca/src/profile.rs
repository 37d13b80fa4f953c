//! The certificate profiles certkit issues and the service-configuration lines that go with them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::thumbprint::Thumbprint;

/// What a certificate the CA signs is for (docs/profiles.md): an end-entity profile, or a CA below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// TLS server: EKU serverAuth, SAN DNS names; the `SSL` certificate.
    Server,
    /// TLS client, one per person: EKU clientAuth; goes into `AllowedClientCertificateThumbprints`.
    Client,
    /// Data encryption: keyEncipherment + dataEncipherment, EKU Document Encryption; `DataEncryptionPrimary`.
    Encryption,
    /// A CA below this one (`certkit-ca sign-ca`): CA:TRUE with a pathLen, keyCertSign + cRLSign.
    Ca,
    /// An imported certificate (`certkit-ca import`) whose extended key usages fit no profile above: kept and
    /// revocable, never issued or renewed as such.
    Unknown,
}

impl Profile {
    /// Every profile, in the order the help lists them.
    pub const ALL: [Profile; 4] = [
        Profile::Server,
        Profile::Client,
        Profile::Encryption,
        Profile::Ca,
    ];

    /// Its name on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Server => "server",
            Profile::Client => "client",
            Profile::Encryption => "encryption",
            Profile::Ca => "ca",
            Profile::Unknown => "unknown",
        }
    }

    /// One line on what it is for.
    pub fn description(self) -> &'static str {
        match self {
            Profile::Server => "TLS server: EKU serverAuth, SAN DNS names; the `SSL` certificate",
            Profile::Client => {
                "TLS client, one per person: EKU clientAuth; goes into `AllowedClientCertificateThumbprints`"
            }
            Profile::Encryption => {
                "Data encryption: keyEncipherment + dataEncipherment, EKU Document Encryption; `DataEncryptionPrimary`"
            }
            Profile::Ca => {
                "A CA below this one, signed with certkit-ca sign-ca: CA:TRUE with a pathLen, keyCertSign + cRLSign"
            }
            Profile::Unknown => {
                "An imported certificate whose extended key usages fit no profile (certkit-ca import)"
            }
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `<Certificate name="NAME" thumbprint="T" thumbprintAlgorithm="sha1" />`
pub fn certificate_line(name: &str, thumbprint: &Thumbprint) -> String {
    format!(r#"<Certificate name="{name}" thumbprint="{thumbprint}" thumbprintAlgorithm="sha1" />"#)
}

/// `<Setting name="NAME" value="VALUE" />`
pub fn setting_line(name: &str, value: &str) -> String {
    SettingLine { name, value }.to_string()
}

/// `<Setting name="NAME" value="VALUE" />`, written as it is shown (a value may be millions of characters).
pub struct SettingLine<'a, V: std::fmt::Display> {
    /// The setting's name.
    pub name: &'a str,
    /// Its value.
    pub value: V,
}

impl<V: std::fmt::Display> std::fmt::Display for SettingLine<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            r#"<Setting name="{}" value="{}" />"#,
            self.name, self.value
        )
    }
}

/// Thumbprints separated by commas, as `AllowedClientCertificateThumbprints` takes them.
pub struct ThumbprintList<'a>(pub &'a [Thumbprint]);

impl std::fmt::Display for ThumbprintList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, thumbprint) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{thumbprint}")?;
        }
        Ok(())
    }
}

/// The `.cscfg` certificate entry names.
pub mod names {
    /// The TLS server certificate entry.
    pub const SSL: &str = "SSL";
    /// The CA certificate entry.
    pub const CA: &str = "CA";
    /// The data encryption certificate entry.
    pub const ENCRYPTION: &str = "DataEncryptionPrimary";
    /// Setting: thumbprints of extra trusted roots.
    pub const TRUSTED_ROOTS: &str = "AdditionalTrustedRootCertificationAuthorities";
    /// Setting: comma-separated client thumbprints.
    pub const ALLOWED_CLIENTS: &str = "AllowedClientCertificateThumbprints";
    /// Setting: the data encryption certificate's thumbprint.
    pub const ENCRYPTION_SETTING: &str = "DataEncryptionPrimaryCertificateThumbprint";
    /// Setting: revocation mode for client certificates.
    pub const REVOCATION_CHECK: &str = "ClientCertificateRevocationCheck";
    /// Setting: client certificates for the web app.
    pub const SETUP_WEBAPP: &str = "SetupWebAppForClientCertificates";
    /// Setting: client certificates for the web server.
    pub const SETUP_WEBSERVER: &str = "SetupWebserverForClientCertificates";
    /// Setting (IIS Dynamic IP Security): deny a host with too many concurrent requests.
    pub const DOS_DENY_CONCURRENT: &str = "DynamicIpRestrictionDenyByConcurrentRequests";
    /// Setting: the most concurrent requests one host may have.
    pub const DOS_MAX_CONCURRENT: &str = "DynamicIpRestrictionMaxConcurrentRequests";
    /// Setting: deny a host that sends requests too fast.
    pub const DOS_DENY_RATE: &str = "DynamicIpRestrictionDenyByRequestRate";
    /// Setting: the most requests one host may send per interval.
    pub const DOS_MAX_REQUESTS: &str = "DynamicIpRestrictionMaxRequests";
    /// Setting: the interval of the request rate, in milliseconds.
    pub const DOS_INTERVAL: &str = "DynamicIpRestrictionRequestIntervalInMilliseconds";
    /// Setting: what a denied request gets.
    pub const DOS_ACTION: &str = "DynamicIpRestrictionDenyAction";
}

/// The ready-to-paste lines for a CA certificate.
pub fn ca_lines(thumbprint: &Thumbprint) -> [String; 2] {
    [
        certificate_line(names::CA, thumbprint),
        setting_line(names::TRUSTED_ROOTS, &thumbprint.to_string()),
    ]
}

impl Profile {
    /// The ready-to-paste configuration line for a certificate of this profile.
    pub fn config_line(self, thumbprint: &Thumbprint) -> String {
        match self {
            Profile::Server => certificate_line(names::SSL, thumbprint),
            Profile::Encryption => certificate_line(names::ENCRYPTION, thumbprint),
            Profile::Client => setting_line(names::ALLOWED_CLIENTS, &thumbprint.to_string()),
            Profile::Ca => setting_line(names::TRUSTED_ROOTS, &thumbprint.to_string()),
            Profile::Unknown => certificate_line("Imported", thumbprint),
        }
    }

    /// Whether it is an end-entity profile (`certkit-issue` makes those; a CA below is `certkit-ca sign-ca`'s).
    pub fn is_end_entity(self) -> bool {
        self != Profile::Ca
    }

    /// The extended key usage the profile always writes (none for a CA).
    pub fn eku(self) -> Option<&'static str> {
        match self {
            Profile::Server => Some(crate::certinfo::EKU_SERVER_AUTH),
            Profile::Client => Some(crate::certinfo::EKU_CLIENT_AUTH),
            Profile::Encryption => Some(crate::certinfo::EKU_DOCUMENT_ENCRYPTION),
            Profile::Ca | Profile::Unknown => None,
        }
    }
}
