//! The inviter's shard: Invite-Request (checked, stored, delivered to each invitee's shard,
//! answered once every shard reported and the record is on disk), CancelInvite-Request, and
//! the invitees' answers going to the inviter's sessions as Invite-Response.

use std::sync::Arc;

use hashbrown::HashSet;
use imps_protocol::StatusCode;
use imps_protocol::common::{Recipient, Sender, User};
use imps_protocol::primitives::InviteUserRequest;
use imps_protocol::primitives::{CancelInviteRequest, InviteRequest, InviteType};
use imps_protocol::types::{ContactListId, UserId};

use super::{DEFAULT_VALIDITY_S, InviteMsg, MAX_SENT, MAX_VALIDITY_S};
use crate::core::Millis;
use crate::record::{InvitationAnswerRecord, InvitationNoticeRecord, Record, SentInvitationRecord};
use crate::routing::split_by_owner;
use crate::shard::{PartKind, Shard, ShardMsg};
use crate::users::UserIdx;

/// A `Sender` naming a user.
pub(super) fn sender(user: &str) -> Sender {
    Sender {
        user: Some(User {
            user_id: UserId(user.to_owned()),
            client_id: None,
            friendly_name: None,
        }),
        group: None,
    }
}

/// The type-specific checks: GR names a group, SC shares at least one URL.
fn check_type(req: &InviteRequest) -> Result<(), StatusCode> {
    match req.invite_type {
        InviteType::Group if req.group_id.is_none() => Err(StatusCode::InvalidParameter),
        InviteType::SharedContent if req.url_list.as_ref().is_none_or(|l| l.urls.is_empty()) => {
            Err(StatusCode::InvalidParameter)
        }
        InviteType::Group | InviteType::SharedContent | InviteType::Presence | InviteType::Im => {
            Ok(())
        }
        _ => Err(StatusCode::InvalidParameter),
    }
}

impl Shard {
    /// The users a Recipient names (users, and members of the owner's contact lists),
    /// without `idx` itself; and those that cannot be invited, with why.
    fn invitees_of(&self, idx: UserIdx, r: &Recipient) -> (Vec<String>, Vec<(StatusCode, String)>) {
        let domain = &self.config.domain;
        let Some(owner) = self.users.user(idx) else {
            return (Vec::new(), Vec::new());
        };
        let mut users: Vec<String> = Vec::new();
        let mut failed = Vec::new();
        for u in &r.users {
            match u.user_id.normalize(domain) {
                Ok(id) => users.push(id),
                Err(_) => failed.push((StatusCode::UnknownUser, u.user_id.0.clone())),
            }
        }
        for l in &r.contact_lists {
            let wanted = l.normalize(domain).ok();
            let list = owner.contact_lists.iter().find(|c| {
                wanted.is_some()
                    && ContactListId::from(c.id.as_str()).normalize(domain).ok() == wanted
            });
            match list {
                Some(list) => users.extend(list.contacts.iter().map(|c| c.user.clone())),
                None => failed.push((StatusCode::ContactListMissing, l.0.clone())),
            }
        }
        for g in &r.groups {
            let name = g.group_id.as_ref().map(|g| g.0.clone()).unwrap_or_default();
            failed.push((StatusCode::InvalidParameter, name));
        }
        users.sort_unstable();
        users.dedup();
        users.retain(|u| **u != *owner.id);
        (users, failed)
    }

