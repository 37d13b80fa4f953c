//! `certkit-ca status`: one command for a scheduler. Everything that can lapse or go wrong unnoticed (the CA
//! certificate, the certificates it issued, its CRLs, undelivered records, the signed checkpoint, the custody
//! drill), each with a level, and the exit code of the worst: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, the
//! convention of monitoring plugins (Nagios, Icinga), so that one can run it unchanged.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::crl_file::CrlFile;
use crate::dates::rfc3339;
use crate::error::{Error, Result};
use crate::store::CaStore;
use crate::store::index::ListFilter;
use crate::store::inventory::Entry;
use crate::store::records::CustodyAction;
use crate::term::{self, Format, Report, output::path_text};

mod facts;
mod integrity;
mod ocsp;
pub use facts::{Fact, Level};
use facts::{broken, days_until, lapsing};
use integrity::{damaged, holds_a_ca, integrity};

/// A CA certificate that expires within this many days (or `--expiring-within`, if longer) is a warning: replacing a
/// CA every client trusts takes planning.
pub const CA_WARN_DAYS: i64 = 365;
/// A CRL whose next update is this close is a warning: whoever publishes CRLs has a week.
pub const CRL_WARN_DAYS: i64 = 7;
/// A backed-up key whose last drill is older than this is a warning.
pub const DRILL_WARN_DAYS: i64 = 366;
/// How many expiring certificates the text lists by name (`--json` lists all).
const SHOWN: usize = 20;

/// What `certkit-ca status` was asked to do.
#[derive(Debug)]
pub struct StatusRequest {
    /// The CA folder.
    pub ca: PathBuf,
    /// Warn about certificates that expire within this many days.
    pub within: u32,
    /// Warn when the CRLs or OCSP responses signed ahead run out within this many days.
    pub warn_days: u32,
    /// The moment to look at (default: now).
    pub at: Option<OffsetDateTime>,
    /// Published CRL files to check too.
    pub crls: Vec<PathBuf>,
    /// `--pkcs11-module`.
    pub module: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
}

/// A certificate that expires soon.
#[derive(Debug, Serialize)]
pub struct Expiring {
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: String,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A certificate in the window whose renewal was delivered: nothing to do for it.
#[derive(Debug, Serialize)]
pub struct Renewed {
    /// Its subject.
    pub subject: String,
    /// Its serial.
    pub serial: String,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The serial of its newest valid renewal.
    pub renewed_by: String,
    /// When that renewal expires.
    #[serde(with = "time::serde::rfc3339")]
    pub renewal_not_after: OffsetDateTime,
}

/// The status of a CA.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// The worst level of the facts.
    pub level: Level,
    /// The one-line summary (the first line of the text).
    pub summary: String,
    /// The CA folder.
    pub ca: String,
    /// The CA's subject.
    pub subject: String,
    /// Every fact, in the order they were looked at.
    pub facts: Vec<Fact>,
    /// The certificates that expire within the window and have no valid renewal, soonest first.
    pub expiring: Vec<Expiring>,
    /// The certificates that expire within the window but were renewed (a valid renewal was delivered).
    pub renewed: Vec<Renewed>,
}

/// Looks at everything and prints the report; an error means the status could not be found out (UNKNOWN),
/// unless the folder holds a CA whose files cannot be read as one: that is damage, CRITICAL, so that deleting a
/// file never silences monitoring.
pub fn run(req: StatusRequest) -> Result<()> {
    let report = match gather(&req) {
        Ok(report) => report,
        Err(e) if holds_a_ca(&req.ca) && !matches!(e, Error::BadInput(_) | Error::Clock(_)) => {
            let fact = damaged(e);
            StatusReport {
                level: Level::Critical,
                summary: format!("CERTKIT CRITICAL - {}", fact.message),
                ca: path_text(&req.ca),
                subject: String::new(),
                facts: vec![fact],
                expiring: Vec::new(),
                renewed: Vec::new(),
            }
        }
        Err(e) => return Err(Error::Unknown(Box::new(e))),
    };
    let level = report.level;
    term::render(&report, req.format)?;
    match level {
        Level::Ok => Ok(()),
        Level::Warning => Err(Error::Attention(1)),
        Level::Critical => Err(Error::Attention(2)),
    }
}

