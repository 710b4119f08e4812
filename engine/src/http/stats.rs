//! Counters of one listener ([`HttpStats`]), updated by the listener and its connections and
//! readable from any thread (relaxed atomics), e.g. by a metrics exporter. No I/O.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a connection was closed by a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// The head did not arrive within [`super::HttpLimits::header_timeout`].
    Header,
    /// The body did not arrive within [`super::HttpLimits::body_timeout`].
    Body,
    /// No new request within [`super::HttpLimits::idle_timeout`].
    Idle,
    /// A write did not finish within [`super::HttpLimits::write_timeout`].
    Write,
}

/// The counters of one listener. Share it with `Arc`; read it with [`HttpStats::snapshot`].
#[derive(Debug, Default)]
pub struct HttpStats {
    connections_open: AtomicU64,
    connections_accepted: AtomicU64,
    connections_refused: AtomicU64,
    accept_errors: AtomicU64,
    requests: AtomicU64,
    bad_request: AtomicU64,
    payload_too_large: AtomicU64,
    header_fields_too_large: AtomicU64,
    not_implemented: AtomicU64,
    version_not_supported: AtomicU64,
    header_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    moved_in: AtomicU64,
    moved_out: AtomicU64,
}

/// The values of [`HttpStats`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HttpStatsSnapshot {
    /// Connections open now.
    pub connections_open: u64,
    /// Connections accepted and served.
    pub connections_accepted: u64,
    /// Connections refused with `503` because the listener was at its cap.
    pub connections_refused: u64,
    /// Failed `accept` calls (e.g. out of file descriptors).
    pub accept_errors: u64,
    /// Requests handed to the service.
    pub requests: u64,
    /// Requests rejected with `400`.
    pub bad_request: u64,
    /// Requests rejected with `413`.
    pub payload_too_large: u64,
    /// Requests rejected with `431`.
    pub header_fields_too_large: u64,
    /// Requests rejected with `501`.
    pub not_implemented: u64,
    /// Requests rejected with `505`.
    pub version_not_supported: u64,
    /// Connections closed by the header timeout.
    pub header_timeouts: u64,
    /// Connections closed by the body timeout.
    pub body_timeouts: u64,
    /// Connections closed by the idle timeout.
    pub idle_timeouts: u64,
    /// Connections closed by the write timeout.
    pub write_timeouts: u64,
    /// Connections moved here from another executor's listener (not counted as accepted).
    pub moved_in: u64,
    /// Connections moved from here to another executor's listener.
    pub moved_out: u64,
}

impl HttpStatsSnapshot {
    /// Requests rejected by the parser with `status` (0 for other statuses).
    pub fn parse_errors(&self, status: u16) -> u64 {
        match status {
            400 => self.bad_request,
            413 => self.payload_too_large,
            431 => self.header_fields_too_large,
            501 => self.not_implemented,
            505 => self.version_not_supported,
            _ => 0,
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl HttpStats {
    /// The current values.
    pub fn snapshot(&self) -> HttpStatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HttpStatsSnapshot {
            connections_open: get(&self.connections_open),
            connections_accepted: get(&self.connections_accepted),
            connections_refused: get(&self.connections_refused),
            accept_errors: get(&self.accept_errors),
            requests: get(&self.requests),
            bad_request: get(&self.bad_request),
            payload_too_large: get(&self.payload_too_large),
            header_fields_too_large: get(&self.header_fields_too_large),
            not_implemented: get(&self.not_implemented),
            version_not_supported: get(&self.version_not_supported),
            header_timeouts: get(&self.header_timeouts),
            body_timeouts: get(&self.body_timeouts),
            idle_timeouts: get(&self.idle_timeouts),
            write_timeouts: get(&self.write_timeouts),
            moved_in: get(&self.moved_in),
            moved_out: get(&self.moved_out),
        }
    }

    pub(crate) fn connection_opened(&self) {
        bump(&self.connections_accepted);
        bump(&self.connections_open);
    }

    pub(crate) fn connection_moved_in(&self) {
        bump(&self.moved_in);
        bump(&self.connections_open);
    }

    pub(crate) fn moved_out(&self) {
        bump(&self.moved_out);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_refused(&self) {
        bump(&self.connections_refused);
    }

    pub(crate) fn accept_error(&self) {
        bump(&self.accept_errors);
    }

    pub(crate) fn request(&self) {
        bump(&self.requests);
    }

    pub(crate) fn parse_error(&self, status: u16) {
        match status {
            413 => bump(&self.payload_too_large),
            431 => bump(&self.header_fields_too_large),
            501 => bump(&self.not_implemented),
            505 => bump(&self.version_not_supported),
            _ => bump(&self.bad_request),
        }
    }

    pub(crate) fn timeout(&self, kind: TimeoutKind) {
        bump(match kind {
            TimeoutKind::Header => &self.header_timeouts,
            TimeoutKind::Body => &self.body_timeouts,
            TimeoutKind::Idle => &self.idle_timeouts,
            TimeoutKind::Write => &self.write_timeouts,
        });
    }
}
