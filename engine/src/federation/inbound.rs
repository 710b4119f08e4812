//! Received SSP messages: handshake steps, requests (dedupe, anti-spoofing, local delivery or
//! relay) and answers to our own requests (including "session lost", status 604).

use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::handshake::{Handled, sender_domain};
use imps_protocol::ssp::routing::Leg;
use imps_protocol::ssp::transaction::Seen;
use imps_protocol::ssp::{
    Content, Mode, SessionBlock, SetupTransaction, SspMessage, Transaction, decode_ssp,
    domain_of_id, domain_of_service_id,
};

use imps_protocol::ssp::extension::FeatureGroup;

use super::agreement;
use super::im::{self, InboundId};
use super::queue::{ItemOrigin, QueueChange, RemovalReason};
use super::request::RemoteRequest;
use super::{Awaiting, Event, Federation, IncomingError, TransmitKind, status};

impl Federation {
    /// Handles a POST body received on the SSP endpoint. `peer_hint` is the domain the
    /// transport vouches for (a client certificate), if any. `Ok` means "answer the POST with
    /// an empty 200"; see [`IncomingError`] for the rest.
    pub fn handle_incoming(
        &mut self,
        now: Instant,
        peer_hint: Option<&str>,
        body: &[u8],
    ) -> Result<(), IncomingError> {
        let message = decode_ssp(body, &self.config.limits)?;
        let claimed = match &message {
            SspMessage::Setup(step) => domain_of_service_id(sender_domain(step)).to_owned(),
            SspMessage::Session(block) => block.peer_domain().unwrap_or("").to_owned(),
        }
        .to_ascii_lowercase();
        if let Some(hint) = peer_hint
            && !hint.eq_ignore_ascii_case(&claimed)
        {
            return Err(IncomingError::PeerMismatch {
                hint: hint.to_owned(),
                claimed,
            });
        }
        if !self.peers.contains_key(&claimed) {
            return Err(IncomingError::UnknownPeer(claimed));
        }
        let result = match message {
            SspMessage::Setup(step) => self.on_setup(now, &claimed, &step),
            SspMessage::Session(block) => {
                self.on_session(now, &claimed, block);
                Ok(())
            }
        };
        self.drive(now);
        result
    }

    fn on_setup(
        &mut self,
        now: Instant,
        peer: &str,
        step: &SetupTransaction,
    ) -> Result<(), IncomingError> {
        let local = self.config.local_domain.clone();
        match self
            .sessions
            .handle_setup(now, &local, step, &mut self.rng)?
        {
            Handled::Reply(reply) | Handled::Established(Some(reply)) => {
                self.push_setup(peer, &reply, false)
            }
            Handled::Established(None) | Handled::Ignored => {}
        }
        // As responder to the peer's handshake, ours (if any) was abandoned: no retry of it
        // may interrupt the peer's.
        if step.mode == Mode::Request
            && let Some(link) = self.peers.get_mut(peer)
        {
            link.handshake.initiated = None;
            link.handshake.retry_at = None;
        }
        Ok(())
    }

    fn on_session(&mut self, now: Instant, peer: &str, block: SessionBlock) {
        let local = self.config.local_domain.clone();
        let live = self
            .sessions
            .find_live(now, &local, &block.session_id)
            .is_some();
        if !live {
            self.on_unknown_session(now, peer, block);
            return;
        }
        for t in block.transactions {
            match t.mode {
                Mode::Request => self.on_request(now, peer, t),
                Mode::Response => self.on_answer(now, peer, t),
            }
        }
    }

    /// A block in a session we do not have: either the peer telling us it lost ours (604
    /// answers to our requests), or requests we answer with 604 so the peer sets up a new one.
    fn on_unknown_session(&mut self, now: Instant, peer: &str, block: SessionBlock) {
        let lost: Vec<&Transaction> = block
            .transactions
            .iter()
            .filter(|t| t.mode == Mode::Response && is_session_lost(&t.content))
            .collect();
        if !lost.is_empty() {
            self.on_session_lost(now, peer, &lost);
            return;
        }
        let answers: Vec<Transaction> = block
            .transactions
            .iter()
            .filter(|t| t.mode == Mode::Request)
            .map(|t| t.respond(Content::Status(status(StatusCode::InvalidSession))))
            .collect();
        if let Some(first) = answers.first() {
            let tid = first.transaction_id.clone();
            let no_session = format!("@{}", self.config.local_domain);
            self.push_session(peer, no_session, answers, tid, TransmitKind::Response);
        }
    }

