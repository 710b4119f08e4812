//! A hashed timer wheel with millisecond ticks: one slot per millisecond over a 65.5 s
//! turn; a deadline further away sits in its slot until the turn that reaches it.
//!
//! ```text
//!   slot = deadline_ms & (SLOTS - 1)
//!   advance(now): for each tick since the last advance, fire the slot's entries that are
//!                 due (deadline <= now) and keep the rest for a later turn
//! ```
//!
//! Entries are 8 bytes (client index, deadline) and are never cancelled: a client keeps its
//! own current deadline and ignores an entry that does not match it (lazy deletion), so a
//! reschedule is one push.

/// Slots per turn (a power of two).
const SLOTS: usize = 1 << 16;

/// One scheduled wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerEntry {
    /// The client (index within its scheduler).
    pub client: u32,
    /// When, in milliseconds since the run started.
    pub at_ms: u32,
}

/// The wheel.
#[derive(Debug)]
pub struct TimerWheel {
    slots: Vec<Vec<TimerEntry>>,
    /// The next tick to process.
    cursor: u64,
    len: usize,
}

impl Default for TimerWheel {
    fn default() -> Self {
        Self::new()
    }
}

impl TimerWheel {
    /// An empty wheel at time 0.
    pub fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: 0,
            len: 0,
        }
    }

    /// Entries held (stale ones included until they fire).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `client` at `at_ms`; a time already passed fires on the next advance.
    pub fn schedule(&mut self, client: u32, at_ms: u32) {
        let at = u64::from(at_ms).max(self.cursor);
        self.slots[(at as usize) & (SLOTS - 1)].push(TimerEntry { client, at_ms });
        self.len += 1;
    }

    /// Fires, in deadline order per tick, every entry due at or before `now_ms`. Returns the
    /// number fired.
    pub fn advance(&mut self, now_ms: u64, mut fire: impl FnMut(TimerEntry)) -> usize {
        let mut fired = 0;
        // A gap longer than a turn visits every slot once.
        let last = now_ms.min(self.cursor.saturating_add(SLOTS as u64 - 1));
        let full_turn = now_ms.saturating_sub(self.cursor) >= SLOTS as u64;
        while self.cursor <= last {
            let slot = &mut self.slots[(self.cursor as usize) & (SLOTS - 1)];
            if !slot.is_empty() {
                let mut i = 0;
                while i < slot.len() {
                    if u64::from(slot[i].at_ms) <= now_ms {
                        fire(slot.swap_remove(i));
                        fired += 1;
                    } else {
                        i += 1;
                    }
                }
            }
            self.cursor += 1;
        }
        if full_turn {
            self.cursor = now_ms + 1;
        }
        self.len -= fired;
        fired
    }

    /// Bytes of heap the wheel holds (its slot vectors' capacity).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Vec<TimerEntry>>()
            + self
                .slots
                .iter()
                .map(|s| s.capacity() * std::mem::size_of::<TimerEntry>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(w: &mut TimerWheel, now: u64) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        w.advance(now, |e| out.push((e.client, e.at_ms)));
        out.sort();
        out
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = TimerWheel::new();
        w.schedule(1, 10);
        w.schedule(2, 20);
        w.schedule(3, 20);
        assert!(fired(&mut w, 9).is_empty());
        assert_eq!(fired(&mut w, 10), vec![(1, 10)]);
        assert_eq!(fired(&mut w, 25), vec![(2, 20), (3, 20)]);
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_on_next_advance() {
        let mut w = TimerWheel::new();
        assert!(fired(&mut w, 100).is_empty());
        w.schedule(7, 50);
        assert_eq!(fired(&mut w, 101), vec![(7, 50)]);
    }

    #[test]
    fn deadlines_beyond_one_turn_wait_for_their_turn() {
        let mut w = TimerWheel::new();
        let far = SLOTS as u32 + 5;
        w.schedule(1, far);
        w.schedule(2, 5);
        assert_eq!(fired(&mut w, 10), vec![(2, 5)]);
        assert!(fired(&mut w, u64::from(far) - 1).is_empty());
        assert_eq!(w.len(), 1);
        assert_eq!(fired(&mut w, u64::from(far)), vec![(1, far)]);
    }

    #[test]
    fn a_long_jump_fires_everything_due_once() {
        let mut w = TimerWheel::new();
        for i in 0..1000u32 {
            w.schedule(i, i * 300);
        }
        let all = fired(&mut w, 10 * SLOTS as u64);
        assert_eq!(all.len(), 1000);
        assert!(w.is_empty());
        // After the jump the wheel keeps working from the new time.
        w.schedule(1, 10 * SLOTS as u32 + 3);
        assert_eq!(fired(&mut w, 10 * SLOTS as u64 + 3).len(), 1);
    }

    #[test]
    fn many_timers_in_virtual_time_fire_in_order_of_ticks() {
        let mut w = TimerWheel::new();
        let mut seen = Vec::new();
        for i in 0..10_000u32 {
            w.schedule(i, (i * 7919) % 200_000 + 1);
        }
        let mut now = 0;
        while !w.is_empty() {
            now += 997;
            w.advance(now, |e| {
                assert!(u64::from(e.at_ms) <= now);
                assert!(u64::from(e.at_ms) + 997 > now, "fired late: {e:?} at {now}");
                seen.push(e.client);
            });
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..10_000).collect::<Vec<_>>());
    }
}
