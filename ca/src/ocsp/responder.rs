//! What the responder answers (`certkit-ca ocsp serve`), without the HTTP around it: the window it serves (the
//! newest series' latest window that has started, its first response checked against the CA certificate when
//! loaded) and the answer to one request, each response checked before it is served.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use time::OffsetDateTime;
use x509_ocsp::OcspResponseStatus;

use super::request::{self, Asked};
use super::response::{self, IssuerHashes, ReadResponse, Status};
use super::window::{self, WindowFile};
use crate::certinfo::{CertInfo, IssuerCheck};
use crate::dates::rfc3339;
use crate::error::Result;

/// How the responder runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The series folder (`certkit-ca ocsp --out-dir`).
    pub from: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The CA whose responses it serves.
    pub ca: CertInfo,
    /// The most connections open at once; more are closed as they come.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, or its body.
    pub request_timeout: Duration,
    /// How long one connection may stay open.
    pub connection_lifetime: Duration,
    /// How often the folder is looked at for a new series.
    pub rescan: Duration,
    /// Where the log lines go (one per request, one per window taken up).
    pub log: LogSink,
}

/// Where the responder's log lines go: the command prints them to stderr.
#[derive(Clone)]
pub struct LogSink(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSink")
    }
}

impl LogSink {
    pub(super) fn line(&self, text: &str) {
        (self.0)(text);
    }
}

/// Defaults for [`ServeConfig`].
pub mod defaults {
    use std::time::Duration;
    /// Connections open at once.
    pub const MAX_CONNECTIONS: u32 = 4096;
    /// Seconds to send a request.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Seconds a connection stays open (clients reconnect: OCSP requests are few per client).
    pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
    /// How often the folder is looked at.
    pub const RESCAN: Duration = Duration::from_secs(2);
}

/// A window's file loaded for serving: the responses, and for each whether its signature was checked.
pub(super) struct Loaded {
    pub(super) name: String,
    modified: Option<SystemTime>,
    size: u64,
    produced: OffsetDateTime,
    pub(super) this_update: OffsetDateTime,
    pub(super) next_update: OffsetDateTime,
    pub(super) file: WindowFile,
    checked: Vec<OnceLock<Option<ReadResponse>>>,
}

/// What answers requests.
pub struct Responder {
    pub(super) config: ServeConfig,
    hashes: [IssuerHashes; 2],
    check: IssuerCheck,
    current: RwLock<Option<Arc<Loaded>>>,
}

/// An answer: the HTTP status and body, and what the log line says.
pub struct Answer {
    /// The OCSPResponse (or, for a request that is not one, a short text).
    pub body: Vec<u8>,
    /// HTTP status.
    pub status: StatusCode,
    /// Caching headers for a signed response: thisUpdate and nextUpdate.
    pub window: Option<(OffsetDateTime, OffsetDateTime)>,
    /// The log line's words: serial and outcome.
    pub log: String,
}

impl Responder {
    /// A responder for `config`; it finds the current window at once.
    pub fn new(config: ServeConfig) -> Result<Responder> {
        let responder = Responder {
            hashes: response::issuer_hashes(&config.ca)?,
            check: IssuerCheck::new(&config.ca)?,
            config,
            current: RwLock::new(None),
        };
        responder.refresh(OffsetDateTime::now_utc());
        Ok(responder)
    }

    /// Looks at the folder and loads the window to serve at `now`, if it is not the one loaded. Returns what
    /// changed, for the log.
    pub fn refresh(&self, now: OffsetDateTime) -> Option<String> {
        let loaded = self.loaded();
        let mut candidates = match self.candidates(now) {
            Ok(c) => c,
            Err(e) => return Some(format!("cannot read the series folder: {e}")),
        };
        // The newest series first (producedAt, signed), and in it the latest window that has started.
        candidates.sort_by_key(|c| std::cmp::Reverse((c.2, c.1)));
        for (name, start, produced, modified, size) in candidates {
            if let Some(current) = &loaded
                && current.name == name
                && current.modified == modified
                && current.size == size
                && current.next_update > now
            {
                return None;
            }
            match self.load(&name, start, produced, now) {
                Ok(mut window) => {
                    window.modified = modified;
                    window.size = size;
                    let line = format!(
                        "serving {} ({} responses, {} .. {})",
                        name,
                        window.file.len(),
                        rfc3339(window.this_update),
                        rfc3339(window.next_update)
                    );
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(Arc::new(window));
                    return Some(line);
                }
                Err(why) => self.config.log.line(&format!("skipping {name}: {why}")),
            }
        }
        let had = self
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        had.map(|_| "no window is current: answering tryLater".into())
    }

