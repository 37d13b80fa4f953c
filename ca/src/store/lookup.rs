//! Finding what the CA recorded, through the index, at a cost that does not grow with the CA's history.
//!
//! The index only says where to look. A record a command acts on is read again from the log at the place the
//! index gives and must be the record the index says; what is revoked and what is undelivered (the answers
//! whose loss would let a certificate back in, or a key lie around) is checked against the CA key's last
//! checkpoint and the log after it. When the index and the log disagree, the index is rebuilt from the log and
//! asked again; when they still disagree, the log itself was changed and the command stops.

use std::path::Path;

use time::OffsetDateTime;

use super::checkpoint::{Checkpoint, EMPTY_SHA256, Tally, chain_revocation, undelivered_tally};
use super::folder::CaStore;
use super::index::{Counts, Index, IndexedCert, ListFilter, LogPlace};
use super::inventory::{self, Event, LineReader, Log};
use super::layout::INVENTORY;
use super::records::{CrlRecord, CustodyRecord, Entry, IssuedRecord, OcspRecord};
use crate::error::{Error, Result};
use crate::serial::Serial;
use crate::thumbprint::Thumbprint;

enum Wanted {
    Thumbprint(Thumbprint),
    Serial(Serial),
}

/// The record of `cert` as the log has it (with its certificate), when it is the record the index holds; None
/// when the log does not hold that record where the index says.
fn logged_record(reader: &mut LineReader, cert: &IndexedCert) -> Result<Option<IssuedRecord>> {
    let Some(bytes) = reader.read(cert.start, cert.end)? else {
        return Ok(None);
    };
    Ok(inventory::parse_issued(&bytes).and_then(|mut record| {
        // The index holds the record as it was applied, without its certificate: the log's must be the same.
        let der = record.der.take();
        let same = record == cert.entry.issued;
        record.der = der;
        same.then_some(record)
    }))
}

/// The record of `cert` as the log has it (without its certificate), with the status the index gives it.
fn reread(reader: &mut LineReader, cert: &IndexedCert) -> Result<Option<Entry>> {
    Ok(logged_record(reader, cert)?.map(|mut record| {
        record.der = None;
        Entry {
            issued: record,
            ..cert.entry.clone()
        }
    }))
}

/// The error for a record the log holds differently from what was indexed, even after a rebuild.
fn changed_record(store: &CaStore, line: usize) -> Error {
    Error::Inventory {
        path: store.path(INVENTORY),
        line,
        what: "the record was changed after it was written; nothing was done. See \"certkit-ca audit\"".into(),
    }
}

impl CaStore {
    /// Finds an issued certificate by serial (hex), SHA-1 thumbprint, or certificate file (DER or PEM): its
    /// record as the log has it, and what happened to it since (revocations checked against the checkpoint).
    pub fn find(&self, reference: &str) -> Result<Entry> {
        let path = Path::new(reference);
        let (wanted, label) = if path.is_file() {
            let cert = crate::certinfo::read_cert(path)?;
            (
                Wanted::Thumbprint(cert.thumbprint),
                format!("the certificate in {reference}"),
            )
        } else if let Ok(t) = Thumbprint::parse(reference) {
            (Wanted::Thumbprint(t), format!("thumbprint {t}"))
        } else {
            let serial = Serial::parse(reference).map_err(|_| {
                Error::BadInput(format!(
                    "'{reference}' is not a serial number, a thumbprint or a certificate file"
                ))
            })?;
            let label = format!("serial {serial}");
            (Wanted::Serial(serial), label)
        };
        self.find_wanted(wanted, label)
    }

    fn find_wanted(&self, wanted: Wanted, label: String) -> Result<Entry> {
        self.verified_revocations()?;
        let found = self.confirmed(
            |index| {
                Ok(match &wanted {
                    Wanted::Thumbprint(t) => index.by_thumbprint(t)?,
                    Wanted::Serial(s) => index.by_serial(s)?,
                }
                .into_iter()
                .collect())
            },
            |entry| match &wanted {
                Wanted::Thumbprint(t) => entry.issued.thumbprint == *t,
                Wanted::Serial(s) => entry.issued.serial == *s,
            },
        )?;
        found.into_iter().next().ok_or_else(|| {
            Error::NotFound(format!(
                "{label} is not in the inventory of {}; see \"certkit-ca list --ca {}\"",
                self.dir().display(),
                self.dir().display()
            ))
        })
    }

