//! The rules of each target, as one table, each with the public page that states it (docs/kits.md lists them).

use serde::Serialize;

use super::target::Target;

/// One rule of one consumer: what it takes, with the limit where there is one and the page that says so.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rule {
    /// Whose rule.
    pub target: Target,
    /// The stable code of the finding when the rule is broken.
    pub code: &'static str,
    /// What the consumer takes.
    pub rule: &'static str,
    /// The limit, where the rule has one (bytes, or a count).
    pub limit: Option<u64>,
    /// The public page that states it.
    pub source: &'static str,
}

const APPGW_MTLS: &str =
    "https://learn.microsoft.com/azure/application-gateway/mutual-authentication-overview";
const APPGW_CHAIN: &str = "https://learn.microsoft.com/azure/application-gateway/mutual-authentication-certificate-management";
const APPGW_LISTENER: &str = "https://learn.microsoft.com/azure/application-gateway/ssl-overview";
const APPSERVICE: &str = "https://learn.microsoft.com/azure/app-service/configure-ssl-certificate";
const APIM: &str = "https://learn.microsoft.com/azure/api-management/api-management-howto-mutual-certificates-for-clients";
const APIM_CA: &str =
    "https://learn.microsoft.com/azure/api-management/api-management-howto-ca-certificates";
const KEYVAULT: &str =
    "https://learn.microsoft.com/azure/key-vault/certificates/how-to-export-certificate";
const KEYVAULT_FORMATS: &str =
    "https://learn.microsoft.com/azure/key-vault/certificates/certificate-scenarios";
const NGINX: &str = "https://nginx.org/en/docs/http/ngx_http_ssl_module.html";
const HAPROXY: &str = "https://docs.haproxy.org/2.8/configuration.html#5.1-crt";
const HAPROXY_CRL: &str = "https://docs.haproxy.org/2.8/configuration.html#5.1-crl-file";
const NGINX_CRL: &str = "https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_crl";

/// Every rule certkit checks, by target.
pub const RULES: &[Rule] = &[
    Rule {
        target: Target::Appgw,
        code: "appgw-leaf-in-chain",
        rule: "a trusted client CA file holds CA certificates only (root and intermediates), no client certificate",
        limit: None,
        source: APPGW_CHAIN,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-no-root",
        rule: "a trusted client CA file holds one whole chain, up to a self-signed root",
        limit: None,
        source: APPGW_MTLS,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-several-chains",
        rule: "one chain per file; several CAs are uploaded as several files",
        limit: Some(1),
        source: APPGW_CHAIN,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-file-too-large",
        rule: "a trusted client CA file is at most 25 KB",
        limit: Some(25 * 1024),
        source: APPGW_MTLS,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-many-chains",
        rule: "more than 5 trusted client CA chains for one SSL profile slow the handshake",
        limit: Some(5),
        source: APPGW_MTLS,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-pfx-too-large",
        rule: "a listener PFX is at most 16 KB",
        limit: Some(16 * 1024),
        source: APPGW_LISTENER,
    },
    Rule {
        target: Target::Appgw,
        code: "appgw-no-ocsp",
        rule: "client certificate revocation is checked by OCSP only (verifyClientRevocation OCSP): the client certificates name an OCSP responder",
        limit: None,
        source: APPGW_MTLS,
    },
    Rule {
        target: Target::Appservice,
        code: "appservice-pfx-protection",
        rule: "a private certificate PFX uses 3DES key and certificate bags with a SHA-1 MAC",
        limit: None,
        source: APPSERVICE,
    },
    Rule {
        target: Target::Appservice,
        code: "appservice-no-key",
        rule: "a private certificate PFX holds its private key",
        limit: None,
        source: APPSERVICE,
    },
    Rule {
        target: Target::Appservice,
        code: "appservice-chain-incomplete",
        rule: "a private certificate PFX holds the full chain, root included",
        limit: None,
        source: APPSERVICE,
    },
    Rule {
        target: Target::Appservice,
        code: "appservice-key",
        rule: "a private certificate's key is RSA of 2048 bits or more",
        limit: Some(2048),
        source: APPSERVICE,
    },
    Rule {
        target: Target::Appservice,
        code: "appservice-not-server",
        rule: "a certificate for a TLS binding has the serverAuth extended key usage",
        limit: None,
        source: APPSERVICE,
    },
    Rule {
        target: Target::Apim,
        code: "apim-not-ca",
        rule: "a CA certificate uploaded for client certificate validation is a CA certificate",
        limit: None,
        source: APIM_CA,
    },
    Rule {
        target: Target::Apim,
        code: "apim-too-many-cas",
        rule: "at most 10 CA certificates per instance",
        limit: Some(10),
        source: APIM_CA,
    },
    Rule {
        target: Target::Apim,
        code: "apim-no-crl",
        rule: "validate-client-certificate checks revocation by default: the certificates name a CRL",
        limit: None,
        source: APIM,
    },
    Rule {
        target: Target::Keyvault,
        code: "keyvault-pkcs1-key",
        rule: "a PEM import holds an unencrypted PKCS#8 key (PEM label PRIVATE KEY), never PKCS#1 (label RSA PRIVATE KEY) or SEC1 (label EC PRIVATE KEY)",
        limit: None,
        source: KEYVAULT_FORMATS,
    },
    Rule {
        target: Target::Keyvault,
        code: "keyvault-encrypted-pem",
        rule: "a PEM import holds its key unencrypted (a password protects only a PFX)",
        limit: None,
        source: KEYVAULT_FORMATS,
    },
    Rule {
        target: Target::Keyvault,
        code: "keyvault-pem-contents",
        rule: "a PEM import holds the key, the certificate and its chain, and nothing else",
        limit: None,
        source: KEYVAULT_FORMATS,
    },
    Rule {
        target: Target::Keyvault,
        code: "keyvault-key-type",
        rule: "the key is RSA 2048, 3072 or 4096, or EC P-256, P-384 or P-521",
        limit: None,
        source: KEYVAULT,
    },
    Rule {
        target: Target::Nginx,
        code: "nginx-not-pem",
        rule: "ssl_certificate, ssl_certificate_key, ssl_client_certificate and ssl_crl read PEM files",
        limit: None,
        source: NGINX,
    },
    Rule {
        target: Target::Nginx,
        code: "nginx-chain-order",
        rule: "ssl_certificate holds the server certificate first, then its chain",
        limit: None,
        source: NGINX,
    },
    Rule {
        target: Target::Nginx,
        code: "nginx-crl-missing",
        rule: "with ssl_crl, every CA of a client's chain has a CRL in force in the file, or every client is refused",
        limit: None,
        source: NGINX_CRL,
    },
    Rule {
        target: Target::Haproxy,
        code: "haproxy-not-pem",
        rule: "crt, ca-file and crl-file read PEM files",
        limit: None,
        source: HAPROXY,
    },
    Rule {
        target: Target::Haproxy,
        code: "haproxy-no-key",
        rule: "a crt file holds the certificate, its chain and its private key",
        limit: None,
        source: HAPROXY,
    },
    Rule {
        target: Target::Haproxy,
        code: "haproxy-crl-missing",
        rule: "with crl-file, every CA of a client's chain has a CRL in force in the file, or every client is refused",
        limit: None,
        source: HAPROXY_CRL,
    },
];

/// The rule with `code`.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}
