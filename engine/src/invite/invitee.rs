//! The invitee's shard: invitations received (queued to the invitee's sessions, or kept for
//! their next login), the InviteUser-Response (a PR acceptance grants presence, durably),
//! and cancellations.

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::common::UrlList;
use imps_protocol::primitives::{
    CancelInviteUserRequest, InviteType, InviteUserRequest, InviteUserResponse, PresenceAuthUser,
};
use imps_protocol::types::UserId;

use super::inviter::sender;
use super::{InviteMsg, MAX_RECEIVED, Received};
use crate::core::Millis;
use crate::shard::{Shard, ShardMsg};

impl Shard {
    /// Takes an invitation for one invitee of this shard: 200, or why not (531 unknown,
    /// 532 the invitee blocks the inviter, 507 too many open invitations).
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
        let b = self.invitations.of_mut(invitee);
        b.received
            .retain(|r| !(r.inviter == *inviter && r.invitation.invite_id.as_str().trim() == id));
        if b.received.len() >= MAX_RECEIVED {
            self.invitations.tidy(invitee);
            return StatusCode::MessageQueueFull;
        }
        let seen = self.queue_to_user(invitee, &(**invitation).clone().into());
        self.invitations.of_mut(invitee).received.push(Received {
            inviter: inviter.clone(),
            invitation: invitation.clone(),
            expires_ms,
            seen,
        });
        self.invitations.expire_at(expires_ms, invitee);
        StatusCode::Successful
    }

    /// `InviteUser-Response` (as a request, or as the answer to the server's
    /// InviteUser-Request): 423 unless it names an open invitation of the user.
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
        let Some(b) = self.invitations.by_user.get_mut(&invitee) else {
            return StatusCode::InvalidInvitationId;
        };
        let Some(i) = b.received.iter().position(|x| {
            x.invitation.invite_id.as_str().trim() == id
                && from.as_deref().is_none_or(|f| *x.inviter == *f)
        }) else {
            return StatusCode::InvalidInvitationId;
        };
        let received = b.received.remove(i);
        self.invitations.tidy(&invitee);
        if r.acceptance && received.invitation.invite_type == InviteType::Presence {
            let grant = PresenceAuthUser {
                user_id: UserId(received.inviter.to_string()),
                acceptance: true,
                sub_list: received.invitation.sub_list.clone(),
            };
            let code = self.presence_auth_user(idx, &grant);
            if code != StatusCode::Successful {
                return code;
            }
        }
        let msg = InviteMsg::Answered {
            inviter: received.inviter.clone(),
            invitee,
            invite_id: id.into(),
            acceptance: r.acceptance,
            note: r.note.clone(),
        };
        let shard = self.user_shard(&received.inviter);
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
        let Some(b) = self.invitations.by_user.get_mut(invitee) else {
            return;
        };
        let Some(i) = b.received.iter().position(|x| {
            x.inviter == *inviter && x.invitation.invite_id.as_str().trim() == invite_id
        }) else {
            return;
        };
        let received = b.received.remove(i);
        let cancel = CancelInviteUserRequest {
            invite_id: received.invitation.invite_id.clone(),
            sender: sender(inviter),
            note,
            url_list,
        };
        // Never delivered: the invitee need not hear of it.
        if received.seen {
            self.tell(invitee, cancel.into());
        }
        self.invitations.tidy(invitee);
    }

    /// A new session: the invitations still open (with the validity left) and the answers
    /// and cancellations held for the user.
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
        let Some(b) = self.invitations.by_user.get_mut(&user) else {
            return;
        };
        let mut out: Vec<imps_protocol::Primitive> = Vec::new();
        for r in b.received.iter_mut().filter(|r| r.expires_ms > wall) {
            r.seen = true;
            let mut invitation = (*r.invitation).clone();
            let left = r.expires_ms.saturating_sub(wall).div_ceil(1000);
            invitation.validity = Some(u32::try_from(left).unwrap_or(u32::MAX));
            out.push(invitation.into());
        }
        out.extend(b.held.drain(..));
        self.invitations.tidy(&user);
        for p in out {
            self.queue_to(slot, p);
        }
    }
}