    /// The certificate of `serial`, as [`CaStore::find`] finds it.
    pub fn find_serial(&self, serial: &Serial) -> Result<Entry> {
        self.find_wanted(Wanted::Serial(serial.clone()), format!("serial {serial}"))
    }

    /// The certificate of `thumbprint`, if the CA recorded it (read again from the log).
    pub fn entry_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<Entry>> {
        self.verified_revocations()?;
        Ok(self
            .confirmed(
                |index| Ok(index.by_thumbprint(thumbprint)?.into_iter().collect()),
                |entry| entry.issued.thumbprint == *thumbprint,
            )?
            .pop())
    }

    /// The certificates that renew `serial`, oldest first (read again from the log).
    pub fn renewals_of(&self, serial: &Serial) -> Result<Vec<Entry>> {
        self.verified_revocations()?;
        self.confirmed(
            |index| index.renewals_of(serial),
            |entry| entry.issued.renewal_of.as_ref() == Some(serial),
        )
    }

    /// The newest renewal of `serial` that is valid at `now` (delivered, neither revoked nor expired): the
    /// certificate that has taken its place, if one has.
    pub fn successor(&self, serial: &Serial, now: OffsetDateTime) -> Result<Option<Entry>> {
        Ok(self
            .renewals_of(serial)?
            .into_iter()
            .rev()
            .find(|e| e.status(now) == super::records::Status::Valid))
    }

    /// Every certificate whose place a valid renewal has taken at `now`, with its newest such renewal: what
    /// `status`, `list` and the report show as renewed, not as expiring.
    pub fn successors(
        &self,
        now: OffsetDateTime,
    ) -> Result<std::collections::BTreeMap<Serial, Entry>> {
        self.verified_revocations()?;
        let renewals = self.confirmed(
            |index| index.renewals(),
            |entry| entry.issued.renewal_of.is_some(),
        )?;
        let mut successors = std::collections::BTreeMap::new();
        for renewal in renewals {
            if renewal.status(now) != super::records::Status::Valid {
                continue;
            }
            if let Some(of) = renewal.issued.renewal_of.clone() {
                // Log order: a later renewal of the same certificate replaces an earlier one.
                successors.insert(of, renewal);
            }
        }
        Ok(successors)
    }

    /// The certificates recorded after line `line`, in log order (read again from the log).
    pub fn recorded_after(&self, line: usize) -> Result<Vec<Entry>> {
        self.confirmed(
            |index| index.recorded_after(line),
            |entry| entry.line > line,
        )
    }

    /// The certificates recorded ahead of a delivery that was not recorded, in log order, checked against the
    /// checkpoint and read again from the log.
    pub fn undelivered(&self) -> Result<Vec<Entry>> {
        self.verified_undelivered()?;
        self.confirmed(
            |index| index.undelivered(),
            |entry| entry.issued.pending && !entry.delivered,
        )
    }

    /// The revoked certificates, in the order they were revoked, checked against the checkpoint and read again
    /// from the log.
    pub fn revoked(&self) -> Result<Vec<Entry>> {
        self.verified_revocations()?;
        self.confirmed(
            |index| index.revoked(),
            |entry| entry.revoked.as_ref().map(|r| &r.serial) == Some(&entry.issued.serial),
        )
    }

    /// How many certificates have each status at `now` (revoked and undelivered as checked against the
    /// checkpoint).
    pub fn counts(&self, now: OffsetDateTime) -> Result<Counts> {
        self.verified_revocations()?;
        self.verified_undelivered()?;
        self.with_index(|index| index.counts(now))
    }

    /// Hands every certificate that `filter` wants to `each`, newest first, as the index finds them (a listing
    /// starts at once); `each` returns false to stop. Revocations and undelivered certificates are checked
    /// against the checkpoint first, and each record is read again from the log, so every row and status shown
    /// is the log's. When a record is not what the index says, the index is rebuilt and the listing goes on
    /// after the last row it gave.
    pub fn list(
        &self,
        filter: &ListFilter,
        now: OffsetDateTime,
        each: &mut dyn FnMut(Entry) -> Result<bool>,
    ) -> Result<()> {
        self.verified_revocations()?;
        self.verified_undelivered()?;
        let mut filter = *filter;
        for attempt in 0..2 {
            let mut reader = LineReader::open(&self.path(INVENTORY))?;
            let mut wrong = None;
            let asked = filter;
            let listed = self.with_index(|index| {
                index.list(&asked, now, &mut |row| {
                    let entry = reader
                        .read(row.start, row.end)?
                        .and_then(|bytes| inventory::parse_issued(&bytes))
                        .and_then(|mut record| {
                            if !asked.with_certificates {
                                record.der = None;
                            }
                            row.entry(record)
                        });
                    match entry {
                        Some(entry) if asked.wants(&entry, now) => {
                            filter.before_line = Some(entry.line);
                            each(entry)
                        }
                        _ => {
                            wrong = Some(row.line);
                            Ok(false)
                        }
                    }
                })
            });
            let why = match (listed, wrong) {
                (Ok(()), None) => return Ok(()),
                (Ok(()), Some(line)) => format!("its record on line {line} is not the log's"),
                (Err(Error::Index { what, .. }), _) => what,
                (Err(e), _) => return Err(e),
            };
            if attempt == 0 {
                self.rebuild_index(&why)?;
            } else {
                return Err(changed_record(self, wrong.unwrap_or(0)));
            }
        }
        Err(Error::Bug("the index was rebuilt and asked again"))
    }

