//! The sender's shard: SendMessage-Request and ForwardMessage-Request. Checks the content,
//! expands contact lists, recognizes retries, assigns the MessageID and posts one batch per
//! recipient shard; the answer waits until every recipient shard has answered.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::common::{ContentEncoding, CspResult, Recipient};
use imps_protocol::primitives::{ForwardMessageRequest, SendMessageRequest, SendMessageResponse};
use imps_protocol::types::{ContactListId, MessageId};

use super::mailbox::{Letter, content_size};
use super::mesh::ImMsg;
use crate::core::Millis;
use crate::groups::mesh::GroupMsg;
use crate::routing::{shard_index, split_by_owner};
use crate::shard::{PartKind, Shard, ShardMsg};
use crate::users::UserIdx;

/// Recipients resolved: normalized user IDs, groups (with a screen name for a private
/// message), and those refused up front.
struct Resolved {
    users: Vec<String>,
    groups: Vec<(String, Option<Box<str>>)>,
    failed: Vec<(StatusCode, String)>,
}

fn client_hash(client: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    client.hash(&mut h);
    h.finish()
}

impl Shard {
    fn resolve(&self, idx: UserIdx, r: &Recipient) -> Resolved {
        let domain = &self.config.domain;
        let mut out = Resolved {
            users: Vec::new(),
            groups: Vec::new(),
            failed: Vec::new(),
        };
        let add = |u: String, out: &mut Resolved| {
            if !out.users.contains(&u) {
                out.users.push(u);
            }
        };
        for u in &r.users {
            match u.user_id.normalize(domain) {
                Ok(id) => add(id, &mut out),
                Err(_) => out
                    .failed
                    .push((StatusCode::UnknownUser, u.user_id.0.clone())),
            }
        }
        let owner = self.users.user(idx);
        for l in &r.contact_lists {
            let list = l.normalize(domain).ok().and_then(|norm| {
                owner?.contact_lists.iter().find(|c| {
                    ContactListId::from(c.id.as_str())
                        .normalize(domain)
                        .is_ok_and(|n| n == norm)
                })
            });
            match list {
                Some(list) => {
                    for c in &list.contacts {
                        add(c.user.clone(), &mut out);
                    }
                }
                None => out
                    .failed
                    .push((StatusCode::ContactListMissing, l.0.clone())),
            }
        }
        for g in &r.groups {
            let (id, sname) = match (&g.group_id, &g.screen_name) {
                (_, Some(s)) => (&s.group_id, Some(s.sname.0.trim().into())),
                (Some(id), None) => (id, None),
                (None, None) => continue,
            };
            match id.normalize(domain) {
                Ok(norm) => out.groups.push((norm, sname)),
                Err(_) => out.failed.push((StatusCode::GroupMissing, id.0.clone())),
            }
        }
        out
    }

    pub(crate) fn new_message_id(&mut self) -> String {
        self.next_message += 1;
        format!(
            "m{}.{:x}.{}",
            self.id, self.message_epoch, self.next_message
        )
    }

