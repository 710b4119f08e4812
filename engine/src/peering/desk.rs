//! The federation desk: one task on executor 0 that owns the [`Federation`], feeds it the
//! time, runs its timer, hands its transmits to one sender task per peer (a keep-alive
//! [`PeerClient`], POSTs one after another on it), and turns its events into work for the
//! shards. Shards reach it with [`FederationOut`], the SSP endpoint with [`DeskMsg`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_lite::future::or;
use imps_protocol::StatusCode;
use imps_protocol::ssp::Status;
use imps_protocol::types::DateTime;

use super::client::{PeerClient, Target};
use super::queue_log::{LoggedItem, QueueLog};
use super::sender::peer_sender;
use super::shard_side::FederationOp;
use super::stats::PeerStats;
use super::{FederationOut, RemoteLetter};
use crate::federation::{
    Answer, DeliveryReport, Event, Federation, FederationConfig, InboundId, IncomingError,
    ItemOrigin, OutgoingMessage, QueuedItem, SendResult, Transmit, TransmitKind,
};
use crate::runtime::LocalShard;
use crate::shard::{Admin, AdminDone, Reply, Request, Shard, route};

/// How a received SSP POST is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An empty 200.
    Accepted,
    /// 400: the body is not SSP.
    BadRequest,
    /// Close the connection without an answer (refused handshake, unknown peer).
    Close,
}

/// What the endpoint and the desk's own tasks send to the desk.
#[derive(Debug)]
pub enum DeskMsg {
    /// A POST received on the SSP endpoint; the verdict goes back on `reply`.
    Incoming {
        /// The body.
        body: Vec<u8>,
        /// Where the verdict goes.
        reply: flume::Sender<Verdict>,
    },
    /// The shards answered a delivered message.
    Answered {
        /// The request.
        inbound: InboundId,
        /// The outcome.
        status: Status,
    },
    /// A DNS SRV lookup ended.
    Discovered {
        /// The domain looked up.
        domain: String,
        /// Its SSP server, or why not.
        found: Result<std::net::SocketAddr, super::discovery::DiscoveryError>,
    },
    /// The shards served a remote user's request.
    Served {
        /// The request.
        inbound: InboundId,
        /// The outcome.
        status: Status,
        /// What goes with it.
        answer: Box<Answer>,
    },
    /// A POST was made (or failed).
    Posted {
        /// The peer.
        peer: String,
        /// Its transaction id.
        transaction_id: String,
        /// True when the peer answered 200.
        ok: bool,
    },
}

/// What the SSP endpoint holds: a way to the desk. Clone + Send.
#[derive(Debug, Clone)]
pub struct DeskHandle {
    tx: flume::Sender<DeskMsg>,
}

impl DeskHandle {
    /// Hands a received POST to the desk and waits for the verdict.
    pub async fn incoming(&self, body: Vec<u8>) -> Verdict {
        let (reply, verdict) = flume::bounded(1);
        if self
            .tx
            .send_async(DeskMsg::Incoming { body, reply })
            .await
            .is_err()
        {
            return Verdict::Close;
        }
        verdict.recv_async().await.unwrap_or(Verdict::Close)
    }
}

#[path = "desk_services.rs"]
mod services;

#[path = "desk_discovery.rs"]
mod discovering;

#[path = "desk_inbound_im.rs"]
mod inbound_im;

/// Timing of the desk besides the federation's own.
#[derive(Debug, Clone, Copy)]
pub struct DeskTiming {
    /// How long a SendMessage waits for the remote answer.
    pub answer_wait: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// HTTP response timeout.
    pub response_timeout: Duration,
    /// DNS SRV discovery of unknown domains (`None`: off).
    pub discovery: Option<super::discovery::Discovery>,
}

/// A part of a SendMessage answer waiting for remote recipients.
#[derive(Debug)]
struct WaitingPart {
    shard: usize,
    query: u64,
    part: u32,
    sender: String,
    outstanding: usize,
    results: Vec<(String, StatusCode)>,
    deadline: Instant,
    report: bool,
    /// The queue-log record that must be durable before the answer (0: none).
    needs_seq: u64,
}

type ItemKey = (String, String, String);

