//! One simulated mobile client: a compact state machine, sans-IO and clock-free (times are
//! passed in), driven by its scheduler's timer wheel and by the answers its driver brings.
//!
//! ```text
//!  Offline --timer--> Login [--> digest proof] --> ClientCapability --> Service --> GetList
//!     ^         [--> CreateList --> CreateAttributeList] [--> SubscribePresence]
//!     |                                                     --> UpdatePresence --> Online
//!     |                                                                                  |
//!     +--- network drop / Logout / session ended (600, 601, 604) / transport failure ---+
//!  Online --poll timer--> Polling-Request (KeepAlive-Request while an STCP channel is held)
//!         --action timer--> UpdatePresence | SendMessage | ListManage | GetPresence
//!                           | JoinGroup | LeaveGroup | CreateGroup | group message | ...
//!         server-originated requests in an answer --> acknowledged at once
//!         MessageNotification --> GetMessage --> MessageDelivered (notify/get delivery)
//!         WVCI on the STCP channel, or Poll=T --> Polling-Request
//! ```
//!
//! A CIR client whose capability answer agrees STCP asks its driver (through
//! [`Handled::channel`]) to open the channel; the driver says `HELO`, keeps it with `PING`
//! and reports wake-ups ([`SimClient::on_wake`]) and losses ([`SimClient::on_channel_lost`]:
//! the client polls from then on). The channel's socket lives in the driver, not here.
//!
//! Open loop: each action has an intended time drawn by the model when the previous one of
//! its kind was due (not when it was answered), and latency is measured from that time. A
//! client has at most one request in flight, like a phone; an action that falls due while
//! one is in flight is sent as soon as the answer is in, still measured from its intended
//! time. An idle client holds no heap: its session ID is stored inline.

use imps_protocol::{Message, Primitive, StatusCode, TransactionMode};

pub use crate::kind::Kind;
use crate::messages::{self, CirAddress, Delivered};
use crate::model::{Action, MAX_CONTACTS, Model};
use crate::population::unit;
use crate::session_key::SessionKey;

/// Where a client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// No session; the action timer is the next login.
    Offline,
    /// Logging in and negotiating.
    Connecting,
    /// In session.
    Online,
}

/// What the driver brought back for a client's request.
#[derive(Debug)]
pub enum Answer {
    /// A CSP answer; `None` is an empty HTTP 200 (an idle poll).
    Csp(Option<Message>),
    /// An HTTP status other than 200.
    Http(u16),
    /// The request never got an answer (connection refused, reset, timed out).
    Transport,
    /// A 200 whose body is not a CSP message.
    Undecodable,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Answered with success.
    Ok,
    /// Answered with an error, or not answered.
    Error,
    /// The target does not implement or did not agree to it (405, 501, 506).
    Unsupported,
}

/// A request to send.
#[derive(Debug)]
pub struct Outgoing {
    /// The message.
    pub message: Message,
    /// What it is.
    pub kind: Kind,
}

/// A handled answer.
#[derive(Debug)]
pub struct Handled {
    /// The transaction it ended.
    pub kind: Kind,
    /// How.
    pub class: Class,
    /// When the transaction was meant to start, µs since the run started.
    pub intended_us: u64,
    /// A request to send at once (next login step, acknowledgements, fetches, a poll owed).
    pub next: Option<Outgoing>,
    /// An STCP CIR channel to open for the session (agreed by its capability answer).
    pub channel: Option<CirAddress>,
}

/// Messages announced by MessageNotification and not fetched yet (notify/get delivery):
/// only a client that has some holds one.
#[derive(Debug, Clone, Default)]
struct Inbox {
    ids: std::collections::VecDeque<Box<str>>,
    /// The first one was fetched (GetMessage answered): MessageDelivered is next.
    fetched: bool,
}

const DIGEST: u8 = 1;
/// Wants a CIR channel (asks for STCP).
const CIR: u8 = 2;
const PUSH: u8 = 4;
/// Holds an STCP channel in this session (keep-alives instead of polls).
const CHANNEL: u8 = 8;
/// Owes a poll (a wake-up, or Poll=T), sent as soon as nothing is in flight.
const WOKEN: u8 = 16;

/// `room` of a client in no room.
const NO_ROOM: u16 = 0;
/// `room` of a client in the room it created.
const OWN_ROOM: u16 = u16::MAX;

/// No timer.
pub const NO_TIMER: u32 = u32::MAX;

