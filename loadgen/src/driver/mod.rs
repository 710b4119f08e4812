//! Drivers carry the clients' messages to a target and bring the answers back: over HTTP
//! to any CSP server ([`http`]), or straight into an in-process engine ([`inproc`]).
//!
//! A driver never blocks on one request: `send` queues, `poll` moves bytes (or batches) and
//! returns whatever answers have arrived, waiting at most its timeout when none has.

pub mod http;
pub mod inproc;
pub mod loopback;

use std::time::Duration;

use imps_protocol::Message;

use crate::client::Answer;

/// Why a driver stopped working as a whole (single requests fail as [`Answer::Transport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The OS refused a socket or the poller.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The target URL is not one the HTTP driver can use.
    #[error("bad target {0:?}: expected http://HOST:PORT/PATH")]
    Target(String),
    /// The in-process engine stopped.
    #[error("engine: {0}")]
    Engine(String),
}

/// Something that carries messages for clients.
pub trait Transport {
    /// Queues `message` for `client` (index within its scheduler).
    fn send(&mut self, client: u32, message: Message);

    /// Sends what is queued, and appends the answers that arrived to `out`; waits up to
    /// `timeout` when there is none yet.
    fn poll(&mut self, timeout: Duration, out: &mut Vec<(u32, Answer)>) -> Result<(), DriverError>;

    /// Requests sent or queued and not answered yet.
    fn in_flight(&self) -> usize;
}
