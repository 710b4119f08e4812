//! What a scheduler measured: per transaction kind a count, errors, unsupported answers and
//! an HDR histogram of latency from the intended send time; end-to-end presence and message
//! latency; how far behind its schedule the generator fell; and a per-second timeline.
//! Schedulers measure on their own and are merged at the end.

use hdrhistogram::Histogram;

use crate::client::{Class, Kind};

/// Why a histogram could not be made or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// hdrhistogram refused the bounds.
    #[error("histogram: {0}")]
    Create(#[from] hdrhistogram::CreationError),
    /// Two histograms could not be added.
    #[error("histogram merge: {0}")]
    Add(#[from] hdrhistogram::AdditionError),
}

/// Largest latency tracked: one hour, in µs (larger values are clamped to it).
const MAX_US: u64 = 3_600_000_000;

/// A latency histogram in µs.
pub fn histogram() -> Result<Histogram<u64>, StatsError> {
    Ok(Histogram::new_with_bounds(1, MAX_US, 3)?)
}

fn record(h: &mut Histogram<u64>, us: u64) {
    h.saturating_record(us.clamp(1, MAX_US));
}

/// One kind's numbers.
#[derive(Debug, Clone)]
pub struct KindStats {
    /// Transactions ended.
    pub count: u64,
    /// Of which failed.
    pub errors: u64,
    /// Of which the target does not support.
    pub unsupported: u64,
    /// Latency of the answered ones, µs from the intended send time.
    pub latency: Histogram<u64>,
}

/// One second of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Second {
    /// Transactions ended in it.
    pub transactions: u64,
    /// Of which failed.
    pub errors: u64,
    /// p99 latency of that second, µs (the largest of the schedulers' when merged).
    pub p99_us: u64,
    /// Clients online at its end.
    pub online: u64,
}

/// How far behind its schedule the generator fell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// Requests sent more than 10 ms after their intended time.
    pub late_sends: u64,
    /// Requests sent.
    pub sends: u64,
    /// The largest delay between an intended time and the actual send, µs.
    pub max_us: u64,
    /// Requests sent late because their client was still waiting for an answer (the
    /// target's delay, not the generator's; latency still counts from the intended time).
    pub deferred: u64,
    /// Requests the driver pipelined behind another on a busy connection (all open).
    pub pipelined: u64,
}

/// What the clients' STCP CIR channels did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CirCounts {
    /// Channels asked for (STCP agreed by a capability answer).
    pub opened: u64,
    /// Channels the server accepted (`OK` to `HELO`).
    pub up: u64,
    /// Channels refused, closed or failed (the client polls from then on).
    pub lost: u64,
    /// Wake-ups (`WVCI`) received.
    pub wakes: u64,
    /// Polls sent because of a wake-up or Poll=T.
    pub woken_polls: u64,
}

/// A scheduler's measurements.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Per kind, indexed by [`Kind::index`].
    pub kinds: Vec<KindStats>,
    /// Presence update to notification received, µs.
    pub presence_e2e: Histogram<u64>,
    /// Message sent to message received (pushed or fetched), µs.
    pub message_e2e: Histogram<u64>,
    /// Group message sent to a joined user's receipt, µs.
    pub group_message_e2e: Histogram<u64>,
    /// The STCP channels.
    pub cir: CirCounts,
    /// Schedule lag.
    pub lag: Lag,
    /// Per second.
    pub timeline: Vec<Second>,
    second: Histogram<u64>,
}

impl Stats {
    /// Empty measurements.
    pub fn new() -> Result<Self, StatsError> {
        let kinds = Kind::ALL
            .iter()
            .map(|_| {
                Ok(KindStats {
                    count: 0,
                    errors: 0,
                    unsupported: 0,
                    latency: histogram()?,
                })
            })
            .collect::<Result<_, StatsError>>()?;
        Ok(Self {
            kinds,
            presence_e2e: histogram()?,
            message_e2e: histogram()?,
            group_message_e2e: histogram()?,
            cir: CirCounts::default(),
            lag: Lag::default(),
            timeline: Vec::new(),
            second: Histogram::new_with_bounds(1, MAX_US, 2)?,
        })
    }

    fn second_mut(&mut self, second: usize) -> &mut Second {
        if self.timeline.len() <= second {
            self.close_second();
            self.timeline.resize(second + 1, Second::default());
        }
        &mut self.timeline[second]
    }

    /// Closes the current second's latency (its p99) before the timeline moves on.
    fn close_second(&mut self) {
        if let Some(last) = self.timeline.last_mut()
            && !self.second.is_empty()
        {
            last.p99_us = self.second.value_at_quantile(0.99);
        }
        self.second.reset();
    }

    /// A transaction of `kind` ended at `now_us` as `class`, `latency_us` after its
    /// intended time.
    pub fn transaction(&mut self, kind: Kind, class: Class, latency_us: u64, now_us: u64) {
        let k = &mut self.kinds[kind.index()];
        k.count += 1;
        match class {
            Class::Ok => record(&mut k.latency, latency_us),
            Class::Error => k.errors += 1,
            Class::Unsupported => k.unsupported += 1,
        }
        let s = self.second_mut((now_us / 1_000_000) as usize);
        s.transactions += 1;
        if class == Class::Error {
            s.errors += 1;
        } else {
            record(&mut self.second, latency_us);
        }
    }