    /// The valid certificates (delivered, neither revoked nor expired at `now`) that expire by `by`, of
    /// `profile` when given, oldest record first: each read again from the log, revocations checked against the
    /// checkpoint. What `certkit-issue renew --expiring-within` renews.
    pub fn expiring(
        &self,
        by: OffsetDateTime,
        profile: Option<crate::profile::Profile>,
        now: OffsetDateTime,
    ) -> Result<Vec<Entry>> {
        self.verified_revocations()?;
        self.verified_undelivered()?;
        let filter = ListFilter {
            profile,
            status: None,
            expiring_by: Some(by),
            before_line: None,
            with_certificates: false,
        };
        let mut entries = Vec::new();
        self.list(&filter, now, &mut |entry| {
            entries.push(entry);
            Ok(true)
        })?;
        entries.reverse();
        Ok(entries)
    }

    /// What `query` finds in the index, each read again from the log and checked to be the record the index
    /// says and one that `fits` the question. If one is not (or the index cannot answer), the index is rebuilt
    /// from the log and asked again; if it still is not, the log was changed after it was written.
    fn confirmed(
        &self,
        query: impl Fn(&super::index::Index) -> Result<Vec<IndexedCert>>,
        fits: impl Fn(&Entry) -> bool,
    ) -> Result<Vec<Entry>> {
        for attempt in 0..2 {
            let why = match self.with_index(|index| query(index)) {
                Ok(found) => {
                    let mut reader = LineReader::open(&self.path(INVENTORY))?;
                    let mut entries = Vec::with_capacity(found.len());
                    let mut wrong = None;
                    for cert in &found {
                        match reread(&mut reader, cert)? {
                            Some(entry) if fits(&entry) => entries.push(entry),
                            _ => {
                                wrong = Some(cert.entry.line);
                                break;
                            }
                        }
                    }
                    match wrong {
                        None => return Ok(entries),
                        Some(line) if attempt == 1 => return Err(changed_record(self, line)),
                        Some(line) => format!("its record on line {line} is not the log's"),
                    }
                }
                Err(Error::Index { what, .. }) if attempt == 0 => what,
                Err(e) => return Err(e),
            };
            self.rebuild_index(&why)?;
        }
        Err(Error::Bug("the index was rebuilt and asked again"))
    }

    /// The custody steps the log records (backups, drills, restores), in log order, each read from the log
    /// where the index says it is; an index that points elsewhere is rebuilt.
    pub fn custody_events(&self) -> Result<Vec<(usize, CustodyRecord)>> {
        for attempt in 0..2 {
            let places = self.with_index(|index| index.custody())?;
            let mut reader = LineReader::open(&self.path(INVENTORY))?;
            let mut events = Vec::with_capacity(places.len());
            let mut wrong = None;
            for (line, start, end) in places {
                match reader.read(start, end)?.map(|b| inventory::parse_line(&b)) {
                    Some(Ok((Event::Custody(record), _))) => events.push((line, record)),
                    _ => {
                        wrong = Some(line);
                        break;
                    }
                }
            }
            match wrong {
                None => return Ok(events),
                Some(line) if attempt == 0 => {
                    self.rebuild_index(&format!(
                        "its custody step on line {line} is not the log's"
                    ))?;
                }
                Some(line) => return Err(changed_record(self, line)),
            }
        }
        Err(Error::Bug("the index was rebuilt and asked again"))
    }