    /// Window files in the folder that have started by `now`: name, start, signing time, mtime, size.
    #[allow(clippy::type_complexity)]
    fn candidates(
        &self,
        now: OffsetDateTime,
    ) -> std::io::Result<
        Vec<(
            String,
            OffsetDateTime,
            OffsetDateTime,
            Option<SystemTime>,
            u64,
        )>,
    > {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.config.from)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((start, produced)) = window::parse_name(&name) else {
                continue;
            };
            if start > now {
                continue;
            }
            let meta = entry.metadata()?;
            found.push((name, start, produced, meta.modified().ok(), meta.len()));
        }
        Ok(found)
    }

    /// Reads a window's file and checks that its first response (the lowest serial's) is this CA's, for the
    /// window its name says.
    fn load(
        &self,
        name: &str,
        start: OffsetDateTime,
        produced: OffsetDateTime,
        now: OffsetDateTime,
    ) -> std::result::Result<Loaded, String> {
        let path = self.config.from.join(name);
        let file = WindowFile::read(&path).map_err(|e| e.to_string())?;
        let first = file
            .response(0)
            .ok_or_else(|| "it holds no response".to_string())?;
        let first = response::read(first).map_err(String::from)?;
        if !first.signed_by(&self.hashes, &self.check) {
            return Err("its responses are not signed by the CA certificate given".into());
        }
        if first.this_update != start || first.produced_at != produced {
            return Err("its name does not say what its responses say".into());
        }
        if first.next_update <= now {
            return Err(format!(
                "its window ended at {}",
                rfc3339(first.next_update)
            ));
        }
        let checked = (0..file.len()).map(|_| OnceLock::new()).collect();
        Ok(Loaded {
            name: name.to_string(),
            modified: None,
            size: 0,
            produced,
            this_update: first.this_update,
            next_update: first.next_update,
            file,
            checked,
        })
    }

    pub(super) fn loaded(&self) -> Option<Arc<Loaded>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The answer to an OCSPRequest's DER, at `now`.
    pub fn answer_der(&self, der: &[u8], now: OffsetDateTime) -> Answer {
        match request::parse_der(der) {
            Ok(asked) => self.answer(&asked, now),
            Err(why) => error_answer(OcspResponseStatus::MalformedRequest, why.0.to_string()),
        }
    }

    /// The answer about `asked` at `now`.
    pub fn answer(&self, asked: &Asked, now: OffsetDateTime) -> Answer {
        let serial = asked.serial.to_string();
        let ours = self.hashes.iter().any(|h| {
            h.algorithm == asked.algorithm
                && h.name_hash == asked.name_hash
                && h.key_hash == asked.key_hash
        });
        if !ours {
            return error_answer(
                OcspResponseStatus::Unauthorized,
                format!("serial={serial} unauthorized (another CA)"),
            );
        }
        let mut loaded = self.loaded();
        if loaded.as_ref().is_none_or(|l| l.next_update <= now) {
            self.refresh(now);
            loaded = self.loaded();
        }
        let Some(loaded) = loaded else {
            return error_answer(
                OcspResponseStatus::TryLater,
                format!("serial={serial} tryLater (no window is current)"),
            );
        };
        let Some(index) = loaded.file.find(&asked.serial) else {
            return error_answer(
                OcspResponseStatus::Unauthorized,
                format!("serial={serial} unauthorized (not in {})", loaded.name),
            );
        };
        let Some(der) = loaded.file.response(index) else {
            return error_answer(
                OcspResponseStatus::InternalError,
                format!("serial={serial}"),
            );
        };
        let checked = loaded.checked[index].get_or_init(|| {
            response::read(der)
                .ok()
                .filter(|r| r.signed_by(&self.hashes, &self.check))
        });
        let fits = checked.as_ref().filter(|r| {
            r.serial == asked.serial
                && r.produced_at == loaded.produced
                && r.this_update == loaded.this_update
                && r.next_update == loaded.next_update
                && r.this_update <= now
                && now < r.next_update
        });
        let Some(checked) = fits else {
            return error_answer(
                OcspResponseStatus::InternalError,
                format!(
                    "serial={serial} internalError (its response in {} is not one the CA signed for this window)",
                    loaded.name
                ),
            );
        };
        let outcome = match checked.status {
            Status::Good => "good".to_string(),
            Status::Revoked(_, reason) => format!("revoked ({reason})"),
        };
        Answer {
            body: der.to_vec(),
            status: StatusCode::OK,
            window: Some((checked.this_update, checked.next_update)),
            log: format!(
                "serial={serial} {outcome} window={}",
                rfc3339(checked.this_update)
            ),
        }
    }

    /// Whether a window is being served (for a load balancer's health check).
    pub fn healthy(&self, now: OffsetDateTime) -> bool {
        self.loaded().is_some_and(|l| l.next_update > now)
    }
}

pub(super) fn error_answer(status: OcspResponseStatus, log: String) -> Answer {
    Answer {
        body: response::error_response(status),
        status: StatusCode::OK,
        window: None,
        log,
    }
}