/// Looks at everything (for `status`, and for the report's section on it).
pub fn gather(req: &StatusRequest) -> Result<StatusReport> {
    let store = term::open_ca(&req.ca, req.module.clone())?;
    let cert = store.cert()?;
    let now = req.at.unwrap_or_else(OffsetDateTime::now_utc);
    if now
        .checked_add(Duration::days(i64::from(req.within)))
        .is_none()
    {
        return Err(Error::BadInput(
            "--at and --expiring-within reach past the year 9999; look at an earlier day".into(),
        ));
    }
    let mut facts = Vec::new();
    let ca_warn = CA_WARN_DAYS.max(i64::from(req.within));
    facts.push(if now < cert.not_before {
        // A clock behind the CA's start (or an --at before it): nothing it signed verifies then.
        Fact {
            check: "ca-certificate",
            level: Level::Critical,
            message: format!(
                "the CA certificate '{}' is not valid until {}: check this machine's clock",
                cert.subject,
                rfc3339(cert.not_before)
            ),
            until: Some(cert.not_after),
        }
    } else {
        lapsing(
            "ca-certificate",
            &format!("the CA certificate '{}'", cert.subject),
            now,
            cert.not_after,
            ca_warn,
        )
    });
    // The CAs above (an issuing CA's chain): when one of them runs out, so does everything below it.
    match store.chain_above(&cert) {
        Ok(above) => {
            for ca in above {
                facts.push(lapsing(
                    "ca-chain",
                    &format!("the CA above, '{}',", ca.subject),
                    now,
                    ca.not_after,
                    ca_warn,
                ));
            }
        }
        Err(e) => facts.push(broken("ca-chain", e)),
    }
    // The signed checkpoint: the CA key vouches for the inventory up to it.
    facts.push(match store.signed_checkpoint() {
        Ok(Some(c)) => Fact {
            check: "checkpoint",
            level: Level::Ok,
            message: format!("the CA key's checkpoint over {} records verifies", c.count),
            until: None,
        },
        Ok(None) => Fact {
            check: "checkpoint",
            level: Level::Warning,
            message: "the CA key has signed no checkpoint yet; run certkit-ca audit".into(),
            until: None,
        },
        Err(e) => Fact {
            check: "checkpoint",
            level: Level::Critical,
            message: format!("{e}"),
            until: None,
        },
    });
    // What the inventory says; a CA whose inventory cannot be trusted is critical, not unknown.
    let (expiring, renewed, valid) = match inventory_facts(&store, req, now, &mut facts) {
        Ok(found) => found,
        Err(e) => {
            facts.push(broken("inventory", e));
            (Vec::new(), Vec::new(), 0)
        }
    };
    match crl_facts(&store, &req.ca, now, i64::from(req.warn_days)) {
        Ok(found) => facts.extend(found),
        Err(e) => facts.push(broken("crl", e)),
    }
    match ocsp::facts(&store, &req.ca, now, i64::from(req.warn_days)) {
        Ok(found) => facts.extend(found),
        Err(e) => facts.push(broken("ocsp", e)),
    }
    // A re-keyed CA's earlier keys sign CRLs too (one per key): any key of its lineage.
    let signers = store
        .lineage()
        .map(|l| l.certs)
        .unwrap_or_else(|_| vec![cert.clone()]);
    for path in &req.crls {
        facts.push(crl_file(path, &signers, now));
    }
    match drill(&store, now) {
        Ok(Some(fact)) => facts.push(fact),
        Ok(None) => {}
        Err(e) => facts.push(broken("drill", e)),
    }
    facts.push(integrity(&store));
    let level = facts.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    let worst: Vec<&str> = facts
        .iter()
        .filter(|f| f.level == level && level != Level::Ok)
        .map(|f| f.message.as_str())
        .collect();
    let summary = match level {
        Level::Ok => format!(
            "CERTKIT OK - {}: valid for {} more days, {} certificate(s) valid",
            cert.subject,
            days_until(now, cert.not_after),
            valid
        ),
        _ => format!("CERTKIT {} - {}", level.name(), worst.join("; ")),
    };
    Ok(StatusReport {
        level,
        summary,
        ca: path_text(&req.ca),
        subject: cert.subject,
        facts,
        expiring,
        renewed,
    })
}