    /// The custody steps of the current CA key: those that name it, and (records made before they named a
    /// key) those recorded since the CA took it. A re-keyed CA's new key has none of the old key's backups.
    pub fn custody_of_current_key(&self) -> Result<Vec<(usize, CustodyRecord)>> {
        let current = self.cert()?;
        let id = crate::keys::key_id(&current.spki_der)?;
        // Where the current key's first certificate was recorded (a re-key records it); none for the first key.
        let mut since: Option<usize> = None;
        let filter = super::index::ListFilter {
            profile: Some(crate::profile::Profile::Ca),
            with_certificates: true,
            ..Default::default()
        };
        self.list(&filter, OffsetDateTime::now_utc(), &mut |entry| {
            if let Some(der) = entry.issued.cert_der()
                && let Ok(cert) = crate::certinfo::CertInfo::from_der(&der, &self.path(INVENTORY))
                && cert.spki_der == current.spki_der
            {
                since = Some(since.map_or(entry.line, |l| l.min(entry.line)));
            }
            Ok(true)
        })?;
        Ok(self
            .custody_events()?
            .into_iter()
            .filter(|(line, record)| match &record.key_id {
                Some(key) => *key == id,
                None => since.is_none_or(|l| *line > l),
            })
            .collect())
    }

    /// The certificates revoked after line `line` (e.g. after the last CRL was signed), checked against the
    /// checkpoint and read again from the log.
    pub fn revoked_after(&self, line: usize) -> Result<Vec<Entry>> {
        self.verified_revocations()?;
        self.confirmed(
            |index| index.revoked_after(line),
            |entry| entry.revoked.as_ref().map(|r| &r.serial) == Some(&entry.issued.serial),
        )
    }

    /// The last CRL the log records, with its line, read from the log where the index says it is; an index
    /// that points elsewhere is rebuilt.
    pub fn last_crl(&self) -> Result<Option<(usize, CrlRecord)>> {
        self.last_event("CRL", Index::last_crl, |event| match event {
            Event::Crl(record) => Some(record),
            _ => None,
        })
    }

    /// The last OCSP window the log records (the last of the last series), with its line, read from the log
    /// where the index says it is; an index that points elsewhere is rebuilt.
    pub fn last_ocsp(&self) -> Result<Option<(usize, OcspRecord)>> {
        self.last_event("OCSP window", Index::last_ocsp, |event| match event {
            Event::Ocsp(record) => Some(record),
            _ => None,
        })
    }

    /// The last event of a kind (`what`) the log records, where `locate` says the index has it, read from the
    /// log and taken by `take`; an index that points elsewhere is rebuilt once.
    fn last_event<T>(
        &self,
        what: &str,
        locate: fn(&Index) -> Result<Option<LogPlace>>,
        take: fn(Event) -> Option<T>,
    ) -> Result<Option<(usize, T)>> {
        for attempt in 0..2 {
            let Some((line, start, end)) = self.with_index(|index| locate(index))? else {
                return Ok(None);
            };
            let mut reader = LineReader::open(&self.path(INVENTORY))?;
            let read = reader.read(start, end)?.map(|b| inventory::parse_line(&b));
            match read.and_then(|r| r.ok()).and_then(|(event, _)| take(event)) {
                Some(record) => return Ok(Some((line, record))),
                None if attempt == 0 => {
                    self.rebuild_index(&format!("its {what} on line {line} is not the log's"))?;
                }
                None => return Err(changed_record(self, line)),
            }
        }
        Err(Error::Bug("the index was rebuilt and asked again"))
    }

    /// The certificate `entry`'s record carries, read from the log (None for a certkit 0.1 record without one).
    pub fn record_certificate(&self, entry: &Entry) -> Result<Option<Vec<u8>>> {
        let serial = &entry.issued.serial;
        for attempt in 0..2 {
            let Some(cert) = self.with_index(|index| index.by_serial(serial))? else {
                return Ok(None);
            };
            let mut reader = LineReader::open(&self.path(INVENTORY))?;
            match logged_record(&mut reader, &cert)? {
                Some(record) if record.serial == *serial => return Ok(record.cert_der()),
                _ if attempt == 0 => {
                    let why = format!("its record on line {} is not the log's", cert.entry.line);
                    self.rebuild_index(&why)?;
                }
                _ => return Err(changed_record(self, cert.entry.line)),
            }
        }
        Err(Error::Bug("the index was rebuilt and asked again"))
    }

