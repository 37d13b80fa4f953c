//! `certkit-ca import` and `certkit-ca export-index`.

use std::path::PathBuf;

use super::shared::{JsonArg, ModuleArg};
use crate::commands::import::{ExportIndexRequest, ImportRequest};
use crate::error::{Error, Result};
use crate::openssl_ca::source::Source;
use crate::secret::SecretSource;
use crate::term::Format;
use crate::token::TokenUri;

/// `certkit-ca import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// An easy-rsa 3 PKI folder (the pki/ that easyrsa init-pki and build-ca made).
    #[arg(long, value_name = "DIR", group = "source")]
    pub from_easyrsa: Option<PathBuf>,
    /// The folder openssl ca works in (index.txt, newcerts/, its key and certificate); relative paths in its
    /// configuration are taken in it.
    #[arg(long, value_name = "DIR", group = "source")]
    pub from_openssl_ca: Option<PathBuf>,
    /// The openssl ca configuration (default: DIR/openssl.cnf, else OpenSSL's own layout in DIR).
    #[arg(long, value_name = "FILE", requires = "from_openssl_ca")]
    pub config: Option<PathBuf>,
    /// An index.txt in OpenSSL's format (XCA's export, any other), with --certs, --ca-cert and --ca-key.
    #[arg(long, value_name = "FILE", group = "source", requires_all = ["certs", "ca_cert"])]
    pub from_index: Option<PathBuf>,
    /// The folder of the certificates the index lists (with --from-index).
    #[arg(long, value_name = "DIR", requires = "from_index")]
    pub certs: Option<PathBuf>,
    /// The CA certificate (with --from-index).
    #[arg(long, value_name = "CERT", requires = "from_index")]
    pub ca_cert: Option<PathBuf>,
    /// The CA key, PEM (with --from-index, unless the key is on a token: --pkcs11).
    #[arg(
        long,
        value_name = "FILE",
        requires = "from_index",
        conflicts_with = "pkcs11"
    )]
    pub ca_key: Option<PathBuf>,
    /// The source CA key is on a PKCS#11 token and stays there: an RFC 7512 URI naming the token and the key's
    /// label, e.g. pkcs11:token=ca;object=MyCA (--ca-pass is then the token's user PIN).
    #[arg(long, value_name = "URI", conflicts_with = "source_pass")]
    pub pkcs11: Option<TokenUri>,
    /// The token's module.
    #[command(flatten)]
    pub module: ModuleArg,
    /// The new certkit CA folder (it must not exist, or be empty).
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub ca: Option<PathBuf>,
    /// Source of the source CA key's password, when it is encrypted: env:VAR, file:PATH, fd:N or stdin
    /// (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub source_pass: Option<SecretSource>,
    /// Source of the password the key is encrypted under in the new folder (with --pkcs11: the token's user
    /// PIN): env:VAR, file:PATH, fd:N or stdin (default: ask, twice for a new password).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// Check everything and report what would be imported; write nothing (the key is checked when it is not
    /// encrypted or --source-pass is given).
    #[arg(long)]
    pub dry_run: bool,
    /// Record index lines whose certificate file is gone as missing (valid or expired ones only), instead of
    /// refusing the import.
    #[arg(long)]
    pub accept_missing: bool,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ImportArgs {
    /// The validated request.
    pub fn request(self) -> Result<ImportRequest> {
        let source = match (self.from_easyrsa, self.from_openssl_ca, self.from_index) {
            (Some(pki), None, None) => Source::EasyRsa(pki),
            (None, Some(dir), None) => Source::OpensslCa {
                dir,
                config: self.config,
            },
            (None, None, Some(index)) => Source::Index {
                index,
                certs: self
                    .certs
                    .ok_or(Error::Bug("--from-index without --certs"))?,
                ca_cert: self
                    .ca_cert
                    .ok_or(Error::Bug("--from-index without --ca-cert"))?,
                ca_key: self.ca_key,
            },
            _ => {
                return Err(Error::BadInput(
                    "import needs the CA to bring in: --from-easyrsa PKI, --from-openssl-ca DIR or --from-index FILE"
                        .into(),
                ));
            }
        };
        let token = self.module.token(self.pkcs11)?;
        if matches!(source, Source::Index { ca_key: None, .. }) && token.is_none() {
            return Err(Error::BadInput(
                "--from-index needs the CA key: --ca-key FILE, or --pkcs11 URI for a key on a token".into(),
            ));
        }
        Ok(ImportRequest {
            token,
            source,
            ca: self.ca,
            source_pass: self.source_pass,
            ca_pass: self.ca_pass,
            dry_run: self.dry_run,
            accept_missing: self.accept_missing,
            format: Format::json_if(self.json.json),
        })
    }
}

/// `certkit-ca export-index`.
#[derive(Debug, clap::Args)]
pub struct ExportIndexArgs {
    /// CA folder made by certkit-ca init (or import).
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// The new folder to write (it must not exist): index.txt, index.txt.attr, serial, crlnumber, newcerts/,
    /// ca.pem and openssl.cnf.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl ExportIndexArgs {
    /// The validated request.
    pub fn request(self) -> ExportIndexRequest {
        ExportIndexRequest {
            ca: self.ca,
            out: self.out,
            format: Format::json_if(self.json.json),
        }
    }
}
