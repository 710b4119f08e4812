//! The STCP per-connection state machine, sans-IO: commands, validation verdicts and the
//! clock in, [`Step`]s (what to write, whom to ask, when to close) out. The glommio glue
//! (`stcp.rs`) performs the steps; nothing here touches a socket or reads the clock.
//!
//! ```text
//!   accepted --HELO s--> validating --valid--> bound(s) --PING--> OK
//!      |                     |--invalid------> ERROR 604, close
//!      |                     '--timed out----> ERROR 503, close
//!      '-- no HELO within the HELO timeout --> close
//!   bound(s) --HELO t--> validating (rebind) ; no line within the idle timeout --> close
//!   any bad line (unknown command, too long, PING before HELO) --> ERROR 400, close
//! ```
//!
//! Replacement of a connection by a newer `HELO` for the same session is the registry's
//! business ([`crate::cir::CirHub`]): the replaced connection simply loses its `WVCI`
//! queue and closes.

use std::time::{Duration, Instant};

use super::line::{Command, LineError};

/// The answer to a good `HELO` or `PING`.
pub const OK: &str = "OK\r\n";
/// The answer to a bad line (unknown command, too long, `PING` before `HELO`).
pub const ERROR_BAD_REQUEST: &str = "ERROR 400\r\n";
/// The answer to a `HELO` naming no valid session.
pub const ERROR_INVALID_SESSION: &str = "ERROR 604\r\n";
/// The answer when the `HELO` could not be validated in time, or too many connections.
pub const ERROR_UNAVAILABLE: &str = "ERROR 503\r\n";

/// The timeouts of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From accept to a successful `HELO`.
    pub helo: Duration,
    /// Longest silence of the client on a bound connection.
    pub idle: Duration,
}

/// The engine's answer about a `HELO`'s session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A live session: bind.
    Valid,
    /// No such session.
    Invalid,
    /// No answer before the deadline.
    TimedOut,
}

/// Why a connection is closed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// A bad line.
    Protocol(LineError),
    /// `PING` before `HELO`, or a line while a `HELO` is being validated.
    OutOfOrder,
    /// The `HELO` named no valid session.
    Refused,
    /// The `HELO` could not be validated in time.
    Unavailable,
    /// No successful `HELO` within the HELO timeout.
    HeloTimeout,
    /// No line from the client within the idle timeout.
    Idle,
}

/// What the glue must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing.
    Nothing,
    /// Answer a `PING` with [`OK`].
    Pong,
    /// Ask the engine whether the session is valid, then call [`StcpConn::on_verdict`]
    /// (not later than [`StcpConn::deadline`]).
    Validate(String),
    /// Register the connection for `session` (after unregistering it from `previous`, on
    /// a rebind), then answer [`OK`].
    Bind {
        /// The session now served by this connection.
        session: String,
        /// The session it served before, on a second `HELO`.
        previous: Option<String>,
    },
    /// Write `reply` (if any) and close.
    Close {
        /// The last line.
        reply: Option<&'static str>,
        /// Why (for the counters).
        reason: CloseReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    AwaitHelo,
    Validating {
        session: String,
        previous: Option<String>,
    },
    Bound {
        session: String,
    },
    Closed,
}

/// One STCP connection's protocol state.
#[derive(Debug, Clone)]
pub struct StcpConn {
    phase: Phase,
    timeouts: Timeouts,
    accepted: Instant,
    last_activity: Instant,
}

impl StcpConn {
    /// A connection accepted at `now`.
    pub fn new(timeouts: Timeouts, now: Instant) -> Self {
        Self {
            phase: Phase::AwaitHelo,
            timeouts,
            accepted: now,
            last_activity: now,
        }
    }

    /// The session the connection is bound to.
    pub fn session(&self) -> Option<&str> {
        match &self.phase {
            Phase::Bound { session } => Some(session),
            _ => None,
        }
    }