/// One simulated client.
#[derive(Debug, Clone)]
pub struct SimClient {
    session: SessionKey,
    inbox: Option<Box<Inbox>>,
    intended_us: u64,
    rng: u64,
    user: u32,
    /// When the session began, Unix seconds: older stamps delivered in it (the presence a
    /// subscription starts with, messages stored while offline) are not end-to-end times.
    session_unix_s: u32,
    wake_ms: u32,
    poll_at_ms: u32,
    action_at_ms: u32,
    tid: u32,
    contacts: u16,
    interval_s: u16,
    poll_min_s: u16,
    /// The joined room: [`NO_ROOM`], public room `1..`, or [`OWN_ROOM`].
    room: u16,
    phase: Phase,
    in_flight: Option<Kind>,
    flags: u8,
}

fn ms(x: f64) -> u32 {
    if x.is_finite() && x >= 0.0 {
        (x.min(f64::from(NO_TIMER - 1))) as u32
    } else {
        NO_TIMER - 1
    }
}

impl SimClient {
    /// Client of user `user` (0-based) with `contacts` contacts; its first login is drawn
    /// from the model's arrival.
    pub fn new(model: &Model, user: u32, contacts: u16) -> Self {
        let mut rng = model.client_seed(user);
        let mut flags = 0;
        for (share, flag) in [
            (model.digest_fraction, DIGEST),
            (model.cir_fraction, CIR),
            (model.push_fraction, PUSH),
        ] {
            if unit(&mut rng) < share {
                flags |= flag;
            }
        }
        let login_at = ms(model.arrival_ms(&mut rng));
        Self {
            session: SessionKey::None,
            inbox: None,
            intended_us: 0,
            rng,
            user,
            session_unix_s: 0,
            wake_ms: login_at,
            poll_at_ms: NO_TIMER,
            action_at_ms: login_at,
            tid: 0,
            contacts,
            interval_s: model.poll_s,
            poll_min_s: 0,
            room: NO_ROOM,
            phase: Phase::Offline,
            in_flight: None,
            flags,
        }
    }

    /// When the client wants its timer ([`NO_TIMER`]: never).
    pub fn wake_ms(&self) -> u32 {
        self.wake_ms
    }

    /// Its phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The request in flight.
    pub fn in_flight(&self) -> Option<Kind> {
        self.in_flight
    }

    /// Its session ID.
    pub fn session(&self) -> Option<&str> {
        self.session.as_str()
    }

    /// True when it asks for a CIR channel.
    pub fn uses_cir(&self) -> bool {
        self.flags & CIR != 0
    }

    /// True while its session holds an STCP channel (keep-alives rather than polls).
    pub fn has_channel(&self) -> bool {
        self.flags & CHANNEL != 0
    }

    /// True when it owes a poll (woken, or told Poll=T, while a request was in flight).
    pub fn owes_poll(&self) -> bool {
        self.flags & WOKEN != 0
    }

    /// Notified messages not fetched yet.
    pub fn unfetched(&self) -> usize {
        self.inbox.as_ref().map_or(0, |i| i.ids.len())
    }

    /// The room it is in: `None`, `Some(0)` for its own, `Some(k)` for public room `k`.
    pub fn room(&self) -> Option<u16> {
        match self.room {
            NO_ROOM => None,
            OWN_ROOM => Some(0),
            k => Some(k),
        }
    }

    /// Heap bytes this client owns (zero for `impsd` session IDs and no pending fetch).
    pub fn heap_bytes(&self) -> usize {
        self.session.heap_bytes()
            + self.inbox.as_ref().map_or(0, |i| {
                std::mem::size_of::<Inbox>()
                    + i.ids.capacity() * std::mem::size_of::<Box<str>>()
                    + i.ids.iter().map(|id| id.len()).sum::<usize>()
            })
    }

    /// A wake-up (`WVCI`) arrived on its channel at `now_us`: a Polling-Request now, or as
    /// soon as the request in flight is answered. Nothing when it holds no channel.
    pub fn on_wake(&mut self, model: &Model, now_us: u64) -> Option<Outgoing> {
        if self.phase != Phase::Online || !self.has_channel() {
            return None;
        }
        self.flags |= WOKEN;
        self.follow_up(model, now_us)
    }

