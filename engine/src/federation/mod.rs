//! SSP federation of one server with its peer domains (issue 11), sans-IO: the state machine
//! the runtime and the HTTP glue drive. Time and randomness come in (`now`, a seed); outputs
//! are polled, like quinn-proto's `Connection`:
//!
//! ```text
//!  glue                                   Federation
//!  POST received (ssp+xml) ---------->  handle_incoming(now, hint, body)
//!  CSP SendMessage to wv:x@b.test --->  send_message(now, msg)
//!  shard answered a delivery -------->  answer_message / send_delivery_report
//!  timer fired ---------------------->  handle_timeout(now)          (next_timeout())
//!  POST got 200 / failed ------------>  handle_ack / handle_send_failed(peer, tid)
//!                          <----------  poll_transmit(): POST body to url
//!                          <----------  poll_event(): deliver to / report to local users
//!                          <----------  poll_queue_change(): records for a durable log
//! ```
//!
//! Per peer: a session ([`PeerSessions`], handshake started when the first item is queued,
//! or at start by [`Federation::greet_peers`], and again, with back-off, when a step cannot
//! be delivered; each new session is an [`Event::PeerUp`]), and a bounded outbound
//! [`queue`] of request transactions with unique ids, retransmitted with exponential back-off
//! until the transport acknowledges them (the SSP HTTP binding answers every POST with an
//! empty 200 and sends the answer later as a new POST), failed after the queue expiry.
//!
//! Inbound: a `Session` block whose session we do not know is answered, per request, by a
//! `Status 604` in a block with the session id `@<our-domain>` (no session): the peer takes
//! it as "session lost", starts a new handshake and queues the requests again. This is our
//! extension (SSP.md §8 "re-handshake on 604-like failure"; Baraza drops such messages).
//! Requests are deduplicated by (peer, transaction id): a retry is processed once and gets
//! the answer the first copy got. Anti-spoofing answers 901; unknown primitives 405, known
//! but unsupported 501. Requests for another domain are relayed to their next hop (Service
//! Table, relay Transaction Table, `relayPath` for loops, 516 for a loop or no route) and
//! their answer retraces the path. A relay puts the sender of a direct request first on the
//! `relayPath` it passes on, so the last domain's anti-spoofing check sees the originator.
//!
//! Outcomes for a local sender ([`Event::SendResult`]): the remote answer (200, 531 for an
//! unknown user, 901, 405/501, 516 from a relay that has no route or sees a loop), 503 when
//! the item expired unacknowledged in the queue, 504 when it was acknowledged but no answer
//! came before its expiry. [`Federation::send_message`] refuses at once with 516 (no route),
//! 507 (peer queue full), 506 (feature not agreed) or 402 (not a remote user).
//!
//! The other services (`services`: presence, invitations, groups in another domain, user
//! profiles) travel the same way: [`Federation::request`] queues a local user's
//! [`RemoteRequest`], its outcome comes back as [`Event::RequestResult`]; a remote user's
//! request becomes [`Event::Request`] (answer with [`Federation::answer_request`]), a
//! one-way notice [`Event::Notice`]. Presence notifications are batched per destination
//! domain (`presence`). After each handshake both sides agree on the feature groups they
//! use (`agreement`); requests outside the agreement get 506. Due request transactions for
//! one peer leave together, up to `batch_size` per POST (several `Transaction`s in one
//! `Session` block); acknowledging or failing the POST's `transaction_id` settles all of them.
//!
//! Handshake collisions (both sides initiate) are settled by the protocol module: the
//! smaller domain name stays initiator, the other's step 1 is refused, and the other becomes
//! responder (its own attempt is dropped, not retried, while the peer's handshake runs).

mod agreement;
mod answer;
pub mod config;
pub mod im;
mod inbound;
mod presence;
pub mod queue;
pub mod request;
mod services;
mod transmit;
mod wire;

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::extension::Features;
use imps_protocol::ssp::handshake::{HandshakeError, PeerConfig, PeerSessions};
use imps_protocol::ssp::routing::{Leg, Route, ServiceTable, TransactionTable};
use imps_protocol::ssp::transaction::{DedupeTable, TransactionIds};
use imps_protocol::ssp::{Content, Mode, SspError, Status, Transaction, domain_of_id};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

