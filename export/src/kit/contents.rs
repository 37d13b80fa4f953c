//! What a kit holds for each target: its files, made in memory from the CA's material and the server
//! certificate, and the lines that say what to do with them (certkit runs nothing remote).

use std::path::Path;

use certkit_ca::certinfo::pem_encode;
use certkit_ca::pfx::{self, PfxProfile};
use certkit_ca::{CertInfo, Result, Secret};
use serde::Serialize;

use super::material::{CaMaterial, ServerMaterial, TrustedCa};
use crate::sources;
use crate::targets::Target;

/// The key format of the Key Vault and Cloud Services kits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyFormat {
    /// A PFX in the compat profile.
    Pfx,
    /// A PEM file: an unencrypted PKCS#8 key, the certificate and its chain.
    Pem,
}

/// How the client identities are written into the API Management policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identities {
    /// `<identity thumbprint="..."/>`, one per valid client certificate.
    Thumbprint,
    /// `<identity subject="..." issuer-subject="..."/>`, one per valid client certificate.
    Subject,
}

/// One file of a kit.
#[derive(Debug)]
pub struct KitFile {
    /// Its name in the kit folder.
    pub name: String,
    /// Its bytes (wiped when dropped: some hold a key in the clear).
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
    /// Whether it holds a private key (written 0600).
    pub private: bool,
    /// Whether it comes from the server certificate (made again only when that changes).
    pub server: bool,
    /// Whether it is a certificate, key, PFX or CRL file the target's rules are checked on.
    pub checked: bool,
    /// What it is for.
    pub what: String,
}

impl KitFile {
    fn new(name: impl Into<String>, bytes: Vec<u8>, what: impl Into<String>) -> KitFile {
        KitFile {
            name: name.into(),
            bytes: zeroize::Zeroizing::new(bytes),
            private: false,
            server: false,
            checked: true,
            what: what.into(),
        }
    }

    fn text(name: impl Into<String>, text: String, what: impl Into<String>) -> KitFile {
        KitFile {
            checked: false,
            ..KitFile::new(name, text.into_bytes(), what)
        }
    }

    fn of_server(self) -> KitFile {
        KitFile {
            server: true,
            ..self
        }
    }

    fn holding_key(self) -> KitFile {
        KitFile {
            private: true,
            ..self
        }
    }
}

/// Whether `target` needs a server certificate.
pub fn needs_server(target: Target) -> bool {
    matches!(
        target,
        Target::Keyvault | Target::Cses | Target::Nginx | Target::Haproxy
    )
}

/// Whether `target` takes a server certificate at all.
pub fn takes_server(target: Target) -> bool {
    target != Target::Apim
}

fn pem_of(certs: &[&CertInfo]) -> Vec<u8> {
    certs
        .iter()
        .map(|c| c.pem())
        .collect::<String>()
        .into_bytes()
}

fn crls_pem(cas: &[&TrustedCa]) -> Vec<u8> {
    cas.iter()
        .filter_map(|ca| ca.crl.as_ref())
        .map(|crl| pem_encode("X509 CRL", &crl.der))
        .collect::<String>()
        .into_bytes()
}