    /// Its channel could not be opened or was lost at `now_ms`: it polls from now on (the
    /// first poll at once, since wake-ups may have been missed). Returns true when that
    /// changed its timer.
    pub fn on_channel_lost(&mut self, model: &Model, now_ms: u32) -> bool {
        if !self.has_channel() {
            return false;
        }
        self.flags &= !CHANNEL;
        self.interval_s = model.poll_s.max(self.poll_min_s).max(1);
        if self.phase == Phase::Online {
            self.poll_at_ms = now_ms.saturating_add(1);
        }
        if self.in_flight.is_none() {
            self.rewake();
        }
        true
    }

    /// What an online client sends once nothing is in flight: the next step of fetching a
    /// notified message, else the poll it owes.
    fn follow_up(&mut self, model: &Model, now_us: u64) -> Option<Outgoing> {
        if self.in_flight.is_some() || self.phase != Phase::Online {
            return None;
        }
        if let Some(inbox) = self.inbox.as_deref_mut()
            && let Some(id) = inbox.ids.front()
        {
            return Some(if inbox.fetched {
                let content = messages::message_delivered(id);
                inbox.ids.pop_front();
                inbox.fetched = false;
                if inbox.ids.is_empty() {
                    self.inbox = None;
                }
                self.emit(model, Kind::MessageDelivered, now_us, content)
            } else {
                inbox.fetched = true;
                let content = messages::get_message(id);
                self.emit(model, Kind::GetMessage, now_us, content)
            });
        }
        if self.owes_poll() {
            self.flags &= !WOKEN;
            return Some(self.emit(model, Kind::Poll, now_us, messages::poll()));
        }
        None
    }

    /// A screen name for the next join: the user's, made unique by the transaction count.
    fn screen_name(&self, model: &Model) -> String {
        format!("{}.{}", self.user_id(model), self.tid.wrapping_add(1))
    }

    /// The room's GroupID.
    fn room_id(&self, model: &Model) -> Option<String> {
        match self.room {
            NO_ROOM => None,
            OWN_ROOM => Some(messages::own_room_id(&self.user_id(model), &model.domain)),
            k => Some(messages::room_id(
                &model.room_prefix,
                u32::from(k),
                &model.domain,
            )),
        }
    }

    fn emit(
        &mut self,
        model: &Model,
        kind: Kind,
        intended_us: u64,
        content: Primitive,
    ) -> Outgoing {
        self.tid = self.tid.wrapping_add(1);
        self.in_flight = Some(kind);
        self.intended_us = intended_us;
        Outgoing {
            message: messages::request(model.version, self.session.as_str(), self.tid, content),
            kind,
        }
    }

    fn rewake(&mut self) {
        self.wake_ms = match self.phase {
            Phase::Offline => self.action_at_ms,
            Phase::Connecting => NO_TIMER,
            Phase::Online => self.poll_at_ms.min(self.action_at_ms),
        };
    }

    fn go_offline(&mut self, model: &Model, now_ms: u32) {
        self.session = SessionKey::None;
        self.inbox = None;
        self.room = NO_ROOM;
        self.flags &= !(CHANNEL | WOKEN);
        self.phase = Phase::Offline;
        self.poll_at_ms = NO_TIMER;
        self.action_at_ms = now_ms.saturating_add(ms(model.offline_gap_ms(&mut self.rng)));
    }

    fn user_id(&self, model: &Model) -> String {
        model.users.user_id(self.user)
    }

    fn some_contact(&mut self, model: &Model) -> u32 {
        let n = u64::from(self.contacts.max(1));
        let k = (crate::population::splitmix64(&mut self.rng) % n) as u32;
        model.contact(self.user, k)
    }

    /// The timer entry for `at_ms` fired at `now_us` (µs since the start; `unix_us` is the
    /// wall clock, for stamps). A stale entry, or one that falls due while a request is in
    /// flight, sends nothing.
    pub fn on_timer(&mut self, model: &Model, at_ms: u32, unix_us: u64) -> Option<Outgoing> {
        if at_ms != self.wake_ms {
            return None;
        }
        self.wake_ms = NO_TIMER;
        if self.in_flight.is_some() {
            // Due while busy: the answer's handling sets the timer again, and the action
            // keeps its intended time.
            return None;
        }
        let intended = u64::from(at_ms) * 1000;
        let out = match self.phase {
            Phase::Offline => {
                self.phase = Phase::Connecting;
                let user = self.user_id(model);
                let content = if self.flags & DIGEST != 0 {
                    messages::login_digest_offer(&user)
                } else {
                    messages::login_plain(&user, model.users.password(self.user))
                };
                Some(self.emit(model, Kind::Login, intended, content))
            }
            Phase::Connecting => None,
            Phase::Online if self.poll_at_ms <= at_ms => {
                let due = self.poll_at_ms;
                self.poll_at_ms = due.saturating_add(u32::from(self.interval_s) * 1000);
                let (kind, content) = if self.has_channel() {
                    (Kind::KeepAlive, messages::keep_alive())
                } else {
                    (Kind::Poll, messages::poll())
                };
                Some(self.emit(model, kind, u64::from(due) * 1000, content))
            }
            Phase::Online => {
                self.action_at_ms = match model.action_gap_ms(&mut self.rng) {
                    Some(gap) => at_ms.saturating_add(ms(gap).max(1)),
                    None => NO_TIMER,
                };
                self.act(model, at_ms, intended, unix_us)
            }
        };
        self.rewake();
        out
    }