    /// Clients online at `now_us`.
    pub fn online(&mut self, online: u64, now_us: u64) {
        self.second_mut((now_us / 1_000_000) as usize).online = online;
    }

    /// A presence notification took `us` end to end.
    pub fn presence_delivered(&mut self, us: u64) {
        record(&mut self.presence_e2e, us);
    }

    /// A message took `us` end to end.
    pub fn message_delivered(&mut self, us: u64) {
        record(&mut self.message_e2e, us);
    }

    /// A group message took `us` end to end.
    pub fn group_message_delivered(&mut self, us: u64) {
        record(&mut self.group_message_e2e, us);
    }

    /// A request was sent `lag_us` after its intended time.
    pub fn sent(&mut self, lag_us: u64) {
        self.lag.sends += 1;
        if lag_us > 10_000 {
            self.lag.late_sends += 1;
        }
        self.lag.max_us = self.lag.max_us.max(lag_us);
    }

    /// A request was sent late because its client waited for an answer.
    pub fn deferred(&mut self) {
        self.lag.deferred += 1;
    }

    /// Ends the measurements (closes the last second).
    pub fn finish(&mut self) {
        self.close_second();
    }

    /// Adds `other`'s measurements to these.
    pub fn merge(&mut self, other: &Stats) -> Result<(), StatsError> {
        for (a, b) in self.kinds.iter_mut().zip(&other.kinds) {
            a.count += b.count;
            a.errors += b.errors;
            a.unsupported += b.unsupported;
            a.latency.add(&b.latency)?;
        }
        self.presence_e2e.add(&other.presence_e2e)?;
        self.message_e2e.add(&other.message_e2e)?;
        self.group_message_e2e.add(&other.group_message_e2e)?;
        let (a, b) = (&mut self.cir, other.cir);
        a.opened += b.opened;
        a.up += b.up;
        a.lost += b.lost;
        a.wakes += b.wakes;
        a.woken_polls += b.woken_polls;
        self.lag.sends += other.lag.sends;
        self.lag.late_sends += other.lag.late_sends;
        self.lag.max_us = self.lag.max_us.max(other.lag.max_us);
        self.lag.deferred += other.lag.deferred;
        self.lag.pipelined += other.lag.pipelined;
        if self.timeline.len() < other.timeline.len() {
            self.timeline
                .resize(other.timeline.len(), Second::default());
        }
        for (a, b) in self.timeline.iter_mut().zip(&other.timeline) {
            a.transactions += b.transactions;
            a.errors += b.errors;
            a.p99_us = a.p99_us.max(b.p99_us);
            a.online += b.online;
        }
        Ok(())
    }

    /// Transactions ended, of all kinds.
    pub fn transactions(&self) -> u64 {
        self.kinds.iter().map(|k| k.count).sum()
    }

    /// Failed transactions, of all kinds.
    pub fn errors(&self) -> u64 {
        self.kinds.iter().map(|k| k.errors).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_merges() {
        let mut a = Stats::new().unwrap();
        let mut b = Stats::new().unwrap();
        for i in 1..=100u64 {
            a.transaction(Kind::Poll, Class::Ok, i * 1000, 500_000);
        }
        a.transaction(Kind::Poll, Class::Error, 0, 1_500_000);
        b.transaction(Kind::SendMessage, Class::Unsupported, 10, 2_200_000);
        b.transaction(Kind::Poll, Class::Ok, 1_000_000, 2_300_000);
        b.message_delivered(5_000);
        a.finish();
        b.finish();
        a.merge(&b).unwrap();
        let poll = &a.kinds[Kind::Poll.index()];
        assert_eq!((poll.count, poll.errors, poll.unsupported), (102, 1, 0));
        assert_eq!(poll.latency.len(), 101);
        assert!(poll.latency.max() >= 999_000);
        let send = &a.kinds[Kind::SendMessage.index()];
        assert_eq!((send.count, send.unsupported), (1, 1));
        assert_eq!(a.transactions(), 103);
        assert_eq!(a.errors(), 1);
        assert_eq!(a.message_e2e.len(), 1);
        assert_eq!(a.timeline.len(), 3);
        assert_eq!(a.timeline[0].transactions, 100);
        let p99 = a.timeline[0].p99_us;
        assert!((98_000..=100_500).contains(&p99), "p99 {p99}");
        assert_eq!(a.timeline[1].errors, 1);
        assert_eq!(a.timeline[2].transactions, 2);
    }

    #[test]
    fn lag_counts_late_sends() {
        let mut s = Stats::new().unwrap();
        s.sent(5);
        s.sent(50_000);
        s.deferred();
        assert_eq!(
            s.lag,
            Lag {
                late_sends: 1,
                sends: 2,
                max_us: 50_000,
                deferred: 1,
                pipelined: 0
            }
        );
    }
}