pub use config::{ConfigError, FederationConfig, PeerEntry, RetryPolicy, RouteEntry};
pub use im::{DeliveryReport, InboundId, IncomingMessage, OutgoingMessage, SendResult};
pub use queue::{ItemOrigin, QueueChange, QueuedItem, RemovalReason};
pub use request::{
    Answer, GroupChangeAction, GroupJoin, GroupNotice, IncomingNotice, IncomingRequest, Invitation,
    InvitationAnswer, InvitationCancel, RemoteRequest, RequestResult,
};

use agreement::Agreement;
use presence::PresenceBatches;
use queue::{PeerQueue, later};

/// What a [`Transmit`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransmitKind {
    /// A handshake step.
    Setup,
    /// Queued requests (one, or up to `batch_size` in one `Session` block): report the
    /// POST's fate with [`Federation::handle_ack`] or [`Federation::handle_send_failed`] and
    /// its `transaction_id`, which settles every request it carries.
    Request,
    /// An answer to the peer's request (fire and forget: the peer retries its request).
    Response,
}

/// One HTTP POST to make: `Content-Type: application/vnd.wv.ssp+xml`, `body` to `url`, with
/// `X-WV-TransactionID: transaction_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The peer domain.
    pub peer_domain: String,
    /// The peer's SSP URL from the peer table.
    pub url: String,
    /// The SSP XML.
    pub body: Vec<u8>,
    /// The transaction (or set-up transaction) id it carries.
    pub transaction_id: String,
    /// What it is.
    pub kind: TransmitKind,
}

/// Something the shards must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Deliver a message from a remote user to local users, then call
    /// [`Federation::answer_message`] (531 for unknown users).
    DeliverMessage(IncomingMessage),
    /// The outcome of a message a local user sent to a remote user (the remote answer, or
    /// 503 when it expired in the queue).
    SendResult(SendResult),
    /// A delivery report for a local sender.
    DeliveryReport(DeliveryReport),
    /// A session with the peer came up: the first one, or a new one replacing a live one
    /// (the peer restarted and may have forgotten what it served our users: send it again).
    PeerUp {
        /// The peer.
        peer: String,
    },
    /// Deliver a message from a remote user to a local group (`recipients` holds the group
    /// id), then call [`Federation::answer_message`].
    DeliverGroupMessage(IncomingMessage),
    /// A remote user's request for local users or groups (presence subscription or fetch,
    /// invitation, join, ...): answer it with [`Federation::answer_request`].
    Request(IncomingRequest),
    /// A notice for local users (presence values, an invitation's answer or cancel, a
    /// removal from or change of a remote group); already answered.
    Notice(IncomingNotice),
    /// The outcome of a local [`Federation::request`] (or of a batched presence notice).
    RequestResult(RequestResult),
    /// The feature groups agreed with the peer (service agreement, after each handshake).
    Agreed {
        /// The peer.
        peer: String,
        /// The agreed groups.
        features: Features,
    },
}

/// Why a received POST was refused. `Decode` is answered with HTTP 400; the others by
/// closing the connection without an answer (as Baraza does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IncomingError {
    /// The body is not an SSP message.
    #[error(transparent)]
    Decode(#[from] SspError),
    /// A handshake step was refused (no session).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The sending domain is not in the peer table.
    #[error("{0:?} is not a configured SSP peer")]
    UnknownPeer(String),
    /// The message names another domain than the one the transport identified.
    #[error("message from {claimed:?} arrived as {hint:?}")]
    PeerMismatch {
        /// What the transport said (e.g. a client certificate).
        hint: String,
        /// What the message says.
        claimed: String,
    },
}

/// The outcome of queueing a message or report for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The recipient.
    pub recipient: String,
    /// The transaction id it travels under, or why it was refused (516: no route to the
    /// domain; 507: the peer's queue is full; 402: not a remote user).
    pub result: Result<String, StatusCode>,
}

#[derive(Debug, Clone, Default)]
struct Handshake {
    /// The set-up transaction id of the handshake we initiated and still run (steps 1, 3
    /// and 5 carry it); `None` when we are responder or idle.
    initiated: Option<String>,
    /// Failed attempts in a row.
    failures: u32,
    /// When to try again after a failed attempt.
    retry_at: Option<Instant>,
}