    /// The peer lost our session: the requests it named go back to the queue and a new
    /// handshake starts (only if one of them is really ours, so a stray 604 cannot tear a
    /// session down).
    fn on_session_lost(&mut self, now: Instant, peer: &str, lost: &[&Transaction]) {
        let mut requeue = Vec::new();
        for t in lost {
            let key = (peer.to_owned(), t.transaction_id.clone());
            if let Some(a) = self.awaiting.remove(&key) {
                requeue.push(a.item);
            } else if let Some(link) = self.peers.get_mut(peer)
                && let Some(item) = link.queue.remove(&t.transaction_id)
            {
                if item.origin != ItemOrigin::Agreement {
                    self.changes.push_back(QueueChange::Removed {
                        peer: peer.to_owned(),
                        transaction_id: t.transaction_id.clone(),
                        reason: RemovalReason::Answered,
                    });
                }
                requeue.push(item);
            }
        }
        if requeue.is_empty() {
            return;
        }
        let local = self.config.local_domain.clone();
        if let Some(session) = self.sessions.session_mut(peer, &local)
            && !session.is_handshaking()
        {
            let step = session.handle_session_lost(now, &mut self.rng);
            if let Some(link) = self.peers.get_mut(peer) {
                link.handshake.retry_at = None;
            }
            self.push_setup(peer, &step, true);
        }
        for item in requeue {
            if let Some(link) = self.peers.get_mut(peer) {
                // The agreement request is redone when the new session comes up.
                if item.origin == ItemOrigin::Agreement {
                    continue;
                }
                link.queue.push(now, item.clone());
                self.changes
                    .push_back(QueueChange::Enqueued(Box::new(item)));
            }
        }
    }

    /// An answer to one of our requests.
    fn on_answer(&mut self, now: Instant, peer: &str, t: Transaction) {
        if is_session_lost(&t.content) {
            self.on_session_lost(now, peer, &[&t]);
            return;
        }
        let key = (peer.to_owned(), t.transaction_id.clone());
        let item = match self.awaiting.remove(&key) {
            Some(Awaiting { item }) => Some(item),
            None => {
                let item = self
                    .peers
                    .get_mut(peer)
                    .and_then(|l| l.queue.remove(&t.transaction_id));
                if item
                    .as_ref()
                    .is_some_and(|i| i.origin != ItemOrigin::Agreement)
                {
                    self.changes.push_back(QueueChange::Removed {
                        peer: peer.to_owned(),
                        transaction_id: t.transaction_id.clone(),
                        reason: RemovalReason::Answered,
                    });
                }
                item
            }
        };
        if let Some(item) = item {
            self.complete(now, item, t.content);
        }
    }

    /// A request: processed once per (peer, transaction id); a retry gets the same answer.
    fn on_request(&mut self, now: Instant, peer: &str, t: Transaction) {
        match self.dedupe.check(now, peer, &t.transaction_id) {
            Seen::Duplicate(Some(answer)) => {
                let answer = answer.clone();
                self.answer(now, peer, answer);
                return;
            }
            Seen::Duplicate(None) => return,
            Seen::New => {}
        }
        if let Some(content) = self.process(now, peer, &t) {
            let answer = t.respond(content);
            self.dedupe
                .record_answer(peer, &t.transaction_id, answer.clone());
            self.answer(now, peer, answer);
        }
    }

