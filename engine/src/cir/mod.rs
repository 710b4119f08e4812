//! CIR, the Communication Initiation Request channels: how the server tells an idle client
//! "wake up and poll" (CSP transport binding, standalone channels).
//!
//! - **STCP** (standalone TCP): the client keeps a TCP connection to the server's CIR
//!   address, says `HELO <SessionID>`, answers keep-alive with `PING`, and the server
//!   writes `WVCI <version> <cookie>` when something is queued for the session.
//! - **SUDP** (standalone UDP): one datagram `WVCI <version> <cookie>` to the client's
//!   address and UDPPort.
//! - **SHTTP** (standalone HTTP, CSP 1.2+): the client polls a CIR URL; the server answers
//!   whether a wake-up is pending (and clears it). This module keeps the pending set; the
//!   HTTP endpoint is elsewhere.
//!
//! Layout: [`line`](mod@line) (framing and command parsing) and [`conn`] (the
//! per-connection STCP state machine) are sans-IO. The I/O boundary is [`CirHub`] (one per
//! executor: the registry of the STCP connections accepted there, and the UDP socket) and
//! the STCP listener ([`StcpListener`], [`serve_stcp`]), glommio glue around the sans-IO core.
//! [`CirShared`] is the one piece of state every executor shares (`Send + Sync`): where
//! each session's STCP channel is, and the pending SHTTP wake-ups.
//!
//! # Wiring (one hub per executor, wakes broadcast)
//!
//! An STCP connection lands on whichever executor accepted it (SO_REUSEPORT) while a wake
//! comes from the session's owning shard, so the engine sends each wake to every hub
//! ([`wake_broadcast`] + [`run_wake_inbox`]). Every hub writes the `WVCI` line on its own
//! STCP connection for the session, if any. **Ownership rule:** only the hub whose
//! `index` equals the shard in the SessionID (`<shard>-<hex>`, see
//! [`crate::access::session_id::parse_session_id`]) sends the SUDP datagram and records
//! the SHTTP pending flag ([`CirHub::owns`]); a SessionID that does not parse is owned by
//! hub 0. A wake without `tcp` only goes to its owner hub.
//!
//! ```ignore
//! let shared = CirShared::new(config.cir.http_pending_max);       // once
//! let (broadcast, inboxes) = wake_broadcast(shards, 65_536);      // once
//! // on executor i (its shard is i):
//! let hub = CirHub::new(i, &config.cir, shared.clone())?;
//! glommio::spawn_local(run_wake_inbox(hub.clone(), inboxes[i].clone())).detach();
//! if let Some(addr) = config.cir.stcp.addr {
//!     let listener = StcpListener::bind(addr, config.cir.stcp.clone())?;
//!     glommio::spawn_local(listener.serve(hub, validator, stop_rx)).detach();
//! }
//! // the shard's wake handler: broadcast.send(wake);
//! ```

pub mod conn;
mod hub;
pub mod line;
mod shared;
mod stcp;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use serde::Deserialize;

pub use hub::{Broadcast, CirHub, WakeBroadcast, run_wake_inbox, wake_broadcast};
pub use shared::CirShared;
pub use stcp::{StcpListener, serve_stcp};

/// Default port of a client's standalone-UDP CIR channel (CSP `UDPPort`).
pub const DEFAULT_UDP_PORT: u16 = 3717;

/// Decides whether an STCP `HELO <SessionID>` names a live session (that may use STCP).
/// Called on the executor that accepted the connection, with the SessionID text.
pub type Validator = Rc<dyn Fn(String) -> Pin<Box<dyn Future<Output = bool>>>>;

