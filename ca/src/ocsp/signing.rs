//! The signatures of a series: one response per certificate per window. With the CA key in memory, on every
//! core while the certificates are still being listed (the listing and the files cost as much as the signatures
//! at 100,000 certificates, so none of them waits for the others); on a token, one at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::response::{ResponseTemplate, Status};
use crate::crl::Window;
use crate::error::{Error, Result};
use crate::serial::Serial;

/// A certificate to answer for.
#[derive(Debug)]
pub struct Subject {
    /// Its serial.
    pub serial: Serial,
    /// When it expires: a window that starts later has no response for it.
    pub not_after: OffsetDateTime,
    /// Good, or revoked when and why.
    pub status: Status,
}

/// Responses signed one after the other: a window file's bytes, or part of them.
#[derive(Debug, Default)]
pub struct Signed {
    /// The DER responses, one after the other.
    pub bytes: Vec<u8>,
    /// How many.
    pub responses: usize,
    /// Of which say `revoked`.
    pub revoked: usize,
}

/// Certificates handed to a worker at once: small enough that the cores finish together, large enough that
/// handing them out costs nothing beside the signatures.
const CHUNK: usize = 256;

/// How a key signs the DER it is given.
pub type Sign<'s> = dyn Fn(&[u8]) -> Result<Vec<u8>> + Sync + 's;

/// Where the certificates come from: called once, it gives each to `each` (in the order of the files).
pub type Listing<'l> = dyn FnOnce(&mut dyn FnMut(Subject) -> Result<()>) -> Result<()> + 'l;

/// What a window's file is made of, handed over window by window in order.
pub type Finish<'f> = dyn FnMut(usize, Signed) -> Result<()> + 'f;

/// The windows of one series, produced at one moment.
pub struct Work<'a> {
    /// What every response has in common.
    pub template: &'a ResponseTemplate,
    /// The windows, in order.
    pub windows: &'a [Window],
    /// producedAt of every response.
    pub produced: OffsetDateTime,
}

/// A part of the certificates for one window: (window, part, the certificates).
type Job = (usize, usize, Arc<Vec<Subject>>);