#[derive(Debug, Clone)]
struct PeerLink {
    url: String,
    queue: PeerQueue,
    handshake: Handshake,
    /// Our id of the live session the shards were last told of ([`Event::PeerUp`]): a new
    /// id (the peer restarted and set up a new session) is told again.
    session: Option<String>,
    /// Set up a session even with nothing queued (at start, so that a peer that kept
    /// state about us learns we restarted); cleared once a session is up.
    greet: bool,
    agreement: Agreement,
}

/// A request acknowledged by the peer's transport, waiting for its SSP answer.
#[derive(Debug, Clone)]
struct Awaiting {
    item: QueuedItem,
}

/// The federation state of one server.
#[derive(Debug)]
pub struct Federation {
    config: FederationConfig,
    sessions: PeerSessions,
    services: ServiceTable,
    peers: HashMap<String, PeerLink>,
    dedupe: DedupeTable<Transaction>,
    relays: TransactionTable,
    awaiting: HashMap<(String, String), Awaiting>,
    inbound: HashMap<InboundId, Instant>,
    /// Requests handed to the shards, waiting for [`Federation::answer_request`].
    pending: HashMap<InboundId, (Instant, RemoteRequest)>,
    presence: PresenceBatches,
    /// POSTs that carried several requests: (peer, first transaction id) → when, the others.
    batches: HashMap<(String, String), (Instant, Vec<String>)>,
    ids: TransactionIds,
    rng: ChaCha20Rng,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    changes: VecDeque<QueueChange>,
}

impl Federation {
    /// A federation for `config`; `seed` drives handshake secrets and transaction ids (take it
    /// from the OS).
    pub fn new(config: FederationConfig, seed: [u8; 32]) -> Result<Self, ConfigError> {
        let services = config.service_table()?;
        let mut sessions = PeerSessions::new();
        let mut peers = HashMap::new();
        for p in &config.peers {
            sessions.add_peer(PeerConfig {
                local_domain: config.local_domain.clone(),
                peer_domain: p.domain.clone(),
                time_to_live: config.session_ttl,
                shared_secret: p.shared_secret.clone(),
            });
            peers.insert(
                p.domain.clone(),
                PeerLink {
                    url: p.url.clone(),
                    queue: PeerQueue::default(),
                    handshake: Handshake::default(),
                    session: None,
                    greet: false,
                    agreement: Agreement::default(),
                },
            );
        }
        let mut rng = ChaCha20Rng::from_seed(seed);
        let ids = TransactionIds::new(u64::from(rng.next_u32()));
        let session_life = std::time::Duration::from_secs(u64::from(config.session_ttl));
        Ok(Self {
            dedupe: DedupeTable::new(config.dedupe_capacity, session_life),
            relays: TransactionTable::new(config.relay_capacity, config.queue_expiry),
            config,
            sessions,
            services,
            peers,
            awaiting: HashMap::new(),
            inbound: HashMap::new(),
            pending: HashMap::new(),
            presence: PresenceBatches::default(),
            batches: HashMap::new(),
            ids,
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            changes: VecDeque::new(),
        })
    }

    /// Adds a peer found at run time (DNS SRV discovery): a direct route to its domain.
    /// Refused for our own domain or a domain that already has a route.
    pub fn add_peer(&mut self, peer: PeerEntry) -> Result<(), ConfigError> {
        if peer.domain == self.config.local_domain {
            return Err(ConfigError::SelfPeer(peer.domain));
        }
        if self.routes_to(&peer.domain) {
            return Err(ConfigError::DuplicatePeer(peer.domain));
        }
        self.sessions.add_peer(PeerConfig {
            local_domain: self.config.local_domain.clone(),
            peer_domain: peer.domain.clone(),
            time_to_live: self.config.session_ttl,
            shared_secret: peer.shared_secret.clone(),
        });
        self.peers.insert(
            peer.domain.clone(),
            PeerLink {
                url: peer.url.clone(),
                queue: PeerQueue::default(),
                handshake: Handshake::default(),
                session: None,
                greet: false,
                agreement: Agreement::default(),
            },
        );
        self.services.insert(&peer.domain, Route::Direct);
        self.config.peers.push(peer);
        Ok(())
    }

