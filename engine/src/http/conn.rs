//! The connection loop: one glommio `TcpStream`, served by an [`HttpService`]. This is the
//! I/O boundary of the HTTP layer (with the listener): it reads into a reused buffer, feeds the
//! sans-IO [`RequestParser`], calls the service for each request in order and writes the
//! responses in that order, keeping the connection open per the keep-alive rules.
//!
//! Pipelined requests are served one at a time; when a response is ready at once (the service
//! future completes on its first poll) it joins the output buffer and the next pipelined request
//! is served before writing, so a burst of requests leaves in one write.
//!
//! Every wait is bounded by a timer ([`HttpLimits`]): the head within `header_timeout` of its
//! first byte (a fresh connection's first byte too), the body within `body_timeout` of the end
//! of the head, the next request within `idle_timeout`, each write within `write_timeout`. When
//! one fires the connection is closed without a response. A parse error is answered with its
//! status and `Connection: close`. Whenever the server closes after a response it shuts down its
//! sending side and discards what the client still sends for up to `linger_timeout`, so that
//! the client reads the response instead of a reset.
//!
//! With hand-over links ([`ConnContext::handover`]), a connection whose requests keep being
//! served by another executor moves there between two requests (see `handover.rs`): its
//! socket goes to that executor's listener and this loop ends.

use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future::{or, poll_once};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::timer::Timer;

use super::HttpService;
use super::handover::{HandoverLinks, Homes};
use super::limits::HttpLimits;
use super::parse::{ParseEvent, Phase, RequestParser};
use super::request::{Method, Version};
use super::response::{CONTINUE, HttpResponse, WriteOptions};
use super::signal::Event;
use super::stats::{HttpStats, TimeoutKind};

/// Flush the output buffer before serving more pipelined requests once it is this large.
const FLUSH_AT: usize = 64 * 1024;

/// How one read ended.
enum ReadOutcome {
    Data(usize),
    Eof,
    Timeout,
    Stopped,
    Failed,
}

/// What a connection needs from its listener.
pub(crate) struct ConnContext {
    pub(crate) limits: HttpLimits,
    pub(crate) stats: std::sync::Arc<HttpStats>,
    /// Fired when the listener stops: idle connections close, others close after their
    /// current response.
    pub(crate) stopping: Event,
    /// The way to the other executors' listeners, if connections may move.
    pub(crate) handover: Option<HandoverLinks>,
}

/// How a connection came to this executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Accepted here: its first request must start within the header timeout.
    Accepted,
    /// Moved here from another executor between two requests, after `moves` moves.
    Moved { moves: u32 },
}

