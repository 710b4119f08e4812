//! One simulated mobile client: a compact state machine, sans-IO and clock-free (times are
//! passed in), driven by its scheduler's timer wheel and by the answers its driver brings.
//!
//! ```text
//!  Offline --timer--> Login [--> digest proof] --> ClientCapability --> Service --> GetList
//!     ^         [--> CreateList --> CreateAttributeList] [--> SubscribePresence]
//!     |                                                     --> UpdatePresence --> Online
//!     |                                                                                  |
//!     +--- network drop / Logout / session ended (600, 601, 604) / transport failure ---+
//!  Online --poll timer--> Polling-Request (or KeepAlive-Request for CIR clients)
//!         --action timer--> UpdatePresence | SendMessage | ListManage | GetPresence | ...
//!         server-originated requests in an answer --> acknowledged at once; Poll=T --> poll
//! ```
//!
//! Open loop: each action has an intended time drawn by the model when the previous one of
//! its kind was due (not when it was answered), and latency is measured from that time. A
//! client has at most one request in flight, like a phone; an action that falls due while
//! one is in flight is sent as soon as the answer is in, still measured from its intended
//! time. An idle client holds no heap: its session ID is stored inline.

use imps_protocol::{Message, Primitive, StatusCode, TransactionMode};

use crate::messages::{self, Delivered};
use crate::model::{Action, MAX_CONTACTS, Model};
use crate::population::unit;

/// Kinds of transactions a client starts, named after their request primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Login-Request (plain, or the first step of digest).
    Login,
    /// Login-Request carrying the digest (second step).
    LoginDigest,
    /// ClientCapability-Request.
    Capability,
    /// Service-Request.
    Service,
    /// GetList-Request.
    GetList,
    /// CreateList-Request.
    CreateList,
    /// CreateAttributeList-Request (the default list: what every watcher may see).
    AttributeList,
    /// SubscribePresence-Request.
    Subscribe,
    /// UpdatePresence-Request.
    UpdatePresence,
    /// GetPresence-Request.
    GetPresence,
    /// ListManage-Request.
    ListManage,
    /// SendMessage-Request.
    SendMessage,
    /// Polling-Request.
    Poll,
    /// KeepAlive-Request.
    KeepAlive,
    /// Logout-Request.
    Logout,
    /// The client's Status answers to server-originated requests.
    Acknowledge,
}

impl Kind {
    /// Every kind, in index order.
    pub const ALL: [Kind; 16] = [
        Kind::Login,
        Kind::LoginDigest,
        Kind::Capability,
        Kind::Service,
        Kind::GetList,
        Kind::CreateList,
        Kind::AttributeList,
        Kind::Subscribe,
        Kind::UpdatePresence,
        Kind::GetPresence,
        Kind::ListManage,
        Kind::SendMessage,
        Kind::Poll,
        Kind::KeepAlive,
        Kind::Logout,
        Kind::Acknowledge,
    ];

    /// Its index in [`Kind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name reported: the request primitive.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "Login-Request",
            Kind::LoginDigest => "Login-Request(digest)",
            Kind::Capability => "ClientCapability-Request",
            Kind::Service => "Service-Request",
            Kind::GetList => "GetList-Request",
            Kind::CreateList => "CreateList-Request",
            Kind::AttributeList => "CreateAttributeList-Request",
            Kind::Subscribe => "SubscribePresence-Request",
            Kind::UpdatePresence => "UpdatePresence-Request",
            Kind::GetPresence => "GetPresence-Request",
            Kind::ListManage => "ListManage-Request",
            Kind::SendMessage => "SendMessage-Request",
            Kind::Poll => "Polling-Request",
            Kind::KeepAlive => "KeepAlive-Request",
            Kind::Logout => "Logout-Request",
            Kind::Acknowledge => "Status",
        }
    }
}

/// A session ID kept without heap when it is short (every `impsd` ID is).
#[derive(Debug, Clone, PartialEq, Eq)]
enum SessionKey {
    None,
    Inline { len: u8, bytes: [u8; 46] },
    Heap(Box<str>),
}

impl SessionKey {
    fn new(id: &str) -> Self {
        let mut bytes = [0u8; 46];
        match u8::try_from(id.len()) {
            Ok(len) if id.len() <= bytes.len() => {
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(id.into()),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).ok(),
            Self::Heap(s) => Some(s),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap(s) => s.len(),
            _ => 0,
        }
    }
}

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
    /// A request to send at once (next login step, acknowledgements).
    pub next: Option<Outgoing>,
}

const DIGEST: u8 = 1;
const CIR: u8 = 2;
const PUSH: u8 = 4;

/// No timer.
pub const NO_TIMER: u32 = u32::MAX;

/// One simulated client.
#[derive(Debug, Clone)]
pub struct SimClient {
    session: SessionKey,
    intended_us: u64,
    rng: u64,
    user: u32,
    wake_ms: u32,
    poll_at_ms: u32,
    action_at_ms: u32,
    tid: u32,
    contacts: u16,
    interval_s: u16,
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
            intended_us: 0,
            rng,
            user,
            wake_ms: login_at,
            poll_at_ms: NO_TIMER,
            action_at_ms: login_at,
            tid: 0,
            contacts,
            interval_s: model.poll_s,
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

    /// True when it keeps a CIR channel (keep-alives) rather than polling.
    pub fn uses_cir(&self) -> bool {
        self.flags & CIR != 0
    }

    /// Heap bytes this client owns (zero for `impsd` session IDs).
    pub fn heap_bytes(&self) -> usize {
        self.session.heap_bytes()
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
                let (kind, content) = if self.uses_cir() {
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
            Action::NetworkDrop => {
                self.go_offline(model, at_ms);
                return None;
            }
            Action::Logout => (Kind::Logout, messages::logout()),
        };
        Some(self.emit(model, kind, intended, content))
    }

    /// The driver's answer to the request in flight, at `now_us` (µs since the start).
    /// Stamps delivered by server-originated transactions go to `delivered`.
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
                messages::delivered(&message, delivered);
                self.on_message(model, kind, message, now_us, now_ms, unix_us)
            }
        };
        if self.in_flight.is_none() {
            self.rewake();
        }
        Some(Handled {
            kind,
            class,
            intended_us,
            next,
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
        // A digest challenge (401 with a Nonce, no session) is the expected first answer.
        let challenge = kind == Kind::Login
            && matches!(answer, Some(Primitive::LoginResponse(r))
                if r.nonce.is_some() && r.session_id.is_none());
        let class = if code.is_success() || challenge {
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
        if message.poll() == Some(true) && self.phase == Phase::Online {
            self.poll_at_ms = now_ms;
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
                if let Some(Primitive::ClientCapabilityResponse(r)) = a {
                    let (poll_min, cir_agreed) = messages::agreed_capability(r);
                    if !cir_agreed {
                        self.flags &= !CIR;
                    }
                    let wanted = if self.uses_cir() {
                        model.keep_alive_s
                    } else {
                        model.poll_s
                    };
                    let min = poll_min.map_or(0, |m| u16::try_from(m).unwrap_or(u16::MAX));
                    self.interval_s = wanted.max(min).max(1);
                }
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
