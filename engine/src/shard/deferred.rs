//! Answers that wait for other shards. A transaction that needs a publisher's shard (to
//! subscribe, or to read presence) gets a *part*; the message's reply is built as usual with
//! a placeholder in that transaction's place and held until every part is complete:
//!
//! ```text
//!   handle_request(GetPresence of 3 users on 2 shards)
//!       part 0 waits for 2 answers --> Watch to shard 0, Watch to shard 1
//!   handle_mesh(Watched) x2 --> part complete --> placeholder replaced --> Output::Reply
//! ```

use imps_protocol::common::{CspResult, DetailedResult};
use imps_protocol::primitives::{GetPresenceResponse, Presence, SendMessageResponse, Status};
use imps_protocol::types::{MessageId, UserId};
use imps_protocol::{Message, Primitive, StatusCode};

use super::{Reply, Shard};
use crate::core::{LogSeq, Output, Token};

/// What a part answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PartKind {
    /// A Status (SubscribePresence).
    Subscribe,
    /// A GetPresence-Response.
    Get,
    /// A SendMessage-Response with this MessageID.
    Send(String),
    /// A Status (ForwardMessage).
    Forward,
    /// A Status (Invite-Request: per invitee, delivered or why not).
    Invite,
    /// Whatever another shard answers (group requests).
    Remote,
}

/// One transaction waiting for other shards.
#[derive(Debug)]
pub(crate) struct Part {
    /// Its index among the reply's transactions.
    txn: usize,
    kind: PartKind,
    /// Answers still expected.
    pub(crate) waiting: usize,
    /// Targets asked.
    pub(crate) asked: usize,
    /// Failures per target.
    pub(crate) failed: Vec<(StatusCode, String)>,
    /// Presence found (GetPresence).
    pub(crate) presences: Vec<Presence>,
    /// The answer of another shard (Remote).
    pub(crate) remote: Option<Primitive>,
}

impl Part {
    fn content(self) -> Primitive {
        let result = self.result();
        match self.kind {
            PartKind::Remote => self
                .remote
                .unwrap_or_else(|| Status::new(StatusCode::ServerError).into()),
            PartKind::Subscribe | PartKind::Forward | PartKind::Invite => Status {
                result,
                client_id: None,
            }
            .into(),
            PartKind::Send(id) => SendMessageResponse {
                result,
                message_id: Some(MessageId(id)),
            }
            .into(),
            PartKind::Get => GetPresenceResponse {
                result: Some(result),
                presences: self.presences,
            }
            .into(),
        }
    }

    fn result(&self) -> CspResult {
        let code = if self.failed.is_empty() {
            StatusCode::Successful
        } else if self.failed.len() >= self.asked {
            self.failed[0].0
        } else {
            StatusCode::PartialSuccess
        };
        let mut result = CspResult::new(code);
        for (code, user) in &self.failed {
            let n = u32::from(code.code());
            match result.detailed.iter_mut().find(|d| d.code == n) {
                Some(d) => d.user_ids.push(UserId(user.clone())),
                None => result.detailed.push(DetailedResult {
                    code: n,
                    user_ids: vec![UserId(user.clone())],
                    ..DetailedResult::default()
                }),
            }
        }
        result
    }
}

/// The parts opened while the current request is handled.
#[derive(Debug, Default)]
pub(crate) struct Collect {
    /// The request's query number (0 until a part is opened).
    pub(crate) query: u64,
    /// Index of the transaction being answered.
    pub(crate) txn: usize,
    /// Its TransactionID.
    pub(crate) tid: Option<String>,
    pub(crate) parts: Vec<Part>,
}

/// A reply held until its parts complete.
#[derive(Debug)]
pub(crate) struct Deferred {
    token: Token,
    reply: Option<Message>,
    record: Option<LogSeq>,
    slot: Option<u32>,
    parts: Vec<Part>,
}

impl Shard {
    /// Opens a part for the transaction being answered; returns (query, part).
    pub(crate) fn open_part(&mut self, kind: PartKind) -> (u64, u32) {
        if self.collect.query == 0 {
            self.next_query += 1;
            self.collect.query = self.next_query;
        }
        let txn = self.collect.txn;
        self.collect.parts.push(Part {
            txn,
            kind,
            waiting: 0,
            asked: 0,
            failed: Vec::new(),
            presences: Vec::new(),
            remote: None,
        });
        (self.collect.query, (self.collect.parts.len() - 1) as u32)
    }

    /// The session slot a held reply is for.
    pub(crate) fn query_slot(&self, query: u64) -> Option<u32> {
        self.deferred.get(&query)?.slot
    }

    /// The part being built (`query`, `part`), whether still collecting or already held.
    pub(crate) fn part_mut(&mut self, query: u64, part: u32) -> Option<&mut Part> {
        if self.collect.query == query && query != 0 {
            return self.collect.parts.get_mut(part as usize);
        }
        self.deferred.get_mut(&query)?.parts.get_mut(part as usize)
    }

    /// After a request: answers it, or holds the answer while parts are open.
    pub(crate) fn finish_request(
        &mut self,
        token: Token,
        reply: Option<Message>,
        slot: Option<u32>,
    ) {
        let collect = std::mem::take(&mut self.collect);
        if collect.parts.iter().all(|p| p.waiting == 0) {
            let reply = fill(reply, collect.parts);
            self.reply(token, Reply::Csp(reply));
            return;
        }
        let deferred = Deferred {
            token,
            reply,
            record: self.pending_record.take(),
            slot,
            parts: collect.parts,
        };
        self.deferred.insert(collect.query, deferred);
    }

    /// One answer of `query` arrived: when it was the last, the reply goes out.
    pub(crate) fn part_answered(&mut self, query: u64) {
        let done = self
            .deferred
            .get(&query)
            .is_some_and(|d| d.parts.iter().all(|p| p.waiting == 0));
        if !done {
            return;
        }
        let Some(d) = self.deferred.remove(&query) else {
            return;
        };
        let mut reply = fill(d.reply, d.parts);
        if let (Some(slot), Some(m)) = (d.slot, reply.as_mut()) {
            m.set_poll(self.has_queued(slot));
        }
        match d.record {
            Some(seq) if seq > self.durable => {
                self.held.push_back((seq, d.token, Reply::Csp(reply)));
            }
            _ => self.outputs.push_back(Output::Reply {
                token: d.token,
                reply: Reply::Csp(reply),
            }),
        }
    }
}

/// Puts each part's answer in its transaction.
fn fill(mut reply: Option<Message>, parts: Vec<Part>) -> Option<Message> {
    if let Some(m) = reply.as_mut() {
        for part in parts {
            let txn = part.txn;
            if let Some(t) = m.session.transactions.get_mut(txn) {
                // A message accepted everywhere keeps the response already built.
                let kept = part.failed.is_empty()
                    && matches!(
                        (&part.kind, &t.content),
                        (PartKind::Send(id), Primitive::SendMessageResponse(r))
                            if r.result.code == 200
                                && r.message_id.as_ref().is_some_and(|m| m.0 == *id)
                    );
                if !kept {
                    t.content = part.content();
                }
            }
        }
    }
    reply
}