    /// The log after the last checkpoint (with the certificates its records carry): what the CA key has not
    /// vouched for yet. Without a checkpoint of version 2, the whole log.
    pub fn after_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<Log> {
        let path = self.path(INVENTORY);
        match checkpoint.and_then(|c| c.bytes.map(|b| (b, c.count))) {
            Some((bytes, count)) => inventory::read_from(&path, bytes, count + 1, count + 1),
            None => {
                let count = checkpoint.map_or(0, |c| c.count);
                let mut log = inventory::read_keeping_certificates_from(&path, count + 1)?;
                log.lines.drain(..count.min(log.lines.len()));
                Ok(log)
            }
        }
    }

    /// Checks what the index says is revoked against the log: the revocations up to the last checkpoint must
    /// be the chain the CA key signed, and those after it the log's own. A CA whose key has not signed a
    /// version 2 checkpoint yet has nothing to check against (its next command that uses the key signs one).
    pub fn verified_revocations(&self) -> Result<()> {
        self.verified("revocations", |store, checkpoint, after| {
            let revoked = store.with_index(|index| index.revoked())?;
            let Some(state) = &checkpoint.state else {
                return Ok(true);
            };
            let mut chain = Tally {
                count: 0,
                sha256: EMPTY_SHA256.into(),
            };
            let mut later = Vec::new();
            for cert in &revoked {
                let (Some(line), Some(r)) = (cert.revoked_line, &cert.entry.revoked) else {
                    return Ok(false);
                };
                if line <= checkpoint.count {
                    chain.count += 1;
                    chain.sha256 = chain_revocation(&chain.sha256, r);
                } else {
                    later.push((line, r.serial.clone()));
                }
            }
            let logged: Vec<(usize, Serial)> = after
                .lines
                .iter()
                .filter_map(|l| match &l.event {
                    Event::Revoked(r) => Some((l.number, r.serial.clone())),
                    _ => None,
                })
                .collect();
            Ok(chain == state.revoked && later == logged)
        })
    }

    /// Checks what the index says is undelivered against the log, as [`CaStore::verified_revocations`] does.
    pub fn verified_undelivered(&self) -> Result<()> {
        self.verified("undelivered certificates", |store, checkpoint, after| {
            let Some(state) = &checkpoint.state else {
                return Ok(true);
            };
            let (then, now) = store.with_index(|index| {
                Ok((
                    index.undelivered_at(checkpoint.count)?,
                    index.undelivered()?,
                ))
            })?;
            if undelivered_tally(then.iter().map(|c| &c.entry.issued.serial)) != state.undelivered {
                return Ok(false);
            }
            // What the log after the checkpoint makes of them.
            let mut expected: Vec<(usize, Serial)> = then
                .iter()
                .map(|c| (c.entry.line, c.entry.issued.serial.clone()))
                .collect();
            for line in &after.lines {
                match &line.event {
                    Event::Issued(record) if record.pending => {
                        expected.push((line.number, record.serial.clone()));
                    }
                    Event::Delivered(d) => expected.retain(|(_, s)| *s != d.serial),
                    _ => {}
                }
            }
            let indexed: Vec<(usize, Serial)> = now
                .iter()
                .map(|c| (c.entry.line, c.entry.issued.serial.clone()))
                .collect();
            Ok(indexed == expected)
        })
    }

    /// Runs `check` (the index against the checkpoint and the log after it) once per process; when it fails,
    /// rebuilds the index and checks again; when that fails too, the log no longer holds what the key signed.
    fn verified(
        &self,
        what: &str,
        check: impl Fn(&CaStore, &Checkpoint, &Log) -> Result<bool>,
    ) -> Result<()> {
        if self.was_verified(what) {
            return Ok(());
        }
        let Some(checkpoint) = self.signed_checkpoint()? else {
            return Ok(());
        };
        if checkpoint.state.is_none() {
            self.mark_verified(what);
            return Ok(());
        }
        let after = self.after_checkpoint(Some(&checkpoint))?;
        for attempt in 0..2 {
            // An index that cannot answer (a row that is not its record) is rebuilt like one that answers wrong.
            let why = match check(self, &checkpoint, &after) {
                Ok(true) => {
                    self.mark_verified(what);
                    return Ok(());
                }
                Ok(false) => format!("its {what} are not those the CA key signed"),
                Err(Error::Index { what, .. }) if attempt == 0 => what,
                Err(e) => return Err(e),
            };
            if attempt == 0 {
                self.rebuild_index(&why)?;
            }
        }
        Err(Error::Inventory {
            path: self.path(INVENTORY),
            line: checkpoint.count,
            what: format!(
                "the {what} the checkpoint of {} signed are not those the log records; nothing was done. See \"certkit-ca audit\"",
                crate::dates::rfc3339(checkpoint.time)
            ),
        })
    }
}
