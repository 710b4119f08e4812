//! Presence, invitations, groups and user profiles across domains: the outbound side
//! ([`Federation::request`]: one queued request per call, to the domain of its targets), the
//! inbound side (anti-spoofing, local delivery or relay, events for the shards) and the
//! answers both ways. The primitives themselves are in [`super::request`] and
//! [`super::answer`].

use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::{Content, Mode, Status, Transaction, domain_of_id};

use super::answer;
use super::im::{self, InboundId};
use super::queue::ItemOrigin;
use super::request::{Answer, IncomingNotice, IncomingRequest, RemoteRequest, RequestResult};
use super::{Event, Federation, Queued, status};

impl Federation {
    /// Hands the message `msg` of a member (`screen_name`) of the local group `msg.sender` to
    /// the group's members of other domains (`msg.recipients`): one queued
    /// `SendMessageRequest` per member with the group as its sender. Outcomes come as
    /// [`Event::SendResult`] with the group as sender.
    pub fn send_group_message(
        &mut self,
        now: Instant,
        msg: &super::OutgoingMessage,
        screen_name: Option<&str>,
    ) -> Vec<Queued> {
        self.queue_message(now, msg, &msg.sender, |recipient, local| {
            im::group_request(msg, screen_name, recipient, local)
        })
    }

    /// Sends a local user's `request` to the domain of its targets (all in one domain). Its
    /// acting user must be `wv:user@<local domain>`. Refused at once with 402 (targets in no
    /// or several remote domains, or an actor that is not local), 516 (no route), 507 (queue
    /// full) or 506 (feature not agreed with the peer); otherwise the outcome comes as
    /// [`Event::RequestResult`]. A `PresenceNotification` sent this way is not batched (see
    /// [`Federation::notify_presence`]).
    pub fn request(&mut self, now: Instant, request: RemoteRequest) -> Queued {
        let recipient = request.target();
        let result = self.queue_request(now, request, true);
        Queued { recipient, result }
    }

    /// Queues `request` for its destination domain; sends at once when `send`.
    pub(crate) fn queue_request(
        &mut self,
        now: Instant,
        request: RemoteRequest,
        send: bool,
    ) -> Result<String, StatusCode> {
        let local = self.config.local_domain.clone();
        let domain = match request.destination() {
            Some(d) if d != local => d,
            _ => return Err(StatusCode::InvalidParameter),
        };
        if let Some(actor) = request.actor()
            && !domain_of_id(actor).is_some_and(|d| d.eq_ignore_ascii_case(&local))
        {
            return Err(StatusCode::InvalidParameter);
        }
        let hop = self
            .services
            .resolve(&domain)
            .map_err(|_| StatusCode::DomainNotSupported)?;
        let tid = self.ids.next_id();
        let transaction = Transaction::new(Mode::Request, tid.clone(), request.to_content(&local));
        let origin = ItemOrigin::Service(Box::new(request));
        self.enqueue_item(now, &hop.peer, transaction, origin, send)?;
        Ok(tid)
    }

    /// Answers an [`Event::Request`]: `status` (200, 531 for unknown users, 403/804 when not
    /// authorised, ...) and what goes with it ([`Answer::Presence`] for a presence fetch,
    /// [`Answer::Joined`] for a join, and so on; [`Answer::None`] otherwise).
    pub fn answer_request(
        &mut self,
        now: Instant,
        inbound: &InboundId,
        status: Status,
        answer: Answer,
    ) {
        let Some((_, request)) = self.pending.remove(inbound) else {
            return;
        };
        let answer = Transaction::new(
            Mode::Response,
            inbound.transaction_id.clone(),
            answer::response(&request, status, answer),
        );
        self.dedupe
            .record_answer(&inbound.peer, &inbound.transaction_id, answer.clone());
        self.answer(now, &inbound.peer, answer);
    }

    /// A received request of the services: checked, then relayed, delivered as a notice
    /// (answered 200 here) or handed to the shards (answered later).
    pub(crate) fn on_remote_request(
        &mut self,
        now: Instant,
        peer: &str,
        t: &Transaction,
        request: RemoteRequest,
    ) -> Option<Content> {
        let origin = t.origin(peer).to_ascii_lowercase();
        if !request.comes_from(&origin) {
            return Some(Content::Status(status(StatusCode::AddressError)));
        }
        let Some(domain) = request.destination() else {
            return Some(Content::Status(status(StatusCode::InvalidParameter)));
        };
        if domain != self.config.local_domain {
            return self.relay(now, peer, t, &domain);
        }
        if request.is_notice() {
            self.events.push_back(Event::Notice(IncomingNotice {
                origin,
                notice: request,
            }));
            return Some(Content::Status(status(StatusCode::Successful)));
        }
        let inbound = InboundId {
            peer: peer.to_owned(),
            transaction_id: t.transaction_id.clone(),
        };
        self.pending.insert(inbound.clone(), (now, request.clone()));
        self.events
            .push_back(Event::Request(IncomingRequest { inbound, request }));
        None
    }

    /// A received message for a group of ours (or of a domain behind us).
    pub(crate) fn on_group_message(
        &mut self,
        now: Instant,
        peer: &str,
        t: &Transaction,
        group: String,
    ) -> Option<Content> {
        let Content::SendMessageRequest(r) = &t.content else {
            return Some(Content::Status(status(StatusCode::InvalidParameter)));
        };
        let Some(domain) = domain_of_id(&group).map(str::to_ascii_lowercase) else {
            return Some(Content::Status(status(StatusCode::InvalidParameter)));
        };
        if domain != self.config.local_domain {
            return self.relay(now, peer, t, &domain);
        }
        let Some(sender) = im::sender_of(r) else {
            return Some(Content::Status(status(StatusCode::InvalidParameter)));
        };
        let inbound = InboundId {
            peer: peer.to_owned(),
            transaction_id: t.transaction_id.clone(),
        };
        self.inbound.insert(inbound.clone(), now);
        self.events
            .push_back(Event::DeliverGroupMessage(im::incoming(
                inbound,
                r,
                sender,
                vec![group],
            )));
        None
    }

    /// Reports the outcome of a local request.
    pub(crate) fn complete_request(
        &mut self,
        transaction_id: String,
        request: RemoteRequest,
        content: Content,
    ) {
        let (status, answer) = answer::read(content);
        self.events.push_back(Event::RequestResult(RequestResult {
            transaction_id: Some(transaction_id),
            request,
            status,
            answer,
        }));
    }
}
