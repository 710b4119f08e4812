//! Counters of the federation per peer (sessions up, queue depth, failed POSTs, expired
//! items), kept by the desk on its executor and rendered for `/metrics`.

/// Counters of one peer (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// A session is up.
    pub up: bool,
    /// Items queued.
    pub queued: usize,
    /// POSTs that failed.
    pub send_failures: u64,
    /// Messages that failed with 503 (expired in the queue).
    pub expired: u64,
}

thread_local! {
    /// The counters per peer, kept by the desk on its executor.
    static PEER_STATS: std::cell::RefCell<Vec<(String, PeerStats)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Replaces the counters (by the desk, on its executor).
pub(crate) fn publish(list: Vec<(String, PeerStats)>) {
    PEER_STATS.with(|s| *s.borrow_mut() = list);
}

/// The counters per peer (on the desk's executor; empty elsewhere), sorted by peer.
pub fn peer_stats() -> Vec<(String, PeerStats)> {
    PEER_STATS.with(|s| s.borrow().clone())
}

/// A metric: name, type, value.
type Metric = (&'static str, &'static str, fn(&PeerStats) -> u64);

/// Prometheus lines of [`peer_stats`].
pub fn render_peer_stats(stats: &[(String, PeerStats)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let metrics: [Metric; 4] = [
        ("imps_ssp_peer_up", "gauge", |s| u64::from(s.up)),
        ("imps_ssp_queue_depth", "gauge", |s| s.queued as u64),
        ("imps_ssp_send_failures_total", "counter", |s| {
            s.send_failures
        }),
        ("imps_ssp_expired_total", "counter", |s| s.expired),
    ];
    for (name, kind, value) in metrics {
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (peer, s) in stats {
            let _ = writeln!(out, "{name}{{peer=\"{peer}\"}} {}", value(s));
        }
    }
    out
}
