//! The shards' side of the services other than IM across domains: a local user's request for
//! another domain leaves as [`FederationOut::Request`] holding a part of the CSP answer, and
//! its outcome fills that part; a remote user's request is served by the shard of the local
//! user or group it names; notices reach local sessions. Each service does its own part in
//! its module (`presence::remote`, `invite::remote`, `groups::remote`); this file routes.
//!
//! ```text
//!   CSP request naming wv:bob@b.test --> open_part --> FederationOut::Request --> desk
//!   desk: Event::RequestResult --> FederationOp::Outcome --> remote_outcome --> part filled
//!   desk: Event::Request --> FederationOp::Serve --> serve_remote --> AdminDone::Served
//!   desk: Event::Notice --> FederationOp::Notice --> remote_notice --> sessions' queues
//! ```

use imps_protocol::StatusCode;
use imps_protocol::ssp::{PresenceValue, Status};

use super::FederationOut;
use crate::core::Millis;
use crate::federation::{Answer, RemoteRequest};
use crate::shard::Shard;

impl Shard {
    /// Hands a local user's `request` for another domain to the desk; its outcome comes back
    /// to part (`query`, `part`) (0: nobody waits). False when federation is off or the desk
    /// is gone.
    pub(crate) fn request_remote(
        &mut self,
        (query, part): (u64, u32),
        request: RemoteRequest,
    ) -> bool {
        let shard = self.id;
        self.hand_to_desk(FederationOut::Request {
            shard,
            query,
            part,
            request: Box::new(request),
        })
    }

    /// Hands a local user's presence `value` for `watchers` of other domains to the desk.
    pub(crate) fn notify_remote_presence(&mut self, watchers: Vec<String>, value: PresenceValue) {
        // A closed desk (shutting down) loses the notice, as a lost session would.
        self.hand_to_desk(FederationOut::Presence { watchers, value });
    }

    /// True when federation is on and `user` (normalized) is of another domain.
    pub(crate) fn is_remote_user(&self, user: &str) -> bool {
        self.federation.is_some() && super::is_remote(user, &self.config.domain)
    }

    /// The outcome of a request a local user sent to another domain.
    pub(crate) fn remote_outcome(
        &mut self,
        now: Millis,
        at: (u64, u32),
        request: RemoteRequest,
        status: Status,
        answer: Answer,
    ) {
        match request {
            RemoteRequest::SubscribePresence { .. }
            | RemoteRequest::UnsubscribePresence { .. }
            | RemoteRequest::GetPresence { .. }
            | RemoteRequest::PresenceNotification { .. } => {
                self.presence_outcome(now, at, request, status, answer);
            }
            RemoteRequest::Invite(_)
            | RemoteRequest::InviteAnswer(_)
            | RemoteRequest::CancelInvite(_) => self.invite_outcome(now, at, request, status),
            RemoteRequest::JoinGroup(_)
            | RemoteRequest::LeaveGroup { .. }
            | RemoteRequest::LeftGroup { .. }
            | RemoteRequest::GetJoinedUsers { .. }
            | RemoteRequest::GetGroupProps { .. }
            | RemoteRequest::GroupChange { .. }
            | RemoteRequest::GroupChangeNotice(_) => {
                self.group_outcome(now, at, request, status, answer);
            }
            RemoteRequest::GetUserProfile { users, .. } => {
                self.complete_remote_part(at, &status, &users);
            }
            RemoteRequest::UpdateUserProfile { profile, .. } => {
                self.complete_remote_part(at, &status, std::slice::from_ref(&profile.user_id));
            }
        }
    }

    /// Serves a request of a user of another domain: the status and what goes with it.
    pub(crate) fn serve_remote(&mut self, now: Millis, request: RemoteRequest) -> (Status, Answer) {
        match request {
            RemoteRequest::SubscribePresence { .. }
            | RemoteRequest::UnsubscribePresence { .. }
            | RemoteRequest::GetPresence { .. } => self.serve_presence(now, request),
            RemoteRequest::Invite(_) => self.serve_invite(now, request),
            RemoteRequest::JoinGroup(_)
            | RemoteRequest::LeaveGroup { .. }
            | RemoteRequest::GetJoinedUsers { .. }
            | RemoteRequest::GetGroupProps { .. }
            | RemoteRequest::GroupChange { .. } => self.serve_group(now, request),
            RemoteRequest::GetUserProfile { requester, users } => {
                self.serve_profiles(&requester, &users)
            }
            RemoteRequest::UpdateUserProfile { profile, .. } => {
                self.refuse_profile_update(&profile.user_id)
            }
            // Notices come as `Notice`, never as requests.
            RemoteRequest::PresenceNotification { .. }
            | RemoteRequest::InviteAnswer(_)
            | RemoteRequest::CancelInvite(_)
            | RemoteRequest::LeftGroup { .. }
            | RemoteRequest::GroupChangeNotice(_) => {
                (ssp_status(StatusCode::BadRequest), Answer::None)
            }
        }
    }

    /// Delivers a notice of domain `origin` to the local users it names (of this shard).
    pub(crate) fn remote_notice(&mut self, now: Millis, origin: &str, notice: RemoteRequest) {
        match notice {
            RemoteRequest::PresenceNotification { .. } => {
                self.presence_notice(now, origin, notice);
            }
            RemoteRequest::InviteAnswer(_) | RemoteRequest::CancelInvite(_) => {
                self.invite_notice(now, origin, notice);
            }
            RemoteRequest::LeftGroup { .. } | RemoteRequest::GroupChangeNotice(_) => {
                self.group_notice(now, origin, notice);
            }
            other => tracing::debug!(%origin, notice = ?other, "not a notice"),
        }
    }

    /// Completes a part that waited for one remote answer about `users`: a failure counts
    /// for each of them (or for those its details name), then the reply goes out when it
    /// was the last part.
    pub(crate) fn complete_remote_part(
        &mut self,
        (query, part): (u64, u32),
        status: &Status,
        users: &[String],
    ) {
        if query == 0 {
            return;
        }
        if let Some(p) = self.part_mut(query, part) {
            p.failed.extend(remote_failures(status, users));
            p.waiting = p.waiting.saturating_sub(1);
        }
        self.part_answered(query);
    }
}

/// The failures an SSP status names among `users`: none for 200, the detailed results for
/// 201 (each user it names), every user with the code otherwise.
pub(crate) fn remote_failures(status: &Status, users: &[String]) -> Vec<(StatusCode, String)> {
    match status.code {
        200 => Vec::new(),
        201 => status
            .detailed
            .iter()
            .flat_map(|d| {
                let code = StatusCode::from(d.code);
                d.user_ids.iter().map(move |u| (code, u.clone()))
            })
            .collect(),
        code => {
            let code = StatusCode::from(code);
            users.iter().map(|u| (code, u.clone())).collect()
        }
    }
}

/// An SSP status with `code` and its description.
pub(crate) fn ssp_status(code: StatusCode) -> Status {
    crate::federation::status(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_status() {
        let users = vec!["wv:a@b.test".to_owned(), "wv:c@b.test".to_owned()];
        assert!(remote_failures(&Status::new(200), &users).is_empty());
        let all = remote_failures(&Status::new(531), &users);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, StatusCode::UnknownUser);
        let mut partial = Status::new(201);
        partial.detailed.push(imps_protocol::ssp::DetailedResult {
            code: 531,
            user_ids: vec!["wv:c@b.test".to_owned()],
            ..Default::default()
        });
        assert_eq!(
            remote_failures(&partial, &users),
            vec![(StatusCode::UnknownUser, "wv:c@b.test".to_owned())]
        );
    }
}