    fn act(&mut self, model: &Model, at_ms: u32, intended: u64, unix_us: u64) -> Option<Outgoing> {
        let list = messages::list_id(&self.user_id(model), &model.domain);
        let (kind, content) = match model.pick_action(&mut self.rng) {
            Action::UpdatePresence => (
                Kind::UpdatePresence,
                messages::update_presence(messages::stamp(unix_us)),
            ),
            Action::SendMessage => {
                let to = self.some_contact(model);
                (
                    Kind::SendMessage,
                    messages::send_message(
                        model.address(self.user),
                        model.address(to),
                        messages::stamp(unix_us),
                    ),
                )
            }
            Action::GetPresence => {
                let who = (0..self.contacts.clamp(1, 3))
                    .map(|_| {
                        let c = self.some_contact(model);
                        model.address(c)
                    })
                    .collect();
                (Kind::GetPresence, messages::get_presence(who))
            }
            Action::ListManage => {
                let add = self.contacts == 0
                    || (self.contacts < MAX_CONTACTS && unit(&mut self.rng) < 0.5);
                let k = if add {
                    self.contacts
                } else {
                    self.contacts - 1
                };
                let contact = model.address(model.contact(self.user, u32::from(k)));
                self.contacts = if add {
                    self.contacts + 1
                } else {
                    self.contacts - 1
                };
                (Kind::ListManage, messages::list_manage(&list, contact, add))
            }
            Action::JoinGroup => {
                if self.room != NO_ROOM || model.rooms == 0 {
                    return None;
                }
                let k = crate::population::splitmix64(&mut self.rng) % u64::from(model.rooms);
                self.room = k as u16 + 1;
                let group = self.room_id(model)?;
                (
                    Kind::JoinGroup,
                    messages::join_group(group, self.screen_name(model)),
                )
            }
            Action::CreateGroup => {
                if self.room != NO_ROOM {
                    return None;
                }
                self.room = OWN_ROOM;
                let group = self.room_id(model)?;
                (
                    Kind::CreateGroup,
                    messages::create_group(group, self.screen_name(model)),
                )
            }
            Action::LeaveGroup => {
                let group = self.room_id(model)?;
                self.room = NO_ROOM;
                (Kind::LeaveGroup, messages::leave_group(group))
            }
            Action::GroupMessage => {
                let group = self.room_id(model)?;
                (
                    Kind::GroupMessage,
                    messages::send_group_message(
                        model.address(self.user),
                        group,
                        messages::stamp(unix_us),
                    ),
                )
            }
            Action::NetworkDrop => {
                self.go_offline(model, at_ms);
                return None;
            }
            Action::Logout => (Kind::Logout, messages::logout()),
        };
        Some(self.emit(model, kind, intended, content))
    }