/// The files of `target` that come from the CA (no secret needed): trust files, CRLs, allow-lists, and the
/// configuration lines (which name the server's files when `with_server`).
pub fn ca_files(
    target: Target,
    ca: &CaMaterial,
    out_dir: &Path,
    with_server: bool,
) -> Vec<KitFile> {
    let all: Vec<&TrustedCa> = ca.all_cas().collect();
    let all_certs: Vec<&CertInfo> = all.iter().map(|c| &c.cert).collect();
    let at = |name: &str| out_dir.join(name).display().to_string();
    let mut files = Vec::new();
    match target {
        Target::Appgw => {
            let several = ca.issuers.len() > 1;
            for (i, issuer) in ca.issuers.iter().enumerate() {
                let chain: Vec<&CertInfo> = ca.chain_of(issuer).iter().map(|c| &c.cert).collect();
                let name = if several {
                    format!("trusted-client-ca-{}.cer", i + 1)
                } else {
                    "trusted-client-ca.cer".into()
                };
                files.push(KitFile::new(
                    name,
                    pem_of(&chain),
                    format!(
                        "the trusted client CA chain of {} (root included)",
                        issuer.cert.subject
                    ),
                ));
            }
        }
        Target::Appservice => {
            files.push(KitFile::new(
                "client-ca.pem",
                pem_of(&all_certs),
                "the CA certificates the app trusts for client certificates",
            ));
            files.push(KitFile::new(
                "crl.pem",
                crls_pem(&all),
                "the CRLs in force, for the app's revocation check",
            ));
            let mut list = String::new();
            for client in &ca.clients {
                list.push_str(&client.thumbprint.to_string());
                list.push('\n');
            }
            files.push(KitFile::text(
                "allowed-thumbprints.txt",
                list,
                "the valid client certificates' thumbprints, one a line",
            ));
        }
        Target::Apim => {
            for (i, cert) in all_certs.iter().enumerate() {
                files.push(KitFile::new(
                    format!("ca-{}.cer", i + 1),
                    cert.der.clone(),
                    format!("CA certificate {}", cert.subject),
                ));
            }
        }
        Target::Keyvault => {}
        Target::Cses => {
            files.push(KitFile::text(
                "os-profile-secrets.json",
                os_profile_secrets(),
                "the osProfile.secrets fragment of the deployment template (fill in the vault and certificate URL)",
            ));
        }
        Target::Nginx => {
            files.push(KitFile::new(
                "ca.pem",
                pem_of(&all_certs),
                "the client CA bundle (ssl_client_certificate)",
            ));
            files.push(KitFile::new(
                "crl.pem",
                crls_pem(&all),
                "the CRLs in force (ssl_crl)",
            ));
            if with_server {
                let mut conf = String::from(
                    "# Written by certkit-export kit: include it inside a server { listen ... ssl; } block.\n",
                );
                conf.push_str(&format!("ssl_certificate {};\n", at("server.pem")));
                conf.push_str(&format!("ssl_certificate_key {};\n", at("server.key")));
                conf.push_str(&format!("ssl_client_certificate {};\n", at("ca.pem")));
                conf.push_str(&format!("ssl_crl {};\n", at("crl.pem")));
                conf.push_str("ssl_verify_client on;\n");
                conf.push_str(&format!("ssl_verify_depth {};\n", ca.depth()));
                if ca.ocsp_url.is_some() {
                    conf.push_str("ssl_ocsp on;\n");
                }
                files.push(KitFile::text(
                    "nginx-ssl.conf",
                    conf,
                    "the lines to include in the server block",
                ));
            }
        }
        Target::Haproxy => {
            files.push(KitFile::new(
                "ca.pem",
                pem_of(&all_certs),
                "the client CA bundle (ca-file)",
            ));
            files.push(KitFile::new(
                "crl.pem",
                crls_pem(&all),
                "the CRLs in force (crl-file)",
            ));
            if with_server {
                files.push(KitFile::text(
                    "haproxy-bind.txt",
                    format!(
                        "ssl crt {} ca-file {} crl-file {} verify required\n",
                        at("server.pem"),
                        at("ca.pem"),
                        at("crl.pem")
                    ),
                    "the options to append to the bind line",
                ));
            }
        }
    }
    files
}

/// The `osProfile.secrets` fragment of a Cloud Services (extended support) template, with placeholders.
fn os_profile_secrets() -> String {
    let fragment = serde_json::json!({
        "osProfile": {
            "secrets": [{
                "sourceVault": {
                    "id": "/subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.KeyVault/vaults/<vault-name>"
                },
                "vaultCertificates": [{
                    "certificateUrl": "https://<vault-name>.vault.azure.net/secrets/<certificate-name>/<version>"
                }]
            }]
        }
    });
    let mut text = serde_json::to_string_pretty(&fragment).unwrap_or_default();
    text.push('\n');
    text
}

