//! The recipient's shard: admitting a posted message (block and grant lists, quota), storing
//! it durably when the recipient is offline, offering it to the recipient's sessions, and
//! what happens to waiting messages at login, at the last logout and at expiry. Delivery
//! reports are built here and sent to the sender's shard.

use std::cmp::Reverse;
use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::common::{CspResult, DetailedResult};
use imps_protocol::primitives::{DeliveryReportRequest, MessageNotification, NewMessage};
use imps_protocol::types::{DateTime, UserId};

use super::mailbox::{Letter, Mailbox, WAITING_REPORTS, Waiting};
use super::mesh::ImMsg;
use crate::access::outbox::Outgoing;
use crate::access::session::SessionState;
use crate::core::Millis;
use crate::record::{LetterRecord, Record};
use crate::routing::owner_of_key;
use crate::shard::{Shard, ShardMsg};
use crate::users::UserIdx;

/// Stale entries the expiry queue may hold beyond its current ones before it is compacted.
const EXPIRY_SLACK: usize = 1024;

impl Shard {
    /// Milliseconds since the Unix epoch at `now`.
    pub(crate) fn wall_ms(&self, now: Millis) -> u64 {
        self.epoch_ms.saturating_add(now.0)
    }

    /// The messaging state of `idx`, created on first use.
    pub(crate) fn mailbox_mut(&mut self, idx: UserIdx) -> Option<&mut Mailbox> {
        let user = self.users.user_mut(idx)?;
        Some(user.im.get_or_insert_with(Box::default))
    }

    /// Sends a messaging message to `shard` (this one included: the runtime routes it).
    pub(crate) fn send_im(&mut self, shard: usize, msg: ImMsg) {
        self.send_after_records(shard, ShardMsg::Im(msg));
    }

    /// The user's active sessions (the first [`SESSIONS_INLINE`] without allocating).
    fn active_sessions(&self, idx: UserIdx) -> ActiveSessions {
        let mut out = ActiveSessions::default();
        let Some(u) = self.users.user(idx) else {
            return out;
        };
        for &slot in &u.sessions {
            if self
                .sessions
                .get(slot)
                .is_some_and(|s| s.state == SessionState::Active)
            {
                out.push(slot);
            }
        }
        out
    }

    /// A message posted to recipients of this shard.
    pub(crate) fn handle_post(
        &mut self,
        from: usize,
        (query, part): (u64, u32),
        letter: &Arc<Letter>,
        recipients: Vec<Arc<str>>,
    ) {
        let mut results = Vec::with_capacity(recipients.len());
        for r in recipients {
            let code = self.admit(letter, &r);
            if code != StatusCode::Successful {
                self.report(letter, &r, code, None);
            }
            results.push((r, code));
        }
        self.send_im(
            from,
            ImMsg::Posted {
                query,
                part,
                results,
            },
        );
    }

    /// Takes a message for one recipient: 200, or why not.
    pub(crate) fn admit(&mut self, letter: &Arc<Letter>, recipient: &str) -> StatusCode {
        let Some(idx) = self.users.find(recipient) else {
            return StatusCode::UnknownUser;
        };
        if !self.im_allows(idx, &letter.sender) {
            return StatusCode::RecipientBlockedSender;
        }
        let (max_n, max_bytes) = (
            self.config.max_waiting_messages,
            self.config.max_waiting_bytes,
        );
        let online = self.active_sessions(idx);
        let Some(mailbox) = self.mailbox_mut(idx) else {
            return StatusCode::UnknownUser;
        };
        if mailbox.letters.len() >= max_n || mailbox.bytes + letter.size as usize > max_bytes {
            return StatusCode::MessageQueueFull;
        }
        if online.is_empty() {
            let record = Record::LetterStored(recipient.to_owned(), letter.to_record());
            if self.append_record(&record).is_err() {
                return StatusCode::ServerError;
            }
        }
        if let Some(mailbox) = self.mailbox_mut(idx) {
            mailbox.push(Waiting {
                letter: letter.clone(),
                durable: online.is_empty(),
            });
        }
        self.schedule_expiry(idx, letter.expires_ms);
        for slot in online.iter() {
            self.offer(slot, letter);
        }
        StatusCode::Successful
    }