/// The desk's state.
struct Desk {
    fed: Federation,
    local: LocalShard<Shard>,
    domain: String,
    tx: flume::Sender<DeskMsg>,
    senders: HashMap<String, flume::Sender<Transmit>>,
    parts: HashMap<u64, WaitingPart>,
    items: HashMap<ItemKey, u64>,
    late: HashMap<ItemKey, bool>,
    next_part: u64,
    timing: DeskTiming,
    stats: HashMap<String, PeerStats>,
    log: QueueLog,
    durable: u64,
    /// Answers waiting for their queue-log record: (record, shard, operation).
    held: Vec<(u64, usize, FederationOp)>,
    /// Local requests of the services waiting for their answer, by SSP transaction id.
    requests: HashMap<String, services::WaitingRequest>,
    /// Domains being looked up by DNS SRV, with what waits for them.
    lookups: discovering::Lookups,
}

/// The durable queue of the desk: the log, what it held at start, and its durability reports.
pub type DeskQueue = (QueueLog, Vec<LoggedItem>, flume::Receiver<u64>);

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The instant of wall-clock `ms`, given that `now` is `now_ms`.
fn instant_of(ms: u64, now: Instant, now_ms: u64) -> Instant {
    if ms >= now_ms {
        now + Duration::from_millis(ms - now_ms)
    } else {
        now.checked_sub(Duration::from_millis(now_ms - ms))
            .unwrap_or(now)
    }
}

/// Starts the desk on `local`'s executor: the handle for the SSP endpoint and the sender for
/// the shards.
pub fn start_desk(
    local: &LocalShard<Shard>,
    config: FederationConfig,
    timing: DeskTiming,
    seed: [u8; 32],
    queue: DeskQueue,
    out_rx: flume::Receiver<FederationOut>,
) -> Result<DeskHandle, String> {
    let (log, restored, durable_rx) = queue;
    let domain = config.local_domain.clone();
    let mut targets = Vec::new();
    for p in &config.peers {
        let target = Target::parse(&p.url).map_err(|e| format!("peer {}: {e}", p.domain))?;
        targets.push((p.domain.clone(), target));
    }
    let fed = Federation::new(config, seed).map_err(|e| e.to_string())?;
    let (tx, rx) = flume::unbounded::<DeskMsg>();
    let mut desk = Desk {
        fed,
        local: local.clone(),
        domain,
        tx: tx.clone(),
        senders: HashMap::new(),
        parts: HashMap::new(),
        items: HashMap::new(),
        late: HashMap::new(),
        next_part: 0,
        timing,
        stats: HashMap::new(),
        log,
        durable: 0,
        held: Vec::new(),
        requests: HashMap::new(),
        lookups: discovering::Lookups::default(),
    };
    for (domain, target) in targets {
        desk.connect(domain, target);
    }
    desk.restore(restored);
    desk.greet();
    local.spawn(desk.run(rx, out_rx, durable_rx));
    Ok(DeskHandle { tx })
}

/// The least wait of the desk when the federation's timer stays due after it ran.
const STUCK_WAIT: Duration = Duration::from_millis(10);

enum Input {
    Desk(DeskMsg),
    Shard(FederationOut),
    Durable(u64),
    Tick,
    Closed,
}

impl Desk {
    async fn run(
        mut self,
        rx: flume::Receiver<DeskMsg>,
        out: flume::Receiver<FederationOut>,
        durable: flume::Receiver<u64>,
    ) {
        // True when the federation's timer stayed due after it ran: the next wait is not
        // zero, so that a timer that does not move cannot make the desk spin and starve
        // executor 0 (it runs no other task while a zero sleep is ready at once).
        let mut stuck = false;
        let mut warned = false;
        loop {
            let now = Instant::now();
            let mut wait = self
                .next_deadline(now)
                .map_or(Duration::from_secs(3600), |t| {
                    t.saturating_duration_since(now)
                });
            if stuck {
                if !warned {
                    warned = true;
                    tracing::warn!("federation timer stays due after it ran");
                }
                wait = wait.max(STUCK_WAIT);
            }
            let input = or(
                or(
                    or(
                        async { rx.recv_async().await.map_or(Input::Closed, Input::Desk) },
                        async { out.recv_async().await.map_or(Input::Closed, Input::Shard) },
                    ),
                    async {
                        match durable.recv_async().await {
                            Ok(seq) => Input::Durable(seq),
                            // The writer stopped (disk failure): nothing becomes durable.
                            Err(_) => std::future::pending().await,
                        }
                    },
                ),
                async {
                    glommio::timer::sleep(wait).await;
                    Input::Tick
                },
            )
            .await;
            let now = Instant::now();
            match input {
                Input::Desk(m) => self.on_desk(now, m),
                Input::Shard(o) => self.on_shard(now, o),
                Input::Durable(seq) => self.on_durable(seq),
                Input::Tick => {}
                Input::Closed => return,
            }
            let due = self.fed.next_timeout(now).is_some_and(|t| t <= now);
            if due {
                self.fed.handle_timeout(now);
            }
            self.expire_parts(now);
            self.expire_requests(now);
            self.drain(now);
            stuck = due && self.fed.next_timeout(now).is_some_and(|t| t <= now);
        }
    }

