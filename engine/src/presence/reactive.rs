//! Reactive authorization: a watcher with no proactive grant makes the server ask the
//! publisher (PresenceAuth-Request, queued until the publisher is online); the publisher's
//! PresenceAuth-User decides, durably; CancelAuth withdraws; GetReactiveAuthStatus lists.
//!
//! ```text
//!   Watch, nothing proactive, no decision --> pending --> PresenceAuth-Request to the
//!   publisher's sessions (now, or at their next login)
//!   PresenceAuth-User T/F --> GrantPut (durable) --> watchers re-authorized at once
//!   CancelAuth            --> GrantRemove        --> watchers re-authorized at once
//! ```

use imps_protocol::StatusCode;
use imps_protocol::common::CspResult;
use imps_protocol::primitives::{
    CancelAuthRequest, GetReactiveAuthStatusRequest, GetReactiveAuthStatusResponse,
    PresenceAuthRequest, PresenceAuthUser, PresenceSubList, ReactiveAuthState, ReactiveAuthStatus,
    ReactiveAuthStatusList,
};
use imps_protocol::types::UserId;

use super::mask;
use crate::access::outbox::Outgoing;
use crate::core::Millis;
use crate::record::{GrantRecord, Record};
use crate::shard::Shard;
use crate::users::UserIdx;

/// Watchers waiting for one publisher's decision, at most.
const PENDING_LIMIT: usize = 1024;

/// The names of the attributes in `m` (modelled ones only).
pub(super) fn names_of(m: u32) -> Vec<&'static str> {
    imps_protocol::primitives::ATTRIBUTE_NAMES
        .iter()
        .copied()
        .filter(|n| mask::bit_of(n).is_some_and(|b| m & b != 0))
        .collect()
}

impl Shard {
    /// Records that `watcher` waits for a decision of `idx` and asks the publisher's live
    /// sessions (once per watcher).
    pub(crate) fn ask_publisher(&mut self, _now: Millis, idx: UserIdx, watcher: u32, wanted: u32) {
        let Some(p) = self.publication_mut(idx) else {
            return;
        };
        if p.pending_auth.iter().any(|(w, _)| *w == watcher)
            || p.pending_auth.len() >= PENDING_LIMIT
        {
            return;
        }
        p.pending_auth.push((watcher, wanted));
        let slots = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for slot in slots {
            self.queue_auth_request(slot, watcher, wanted);
        }
    }

    /// Queues one PresenceAuth-Request to a publisher's session.
    fn queue_auth_request(&mut self, slot: u32, watcher: u32, wanted: u32) {
        let Some(name) = self.names.text(watcher).cloned() else {
            return;
        };
        let id = self.txn_id();
        let limit = self.config.outbox_limit;
        let sub_list = (wanted != mask::ALL).then(|| PresenceSubList::naming(names_of(wanted)));
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        let out = Outgoing {
            id,
            primitive: PresenceAuthRequest {
                user_id: UserId(name.to_string()),
                sub_list,
            }
            .into(),
        };
        if s.outbox.push(out, limit).is_ok() {
            self.wake(slot);
        }
    }

    /// A new session of `idx`: it gets the questions still waiting for an answer.
    pub(crate) fn deliver_pending_auth(&mut self, idx: UserIdx, slot: u32) {
        let pending = self
            .users
            .user(idx)
            .and_then(|u| u.presence.as_deref())
            .map(|p| p.pending_auth.clone())
            .unwrap_or_default();
        for (watcher, wanted) in pending {
            self.queue_auth_request(slot, watcher, wanted);
        }
    }

    /// Stores a decision (recovery and changes).
    pub(crate) fn store_grant(&mut self, owner: &str, watcher: &str, grant: Option<GrantRecord>) {
        let Some(idx) = self.users.find(owner) else {
            return;
        };
        let name = self.names.find(watcher);
        let Some(user) = self.users.user_mut(idx) else {
            return;
        };
        user.grants.retain(|(w, _)| **w != *watcher);
        if let Some(g) = grant {
            user.grants.push((watcher.into(), g));
        }
        if let (Some(p), Some(n)) = (user.presence.as_deref_mut(), name) {
            p.pending_auth.retain(|(w, _)| *w != n);
        }
        self.reauthorize(idx, Some(watcher));
    }

