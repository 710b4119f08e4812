//! Live sessions of one shard: a slab addressed by slot, a map from the random key, a lazy
//! expiry heap, and a bounded memory of recently ended sessions (so their next request gets
//! 600 or 601 rather than 604).
//!
//! ```text
//!   Login --> Active --(Logout)-----------------------------> gone (604 afterwards)
//!               |  \--(idle > keep-alive)------------------> ended 600
//!               \--(same ClientID logs in again / admin)--> Closing(601): the queued
//!                   Disconnect is delivered on its next request, then ended 601
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use hashbrown::HashMap;
use imps_protocol::{StatusCode, Version};

use super::outbox::Outbox;
use super::poll_pace::{PollPace, PollVerdict};
use super::session_id::SessionKey;
use crate::core::Millis;
use crate::users::UserIdx;

/// Agreed capabilities of a session (after ClientCapability negotiation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Push (true) or notify/get delivery.
    pub push: bool,
    /// Largest content the client accepts, bytes.
    pub accepted_content_length: u32,
    /// MIME types the client accepts (empty = any).
    pub accepted_content_types: Vec<String>,
    /// The client takes Base64 content.
    pub base64: bool,
    /// Agreed wake-up methods, as written (`STCP`, `SUDP`, `SHTTP`, ...).
    pub cir_methods: Vec<String>,
    /// The client's UDP port for SUDP.
    pub udp_port: Option<u16>,
    /// Transactions per message the client handles.
    pub multi_trans: u32,
    /// Largest message the client parses, bytes.
    pub parser_size: u32,
}

/// Lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// In use.
    Active,
    /// Ended by the server; the queued Disconnect carries this code.
    Closing(StatusCode),
}

/// One logged-in client.
#[derive(Debug)]
pub struct Session {
    /// The random part of the SessionID.
    pub key: SessionKey,
    /// Whose session it is.
    pub user: UserIdx,
    /// The client application (`ClientID` as text).
    pub client: Box<str>,
    /// The CSP version the client speaks.
    pub version: Version,
    /// The SessionID's text (held for wake-ups, which name the session).
    pub id_text: std::sync::Arc<str>,
    /// The client's SessionCookie (echoed in CIR).
    pub cookie: std::sync::Arc<str>,
    /// Seconds of inactivity allowed.
    pub keep_alive_s: u32,
    /// Time of the last request.
    pub last_active: Millis,
    /// Lifecycle.
    pub state: SessionState,
    /// Negotiated capabilities.
    pub caps: Option<Box<Capabilities>>,
    /// Agreed service leaves as a bit set over [`crate::access::service::LEAVES`]; `None`
    /// until Service negotiation.
    pub agreed: Option<u64>,
    /// Server-originated transactions.
    pub outbox: Outbox,
    /// The client's address at its last request.
    pub peer: Option<std::net::SocketAddr>,
    /// A wake-up was sent and the client has not come back since (coalescing).
    pub woken: bool,
    /// The deadline of this session's entry in the expiry heap.
    pub(crate) armed: Millis,
    /// Tells this session from earlier ones in the same slot (set by the table).
    pub serial: u32,
    /// Subscriptions and waiting presence (allocated on first use).
    pub presence: Option<Box<crate::presence::inbox::SessionPresence>>,
    /// Groups this session joined (normalized GroupIDs).
    pub groups: Vec<std::sync::Arc<str>>,
}

impl Session {
    /// When the session expires if nothing happens.
    pub fn deadline(&self) -> Millis {
        self.last_active.plus(u64::from(self.keep_alive_s) * 1000)
    }
}

/// The sessions of one shard.
#[derive(Debug, Default)]
pub struct SessionTable {
    slots: Vec<Option<Session>>,
    free: Vec<u32>,
    by_key: HashMap<SessionKey, u32>,
    expiry: BinaryHeap<Reverse<(Millis, u32)>>,
    ended: HashMap<SessionKey, StatusCode>,
    ended_order: VecDeque<(Millis, SessionKey)>,
    next_serial: u32,
    /// The polling rhythm of each slot's session (reset when the slot is reused).
    pace: Vec<PollPace>,
    /// Polls counted early (served without work) and refused, since start.
    polls_early: u64,
    polls_refused: u64,
}