    /// Posts `letter` to `users`, one batch per shard, and to each group's shard, under a
    /// new part of kind `kind`.
    fn post(&mut self, slot: u32, kind: PartKind, letter: Arc<Letter>, mut r: Resolved) {
        let (query, part) = self.open_part(kind);
        let mut remote = self.take_remote(&mut r.users);
        let (remote_groups, refused) = self.take_remote_groups(&mut r.groups);
        remote.extend(remote_groups);
        r.failed.extend(refused);
        let asked_remote = remote.len();
        let users = r.users.iter().map(|u| Arc::<str>::from(u.as_str()));
        let by_shard: Vec<(usize, Vec<Arc<str>>)> = match r.users.as_slice() {
            // The usual message has one recipient: no per-shard lists to build.
            [one] => vec![(shard_index(one, self.shards), users.collect())],
            _ => split_by_owner(users, self.shards, |u| u)
                .into_iter()
                .enumerate()
                .collect(),
        };
        let mut sent = 0;
        if !remote.is_empty() {
            if self.post_remote((query, part), &letter, remote.clone()) {
                sent += 1;
            } else {
                let down = StatusCode::ServiceUnavailable;
                r.failed.extend(remote.into_iter().map(|u| (down, u)));
            }
        }
        for (shard, recipients) in by_shard {
            if recipients.is_empty() {
                continue;
            }
            sent += 1;
            let msg = ImMsg::Post {
                query,
                part,
                letter: letter.clone(),
                recipients,
            };
            self.send_im(shard, msg);
        }
        if let Some(session) = self.session_ref(slot) {
            for (group, to_screen_name) in &r.groups {
                sent += 1;
                let msg = GroupMsg::Post {
                    query,
                    part,
                    letter: letter.clone(),
                    group: Arc::from(group.as_str()),
                    to_screen_name: to_screen_name.clone(),
                    session,
                };
                let shard = self.group_shard(group);
                self.send_after_records(shard, ShardMsg::Group(msg));
            }
        }
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = sent;
            p.asked = r.users.len() + asked_remote + r.groups.len() + r.failed.len();
            p.failed = r.failed;
        }
    }

    /// `SendMessage-Request`.
    pub(crate) fn send_message(
        &mut self,
        now: Millis,
        slot: u32,
        tid: Option<&str>,
        req: &SendMessageRequest,
    ) -> SendMessageResponse {
        let fail = |code: StatusCode| SendMessageResponse {
            result: CspResult::new(code),
            message_id: None,
        };
        let Some((idx, client)) = self
            .sessions
            .get(slot)
            .map(|s| (s.user, client_hash(&s.client)))
        else {
            return fail(StatusCode::InvalidSession);
        };
        let info = &req.message_info;
        let base64 = info.content_encoding == Some(ContentEncoding::Base64);
        let Some(size) = content_size(req.content_data.as_deref(), base64) else {
            return fail(StatusCode::InvalidParameter);
        };
        if info.content_size.is_some_and(|declared| declared != size) {
            return fail(StatusCode::InvalidParameter);
        }
        if size > self.config.max_content_length {
            return fail(StatusCode::UnableToDeliver);
        }
        let Some(recipient) = &info.recipient else {
            return fail(StatusCode::InvalidParameter);
        };
        let resolved = self.resolve(idx, recipient);
        if resolved.users.len() + resolved.groups.len() > self.config.max_recipients {
            return fail(StatusCode::InvalidParameter);
        }
        let id = self.new_message_id();
        if let Some(tid) = tid.filter(|t| !t.is_empty())
            && let Some(earlier) = self
                .mailbox_mut(idx)
                .and_then(|m| m.remember_send(client, tid, &id))
        {
            // A retry: answered as the first time, delivered once.
            return SendMessageResponse {
                result: CspResult::new(StatusCode::Successful),
                message_id: Some(MessageId(earlier.to_string())),
            };
        }
        let Some(sender) = self.users.user(idx).map(|u| Arc::<str>::from(&*u.id)) else {
            return fail(StatusCode::InvalidSession);
        };
        let sent_ms = self.wall_ms(now);
        let max_validity = u64::from(self.config.max_message_validity_s);
        let validity = info
            .validity
            .map_or(max_validity, |v| u64::from(v).min(max_validity));
        let letter = Arc::new(Letter {
            id: id.clone().into_boxed_str(),
            sender,
            content_type: info
                .content_type
                .as_ref()
                .map(|t| t.0.clone().into_boxed_str()),
            base64,
            content: req.content_data.clone(),
            size,
            report: req.delivery_report == Some(true),
            sent_ms,
            expires_ms: sent_ms.saturating_add(validity * 1000),
        });
        if resolved.users.is_empty() && resolved.groups.is_empty() {
            let code = resolved
                .failed
                .first()
                .map_or(StatusCode::InvalidParameter, |f| f.0);
            return fail(code);
        }
        self.post(slot, PartKind::Send(id.clone()), letter, resolved);
        SendMessageResponse {
            result: CspResult::new(StatusCode::Successful),
            message_id: Some(MessageId(id)),
        }
    }

    /// `ForwardMessage-Request`: a waiting message goes on to others, from the forwarder;
    /// its sender is told it was forwarded (541).
    pub(crate) fn forward_message(
        &mut self,
        now: Millis,
        slot: u32,
        req: &ForwardMessageRequest,
    ) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let resolved = self.resolve(idx, &req.recipient);
        if resolved.users.is_empty() && resolved.groups.is_empty() {
            return resolved
                .failed
                .first()
                .map_or(StatusCode::InvalidParameter, |f| f.0);
        }
        let Some(me) = self.users.user(idx).map(|u| u.id.to_string()) else {
            return StatusCode::InvalidSession;
        };
        let Some(original) = self.remove_letter(idx, req.message_id.as_str()) else {
            return StatusCode::InvalidMessageId;
        };
        self.report(&original, &me, StatusCode::MessageForwarded, None);
        let sent_ms = self.wall_ms(now);
        let letter = Arc::new(Letter {
            id: self.new_message_id().into_boxed_str(),
            sender: Arc::from(me.as_str()),
            content_type: original.content_type.clone(),
            base64: original.base64,
            content: original.content.clone(),
            size: original.size,
            report: false,
            sent_ms,
            expires_ms: original.expires_ms.max(sent_ms),
        });
        self.post(slot, PartKind::Forward, letter, resolved);
        StatusCode::Successful
    }

    /// A recipient shard answered a Post.
    pub(crate) fn handle_posted(
        &mut self,
        query: u64,
        part: u32,
        results: Vec<(Arc<str>, StatusCode)>,
    ) {
        if query == 0 {
            return;
        }
        if let Some(p) = self.part_mut(query, part) {
            for (user, code) in results {
                if code != StatusCode::Successful {
                    p.failed.push((code, user.to_string()));
                }
            }
            p.waiting = p.waiting.saturating_sub(1);
        }
        self.part_answered(query);
    }
}
