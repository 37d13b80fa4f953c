//! `certkit-ca crl publish`: on the web server, from cron, with no key and no password: the CRL that is current
//! now, out of a folder signed ahead, put in place of the published one when it is newer.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::certinfo::{self, CertInfo};
use crate::crl::publish::{self, Offer};
use crate::crl_file::CrlFile;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::files::{self, PUBLIC};
use crate::store::guard;
use crate::term::{self, Format, Report, output::path_text};

/// Exit 1 when the CRLs run out within this many days, unless `--warn-days` says otherwise.
pub const WARN_DAYS: u32 = 7;

/// What `certkit-ca crl publish` was asked to do.
#[derive(Debug)]
pub struct PublishRequest {
    /// The folder of CRLs signed ahead.
    pub from: PathBuf,
    /// The published CRL.
    pub to: PathBuf,
    /// The CA certificate they must be signed by.
    pub ca_cert: PathBuf,
    /// The thumbprint it must have (when it is the copy in the folder of CRLs).
    pub ca_pin: Option<crate::thumbprint::Thumbprint>,
    /// Warn when they run out within this many days.
    pub warn_days: u32,
    /// The moment to act at (default: now).
    pub at: Option<OffsetDateTime>,
    /// How to print the result.
    pub format: Format,
}

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The published CRL was replaced by the current one.
    Replaced,
    /// The published CRL is already the current one.
    Unchanged,
    /// The published CRL is newer than any current one in the folder (signed since); it stays.
    KeptNewer,
}

/// What `crl publish` did.
#[derive(Debug, Serialize)]
pub struct PublishReport {
    /// What was done.
    pub action: Action,
    /// The published CRL.
    pub to: String,
    /// The CRL file it now holds the copy of (when one from the folder is current).
    pub from_file: Option<String>,
    /// The CRL number it now holds.
    pub crl_number: u64,
    /// Its thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// Its nextUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// Until when the folder's CRLs (and the published one) cover without a gap.
    #[serde(with = "time::serde::rfc3339")]
    pub reach: OffsetDateTime,
    /// Files in the folder passed over, each with why.
    pub passed_over: Vec<String>,
    #[serde(skip)]
    warnings: Vec<String>,
}

/// Publishes; exit 1 (after doing it) when the CRLs run out within the warning window.
pub fn run(req: PublishRequest) -> Result<()> {
    let at = match req.at {
        Some(at) => at,
        None => crate::dates::now_utc_seconds()?,
    };
    if !req.ca_cert.is_file() {
        return Err(Error::NotFound(format!(
            "{} not found: give the CA certificate with --ca-cert FILE (crl --series leaves ca.cer beside the CRLs)",
            req.ca_cert.display()
        )));
    }
    let ca = certinfo::read_cert(&req.ca_cert)?;
    if let Some(pin) = req.ca_pin
        && ca.thumbprint != pin
    {
        return Err(Error::BadInput(format!(
            "{} is not the CA certificate pinned with --ca-thumbprint ({pin}: it is {}); nothing was published. Check where the folder's ca.cer came from",
            req.ca_cert.display(),
            ca.thumbprint
        )));
    }
    guard::check_output(&req.to, &[])?;
    let to = if req.to.symlink_metadata().is_ok() {
        guard::resolve(&req.to)
    } else {
        req.to.clone()
    };
    let published = published(&to, &req.to, &ca)?;
    let (found, passed_over) = publish::read_folder(&req.from, &ca)?;
    let in_folder: Vec<u64> = found.iter().map(|f| f.number).collect();
    let mut candidates = found;
    if let Some(p) = &published {
        candidates.push(p.clone());
    }
    let offer = publish::offer(candidates, passed_over, at);
    let mut report = decide(&req, &to, &offer, published.as_ref(), &in_folder, at)?;
    let Some(chosen) = &offer.current else {
        return Err(Error::Bug("no current CRL was let through"));
    };
    // --at looks at another moment: what is published now is never replaced by what would be current then
    // (a CRL not yet valid in the live path, which the next run from cron could not take back).
    if req.at.is_some() {
        report.warnings.push(format!(
            "--at looks at {}: nothing was written; run without --at to publish",
            rfc3339(at)
        ));
    } else if report.action == Action::Replaced {
        files::replace(&to, &files::read(&chosen.path)?, PUBLIC)?;
    }
    let warn = runs_out_within(report.reach, at, req.warn_days);
    term::render(&report, req.format)?;
    if warn {
        Err(Error::Attention(1))
    } else {
        Ok(())
    }
}