    /// Puts a message in a session's outbox: pushed whole when the session takes pushes of
    /// this type and size, announced otherwise.
    pub(crate) fn offer(&mut self, slot: u32, letter: &Letter) {
        let id = self.txn_id();
        let limit = self.config.outbox_limit;
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        let recipient = self.users.user(s.user).map(|u| &*u.id);
        let info = letter.info(recipient);
        let caps = s.caps.as_deref();
        let primitive = if caps.is_none_or(|c| c.push) && pushable(caps, letter) {
            NewMessage {
                message_info: info,
                content_data: letter.content.clone(),
            }
            .into()
        } else {
            MessageNotification { message_info: info }.into()
        };
        if s.outbox.push(Outgoing { id, primitive }, limit).is_ok() {
            self.wake(slot);
        }
    }

    /// A new session of `idx`: the messages and reports waiting for the user.
    pub(crate) fn deliver_waiting(&mut self, idx: UserIdx, slot: u32) {
        let Some(mailbox) = self.users.user_mut(idx).and_then(|u| u.im.as_deref_mut()) else {
            return;
        };
        let letters: Vec<Arc<Letter>> = mailbox.letters.iter().map(|w| w.letter.clone()).collect();
        let reports = std::mem::take(&mut mailbox.reports);
        for letter in letters {
            self.offer(slot, &letter);
        }
        for report in reports {
            self.queue_report(slot, report);
        }
    }

    /// The last session of `idx` ended: what still waits is made durable.
    pub(crate) fn persist_waiting(&mut self, idx: UserIdx) {
        let Some(user) = self.users.user_mut(idx) else {
            return;
        };
        let owner = user.id.to_string();
        let Some(mailbox) = user.im.as_deref_mut() else {
            return;
        };
        let mut records = Vec::new();
        for w in mailbox.letters.iter_mut().filter(|w| !w.durable) {
            w.durable = true;
            records.push(Record::LetterStored(owner.clone(), w.letter.to_record()));
        }
        for r in records {
            // A failed encoding leaves the message waiting in memory only.
            let _ = self.append_record(&r);
        }
    }

    /// Removes a waiting message (logged when it was stored).
    pub(crate) fn remove_letter(&mut self, idx: UserIdx, id: &str) -> Option<Arc<Letter>> {
        let user = self.users.user_mut(idx)?;
        let owner = user.id.to_string();
        let w = user.im.as_deref_mut()?.take(id)?;
        if w.durable {
            let _ = self.append_record(&Record::LetterRemoved(owner, id.to_owned()));
        }
        Some(w.letter)
    }

    /// Tells the sender how delivery to `recipient` went (when they asked).
    pub(crate) fn report(
        &mut self,
        letter: &Letter,
        recipient: &str,
        code: StatusCode,
        delivered_at: Option<u64>,
    ) {
        if !letter.report || self.report_remote(letter, recipient, code, delivered_at) {
            return;
        }
        let mut result = CspResult::new(code);
        if code != StatusCode::Successful {
            result.detailed.push(DetailedResult {
                code: u32::from(code.code()),
                user_ids: vec![UserId(recipient.to_owned())],
                ..DetailedResult::default()
            });
        }
        let report = DeliveryReportRequest {
            result,
            delivery_time: delivered_at.map(|ms| DateTime::from_unix(ms / 1000)),
            message_info: letter.info(Some(recipient)),
        };
        let shards = u16::try_from(self.shards).unwrap_or(u16::MAX);
        let shard = usize::from(owner_of_key(&letter.sender, shards).0);
        self.send_im(
            shard,
            ImMsg::Report {
                sender: letter.sender.clone(),
                report: Box::new(report),
            },
        );
    }

