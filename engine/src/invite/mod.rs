//! Invitations (INVIT, CAINV) and shared content (type SC with a URL list), sans-IO, as
//! plain functions over a [`crate::shard::Shard`]. The inviter's shard keeps what was sent,
//! each invitee's shard what was received; both are durable (the records are described in
//! `stored.rs`), bounded per user, and expire with the invitation's validity:
//!
//! ```text
//!   inviter's shard                                     invitee's shard
//!   Invite-Request: InvitationSent                      InvitationReceived; InviteUser-Request
//!                   --Deliver (once on disk)-------->   to the invitee's sessions (or at
//!   Status (per invitee) <--Delivered (once on disk)--  their next login)
//!   (sent once the record is on disk)                   InviteUser-Response (a request, or
//!                                                       the answer to the server's request):
//!                                                       InvitationClosed, and for an accepted
//!                                                       PR GrantPut (Status once on disk)
//!   Invite-Response to the  <--Answered (once on disk)-
//!   inviter's sessions (held durably while offline)
//!   CancelInvite-Request: InviteesDone --Cancel----->   InvitationClosed; CancelInviteUser-
//!   (Status once on disk)                               Request to invitees who may have seen
//!                                                       it (held durably while offline)
//!   validity over --> both sides forget it: later answers and cancels get 423
//! ```
//!
//! An accepted PR invitation authorizes the inviter to see the invitee's presence (the
//! attributes its PresenceSubList names, or what a reactive acceptance gives), exactly as if
//! the invitee had answered a PresenceAuth-Request with acceptance.

mod invitee;
mod inviter;
mod remote;
#[cfg(test)]
mod remote_tests;
mod stored;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use hashbrown::HashMap;
use imps_protocol::common::UrlList;
use imps_protocol::primitives::InviteUserRequest;
use imps_protocol::{Primitive, StatusCode};

use crate::core::Millis;
use crate::record::{InvitationNoticeRecord, Record};
use crate::routing::shard_index;
use crate::shard::Shard;

/// Seconds an invitation stands when the inviter does not say.
pub const DEFAULT_VALIDITY_S: u32 = 86_400;
/// Seconds an invitation stands at most.
pub const MAX_VALIDITY_S: u32 = 7 * 86_400;
/// Open invitations a user has sent, at most (507 beyond).
pub const MAX_SENT: usize = 64;
/// Open invitations a user has received, at most (507 beyond).
pub const MAX_RECEIVED: usize = 64;
/// Answers and cancellations held for an offline user, at most (the oldest goes).
pub const MAX_HELD: usize = 64;
/// Expiry entries kept before stale ones are compacted away.
const COMPACT_AFTER: usize = 4096;

/// An invitation message between shards.
#[derive(Debug)]
pub enum InviteMsg {
    /// Inviter's shard to invitees' shard: deliver the invitation.
    Deliver {
        /// The waiting Invite-Request.
        query: u64,
        /// Its part.
        part: u32,
        /// The inviter (normalized user ID).
        inviter: Arc<str>,
        /// The invitation as invitees get it.
        invitation: Arc<InviteUserRequest>,
        /// When it expires, ms since the Unix epoch.
        expires_ms: u64,
        /// The invitees owned by the destination shard (normalized user IDs).
        invitees: Vec<Arc<str>>,
    },
    /// Per invitee: 200, or why the invitation could not be delivered.
    Delivered {
        /// The request.
        query: u64,
        /// Its part.
        part: u32,
        /// The inviter.
        inviter: Arc<str>,
        /// The invitation.
        invite_id: Box<str>,
        /// The outcomes.
        results: Vec<(Arc<str>, StatusCode)>,
    },
    /// An invitee answered; for the inviter's shard.
    Answered {
        /// The inviter.
        inviter: Arc<str>,
        /// The invitee.
        invitee: Arc<str>,
        /// The invitation.
        invite_id: Box<str>,
        /// Accepted.
        acceptance: bool,
        /// The invitee's note.
        note: Option<String>,
    },
    /// The inviter cancelled the invitation for these invitees of the destination shard.
    Cancel {
        /// The inviter.
        inviter: Arc<str>,
        /// The invitation.
        invite_id: Box<str>,
        /// The invitees.
        invitees: Vec<Arc<str>>,
        /// The inviter's note.
        note: Option<String>,
        /// Content no longer shared.
        url_list: Option<UrlList>,
    },
}

/// An invitation a user sent, still open.
#[derive(Debug)]
struct Sent {
    id: Box<str>,
    /// Invitees who have not answered and were not cancelled.
    invitees: Vec<Arc<str>>,
    /// When it was sent, ms since the Unix epoch.
    sent_ms: u64,
    expires_ms: u64,
}

/// An invitation a user received, not answered yet.
#[derive(Debug)]
struct Received {
    inviter: Arc<str>,
    invitation: Arc<InviteUserRequest>,
    expires_ms: u64,
    /// Delivered to at least one session (a cancellation must then be told).
    seen: bool,
}

/// One user's open invitations and what waits for their next login.
#[derive(Debug, Default)]
struct UserInvitations {
    sent: Vec<Sent>,
    received: Vec<Received>,
    held: VecDeque<InvitationNoticeRecord>,
}

impl UserInvitations {
    fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.received.is_empty() && self.held.is_empty()
    }
}

/// A shard's invitations, by user (normalized ID), with their expiry times (the expiry
/// heap is rebuilt at recovery from the stored expiry times).
#[derive(Debug, Default)]
pub struct Invitations {
    by_user: HashMap<Arc<str>, UserInvitations>,
    expiries: BinaryHeap<Reverse<(u64, Arc<str>)>>,
    /// Heap size at which stale entries are compacted away next.
    compact_at: usize,
}

