//! `status`'s OCSP facts: how far the responses signed ahead reach (`ocsp`), and what they do not say yet
//! (`ocsp-gap`): revocations since they were signed (clients are still told `good`) and certificates issued
//! since (clients get no answer; Application Gateway refuses them).

use time::OffsetDateTime;

use super::facts::{Fact, Level, lapsing};
use crate::error::Result;
use crate::store::CaStore;
use crate::store::index::ListFilter;
use crate::store::inventory::Entry;
use crate::term::output::path_text;

/// The OCSP facts at `now`; none for a CA that names no responder and never signed responses.
pub(super) fn facts(
    store: &CaStore,
    ca: &std::path::Path,
    now: OffsetDateTime,
    warn_days: i64,
) -> Result<Vec<Fact>> {
    let settings = store.settings()?;
    let Some((line, last)) = store.last_ocsp()? else {
        return Ok(match settings.ocsp_url {
            Some(url) => vec![Fact {
                check: "ocsp",
                level: Level::Warning,
                message: format!(
                    "the CA names an OCSP responder ({url}) in what it issues but has signed no responses; run certkit-ca ocsp --ca {} --out-dir DIR",
                    path_text(ca)
                ),
                until: None,
            }],
            None => Vec::new(),
        });
    };
    let series = &last.series;
    let sign = format!(
        "certkit-ca ocsp --ca {} --series {} --every {} --overlap {} --out-dir {}",
        path_text(ca),
        series.count,
        series.every_days,
        series.overlap_days,
        series.out_dir
    );
    let mut facts = vec![lapsing(
        "ocsp",
        &format!(
            "the last window of the OCSP responses signed ahead into {}",
            series.out_dir
        ),
        now,
        last.next_update,
        warn_days,
    )];
    if facts[0].level != Level::Ok {
        facts[0]
            .message
            .push_str(&format!("; sign the next series: {sign}"));
    }
    let revoked: Vec<Entry> = store
        .revoked_after(line)?
        .into_iter()
        .filter(|e| e.issued.not_after >= now)
        .collect();
    if let Some(first) = revoked.first() {
        facts.push(Fact {
            check: "ocsp-gap",
            level: Level::Warning,
            message: format!(
                "{} revocation(s) since the OCSP responses were signed (the first: {}, {}) are in no response, so OCSP still says good for them; sign again: {sign}",
                revoked.len(),
                first.issued.serial,
                first.issued.subject
            ),
            until: None,
        });
    }
    let mut issued_since = Vec::new();
    store.list(&ListFilter::default(), now, &mut |entry| {
        if entry.line <= line {
            return Ok(false);
        }
        if entry.delivered && entry.revoked.is_none() {
            issued_since.push(entry);
        }
        Ok(true)
    })?;
    if let Some(first) = issued_since.last() {
        facts.push(Fact {
            check: "ocsp-gap",
            level: Level::Warning,
            message: format!(
                "{} certificate(s) issued since the OCSP responses were signed (the first: {}, {}) have no response, so a client that checks by OCSP refuses them; sign again: {sign}",
                issued_since.len(),
                first.issued.serial,
                first.issued.subject
            ),
            until: None,
        });
    }
    Ok(facts)
}
