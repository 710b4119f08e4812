//! What the front-end needs to wake a client that has something queued (CIR): which
//! session, in which CSP version, its cookie, and the channels it agreed. Wake-ups are
//! coalesced: one per session until the client comes back.

use std::net::SocketAddr;
use std::sync::Arc;

use imps_protocol::Version;

/// A wake-up for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CirWake {
    /// The SessionID (text), shared with the session.
    pub session_id: Arc<str>,
    /// The CSP version the client speaks (`WVCI <version> <cookie>`).
    pub version: Version,
    /// The client's SessionCookie, shared with the session.
    pub cookie: Arc<str>,
    /// Where a standalone-UDP wake-up goes (the client's address with its UDPPort), when
    /// the client agreed to SUDP.
    pub udp: Option<SocketAddr>,
    /// The client agreed to standalone TCP.
    pub tcp: bool,
    /// The client agreed to standalone HTTP.
    pub http: bool,
}

impl CirWake {
    /// The wake-up line of the standalone channels: `WVCI <version> <cookie>`.
    pub fn wvci(&self) -> String {
        format!("WVCI {} {}", self.version.as_str(), self.cookie)
    }
}
