//! The memory proof: N clients really log in (against the trivial [`Responder`], in virtual
//! time) and sit idle with their timers in the wheel; then what they take is counted two
//! ways: by accounting (`size_of` the state, its heap, the wheel's entries) and by the
//! process's resident memory before and after.

use std::fmt;

use crate::client::{Answer, NO_TIMER, Phase, SimClient};
use crate::driver::loopback::Responder;
use crate::model::Model;
use crate::run::{build_clients, rss_bytes};
use crate::scenario::Scenario;
use crate::users::UserDirectory;
use crate::wheel::TimerWheel;

/// What N idle clients take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleMemory {
    /// Clients built.
    pub clients: u32,
    /// Of which logged in and idle.
    pub online: u32,
    /// `size_of::<SimClient>()`.
    pub state_bytes: usize,
    /// Heap the clients own, per client.
    pub heap_per_client: f64,
    /// The wheel's entries (capacity), per client.
    pub wheel_per_client: f64,
    /// The wheel's fixed slot table, bytes (shared by all clients).
    pub wheel_fixed_bytes: usize,
    /// Everything accounted, per client (state + heap + wheel entries + slot table share).
    pub accounted_per_client: f64,
    /// Resident memory growth of the process, per client.
    pub rss_per_client: f64,
}

impl fmt::Display for IdleMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} clients, {} logged in and idle: state {} B + heap {:.1} B + wheel {:.1} B \
             (+ {} KiB slot table) = {:.1} B per client accounted; process RSS grew {:.1} B per client",
            self.clients,
            self.online,
            self.state_bytes,
            self.heap_per_client,
            self.wheel_per_client,
            self.wheel_fixed_bytes / 1024,
            self.accounted_per_client,
            self.rss_per_client
        )
    }
}

/// Logs `clients` clients in against the trivial responder and measures them idle.
pub fn measure_idle_memory(clients: u32) -> IdleMemory {
    let before = rss_bytes();
    let scenario = Scenario {
        clients: clients.max(1),
        ..Scenario::default()
    };
    let model = Model::new(&scenario, None, UserDirectory::prefix("user", "pass"));
    let mut all = build_clients(&model, &scenario, 1)
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    all.shrink_to_fit();
    let mut wheel = TimerWheel::new();
    let wheel_fixed_bytes = wheel.heap_bytes();
    let mut responder = Responder::new(10);
    let mut online = 0;
    let mut delivered = Vec::new();
    for (i, c) in all.iter_mut().enumerate() {
        if log_in(c, &model, &mut responder, &mut delivered) {
            online += 1;
        }
        if c.wake_ms() != NO_TIMER {
            wheel.schedule(i as u32, c.wake_ms());
        }
    }
    let after = rss_bytes();
    let n = f64::from(clients.max(1));
    let heap: usize = all.iter().map(SimClient::heap_bytes).sum();
    let wheel_entries = wheel.heap_bytes() - wheel_fixed_bytes;
    let state = all.capacity() * std::mem::size_of::<SimClient>();
    let measured = IdleMemory {
        clients,
        online,
        state_bytes: std::mem::size_of::<SimClient>(),
        heap_per_client: heap as f64 / n,
        wheel_per_client: wheel_entries as f64 / n,
        wheel_fixed_bytes,
        accounted_per_client: (state + heap + wheel.heap_bytes()) as f64 / n,
        rss_per_client: after.saturating_sub(before) as f64 / n,
    };
    drop(all);
    measured
}

/// Takes a client from its first timer through the whole login sequence, answering every
/// request with `responder` in virtual time. True when it ends online.
pub fn log_in(
    c: &mut SimClient,
    model: &Model,
    responder: &mut Responder,
    delivered: &mut Vec<crate::messages::Delivered>,
) -> bool {
    let at = c.wake_ms();
    let now_us = u64::from(at) * 1000;
    let mut next = c.on_timer(model, at, 0);
    while let Some(out) = next.take() {
        let answer = responder.answer(&out.message);
        next = c
            .on_answer(model, Answer::Csp(answer), now_us, 0, delivered)
            .and_then(|h| h.next);
    }
    c.phase() == Phase::Online
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_clients_fit_in_300_bytes() {
        let m = measure_idle_memory(50_000);
        assert_eq!(m.online, 50_000, "{m}");
        assert_eq!(
            m.heap_per_client, 0.0,
            "impsd-sized session IDs are stored inline"
        );
        assert!(m.state_bytes <= 128, "{m}");
        // The slot table is fixed; at 50,000 clients it is ~31 B each, at 1,000,000 under 2.
        assert!(m.accounted_per_client <= 300.0, "{m}");
        assert!(
            m.accounted_per_client - m.wheel_fixed_bytes as f64 / 50_000.0 <= 160.0,
            "{m}"
        );
    }
}