    /// Starts the sender task of peer `domain` at `target`.
    fn connect(&mut self, domain: String, target: Target) {
        let (ttx, trx) = flume::unbounded::<Transmit>();
        let timing = self.timing;
        let client = PeerClient::new(target, timing.connect_timeout, timing.response_timeout);
        self.local
            .spawn(peer_sender(domain.clone(), client, trx, self.tx.clone()));
        self.stats.insert(domain.clone(), PeerStats::default());
        self.senders.insert(domain, ttx);
    }

    /// Puts the items of the queue log back into the federation's queues.
    fn restore(&mut self, items: Vec<LoggedItem>) {
        let (now, now_ms) = (Instant::now(), wall_ms());
        for item in items {
            if let ItemOrigin::Message {
                sender,
                recipient,
                message_id,
            } = &item.origin
            {
                let k = key(sender, recipient, message_id.as_deref().unwrap_or(""));
                self.late.insert(k, true);
            }
            self.fed.restore(
                now,
                QueuedItem {
                    peer: item.peer,
                    transaction: item.transaction,
                    origin: item.origin,
                    enqueued_at: instant_of(item.enqueued_ms, now, now_ms),
                    expires_at: instant_of(item.expires_ms, now, now_ms),
                },
            );
        }
        self.drain(now);
    }

    /// Appends the federation's queue changes to the log; the last record written (0: none).
    fn log_changes(&mut self, now: Instant) -> u64 {
        let now_ms = wall_ms();
        let mut last = 0;
        while let Some(change) = self.fed.poll_queue_change() {
            if let Some(seq) = self.log.record(&change, now, now_ms) {
                last = seq;
            }
        }
        last
    }

