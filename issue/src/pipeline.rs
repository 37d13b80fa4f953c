//! Many certificates through the issuance engine at once (a CSV batch, a renewal of everything that expires
//! soon): keys made ahead on all cores, certificates signed and built on worker threads, delivered in groups
//! by the calling thread (one durable append of their records, one flush of their files), and reported in the
//! order they were asked for, one at a time, so that memory does not grow with their number.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rcgen::KeyPair;

use certkit_ca::{Error, KeyType, Result};

use crate::engine::{Engine, Issued, Prepared};

/// Told about the progress of many certificates (the command line draws a bar with it).
pub trait Progress: Sync {
    /// `total` certificates are to be made.
    fn start(&self, total: usize);
    /// One more is done.
    fn done_one(&self);
}

/// Keys made ahead, on all cores. Key generation needs no CA, so a batch starts it before the CA is unlocked,
/// the inventory reconciled and the rows surveyed; the workers that sign then take keys ready-made. It holds
/// at most [`KEYS_AHEAD`] keys; stopping it (dropping it) lets its threads end after the key they are making.
pub struct KeyPool {
    key_type: KeyType,
    /// None for key types that take microseconds to make (EC): the workers make those themselves.
    keys: Option<Mutex<mpsc::Receiver<Result<KeyPair>>>>,
    stop: Arc<AtomicBool>,
    /// How many keys the batch needs, once it knows; the threads stop making keys there.
    wanted: Arc<AtomicUsize>,
}

/// How many keys a pool makes ahead of the workers: enough to keep every core busy while the batch starts up
/// (a fraction of a second; a few dozen RSA keys), and small in memory.
pub const KEYS_AHEAD: usize = 64;

impl KeyPool {
    /// Starts `threads` threads making keys of `key_type` (for RSA, whose keys take tens of milliseconds).
    pub fn start(key_type: KeyType, threads: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let wanted = Arc::new(AtomicUsize::new(usize::MAX));
        if !key_type.is_rsa() {
            return KeyPool {
                key_type,
                keys: None,
                stop,
                wanted,
            };
        }
        let (sender, keys) = mpsc::sync_channel(KEYS_AHEAD);
        let made = Arc::new(AtomicUsize::new(0));
        for _ in 0..threads.max(1) {
            let (sender, stop) = (sender.clone(), Arc::clone(&stop));
            let (wanted, made) = (Arc::clone(&wanted), Arc::clone(&made));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed)
                    && made.fetch_add(1, Ordering::Relaxed) < wanted.load(Ordering::Relaxed)
                {
                    if sender.send(key_type.generate()).is_err() {
                        break;
                    }
                }
            });
        }
        KeyPool {
            key_type,
            keys: Some(Mutex::new(keys)),
            stop,
            wanted,
        }
    }

    /// The type of key it makes.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The batch needs `n` keys of the pool's type in all: the threads make no more than that.
    pub fn want(&self, n: usize) {
        self.wanted.store(n, Ordering::Relaxed);
    }

    /// A new key of `key_type`: from the pool when it makes that type, else made now.
    pub fn take(&self, key_type: KeyType) -> Result<KeyPair> {
        let Some(keys) = self.keys.as_ref().filter(|_| key_type == self.key_type) else {
            return key_type.generate();
        };
        let keys = keys
            .lock()
            .map_err(|_| Error::Bug("the key pool's lock was poisoned"))?;
        keys.recv()
            .map_err(|_| Error::Bug("the key pool stopped"))?
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The most certificates committed together: one durable append of their records, one flush of their files.
pub const GROUP_MAX: usize = 64;

/// Makes and delivers `count` certificates: `prepare(i)` signs and builds the `i`th (on `jobs` worker threads),
/// this thread delivers them in groups of up to [`GROUP_MAX`] as they arrive and hands each to `delivered` with
/// its number. The first error stops the workers. Whatever happened, the records made so far are covered by a
/// checkpoint before it returns.
pub fn deliver_all(
    engine: &Engine<'_>,
    jobs: usize,
    count: usize,
    prepare: &(dyn Fn(usize) -> Result<Prepared> + Sync),
    progress: &dyn Progress,
    delivered: &mut dyn FnMut(usize, Issued) -> Result<()>,
) -> Result<()> {
    progress.start(count);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::sync_channel::<Result<(usize, Prepared)>>(GROUP_MAX);
    let result = std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    if sender.send(prepare(i).map(|p| (i, p))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let stop_on = |err| {
            stop.store(true, Ordering::Relaxed);
            err
        };
        while let Ok(first) = receiver.recv() {
            let mut group = vec![first.map_err(stop_on)?];
            while group.len() < GROUP_MAX {
                match receiver.try_recv() {
                    Ok(made) => group.push(made.map_err(stop_on)?),
                    Err(_) => break,
                }
            }
            let (numbers, prepared): (Vec<usize>, Vec<Prepared>) = group.into_iter().unzip();
            let issued = engine.commit(prepared).map_err(stop_on)?;
            for (i, issued) in numbers.into_iter().zip(issued) {
                progress.done_one();
                delivered(i, issued).map_err(stop_on)?;
            }
        }
        Ok(())
    });
    let checkpoint = engine.checkpoint();
    result?;
    checkpoint
}

/// Outcomes that arrive in any order, handed on in the order of their numbers (0, 1, 2, ...) as soon as each
/// one's turn comes: it holds only those that arrived ahead of their turn.
pub struct InOrder<T> {
    next: usize,
    waiting: BTreeMap<usize, T>,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> InOrder<T> {
    /// Takes outcome `number`, and hands on every outcome whose turn has come.
    pub fn push(
        &mut self,
        number: usize,
        outcome: T,
        each: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        self.waiting.insert(number, outcome);
        while let Some(ready) = self.waiting.remove(&self.next) {
            self.next += 1;
            each(ready)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_come_out_in_order_and_only_the_early_ones_wait() {
        let mut order = InOrder::default();
        let mut out = Vec::new();
        for n in [2, 0, 3, 1, 5, 4] {
            order
                .push(n, n, &mut |x| {
                    out.push(x);
                    Ok(())
                })
                .expect("push");
        }
        assert_eq!(out, [0, 1, 2, 3, 4, 5]);
        assert!(order.waiting.is_empty());
    }
}
