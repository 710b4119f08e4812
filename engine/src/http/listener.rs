//! The listener: a glommio `TcpListener` on the current executor that accepts connections and
//! serves each in its own task (see `conn.rs`). With the connection loop, this is the I/O
//! boundary of the HTTP layer. Its behaviour (one per executor, connection cap, graceful
//! shutdown) is documented on [`Listener`].

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::or;
use glommio::net::{TcpListener, TcpStream};
use glommio::timer::Timer;

use super::conn::{Arrival, ConnContext, serve_connection, write_all_within};
use super::handover::{HandoverPort, MovedConnection};
use super::limits::HttpLimits;
use super::response::{HttpResponse, WriteOptions};
use super::signal::Event;
use super::stats::HttpStats;
use super::{HttpError, HttpService};

/// A bound listening socket of the current executor, not yet serving: [`Listener::bind`],
/// then [`Listener::run`].
///
/// glommio binds with `SO_REUSEPORT`, so every executor can bind the same address and the
/// kernel spreads the connections over them: run one `Listener` per executor.
///
/// **Connection cap**: past [`HttpLimits::max_connections`] open connections, a new one gets
/// `503 Service Unavailable` with `Connection: close` and is closed at once (best effort: a
/// client that already sent its request may see a reset instead).
///
/// **Graceful shutdown**: when the stop signal fires, the listening socket is closed (new
/// connections are refused), connections waiting between requests close, and those in the
/// middle of a request finish it (its response says `Connection: close`). [`Listener::run`]
/// returns once they are all closed, or after [`HttpLimits::shutdown_grace`], when the
/// stragglers are dropped. Dropping the `run` future drops every connection at once.
///
/// **Hand-over** ([`Listener::with_handover`]): connections whose requests keep being served
/// by another executor move to that executor's listener between two requests, and this
/// listener takes in the connections the others send it (they count towards its cap; a
/// connection does not move to a listener at its cap; one arriving after the stop is closed,
/// like any connection idle at that moment).
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    local_addr: SocketAddr,
    limits: HttpLimits,
    stats: Arc<HttpStats>,
    handover: Option<HandoverPort>,
}

/// The state the listener shares with its connection tasks.
struct Shared {
    conn: Rc<ConnContext>,
    open: std::cell::Cell<usize>,
    /// Fired when the last connection closes after the stop.
    drained: Event,
    /// Fired to drop every connection.
    abort: Event,
}

impl Shared {
    fn set_open(&self, open: usize) {
        self.open.set(open);
        if let Some(links) = &self.conn.handover {
            links.set_open(open);
        }
    }
}

/// Counts a connection task: open while it lives.
struct ConnGuard(Rc<Shared>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let shared = &self.0;
        shared.set_open(shared.open.get().saturating_sub(1));
        shared.conn.stats.connection_closed();
        if shared.open.get() == 0 && shared.conn.stopping.is_fired() {
            shared.drained.fire();
        }
    }
}

/// Drops every connection if `run` is dropped before it finished.
struct AbortOnDrop(Rc<Shared>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.conn.stopping.fire();
        self.0.abort.fire();
    }
}

impl Listener {
    /// Binds `addr` (port 0: a free port; see [`Listener::local_addr`]) with `SO_REUSEPORT`.
    /// Must be called on a glommio executor: the listener belongs to it.
    pub fn bind(addr: SocketAddr, limits: HttpLimits) -> Result<Listener, HttpError> {
        let socket = TcpListener::bind(addr).map_err(|e| HttpError::Bind {
            addr,
            source: e.into(),
        })?;
        let local_addr = socket
            .local_addr()
            .map_err(|e| HttpError::Io(std::io::Error::from(e)))?;
        Ok(Listener {
            socket,
            local_addr,
            limits,
            stats: Arc::new(HttpStats::default()),
            handover: None,
        })
    }

    /// Links this listener with the same address's listeners on the other executors (see
    /// [`Listener`]): `port` is this executor's, from [`handover_ports`](super::handover_ports).
    pub fn with_handover(mut self, port: HandoverPort) -> Listener {
        self.handover = Some(port);
        self
    }

    /// The bound address (with the port the OS chose when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters of this listener and its connections.
    pub fn stats(&self) -> Arc<HttpStats> {
        Arc::clone(&self.stats)
    }

