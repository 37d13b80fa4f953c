//! The consumers certkit knows the file rules of.

use serde::{Deserialize, Serialize};

/// A consumer of certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Azure Application Gateway, mutual TLS.
    Appgw,
    /// Azure App Service.
    Appservice,
    /// Azure API Management.
    Apim,
    /// Azure Key Vault (certificate import).
    Keyvault,
    /// Azure Cloud Services (extended support), whose certificates come from Key Vault.
    Cses,
    /// nginx.
    Nginx,
    /// HAProxy.
    Haproxy,
}

impl Target {
    /// Every target, in the order the help lists them.
    pub const ALL: [Target; 7] = [
        Target::Appgw,
        Target::Appservice,
        Target::Apim,
        Target::Keyvault,
        Target::Cses,
        Target::Nginx,
        Target::Haproxy,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Appgw => "appgw",
            Target::Appservice => "appservice",
            Target::Apim => "apim",
            Target::Keyvault => "keyvault",
            Target::Cses => "cses",
            Target::Nginx => "nginx",
            Target::Haproxy => "haproxy",
        }
    }

    /// What it is, for the help.
    pub fn description(self) -> &'static str {
        match self {
            Target::Appgw => {
                "Azure Application Gateway mutual TLS: trusted client CA chains, listener PFX"
            }
            Target::Appservice => {
                "Azure App Service: private certificate PFX (3DES, SHA-1 MAC, full chain)"
            }
            Target::Apim => "Azure API Management: CA certificates for validate-client-certificate",
            Target::Keyvault => "Azure Key Vault certificate import: PFX, or PEM with a PKCS#8 key",
            Target::Cses => {
                "Azure Cloud Services (extended support): certificates through Key Vault"
            }
            Target::Nginx => "nginx: PEM certificate and chain, PEM key, client CA bundle, CRL",
            Target::Haproxy => {
                "HAProxy: one PEM with certificate, chain and key; client CA bundle, CRL"
            }
        }
    }
}
