//! One scheduler per core: a slice of the clients, a timer wheel and a driver, in one
//! thread. Each turn it fires the timers that fell due (clients send their requests, each
//! stamped with its intended time), lets the driver move bytes, and hands the answers back
//! to their clients. No task or thread per client.
//!
//! ```text
//!   loop until the end:  wheel.advance(now) -> client.on_timer -> driver.send
//!                        driver.poll(until next tick) -> client.on_answer -> stats
//!                        channel events: WVCI -> client.on_wake -> driver.send (a poll)
//!   then drain: answers still in flight for a grace period, no new timers
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::{Answer, Handled, Kind, NO_TIMER, Phase, SimClient};
use crate::driver::{ChannelEvent, DriverError, Transport};
use crate::messages::Delivered;
use crate::model::Model;
use crate::stats::{Stats, StatsError};
use crate::wheel::{TimerEntry, TimerWheel};

/// Why a scheduler stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// Its driver failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// Its measurements could not be set up.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Most timers fired in one turn.
const MAX_SENDS_PER_TURN: usize = 20_000;

/// Live counters the schedulers update and the progress line reads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Clients in session.
    pub online: AtomicU64,
    /// Transactions ended.
    pub transactions: AtomicU64,
    /// Of which failed.
    pub errors: AtomicU64,
    /// The largest schedule lag since the progress line last took it (swapped to 0), µs.
    pub lag_us: AtomicU64,
    /// p99 latency of the last whole second (largest over schedulers; swapped to 0), µs.
    pub p99_us: AtomicU64,
    /// Set to stop every scheduler early.
    pub stop: AtomicBool,
}

/// Microseconds since the Unix epoch (the stamps carried in presence and messages).
pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// One scheduler.
pub struct Scheduler<T: Transport> {
    model: Arc<Model>,
    clients: Vec<SimClient>,
    wheel: TimerWheel,
    transport: T,
    stats: Stats,
    start: Instant,
    due: Vec<TimerEntry>,
    deferred: Vec<TimerEntry>,
    answers: Vec<(u32, Answer)>,
    events: Vec<(u32, ChannelEvent)>,
    delivered: Vec<Delivered>,
    online: u64,
    recent_lag_us: u64,
}

impl<T: Transport> std::fmt::Debug for Scheduler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Scheduler<T> {
    /// A scheduler of `clients` over `transport`; times count from `start`.
    pub fn new(
        model: Arc<Model>,
        clients: Vec<SimClient>,
        transport: T,
        start: Instant,
    ) -> Result<Self, SchedulerError> {
        let mut wheel = TimerWheel::new();
        for (i, c) in clients.iter().enumerate() {
            if c.wake_ms() != NO_TIMER {
                wheel.schedule(i as u32, c.wake_ms());
            }
        }
        Ok(Self {
            model,
            clients,
            wheel,
            transport,
            stats: Stats::new()?,
            start,
            due: Vec::new(),
            deferred: Vec::new(),
            answers: Vec::new(),
            events: Vec::new(),
            delivered: Vec::new(),
            online: 0,
            recent_lag_us: 0,
        })
    }

    /// The clients (for inspection).
    pub fn clients(&self) -> &[SimClient] {
        &self.clients
    }