impl SessionTable {
    /// Adds a session; returns its slot.
    pub fn insert(&mut self, mut session: Session) -> u32 {
        let key = session.key;
        let deadline = session.deadline();
        session.armed = deadline;
        self.next_serial = self.next_serial.wrapping_add(1);
        session.serial = self.next_serial;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(session);
                i
            }
            None => {
                self.slots.push(Some(session));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_key.insert(key, slot);
        self.expiry.push(Reverse((deadline, slot)));
        let i = slot as usize;
        if self.pace.len() <= i {
            self.pace.resize(i + 1, PollPace::default());
        }
        self.pace[i] = PollPace::default();
        slot
    }

    /// The server asked the session in `slot` to poll (see [`PollPace::invite`]).
    pub fn invite_poll(&mut self, slot: u32) {
        if let Some(pace) = self.pace.get_mut(slot as usize) {
            pace.invite();
        }
    }

    /// Judges a Polling-Request of the session in `slot` against ServerPollMin `min_s` (see
    /// [`PollPace::poll`]), and counts early and refused polls.
    pub fn judge_poll(
        &mut self,
        slot: u32,
        now: Millis,
        min_s: u32,
        has_queued: bool,
    ) -> PollVerdict {
        let Some(pace) = self.pace.get_mut(slot as usize) else {
            return PollVerdict::Served;
        };
        let verdict = pace.poll(now, min_s, has_queued);
        match verdict {
            PollVerdict::Served => {}
            PollVerdict::Early => self.polls_early += 1,
            PollVerdict::Refused => self.polls_refused += 1,
        }
        verdict
    }

    /// Polls counted early and refused (see [`crate::access::poll_pace`]), since start.
    pub fn poll_violations(&self) -> (u64, u64) {
        (self.polls_early, self.polls_refused)
    }

    /// The slot of the session with `key`.
    pub fn find(&self, key: &SessionKey) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    /// Why the session with `key` ended, if it ended recently.
    pub fn ended(&self, key: &SessionKey) -> Option<StatusCode> {
        self.ended.get(key).copied()
    }

    /// The sessions in use (not closing), lowest slot first.
    pub fn active(&self) -> impl Iterator<Item = &Session> + '_ {
        self.slots
            .iter()
            .flatten()
            .filter(|s| s.state == SessionState::Active)
    }

    /// The session in `slot`.
    pub fn get(&self, slot: u32) -> Option<&Session> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// The session in `slot`, mutably.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Session> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Removes a session. `reason` is remembered until `now + memory_ms` (None: forget at
    /// once, as after a Logout).
    pub fn remove(
        &mut self,
        slot: u32,
        reason: Option<StatusCode>,
        now: Millis,
        memory_ms: u64,
    ) -> Option<Session> {
        let session = self.slots.get_mut(slot as usize)?.take()?;
        self.by_key.remove(&session.key);
        self.free.push(slot);
        if let Some(code) = reason {
            self.ended.insert(session.key, code);
            self.ended_order
                .push_back((now.plus(memory_ms), session.key));
        }
        Some(session)
    }

    /// Slots whose session is past its deadline at `now`. Entries made stale by activity
    /// are re-armed with the session's real deadline. Also forgets old ended sessions.
    pub fn expired(&mut self, now: Millis) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(Reverse((at, slot))) = self.expiry.peek().copied() {
            if at > now {
                break;
            }
            self.expiry.pop();
            let Some(session) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
                continue;
            };
            if session.armed != at {
                continue; // superseded by an earlier entry
            }
            let real = session.deadline();
            if real > now {
                session.armed = real;
                self.expiry.push(Reverse((real, slot)));
            } else {
                out.push(slot);
            }
        }
        while let Some(&(until, key)) = self.ended_order.front() {
            if until > now {
                break;
            }
            self.ended_order.pop_front();
            self.ended.remove(&key);
        }
        out
    }

    /// The earliest time something may expire.
    pub fn next_deadline(&self) -> Option<Millis> {
        let session = self.expiry.peek().map(|Reverse((at, _))| *at);
        let ended = self.ended_order.front().map(|(at, _)| *at);
        match (session, ended) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Arms the expiry of `slot` at its current deadline (after its entry was consumed).
    pub fn arm(&mut self, slot: u32) {
        if let Some(s) = self.get_mut(slot) {
            let deadline = s.deadline();
            s.armed = deadline;
            self.expiry.push(Reverse((deadline, slot)));
        }
    }

    /// Re-arms the expiry of `slot` (after its keep-alive time changed).
    pub fn rearm(&mut self, slot: u32) {
        if let Some(s) = self.get_mut(slot) {
            let deadline = s.deadline();
            // A later deadline is picked up when the current entry pops.
            if deadline < s.armed {
                s.armed = deadline;
                self.expiry.push(Reverse((deadline, slot)));
            }
        }
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no session is live.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
