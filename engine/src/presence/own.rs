//! A user's requests about their own presence: UpdatePresence (changes only the attributes
//! it carries; setting OnlineStatus stops it following the sessions) and GetWatcherList
//! (current subscribers, and in 1.2+ former ones within HistoryPeriod days).

use imps_protocol::common::{CspResult, User};
use imps_protocol::primitives::{
    GetWatcherListRequest, GetWatcherListResponse, UpdatePresenceRequest, Watcher, WatcherStatus,
};
use imps_protocol::types::UserId;
use imps_protocol::{StatusCode, Version};

use crate::core::Millis;
use crate::shard::Shard;
use crate::users::UserIdx;

/// Watchers GetWatcherList returns at most when the client does not say.
const WATCHER_LIST_DEFAULT_MAX: usize = 10_000;

impl Shard {
    /// `UpdatePresence-Request`.
    pub(crate) fn update_presence(
        &mut self,
        idx: UserIdx,
        req: &UpdatePresenceRequest,
    ) -> StatusCode {
        if req.sub_list.is_empty() {
            return StatusCode::InvalidParameter;
        }
        if req.sub_list.online_status.is_some()
            && let Some(p) = self.publication_mut(idx)
        {
            p.user_set_online = true;
        }
        self.publish(idx, &req.sub_list);
        StatusCode::Successful
    }

    /// `GetWatcherList-Request`.
    pub(crate) fn watcher_list(
        &self,
        now: Millis,
        idx: UserIdx,
        req: &GetWatcherListRequest,
        version: Version,
    ) -> GetWatcherListResponse {
        let max = req
            .max_watcher_list
            .map_or(WATCHER_LIST_DEFAULT_MAX, |m| m as usize);
        let user = |n: u32| {
            self.names.text(n).map(|t| User {
                user_id: UserId(t.to_string()),
                client_id: None,
                friendly_name: None,
            })
        };
        let mut current: Vec<u32> = Vec::new();
        let mut former: Vec<u32> = Vec::new();
        if let Some(p) = self.users.user(idx).and_then(|u| u.presence.as_deref()) {
            let remote = p.remote.iter().map(|r| r.user);
            for u in p.watchers.iter().map(|e| e.user).chain(remote) {
                if !current.contains(&u) {
                    current.push(u);
                }
            }
            if let Some(days) = req.history_period {
                let since = now.0.saturating_sub(u64::from(days) * 86_400_000);
                for (u, at) in p.former.iter().rev() {
                    if at.0 >= since && !current.contains(u) && !former.contains(u) {
                        former.push(*u);
                    }
                }
            }
        }
        let mut response = GetWatcherListResponse {
            history_period: req.history_period,
            result: Some(CspResult::new(StatusCode::Successful)),
            ..GetWatcherListResponse::default()
        };
        if version == Version::V1_1 {
            response.users = current.iter().take(max).filter_map(|n| user(*n)).collect();
            return response;
        }
        let all = current
            .iter()
            .map(|n| (n, WatcherStatus::Current))
            .chain(former.iter().map(|n| (n, WatcherStatus::Former)));
        response.watchers = all
            .take(max)
            .filter_map(|(n, status)| {
                user(*n).map(|user| Watcher {
                    user,
                    status: Some(status),
                })
            })
            .collect();
        response
    }
}