    /// `PresenceAuth-User`: the publisher's decision about one watcher, durable before it
    /// is acknowledged.
    pub(crate) fn presence_auth_user(
        &mut self,
        idx: UserIdx,
        req: &PresenceAuthUser,
    ) -> StatusCode {
        let Ok(watcher) = req.user_id.normalize(&self.config.domain) else {
            return StatusCode::UnknownUser;
        };
        let Some(owner) = self.users.user(idx).map(|u| u.id.to_string()) else {
            return StatusCode::InvalidSession;
        };
        let attributes = req
            .sub_list
            .as_ref()
            .filter(|l| !l.is_empty())
            .map(|l| l.names().into_iter().map(str::to_owned).collect());
        let grant = GrantRecord {
            accepted: req.acceptance,
            attributes,
        };
        let record = Record::GrantPut(owner.clone(), watcher.clone(), grant.clone());
        if self.append_record(&record).is_err() {
            return StatusCode::ServerError;
        }
        self.store_grant(&owner, &watcher, Some(grant));
        StatusCode::Successful
    }

    /// `CancelAuth-Request`: withdraws a reactive decision.
    pub(crate) fn cancel_auth(&mut self, idx: UserIdx, req: &CancelAuthRequest) -> StatusCode {
        let Ok(watcher) = req.user_id.normalize(&self.config.domain) else {
            return StatusCode::UnknownUser;
        };
        let Some(user) = self.users.user(idx) else {
            return StatusCode::InvalidSession;
        };
        if !user.grants.iter().any(|(w, _)| **w == *watcher) {
            return StatusCode::UnknownUser;
        }
        let owner = user.id.to_string();
        let record = Record::GrantRemove(owner.clone(), watcher.clone());
        if self.append_record(&record).is_err() {
            return StatusCode::ServerError;
        }
        self.store_grant(&owner, &watcher, None);
        StatusCode::Successful
    }

    /// `GetReactiveAuthStatus-Request` (1.2): decisions and open questions.
    pub(crate) fn reactive_auth_status(
        &self,
        idx: UserIdx,
        req: &GetReactiveAuthStatusRequest,
    ) -> GetReactiveAuthStatusResponse {
        let domain = &self.config.domain;
        let asked: Vec<String> = req
            .user_ids
            .iter()
            .filter_map(|u| u.normalize(domain).ok())
            .collect();
        let wanted = |w: &str| asked.is_empty() || asked.iter().any(|a| a == w);
        let mut statuses = Vec::new();
        if let Some(user) = self.users.user(idx) {
            for (w, g) in &user.grants {
                if !wanted(w) {
                    continue;
                }
                statuses.push(ReactiveAuthStatus {
                    user_id: UserId(w.to_string()),
                    state: if g.accepted {
                        ReactiveAuthState::Granted
                    } else {
                        ReactiveAuthState::Denied
                    },
                    sub_list: g
                        .attributes
                        .as_ref()
                        .map(|a| PresenceSubList::naming(a.iter().map(String::as_str))),
                });
            }
            for (w, _) in user.presence.iter().flat_map(|p| p.pending_auth.iter()) {
                if let Some(name) = self.names.text(*w)
                    && wanted(name)
                {
                    statuses.push(ReactiveAuthStatus {
                        user_id: UserId(name.to_string()),
                        state: ReactiveAuthState::Pending,
                        sub_list: None,
                    });
                }
            }
        }
        GetReactiveAuthStatusResponse {
            result: Some(CspResult::new(StatusCode::Successful)),
            list: (!statuses.is_empty()).then_some(ReactiveAuthStatusList { statuses }),
        }
    }
}
