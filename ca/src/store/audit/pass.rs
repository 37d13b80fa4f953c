//! The audit's one pass over the log: every byte read once, one line in memory at a time. This thread reads,
//! parses and chains the lines; worker threads check each record against the certificate it carries and its
//! `issued/` copy (the costly part: a signature each). What later checks need (serials, revocations, CRLs,
//! the line a checkpoint ends on, the state it signed) is kept as it goes.

use crate::store::Lineage;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::findings::{Finding, Findings, Level};
use crate::certinfo::{IssuerCheck, Signature};
use crate::error::Result;
use crate::serial::Serial;
use crate::store::checkpoint::{
    CoveredState, EMPTY_SHA256, Tally, chain_revocation, undelivered_tally,
};
use crate::store::folder::CaStore;
use crate::store::inventory::{self, Event, LineRead};
use crate::store::layout::INVENTORY;
use crate::store::records::{CustodyAction, IssuedRecord, RevokedRecord};

/// What the pass saw of one certificate.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    /// The line of its record.
    pub line: usize,
    /// Its end of validity.
    pub not_after: OffsetDateTime,
    /// True once a revocation names it.
    pub revoked: bool,
}

/// Everything the pass learnt, besides its findings.
#[derive(Debug, Default)]
pub struct Pass {
    /// Lines read.
    pub lines: usize,
    /// The hash of the last line (the CA binding when there is none).
    pub head: String,
    /// True when no line has a hash chain (a certkit 0.1 log).
    pub legacy: bool,
    /// Certificates recorded.
    pub certificates: usize,
    /// The line a checkpoint of `count` lines ends on: its hash and where it ends.
    pub at_checkpoint: Option<(String, u64)>,
    /// The revocations and undelivered certificates of the first `count` lines.
    pub state_at_checkpoint: Option<CoveredState>,
    /// Every certificate recorded, by its serial.
    pub seen: HashMap<Serial, Seen>,
    /// The revocations, in log order.
    pub revoked: Vec<(usize, RevokedRecord)>,
    /// The certificates recorded ahead of a delivery that was never recorded, in log order.
    pub undelivered: Vec<(usize, IssuedRecord)>,
    /// The CRLs recorded: number and SHA-256.
    pub crls: Vec<(u64, String)>,
    /// The line of each head hash asked about that the log holds.
    pub heads: HashMap<String, usize>,
    /// The last recovery drill: its line, and why it failed if it did.
    pub last_drill: Option<(usize, Option<String>)>,
}

/// Reads the log of `store` once. `count` is the number of lines the last checkpoint covers; `vouched` the
/// number of first lines whose certificates' signatures are not verified again, because a checkpoint the CA
/// signed covers them (0 to verify all); `heads` are head hashes written down elsewhere; `progress` is told how
/// many bytes of `total` are done.
pub fn run(
    store: &CaStore,
    lineage: &Lineage,
    count: Option<usize>,
    vouched: usize,
    heads: &[String],
    f: &mut Findings,
    progress: &dyn Fn(u64),
) -> Result<Pass> {
    let binding = store.binding()?;
    let check = Arc::new(IssuerCheck::with_keys(&lineage.first, &lineage.keys)?);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (to_check, checked) = std::thread::scope(|scope| -> Result<(Pass, Vec<Finding>)> {
        let (send, receive) = mpsc::sync_channel::<Vec<(usize, IssuedRecord)>>(16);
        let receive = Arc::new(Mutex::new(receive));
        let (report, reports) = mpsc::channel::<Vec<Finding>>();
        for _ in 0..workers {
            let (receive, report, check) =
                (Arc::clone(&receive), report.clone(), Arc::clone(&check));
            scope.spawn(move || {
                let mut found = Findings::default();
                loop {
                    let next = match receive.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => break,
                    };
                    let Ok(chunk) = next else { break };
                    for (line, record) in chunk {
                        let signature = match line <= vouched {
                            true => Signature::Vouched,
                            false => Signature::Verify,
                        };
                        check_record(store, &check, signature, line, &record, &mut found);
                    }
                }
                let _ = report.send(found.0);
            });
        }
        drop(report);
        let pass = read(store, &binding, count, heads, f, progress, &send);
        drop(send);
        let mut checked = Vec::new();
        for found in reports {
            checked.extend(found);
        }
        Ok((pass?, checked))
    })?;
    let mut checked = checked;
    checked.sort_by_key(|finding| finding.line);
    f.0.extend(checked);
    Ok(to_check)
}