    /// The answer to a new request, or `None` when it comes later (from the shards, or from
    /// the relay's next hop).
    fn process(&mut self, now: Instant, peer: &str, t: &Transaction) -> Option<Content> {
        if let Err(code) = t.check_origin(peer) {
            return Some(Content::Status(status(code)));
        }
        if let Some(feature) = agreement::feature_of(&t.content)
            && !self.accepts(peer, &feature)
        {
            return Some(Content::Status(status(StatusCode::ServiceNotAgreed)));
        }
        let local = self.config.local_domain.clone();
        match &t.content {
            Content::SendMessageRequest(r) => {
                if let Some(group) = im::group_of(r) {
                    return self.on_group_message(now, peer, t, group);
                }
                let (users, domain) = im::recipients(r);
                let Some(domain) = domain else {
                    return Some(Content::Status(status(StatusCode::InvalidParameter)));
                };
                if domain != local {
                    return self.relay(now, peer, t, &domain);
                }
                let Some(sender) = im::sender_of(r) else {
                    return Some(Content::Status(status(StatusCode::InvalidParameter)));
                };
                // A group relaying its member's message speaks for its own domain only.
                if im::is_group_id(&sender)
                    && !domain_of_id(&sender)
                        .is_some_and(|d| d.eq_ignore_ascii_case(t.origin(peer)))
                {
                    return Some(Content::Status(status(StatusCode::AddressError)));
                }
                let inbound = InboundId {
                    peer: peer.to_owned(),
                    transaction_id: t.transaction_id.clone(),
                };
                self.inbound.insert(inbound.clone(), now);
                self.events.push_back(Event::DeliverMessage(im::incoming(
                    inbound, r, sender, users,
                )));
                None
            }
            Content::DeliveryStatusReport(r) => {
                let (sender, recipient) = im::report_parties(r);
                let (Some(sender), Some(recipient)) = (sender, recipient) else {
                    return Some(Content::Status(status(StatusCode::InvalidParameter)));
                };
                if !im::is_of_domain(&recipient, t.origin(peer)) {
                    return Some(Content::Status(status(StatusCode::AddressError)));
                }
                let domain = domain_of_id(&sender).map(str::to_ascii_lowercase);
                match domain {
                    Some(d) if d != local => self.relay(now, peer, t, &d),
                    _ => {
                        self.events
                            .push_back(Event::DeliveryReport(im::report_event(
                                r, sender, recipient,
                            )));
                        Some(Content::Status(status(StatusCode::Successful)))
                    }
                }
            }
            Content::ServiceRequest(r) => Some(self.on_service_request(peer, r)),
            Content::Unknown(u) => Some(Content::Status(status(u.status()))),
            Content::Invalid(i) => Some(Content::Status(status(i.error.status()))),
            other => match RemoteRequest::from_content(other) {
                Some(Ok(request)) => self.on_remote_request(now, peer, t, request),
                Some(Err(code)) => Some(Content::Status(status(code))),
                None => Some(Content::Status(status(StatusCode::NotImplemented))),
            },
        }
    }

    /// True when `peer` may send requests of `feature` (the agreement, or our offer while
    /// none was made).
    fn accepts(&self, peer: &str, feature: &FeatureGroup) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|l| l.agreement.allows(&self.config.offered, feature))
    }

    /// Relays `t` (from `peer`) towards `domain`: 516 for no route or a loop, 507 when the
    /// next hop's queue is full.
    pub(super) fn relay(
        &mut self,
        now: Instant,
        peer: &str,
        t: &Transaction,
        domain: &str,
    ) -> Option<Content> {
        let refuse = |code: StatusCode| Some(Content::Status(status(code)));
        let hop = match self.services.resolve(domain) {
            Ok(hop) => hop,
            Err(e) => return refuse(e.status()),
        };
        // The path so far: a direct request's is its sender.
        let path = if t.relay_path.is_empty() {
            vec![peer.to_owned()]
        } else {
            t.relay_path.clone()
        };
        let out_tid = self.ids.next_id();
        let incoming = Leg::new(peer, &t.transaction_id);
        let outgoing = Leg::new(&hop.peer, &out_tid);
        let local = self.config.local_domain.clone();
        let path = match self
            .relays
            .relay(now, incoming, &path, &local, outgoing.clone())
        {
            Ok(path) => path,
            Err(e) => return refuse(e.status()),
        };
        let forward = Transaction {
            mode: Mode::Request,
            transaction_id: out_tid,
            relay_path: path,
            content: t.content.clone(),
        };
        let origin = ItemOrigin::Relay {
            peer: peer.to_owned(),
            transaction_id: t.transaction_id.clone(),
        };
        match self.enqueue(now, &hop.peer, forward, origin) {
            Ok(()) => None,
            Err(code) => {
                self.relays.complete(&outgoing);
                refuse(code)
            }
        }
    }
}

/// True for an answer saying "no such session" (604).
fn is_session_lost(content: &Content) -> bool {
    matches!(content, Content::Status(s) if s.code == StatusCode::InvalidSession.code())
}