/// The facts the inventory gives: the certificates that expire within the window (pushed as a fact, and
/// returned; those renewed already apart), and undelivered records; with how many certificates are valid.
fn inventory_facts(
    store: &CaStore,
    req: &StatusRequest,
    now: OffsetDateTime,
    facts: &mut Vec<Fact>,
) -> Result<(Vec<Expiring>, Vec<Renewed>, usize)> {
    let (expiring, renewed) = expiring(store, now, req.within)?;
    let renewed_note = match renewed.len() {
        0 => String::new(),
        n => format!(" ({n} more renewed already)"),
    };
    facts.push(Fact {
        check: "certificates",
        level: if expiring.is_empty() {
            Level::Ok
        } else {
            Level::Warning
        },
        message: format!(
            "{} certificate(s) expire within {} days{renewed_note}{}",
            expiring.len(),
            req.within,
            if expiring.is_empty() {
                String::new()
            } else {
                format!(
                    "; renew them: certkit-issue renew --ca {} --expiring-within {} --out-dir DIR",
                    path_text(&req.ca),
                    req.within
                )
            }
        ),
        until: expiring.first().map(|e| e.not_after),
    });
    let counts = store.counts(now)?;
    if counts.undelivered > 0 {
        facts.push(Fact {
            check: "undelivered",
            level: Level::Warning,
            message: format!(
                "{} certificate(s) recorded but never delivered (an interrupted run); rerun it, or revoke them",
                counts.undelivered
            ),
            until: None,
        });
    }
    Ok((expiring, renewed, counts.valid))
}

/// The CA's last CRL (or the last of a series signed ahead), as the log records it, and the revocations no
/// CRL holds yet.
fn crl_facts(
    store: &CaStore,
    ca: &std::path::Path,
    now: OffsetDateTime,
    warn_days: i64,
) -> Result<Vec<Fact>> {
    let settings = store.settings()?;
    let Some((line, crl)) = store.last_crl()? else {
        return Ok(vec![match settings.crl_url {
            Some(_) => Fact {
                check: "crl",
                level: Level::Warning,
                message:
                    "the CA names a CRL URL in what it issues but has signed no CRL; run certkit-ca crl"
                        .into(),
                until: None,
            },
            None => Fact {
                check: "crl",
                level: Level::Ok,
                message: "the CA publishes no CRL".into(),
                until: None,
            },
        }]);
    };
    let what = match &crl.series {
        Some(series) => format!(
            "the series of {} CRLs signed ahead into {} (the last, number {}",
            series.count, series.out_dir, crl.number
        ),
        None => format!("the CA's last CRL (number {}", crl.number),
    };
    let mut facts = vec![lapsing(
        "crl",
        &format!("{what})"),
        now,
        crl.next_update,
        warn_days,
    )];
    let missing: Vec<Entry> = store
        .revoked_after(line)?
        .into_iter()
        .filter(|e| e.issued.not_after >= now)
        .collect();
    if let Some(first) = missing.first() {
        let sign = match &crl.series {
            Some(s) => format!(
                "certkit-ca crl --ca {} --series {} --every {} --overlap {} --out-dir {}",
                path_text(ca),
                s.count,
                s.every_days,
                s.overlap_days,
                s.out_dir
            ),
            None => format!("certkit-ca crl --ca {}", path_text(ca)),
        };
        facts.push(Fact {
            check: "crl-gap",
            level: Level::Warning,
            message: format!(
                "{} revocation(s) since the last CRL was signed (the first: {}, {}) are in no CRL, so clients still accept those certificates; sign again: {sign}",
                missing.len(),
                first.issued.serial,
                first.issued.subject
            ),
            until: None,
        });
    }
    Ok(facts)
}

