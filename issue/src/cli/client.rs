//! `certkit-issue client`, one certificate or a batch.

use std::path::PathBuf;

use certkit_ca::cli::shared::{CaDirArg, SanArgs};
use certkit_ca::dates::Validity;
use certkit_ca::term::Format;
use certkit_ca::{Error, Profile, Result};

use super::args::{CommonArgs, DEFAULT_LEAF_DAYS, IdentityArgs, with_ekus};
use crate::commands::batch::BatchRequest;
use crate::commands::issue::IssueRequest;

/// `certkit-issue client`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("pfx_profile", |arg| arg.alias(None)))]
pub struct ClientArgs {
    /// The CA.
    #[command(flatten)]
    pub ca: CaDirArg,
    /// E-mail address for the SAN.
    #[arg(long, value_name = "ADDR", conflicts_with = "batch")]
    pub email: Option<String>,
    /// Who the person is to Active Directory.
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Issue one certificate per row of this CSV file (header: cn[,email][,upn][,sid][,uri][,out]).
    #[arg(long, value_name = "FILE.csv", requires = "out_dir")]
    pub batch: Option<PathBuf>,
    /// With --batch: the folder for every row's files (OUT.cer, OUT.pem, and OUT.pfx or OUT.key).
    #[arg(long, value_name = "DIR", requires = "batch")]
    pub out_dir: Option<PathBuf>,
    /// With --batch --pfx: one PFX password per person, read from DIR/<cn>.txt (first line).
    #[arg(
        long,
        value_name = "DIR",
        requires = "batch",
        conflicts_with = "pfx_pass"
    )]
    pub pfx_pass_dir: Option<PathBuf>,
    /// With --batch: worker threads generating keys, 1 to 256 (default: the number of cores).
    #[arg(long, value_name = "N", requires = "batch", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// One client certificate, or a batch of them.
pub enum ClientRequest {
    /// `--cn NAME --out PREFIX`.
    One(IssueRequest),
    /// `--batch FILE --out-dir DIR`.
    Batch(BatchRequest),
}

impl ClientArgs {
    /// The validated request.
    pub fn request(self) -> Result<ClientRequest> {
        let Some(batch) = self.batch else {
            return Ok(ClientRequest::One(self.common.request(
                Profile::Client,
                Some(self.ca.ca),
                SanArgs::default(),
                self.email,
                self.identity,
            )?));
        };
        let mut common = self.common;
        if common.cn.is_some() || common.out.is_some() {
            return Err(Error::BadInput(
                "--batch takes names from the file: drop --cn and --out (use --out-dir)".into(),
            ));
        }
        let out_dir = self
            .out_dir
            .ok_or_else(|| Error::BadInput("--out-dir DIR is required with --batch".into()))?;
        let identity = &self.identity;
        if identity.upn.is_some() || identity.sid.is_some() || !identity.uri.is_empty() {
            return Err(Error::BadInput(
                "--batch takes each person's --upn, --sid and --uri from the file's upn, sid and uri columns"
                    .into(),
            ));
        }
        if let Some((attribute, _)) = common.subject.first() {
            return Err(Error::BadInput(format!(
                "--batch takes each person's subject attributes from the file's columns: drop --subject and add a column {}",
                attribute.name().to_lowercase()
            )));
        }
        let profile = common.profile_file(Profile::Client)?;
        let jobs = self.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        Ok(ClientRequest::Batch(BatchRequest {
            ca: self.ca.ca,
            file: batch,
            out_dir,
            pfx_pass_dir: self.pfx_pass_dir,
            jobs,
            key_type: common.key,
            validity: Validity::starting_now(common.lifetime.lifetime(DEFAULT_LEAF_DAYS))?,
            extra_ekus: with_ekus(common.eku.eku, identity.ekus()),
            sid_extension: identity.sid_extension,
            crl_url: common.crl_url.crl_url,
            profile,
            secrets: common.keys.secrets(),
            format: Format::json_if(common.json.json),
        }))
    }
}