    /// The driver's answer to the request in flight, at `now_us` (µs since the start).
    /// Stamps delivered by server-originated transactions (or a fetched message) go to
    /// `delivered`, those made after the session began only.
    pub fn on_answer(
        &mut self,
        model: &Model,
        answer: Answer,
        now_us: u64,
        unix_us: u64,
        delivered: &mut Vec<Delivered>,
    ) -> Option<Handled> {
        let kind = self.in_flight.take()?;
        let intended_us = self.intended_us;
        let now_ms = u32::try_from(now_us / 1000).unwrap_or(NO_TIMER - 1);
        let agreed = match &answer {
            Answer::Csp(Some(m)) if kind == Kind::Capability => messages::agreed_channel(m),
            _ => None,
        };
        let (class, next) = match answer {
            Answer::Transport => {
                self.go_offline(model, now_ms);
                (Class::Error, None)
            }
            Answer::Undecodable => {
                if self.phase == Phase::Connecting {
                    self.go_offline(model, now_ms);
                }
                (Class::Error, None)
            }
            Answer::Http(code) => {
                if self.phase == Phase::Connecting
                    && matches!(kind, Kind::Login | Kind::LoginDigest)
                {
                    self.go_offline(model, now_ms);
                }
                let class = if code == 405 || code == 501 {
                    Class::Unsupported
                } else {
                    Class::Error
                };
                (class, None)
            }
            Answer::Csp(None) => {
                let class = if matches!(kind, Kind::Poll | Kind::Acknowledge) {
                    Class::Ok
                } else {
                    Class::Error
                };
                (
                    class,
                    self.after(model, kind, None, now_us, now_ms, unix_us),
                )
            }
            Answer::Csp(Some(message)) => {
                let before = delivered.len();
                messages::delivered(&message, delivered);
                let since = u64::from(self.session_unix_s) * 1_000_000;
                let mut k = before;
                while k < delivered.len() {
                    if delivered[k].stamp() < since {
                        delivered.swap_remove(k);
                    } else {
                        k += 1;
                    }
                }
                self.on_message(model, kind, message, now_us, now_ms, unix_us)
            }
        };
        if class != Class::Ok {
            match kind {
                Kind::JoinGroup | Kind::CreateGroup => self.room = NO_ROOM,
                Kind::GetMessage => {
                    // Not fetched: not confirmed either.
                    if let Some(inbox) = self.inbox.as_deref_mut() {
                        inbox.ids.pop_front();
                        inbox.fetched = false;
                    }
                    if self.unfetched() == 0 {
                        self.inbox = None;
                    }
                }
                _ => {}
            }
        }
        let next = next.or_else(|| self.follow_up(model, now_us));
        if self.in_flight.is_none() {
            self.rewake();
        }
        Some(Handled {
            kind,
            class,
            intended_us,
            next,
            channel: agreed.filter(|_| kind == Kind::Capability && self.has_channel()),
        })
    }

    fn on_message(
        &mut self,
        model: &Model,
        kind: Kind,
        message: Message,
        now_us: u64,
        now_ms: u32,
        unix_us: u64,
    ) -> (Class, Option<Outgoing>) {
        let answer = message
            .session
            .transactions
            .iter()
            .find(|t| t.descriptor.mode == TransactionMode::Response)
            .map(|t| &t.content);
        let code = answer.map_or(StatusCode::Successful, messages::result_code);
        // The user's own room is still there (a dropped session of it may not have ended
        // yet): what the client wanted; it joins it.
        let room_exists = kind == Kind::CreateGroup && code == StatusCode::GroupExists;
        // A digest challenge (401 with a Nonce, no session) is the expected first answer.
        let challenge = kind == Kind::Login
            && matches!(answer, Some(Primitive::LoginResponse(r))
                if r.nonce.is_some() && r.session_id.is_none());
        let class = if code.is_success() || challenge || room_exists {
            Class::Ok
        } else if messages::is_unsupported(code) {
            Class::Unsupported
        } else {
            Class::Error
        };
        if messages::ends_session(code) || matches!(answer, Some(Primitive::Disconnect(_))) {
            self.go_offline(model, now_ms);
            return (class, None);
        }
        if self.phase == Phase::Online {
            if message.poll() == Some(true) {
                self.flags |= WOKEN;
            }
            let mut ids = messages::notified(&message).peekable();
            if ids.peek().is_some() {
                let inbox = self.inbox.get_or_insert_with(Box::default);
                inbox.ids.extend(ids.map(Box::from));
            }
        }
        if self.phase == Phase::Online
            && let Some(acks) = messages::acknowledgements(&message, self.session.as_str())
        {
            // Server-originated requests come with poll answers: acknowledged at once.
            self.in_flight = Some(Kind::Acknowledge);
            self.intended_us = now_us;
            return (
                class,
                Some(Outgoing {
                    message: acks,
                    kind: Kind::Acknowledge,
                }),
            );
        }
        if class != Class::Ok && matches!(kind, Kind::Login | Kind::LoginDigest) {
            self.go_offline(model, now_ms);
            return (class, None);
        }
        if room_exists && self.phase == Phase::Online {
            let own = messages::own_room_id(&self.user_id(model), &model.domain);
            let join = messages::join_group(own, self.screen_name(model));
            return (class, Some(self.emit(model, Kind::JoinGroup, now_us, join)));
        }
        (
            class,
            self.after(model, kind, answer, now_us, now_ms, unix_us),
        )
    }