    /// Heap bytes of the clients, the wheel and the client vector.
    pub fn client_memory(&self) -> usize {
        self.clients.capacity() * std::mem::size_of::<SimClient>()
            + self
                .clients
                .iter()
                .map(SimClient::heap_bytes)
                .sum::<usize>()
            + self.wheel.heap_bytes()
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// One turn at `now_us`: fires due timers, moves the driver for up to `wait`, handles
    /// answers. Returns how many answers were handled.
    pub fn turn(&mut self, now_us: u64, wait: Duration) -> Result<usize, SchedulerError> {
        let now_ms = now_us / 1000;
        let mut due = std::mem::take(&mut self.due);
        self.wheel.advance(now_ms, |e| due.push(e));
        let unix = unix_us();
        // Actions that fell due while their client waited for an answer: sent now, late
        // because of the target, not of the generator.
        for e in std::mem::take(&mut self.deferred) {
            self.fire(e, now_us, unix, false);
        }
        // A storm is sent in slices so that answers keep flowing; what waits keeps its
        // intended time (the lag is measured).
        let n = due.len().min(MAX_SENDS_PER_TURN);
        for e in due.drain(..n) {
            self.fire(e, now_us, unix, true);
        }
        self.due = due;
        let wait = if self.due.is_empty() && self.deferred.is_empty() {
            wait
        } else {
            Duration::ZERO
        };
        let mut answers = std::mem::take(&mut self.answers);
        self.transport.poll(wait, &mut answers)?;
        let handled = answers.len();
        let now_us = self.now_us();
        for (idx, answer) in answers.drain(..) {
            self.answer(idx, answer, now_us, unix);
        }
        self.answers = answers;
        let mut events = std::mem::take(&mut self.events);
        self.transport.channel_events(&mut events);
        for (idx, event) in events.drain(..) {
            self.channel_event(idx, event, now_us);
        }
        self.events = events;
        Ok(handled)
    }

    /// Fires the timer entry `e`; `on_time` when it came off the wheel (its lag is the
    /// generator's), not when it was deferred behind an answer.
    fn fire(&mut self, e: TimerEntry, now_us: u64, unix: u64, on_time: bool) {
        let Some(client) = self.clients.get_mut(e.client as usize) else {
            return;
        };
        let matched = e.at_ms == client.wake_ms();
        let was_online = client.phase() == Phase::Online;
        let had_channel = client.has_channel();
        if let Some(out) = client.on_timer(&self.model, e.at_ms, unix) {
            if on_time {
                let lag = now_us.saturating_sub(u64::from(e.at_ms) * 1000);
                self.stats.sent(lag);
                self.recent_lag_us = self.recent_lag_us.max(lag);
            } else {
                self.stats.deferred();
            }
            self.transport.send(e.client, out.message);
        }
        self.online_change(was_online, client_phase(&self.clients, e.client));
        self.channel_closed(e.client, had_channel);
        let w = client_wake(&self.clients, e.client);
        if matched && w != NO_TIMER {
            self.wheel.schedule(e.client, w);
        }
    }

    fn online_change(&mut self, was: bool, is: bool) {
        match (was, is) {
            (false, true) => self.online += 1,
            (true, false) => self.online -= 1,
            _ => {}
        }
    }

    fn answer(&mut self, idx: u32, answer: Answer, now_us: u64, unix: u64) {
        let Some(client) = self.clients.get_mut(idx as usize) else {
            return;
        };
        let before = client.wake_ms();
        let was_online = client.phase() == Phase::Online;
        let had_channel = client.has_channel();
        let handled = client.on_answer(&self.model, answer, now_us, unix, &mut self.delivered);
        let is_online = client.phase() == Phase::Online;
        self.online_change(was_online, is_online);
        self.channel_closed(idx, had_channel);
        if let Some(h) = handled {
            self.handled(idx, h, now_us);
        }
        self.reschedule(idx, before, now_us);
        let now_unix = unix_us();
        for d in self.delivered.drain(..) {
            match d {
                Delivered::Presence(at) => {
                    self.stats.presence_delivered(now_unix.saturating_sub(at))
                }
                Delivered::Message(at) => self.stats.message_delivered(now_unix.saturating_sub(at)),
                Delivered::GroupMessage(at) => self
                    .stats
                    .group_message_delivered(now_unix.saturating_sub(at)),
            }
        }
    }

    /// Records a transaction that ended and sends what follows it; opens the STCP channel
    /// its capability answer agreed.
    fn handled(&mut self, idx: u32, h: Handled, now_us: u64) {
        let latency = now_us.saturating_sub(h.intended_us);
        self.stats.transaction(h.kind, h.class, latency, now_us);
        if let Some(next) = h.next {
            if next.kind == Kind::Poll {
                self.stats.cir.woken_polls += 1;
            }
            self.stats.sent(0);
            self.transport.send(idx, next.message);
        }
        if let Some(address) = h.channel {
            self.stats.cir.opened += 1;
            let session = self.clients.get(idx as usize).and_then(SimClient::session);
            let opened = session.is_some_and(|s| self.transport.open_channel(idx, address, s));
            if !opened {
                self.stats.cir.lost += 1;
                if let Some(c) = self.clients.get_mut(idx as usize) {
                    c.on_channel_lost(&self.model, (now_us / 1000) as u32);
                }
            }
        }
    }

    /// The client's channel is gone from its side (drop, logout, session ended): closed.
    fn channel_closed(&mut self, idx: u32, had: bool) {
        if had
            && !self
                .clients
                .get(idx as usize)
                .is_some_and(SimClient::has_channel)
        {
            self.transport.close_channel(idx);
        }
    }

    /// Puts the client's timer in the wheel (or fires it this turn) if it moved from
    /// `before`.
    fn reschedule(&mut self, idx: u32, before: u32, now_us: u64) {
        let after = client_wake(&self.clients, idx);
        if after != NO_TIMER && after != before {
            if u64::from(after) * 1000 <= now_us {
                self.deferred.push(TimerEntry {
                    client: idx,
                    at_ms: after,
                });
            } else {
                self.wheel.schedule(idx, after);
            }
        }
    }

    fn channel_event(&mut self, idx: u32, event: ChannelEvent, now_us: u64) {
        let Some(client) = self.clients.get_mut(idx as usize) else {
            return;
        };
        let before = client.wake_ms();
        match event {
            ChannelEvent::Up => self.stats.cir.up += 1,
            ChannelEvent::Wake => {
                self.stats.cir.wakes += 1;
                if let Some(out) = client.on_wake(&self.model, now_us) {
                    self.stats.cir.woken_polls += 1;
                    self.stats.sent(0);
                    self.transport.send(idx, out.message);
                }
            }
            ChannelEvent::Lost => {
                if client.on_channel_lost(&self.model, (now_us / 1000) as u32) {
                    self.stats.cir.lost += 1;
                }
            }
        }
        self.reschedule(idx, before, now_us);
    }

    /// Runs until `duration` after the start (or `progress.stop`), then waits up to `drain`
    /// for the answers still in flight. Returns the measurements.
    pub fn run(
        mut self,
        duration: Duration,
        drain: Duration,
        progress: &Progress,
    ) -> Result<(Stats, usize), SchedulerError> {
        let end_us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let mut published = (0u64, 0u64, 0u64);
        let mut last_publish = 0u64;
        loop {
            let now = self.now_us();
            if now >= end_us || progress.stop.load(Ordering::Relaxed) {
                break;
            }
            self.turn(now, Duration::from_micros(1000 - now % 1000))?;
            if now - last_publish >= 100_000 {
                last_publish = now;
                published = self.publish(progress, published, now);
            }
        }
        let memory = self.client_memory();
        let drain_end = Instant::now() + drain;
        let mut answers = Vec::new();
        while self.transport.in_flight() > 0 && Instant::now() < drain_end {
            self.transport
                .poll(Duration::from_millis(5), &mut answers)?;
            let now = self.now_us();
            for (idx, answer) in answers.drain(..) {
                // Answers only: follow-ups are not sent after the end.
                if let Some(c) = self.clients.get_mut(idx as usize)
                    && let Some(h) =
                        c.on_answer(&self.model, answer, now, unix_us(), &mut self.delivered)
                {
                    self.stats
                        .transaction(h.kind, h.class, now.saturating_sub(h.intended_us), now);
                }
            }
        }
        self.publish(progress, published, self.now_us());
        self.stats.lag.pipelined = self.transport.pipelined();
        self.stats.finish();
        Ok((self.stats, memory))
    }

    fn publish(&mut self, p: &Progress, last: (u64, u64, u64), now_us: u64) -> (u64, u64, u64) {
        let t = self.stats.transactions();
        let e = self.stats.errors();
        self.stats.online(self.online, now_us);
        p.transactions.fetch_add(t - last.0, Ordering::Relaxed);
        p.errors.fetch_add(e - last.1, Ordering::Relaxed);
        if self.online >= last.2 {
            p.online.fetch_add(self.online - last.2, Ordering::Relaxed);
        } else {
            p.online.fetch_sub(last.2 - self.online, Ordering::Relaxed);
        }
        p.lag_us.fetch_max(self.recent_lag_us, Ordering::Relaxed);
        if let Some(second) = self.stats.timeline.iter().rev().nth(1) {
            p.p99_us.fetch_max(second.p99_us, Ordering::Relaxed);
        }
        self.recent_lag_us = 0;
        (t, e, self.online)
    }
}

fn client_phase(clients: &[SimClient], idx: u32) -> bool {
    clients
        .get(idx as usize)
        .is_some_and(|c| c.phase() == Phase::Online)
}

fn client_wake(clients: &[SimClient], idx: u32) -> u32 {
    clients
        .get(idx as usize)
        .map_or(NO_TIMER, SimClient::wake_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Kind;
    use crate::driver::loopback::{Loopback, Responder};
    use crate::run::build_clients;
    use crate::scenario::Scenario;
    use crate::users::UserDirectory;

    #[test]
    fn a_scheduler_logs_everyone_in_and_keeps_them_busy() {
        let scenario = Scenario::parse(
            "clients = 500\n[arrival]\nramp_up = \"300ms\"\n[mix]\npoll_interval = \"1s\"\n\
             [rates]\nupdate_presence = 3600\nsend_message = 3600\nnetwork_drop = 0\nlogout = 0\n",
        )
        .unwrap();
        let model = Arc::new(Model::new(&scenario, None, UserDirectory::prefix("u", "p")));
        let clients = build_clients(&model, &scenario, 1).remove(0);
        let mut responder = Responder::new(1);
        responder.unsupported = vec!["SendMessage-Request"];
        let s = Scheduler::new(model, clients, Loopback::new(responder), Instant::now()).unwrap();
        let progress = Progress::default();
        let (stats, memory) = s
            .run(
                Duration::from_millis(2500),
                Duration::from_secs(1),
                &progress,
            )
            .unwrap();
        assert_eq!(progress.online.load(Ordering::Relaxed), 500);
        let count = |k: Kind| stats.kinds[k.index()].count;
        assert_eq!(count(Kind::Login), 500);
        assert_eq!(count(Kind::Capability), 500);
        // Polls every second from about 0.3 s on: two or so per client.
        assert!(count(Kind::Poll) >= 500, "{}", count(Kind::Poll));
        // One update and one message per client per second, after the login sequence.
        assert!(count(Kind::UpdatePresence) > 1000);
        let send = &stats.kinds[Kind::SendMessage.index()];
        assert!(send.count > 400 && send.unsupported == send.count);
        assert_eq!(stats.errors(), 0);
        assert!(stats.lag.sends + stats.lag.deferred >= stats.transactions());
        assert!(memory > 500 * std::mem::size_of::<SimClient>());
        assert!(!stats.timeline.is_empty());
    }

    /// The trivial responder agreeing STCP, with channels that come up at once and are all
    /// woken every `wake_every` polls of the driver.
    struct Channelled {
        inner: Loopback,
        open: std::collections::HashSet<u32>,
        events: Vec<(u32, ChannelEvent)>,
        closed: u64,
        turns: u64,
        wake_every: u64,
    }

    impl Transport for Channelled {
        fn send(&mut self, client: u32, message: imps_protocol::Message) {
            self.inner.send(client, message);
        }

        fn poll(
            &mut self,
            timeout: Duration,
            out: &mut Vec<(u32, Answer)>,
        ) -> Result<(), DriverError> {
            self.turns += 1;
            if self.turns.is_multiple_of(self.wake_every) {
                self.events
                    .extend(self.open.iter().map(|&c| (c, ChannelEvent::Wake)));
            }
            self.inner.poll(timeout, out)
        }

        fn in_flight(&self) -> usize {
            self.inner.in_flight()
        }

        fn open_channel(
            &mut self,
            client: u32,
            address: crate::messages::CirAddress,
            session: &str,
        ) -> bool {
            assert_eq!(address.port, 3171);
            assert!(!session.is_empty());
            self.open.insert(client);
            self.events.push((client, ChannelEvent::Up));
            true
        }

        fn close_channel(&mut self, client: u32) {
            if self.open.remove(&client) {
                self.closed += 1;
            }
        }

        fn channel_events(&mut self, out: &mut Vec<(u32, ChannelEvent)>) {
            out.append(&mut self.events);
        }
    }

    #[test]
    fn cir_clients_open_channels_poll_when_woken_and_close_them_when_dropped() {
        let scenario = Scenario::parse(
            "clients = 200\n[arrival]\nramp_up = \"200ms\"\n[login]\noffline = \"100ms\"\n\
             [mix]\ncir_fraction = 1.0\nkeep_alive = \"60s\"\n\
             [rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\n\
             network_drop = 1800\nlogout = 0\n",
        )
        .unwrap();
        let model = Arc::new(Model::new(&scenario, None, UserDirectory::prefix("u", "p")));
        let clients = build_clients(&model, &scenario, 1).remove(0);
        let mut responder = Responder::new(1);
        responder.stcp_port = Some(3171);
        let transport = Channelled {
            inner: Loopback::new(responder),
            open: Default::default(),
            events: Vec::new(),
            closed: 0,
            turns: 0,
            wake_every: 200,
        };
        let mut s = Scheduler::new(model, clients, transport, Instant::now()).unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(1500) {
            let now = s.now_us();
            s.turn(now, Duration::from_micros(500)).unwrap();
        }
        let cir = s.stats.cir;
        // Every client logged in and got its channel; drops (one every 2 s per client)
        // closed some, and their next logins opened new ones.
        assert!(cir.opened > 200 && cir.up == cir.opened, "{cir:?}");
        assert!(s.transport.closed > 0, "{cir:?}");
        assert_eq!(
            s.transport.open.len() as u64,
            cir.opened - s.transport.closed,
            "{cir:?}"
        );
        // No polling timer: every poll was a wake-up's.
        let polls = s.stats.kinds[Kind::Poll.index()].count;
        assert!(cir.wakes > 200 && polls > 0, "{cir:?}");
        assert_eq!(polls, cir.woken_polls, "{cir:?}");
        // Keep-alives every 60 s, the first at a random point of the interval: a few.
        assert!(s.stats.kinds[Kind::KeepAlive.index()].count < 50);
        assert_eq!(s.stats.errors(), 0);
    }
}