/// The valid certificates that expire within `within` days, soonest first: those without a valid renewal, and
/// those with one.
fn expiring(
    store: &CaStore,
    now: OffsetDateTime,
    within: u32,
) -> Result<(Vec<Expiring>, Vec<Renewed>)> {
    let by = now
        .checked_add(Duration::days(i64::from(within)))
        .ok_or(Error::Bug("a window past the year 9999 was let through"))?;
    let filter = ListFilter {
        expiring_by: Some(by),
        ..ListFilter::default()
    };
    let mut found = Vec::new();
    store.list(&filter, now, &mut |entry| {
        found.push(entry);
        Ok(true)
    })?;
    let successors = if found.is_empty() {
        Default::default()
    } else {
        store.successors(now)?
    };
    let (mut expiring, mut renewed) = (Vec::new(), Vec::new());
    for entry in found {
        let issued = entry.issued;
        match successors.get(&issued.serial) {
            Some(renewal) => renewed.push(Renewed {
                subject: issued.subject,
                serial: issued.serial.to_string(),
                not_after: issued.not_after,
                renewed_by: renewal.issued.serial.to_string(),
                renewal_not_after: renewal.issued.not_after,
            }),
            None => expiring.push(Expiring {
                subject: issued.subject,
                serial: issued.serial.to_string(),
                not_after: issued.not_after,
            }),
        }
    }
    expiring.sort_by_key(|e| e.not_after);
    renewed.sort_by_key(|e| e.not_after);
    Ok((expiring, renewed))
}

/// A published CRL file: readable, signed by this CA, and within its validity.
fn crl_file(
    path: &std::path::Path,
    signers: &[crate::certinfo::CertInfo],
    now: OffsetDateTime,
) -> Fact {
    let critical = |message: String| Fact {
        check: "crl-file",
        level: Level::Critical,
        message,
        until: None,
    };
    let shown = path.display();
    let crl = match CrlFile::read(path) {
        Ok(crl) => crl,
        Err(e @ Error::Malformed { .. }) => return critical(e.to_string()),
        Err(_) => return critical(format!("{shown} cannot be read")),
    };
    if !signers.iter().any(|ca| crl.signed_by(ca)) {
        return critical(format!("{shown} is not signed by this CA"));
    }
    let Some(next) = crl.next_update else {
        return critical(format!(
            "{shown} has no next update: clients cannot tell when it is stale"
        ));
    };
    lapsing(
        "crl-file",
        &format!("the CRL {shown}"),
        now,
        next,
        CRL_WARN_DAYS,
    )
}

/// The custody drill, for a key that was backed up: failed, or not run for a year, is a warning.
fn drill(store: &CaStore, now: OffsetDateTime) -> Result<Option<Fact>> {
    let events = store.custody_of_current_key()?;
    if !events
        .iter()
        .any(|(_, r)| r.action == CustodyAction::Backup)
    {
        return Ok(None);
    }
    let last = events
        .iter()
        .rev()
        .find(|(_, r)| r.action == CustodyAction::Drill);
    let (level, message) = match last {
        None => (
            Level::Warning,
            "the key is backed up but its shares were never tried; run certkit-ca restore --check"
                .to_string(),
        ),
        Some((_, r)) if r.failure.is_some() => (
            Level::Warning,
            format!(
                "the last recovery drill ({}) failed; run another",
                rfc3339(r.time)
            ),
        ),
        Some((_, r)) if days_until(r.time, now) > DRILL_WARN_DAYS => (
            Level::Warning,
            format!(
                "the last recovery drill was on {}, over a year ago; run another",
                rfc3339(r.time)
            ),
        ),
        Some((_, r)) => (
            Level::Ok,
            format!("the last recovery drill ({}) passed", rfc3339(r.time)),
        ),
    };
    Ok(Some(Fact {
        check: "drill",
        level,
        message,
        until: None,
    }))
}

impl Report for StatusReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.summary)?;
        for fact in &self.facts {
            writeln!(
                out,
                "  {:<8}  {:<14}  {}",
                fact.level.name(),
                fact.check,
                fact.message
            )?;
        }
        for e in self.expiring.iter().take(SHOWN) {
            writeln!(
                out,
                "  expires   {}  {}  {}",
                rfc3339(e.not_after),
                e.serial,
                e.subject
            )?;
        }
        if self.expiring.len() > SHOWN {
            writeln!(
                out,
                "  ... and {} more (--json lists them all)",
                self.expiring.len() - SHOWN
            )?;
        }
        for r in self.renewed.iter().take(SHOWN) {
            writeln!(
                out,
                "  renewed   {}  {}  {}  (by {}, until {})",
                rfc3339(r.not_after),
                r.serial,
                r.subject,
                r.renewed_by,
                rfc3339(r.renewal_not_after)
            )?;
        }
        if self.renewed.len() > SHOWN {
            writeln!(
                out,
                "  ... and {} more renewed (--json lists them all)",
                self.renewed.len() - SHOWN
            )?;
        }
        Ok(())
    }
}