    /// The next step after `kind` was answered (`answer` is its primitive).
    fn after(
        &mut self,
        model: &Model,
        kind: Kind,
        answer: Option<&Primitive>,
        now_us: u64,
        now_ms: u32,
        unix_us: u64,
    ) -> Option<Outgoing> {
        if self.phase != Phase::Connecting {
            if kind == Kind::Logout {
                self.go_offline(model, now_ms);
            }
            return None;
        }
        let user = self.user_id(model);
        let list = messages::list_id(&user, &model.domain);
        let subscribe = model.subscribe && self.contacts > 0;
        let presence = |c: &mut Self| {
            let p = messages::update_presence(messages::stamp(unix_us));
            c.emit(model, Kind::UpdatePresence, now_us, p)
        };
        match (kind, answer) {
            (Kind::Login, Some(Primitive::LoginResponse(r))) if r.session_id.is_none() => {
                let proof = messages::login_digest_proof(&user, model.users.password(self.user), r);
                match proof {
                    Some(p) => Some(self.emit(model, Kind::LoginDigest, now_us, p)),
                    None => {
                        self.go_offline(model, now_ms);
                        None
                    }
                }
            }
            (Kind::Login | Kind::LoginDigest, Some(Primitive::LoginResponse(r))) => {
                if let Some(sid) = &r.session_id {
                    self.session = SessionKey::new(sid.as_str());
                    self.session_unix_s = u32::try_from(unix_us / 1_000_000).unwrap_or(u32::MAX);
                }
                let cir = self.uses_cir();
                let push = self.flags & PUSH != 0;
                Some(self.emit(
                    model,
                    Kind::Capability,
                    now_us,
                    messages::capability(cir, push),
                ))
            }
            (Kind::Login | Kind::LoginDigest, _) => {
                self.go_offline(model, now_ms);
                None
            }
            (Kind::Capability, a) => {
                self.flags &= !CHANNEL;
                self.poll_min_s = 0;
                if let Some(Primitive::ClientCapabilityResponse(r)) = a {
                    let (poll_min, cir) = messages::agreed_capability(r);
                    if self.uses_cir() && cir.is_some() {
                        self.flags |= CHANNEL;
                    }
                    self.poll_min_s = poll_min.map_or(0, |m| u16::try_from(m).unwrap_or(u16::MAX));
                }
                let wanted = if self.has_channel() {
                    model.keep_alive_s
                } else {
                    model.poll_s
                };
                self.interval_s = wanted.max(self.poll_min_s).max(1);
                Some(self.emit(model, Kind::Service, now_us, messages::service()))
            }
            (Kind::Service, _) => Some(self.emit(
                model,
                Kind::GetList,
                now_us,
                imps_protocol::primitives::GetListRequest {}.into(),
            )),
            (Kind::GetList, a) => {
                let has_list = matches!(a, Some(Primitive::GetListResponse(r))
                    if r.contact_lists.iter().any(|l| l.0.eq_ignore_ascii_case(&list)));
                if !has_list && self.contacts > 0 {
                    let contacts = (0..u32::from(self.contacts))
                        .map(|k| model.address(model.contact(self.user, k)))
                        .collect();
                    Some(self.emit(
                        model,
                        Kind::CreateList,
                        now_us,
                        messages::create_list(&list, contacts),
                    ))
                } else if subscribe {
                    Some(self.emit(model, Kind::Subscribe, now_us, messages::subscribe(&list)))
                } else {
                    Some(presence(self))
                }
            }
            (Kind::CreateList, _) => Some(self.emit(
                model,
                Kind::AttributeList,
                now_us,
                messages::authorize_default(),
            )),
            (Kind::AttributeList, _) if subscribe => {
                Some(self.emit(model, Kind::Subscribe, now_us, messages::subscribe(&list)))
            }
            (Kind::AttributeList | Kind::Subscribe, _) => Some(presence(self)),
            _ => {
                // The first presence update (or an acknowledgement) ends the login sequence.
                self.phase = Phase::Online;
                let interval = u32::from(self.interval_s) * 1000;
                let first_poll = ms(unit(&mut self.rng) * f64::from(interval));
                self.poll_at_ms = now_ms.saturating_add(first_poll.max(1));
                self.action_at_ms = match model.action_gap_ms(&mut self.rng) {
                    Some(gap) => now_ms.saturating_add(ms(gap).max(1)),
                    None => NO_TIMER,
                };
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