    /// A delivery report for a sender of this shard.
    pub(crate) fn handle_report(&mut self, sender: &str, report: DeliveryReportRequest) {
        let Some(idx) = self.users.find(sender) else {
            return;
        };
        let online = self.active_sessions(idx);
        if online.is_empty() {
            if let Some(m) = self.mailbox_mut(idx)
                && m.reports.len() < WAITING_REPORTS
            {
                m.reports.push(report);
            }
            return;
        }
        for slot in online.iter() {
            self.queue_report(slot, report.clone());
        }
    }

    fn queue_report(&mut self, slot: u32, report: DeliveryReportRequest) {
        let id = self.txn_id();
        let limit = self.config.outbox_limit;
        if let Some(s) = self.sessions.get_mut(slot)
            && s.outbox
                .push(
                    Outgoing {
                        id,
                        primitive: report.into(),
                    },
                    limit,
                )
                .is_ok()
        {
            self.wake(slot);
        }
    }

    /// Makes sure the expiry queue looks at `idx`'s mailbox by `at` (wall-clock ms). The
    /// queue holds at most one current entry per mailbox, so messages confirmed before they
    /// expire cost it nothing; entries made stale by an earlier message are dropped when
    /// they outnumber the current ones.
    pub(crate) fn schedule_expiry(&mut self, idx: UserIdx, at: u64) {
        let Some(mailbox) = self.mailbox_mut(idx) else {
            return;
        };
        let had_entry = mailbox.expiry_at.is_some();
        if !mailbox.schedule_expiry(at) {
            return;
        }
        self.expiries.push(Reverse((at, idx)));
        if !had_entry {
            self.expiry_entries += 1;
        }
        if self.expiries.len() > 2 * self.expiry_entries + EXPIRY_SLACK {
            let users = &self.users;
            self.expiries.retain(|Reverse((at, idx))| {
                users
                    .user(*idx)
                    .and_then(|u| u.im.as_deref())
                    .is_some_and(|m| m.expiry_at == Some(*at))
            });
        }
    }

    /// Messages past their validity: removed, and their senders told (542).
    pub(crate) fn expire_letters(&mut self, now: Millis) {
        let wall = self.wall_ms(now);
        while let Some(Reverse((at, _))) = self.expiries.peek() {
            if *at > wall {
                break;
            }
            let Some(Reverse((at, idx))) = self.expiries.pop() else {
                break;
            };
            let Some(mailbox) = self.mailbox_mut(idx) else {
                continue;
            };
            let current = mailbox.expiry_at == Some(at);
            mailbox.expiry_due(at);
            let expired = mailbox.expired(wall);
            if current {
                self.expiry_entries = self.expiry_entries.saturating_sub(1);
            }
            let recipient = self.users.user(idx).map(|u| u.id.to_string());
            for id in expired {
                if let (Some(letter), Some(recipient)) =
                    (self.remove_letter(idx, &id), recipient.as_deref())
                {
                    self.report(&letter, recipient, StatusCode::MessageExpired, None);
                }
            }
            if let Some(next) = self.mailbox_mut(idx).and_then(|m| m.next_expiry()) {
                self.schedule_expiry(idx, next);
            }
        }
    }

    /// When the next message expires, on the shard's clock.
    pub(crate) fn next_expiry(&self) -> Option<Millis> {
        self.expiries
            .peek()
            .map(|Reverse((at, _))| Millis(at.saturating_sub(self.epoch_ms)))
    }

    /// Stores a message (recovery).
    pub(crate) fn store_letter(&mut self, owner: &str, record: LetterRecord) {
        let Some(idx) = self.users.find(owner) else {
            return;
        };
        let letter = Arc::new(Letter::from_record(record));
        self.schedule_expiry(idx, letter.expires_ms);
        if let Some(m) = self.mailbox_mut(idx) {
            m.take(&letter.id);
            m.push(Waiting {
                letter,
                durable: true,
            });
        }
    }