    /// The connection is to be closed (a [`Step::Close`] was returned).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// When [`StcpConn::on_tick`] will close the connection if nothing happens before.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::AwaitHelo | Phase::Validating { previous: None, .. } => {
                Some(self.accepted + self.timeouts.helo)
            }
            Phase::Bound { .. } | Phase::Validating { .. } => {
                Some(self.last_activity + self.timeouts.idle)
            }
            Phase::Closed => None,
        }
    }

    /// A line from the client (or why it is not a command).
    pub fn on_command(&mut self, command: Result<Command, LineError>, now: Instant) -> Step {
        let command = match command {
            Ok(command) => command,
            Err(error) => return self.close(Some(ERROR_BAD_REQUEST), CloseReason::Protocol(error)),
        };
        match (&self.phase, command) {
            (Phase::Closed, _) => Step::Nothing,
            (_, Command::Empty) => Step::Nothing,
            (Phase::Validating { .. }, _) => {
                self.close(Some(ERROR_BAD_REQUEST), CloseReason::OutOfOrder)
            }
            (Phase::AwaitHelo, Command::Ping) => {
                self.close(Some(ERROR_BAD_REQUEST), CloseReason::OutOfOrder)
            }
            (Phase::Bound { .. }, Command::Ping) => {
                self.last_activity = now;
                Step::Pong
            }
            (Phase::AwaitHelo, Command::Helo(session)) => {
                self.phase = Phase::Validating {
                    session: session.clone(),
                    previous: None,
                };
                Step::Validate(session)
            }
            (Phase::Bound { session: previous }, Command::Helo(session)) => {
                self.last_activity = now;
                self.phase = Phase::Validating {
                    session: session.clone(),
                    previous: Some(previous.clone()),
                };
                Step::Validate(session)
            }
        }
    }

    /// The engine's verdict on the `HELO` being validated.
    pub fn on_verdict(&mut self, verdict: Verdict, now: Instant) -> Step {
        if !matches!(self.phase, Phase::Validating { .. }) {
            // No HELO is waiting: leave the phase as it was.
            return Step::Nothing;
        }
        let Phase::Validating { session, previous } =
            std::mem::replace(&mut self.phase, Phase::Closed)
        else {
            return Step::Nothing;
        };
        match verdict {
            Verdict::Valid => {
                self.last_activity = now;
                self.phase = Phase::Bound {
                    session: session.clone(),
                };
                Step::Bind { session, previous }
            }
            Verdict::Invalid => self.close(Some(ERROR_INVALID_SESSION), CloseReason::Refused),
            Verdict::TimedOut => self.close(Some(ERROR_UNAVAILABLE), CloseReason::Unavailable),
        }
    }

    /// The clock: closes the connection once its [`StcpConn::deadline`] has passed.
    pub fn on_tick(&mut self, now: Instant) -> Step {
        match self.deadline() {
            Some(deadline) if now >= deadline => {
                let reason = match self.phase {
                    Phase::Bound { .. }
                    | Phase::Validating {
                        previous: Some(_), ..
                    } => CloseReason::Idle,
                    _ => CloseReason::HeloTimeout,
                };
                self.close(None, reason)
            }
            _ => Step::Nothing,
        }
    }

    fn close(&mut self, reply: Option<&'static str>, reason: CloseReason) -> Step {
        self.phase = Phase::Closed;
        Step::Close { reply, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cir::line::LineBuffer;

    const T: Timeouts = Timeouts {
        helo: Duration::from_secs(10),
        idle: Duration::from_secs(1800),
    };

    fn helo(s: &str) -> Result<Command, LineError> {
        Ok(Command::Helo(s.into()))
    }

    fn bound(t0: Instant) -> StcpConn {
        let mut c = StcpConn::new(T, t0);
        assert_eq!(c.on_command(helo("0-a"), t0), Step::Validate("0-a".into()));
        assert!(matches!(
            c.on_verdict(Verdict::Valid, t0),
            Step::Bind { .. }
        ));
        c
    }

    #[test]
    fn helo_ok_then_ping() {
        let t0 = Instant::now();
        let mut c = StcpConn::new(T, t0);
        assert_eq!(c.session(), None);
        assert_eq!(c.deadline(), Some(t0 + T.helo));
        assert_eq!(c.on_command(helo("0-a"), t0), Step::Validate("0-a".into()));
        assert_eq!(c.deadline(), Some(t0 + T.helo));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            c.on_verdict(Verdict::Valid, t1),
            Step::Bind {
                session: "0-a".into(),
                previous: None
            }
        );
        assert_eq!(c.session(), Some("0-a"));
        assert_eq!(c.deadline(), Some(t1 + T.idle));
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(c.on_command(Ok(Command::Ping), t2), Step::Pong);
        assert_eq!(c.deadline(), Some(t2 + T.idle));
        assert_eq!(c.on_command(Ok(Command::Empty), t2), Step::Nothing);
        assert!(!c.is_closed());
    }

    #[test]
    fn helo_refused_or_unanswered() {
        let t0 = Instant::now();
        let mut c = StcpConn::new(T, t0);
        c.on_command(helo("nobody"), t0);
        assert_eq!(
            c.on_verdict(Verdict::Invalid, t0),
            Step::Close {
                reply: Some(ERROR_INVALID_SESSION),
                reason: CloseReason::Refused
            }
        );
        assert!(c.is_closed());
        assert_eq!(c.deadline(), None);
        assert_eq!(c.on_command(Ok(Command::Ping), t0), Step::Nothing);

        let mut c = StcpConn::new(T, t0);
        c.on_command(helo("0-a"), t0);
        assert_eq!(
            c.on_verdict(Verdict::TimedOut, t0 + T.helo),
            Step::Close {
                reply: Some(ERROR_UNAVAILABLE),
                reason: CloseReason::Unavailable
            }
        );
        // A verdict nobody asked for changes nothing.
        let mut c = bound(t0);
        assert_eq!(c.on_verdict(Verdict::Invalid, t0), Step::Nothing);
        assert_eq!(c.session(), Some("0-a"));
    }

    #[test]
    fn bad_lines_close_with_an_error() {
        let t0 = Instant::now();
        let mut buf = LineBuffer::new();
        buf.push(b"GET / HTTP/1.0\r\n");
        let mut c = bound(t0);
        let step = c.on_command(buf.next_command().unwrap(), t0);
        assert_eq!(
            step,
            Step::Close {
                reply: Some(ERROR_BAD_REQUEST),
                reason: CloseReason::Protocol(LineError::UnknownCommand("GET".into()))
            }
        );
        assert!(c.is_closed());

        let mut c = StcpConn::new(T, t0);
        assert_eq!(
            c.on_command(Err(LineError::TooLong), t0),
            Step::Close {
                reply: Some(ERROR_BAD_REQUEST),
                reason: CloseReason::Protocol(LineError::TooLong)
            }
        );

        let mut c = StcpConn::new(T, t0);
        assert_eq!(
            c.on_command(Ok(Command::Ping), t0),
            Step::Close {
                reply: Some(ERROR_BAD_REQUEST),
                reason: CloseReason::OutOfOrder
            }
        );

        let mut c = StcpConn::new(T, t0);
        c.on_command(helo("0-a"), t0);
        assert!(matches!(
            c.on_command(Ok(Command::Ping), t0),
            Step::Close {
                reason: CloseReason::OutOfOrder,
                ..
            }
        ));
    }

    #[test]
    fn missing_helo_times_out() {
        let t0 = Instant::now();
        let mut c = StcpConn::new(T, t0);
        assert_eq!(
            c.on_tick(t0 + T.helo - Duration::from_millis(1)),
            Step::Nothing
        );
        // Empty lines do not buy time.
        c.on_command(Ok(Command::Empty), t0 + Duration::from_secs(9));
        assert_eq!(
            c.on_tick(t0 + T.helo),
            Step::Close {
                reply: None,
                reason: CloseReason::HeloTimeout
            }
        );
        // Also while the validation is still running.
        let mut c = StcpConn::new(T, t0);
        c.on_command(helo("0-a"), t0 + Duration::from_secs(9));
        assert!(matches!(
            c.on_tick(t0 + T.helo),
            Step::Close {
                reason: CloseReason::HeloTimeout,
                ..
            }
        ));
    }

    #[test]
    fn idle_connection_is_closed() {
        let t0 = Instant::now();
        let mut c = bound(t0);
        let t1 = t0 + Duration::from_secs(1000);
        assert_eq!(c.on_command(Ok(Command::Ping), t1), Step::Pong);
        assert_eq!(c.on_tick(t0 + T.idle), Step::Nothing);
        assert_eq!(
            c.on_tick(t1 + T.idle),
            Step::Close {
                reply: None,
                reason: CloseReason::Idle
            }
        );
    }

    #[test]
    fn second_helo_rebinds() {
        let t0 = Instant::now();
        let mut c = bound(t0);
        let t1 = t0 + Duration::from_secs(100);
        assert_eq!(c.on_command(helo("0-b"), t1), Step::Validate("0-b".into()));
        // The rebinding connection keeps its idle deadline, not the HELO one.
        assert_eq!(c.deadline(), Some(t1 + T.idle));
        assert_eq!(
            c.on_verdict(Verdict::Valid, t1),
            Step::Bind {
                session: "0-b".into(),
                previous: Some("0-a".into())
            }
        );
        assert_eq!(c.session(), Some("0-b"));
        // A refused rebind closes the connection.
        assert_eq!(
            c.on_command(helo("nobody"), t1),
            Step::Validate("nobody".into())
        );
        assert!(matches!(
            c.on_verdict(Verdict::Invalid, t1),
            Step::Close {
                reason: CloseReason::Refused,
                ..
            }
        ));
    }
}
