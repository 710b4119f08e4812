//! Drivers carry the clients' messages to a target and bring the answers back: over HTTP
//! to any CSP server ([`http`], with the clients' STCP CIR channels: [`stcp`]), or straight
//! into an in-process engine ([`inproc`]).
//!
//! A driver never blocks on one request: `send` queues, `poll` moves bytes (or batches) and
//! returns whatever answers have arrived, waiting at most its timeout when none has.

pub mod http;
pub mod inproc;
pub mod loopback;
pub mod stcp;

use std::time::Duration;

use imps_protocol::Message;

use crate::client::Answer;
use crate::messages::CirAddress;

/// What happened on a client's STCP CIR channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelEvent {
    /// The server accepted the `HELO`.
    Up,
    /// A `WVCI` line: something waits for the client.
    Wake,
    /// Refused (`ERROR`), closed, reset or never connected.
    Lost,
}

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

    /// Requests sent so far on a connection that was still waiting for an earlier answer
    /// (pipelined: they wait behind it).
    fn pipelined(&self) -> u64 {
        0
    }

    /// Opens an STCP CIR channel for `client` to `address` and binds it to `session`
    /// (`HELO`); its events come through [`Transport::channel_events`]. False when this
    /// transport holds no channels (the client polls).
    fn open_channel(&mut self, client: u32, address: CirAddress, session: &str) -> bool {
        let _ = (client, address, session);
        false
    }

    /// Closes `client`'s channel, if it has one (no event follows).
    fn close_channel(&mut self, client: u32) {
        let _ = client;
    }

    /// Appends what happened on the channels since the last call.
    fn channel_events(&mut self, out: &mut Vec<(u32, ChannelEvent)>) {
        let _ = out;
    }

    /// Requests sent or queued and not answered yet.
    fn in_flight(&self) -> usize;
}