/// The server certificate's chain in the kit: its issuer among the CA's certificates, then the CAs above;
/// `with_root` keeps the self-signed root.
fn server_chain<'a>(
    ca: &'a CaMaterial,
    server: &ServerMaterial,
    with_root: bool,
) -> Result<Vec<&'a CertInfo>> {
    let mut chain = Vec::new();
    for issuer in &ca.issuers {
        if server.cert.is_signed_by(&issuer.cert)? {
            chain = ca.chain_of(issuer).iter().map(|c| &c.cert).collect();
            break;
        }
    }
    if !with_root {
        chain.retain(|c| !(c.is_ca && c.issuer == c.subject));
    }
    Ok(chain)
}

fn compat_pfx(ca: &CaMaterial, server: &ServerMaterial, password: &Secret) -> Result<Vec<u8>> {
    let chain = server_chain(ca, server, true)?
        .into_iter()
        .map(sources::x509)
        .collect::<Result<Vec<_>>>()?;
    let name = server
        .cert
        .cn
        .clone()
        .unwrap_or_else(|| server.cert.subject.clone());
    pfx::build(
        PfxProfile::Compat,
        &server.key,
        &sources::x509(&server.cert)?,
        &chain,
        &name,
        password,
    )
}

/// The key as unencrypted PKCS#8 PEM (for nginx, HAProxy and Key Vault's PEM import, which take no password).
fn clear_key(server: &ServerMaterial) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    Ok(zeroize::Zeroizing::new(
        server.key.private_key_to_pem_pkcs8()?,
    ))
}

/// The files of `target` that hold the server certificate; `pfx_password` protects a PFX.
pub fn server_files(
    target: Target,
    ca: &CaMaterial,
    server: &ServerMaterial,
    format: KeyFormat,
    pfx_password: Option<&Secret>,
) -> Result<Vec<KitFile>> {
    let pfx_file = |name: &str, what: &str| -> Result<KitFile> {
        let password = pfx_password.ok_or(certkit_ca::Error::Bug(
            "a PFX kit file without its password",
        ))?;
        Ok(KitFile::new(name, compat_pfx(ca, server, password)?, what)
            .of_server()
            .holding_key())
    };
    let cert_and_chain = |with_root: bool| -> Result<Vec<u8>> {
        let mut certs = vec![&server.cert];
        certs.extend(server_chain(ca, server, with_root)?);
        Ok(pem_of(&certs))
    };
    let mut files = Vec::new();
    match target {
        Target::Appgw => files.push(pfx_file(
            "listener.pfx",
            "the listener certificate with its chain (compat profile)",
        )?),
        Target::Appservice => files.push(pfx_file(
            "server.pfx",
            "the private certificate for the TLS binding (compat profile, full chain)",
        )?),
        Target::Apim => {}
        Target::Keyvault | Target::Cses => match format {
            KeyFormat::Pfx => files.push(pfx_file(
                "server.pfx",
                "the certificate to import into Key Vault (compat profile, full chain)",
            )?),
            KeyFormat::Pem => {
                let mut bytes = clear_key(server)?;
                bytes.extend_from_slice(&cert_and_chain(true)?);
                files.push(
                    KitFile::new(
                        "server.pem",
                        bytes.to_vec(),
                        "the key in the clear (PKCS#8), the certificate and its chain, for Key Vault's PEM import",
                    )
                    .of_server()
                    .holding_key(),
                );
            }
        },
        Target::Nginx => {
            files.push(
                KitFile::new(
                    "server.pem",
                    cert_and_chain(false)?,
                    "the server certificate and its chain (ssl_certificate)",
                )
                .of_server(),
            );
            files.push(
                KitFile::new(
                    "server.key",
                    clear_key(server)?.to_vec(),
                    "the server key in the clear (ssl_certificate_key)",
                )
                .of_server()
                .holding_key(),
            );
        }
        Target::Haproxy => {
            let mut bytes = zeroize::Zeroizing::new(cert_and_chain(false)?);
            bytes.extend_from_slice(&clear_key(server)?);
            files.push(
                KitFile::new(
                    "server.pem",
                    bytes.to_vec(),
                    "the server certificate, its chain and its key in the clear (crt)",
                )
                .of_server()
                .holding_key(),
            );
        }
    }
    Ok(files)
}