    /// True when `domain` is a peer or routed through one.
    pub fn routes_to(&self, domain: &str) -> bool {
        self.services.resolve(&domain.to_ascii_lowercase()).is_ok()
    }

    /// Our domain.
    pub fn local_domain(&self) -> &str {
        &self.config.local_domain
    }

    /// True when a session with `peer` is live at `now`.
    pub fn is_live(&self, now: Instant, peer: &str) -> bool {
        self.sessions
            .session(peer, &self.config.local_domain)
            .is_some_and(|s| s.live(now).is_some())
    }

    /// Items queued for `peer` (not yet acknowledged; the agreement request not counted).
    pub fn queued(&self, peer: &str) -> usize {
        self.peers
            .get(&peer.to_ascii_lowercase())
            .map_or(0, |p| p.queue.count(|i| i.origin != ItemOrigin::Agreement))
    }

    /// The next POST to make.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next thing for the shards.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next queue change, for a durable log (see [`queue`]).
    pub fn poll_queue_change(&mut self) -> Option<QueueChange> {
        self.changes.pop_front()
    }

    /// Sends `msg` to its remote recipients: one queued `SendMessageRequest` per recipient.
    pub fn send_message(&mut self, now: Instant, msg: &OutgoingMessage) -> Vec<Queued> {
        let sender = im::qualify(&msg.sender, &self.config.local_domain);
        self.queue_message(now, msg, &sender, |recipient, local| {
            im::request(msg, &sender, recipient, local)
        })
    }

    /// Queues one SSP request per recipient of `msg` (made by `request` from the recipient
    /// and our domain), its outcome reported for `sender`.
    pub(crate) fn queue_message(
        &mut self,
        now: Instant,
        msg: &OutgoingMessage,
        sender: &str,
        request: impl Fn(&str, &str) -> Content,
    ) -> Vec<Queued> {
        let mut out = Vec::with_capacity(msg.recipients.len());
        for recipient in &msg.recipients {
            let origin = ItemOrigin::Message {
                sender: sender.to_owned(),
                recipient: recipient.clone(),
                message_id: msg.message_id.clone(),
            };
            let result =
                self.queue_for_user(now, recipient, origin, |local| request(recipient, local));
            out.push(Queued {
                recipient: recipient.clone(),
                result,
            });
        }
        out
    }

    /// Sends the delivery report of a local recipient to the remote original sender.
    pub fn send_delivery_report(&mut self, now: Instant, report: &DeliveryReport) -> Queued {
        let local = self.config.local_domain.clone();
        let recipient = im::qualify(&report.recipient, &local);
        let origin = ItemOrigin::DeliveryReport {
            original_sender: report.original_sender.clone(),
            recipient: recipient.clone(),
            message_id: report.message_id.clone(),
        };
        let result = self.queue_for_user(now, &report.original_sender, origin, |local| {
            im::report_request(report, &recipient, local)
        });
        Queued {
            recipient: report.original_sender.clone(),
            result,
        }
    }

    /// Answers a [`Event::DeliverMessage`]: `status` 200 when delivered, 531 for unknown
    /// users, and so on; `message_id` is the id we assigned, if any.
    pub fn answer_message(
        &mut self,
        now: Instant,
        inbound: &InboundId,
        status: Status,
        message_id: Option<String>,
    ) {
        if self.inbound.remove(inbound).is_none() {
            return;
        }
        let answer = Transaction::new(
            Mode::Response,
            inbound.transaction_id.clone(),
            im::response(message_id, status),
        );
        self.dedupe
            .record_answer(&inbound.peer, &inbound.transaction_id, answer.clone());
        self.answer(now, &inbound.peer, answer);
    }