impl Invitations {
    fn of(&self, user: &str) -> Option<&UserInvitations> {
        self.by_user.get(user)
    }

    fn of_mut(&mut self, user: &Arc<str>) -> &mut UserInvitations {
        self.by_user.entry(user.clone()).or_default()
    }

    /// Drops the box of `user` when nothing is left in it.
    fn tidy(&mut self, user: &str) {
        if self
            .by_user
            .get(user)
            .is_some_and(UserInvitations::is_empty)
        {
            self.by_user.remove(user);
        }
    }

    /// Remembers that something of `user` expires `at`. Entries of invitations answered or
    /// cancelled early stay until their time; when the heap has doubled since it was last
    /// looked at, it is rebuilt from the open invitations (amortized O(1) per push).
    fn expire_at(&mut self, at: u64, user: &Arc<str>) {
        self.expiries.push(Reverse((at, user.clone())));
        if self.expiries.len() < self.compact_at.max(COMPACT_AFTER) {
            return;
        }
        self.expiries = self
            .by_user
            .iter()
            .flat_map(|(u, b)| {
                let sent = b.sent.iter().map(|s| s.expires_ms);
                let received = b.received.iter().map(|r| r.expires_ms);
                sent.chain(received).map(|at| Reverse((at, u.clone())))
            })
            .collect();
        self.compact_at = 2 * self.expiries.len();
    }

    /// Users with open invitations on this shard.
    pub fn users(&self) -> usize {
        self.by_user.len()
    }
}

impl Shard {
    /// The shard that owns a normalized user ID.
    fn user_shard(&self, user: &str) -> usize {
        shard_index(user, self.shards)
    }

    /// Queues `primitive` to every session of `user`; `false` when none is logged in.
    fn queue_to_user(&mut self, user: &str, primitive: &Primitive) -> bool {
        let slots = self
            .users
            .find(user)
            .and_then(|idx| self.users.user(idx))
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for &slot in &slots {
            self.queue_to(slot, primitive.clone());
        }
        !slots.is_empty()
    }

    /// Queues a notice to the sessions of `user`, or holds it (durably) for their next login.
    fn tell(&mut self, user: &Arc<str>, notice: InvitationNoticeRecord) {
        if self.users.find(user).is_none()
            || self.queue_to_user(user, &stored::notice_primitive(&notice))
        {
            return;
        }
        // A notice that cannot be encoded is not held (the user is not told).
        self.record_invitation(Record::InvitationNoticeHeld(user.to_string(), notice));
    }

    /// An invitation message from shard `from`.
    pub(crate) fn handle_invite_msg(&mut self, from: usize, msg: InviteMsg) {
        match msg {
            InviteMsg::Deliver {
                query,
                part,
                inviter,
                invitation,
                expires_ms,
                invitees,
            } => {
                let results = invitees
                    .into_iter()
                    .map(|invitee| {
                        let code = self.receive(&inviter, &invitation, expires_ms, &invitee);
                        (invitee, code)
                    })
                    .collect();
                let msg = InviteMsg::Delivered {
                    query,
                    part,
                    inviter,
                    invite_id: invitation.invite_id.as_str().trim().into(),
                    results,
                };
                self.send_after_records(from, crate::shard::ShardMsg::Invite(msg));
            }
            InviteMsg::Delivered {
                query,
                part,
                inviter,
                invite_id,
                results,
            } => self.handle_delivered((query, part), &inviter, &invite_id, results),
            InviteMsg::Answered {
                inviter,
                invitee,
                invite_id,
                acceptance,
                note,
            } => self.handle_answered(&inviter, &invitee, &invite_id, acceptance, note),
            InviteMsg::Cancel {
                inviter,
                invite_id,
                invitees,
                note,
                url_list,
            } => {
                for invitee in invitees {
                    self.cancelled(
                        &inviter,
                        &invite_id,
                        &invitee,
                        note.clone(),
                        url_list.clone(),
                    );
                }
            }
        }
    }

    /// Users of this shard with open invitations or notices held for them.
    pub fn open_invitation_users(&self) -> usize {
        self.invitations.users()
    }

    /// Invitations past their validity are forgotten, on both sides.
    pub(crate) fn expire_invitations(&mut self, now: Millis) {
        let wall = self.wall_ms(now);
        while let Some(Reverse((at, _))) = self.invitations.expiries.peek() {
            if *at > wall {
                break;
            }
            let Some(Reverse((_, user))) = self.invitations.expiries.pop() else {
                break;
            };
            if let Some(b) = self.invitations.by_user.get_mut(&user) {
                b.sent.retain(|s| s.expires_ms > wall);
                b.received.retain(|r| r.expires_ms > wall);
            }
            self.invitations.tidy(&user);
        }
    }

    /// When the next invitation expires, on the shard's clock.
    pub(crate) fn next_invitation_expiry(&self) -> Option<Millis> {
        self.invitations
            .expiries
            .peek()
            .map(|Reverse((at, _))| Millis(at.saturating_sub(self.epoch_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_expiries_are_compacted() {
        let mut inv = Invitations::default();
        let user: Arc<str> = Arc::from("wv:a@imps.local");
        inv.of_mut(&user).sent.push(Sent {
            id: "open".into(),
            invitees: vec![user.clone()],
            sent_ms: 0,
            expires_ms: 5,
        });
        for at in 0..COMPACT_AFTER as u64 {
            inv.expire_at(at, &user);
        }
        assert_eq!(
            inv.expiries.len(),
            1,
            "only the open invitation's entry is left"
        );
        assert_eq!(inv.compact_at, 2);
        inv.expire_at(9, &user);
        assert_eq!(inv.expiries.len(), 2, "below the floor: no compaction");
    }
}
