//! `certkit-export kit`.

use std::path::PathBuf;

use certkit_ca::cli::shared::JsonArg;
use certkit_ca::term::Format;
use certkit_ca::{Error, Result, SecretSource};
use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::commands::kit::{KitJob, KitRequest, NewKit};
use crate::kit::{Identities, KeyFormat};
use crate::targets::Target;

impl ValueEnum for KeyFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[KeyFormat::Pfx, KeyFormat::Pem]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            KeyFormat::Pfx => PossibleValue::new("pfx").help("a PFX in the compat profile"),
            KeyFormat::Pem => PossibleValue::new("pem")
                .help("an unencrypted PKCS#8 key, the certificate and its chain (0600)"),
        })
    }
}

impl ValueEnum for Identities {
    fn value_variants<'a>() -> &'a [Self] {
        &[Identities::Thumbprint, Identities::Subject]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Identities::Thumbprint => PossibleValue::new("thumbprint")
                .help("<identity thumbprint=...> per valid client certificate"),
            Identities::Subject => PossibleValue::new("subject")
                .help("<identity subject=... issuer-subject=...> per valid client certificate"),
        })
    }
}

/// `certkit-export kit`.
#[derive(Debug, clap::Args)]
pub struct KitArgs {
    /// The consumer the kit is for (docs/kits.md lists what each takes).
    #[arg(
        long,
        value_enum,
        value_name = "TARGET",
        required_unless_present = "refresh"
    )]
    pub target: Option<Target>,
    /// The CA folder whose clients the kit admits.
    #[arg(long, value_name = "DIR", required_unless_present = "refresh")]
    pub ca: Option<PathBuf>,
    /// The kit folder to write (new, or empty; never inside a CA folder).
    #[arg(long, value_name = "DIR", required_unless_present = "refresh")]
    pub out_dir: Option<PathBuf>,
    /// The server certificate the consumer presents, by the prefix of its files (PREFIX.pem or .cer, and
    /// PREFIX.key, as certkit-issue server --out PREFIX wrote them).
    #[arg(long, value_name = "PREFIX")]
    pub server: Option<PathBuf>,
    /// Source of the server key's password (default: ask).
    #[arg(long, alias = "key-pass", value_name = "SOURCE")]
    pub from_pass: Option<SecretSource>,
    /// Source of the new PFX password for the kit's PFX (default: ask twice).
    #[arg(long, value_name = "SOURCE")]
    pub pfx_pass: Option<SecretSource>,
    /// The API Management policy file whose validate-client-certificate identities the kit keeps (edited in
    /// place, previous version kept as FILE.bak).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The Cloud Services (extended support) service configuration whose SSL and CA thumbprints and allowed
    /// clients the kit keeps (cses; edited in place, previous version kept as FILE.cscfg.bak).
    #[arg(long, value_name = "FILE.cscfg")]
    pub cscfg: Option<PathBuf>,
    /// How the policy lists the clients.
    #[arg(
        long,
        value_enum,
        value_name = "HOW",
        default_value = "thumbprint",
        requires = "policy"
    )]
    pub identities: Identities,
    /// The server key's format for Key Vault and Cloud Services.
    #[arg(long, value_enum, default_value = "pfx")]
    pub format: KeyFormat,
    /// Refuse the kit (not only warn) when the client certificates name no OCSP responder (appgw).
    #[arg(long)]
    pub require_revocation: bool,
    /// The CRL of a CA above this one (a root's, for an issuing CA's kit; one or more): nginx and HAProxy check
    /// the CRL of every CA of a client's chain.
    #[arg(long = "crl", num_args = 1.., value_name = "FILE")]
    pub crls: Vec<PathBuf>,
    /// Bring the kit in DIR up to date from its CA (CRL, allow-list, CA files, a renewed server certificate,
    /// the policy's identities), as kit.json records it.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["target", "ca", "out_dir", "server", "policy", "cscfg", "crls", "require_revocation"])]
    pub refresh: Option<PathBuf>,
    /// Check everything and show what would be written (and the policy diff); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[command(flatten)]
    pub json: JsonArg,
}

impl KitArgs {
    /// The validated request.
    pub fn request(self) -> Result<KitRequest> {
        let job = match (self.refresh, self.target, self.ca, self.out_dir) {
            (Some(dir), ..) => KitJob::Refresh(dir),
            (None, Some(target), Some(ca), Some(out_dir)) => KitJob::New(Box::new(NewKit {
                target,
                ca,
                out_dir,
                server: self.server,
                policy: self.policy,
                cscfg: self.cscfg,
                key_format: self.format,
                require_revocation: self.require_revocation,
                identities: self.identities,
                crls: self.crls,
            })),
            _ => {
                return Err(Error::BadInput(
                    "give --target TARGET --ca DIR --out-dir DIR, or --refresh DIR".into(),
                ));
            }
        };
        Ok(KitRequest {
            job,
            key_pass: self.from_pass,
            pfx_pass: self.pfx_pass,
            dry_run: self.dry_run,
            format: Format::json_if(self.json.json),
        })
    }
}