/// A name Azure takes for a certificate (letters, digits and dashes), from the server certificate's CN.
pub fn azure_name(cn: &str) -> String {
    let name: String = cn
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        "certkit".into()
    } else {
        name
    }
}

/// What to do with the kit's files: the Azure CLI lines or the configuration to use (certkit runs none of
/// them). `server_cn` is the server certificate's CN when the kit holds one.
pub fn steps(
    target: Target,
    files: &[String],
    out_dir: &Path,
    server_cn: Option<&str>,
    pem_key: bool,
) -> Vec<String> {
    let at = |name: &str| sources_word(&out_dir.join(name));
    let name = azure_name(server_cn.unwrap_or("certkit"));
    let mut steps = Vec::new();
    match target {
        Target::Appgw => {
            for file in files.iter().filter(|f| f.starts_with("trusted-client-ca")) {
                steps.push(format!(
                    "az network application-gateway client-cert add --gateway-name GATEWAY --resource-group GROUP --name {} --data {}",
                    file.trim_end_matches(".cer"),
                    at(file)
                ));
            }
            if files.iter().any(|f| f == "listener.pfx") {
                steps.push(format!(
                    "az network application-gateway ssl-cert create --gateway-name GATEWAY --resource-group GROUP --name {name} --cert-file {} --cert-password \"$PFX_PASSWORD\"",
                    at("listener.pfx")
                ));
            }
            steps.push("az network application-gateway ssl-profile add --gateway-name GATEWAY --resource-group GROUP --name mtls --trusted-client-certificates trusted-client-ca --client-auth-configuration True (then set verifyClientRevocation to OCSP)".into());
        }
        Target::Appservice => {
            if files.iter().any(|f| f == "server.pfx") {
                steps.push(format!(
                    "az webapp config ssl upload --name APP --resource-group GROUP --certificate-file {} --certificate-password \"$PFX_PASSWORD\"",
                    at("server.pfx")
                ));
            }
            steps.push("az webapp update --name APP --resource-group GROUP --set clientCertEnabled=true clientCertMode=Required".into());
            steps.push(format!(
                "deploy {}, {} and {} with the app: it checks X-ARR-ClientCert against them",
                at("client-ca.pem"),
                at("crl.pem"),
                at("allowed-thumbprints.txt")
            ));
        }
        Target::Apim => {
            for file in files.iter().filter(|f| f.starts_with("ca-")) {
                steps.push(format!(
                    "upload {} as a CA certificate (API Management > Security > CA certificates, store Root or Intermediate as it is)",
                    at(file)
                ));
            }
        }
        Target::Keyvault | Target::Cses => {
            let file = if pem_key { "server.pem" } else { "server.pfx" };
            let password = if pem_key {
                String::new()
            } else {
                " --password \"$PFX_PASSWORD\"".into()
            };
            steps.push(format!(
                "az keyvault certificate import --vault-name VAULT --name {name} --file {}{password}",
                at(file)
            ));
            if target == Target::Cses {
                steps.push(format!(
                    "fill in {} (vault id and the certificate's secret URL) and merge it into the Cloud Service's template; put the server thumbprint into the .cscfg (certkit-export cscfg)",
                    at("os-profile-secrets.json")
                ));
            }
        }
        Target::Nginx => {
            steps.push(format!(
                "include {} inside the server block (listen ... ssl;), then nginx -t && nginx -s reload",
                at("nginx-ssl.conf")
            ));
        }
        Target::Haproxy => {
            steps.push(format!(
                "append the options in {} to the bind line (bind :443 ...), then reload HAProxy",
                at("haproxy-bind.txt")
            ));
        }
    }
    steps
}

fn sources_word(path: &Path) -> String {
    crate::inspect::shell_word(&path.display().to_string())
}