    /// `Invite-Request`: 200 once every invitee's shard has it (per-invitee failures in
    /// the detailed result); 402 for a malformed invitation, 423 for an InviteID already
    /// open, 507 beyond [`MAX_SENT`] open invitations.
    pub(crate) fn invite(&mut self, now: Millis, slot: u32, req: &InviteRequest) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let Some(inviter) = self.users.user(idx).map(|u| Arc::<str>::from(&*u.id)) else {
            return StatusCode::InvalidSession;
        };
        if let Err(code) = check_type(req) {
            return code;
        }
        let id = req.invite_id.as_str().trim();
        if id.is_empty() {
            return StatusCode::InvalidParameter;
        }
        let open = self
            .invitations
            .of(&inviter)
            .map_or(&[][..], |b| &b.sent[..]);
        if open.iter().any(|s| *s.id == *id) {
            return StatusCode::InvalidInvitationId;
        }
        if open.len() >= MAX_SENT {
            return StatusCode::MessageQueueFull;
        }
        let (invitees, failed) = self.invitees_of(idx, &req.recipient);
        if invitees.is_empty() {
            return failed.first().map_or(StatusCode::InvalidParameter, |f| f.0);
        }
        if invitees.len() > self.config.max_recipients {
            return StatusCode::InvalidParameter;
        }
        let validity = match req.validity {
            Some(0) | None => DEFAULT_VALIDITY_S,
            Some(v) => v.min(MAX_VALIDITY_S),
        };
        let sent_ms = self.wall_ms(now);
        let expires_ms = sent_ms.saturating_add(u64::from(validity) * 1000);
        let invitation = Arc::new(InviteUserRequest {
            invite_id: req.invite_id.clone(),
            invite_type: req.invite_type.clone(),
            sender: sender(&inviter),
            group_id: req.group_id.clone(),
            sub_list: req.sub_list.clone(),
            url_list: req.url_list.clone(),
            note: req.note.clone(),
            validity: Some(validity),
        });
        let invitee_ids: Vec<Arc<str>> = invitees.iter().map(|u| Arc::from(u.as_str())).collect();
        let record = SentInvitationRecord {
            id: id.to_owned(),
            invitees,
            sent_ms,
            expires_ms,
        };
        if !self.record_invitation(Record::InvitationSent(inviter.to_string(), record)) {
            return StatusCode::ServerError;
        }
        let invitees = invitee_ids;
        let (query, part) = self.open_part(PartKind::Invite);
        let (remote, local): (Vec<Arc<str>>, Vec<Arc<str>>) = invitees
            .iter()
            .cloned()
            .partition(|u| self.is_remote_user(u));
        let asked = invitees.len() + failed.len();
        let (mut sent, mut failed) = (0, failed);
        if !remote.is_empty() {
            let (handed, lost) = self.invite_remote((query, part), &inviter, &invitation, &remote);
            sent += handed;
            failed.extend(lost);
        }
        let by_shard = split_by_owner(local, self.shards, |u| u);
        for (shard, invitees) in by_shard.into_iter().enumerate() {
            if invitees.is_empty() {
                continue;
            }
            sent += 1;
            let msg = InviteMsg::Deliver {
                query,
                part,
                inviter: inviter.clone(),
                invitation: invitation.clone(),
                expires_ms,
                invitees,
            };
            self.send_after_records(shard, ShardMsg::Invite(msg));
        }
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = sent;
            p.asked = asked;
            p.failed = failed;
        }
        StatusCode::Successful
    }

    /// The invitees' shards reported: those who did not get it are no longer waited for.
    pub(super) fn handle_delivered(
        &mut self,
        (query, part): (u64, u32),
        inviter: &Arc<str>,
        invite_id: &str,
        results: Vec<(Arc<str>, StatusCode)>,
    ) {
        let failed: Vec<String> = results
            .iter()
            .filter(|(_, code)| *code != StatusCode::Successful)
            .map(|(u, _)| u.to_string())
            .collect();
        if self.waits_for(inviter, invite_id, &failed) {
            // Not encodable: they stay waited for until the invitation expires.
            let done = Record::InviteesDone(inviter.to_string(), invite_id.to_owned(), failed);
            self.record_invitation(done);
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

    /// An invitee answered: the inviter's sessions get an Invite-Response.
    pub(super) fn handle_answered(
        &mut self,
        inviter: &Arc<str>,
        invitee: &Arc<str>,
        invite_id: &str,
        acceptance: bool,
        note: Option<String>,
    ) {
        let invitees = vec![invitee.to_string()];
        if !self.waits_for(inviter, invite_id, &invitees) {
            return;
        }
        let done = Record::InviteesDone(inviter.to_string(), invite_id.to_owned(), invitees);
        if !self.record_invitation(done) {
            return;
        }
        let notice = InvitationNoticeRecord::Answer(InvitationAnswerRecord {
            invite_id: invite_id.to_owned(),
            invitee: invitee.to_string(),
            acceptance,
            note,
        });
        self.tell(inviter, notice);
    }

    /// True when `inviter`'s open invitation `invite_id` waits for one of `invitees`.
    pub(super) fn waits_for(&self, inviter: &str, invite_id: &str, invitees: &[String]) -> bool {
        let asked: HashSet<&str> = invitees.iter().map(String::as_str).collect();
        self.invitations.of(inviter).is_some_and(|b| {
            b.sent
                .iter()
                .any(|s| *s.id == *invite_id && s.invitees.iter().any(|u| asked.contains(&**u)))
        })
    }

    /// `CancelInvite-Request`: 423 unless the InviteID names an open invitation of the
    /// user; the invitees named (every open one when none is) are told.
    pub(crate) fn cancel_invite(&mut self, slot: u32, req: &CancelInviteRequest) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let Some(inviter) = self.users.user(idx).map(|u| Arc::<str>::from(&*u.id)) else {
            return StatusCode::InvalidSession;
        };
        let named = req.recipient.as_ref().map(|r| self.invitees_of(idx, r).0);
        let id = req.invite_id.as_str().trim();
        let Some(s) = self
            .invitations
            .of(&inviter)
            .and_then(|b| b.sent.iter().find(|s| *s.id == *id))
        else {
            return StatusCode::InvalidInvitationId;
        };
        let gone: Vec<Arc<str>> = s
            .invitees
            .iter()
            .filter(|u| named.as_ref().is_none_or(|n| n.iter().any(|x| **x == ***u)))
            .cloned()
            .collect();
        if !gone.is_empty() {
            let names = gone.iter().map(|u| u.to_string()).collect();
            let done = Record::InviteesDone(inviter.to_string(), id.to_owned(), names);
            if !self.record_invitation(done) {
                return StatusCode::ServerError;
            }
        }
        let (remote, gone): (Vec<Arc<str>>, Vec<Arc<str>>) =
            gone.into_iter().partition(|u| self.is_remote_user(u));
        self.cancel_remote(&inviter, id, &remote, req.note.as_ref());
        let mut by_shard: Vec<Vec<Arc<str>>> = vec![Vec::new(); self.shards];
        for u in gone {
            if let Some(b) = by_shard.get_mut(self.user_shard(&u)) {
                b.push(u);
            }
        }
        for (shard, invitees) in by_shard.into_iter().enumerate() {
            if invitees.is_empty() {
                continue;
            }
            let msg = InviteMsg::Cancel {
                inviter: inviter.clone(),
                invite_id: id.into(),
                invitees,
                note: req.note.clone(),
                url_list: req.url_list.clone(),
            };
            self.send_after_records(shard, ShardMsg::Invite(msg));
        }
        StatusCode::Successful
    }
}
