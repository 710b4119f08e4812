//! The invitee's shard: invitations received (stored, queued to the invitee's sessions or
//! kept for their next login), the InviteUser-Response (a PR acceptance grants presence,
//! durably), and cancellations.

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::common::UrlList;
use imps_protocol::primitives::{
    InviteType, InviteUserRequest, InviteUserResponse, PresenceAuthUser,
};
use imps_protocol::types::UserId;

use super::stored::{notice_primitive, received_record, urls_of};
use super::{InviteMsg, MAX_RECEIVED};
use crate::core::Millis;
use crate::record::{InvitationCancelRecord, InvitationNoticeRecord, Record};
use crate::shard::{Shard, ShardMsg};

impl Shard {
    /// Takes an invitation for one invitee of this shard, durably: 200, or why not (531
    /// unknown, 532 the invitee blocks the inviter, 507 too many open invitations).
    pub(super) fn receive(
        &mut self,
        inviter: &Arc<str>,
        invitation: &Arc<InviteUserRequest>,
        expires_ms: u64,
        invitee: &Arc<str>,
    ) -> StatusCode {
        let Some(idx) = self.users.find(invitee) else {
            return StatusCode::UnknownUser;
        };
        if !self.im_allows(idx, inviter) {
            return StatusCode::RecipientBlockedSender;
        }
        let id = invitation.invite_id.as_str().trim();
        let received = self
            .invitations
            .of(invitee)
            .map_or(&[][..], |b| &b.received[..]);
        let replaces = received
            .iter()
            .any(|r| r.inviter == *inviter && r.invitation.invite_id.as_str().trim() == id);
        if !replaces && received.len() >= MAX_RECEIVED {
            return StatusCode::MessageQueueFull;
        }
        let online = self.users.user(idx).is_some_and(|u| !u.sessions.is_empty());
        let record = Box::new(received_record(inviter, invitation, expires_ms, online));
        if !self.record_invitation(Record::InvitationReceived(invitee.to_string(), record)) {
            return StatusCode::ServerError;
        }
        self.queue_to_user(invitee, &(**invitation).clone().into());
        StatusCode::Successful
    }

    /// `InviteUser-Response` (as a request, or as the answer to the server's
    /// InviteUser-Request): 423 unless it names an open invitation of the user. The answer
    /// (and for an accepted PR the grant) is on disk before it is acknowledged and before
    /// the inviter's shard hears of it.
    pub(crate) fn invite_user_response(&mut self, slot: u32, r: &InviteUserResponse) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let Some(invitee) = self.users.user(idx).map(|u| Arc::<str>::from(&*u.id)) else {
            return StatusCode::InvalidSession;
        };
        let domain = &self.config.domain;
        let from = r
            .sender
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .and_then(|u| u.user_id.normalize(domain).ok());
        let id = r.invite_id.as_str().trim();
        let Some(received) = self.invitations.of(&invitee).and_then(|b| {
            b.received.iter().find(|x| {
                x.invitation.invite_id.as_str().trim() == id
                    && from.as_deref().is_none_or(|f| *x.inviter == *f)
            })
        }) else {
            return StatusCode::InvalidInvitationId;
        };
        let inviter = received.inviter.clone();
        let invitation = received.invitation.clone();
        if r.acceptance && invitation.invite_type == InviteType::Presence {
            let grant = PresenceAuthUser {
                user_id: UserId(inviter.to_string()),
                acceptance: true,
                sub_list: invitation.sub_list.clone(),
            };
            let code = self.presence_auth_user(idx, &grant);
            if code != StatusCode::Successful {
                return code;
            }
        }
        let closed = Record::InvitationClosed(invitee.to_string(), inviter.to_string(), id.into());
        if !self.record_invitation(closed) {
            return StatusCode::ServerError;
        }
        if self.is_remote_user(&inviter) {
            self.answer_remote(&inviter, &invitee, id, r.acceptance, r.note.clone());
            return StatusCode::Successful;
        }
        let msg = InviteMsg::Answered {
            inviter: inviter.clone(),
            invitee,
            invite_id: id.into(),
            acceptance: r.acceptance,
            note: r.note.clone(),
        };
        let shard = self.user_shard(&inviter);
        self.send_after_records(shard, ShardMsg::Invite(msg));
        StatusCode::Successful
    }

    /// The inviter cancelled: the invitation goes, and an invitee who may have seen it is
    /// told (now, or at their next login).
    pub(super) fn cancelled(
        &mut self,
        inviter: &Arc<str>,
        invite_id: &str,
        invitee: &Arc<str>,
        note: Option<String>,
        url_list: Option<UrlList>,
    ) {
        let Some(received) = self.invitations.of(invitee).and_then(|b| {
            b.received.iter().find(|x| {
                x.inviter == *inviter && x.invitation.invite_id.as_str().trim() == invite_id
            })
        }) else {
            return;
        };
        let (seen, written_id) = (received.seen, received.invitation.invite_id.0.clone());
        let closed = Record::InvitationClosed(
            invitee.to_string(),
            inviter.to_string(),
            invite_id.to_owned(),
        );
        if !self.record_invitation(closed) {
            return;
        }
        // Never delivered: the invitee need not hear of it.
        if seen {
            let notice = InvitationNoticeRecord::Cancel(InvitationCancelRecord {
                invite_id: written_id,
                inviter: inviter.to_string(),
                note,
                urls: urls_of(url_list.as_ref()),
            });
            self.tell(invitee, notice);
        }
    }

    /// A new session: the invitations still open (with the validity left) and the answers
    /// and cancellations held for the user. When that shows something new, it is recorded
    /// (the invitations are seen, the notices gone).
    pub(crate) fn deliver_pending_invitations(&mut self, now: Millis, slot: u32) {
        let wall = self.wall_ms(now);
        let Some(user) = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
            .map(|u| Arc::<str>::from(&*u.id))
        else {
            return;
        };
        let Some(b) = self.invitations.of(&user) else {
            return;
        };
        let mut out: Vec<imps_protocol::Primitive> = Vec::new();
        let mut news = !b.held.is_empty();
        for r in b.received.iter().filter(|r| r.expires_ms > wall) {
            news |= !r.seen;
            let mut invitation = (*r.invitation).clone();
            let left = r.expires_ms.saturating_sub(wall).div_ceil(1000);
            invitation.validity = Some(u32::try_from(left).unwrap_or(u32::MAX));
            out.push(invitation.into());
        }
        out.extend(b.held.iter().map(notice_primitive));
        if news {
            // Not encodable: nothing recorded, the same is shown again at the next login.
            self.record_invitation(Record::InvitationsDelivered(user.to_string()));
        }
        for p in out {
            self.queue_to(slot, p);
        }
    }
}
