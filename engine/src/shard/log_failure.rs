//! What a shard does when its log fails: no answer that waits for a record the log could
//! not make durable is ever sent as a success.
//!
//! ```text
//!   handle_log_failed(from) --> every held answer for a record >= from becomes an error:
//!                               CSP: each response transaction's content -> Status 500
//!                               (same TransactionID), anything else -> AdminError::Record
//!                               (the front answers those with HTTP 503)
//!                           --> held answers for records < from (durable) go out as usual
//!                           --> held messages to other shards: sent if their record is
//!                               durable, dropped otherwise
//! ```
//!
//! The shard's in-memory state may still hold the changes of those records; it is not used
//! again: the runtime stops giving this shard requests and replaces it with one recovered
//! from the log (see [`Core::handle_log_failed`](crate::core::Core::handle_log_failed)).
//! No clock, no I/O.

use imps_protocol::primitives::Status;
use imps_protocol::{StatusCode, TransactionMode};

use super::{AdminError, Reply, Shard};
use crate::core::{LogSeq, Millis, Output};

/// The error that replaces an answer whose record could not be made durable.
fn failed(reply: Reply, seq: LogSeq) -> Reply {
    match reply {
        Reply::Csp(Some(mut message)) => {
            for t in &mut message.session.transactions {
                if t.descriptor.mode == TransactionMode::Response {
                    t.content = Status::new(StatusCode::ServerError).into();
                }
            }
            Reply::Csp(Some(message))
        }
        Reply::Csp(None) | Reply::Admin(_) => Reply::Admin(Err(AdminError::Record(format!(
            "log record {} could not be made durable",
            seq.0
        )))),
    }
}

impl Shard {
    /// [`Core::handle_log_failed`](crate::core::Core::handle_log_failed) for the shard:
    /// answers held replies for records `>= from` with errors and releases the others.
    pub(crate) fn log_failed(&mut self, _now: Millis, from: LogSeq) {
        // Records before `from` are durable.
        self.durable = self.durable.max(LogSeq(from.0.saturating_sub(1)));
        // Messages to other shards that wait for a record: sent if it is durable, dropped
        // otherwise (what they announce never happened as far as the log knows).
        for (seq, shard, msg) in std::mem::take(&mut self.held_mesh) {
            if seq < from {
                self.outputs.push_back(Output::ToShard { shard, msg });
            }
        }
        for (seq, out) in std::mem::take(&mut self.held_desk) {
            if seq < from
                && let Some(desk) = &self.federation
            {
                let _ = desk.send(out);
            }
        }
        for (seq, token, reply) in std::mem::take(&mut self.held) {
            let reply = if seq < from {
                reply
            } else {
                failed(reply, seq)
            };
            self.outputs.push_back(Output::Reply { token, reply });
        }
    }
}

#[cfg(test)]
mod tests {
    use imps_protocol::primitives::{CreateListRequest, GetListRequest};
    use imps_protocol::types::ContactListId;
    use imps_protocol::{Primitive, Version};

    use crate::config::AccessConfig;
    use crate::core::{Core, LogSeq, Millis, Output, Token};
    use crate::shard::{Reply, Request, Shard};
    use crate::sim::{Sim, SimClient};

    fn create(name: &str) -> Primitive {
        CreateListRequest {
            contact_list: ContactListId(format!("wv:alice/{name}@imps.local")),
            nick_list: None,
            properties: None,
        }
        .into()
    }

    fn replies(shard: &mut Shard) -> Vec<(Token, Reply)> {
        let mut out = Vec::new();
        while let Some(o) = shard.poll_output() {
            if let Output::Reply { token, reply } = o {
                out.push((token, reply));
            }
        }
        out
    }

    fn code(reply: &Reply) -> Option<u32> {
        match reply {
            Reply::Csp(Some(m)) => match &m.session.transactions.first()?.content {
                Primitive::Status(s) => Some(s.result.code),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn held_answers_become_errors_and_durable_ones_go_out() {
        let mut sim = Sim::new(1, AccessConfig::default(), 3);
        sim.add_user("alice", "pw");
        let mut alice = SimClient::new("alice", Version::V1_2);
        alice.login(&mut sim, "pw").unwrap();
        let shard = sim.shard_mut(0);
        replies(shard);
        let base = shard.next_log_seq();
        // Two writes whose answers wait for their records (base and base + 1).
        for (i, name) in ["one", "two"].into_iter().enumerate() {
            let m = alice.message(vec![(
                imps_protocol::TransactionMode::Request,
                Some(format!("t{i}")),
                create(name),
            )]);
            shard.handle_request(Millis(0), Token(100 + i as u64), Request::csp(m));
        }
        let held = replies(shard);
        assert!(held.is_empty(), "answers wait for durability");
        assert_eq!(shard.next_log_seq(), LogSeq(base.0 + 2));
        // The first record made it, the second did not.
        shard.handle_log_failed(Millis(1), LogSeq(base.0 + 1));
        let out = replies(shard);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, Token(100));
        assert_eq!(code(&out[0].1), Some(200));
        assert_eq!(out[1].0, Token(101));
        assert_eq!(code(&out[1].1), Some(500));
        // A later durability report releases nothing more, and a read is unaffected.
        shard.handle_durable(Millis(2), LogSeq(base.0 + 5));
        assert!(replies(shard).is_empty());
        let m = alice.message(vec![(
            imps_protocol::TransactionMode::Request,
            Some("g".into()),
            GetListRequest {}.into(),
        )]);
        shard.handle_request(Millis(3), Token(200), Request::csp(m));
        assert_eq!(replies(shard).len(), 1);
    }
}
