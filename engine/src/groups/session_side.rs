//! The user's shard: group requests go to the group's shard and their answers come back in
//! place of the transaction; notices and group messages for this shard's sessions are
//! queued to their outboxes; an ending session leaves its groups.

use std::sync::Arc;

use imps_protocol::common::{Group, Recipient, ScreenName, Sender};
use imps_protocol::primitives::{MessageNotification, NewMessage};
use imps_protocol::types::{GroupId, ScreenNameText};
use imps_protocol::{Primitive, StatusCode, Version};

use super::mesh::GroupMsg;
use crate::access::outbox::Outgoing;
use crate::im::mailbox::Letter;
use crate::presence::publication::SessionRef;
use crate::routing::{shard_index, split_by_owner};
use crate::shard::{PartKind, Shard, ShardMsg};
use crate::users::UserIdx;

impl Shard {
    /// The shard that owns a normalized group ID.
    pub(crate) fn group_shard(&self, group: &str) -> usize {
        shard_index(group, self.shards)
    }

    /// Sends a group request to the group's shard; the answer replaces the transaction.
    /// `Some(code)` when it cannot be sent.
    pub(crate) fn forward_group_request(
        &mut self,
        slot: u32,
        version: Version,
        group: &GroupId,
        request: Primitive,
    ) -> Option<StatusCode> {
        let Ok(group) = group.normalize(&self.config.domain) else {
            return Some(StatusCode::GroupMissing);
        };
        if self.is_remote_group(&group) {
            return self.forward_remote_group_request(slot, group, &request);
        }
        let session = self.session_ref(slot)?;
        let user: Arc<str> = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
            .map(|u| Arc::from(&*u.id))?;
        let (query, part) = self.open_part(PartKind::Remote);
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = 1;
            p.asked = 1;
        }
        let shard = self.group_shard(&group);
        let msg = GroupMsg::Request {
            query,
            part,
            session,
            user,
            version,
            group: Arc::from(group),
            request: Box::new(request),
        };
        self.send_after_records(shard, ShardMsg::Group(msg));
        None
    }

    /// The group's shard answered.
    pub(crate) fn handle_group_answer(
        &mut self,
        query: u64,
        part: u32,
        session: SessionRef,
        content: Primitive,
        membership: Option<(Arc<str>, bool)>,
    ) {
        if let Some((group, joined)) = membership {
            self.note_membership(session, &group, joined);
        }
        if let Some(p) = self.part_mut(query, part) {
            p.remote = Some(content);
            p.waiting = 0;
        }
        self.part_answered(query);
    }

    pub(super) fn note_membership(&mut self, session: SessionRef, group: &Arc<str>, joined: bool) {
        let Some(slot) = self.slot_of(session) else {
            if joined {
                // The session ended meanwhile: leave again.
                let shard = self.group_shard(group);
                let msg = GroupMsg::SessionEnded {
                    session,
                    groups: vec![group.clone()],
                };
                self.send_after_records(shard, ShardMsg::Group(msg));
            }
            return;
        };
        if let Some(s) = self.sessions.get_mut(slot) {
            s.groups.retain(|g| g != group);
            if joined {
                s.groups.push(group.clone());
            }
        }
        if !joined {
            self.group_mail.left(session, group);
        }
    }

    /// Server-originated primitives from a group for sessions of this shard.
    pub(crate) fn handle_group_notify(
        &mut self,
        to: &[SessionRef],
        primitive: &Arc<Primitive>,
        left: Option<&Arc<str>>,
    ) {
        for &r in to {
            let Some(slot) = self.slot_of(r) else {
                continue;
            };
            if let Some(group) = left {
                self.note_membership(r, group, false);
            }
            self.queue_to(slot, (**primitive).clone());
        }
    }

    /// Queues a server-originated primitive to a session and wakes it.
    pub(crate) fn queue_to(&mut self, slot: u32, primitive: Primitive) {
        let id = self.txn_id();
        let limit = self.config.outbox_limit;
        if let Some(s) = self.sessions.get_mut(slot)
            && s.outbox.push(Outgoing { id, primitive }, limit).is_ok()
        {
            self.wake(slot);
        }
    }

    /// A group message for joined sessions of this shard: pushed to sessions that take
    /// pushes (for this group, and of this type and size), announced and kept for the
    /// others until they fetch it (see [`super::mail`]).
    pub(crate) fn handle_group_deliver(
        &mut self,
        letter: &Letter,
        group: &str,
        screen_name: Option<&str>,
        to: &[SessionRef],
    ) {
        let message = Arc::new(group_message(letter, group, screen_name));
        let group_key: Arc<str> = Arc::from(group);
        let limit = self.config.max_waiting_messages;
        for &r in to {
            let Some(slot) = self.slot_of(r) else {
                continue;
            };
            let Some(s) = self.sessions.get(slot) else {
                continue;
            };
            let (idx, caps) = (s.user, s.caps.as_deref());
            let push = self
                .group_mail
                .method(r, group)
                .unwrap_or_else(|| caps.is_none_or(|c| c.push))
                && crate::im::deliver::pushable(caps, letter);
            if !self.im_allows_in_group(idx, &letter.sender, group, screen_name) {
                continue;
            }
            if push {
                self.queue_to(slot, (*message).clone().into());
            } else {
                self.group_mail
                    .keep(r, group_key.clone(), message.clone(), limit);
                let info = message.message_info.clone();
                self.queue_to(slot, MessageNotification { message_info: info }.into());
            }
        }
    }

    /// A session of `user` ends: the groups it joined forget it (those of other domains
    /// when no other session of the user is in them).
    pub(crate) fn groups_session_ended(
        &mut self,
        session: SessionRef,
        user: UserIdx,
        groups: &[Arc<str>],
    ) {
        self.group_mail.ended(session);
        let (remote, local): (Vec<Arc<str>>, Vec<Arc<str>>) = groups
            .iter()
            .cloned()
            .partition(|g| self.is_remote_group(g));
        self.leave_remote_groups(user, &remote);
        let by_shard = split_by_owner(local, self.shards, |g| g);
        for (shard, groups) in by_shard.into_iter().enumerate() {
            if !groups.is_empty() {
                let msg = GroupMsg::SessionEnded { session, groups };
                self.send_after_records(shard, ShardMsg::Group(msg));
            }
        }
    }
}

/// A group message as every joined user gets it: to the group, from the sender's screen
/// name when they used one.
fn group_message(letter: &Letter, group: &str, screen_name: Option<&str>) -> NewMessage {
    let mut info = letter.info(None);
    info.recipient = Some(Recipient {
        groups: vec![Group {
            group_id: Some(GroupId(group.to_owned())),
            screen_name: None,
        }],
        ..Recipient::default()
    });
    if let Some(sname) = screen_name {
        info.sender = Some(Sender {
            user: None,
            group: Some(Group {
                group_id: None,
                screen_name: Some(ScreenName {
                    sname: ScreenNameText(sname.to_owned()),
                    group_id: GroupId(group.to_owned()),
                }),
            }),
        });
    }
    NewMessage {
        message_info: info,
        content_data: letter.content.clone(),
    }
}
