//! Invitation state as the log and snapshots hold it. Every change is a [`Record`] applied
//! the same way at run time (after it is appended) and at replay, so what a restart
//! rebuilds is what was acknowledged:
//!
//! ```text
//!   inviter's shard                           invitee's shard
//!   InvitationSent      Invite-Request        InvitationReceived    Deliver (before Delivered)
//!   InviteesDone        not delivered,        InvitationClosed      answered, cancelled
//!                       answered, cancelled   InvitationsDelivered  shown at login
//!   InvitationNoticeHeld  an answer (inviter) or a cancellation (invitee) for an offline user
//!   expiry: no record; the expiry time is stored and replay drops what had expired
//! ```
//!
//! Bounded as at run time: [`MAX_SENT`] and [`MAX_RECEIVED`] open invitations and
//! [`MAX_HELD`] notices per user.
//!
//! Answers and cancellations cross shards once the sender's record is durable, but the
//! receiving shard does not confirm them: one that shard loses in a crash (before its own
//! record is durable) is not sent again.

use std::sync::Arc;

use hashbrown::HashSet;
use imps_protocol::Primitive;
use imps_protocol::common::UrlList;
use imps_protocol::node::Value;
use imps_protocol::primitives::{
    CancelInviteUserRequest, InviteResponse, InviteType, InviteUserRequest, PresenceSubList,
};
use imps_protocol::types::{GroupId, InviteId, Url};

use super::inviter::sender;
use super::{Invitations, MAX_HELD, MAX_RECEIVED, MAX_SENT, Received, Sent};
use crate::record::{
    InvitationAnswerRecord, InvitationCancelRecord, InvitationNoticeRecord,
    ReceivedInvitationRecord, Record, SentInvitationRecord,
};
use crate::shard::Shard;

/// The URLs of a list, as stored.
pub(super) fn urls_of(list: Option<&UrlList>) -> Option<Vec<String>> {
    list.map(|l| l.urls.iter().map(|u| u.0.clone()).collect())
}

fn url_list(urls: Option<&Vec<String>>) -> Option<UrlList> {
    urls.map(|u| UrlList {
        urls: u.iter().cloned().map(Url).collect(),
    })
}

/// The stored form of an invitation received from `inviter`.
pub(super) fn received_record(
    inviter: &str,
    invitation: &InviteUserRequest,
    expires_ms: u64,
    seen: bool,
) -> ReceivedInvitationRecord {
    ReceivedInvitationRecord {
        inviter: inviter.to_owned(),
        invite_id: invitation.invite_id.0.clone(),
        invite_type: invitation.invite_type.as_str().to_owned(),
        group_id: invitation.group_id.as_ref().map(|g| g.0.clone()),
        attributes: invitation
            .sub_list
            .as_ref()
            .map(|l| l.names().into_iter().map(str::to_owned).collect()),
        urls: urls_of(invitation.url_list.as_ref()),
        note: invitation.note.clone(),
        validity_s: invitation.validity.unwrap_or(0),
        expires_ms,
        seen,
    }
}

/// The InviteUser-Request a stored invitation stands for (its validity as sent).
fn invitation_of(r: &ReceivedInvitationRecord) -> InviteUserRequest {
    InviteUserRequest {
        invite_id: InviteId(r.invite_id.clone()),
        invite_type: InviteType::parse(r.invite_type.as_str().into()).unwrap_or_default(),
        sender: sender(&r.inviter),
        group_id: r.group_id.clone().map(GroupId),
        sub_list: r
            .attributes
            .as_ref()
            .map(|a| PresenceSubList::naming(a.iter().map(String::as_str))),
        url_list: url_list(r.urls.as_ref()),
        note: r.note.clone(),
        validity: Some(r.validity_s),
    }
}

/// What a held notice tells its user.
pub(super) fn notice_primitive(notice: &InvitationNoticeRecord) -> Primitive {
    match notice {
        InvitationNoticeRecord::Answer(InvitationAnswerRecord {
            invite_id,
            invitee,
            acceptance,
            note,
        }) => InviteResponse {
            invite_id: InviteId(invite_id.clone()),
            acceptance: *acceptance,
            sender: Some(sender(invitee)),
            note: note.clone(),
        }
        .into(),
        InvitationNoticeRecord::Cancel(InvitationCancelRecord {
            invite_id,
            inviter,
            note,
            urls,
        }) => CancelInviteUserRequest {
            invite_id: InviteId(invite_id.clone()),
            sender: sender(inviter),
            note: note.clone(),
            url_list: url_list(urls.as_ref()),
        }
        .into(),
    }
}

impl Invitations {
    /// Every open invitation sent, as stored.
    pub(crate) fn sent_records(&self) -> Vec<(String, SentInvitationRecord)> {
        let mut out = Vec::new();
        for (user, b) in &self.by_user {
            for s in &b.sent {
                let record = SentInvitationRecord {
                    id: s.id.to_string(),
                    invitees: s.invitees.iter().map(|u| u.to_string()).collect(),
                    sent_ms: s.sent_ms,
                    expires_ms: s.expires_ms,
                };
                out.push((user.to_string(), record));
            }
        }
        out
    }