/// The reading side of the pass: parses and chains every line, keeps what later checks need, and hands every
/// `issued` record to the workers.
fn read(
    store: &CaStore,
    binding: &str,
    count: Option<usize>,
    heads: &[String],
    f: &mut Findings,
    progress: &dyn Fn(u64),
    to_check: &mpsc::SyncSender<Vec<(usize, IssuedRecord)>>,
) -> Result<Pass> {
    // Records go to the workers in chunks: one hand-over per chunk, not per record.
    const CHUNK: usize = 256;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut pass = Pass {
        head: binding.to_string(),
        legacy: true,
        ..Pass::default()
    };
    let mut revoked = Tally {
        count: 0,
        sha256: EMPTY_SHA256.into(),
    };
    let mut pending: Vec<(usize, IssuedRecord)> = Vec::new();
    let mut chained = 0;
    if heads.iter().any(|h| h == binding) {
        pass.heads.insert(binding.to_string(), 0);
    }
    let snapshot = |pass: &mut Pass, revoked: &Tally, pending: &[(usize, IssuedRecord)]| {
        pass.state_at_checkpoint = Some(CoveredState {
            revoked: revoked.clone(),
            undelivered: undelivered_tally(pending.iter().map(|(_, r)| &r.serial)),
        });
    };
    if count == Some(0) {
        snapshot(&mut pass, &revoked, &pending);
    }
    inventory::visit(&store.path(INVENTORY), 0, 1, true, &mut |read| {
        let line = match read {
            LineRead::Line(line) => line,
            LineRead::Damaged(number, what) => {
                f.add(
                    Level::Error,
                    "record-unreadable",
                    Some(number),
                    format!("the record cannot be read ({what})"),
                );
                return Ok(true);
            }
            LineRead::Torn => {
                f.add(
                    Level::Warning,
                    "torn-last-line",
                    None,
                    "the last line was cut by a crash mid-write; the next command that writes to the CA removes it"
                        .into(),
                );
                return Ok(true);
            }
        };
        progress(line.end);
        match &line.prev {
            None => {}
            Some(prev) => {
                pass.legacy = false;
                chained += 1;
                if *prev != pass.head {
                    f.add(
                        Level::Error,
                        "chain-broken",
                        Some(line.number),
                        if line.number == 1 {
                            "the first record is not bound to this CA's certificate".into()
                        } else {
                            format!(
                                "the record does not follow line {}: line {} was changed, or a record was removed or inserted before line {}",
                                line.number - 1,
                                line.number - 1,
                                line.number
                            )
                        },
                    );
                }
            }
        }
        if line.prev.is_none() && chained > 0 {
            f.add(
                Level::Error,
                "chain-broken",
                Some(line.number),
                "the record has no hash chain (certkit 0.1 format)".into(),
            );
        }
        pass.lines = line.number;
        pass.head = line.hash.clone();
        if heads.contains(&line.hash) {
            pass.heads.insert(line.hash.clone(), line.number);
        }
        match line.event {
            Event::Issued(mut record) | Event::Imported(mut record) => {
                pass.certificates += 1;
                take_serial(
                    &mut pass.seen,
                    f,
                    &record.serial,
                    line.number,
                    record.not_after,
                );
                if record.pending {
                    // Kept without the certificate it carries: the workers check that.
                    let der = record.der.take();
                    pending.push((line.number, record.clone()));
                    record.der = der;
                }
                chunk.push((line.number, record));
                if chunk.len() == CHUNK {
                    // A worker that has stopped cannot take more; the pass goes on with what it can check.
                    let _ = to_check.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
                }
            }
            Event::Revoked(r) => {
                match pass.seen.get_mut(&r.serial) {
                    Some(seen) => seen.revoked = true,
                    None => f.add(
                        Level::Error,
                        "unknown-serial",
                        Some(line.number),
                        format!("revocation of {}, which no earlier record issued", r.serial),
                    ),
                }
                revoked.count += 1;
                revoked.sha256 = chain_revocation(&revoked.sha256, &r);
                pass.revoked.push((line.number, r));
            }
            Event::Delivered(d) => {
                if !pass.seen.contains_key(&d.serial) {
                    f.add(
                        Level::Error,
                        "unknown-serial",
                        Some(line.number),
                        format!("delivery of {}, which no earlier record issued", d.serial),
                    );
                }
                pending.retain(|(_, r)| r.serial != d.serial);
            }
            // A line of an imported index whose certificate was gone: its serial stays taken.
            Event::Missing(missing) => {
                take_serial(
                    &mut pass.seen,
                    f,
                    &missing.serial,
                    line.number,
                    missing.not_after,
                );
                f.add(
                    Level::Note,
                    "imported-missing",
                    Some(line.number),
                    format!(
                        "serial {} ({}) was imported without its certificate (line {} of the source's index.txt)",
                        missing.serial, missing.subject, missing.index_line
                    ),
                );
            }
            Event::Crl(crl) => pass.crls.push((crl.number, crl.sha256)),
            // OCSP windows carry no certificate; the responder checks each response's signature.
            Event::Ocsp(_) => {}
            // Custody steps carry no certificate: the chain covers them like every line.
            Event::Custody(step) => {
                if step.action == CustodyAction::Drill {
                    pass.last_drill = Some((line.number, step.failure));
                }
            }
        }
        if count == Some(line.number) {
            pass.at_checkpoint = Some((line.hash.clone(), line.end));
            snapshot(&mut pass, &revoked, &pending);
        }
        Ok(true)
    })?;
    if !chunk.is_empty() {
        let _ = to_check.send(chunk);
    }
    if pass.lines > 0 && pass.legacy {
        f.add(
            Level::Error,
            "not-chained",
            None,
            "the inventory has no hash chain yet (certkit 0.1 format), so changes to it cannot be seen; any command that writes to the CA upgrades it".into(),
        );
    }
    pass.undelivered = pending;
    Ok(pass)
}

