//! The standalone-TCP listener: glommio glue around [`super::line`] and [`super::conn`].
//! This is the socket boundary: accept, read bytes, write `OK` / `ERROR` / `WVCI` lines,
//! sleep until the state machine's deadline, close.
//!
//! Every executor may bind the same address (glommio listeners use SO_REUSEPORT); a
//! connection is served entirely on the executor that accepted it, by its own task, and is
//! registered in that executor's [`CirHub`] once its `HELO` is validated.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future::{or, pending};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use super::conn::{CloseReason, ERROR_UNAVAILABLE, OK, StcpConn, Step, Timeouts, Verdict};
use super::line::LineBuffer;
use super::{CirError, CirHub, StcpConfig, Validator};

/// How long a connection closed with an error line keeps reading (and discarding) what
/// the client still sends, so that the error line is not lost to a reset.
const LINGER: Duration = Duration::from_millis(200);

/// Pause after a failed accept (out of file descriptors, say) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A bound STCP listener, not serving yet.
#[derive(Debug)]
pub struct StcpListener {
    listener: TcpListener,
    local: SocketAddr,
    config: StcpConfig,
}

impl StcpListener {
    /// Binds `addr` (port 0: any free port, see [`StcpListener::local_addr`]). Must run on
    /// a glommio executor.
    pub fn bind(addr: SocketAddr, config: StcpConfig) -> Result<Self, CirError> {
        let error = |e: io::Error| CirError::BindStcp { addr, source: e };
        let listener = TcpListener::bind(addr).map_err(|e| error(e.into()))?;
        let local = listener.local_addr().map_err(|e| error(e.into()))?;
        Ok(Self {
            listener,
            local,
            config,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves connections until `stop` receives a message or all its senders are dropped
    /// (listeners sharing one receiver: drop the senders to stop them all, a message stops
    /// only one); then closes every connection it accepted and returns once their tasks
    /// have ended. Dropping the future also closes them (at their next wake-up). Errors on
    /// a single connection only close it, so this currently always returns `Ok`.
    pub async fn serve(
        self,
        hub: Rc<CirHub>,
        validate: Validator,
        stop: flume::Receiver<()>,
    ) -> Result<(), CirError> {
        // Dropped at stop: every connection task sees its end and closes.
        let (kill_tx, kill_rx) = flume::bounded::<()>(0);
        // Held by every connection task: the receiver ends when all are gone.
        let (alive_tx, alive_rx) = flume::bounded::<()>(0);
        let timeouts = self.config.timeouts();
        let write_timeout = Duration::from_millis(self.config.write_timeout_ms.max(1));
        loop {
            let accepted = or(async { Some(self.listener.accept().await) }, async {
                let _ = stop.recv_async().await;
                None
            })
            .await;
            let stream = match accepted {
                None => break,
                Some(Ok(stream)) => stream,
                Some(Err(_)) => {
                    glommio::timer::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let _ = stream.set_write_timeout(Some(write_timeout));
            let _ = stream.set_nodelay(true);
            let task = if hub.open_connections() >= self.config.max_connections as u64 {
                hub.bump(|s| s.stcp_refused_full += 1);
                let alive = alive_tx.clone();
                glommio::spawn_local(async move {
                    let mut stream = stream;
                    if stream.write_all(ERROR_UNAVAILABLE.as_bytes()).await.is_ok() {
                        linger_close(&mut stream).await;
                    }
                    drop(alive);
                })
            } else {
                let conn = Connection {
                    stream,
                    guard: Registration {
                        seq: hub.open_connection(),
                        hub: hub.clone(),
                        session: None,
                    },
                    validate: validate.clone(),
                    kill: kill_rx.clone(),
                    wvci: None,
                    _alive: alive_tx.clone(),
                };
                glommio::spawn_local(conn.run(timeouts))
            };
            task.detach();
        }
        drop(kill_tx);
        drop(alive_tx);
        // Err(Disconnected) once every connection task has dropped its sender.
        let _ = alive_rx.recv_async().await;
        Ok(())
    }
}

/// Binds `addr` and serves STCP on it until `stop` (see [`StcpListener::serve`]). To learn
/// the port when `addr` has port 0, use [`StcpListener::bind`] and
/// [`StcpListener::local_addr`] instead.
pub async fn serve_stcp(
    addr: SocketAddr,
    hub: Rc<CirHub>,
    validate: Validator,
    config: StcpConfig,
    stop: flume::Receiver<()>,
) -> Result<(), CirError> {
    StcpListener::bind(addr, config)?
        .serve(hub, validate, stop)
        .await
}

/// Unregisters the connection (and counts it closed) however its task ends, cancellation
/// included.
struct Registration {
    hub: Rc<CirHub>,
    seq: u64,
    session: Option<String>,
}

impl Registration {
    /// The connection no longer serves its session (if it still did).
    fn unbind(&mut self) {
        if let Some(session) = self.session.take() {
            self.hub.unbind(&session, self.seq);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.unbind();
        self.hub.close_connection();
    }
}

/// One accepted connection and its task's state.
struct Connection {
    stream: TcpStream,
    guard: Registration,
    validate: Validator,
    kill: flume::Receiver<()>,
    /// The `WVCI` queue, once bound; its end means the connection was replaced.
    wvci: Option<flume::Receiver<String>>,
    _alive: flume::Sender<()>,
}

/// What woke the connection task.
enum Event {
    Read(io::Result<usize>),
    Wvci(Option<String>),
    Kill,
    Tick,
}

/// How the connection ends.
enum End {
    /// Write the line (if any), then close gracefully.
    Close(Option<&'static str>),
    /// Close at once (peer gone, I/O error, stop, replaced).
    Drop,
}

impl Connection {
    async fn run(mut self, timeouts: Timeouts) {
        let end = self.serve(timeouts).await;
        // No wake may be queued on a connection that is closing.
        self.guard.unbind();
        if let End::Close(reply) = end {
            let written = match reply {
                Some(line) => self.stream.write_all(line.as_bytes()).await.is_ok(),
                None => true,
            };
            if written {
                linger_close(&mut self.stream).await;
            }
        }
    }

    async fn serve(&mut self, timeouts: Timeouts) -> End {
        let mut conn = StcpConn::new(timeouts, Instant::now());
        let mut lines = LineBuffer::new();
        let mut chunk = [0u8; 1024];
        loop {
            while let Some(command) = lines.next_command() {
                let step = conn.on_command(command, Instant::now());
                if let Some(end) = self.apply(&mut conn, step).await {
                    return end;
                }
            }
            let event = {
                let Self {
                    stream, wvci, kill, ..
                } = &mut *self;
                let deadline = conn.deadline();
                let read = async { Event::Read(stream.read(&mut chunk).await) };
                let queued = async {
                    match wvci {
                        Some(rx) => Event::Wvci(rx.recv_async().await.ok()),
                        None => pending().await,
                    }
                };
                let killed = async {
                    let _ = kill.recv_async().await;
                    Event::Kill
                };
                let tick = async {
                    match deadline {
                        Some(at) => sleep_until(at).await,
                        None => pending().await,
                    }
                    Event::Tick
                };
                or(killed, or(read, or(queued, tick))).await
            };
            match event {
                Event::Read(Ok(0)) | Event::Read(Err(_)) | Event::Kill => return End::Drop,
                Event::Read(Ok(n)) => lines.push(&chunk[..n]),
                Event::Wvci(None) => {
                    // Replaced by a newer HELO: the registry already forgot this one.
                    self.guard.session = None;
                    return End::Drop;
                }
                Event::Wvci(Some(line)) => {
                    if self.stream.write_all(line.as_bytes()).await.is_err() {
                        return End::Drop;
                    }
                    self.guard.hub.bump(|s| s.wvci_tcp_written += 1);
                }
                Event::Tick => {
                    let step = conn.on_tick(Instant::now());
                    if let Some(end) = self.apply(&mut conn, step).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Performs one step; `Some` when the connection ends.
    async fn apply(&mut self, conn: &mut StcpConn, mut step: Step) -> Option<End> {
        loop {
            match step {
                Step::Nothing => return None,
                Step::Pong => {
                    self.guard.hub.bump(|s| s.pings += 1);
                    return self.write(OK).await;
                }
                Step::Validate(session) => {
                    let verdict = match self.validate(session, conn.deadline()).await {
                        Some(verdict) => verdict,
                        None => return Some(End::Drop),
                    };
                    step = conn.on_verdict(verdict, Instant::now());
                }
                Step::Bind { session, previous } => {
                    let hub = self.guard.hub.clone();
                    if let Some(previous) = previous {
                        hub.unbind(&previous, self.guard.seq);
                    }
                    self.wvci = Some(hub.bind(&session, self.guard.seq));
                    self.guard.session = Some(session);
                    return self.write(OK).await;
                }
                Step::Close { reply, reason } => {
                    self.guard.hub.bump(|s| match reason {
                        CloseReason::Protocol(_) | CloseReason::OutOfOrder => {
                            s.protocol_errors += 1
                        }
                        CloseReason::Refused | CloseReason::Unavailable => s.helo_refused += 1,
                        CloseReason::HeloTimeout => s.helo_timeouts += 1,
                        CloseReason::Idle => s.idle_closed += 1,
                    });
                    return Some(End::Close(reply));
                }
            }
        }
    }

    /// Asks the validator, bounded by `deadline`; `None` when the server stops meanwhile.
    async fn validate(&self, session: String, deadline: Option<Instant>) -> Option<Verdict> {
        let asked = (self.validate)(session);
        let answered = async {
            Some(if asked.await {
                Verdict::Valid
            } else {
                Verdict::Invalid
            })
        };
        let timed_out = async {
            match deadline {
                Some(at) => sleep_until(at).await,
                None => pending().await,
            }
            Some(Verdict::TimedOut)
        };
        let killed = async {
            let _ = self.kill.recv_async().await;
            None
        };
        or(killed, or(answered, timed_out)).await
    }

    async fn write(&mut self, line: &str) -> Option<End> {
        match self.stream.write_all(line.as_bytes()).await {
            Ok(()) => None,
            Err(_) => Some(End::Drop),
        }
    }
}

async fn sleep_until(at: Instant) {
    glommio::timer::sleep(at.saturating_duration_since(Instant::now())).await;
}

/// Half-closes, then drains what the client still sends for a moment, so that the last
/// line reaches it before the socket is dropped.
async fn linger_close(stream: &mut TcpStream) {
    if stream.shutdown(Shutdown::Write).await.is_err() {
        return;
    }
    let mut sink = [0u8; 512];
    let drain = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    or(drain, glommio::timer::sleep(LINGER)).await;
}
