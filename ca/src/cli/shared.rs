//! Flag groups shared by the three binaries, defined once and flattened into each command, so that a flag
//! means the same thing and reads the same everywhere (docs/vocabulary.md).

use std::net::IpAddr;
use std::path::PathBuf;

use crate::dates::Lifetime;
use crate::secret::SecretSource;

/// `--ca DIR`: the CA folder a command works on.
#[derive(Clone, Debug, clap::Args)]
pub struct CaDirArg {
    /// CA folder made by certkit-ca init.
    #[arg(long = "ca", alias = "dir", value_name = "DIR")]
    pub ca: PathBuf,
}

/// `--days N | --expires YYYY-MM-DD`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct LifetimeArgs {
    /// Valid for this many days from now [default: 365 for a certificate, 3650 for a CA, 1825 for a CA signed
    /// by sign-ca; never past the end of the CA that signs it].
    #[arg(long, value_name = "N", conflicts_with = "expires")]
    pub days: Option<u32>,
    /// Valid until the end of this day, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::values::date)]
    pub expires: Option<time::Date>,
}

impl LifetimeArgs {
    /// The lifetime asked for, or `Days(default_days)`.
    pub fn lifetime(&self, default_days: u32) -> Lifetime {
        match (self.days, self.expires) {
            (_, Some(date)) => Lifetime::Until(date),
            (Some(days), None) => Lifetime::Days(days),
            (None, None) => Lifetime::Days(default_days),
        }
    }
}

/// `--ca-pass SOURCE` and `--pkcs11-module PATH`: what opens an existing CA key (the password of `ca.key`, or
/// the PIN of the token that holds the key, and that token's module).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CaKeyArgs {
    /// Source of the CA key password (the token PIN for a CA key on a token): env:VAR, file:PATH, fd:N or stdin (default: ask).
    #[arg(long, value_name = "SOURCE")]
    pub ca_pass: Option<SecretSource>,
    /// The token's module.
    #[command(flatten)]
    pub module: ModuleArg,
}

/// `--pkcs11-module PATH`: the PKCS#11 module of a token.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ModuleArg {
    /// PKCS#11 module of the CA key's token (default: $CERTKIT_PKCS11_MODULE, else the one the CA recorded, else SoftHSM2, OpenSC or ykcs11 where installed).
    #[arg(long, value_name = "PATH")]
    pub pkcs11_module: Option<PathBuf>,
}

impl ModuleArg {
    /// The token `--pkcs11 URI` names, with this module; `--pkcs11-module` alone is an error.
    pub fn token(
        self,
        uri: Option<crate::token::TokenUri>,
    ) -> crate::error::Result<Option<crate::commands::init::TokenChoice>> {
        match (uri, self.pkcs11_module) {
            (Some(uri), module) => Ok(Some(crate::commands::init::TokenChoice { uri, module })),
            (None, Some(_)) => Err(crate::error::Error::BadInput(
                "--pkcs11-module needs --pkcs11 URI (the token and the key's label)".into(),
            )),
            (None, None) => Ok(None),
        }
    }
}

/// `--backup-shares N --threshold M [--out FILE] [--share-dir DIR]`: a backup of the CA key into SLIP-39
/// recovery shares, made as the key goes where it can never be read out again.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct BackupSharesArgs {
    /// Back the key up into this many SLIP-39 recovery shares first (as certkit-ca backup does): once on the
    /// token it can never be read out again.
    #[arg(long, value_name = "N", requires = "threshold",
          value_parser = clap::value_parser!(u8).range(2..=i64::from(crate::slip39::MAX_SHARES)))]
    pub backup_shares: Option<u8>,
    /// How many of the recovery shares restore the key (M, from 2 to N).
    #[arg(long, value_name = "M", requires = "backup_shares",
          value_parser = clap::value_parser!(u8).range(2..=i64::from(crate::slip39::MAX_SHARES)))]
    pub threshold: Option<u8>,
    /// The backup file (default: DIR-backup.key beside the CA folder).
    #[arg(long, value_name = "FILE", requires = "backup_shares")]
    pub out: Option<PathBuf>,
    /// Write the shares to DIR/share-I-of-N.txt instead of showing them on the terminal.
    #[arg(long, value_name = "DIR", requires = "backup_shares")]
    pub share_dir: Option<PathBuf>,
}

