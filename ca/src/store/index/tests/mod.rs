//! Every question a command asks about some certificates is answered through an index, never by reading every
//! row: at a million records a scan costs tens of milliseconds on every command. SQLite plans without
//! statistics, the same for a small table as for a big one, so a plan that walks the table shows here as work
//! that grows with the rows.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::file::Index;
use super::schema;
use crate::serial::Serial;
use crate::thumbprint::Thumbprint;

const CERTS: i64 = 20_000;
/// SQLite calls the progress handler every this many virtual-machine steps.
const STEPS: i32 = 100;

/// An index of `CERTS` certificates as one batch leaves them: each recorded ahead of its delivery and delivered
/// on the next line, every tenth revoked, every hundredth renewing an earlier one, a CRL and a custody step.
fn batch_index() -> Index {
    let conn = Connection::open_in_memory().expect("memory");
    schema::create(&conn).expect("schema");
    conn.execute(
        "INSERT INTO meta (id, binding, lines, bytes, head) VALUES (1, 'b', ?1, 0, 'h')",
        params![CERTS * 2 + 2],
    )
    .expect("meta");
    let tx = conn.unchecked_transaction().expect("transaction");
    for i in 0..CERTS {
        let line = 2 * i + 1;
        let not_after = 1_900_000_000 + i * 60;
        let renewal_of = (i % 100 == 99).then(|| format!("1{:015X}", i - 50));
        tx.execute(
            "INSERT INTO certs (line, serial, thumbprint, start, end, profile, not_after, renewal_of, pending,
                 delivered_line, revoked_line)
             VALUES (?1, ?2, ?3, 0, 0, 'client', ?4, ?5, 1, ?6, ?7)",
            params![
                line,
                format!("1{i:015X}"),
                format!("{i:040X}"),
                not_after,
                renewal_of,
                line + 1,
                (i % 10 == 9).then_some(line + 1),
            ],
        )
        .expect("cert");
        let not_after = OffsetDateTime::from_unix_timestamp(not_after)
            .expect("time")
            .format(&Rfc3339)
            .expect("format");
        let renewal_of = renewal_of
            .map(|s| format!(r#","renewal_of":"{s}""#))
            .unwrap_or_default();
        let record = format!(
            r#"{{"serial":"1{i:015X}","subject":"CN=p{i}","cn":"p{i}","profile":"client","sans":[],"extra_ekus":[],
            "key":"p256","not_before":"2026-01-01T00:00:00Z","not_after":"{not_after}",
            "thumbprint":"{i:040X}","outputs":[],"pending":true{renewal_of}}}"#
        );
        tx.execute(
            "INSERT INTO records (line, json) VALUES (?1, ?2)",
            params![line, record],
        )
        .expect("record");
    }
    tx.execute(
        "INSERT INTO crls (line, number, sha256, start, end) VALUES (?1, 1, 'x', 0, 0)",
        params![2 * CERTS + 1],
    )
    .expect("crl");
    tx.execute(
        "INSERT INTO custody (line, start, end) VALUES (?1, 0, 0)",
        params![2 * CERTS + 2],
    )
    .expect("custody");
    tx.commit().expect("commit");
    Index::with(conn, Path::new("inventory.jsonl")).expect("index")
}

/// How many hundred virtual-machine steps `question` took.
fn work(index: &mut Index, question: impl FnOnce(&Index)) -> usize {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    index
        .conn
        .progress_handler(
            STEPS,
            Some(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                false
            }),
        )
        .expect("handler");
    question(index);
    index
        .conn
        .progress_handler(STEPS, None::<fn() -> bool>)
        .expect("handler");
    calls.load(Ordering::Relaxed)
}

/// A question asked of the index, by name, with the rows its answer may read.
type Question<'a> = Box<dyn Fn(&Index) + 'a>;

#[test]
fn a_question_about_a_few_certificates_does_not_read_them_all() {
    let mut index = batch_index();
    let serial = Serial::parse(&format!("1{:015X}", CERTS / 2)).expect("serial");
    let thumbprint = Thumbprint::parse(&format!("{:040X}", CERTS / 2)).expect("thumbprint");
    let revoked = (CERTS / 10) as usize;
    // A scan of the table is at least one step per row; the answers below read a handful of rows (or, for
    // the revoked, a tenth of them).
    let scan = (CERTS as usize) / STEPS as usize;
    let all = index.revoked().expect("revoked");
    let before_last = all[all.len() - 2].revoked_line.expect("revoked line");
    let questions: Vec<(&str, usize, Question)> = vec![
        (
            "by_serial",
            1,
            Box::new(|i| assert!(i.by_serial(&serial).expect("serial").is_some())),
        ),
        (
            "by_thumbprint",
            1,
            Box::new(|i| drop(i.by_thumbprint(&thumbprint))),
        ),
        ("renewals_of", 1, Box::new(|i| drop(i.renewals_of(&serial)))),
        ("undelivered", 1, Box::new(|i| drop(i.undelivered()))),
        (
            "undelivered_at",
            1,
            Box::new(|i| drop(i.undelivered_at(2 * CERTS as usize))),
        ),
        (
            "recorded_after",
            1,
            Box::new(|i| drop(i.recorded_after(2 * CERTS as usize - 4))),
        ),
        (
            "counts",
            revoked,
            Box::new(|i| drop(i.counts(OffsetDateTime::now_utc()))),
        ),
        ("custody", 1, Box::new(|i| drop(i.custody()))),
        ("last_crl", 1, Box::new(|i| drop(i.last_crl()))),
        (
            "revoked_after",
            1,
            Box::new(move |i| {
                assert_eq!(
                    i.revoked_after(before_last).expect("revoked after").len(),
                    1
                );
            }),
        ),
        (
            "last_crl_number",
            1,
            Box::new(|i| drop(i.last_crl_number())),
        ),
        (
            "revoked",
            revoked,
            Box::new(move |i| assert_eq!(i.revoked().expect("revoked").len(), revoked)),
        ),
    ];
    for (name, rows, question) in questions {
        let took = work(&mut index, |i| question(i));
        let allowed = rows * 40 / STEPS as usize + 5;
        assert!(
            took <= allowed,
            "{name} took {took}00 steps for {rows} rows (a scan of the table takes {scan}00 or more)"
        );
    }
}