    /// The peer's transport accepted the POST of `transaction_id` (HTTP 200). Report the
    /// fate of [`TransmitKind::Request`] and [`TransmitKind::Setup`] transmits only: a
    /// `Response` carries the peer's transaction id, which may equal one of ours.
    pub fn handle_ack(&mut self, now: Instant, peer: &str, transaction_id: &str) {
        let peer = peer.to_ascii_lowercase();
        for tid in self.batch_of(&peer, transaction_id) {
            let Some(link) = self.peers.get_mut(&peer) else {
                return;
            };
            if let Some(item) = link.queue.remove(&tid) {
                if item.origin != ItemOrigin::Agreement {
                    self.changes.push_back(QueueChange::Removed {
                        peer: peer.clone(),
                        transaction_id: tid.clone(),
                        reason: RemovalReason::Acknowledged,
                    });
                }
                self.awaiting.insert((peer.clone(), tid), Awaiting { item });
            }
        }
        self.drive(now);
    }

    /// The POST of `transaction_id` failed (connection error, HTTP 5xx, or no answer): the
    /// item is retried after its back-off, a handshake step restarts the handshake after the
    /// handshake's back-off.
    pub fn handle_send_failed(&mut self, now: Instant, peer: &str, transaction_id: &str) {
        let peer = peer.to_ascii_lowercase();
        let retry = self.config.retry;
        let batch = self.batch_of(&peer, transaction_id);
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        if link.handshake.initiated.as_deref() == Some(transaction_id) {
            link.handshake.initiated = None;
            link.handshake.failures += 1;
            link.handshake.retry_at = Some(later(now, retry.backoff(link.handshake.failures)));
        } else {
            for tid in batch {
                link.queue.fail(now, &tid, &retry);
            }
        }
        self.drive(now);
    }

    /// The next instant [`Federation::handle_timeout`] has work.
    pub fn next_timeout(&self, now: Instant) -> Option<Instant> {
        let local = &self.config.local_domain;
        let mut next: Option<Instant> = None;
        let mut at = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for (domain, link) in &self.peers {
            let session = self.sessions.session(domain, local);
            at(session.and_then(|s| s.poll_timeout()));
            let live = session.is_some_and(|s| s.live(now).is_some());
            at(link
                .queue
                .next_timeout(live, link.agreement.pending.as_deref()));
            if !link.queue.is_empty() || link.greet {
                at(link.handshake.retry_at);
            }
        }
        for a in self.awaiting.values() {
            at(Some(a.item.expires_at));
        }
        at(self.presence.next_flush(self.config.presence_delay));
        next
    }