    /// Every open invitation received, as stored.
    pub(crate) fn received_records(&self) -> Vec<(String, ReceivedInvitationRecord)> {
        let mut out = Vec::new();
        for (user, b) in &self.by_user {
            for r in &b.received {
                let record = received_record(&r.inviter, &r.invitation, r.expires_ms, r.seen);
                out.push((user.to_string(), record));
            }
        }
        out
    }

    /// Every notice held, oldest first per user.
    pub(crate) fn notice_records(&self) -> Vec<(String, InvitationNoticeRecord)> {
        let mut out = Vec::new();
        for (user, b) in &self.by_user {
            out.extend(b.held.iter().map(|n| (user.to_string(), n.clone())));
        }
        out
    }
}

impl Shard {
    /// Appends an invitation record and applies it; `false` when it cannot be encoded
    /// (nothing changed).
    pub(super) fn record_invitation(&mut self, record: Record) -> bool {
        if self.append_record(&record).is_err() {
            return false;
        }
        self.apply(record);
        true
    }

    /// A sent invitation (replacing one with the same InviteID). Those that had expired
    /// when it was sent go (replay holds no more than a running shard would).
    pub(crate) fn store_sent_invitation(&mut self, inviter: &str, r: SentInvitationRecord) {
        let user: Arc<str> = Arc::from(inviter);
        let b = self.invitations.of_mut(&user);
        b.sent
            .retain(|s| s.expires_ms > r.sent_ms && *s.id != *r.id.as_str());
        if b.sent.len() >= MAX_SENT {
            b.sent.remove(0);
        }
        b.sent.push(Sent {
            id: r.id.into(),
            invitees: r.invitees.into_iter().map(Arc::from).collect(),
            sent_ms: r.sent_ms,
            expires_ms: r.expires_ms,
        });
        self.invitations.expire_at(r.expires_ms, &user);
    }

    /// Invitees of `inviter`'s invitation `id` no longer waited for; the invitation goes
    /// with the last of them.
    pub(crate) fn drop_invitees(&mut self, inviter: &str, id: &str, invitees: &[String]) {
        let done: HashSet<&str> = invitees.iter().map(String::as_str).collect();
        if let Some(b) = self.invitations.by_user.get_mut(inviter) {
            for s in b.sent.iter_mut().filter(|s| *s.id == *id) {
                s.invitees.retain(|u| !done.contains(&**u));
            }
            b.sent.retain(|s| !s.invitees.is_empty());
        }
        self.invitations.tidy(inviter);
    }

    /// A received invitation (replacing one of the same inviter and InviteID). Those that
    /// had expired when it was sent go.
    pub(crate) fn store_received_invitation(&mut self, invitee: &str, r: ReceivedInvitationRecord) {
        let user: Arc<str> = Arc::from(invitee);
        let sent_at = r
            .expires_ms
            .saturating_sub(u64::from(r.validity_s).saturating_mul(1000));
        let invitation = Arc::new(invitation_of(&r));
        let id = r.invite_id.trim();
        let b = self.invitations.of_mut(&user);
        b.received.retain(|x| {
            x.expires_ms > sent_at
                && !(*x.inviter == *r.inviter && x.invitation.invite_id.as_str().trim() == id)
        });
        if b.received.len() >= MAX_RECEIVED {
            b.received.remove(0);
        }
        b.received.push(Received {
            inviter: Arc::from(r.inviter.as_str()),
            invitation,
            expires_ms: r.expires_ms,
            seen: r.seen,
        });
        self.invitations.expire_at(r.expires_ms, &user);
    }

    /// Drops `invitee`'s invitation `id` from `inviter` (answered or cancelled).
    pub(crate) fn close_received_invitation(&mut self, invitee: &str, inviter: &str, id: &str) {
        if let Some(b) = self.invitations.by_user.get_mut(invitee) {
            b.received.retain(|x| {
                !(*x.inviter == *inviter && x.invitation.invite_id.as_str().trim() == id)
            });
        }
        self.invitations.tidy(invitee);
    }

    /// Holds a notice for `user`'s next login (the oldest goes beyond [`MAX_HELD`]). Only
    /// for existing users: a removed user's notices are not kept.
    pub(crate) fn hold_invitation_notice(&mut self, user: &str, notice: InvitationNoticeRecord) {
        if self.users.find(user).is_none() {
            return;
        }
        let held = &mut self.invitations.of_mut(&Arc::from(user)).held;
        if held.len() >= MAX_HELD {
            held.pop_front();
        }
        held.push_back(notice);
    }

    /// A session of `user` got every open invitation and every notice: the invitations are
    /// seen, the notices gone.
    pub(crate) fn invitations_delivered(&mut self, user: &str) {
        if let Some(b) = self.invitations.by_user.get_mut(user) {
            for r in &mut b.received {
                r.seen = true;
            }
            b.held.clear();
        }
        self.invitations.tidy(user);
    }
}