    /// Records up to `seq` are durable: the answers waiting for them go out.
    fn on_durable(&mut self, seq: u64) {
        self.durable = self.durable.max(seq);
        let durable = self.durable;
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(s, _, _)| *s <= durable);
        self.held = waiting;
        for (_, shard, op) in ready {
            self.call_shard(Some(shard), op, |_| None);
        }
    }

    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let parts = self.parts.values().map(|p| p.deadline).min();
        [
            self.fed.next_timeout(now),
            parts,
            self.next_request_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_desk(&mut self, now: Instant, m: DeskMsg) {
        match m {
            DeskMsg::Incoming { body, reply } => {
                let verdict = match self.fed.handle_incoming(now, None, &body) {
                    Ok(()) => Verdict::Accepted,
                    Err(IncomingError::Decode(e)) => {
                        tracing::debug!(error = %e, "undecodable SSP POST");
                        Verdict::BadRequest
                    }
                    Err(IncomingError::UnknownPeer(domain)) => {
                        // Found by DNS, the peer's next attempt gets a session.
                        self.discover(now, &domain);
                        tracing::info!(%domain, "SSP POST from an unknown peer refused");
                        Verdict::Close
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "SSP POST refused");
                        Verdict::Close
                    }
                };
                let _ = reply.send(verdict);
            }
            DeskMsg::Answered { inbound, status } => {
                let id = None;
                self.fed.answer_message(now, &inbound, status, id);
            }
            DeskMsg::Served {
                inbound,
                status,
                answer,
            } => self.fed.answer_request(now, &inbound, status, *answer),
            DeskMsg::Discovered { domain, found } => self.discovered(now, domain, found),
            DeskMsg::Posted {
                peer,
                transaction_id,
                ok,
            } => {
                if ok {
                    self.fed.handle_ack(now, &peer, &transaction_id);
                } else {
                    if let Some(s) = self.stats.get_mut(&peer) {
                        s.send_failures += 1;
                    }
                    self.fed.handle_send_failed(now, &peer, &transaction_id);
                }
            }
        }
    }

    fn on_shard(&mut self, now: Instant, out: FederationOut) {
        let Some(out) = self.park_until_discovered(now, out) else {
            return;
        };
        match out {
            FederationOut::Send {
                shard,
                query,
                part,
                letter,
                recipients,
            } => self.send(now, (shard, query, part), letter, recipients),
            FederationOut::Request {
                shard,
                query,
                part,
                request,
            } => self.request(now, (shard, query, part), *request),
            FederationOut::Presence { watchers, value } => self.presence(now, &watchers, value),
            FederationOut::Report {
                original_sender,
                recipient,
                message_id,
                code,
                delivered_ms,
            } => {
                let report = DeliveryReport {
                    original_sender,
                    recipient,
                    message_id: Some(message_id),
                    status: crate::federation::status(code),
                    delivery_time: delivered_ms
                        .map(|ms| DateTime::from_unix(ms / 1000).to_string()),
                };
                let queued = self.fed.send_delivery_report(now, &report);
                if let Err(code) = queued.result {
                    tracing::info!(to = %queued.recipient, code = code.code(), "report not sent");
                }
            }
        }
    }

    fn send(
        &mut self,
        now: Instant,
        (shard, query, part): (usize, u64, u32),
        letter: RemoteLetter,
        recipients: Vec<String>,
    ) {
        let content = match (&letter.content, letter.base64) {
            (Some(c), true) => base64::engine::general_purpose::STANDARD
                .decode(c.trim())
                .unwrap_or_else(|_| c.as_bytes().to_vec()),
            (Some(c), false) => c.as_bytes().to_vec(),
            (None, _) => Vec::new(),
        };
        let msg = OutgoingMessage {
            sender: letter.sender.clone(),
            recipients,
            message_id: Some(letter.id.clone()),
            content_type: letter.content_type.clone(),
            content,
            delivery_report: letter.report,
            date_time: None,
        };
        self.next_part += 1;
        let id = self.next_part;
        let mut waiting = WaitingPart {
            shard,
            query,
            part,
            sender: letter.sender.clone(),
            outstanding: 0,
            results: Vec::new(),
            deadline: now + self.timing.answer_wait,
            report: letter.report,
            needs_seq: 0,
        };
        let queued = if crate::federation::im::is_group_id(&letter.sender) {
            // A local group relaying a member's message to its members of other domains.
            let screen_name = letter.screen_name.as_deref();
            self.fed.send_group_message(now, &msg, screen_name)
        } else {
            self.fed.send_message(now, &msg)
        };
        for q in queued {
            match q.result {
                Ok(_) => {
                    waiting.outstanding += 1;
                    let key = key(&letter.sender, &q.recipient, &letter.id);
                    self.items.insert(key, id);
                }
                Err(code) => waiting.results.push((q.recipient, code)),
            }
        }
        waiting.needs_seq = self.log_changes(now);
        self.parts.insert(id, waiting);
        self.finish_if_done(id);
    }

    /// Answers the parts whose wait is over: recipients without an answer yet count as
    /// accepted (queued); their outcome comes later as a delivery report.
    fn expire_parts(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .parts
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let pending: Vec<ItemKey> = self
                .items
                .iter()
                .filter(|(_, p)| **p == id)
                .map(|(k, _)| k.clone())
                .collect();
            let report = self.parts.get(&id).is_some_and(|p| p.report);
            for k in pending {
                self.items.remove(&k);
                if let Some(p) = self.parts.get_mut(&id) {
                    p.outstanding = p.outstanding.saturating_sub(1);
                    p.results.push((k.1.clone(), StatusCode::Successful));
                }
                self.late.insert(k, report);
            }
            // Whatever is still counted (a recipient named twice shares one key) is over
            // too: a part past its deadline is always answered.
            if let Some(p) = self.parts.get_mut(&id) {
                p.outstanding = 0;
            }
            self.finish_if_done(id);
        }
    }

    fn finish_if_done(&mut self, id: u64) {
        if self.parts.get(&id).is_none_or(|p| p.outstanding > 0) {
            return;
        }
        let Some(p) = self.parts.remove(&id) else {
            return;
        };
        let op = FederationOp::Posted {
            sender: p.sender,
            query: p.query,
            part: p.part,
            results: p.results,
        };
        // A message is acknowledged only once its queue record is on disk.
        if p.needs_seq > self.durable {
            self.held.push((p.needs_seq, p.shard, op));
        } else {
            self.call_shard(Some(p.shard), op, |_| None);
        }
    }

    /// Runs `op` on its shard (or `shard`), in a task; `then` turns the reply into a
    /// message for the desk.
    fn call_shard(
        &self,
        shard: Option<usize>,
        op: FederationOp,
        then: impl FnOnce(Option<AdminDone>) -> Option<DeskMsg> + 'static,
    ) {
        let request = Request::Admin(Admin::Federation(op));
        let shard = shard.unwrap_or_else(|| route(&request, self.local.shards(), &self.domain));
        let local = self.local.clone();
        let tx = self.tx.clone();
        self.local.spawn(async move {
            let done = match local.call_on(shard, request).await {
                Ok(Reply::Admin(Ok(done))) => Some(done),
                _ => None,
            };
            if let Some(m) = then(done) {
                let _ = tx.send(m);
            }
        });
    }

    fn drain(&mut self, now: Instant) {
        // Answering an event (501) can make transmits: loop until both are drained.
        loop {
            while let Some(t) = self.fed.poll_transmit() {
                self.transmit(now, t);
            }
            let Some(e) = self.fed.poll_event() else {
                break;
            };
            self.on_event(e);
        }
        self.log_changes(now);
        for (peer, s) in self.stats.iter_mut() {
            s.up = self.fed.is_live(now, peer);
            s.queued = self.fed.queued(peer);
        }
        let mut list: Vec<(String, PeerStats)> = self
            .stats
            .iter()
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        super::stats::publish(list);
    }

    /// Hands `t` to its peer's sender task.
    fn transmit(&mut self, now: Instant, t: Transmit) {
        match self.senders.get(&t.peer_domain) {
            Some(s) => {
                if let Err(flume::SendError(t)) = s.send(t)
                    && t.kind != TransmitKind::Response
                {
                    self.fed
                        .handle_send_failed(now, &t.peer_domain, &t.transaction_id);
                }
            }
            None => tracing::warn!(peer = %t.peer_domain, "transmit for an unknown peer"),
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::DeliverMessage(m) => self.deliver(m),
            Event::SendResult(r) => self.on_send_result(r),
            Event::DeliveryReport(r) => {
                let op = FederationOp::Report {
                    sender: r.original_sender,
                    recipient: r.recipient,
                    message_id: r.message_id.unwrap_or_default(),
                    code: StatusCode::from(r.status.code),
                    delivery_time: r.delivery_time,
                };
                self.call_shard(None, op, |_| None);
            }
            Event::PeerUp { peer } => self.peer_up(peer),
            Event::Agreed { peer, features } => {
                tracing::info!(%peer, ?features, "SSP service agreement");
            }
            Event::Request(r) => self.serve(r),
            Event::DeliverGroupMessage(m) => self.deliver_to_group(m),
            Event::Notice(n) => self.notice(n),
            Event::RequestResult(r) => self.on_request_result(r),
        }
    }

    fn on_send_result(&mut self, r: SendResult) {
        let k = key(
            &r.sender,
            &r.recipient,
            r.message_id.as_deref().unwrap_or(""),
        );
        let code = StatusCode::from(r.status.code);
        if code == StatusCode::ServiceUnavailable
            && let Some(peer) = imps_protocol::ssp::domain_of_id(&r.recipient)
            && let Some(s) = self.stats.get_mut(&peer.to_ascii_lowercase())
        {
            s.expired += 1;
        }
        if let Some(id) = self.items.remove(&k) {
            if let Some(p) = self.parts.get_mut(&id) {
                p.outstanding = p.outstanding.saturating_sub(1);
                p.results.push((r.recipient, code));
            }
            self.finish_if_done(id);
            return;
        }
        // Answered after the SendMessage-Response: a failure reaches the sender as a
        // delivery report, when asked for.
        if self.late.remove(&k) == Some(true) && code != StatusCode::Successful {
            let op = FederationOp::Report {
                sender: r.sender,
                recipient: r.recipient,
                message_id: k.2,
                code,
                delivery_time: None,
            };
            self.call_shard(None, op, |_| None);
        }
    }
}

fn key(sender: &str, recipient: &str, message_id: &str) -> ItemKey {
    (
        sender.to_ascii_lowercase(),
        recipient.to_ascii_lowercase(),
        message_id.to_owned(),
    )
}