    /// Runs what is due at `now`: session and handshake expiry, retransmissions, queue expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.sessions.handle_timeout(now);
        let retry = self.config.retry;
        let mut expired = Vec::new();
        for link in self.peers.values_mut() {
            expired.extend(link.queue.expire(now, &retry));
        }
        for item in expired {
            if item.origin != ItemOrigin::Agreement {
                self.changes.push_back(QueueChange::Removed {
                    peer: item.peer.clone(),
                    transaction_id: item.transaction_id().to_owned(),
                    reason: RemovalReason::Expired,
                });
            }
            self.fail_item(now, item, StatusCode::ServiceUnavailable);
        }
        let unanswered: Vec<(String, String)> = self
            .awaiting
            .iter()
            .filter(|(_, a)| now >= a.item.expires_at)
            .map(|(k, _)| k.clone())
            .collect();
        for key in unanswered {
            if let Some(a) = self.awaiting.remove(&key) {
                self.fail_item(now, a.item, StatusCode::Timeout);
            }
        }
        let life = std::time::Duration::from_secs(u64::from(self.config.session_ttl));
        self.inbound.retain(|_, at| now < later(*at, life));
        self.pending.retain(|_, (at, _)| now < later(*at, life));
        let send_timeout = retry.send_timeout;
        self.batches
            .retain(|_, (at, _)| now < later(*at, send_timeout));
        self.flush_presence_due(now, false);
        self.relays.expire(now);
        self.dedupe.expire(now);
        self.drive(now);
    }

    /// Sets up a session with every peer that has none, even with nothing to send (retried
    /// with the handshake back-off until it is up). Called once at start: a peer that kept
    /// state about us (our users watching its users, members of its groups) sees a new
    /// session ([`Event::PeerUp`] on its side) and can send that state again.
    pub fn greet_peers(&mut self, now: Instant) {
        for link in self.peers.values_mut() {
            link.greet = true;
        }
        self.drive(now);
    }

    /// Puts an item from a durable log back into its queue (after a restart), due at once.
    pub fn restore(&mut self, now: Instant, item: QueuedItem) {
        if let Some(link) = self.peers.get_mut(&item.peer) {
            link.queue.push(now, item);
        }
        self.drive(now);
    }

    /// Queues a request for the user `target`'s domain.
    fn queue_for_user(
        &mut self,
        now: Instant,
        target: &str,
        origin: ItemOrigin,
        content: impl FnOnce(&str) -> Content,
    ) -> Result<String, StatusCode> {
        let domain = match domain_of_id(target) {
            Some(d) if !d.eq_ignore_ascii_case(&self.config.local_domain) => d,
            _ => return Err(StatusCode::InvalidParameter),
        };
        let hop = self
            .services
            .resolve(domain)
            .map_err(|_| StatusCode::DomainNotSupported)?;
        let tid = self.ids.next_id();
        let transaction =
            Transaction::new(Mode::Request, tid.clone(), content(self.local_domain()));
        self.enqueue(now, &hop.peer, transaction, origin)?;
        Ok(tid)
    }

    /// Adds a request to `peer`'s queue (507 when full, 506 when its feature is not agreed)
    /// and sends what can be sent.
    fn enqueue(
        &mut self,
        now: Instant,
        peer: &str,
        transaction: Transaction,
        origin: ItemOrigin,
    ) -> Result<(), StatusCode> {
        self.enqueue_item(now, peer, transaction, origin, true)
    }

    /// [`Federation::enqueue`], sending only when `send` (callers queueing several items
    /// send once, so they share a POST).
    fn enqueue_item(
        &mut self,
        now: Instant,
        peer: &str,
        transaction: Transaction,
        origin: ItemOrigin,
        send: bool,
    ) -> Result<(), StatusCode> {
        let capacity = self.config.queue_capacity;
        let offered = &self.config.offered;
        let link = self
            .peers
            .get_mut(peer)
            .ok_or(StatusCode::DomainNotSupported)?;
        if link.queue.len() >= capacity {
            return Err(StatusCode::MessageQueueFull);
        }
        if agreement::feature_of(&transaction.content)
            .is_some_and(|f| !link.agreement.allows(offered, &f))
        {
            return Err(StatusCode::ServiceNotAgreed);
        }
        let item = QueuedItem {
            peer: peer.to_owned(),
            transaction,
            origin,
            enqueued_at: now,
            expires_at: later(now, self.config.queue_expiry),
        };
        link.queue.push(now, item.clone());
        self.changes
            .push_back(QueueChange::Enqueued(Box::new(item)));
        if send {
            self.drive(now);
        }
        Ok(())
    }

    /// Tells whoever waits for `item` that it failed with `code`.
    fn fail_item(&mut self, now: Instant, item: QueuedItem, code: StatusCode) {
        self.complete(now, item, Content::Status(status(code)));
    }

    /// Hands the answer `content` of `item` to whoever waits for it.
    fn complete(&mut self, now: Instant, item: QueuedItem, content: Content) {
        match item.origin {
            ItemOrigin::Message {
                sender,
                recipient,
                message_id,
            } => self.events.push_back(Event::SendResult(SendResult {
                sender,
                recipient,
                message_id,
                status: im::answer_status(&content),
            })),
            ItemOrigin::DeliveryReport { .. } => {}
            ItemOrigin::Service(request) => {
                let tid = item.transaction.transaction_id.clone();
                self.complete_request(tid, *request, content)
            }
            ItemOrigin::Agreement => {
                let tid = item.transaction.transaction_id.clone();
                self.on_agreement_answer(now, &item.peer, &tid, &content)
            }
            ItemOrigin::Relay {
                peer,
                transaction_id,
            } => {
                self.relays
                    .complete(&Leg::new(&item.peer, &item.transaction.transaction_id));
                let answer = Transaction::new(Mode::Response, transaction_id.clone(), content);
                self.dedupe
                    .record_answer(&peer, &transaction_id, answer.clone());
                self.answer(now, &peer, answer);
            }
        }
    }
}

/// A `Status` with `code` and its description.
pub(crate) fn status(code: StatusCode) -> Status {
    Status {
        code: code.code(),
        description: Some(code.description().to_owned()),
        ..Status::default()
    }
}