    /// Accepts and serves connections with `service` until `stop` fires (a message arrives,
    /// or every sender is dropped, which stops every listener holding a clone), then shuts
    /// down gracefully (see [`Listener`]). Transient accept failures (such as
    /// running out of file descriptors) are counted and retried after a pause; only a broken
    /// listening socket ends the loop with an error (after the same graceful shutdown).
    pub async fn run<S: HttpService>(
        self,
        service: Rc<S>,
        stop: flume::Receiver<()>,
    ) -> Result<(), HttpError> {
        let Listener {
            socket,
            limits,
            stats,
            handover,
            ..
        } = self;
        let (links, inbox) = match handover {
            Some(HandoverPort { mut links, inbox }) => {
                links.set_max_open(limits.max_connections);
                (Some(links), Some(inbox))
            }
            None => (None, None),
        };
        let shared = Rc::new(Shared {
            conn: Rc::new(ConnContext {
                limits: limits.clone(),
                stats: Arc::clone(&stats),
                stopping: Event::default(),
                handover: links,
            }),
            open: std::cell::Cell::new(0),
            drained: Event::default(),
            abort: Event::default(),
        });
        let _abort_on_drop = AbortOnDrop(Rc::clone(&shared));
        // Cancelled when `run` ends (dropped with it).
        let _moved_in = inbox.map(|inbox| {
            glommio::spawn_local(take_moved(Rc::clone(&shared), Rc::clone(&service), inbox))
        });
        let result = loop {
            let accepted = or(async { Some(socket.accept().await) }, async {
                let _ = stop.recv_async().await;
                None
            })
            .await;
            let stream = match accepted {
                None => break Ok(()),
                Some(Ok(stream)) => stream,
                Some(Err(error)) => {
                    if is_fatal(&error) {
                        break Err(HttpError::Io(error.into()));
                    }
                    stats.accept_error();
                    Timer::new(Duration::from_millis(20)).await;
                    continue;
                }
            };
            if shared.open.get() >= limits.max_connections {
                stats.connection_refused();
                refuse(stream, &limits).await;
                continue;
            }
            let Ok(peer) = stream.peer_addr() else {
                continue; // Gone already.
            };
            stats.connection_opened();
            spawn_connection(&shared, &service, stream, peer, Arrival::Accepted);
        };
        drop(socket);
        shared.conn.stopping.fire();
        if shared.open.get() > 0 {
            or(
                shared.drained.wait(),
                glommio::timer::sleep(limits.shutdown_grace),
            )
            .await;
        }
        if shared.open.get() > 0 {
            shared.abort.fire();
            // The aborted tasks end at their next poll.
            or(
                shared.drained.wait(),
                glommio::timer::sleep(Duration::from_secs(1)),
            )
            .await;
        }
        result
    }
}

/// Serves `stream` in its own task, counted as open while it lives.
fn spawn_connection<S: HttpService>(
    shared: &Rc<Shared>,
    service: &Rc<S>,
    stream: TcpStream,
    peer: SocketAddr,
    arrival: Arrival,
) {
    shared.set_open(shared.open.get() + 1);
    let guard = ConnGuard(Rc::clone(shared));
    let service = Rc::clone(service);
    glommio::spawn_local(async move {
        let shared = Rc::clone(&guard.0);
        let conn = serve_connection(stream, peer, service, Rc::clone(&shared.conn), arrival);
        or(conn, shared.abort.wait()).await;
        drop(guard);
    })
    .detach();
}

/// Serves the connections other executors move here, until the listener stops (those
/// arriving later are closed: they are between two requests).
async fn take_moved<S: HttpService>(
    shared: Rc<Shared>,
    service: Rc<S>,
    inbox: flume::Receiver<MovedConnection>,
) {
    while let Ok(moved) = inbox.recv_async().await {
        if shared.conn.stopping.is_fired() {
            continue;
        }
        let MovedConnection {
            socket,
            peer,
            moves,
        } = moved;
        shared.conn.stats.connection_moved_in();
        let stream = TcpStream::from(socket);
        spawn_connection(&shared, &service, stream, peer, Arrival::Moved { moves });
    }
}

/// Binds `addr` and serves it until `stop` fires: [`Listener::bind`] then [`Listener::run`].
/// Use those two directly to learn the bound port or to read the [`HttpStats`].
pub async fn serve<S: HttpService>(
    addr: SocketAddr,
    service: Rc<S>,
    limits: HttpLimits,
    stop: flume::Receiver<()>,
) -> Result<(), HttpError> {
    Listener::bind(addr, limits)?.run(service, stop).await
}

/// Answers `503` with `Connection: close` and closes.
async fn refuse(mut stream: TcpStream, limits: &HttpLimits) {
    let mut out = Vec::with_capacity(160);
    let options = WriteOptions {
        close: true,
        ..WriteOptions::default()
    };
    HttpResponse::error(503).write_to(&mut out, options);
    let limit = limits.write_timeout.min(Duration::from_secs(1));
    if write_all_within(&mut stream, &out, limit).await == Some(true) {
        let _ = stream.shutdown(std::net::Shutdown::Write).await;
    }
}

/// Whether an accept error means the listening socket itself is broken.
fn is_fatal(error: &glommio::GlommioError<()>) -> bool {
    let code = match error {
        glommio::GlommioError::IoError(e) => e.raw_os_error(),
        glommio::GlommioError::EnhancedIoError { source, .. } => source.raw_os_error(),
        _ => None,
    };
    matches!(
        code,
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP)
    )
}