    /// Drops a stored message (recovery).
    pub(crate) fn drop_letter(&mut self, owner: &str, id: &str) {
        if let Some(m) = self
            .users
            .find(owner)
            .and_then(|i| self.users.user_mut(i))
            .and_then(|u| u.im.as_deref_mut())
        {
            m.take(id);
        }
    }
}

/// True when a client with `caps` takes `letter` whole in a push (its type and size);
/// otherwise it is announced and fetched (or refused at GetMessage).
pub(crate) fn pushable(
    caps: Option<&crate::access::session::Capabilities>,
    letter: &Letter,
) -> bool {
    caps.is_none_or(|c| {
        (c.accepted_content_length == 0 || letter.size <= c.accepted_content_length)
            && (c.accepted_content_types.is_empty()
                || c.accepted_content_types.iter().any(|t| {
                    let want = letter.content_type.as_deref().unwrap_or("text/plain");
                    t == "*" || t == "*/*" || t.eq_ignore_ascii_case(want)
                }))
    })
}

/// Sessions of one user kept inline (a user rarely has more at once).
const SESSIONS_INLINE: usize = 4;

/// A user's active session slots: inline up to [`SESSIONS_INLINE`], then on the heap.
#[derive(Default)]
struct ActiveSessions {
    inline: [u32; SESSIONS_INLINE],
    len: usize,
    more: Vec<u32>,
}

impl ActiveSessions {
    fn push(&mut self, slot: u32) {
        match self.inline.get_mut(self.len) {
            Some(free) => {
                *free = slot;
                self.len += 1;
            }
            None => self.more.push(slot),
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.inline[..self.len].iter().chain(&self.more).copied()
    }
}

#[cfg(test)]
mod tests {
    use imps_protocol::common::{Recipient, User};
    use imps_protocol::primitives::{MessageDelivered, MessageInfo, SendMessageRequest};
    use imps_protocol::types::UserId;
    use imps_protocol::{Primitive, TransactionMode, Version};

    use crate::config::AccessConfig;
    use crate::sim::{Sim, SimClient};

    fn to(user: &str, text: &str) -> Primitive {
        SendMessageRequest {
            delivery_report: Some(false),
            message_info: MessageInfo {
                recipient: Some(Recipient {
                    users: vec![User {
                        user_id: UserId(format!("wv:{user}")),
                        client_id: None,
                        friendly_name: None,
                    }],
                    ..Recipient::default()
                }),
                ..MessageInfo::default()
            },
            content_data: Some(text.into()),
        }
        .into()
    }

    #[test]
    fn confirmed_messages_leave_one_expiry_entry_per_mailbox() {
        let mut sim = Sim::new(1, AccessConfig::default(), 7);
        sim.add_user("alice", "pw");
        sim.add_user("bob", "pw");
        let mut alice = SimClient::new("alice", Version::V1_2);
        let mut bob = SimClient::new("bob", Version::V1_2);
        alice.login(&mut sim, "pw").expect("alice");
        bob.login(&mut sim, "pw").expect("bob");
        let mut confirmed = 0;
        for i in 0..200 {
            alice.call(&mut sim, to("bob", &format!("m{i}")));
            let Some(polled) = bob.poll(&mut sim) else {
                continue;
            };
            for t in polled.session.transactions {
                if let Primitive::NewMessage(n) = t.content
                    && let Some(id) = n.message_info.message_id
                {
                    let done = MessageDelivered { message_id: id };
                    let tid = t.descriptor.id.map(|i| i.0);
                    let m = bob.message(vec![(TransactionMode::Response, tid, done.into())]);
                    bob.send(&mut sim, m);
                    confirmed += 1;
                }
            }
        }
        assert_eq!(confirmed, 200);
        let shard = sim.shard(0);
        assert!(shard.expiries.len() <= 1, "{}", shard.expiries.len());
        assert_eq!(shard.expiry_entries, shard.expiries.len());
    }
}