impl BackupSharesArgs {
    /// The backup to make for the CA in `ca`, if one was asked for.
    pub fn plan(self, ca: &std::path::Path) -> Option<crate::commands::backup::BackupPlan> {
        let (n, m) = self.backup_shares.zip(self.threshold)?;
        Some(crate::commands::backup::BackupPlan {
            scheme: crate::slip39::Scheme::single(m, n),
            group_names: Vec::new(),
            out: self.out.unwrap_or_else(|| crate::custody::default_path(ca)),
            share_dir: self.share_dir,
        })
    }
}

/// `--policy OID... [--cps URL]`: a CA certificate's own certificatePolicies.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CaPolicyArgs {
    /// A certificate policy of the CA certificate (dotted OID; one or more), written as its
    /// certificatePolicies extension (not critical) and kept by renew and rekey.
    #[arg(long, num_args = 1.., value_name = "OID")]
    pub policy: Vec<String>,
    /// With --policy: the certification practice statement's URL (id-qt-cps), given with each policy.
    #[arg(long, value_name = "URL", requires = "policy")]
    pub cps: Option<String>,
}

impl CaPolicyArgs {
    /// The policies, each checked.
    pub fn policies(&self) -> crate::error::Result<Vec<crate::profile_file::Policy>> {
        let policies: Vec<crate::profile_file::Policy> = self
            .policy
            .iter()
            .map(|oid| crate::profile_file::Policy {
                oid: oid.clone(),
                cps: self.cps.clone(),
                notice: None,
            })
            .collect();
        for policy in &policies {
            policy.check()?;
        }
        Ok(policies)
    }
}

/// `--permit-dns`, `--exclude-dns`, `--permit-email`, `--permit-ip`, `--exclude-ip`: a CA's name constraints.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct NameConstraintArgs {
    /// Certificates under this CA may name only this DNS domain and the names below it (.DOMAIN: only below
    /// it); repeat for more. Written as a critical nameConstraints extension and enforced when certkit issues.
    #[arg(long, num_args = 1.., value_name = "DOMAIN")]
    pub permit_dns: Vec<String>,
    /// Certificates under this CA may not name this DNS domain or any name below it; one or more.
    #[arg(long, num_args = 1.., value_name = "DOMAIN")]
    pub exclude_dns: Vec<String>,
    /// Certificates under this CA may carry only e-mail addresses at this host (.DOMAIN: any host below it;
    /// USER@HOST: that mailbox); one or more.
    #[arg(long, num_args = 1.., value_name = "DOMAIN")]
    pub permit_email: Vec<String>,
    /// Certificates under this CA may name only IP addresses in this range, e.g. 10.0.0.0/8; one or more.
    #[arg(long, num_args = 1.., value_name = "CIDR")]
    pub permit_ip: Vec<String>,
    /// Certificates under this CA may not name an IP address in this range; one or more.
    #[arg(long, num_args = 1.., value_name = "CIDR")]
    pub exclude_ip: Vec<String>,
}

impl NameConstraintArgs {
    /// The constraints, each value checked.
    pub fn constraints(&self) -> crate::error::Result<crate::constraints::NameConstraints> {
        use crate::constraints::Subtree;
        let mut permitted = Vec::new();
        let mut excluded = Vec::new();
        for name in &self.permit_dns {
            permitted.push(Subtree::dns(name)?);
        }
        for name in &self.permit_email {
            permitted.push(Subtree::email(name)?);
        }
        for range in &self.permit_ip {
            permitted.push(Subtree::ip(range)?);
        }
        for name in &self.exclude_dns {
            excluded.push(Subtree::dns(name)?);
        }
        for range in &self.exclude_ip {
            excluded.push(Subtree::ip(range)?);
        }
        Ok(crate::constraints::NameConstraints {
            permitted,
            excluded,
        })
    }
}

/// `--json`.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct JsonArg {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--eku OID`, repeatable.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct EkuArgs {
    /// Extra extended key usage OID (one or more), e.g. 1.3.6.1.5.5.7.3.4.
    #[arg(long, num_args = 1.., value_name = "OID")]
    pub eku: Vec<String>,
}

/// `--crl-url URL`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CrlUrlArg {
    /// CRL distribution point URL (default: the CA's --crl-url, if any).
    #[arg(long, value_name = "URL")]
    pub crl_url: Option<String>,
}

/// `--dns NAME` and `--ip ADDR`, repeatable: a server certificate's extra names.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SanArgs {
    /// Extra DNS name for the SAN (one or more; wildcards such as *.cloudapp.net allowed).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub dns: Vec<String>,
    /// IP address for the SAN (one or more).
    #[arg(long, num_args = 1.., value_name = "ADDR")]
    pub ip: Vec<IpAddr>,
}

/// `completions SHELL`.
#[derive(Clone, Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell (or elvish).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