/// Errors of the CIR channels (binding sockets; the per-connection errors only close that
/// connection and are counted in [`CirStats`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CirError {
    /// The STCP listener could not be bound.
    #[error("cannot bind the STCP listener on {addr}: {source}")]
    BindStcp {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The UDP socket of the standalone-UDP channel could not be bound.
    #[error("cannot bind the CIR UDP socket on {addr}: {source}")]
    BindUdp {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Configuration of the CIR channels (`[cir]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CirConfig {
    /// The standalone-TCP listener.
    pub stcp: StcpConfig,
    /// Source address of SUDP datagrams to IPv4 clients (default `0.0.0.0:0`). Every
    /// executor binds it (with SO_REUSEPORT, so a fixed port works too).
    pub udp_source: SocketAddr,
    /// Source address of SUDP datagrams to IPv6 clients; none (the default) means wakes to
    /// IPv6 addresses fail (counted in [`CirStats::udp_errors`]).
    pub udp_source_v6: Option<SocketAddr>,
    /// Most pending SHTTP wake-ups kept (over all executors, approximately: the set is
    /// split in [`CirShared::SLOTS`] parts, each dropping its oldest entry when full).
    pub http_pending_max: usize,
}

impl Default for CirConfig {
    fn default() -> Self {
        Self {
            stcp: StcpConfig::default(),
            udp_source: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            udp_source_v6: None,
            http_pending_max: 1_000_000,
        }
    }
}

/// Configuration of the standalone-TCP listener (`[cir.stcp]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StcpConfig {
    /// Where to listen; none (the default) means no STCP channel.
    pub addr: Option<SocketAddr>,
    /// A bound connection without a line from the client (`PING`) for this long is closed
    /// (default 30 minutes).
    pub idle_timeout_ms: u64,
    /// A connection without a successful `HELO` this long after it was accepted is closed
    /// (default 10 s; it also bounds the validation of the `HELO`).
    pub helo_timeout_ms: u64,
    /// A write (`OK`, `WVCI`) blocked this long closes the connection (default 10 s).
    pub write_timeout_ms: u64,
    /// Most connections open at once, per executor; more are answered `ERROR 503` and
    /// closed (default 100,000).
    pub max_connections: usize,
}

impl Default for StcpConfig {
    fn default() -> Self {
        Self {
            addr: None,
            idle_timeout_ms: 30 * 60 * 1000,
            helo_timeout_ms: 10_000,
            write_timeout_ms: 10_000,
            max_connections: 100_000,
        }
    }
}

impl StcpConfig {
    /// The timeouts of the connection state machine.
    pub fn timeouts(&self) -> conn::Timeouts {
        conn::Timeouts {
            helo: Duration::from_millis(self.helo_timeout_ms),
            idle: Duration::from_millis(self.idle_timeout_ms),
        }
    }
}

/// What [`CirHub::deliver`] did with one wake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The `WVCI` line was queued on the session's STCP connection on this executor (or
    /// one was already queued there: the client will be woken either way).
    pub tcp: bool,
    /// The SUDP datagram was sent.
    pub udp: bool,
    /// The SHTTP pending flag was recorded.
    pub http: bool,
}

impl Delivery {
    /// Nothing was done.
    pub fn is_empty(&self) -> bool {
        !(self.tcp || self.udp || self.http)
    }
}

/// Counters of one hub (cumulative, except [`CirStats::stcp_open`]). Sum the hubs of all
/// executors with [`CirStats::merge`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CirStats {
    /// STCP connections accepted.
    pub stcp_accepted: u64,
    /// STCP connections open now.
    pub stcp_open: u64,
    /// STCP connections refused because [`StcpConfig::max_connections`] were open.
    pub stcp_refused_full: u64,
    /// `HELO`s accepted.
    pub helo_ok: u64,
    /// `HELO`s refused (invalid session, or its validation timed out).
    pub helo_refused: u64,
    /// Connections closed for not saying `HELO` in time.
    pub helo_timeouts: u64,
    /// `PING`s answered.
    pub pings: u64,
    /// Connections closed for a bad line (unknown command, too long, not text).
    pub protocol_errors: u64,
    /// Connections closed for being idle.
    pub idle_closed: u64,
    /// Connections closed because a newer `HELO` for their session replaced them.
    pub replaced: u64,
    /// `WVCI` lines queued on a connection.
    pub wvci_tcp_queued: u64,
    /// Wakes not queued because one was already waiting on the connection.
    pub wvci_tcp_coalesced: u64,
    /// `WVCI` lines written to a connection.
    pub wvci_tcp_written: u64,
    /// SUDP datagrams sent.
    pub udp_sent: u64,
    /// SUDP datagrams that could not be sent.
    pub udp_errors: u64,
    /// SHTTP pending flags recorded.
    pub http_pending: u64,
    /// SHTTP pending flags dropped (oldest first) because the set was full.
    pub http_evicted: u64,
}

impl CirStats {
    /// Adds `other` to `self` (to sum the hubs of all executors).
    pub fn merge(&mut self, other: &CirStats) {
        self.stcp_accepted += other.stcp_accepted;
        self.stcp_open += other.stcp_open;
        self.stcp_refused_full += other.stcp_refused_full;
        self.helo_ok += other.helo_ok;
        self.helo_refused += other.helo_refused;
        self.helo_timeouts += other.helo_timeouts;
        self.pings += other.pings;
        self.protocol_errors += other.protocol_errors;
        self.idle_closed += other.idle_closed;
        self.replaced += other.replaced;
        self.wvci_tcp_queued += other.wvci_tcp_queued;
        self.wvci_tcp_coalesced += other.wvci_tcp_coalesced;
        self.wvci_tcp_written += other.wvci_tcp_written;
        self.udp_sent += other.udp_sent;
        self.udp_errors += other.udp_errors;
        self.http_pending += other.http_pending;
        self.http_evicted += other.http_evicted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_toml() {
        let config: CirConfig = toml::from_str("").unwrap();
        assert_eq!(config, CirConfig::default());
        assert_eq!(config.stcp.idle_timeout_ms, 1_800_000);
        assert_eq!(config.stcp.helo_timeout_ms, 10_000);
        assert_eq!(config.http_pending_max, 1_000_000);
        let config: CirConfig = toml::from_str(
            "udp_source = \"127.0.0.1:4000\"\n\
             [stcp]\naddr = \"0.0.0.0:3717\"\nidle_timeout_ms = 5\n",
        )
        .unwrap();
        assert_eq!(
            config.stcp.addr,
            Some("0.0.0.0:3717".parse::<SocketAddr>().unwrap())
        );
        assert_eq!(config.stcp.timeouts().idle, Duration::from_millis(5));
        assert_eq!(config.stcp.max_connections, 100_000);
        assert_eq!(
            config.udp_source,
            "127.0.0.1:4000".parse::<SocketAddr>().unwrap()
        );
        assert!(toml::from_str::<CirConfig>("bogus = 1").is_err());
    }

    #[test]
    fn stats_merge() {
        let mut a = CirStats {
            pings: 2,
            udp_sent: 1,
            ..CirStats::default()
        };
        a.merge(&CirStats {
            pings: 3,
            stcp_open: 4,
            ..CirStats::default()
        });
        assert_eq!((a.pings, a.udp_sent, a.stcp_open), (5, 1, 4));
        assert!(Delivery::default().is_empty());
    }
}
