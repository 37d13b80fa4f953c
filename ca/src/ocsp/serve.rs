//! The responder (`certkit-ca ocsp serve`): answers OCSP over HTTP (RFC 6960 A.1, RFC 5019) with the responses
//! the CA signed ahead. It holds no key and no password; it reads the series folder, serves the current
//! window of the newest series, and checks every response against the CA certificate before serving it.
//! Stateless: as many copies as needed can serve one folder.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use time::OffsetDateTime;
use x509_ocsp::OcspResponseStatus;

use super::request::{self, MAX_REQUEST};
use super::responder::{Answer, Responder, error_answer};
pub use super::responder::{LogSink, ServeConfig, defaults};
use crate::dates::rfc3339;
use crate::error::{Error, Result};

/// Runs the responder until SIGTERM or SIGINT, then lets open requests finish.
pub fn run(config: ServeConfig) -> Result<()> {
    if !config.from.is_dir() {
        return Err(Error::BadInput(format!(
            "{} is not a folder; give the folder certkit-ca ocsp --out-dir wrote",
            config.from.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start", Path::new("the responder"), e))?;
    runtime.block_on(serve(config))
}

async fn serve(config: ServeConfig) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            Error::BadInput(format!(
                "cannot listen on {}: {e}; choose another --listen address or port",
                config.listen
            ))
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("listen on", Path::new("the socket"), e))?;
    let responder = Arc::new(Responder::new(config.clone())?);
    let log = config.log.clone();
    log.line(&format!(
        "listening on http://{local}/ for {} ({})",
        config.ca.subject, config.ca.thumbprint
    ));
    match responder.loaded() {
        Some(l) => log.line(&format!(
            "serving {} ({} responses, {} .. {})",
            l.name,
            l.file.len(),
            rfc3339(l.this_update),
            rfc3339(l.next_update)
        )),
        None => log.line(&format!(
            "no window in {} is current: answering tryLater until one is",
            config.from.display()
        )),
    }
    let watcher = {
        let responder = responder.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(responder.config.rescan);
            loop {
                tick.tick().await;
                let r = responder.clone();
                let changed =
                    tokio::task::spawn_blocking(move || r.refresh(OffsetDateTime::now_utc())).await;
                if let Ok(Some(line)) = changed {
                    responder.config.log.line(&line);
                }
            }
        })
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io("watch for", Path::new("SIGTERM"), e))?;
    let mut full_logged = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                log.line(&format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if !full_logged {
                log.line(&format!(
                    "{} connections are open (--max-connections): closing new ones until some end",
                    config.max_connections
                ));
                full_logged = true;
            }
            drop(stream);
            continue;
        };
        full_logged = false;
        let _ = stream.set_nodelay(true);
        let responder = responder.clone();
        let service = hyper::service::service_fn(move |req| {
            let responder = responder.clone();
            async move { Ok::<_, Infallible>(handle(&responder, req, peer).await) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(config.request_timeout)
            .max_buf_size(64 * 1024);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        let lifetime = config.connection_lifetime;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(lifetime, connection).await;
            drop(slot);
        });
    }
    watcher.abort();
    drop(listener);
    log.line("stopping; letting open requests finish");
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        log.line("some connections did not finish within 5 s");
    }
    Ok(())
}

async fn handle(
    responder: &Responder,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let now = OffsetDateTime::now_utc();
    let answer = match method {
        Method::POST => {
            let limited = Limited::new(req.into_body(), MAX_REQUEST);
            match tokio::time::timeout(responder.config.request_timeout, limited.collect()).await {
                Ok(Ok(body)) => responder.answer_der(&body.to_bytes(), now),
                Ok(Err(_)) => error_answer(
                    OcspResponseStatus::MalformedRequest,
                    format!("malformedRequest (a body over {MAX_REQUEST} bytes, or cut short)"),
                ),
                Err(_) => error_answer(
                    OcspResponseStatus::MalformedRequest,
                    "malformedRequest (the body did not come in time)".into(),
                ),
            }
        }
        Method::GET if req.uri().path() == "/health" => Answer {
            status: if responder.healthy(now) {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            body: Vec::new(),
            window: None,
            log: "health".into(),
        },
        Method::GET => match request::der_from_path(req.uri().path()) {
            Ok(der) => responder.answer_der(&der, now),
            Err(why) => error_answer(OcspResponseStatus::MalformedRequest, why.0.to_string()),
        },
        _ => Answer {
            status: StatusCode::METHOD_NOT_ALLOWED,
            body: Vec::new(),
            window: None,
            log: "method not allowed".into(),
        },
    };
    responder
        .config
        .log
        .line(&format!("{peer} {method} {}", answer.log));
    respond(answer, now)
}

fn respond(answer: Answer, now: OffsetDateTime) -> Response<Full<Bytes>> {
    // RFC 5019 6.2: a response may be cached until its nextUpdate; its ETag names it.
    let etag = answer
        .window
        .map(|_| format!("\"{}\"", &crate::files::sha256_hex(&answer.body)[..32]));
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    if answer.status == StatusCode::OK {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/ocsp-response"),
        );
    }
    let http_date = |t: OffsetDateTime| {
        HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::from(t))).ok()
    };
    match answer.window {
        Some((this_update, next_update)) => {
            let max_age = (next_update - now).whole_seconds().max(0);
            let values = [
                (header::LAST_MODIFIED, http_date(this_update)),
                (header::EXPIRES, http_date(next_update)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_str(&format!(
                        "max-age={max_age}, public, no-transform, must-revalidate"
                    ))
                    .ok(),
                ),
                (
                    header::ETAG,
                    etag.and_then(|e| HeaderValue::from_str(&e).ok()),
                ),
            ];
            for (name, value) in values {
                if let Some(value) = value {
                    headers.insert(name, value);
                }
            }
        }
        None => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
    }
    response
}