/// One record against the certificate it carries and its `issued/` copy.
fn check_record(
    store: &CaStore,
    check: &IssuerCheck,
    signature: Signature,
    line: usize,
    record: &IssuedRecord,
    f: &mut Findings,
) {
    let copy_path = store.issued_copy(&record.serial);
    let copy = std::fs::read(&copy_path).ok();
    let der = record.cert_der();
    match der.as_ref().or(copy.as_ref()) {
        Some(bytes) => {
            if let Some(falsehood) = record.falsehood(bytes, check, signature) {
                f.add(Level::Error, falsehood.code, Some(line), falsehood.message)
            }
        }
        None => f.add(
            Level::Error,
            "copy-missing",
            Some(line),
            format!(
                "{} is missing and the record does not carry the certificate, so nothing shows the CA signed it",
                copy_path.display()
            ),
        ),
    }
    match (&copy, &der) {
        (None, Some(_)) => f.add(
            Level::Warning,
            "copy-missing",
            Some(line),
            format!(
                "{} is missing; certkit-ca reindex writes it again from the record",
                copy_path.display()
            ),
        ),
        (Some(copy), Some(der)) if copy != der => f.add(
            Level::Error,
            "copy-differs",
            Some(line),
            format!(
                "{} is not the certificate recorded for serial {}",
                copy_path.display(),
                record.serial
            ),
        ),
        _ => {}
    }
}

/// Records that line `line` takes `serial` (a certificate until `not_after`); a serial taken already is
/// `serial-duplicate`.
fn take_serial(
    seen: &mut HashMap<Serial, Seen>,
    f: &mut Findings,
    serial: &Serial,
    line: usize,
    not_after: OffsetDateTime,
) {
    let taken = Seen {
        line,
        not_after,
        revoked: false,
    };
    if let Some(first) = seen.insert(serial.clone(), taken) {
        f.add(
            Level::Error,
            "serial-duplicate",
            Some(line),
            format!(
                "serial {serial} was already recorded on line {}",
                first.line
            ),
        );
    }
}