/// Whether `reach` comes within `days` of `at` (or the window would pass the year 9999).
fn runs_out_within(reach: OffsetDateTime, at: OffsetDateTime, days: u32) -> bool {
    at.checked_add(Duration::days(days.into()))
        .is_none_or(|horizon| reach < horizon)
}

/// The CRL published at `to` (given as `given`), when there is one; anything else there is refused.
fn published(to: &Path, given: &Path, ca: &CertInfo) -> Result<Option<publish::Found>> {
    if to.symlink_metadata().is_err() {
        return Ok(None);
    }
    let refuse = || {
        Error::BadInput(format!(
            "{} exists and is not a CRL of this CA; crl publish replaces only the CA's own CRL: check --out and --ca-cert",
            given.display()
        ))
    };
    let crl = CrlFile::read(to).map_err(|_| refuse())?;
    if !crl.signed_by(ca) {
        return Err(refuse());
    }
    Ok(Some(publish::Found {
        path: to.to_path_buf(),
        number: crl.number.unwrap_or(0),
        crl,
    }))
}

/// What to do with what the folder offers; an error (exit 2) when nothing is current.
fn decide(
    req: &PublishRequest,
    to: &Path,
    offer: &Offer,
    published: Option<&publish::Found>,
    in_folder: &[u64],
    at: OffsetDateTime,
) -> Result<PublishReport> {
    let Some(current) = &offer.current else {
        let when = match (offer.next_start, offer.ran_out) {
            (Some(start), _) => format!("the next one starts on {}", rfc3339(start)),
            (None, Some(end)) => format!("the last one ran out on {}", rfc3339(end)),
            (None, None) => "it holds no CRL of this CA".to_string(),
        };
        return Err(Error::NotFound(format!(
            "no CRL in {} is current at {} ({when}); nothing was published: sign a new series with certkit-ca crl --series N --every DAYS --out-dir DIR, and copy it here",
            req.from.display(),
            rfc3339(at)
        )));
    };
    let action = match published {
        // The published CRL is the current one: a copy of one in the folder, or one signed since.
        Some(p) if current.path == p.path => {
            if in_folder.contains(&p.number) {
                Action::Unchanged
            } else {
                Action::KeptNewer
            }
        }
        Some(p) if p.number == current.number && p.crl.der == current.crl.der => Action::Unchanged,
        Some(p) if p.number > current.number => {
            return Err(Error::NotFound(format!(
                "{} holds CRL number {}, newer than the current one in {} (number {}), but it is not current; nothing was published: sign a new CRL",
                req.to.display(),
                p.number,
                req.from.display(),
                current.number
            )));
        }
        _ => Action::Replaced,
    };
    let Some(next_update) = current.crl.next_update else {
        return Err(Error::Bug("a current CRL without a next update"));
    };
    let reach = offer.reach.unwrap_or(next_update);
    let mut warnings: Vec<String> = offer
        .passed_over
        .iter()
        .map(|why| format!("passed over {why}"))
        .collect();
    if runs_out_within(reach, at, req.warn_days) {
        warnings.push(format!(
            "the CRLs in {} run out on {}, within {} days: sign the next series (certkit-ca crl --series N --every DAYS --out-dir DIR) and copy it here",
            req.from.display(),
            rfc3339(reach),
            req.warn_days
        ));
    }
    Ok(PublishReport {
        action,
        to: path_text(&req.to),
        from_file: (current.path != to).then(|| path_text(&current.path)),
        crl_number: current.number,
        this_update: current.crl.this_update,
        next_update,
        reach,
        passed_over: offer.passed_over.clone(),
        warnings,
    })
}

impl Report for PublishReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        match self.action {
            Action::Replaced => writeln!(
                out,
                "Published CRL number {} to {} (from {})",
                self.crl_number,
                self.to,
                self.from_file.as_deref().unwrap_or_default()
            )?,
            Action::Unchanged => writeln!(
                out,
                "{} already holds the current CRL (number {}); unchanged",
                self.to, self.crl_number
            )?,
            Action::KeptNewer => writeln!(
                out,
                "{} holds CRL number {}, newer than the folder's; unchanged",
                self.to, self.crl_number
            )?,
        }
        writeln!(
            out,
            "  valid       {} .. {}",
            rfc3339(self.this_update),
            rfc3339(self.next_update)
        )?;
        writeln!(out, "  covered to  {}", rfc3339(self.reach))
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