impl Work<'_> {
    /// The responses for those of `subjects` that have not expired by window `index` starts.
    fn sign_part(&self, index: usize, subjects: &[Subject], sign: &Sign<'_>) -> Result<Signed> {
        let window = &self.windows[index];
        let mut signed = Signed::default();
        for subject in subjects
            .iter()
            .filter(|s| s.not_after >= window.this_update)
        {
            let response =
                self.template
                    .sign(&subject.serial, subject.status, window, self.produced, sign)?;
            signed.bytes.extend_from_slice(&response);
            signed.responses += 1;
            signed.revoked += usize::from(matches!(subject.status, Status::Revoked(..)));
        }
        Ok(signed)
    }

    /// Lists, then signs window after window on this thread (a token signs one thing at a time).
    pub fn one_at_a_time(
        &self,
        list: Box<Listing<'_>>,
        sign: &Sign<'_>,
        finish: &mut Finish<'_>,
    ) -> Result<()> {
        let mut subjects = Vec::new();
        list(&mut |subject| {
            subjects.push(subject);
            Ok(())
        })?;
        for index in 0..self.windows.len() {
            finish(index, self.sign_part(index, &subjects, sign)?)?;
        }
        Ok(())
    }

    /// On every core: workers take parts from one queue, the first window's parts as soon as they are listed,
    /// then every other window's; this thread lists, then puts each window together as soon as all of its
    /// parts are signed and hands it to `finish` while the workers go on with the next.
    pub fn on_every_core(
        &self,
        list: Box<Listing<'_>>,
        sign: &Sign<'_>,
        finish: &mut Finish<'_>,
    ) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let stop = AtomicBool::new(false);
        let (jobs, queue) = channel::<Job>();
        let queue = Mutex::new(queue);
        std::thread::scope(|scope| {
            let (done, results) = channel::<(usize, usize, Result<Signed>)>();
            for _ in 0..cores {
                let (queue, done, stop) = (&queue, done.clone(), &stop);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => break,
                        };
                        let Ok((window, part, subjects)) = job else {
                            break;
                        };
                        let signed = self.sign_part(window, &subjects, sign);
                        if done.send((window, part, signed)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done);
            let outcome = self.feed(list, jobs, &results, finish);
            // After an error the workers stop at their next part; the scope waits for them.
            stop.store(true, Ordering::Relaxed);
            outcome
        })
    }

    /// Lists into parts for the workers, then gathers what they signed.
    fn feed(
        &self,
        list: Box<Listing<'_>>,
        jobs: Sender<Job>,
        results: &Receiver<(usize, usize, Result<Signed>)>,
        finish: &mut Finish<'_>,
    ) -> Result<()> {
        let stopped = || Error::Bug("the signing threads stopped");
        let mut parts: Vec<Arc<Vec<Subject>>> = Vec::new();
        let mut pending = Vec::with_capacity(CHUNK);
        let hand_out = |subjects: Vec<Subject>, parts: &mut Vec<Arc<Vec<Subject>>>| {
            let part = Arc::new(subjects);
            jobs.send((0, parts.len(), Arc::clone(&part)))
                .map_err(|_| stopped())?;
            parts.push(part);
            Ok::<(), Error>(())
        };
        list(&mut |subject| {
            pending.push(subject);
            if pending.len() == CHUNK {
                hand_out(
                    std::mem::replace(&mut pending, Vec::with_capacity(CHUNK)),
                    &mut parts,
                )?;
            }
            Ok(())
        })?;
        if !pending.is_empty() {
            hand_out(pending, &mut parts)?;
        }
        for window in 1..self.windows.len() {
            for (index, part) in parts.iter().enumerate() {
                jobs.send((window, index, Arc::clone(part)))
                    .map_err(|_| stopped())?;
            }
        }
        drop(jobs);
        self.gather(parts.len(), results, finish)
    }

    /// Receives the signed parts and hands each window to `finish`, in order, as soon as all of it is here.
    fn gather(
        &self,
        count: usize,
        results: &Receiver<(usize, usize, Result<Signed>)>,
        finish: &mut Finish<'_>,
    ) -> Result<()> {
        let mut parts: Vec<Vec<Option<Signed>>> = (0..self.windows.len())
            .map(|_| (0..count).map(|_| None).collect())
            .collect();
        let mut missing = vec![count; self.windows.len()];
        for index in 0..self.windows.len() {
            while missing[index] > 0 {
                let (window, part, signed) = results
                    .recv()
                    .map_err(|_| Error::Bug("a signing thread stopped"))?;
                parts[window][part] = Some(signed?);
                missing[window] -= 1;
            }
            let done: Vec<Signed> = parts[index].drain(..).flatten().collect();
            let mut window = Signed {
                bytes: Vec::with_capacity(done.iter().map(|p| p.bytes.len()).sum()),
                ..Signed::default()
            };
            for part in done {
                window.bytes.extend_from_slice(&part.bytes);
                window.responses += part.responses;
                window.revoked += part.revoked;
            }
            finish(index, window)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;
    use time::Duration;

    fn ca() -> (crate::certinfo::CertInfo, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("self-signed");
        let info = crate::certinfo::CertInfo::from_der(cert.der(), std::path::Path::new("ca.cer"))
            .expect("read back");
        (info, key)
    }

    /// Every response of `bytes`, read back: (serial, status).
    fn read_all(bytes: &[u8]) -> Vec<(Serial, Status)> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (_, after) = crate::ber::read(rest).expect("a whole DER value");
            let one = &rest[..rest.len() - after.len()];
            let read = super::super::response::read(one).expect("a response");
            out.push((read.serial, read.status));
            rest = after;
        }
        out
    }

    #[test]
    fn every_core_signs_each_window_whole_in_the_listed_order_without_the_expired() {
        let (cert, key) = ca();
        let template = ResponseTemplate::new(&cert, KeyType::P256).expect("template");
        let now = crate::dates::now_utc_seconds().expect("now");
        let windows: Vec<Window> = (0..3)
            .map(|i| Window {
                this_update: now + Duration::days(7 * i),
                next_update: now + Duration::days(7 * i + 8),
            })
            .collect();
        // 700 certificates (three parts and a bit): every third expires before the second window, every
        // seventh is revoked.
        let subjects: Vec<(Serial, OffsetDateTime, Status)> = (0..700)
            .map(|i| {
                let not_after = now + Duration::days(if i % 3 == 0 { 3 } else { 400 });
                let status = if i % 7 == 0 {
                    Status::Revoked(
                        now - Duration::days(1),
                        crate::store::inventory::RevocationReason::KeyCompromise,
                    )
                } else {
                    Status::Good
                };
                (Serial::random().expect("serial"), not_after, status)
            })
            .collect();
        let work = Work {
            template: &template,
            windows: &windows,
            produced: now,
        };
        let listed = subjects.clone();
        let list = Box::new(move |each: &mut dyn FnMut(Subject) -> Result<()>| {
            for (serial, not_after, status) in listed {
                each(Subject {
                    serial,
                    not_after,
                    status,
                })?;
            }
            Ok(())
        });
        let sign = |tbs: &[u8]| {
            use rcgen::SigningKey;
            key.sign(tbs).map_err(|e| Error::crypto("signing", e))
        };
        let mut got = Vec::new();
        work.on_every_core(list, &sign, &mut |index, signed| {
            got.push((index, signed));
            Ok(())
        })
        .expect("signed");
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 1, 2]);
        for (index, signed) in &got {
            let expected: Vec<(Serial, Status)> = subjects
                .iter()
                .filter(|s| s.1 >= windows[*index].this_update)
                .map(|s| (s.0.clone(), s.2))
                .collect();
            assert_eq!(read_all(&signed.bytes), expected, "window {index}");
            assert_eq!(signed.responses, expected.len());
            let revoked = expected
                .iter()
                .filter(|s| matches!(s.1, Status::Revoked(..)))
                .count();
            assert_eq!(signed.revoked, revoked);
        }
        assert_eq!(got[0].1.responses, 700);
        assert!(got[1].1.responses < 700);
    }

    #[test]
    fn a_signature_that_fails_stops_the_series_with_its_error() {
        let (cert, _) = ca();
        let template = ResponseTemplate::new(&cert, KeyType::P256).expect("template");
        let now = crate::dates::now_utc_seconds().expect("now");
        let windows = [Window {
            this_update: now,
            next_update: now + Duration::days(8),
        }];
        let work = Work {
            template: &template,
            windows: &windows,
            produced: now,
        };
        let list = Box::new(move |each: &mut dyn FnMut(Subject) -> Result<()>| {
            for _ in 0..1000 {
                each(Subject {
                    serial: Serial::random()?,
                    not_after: now + Duration::days(30),
                    status: Status::Good,
                })?;
            }
            Ok(())
        });
        let sign = |_: &[u8]| -> Result<Vec<u8>> { Err(Error::Bug("the token went away")) };
        let mut finished = 0;
        let outcome = work.on_every_core(list, &sign, &mut |_, _| {
            finished += 1;
            Ok(())
        });
        assert!(
            matches!(outcome, Err(Error::Bug("the token went away"))),
            "{outcome:?}"
        );
        assert_eq!(
            finished, 0,
            "no window is handed over when a signature failed"
        );
    }
}