/// Serves one connection until it closes.
pub(crate) async fn serve_connection<S: HttpService + ?Sized>(
    mut stream: TcpStream,
    peer: SocketAddr,
    service: Rc<S>,
    cx: Rc<ConnContext>,
    arrival: Arrival,
) {
    if arrival == Arrival::Accepted {
        let _ = stream.set_nodelay(true);
    }
    let limits = &cx.limits;
    let stats = &*cx.stats;
    let mut parser = RequestParser::new(limits);
    let mut read_buf = vec![0u8; limits.read_buffer_bytes.max(512)];
    let mut out = Vec::with_capacity(4096);
    // A fresh connection must start its head within the header timeout.
    let (mut fresh, moves) = match arrival {
        Arrival::Accepted => (true, 0),
        Arrival::Moved { moves } => (false, moves),
    };
    let mut homes = cx
        .handover
        .as_ref()
        .map(|links| Homes::new(links.here(), moves));
    let mut head_started: Option<Instant> = None;
    let mut body_started: Option<Instant> = None;
    loop {
        match parser.next_event() {
            Ok(Some(ParseEvent::Continue)) => {
                out.extend_from_slice(CONTINUE);
                if !flush(&mut stream, &mut out, &cx).await {
                    return;
                }
            }
            Ok(Some(ParseEvent::Request(request))) => {
                fresh = false;
                head_started = None;
                body_started = None;
                stats.request();
                let head_request = request.method == Method::Head;
                let http10 = request.version == Version::Http10;
                let keep_alive = request.keep_alive;
                let mut future = service.call_homed(request, peer);
                let (response, home) = match poll_once(&mut future).await {
                    Some(response) => response,
                    None => {
                        // Not ready: let earlier responses go while it works.
                        if !out.is_empty() && !flush(&mut stream, &mut out, &cx).await {
                            return;
                        }
                        future.await
                    }
                };
                let close = !keep_alive || response.wants_close() || cx.stopping.is_fired();
                response.write_to(
                    &mut out,
                    WriteOptions {
                        head_request,
                        close,
                        http10_keep_alive: http10 && !close,
                    },
                );
                if close {
                    if flush(&mut stream, &mut out, &cx).await {
                        linger_close(&mut stream, &mut read_buf, limits).await;
                    }
                    return;
                }
                if let Some(homes) = &mut homes {
                    homes.observe(home);
                }
                if out.len() >= FLUSH_AT && !flush(&mut stream, &mut out, &cx).await {
                    return;
                }
            }
            Ok(None) => {
                if !out.is_empty() && !flush(&mut stream, &mut out, &cx).await {
                    return;
                }
                if parser.phase() == Phase::Idle
                    && !cx.stopping.is_fired()
                    && let (Some(homes), Some(links)) = (&mut homes, &cx.handover)
                    && let Some(to) = homes.due()
                {
                    if links.send(to, &stream, peer, homes.next_move()).is_ok() {
                        stats.moved_out();
                        return;
                    }
                    homes.refused();
                }
                let now = Instant::now();
                let (deadline, kind) = match parser.phase() {
                    Phase::Idle if fresh => (now + limits.header_timeout, TimeoutKind::Header),
                    Phase::Idle => (now + limits.idle_timeout, TimeoutKind::Idle),
                    Phase::Head => (
                        *head_started.get_or_insert(now) + limits.header_timeout,
                        TimeoutKind::Header,
                    ),
                    Phase::Body => (
                        *body_started.get_or_insert(now) + limits.body_timeout,
                        TimeoutKind::Body,
                    ),
                };
                // Only a connection between requests stops at once; the others finish theirs.
                let stop = (parser.phase() == Phase::Idle).then_some(&cx.stopping);
                match read_until(&mut stream, &mut read_buf, deadline, stop).await {
                    ReadOutcome::Data(n) => parser.feed(read_buf.get(..n).unwrap_or(&[])),
                    ReadOutcome::Timeout => {
                        stats.timeout(kind);
                        return;
                    }
                    ReadOutcome::Eof | ReadOutcome::Stopped | ReadOutcome::Failed => return,
                }
            }
            Err(error) => {
                let status = error.status();
                stats.parse_error(status);
                let options = WriteOptions {
                    close: true,
                    ..WriteOptions::default()
                };
                HttpResponse::error(status).write_to(&mut out, options);
                if flush(&mut stream, &mut out, &cx).await {
                    linger_close(&mut stream, &mut read_buf, limits).await;
                }
                return;
            }
        }
    }
}

/// One read, unless `deadline` passes or `stop` fires first.
async fn read_until(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    stop: Option<&Event>,
) -> ReadOutcome {
    let read = async {
        match stream.read(buf).await {
            Ok(0) => ReadOutcome::Eof,
            Ok(n) => ReadOutcome::Data(n),
            Err(_) => ReadOutcome::Failed,
        }
    };
    let mut read = std::pin::pin!(read);
    // Bytes already there (a busy connection): no timer for them.
    if let Some(outcome) = poll_once(&mut read).await {
        return outcome;
    }
    let timer = async {
        Timer::new(deadline.saturating_duration_since(Instant::now())).await;
        ReadOutcome::Timeout
    };
    let stopped = async {
        match stop {
            Some(event) => {
                event.wait().await;
                ReadOutcome::Stopped
            }
            None => std::future::pending().await,
        }
    };
    or(read, or(timer, stopped)).await
}

/// Writes and empties `out`; false if the connection is lost (or the write timed out).
pub(crate) async fn flush(stream: &mut TcpStream, out: &mut Vec<u8>, cx: &ConnContext) -> bool {
    let written = write_all_within(stream, out, cx.limits.write_timeout).await;
    out.clear();
    match written {
        Some(ok) => ok,
        None => {
            cx.stats.timeout(TimeoutKind::Write);
            false
        }
    }
}

/// Writes `data`; `None` if it took longer than `limit`.
pub(crate) async fn write_all_within(
    stream: &mut TcpStream,
    data: &[u8],
    limit: Duration,
) -> Option<bool> {
    let write = async {
        let written = stream.write_all(data).await;
        Some(written.is_ok() && stream.flush().await.is_ok())
    };
    let mut write = std::pin::pin!(write);
    // Most writes complete at once (the socket buffer has room): no timer for them.
    if let Some(done) = poll_once(&mut write).await {
        return done;
    }
    let timer = async {
        Timer::new(limit).await;
        None
    };
    or(write, timer).await
}

/// Closes our side and discards what the client still sends, until it closes too or
/// `linger_timeout` passes.
async fn linger_close(stream: &mut TcpStream, buf: &mut [u8], limits: &HttpLimits) {
    if stream.shutdown(Shutdown::Write).await.is_err() {
        return;
    }
    let deadline = Instant::now() + limits.linger_timeout;
    while let ReadOutcome::Data(_) = read_until(stream, buf, deadline, None).await {}
}
