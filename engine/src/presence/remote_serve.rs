//! The publisher's shard serving watchers of other domains (issue 11): SubscribePresence,
//! UnsubscribePresence and GetPresence from a remote user, and the publisher's changes sent
//! to its remote watchers.
//!
//! A remote watcher is authorized like a local one (attribute lists, contact lists, reactive
//! grants and refusals all name users of any domain). It is remembered once per user in the
//! publisher's [`Publication`](super::publication::Publication) (the remote domain keeps
//! its sessions), and its values leave through the desk, which batches them per domain:
//!
//! ```text
//!   remote SubscribePresence --> serve_presence --> RemoteWatcher {user, wanted, auth}
//!                                                    + current value --> notify_remote_presence
//!   publish --> fan_out_remote --> one notify_remote_presence per distinct visible mask
//! ```

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::ssp::{DetailedResult, Payload, PresenceValue, Status};
use imps_protocol::types::UserId;

use super::authorize::Authorization;
use super::mask;
use super::publication::{RemoteWatcher, Snapshot};
use super::publisher::visible;
use super::remote_values::{value_of, wanted_of};
use crate::core::Millis;
use crate::federation::{Answer, RemoteRequest};
use crate::peering::service_side::ssp_status;
use crate::shard::Shard;
use crate::users::UserIdx;

/// The mask and vendor names an authorization grants.
fn granted(a: &Authorization) -> (u32, &[String]) {
    match a {
        Authorization::Granted(m, v) => (*m, v.as_slice()),
        _ => (0, &[]),
    }
}

/// The SSP status of a request about `asked` users of which `failed` failed: 200, the one
/// failure when all failed, else 201; failures named in detailed results.
pub(crate) fn status_of(failed: &[(StatusCode, String)], asked: usize) -> Status {
    let Some(first) = failed.first() else {
        return ssp_status(StatusCode::Successful);
    };
    let code = if failed.len() >= asked {
        first.0
    } else {
        StatusCode::PartialSuccess
    };
    let mut status = ssp_status(code);
    for (code, user) in failed {
        let n = code.code();
        match status.detailed.iter_mut().find(|d| d.code == n) {
            Some(d) => d.user_ids.push(user.clone()),
            None => status.detailed.push(DetailedResult {
                code: n,
                user_ids: vec![user.clone()],
                ..DetailedResult::default()
            }),
        }
    }
    status
}

/// What a request is about, once its remote user is normalized.
struct Asked {
    watcher: String,
    wanted: u32,
}

impl Shard {
    /// Serves a presence request of a user of another domain.
    pub(crate) fn serve_presence(
        &mut self,
        now: Millis,
        request: RemoteRequest,
    ) -> (Status, Answer) {
        let (watcher, users, attributes, get) = match request {
            RemoteRequest::SubscribePresence {
                watcher,
                users,
                attributes,
            } => (watcher, users, attributes, false),
            RemoteRequest::GetPresence {
                requester,
                users,
                attributes,
            } => (requester, users, attributes, true),
            RemoteRequest::UnsubscribePresence { watcher, users } => {
                return self.serve_unsubscribe(now, &watcher, &users);
            }
            _ => return (ssp_status(StatusCode::BadRequest), Answer::None),
        };
        let Some(asked) = self.asked(&watcher, attributes.as_ref()) else {
            return (ssp_status(StatusCode::InvalidParameter), Answer::None);
        };
        if get {
            self.serve_get(now, &asked, &users)
        } else {
            self.serve_subscribe(now, &asked, &users)
        }
    }

    /// The remote user's normalized ID and the attributes asked; None for a user of this
    /// domain or an invalid ID.
    fn asked(&self, user: &str, attributes: Option<&Payload>) -> Option<Asked> {
        let watcher = UserId::from(user).normalize(&self.config.domain).ok()?;
        if !crate::peering::is_remote(&watcher, &self.config.domain) {
            return None;
        }
        Some(Asked {
            watcher,
            wanted: wanted_of(attributes),
        })
    }

    fn serve_subscribe(
        &mut self,
        now: Millis,
        asked: &Asked,
        users: &[String],
    ) -> (Status, Answer) {
        let watcher = self.names.intern(&asked.watcher);
        let limit = self.config.max_watchers_per_user;
        let mut failed = Vec::new();
        for user in users {
            let Some(idx) = self.users.find(user) else {
                failed.push((StatusCode::UnknownUser, user.clone()));
                continue;
            };
            let authorization = self.authorization(idx, &asked.watcher);
            if authorization == Authorization::Undecided {
                self.ask_publisher(now, idx, watcher, asked.wanted);
            }
            let (auth, vendor) = granted(&authorization);
            let Some(p) = self.publication_mut(idx) else {
                failed.push((StatusCode::UnknownUser, user.clone()));
                continue;
            };
            let full = p.watchers.len() + p.remote.len() >= limit;
            match p.remote.iter_mut().find(|r| r.user == watcher) {
                Some(r) => {
                    r.wanted = asked.wanted;
                    r.auth = auth;
                }
                None if full => {
                    failed.push((StatusCode::TooManyContacts, user.clone()));
                    continue;
                }
                None => p.remote.push(RemoteWatcher {
                    user: watcher,
                    wanted: asked.wanted,
                    auth,
                }),
            }
            // The current value at once, as a local subscriber gets it.
            let snapshot = p.snapshot.clone();
            let m = visible(
                auth,
                vendor,
                asked.wanted,
                &snapshot,
                mask::present(&snapshot.values),
            );
            if let Some(value) = shown(&snapshot, m) {
                self.deliveries_sent += 1;
                self.notify_remote_presence(vec![asked.watcher.clone()], value);
            }
        }
        (status_of(&failed, users.len()), Answer::None)
    }

    fn serve_unsubscribe(
        &mut self,
        now: Millis,
        watcher: &str,
        users: &[String],
    ) -> (Status, Answer) {
        let Ok(watcher) = UserId::from(watcher).normalize(&self.config.domain) else {
            return (ssp_status(StatusCode::InvalidParameter), Answer::None);
        };
        let watcher = self.names.intern(&watcher);
        let mut failed = Vec::new();
        for user in users {
            let Some(u) = self.users.find(user).and_then(|i| self.users.user_mut(i)) else {
                failed.push((StatusCode::UnknownUser, user.clone()));
                continue;
            };
            if let Some(p) = u.presence.as_deref_mut() {
                let before = p.remote.len();
                p.remote.retain(|r| r.user != watcher);
                if p.remote.len() != before {
                    p.remember_former(watcher, now);
                }
            }
        }
        (status_of(&failed, users.len()), Answer::None)
    }

    fn serve_get(&mut self, now: Millis, asked: &Asked, users: &[String]) -> (Status, Answer) {
        let watcher = self.names.intern(&asked.watcher);
        let mut failed = Vec::new();
        let mut values = Vec::new();
        for user in users {
            let Some(idx) = self.users.find(user) else {
                failed.push((StatusCode::UnknownUser, user.clone()));
                continue;
            };
            let authorization = self.authorization(idx, &asked.watcher);
            if authorization == Authorization::Undecided {
                self.ask_publisher(now, idx, watcher, asked.wanted);
            }
            let (auth, vendor) = granted(&authorization);
            let Some(snapshot) = self.publication_mut(idx).map(|p| p.snapshot.clone()) else {
                failed.push((StatusCode::UnknownUser, user.clone()));
                continue;
            };
            let present = mask::present(&snapshot.values);
            let m = visible(auth, vendor, asked.wanted, &snapshot, present);
            values.extend(shown(&snapshot, m));
        }
        (status_of(&failed, users.len()), Answer::Presence(values))
    }

    /// Sends the `changed` attributes of the new `snapshot` of `idx` to its remote watchers:
    /// one notice per distinct visible mask (the desk batches them per domain).
    pub(super) fn fan_out_remote(&mut self, idx: UserIdx, snapshot: &Arc<Snapshot>, changed: u32) {
        let Some(remote) = self
            .users
            .user(idx)
            .and_then(|u| u.presence.as_deref())
            .filter(|p| !p.remote.is_empty())
            .map(|p| p.remote.clone())
        else {
            return;
        };
        let mut by_mask: Vec<(u32, Vec<String>)> = Vec::new();
        for r in remote {
            let Some(watcher) = self.names.text(r.user).cloned() else {
                continue;
            };
            let authorization = self.authorization(idx, &watcher);
            let (auth, vendor) = granted(&authorization);
            let m = visible(auth, vendor, r.wanted, snapshot, changed);
            if m == 0 {
                continue;
            }
            match by_mask.iter_mut().find(|(x, _)| *x == m) {
                Some((_, watchers)) => watchers.push(watcher.to_string()),
                None => by_mask.push((m, vec![watcher.to_string()])),
            }
        }
        for (m, watchers) in by_mask {
            if let Some(value) = shown(snapshot, m) {
                self.deliveries_sent += watchers.len() as u64;
                self.notify_remote_presence(watchers, value);
            }
        }
    }

    /// After a grant of `idx` changed (for one watcher when `only`): remote watchers that
    /// may now see more get the newly visible attributes at once.
    pub(super) fn reauthorize_remote(&mut self, idx: UserIdx, only: Option<&str>) {
        let Some((remote, snapshot)) = self
            .users
            .user(idx)
            .and_then(|u| u.presence.as_deref())
            .filter(|p| !p.remote.is_empty())
            .map(|p| (p.remote.clone(), p.snapshot.clone()))
        else {
            return;
        };
        let present = mask::present(&snapshot.values);
        let mut updates = Vec::new();
        for r in remote {
            let Some(watcher) = self.names.text(r.user).cloned() else {
                continue;
            };
            if only.is_some_and(|o| *o != *watcher) {
                continue;
            }
            let authorization = self.authorization(idx, &watcher);
            let (auth, vendor) = granted(&authorization);
            if auth == r.auth {
                continue;
            }
            updates.push((r.user, auth));
            if auth & !r.auth != 0 {
                let m = visible(auth, vendor, r.wanted, &snapshot, present);
                if let Some(value) = shown(&snapshot, m) {
                    self.notify_remote_presence(vec![watcher.to_string()], value);
                }
            }
        }
        if let Some(p) = self
            .users
            .user_mut(idx)
            .and_then(|u| u.presence.as_deref_mut())
        {
            for (user, auth) in updates {
                if let Some(r) = p.remote.iter_mut().find(|r| r.user == user) {
                    r.auth = auth;
                }
            }
        }
    }
}

/// The value showing `m` of `snapshot`; None when nothing is visible.
fn shown(snapshot: &Snapshot, m: u32) -> Option<PresenceValue> {
    if m == 0 {
        return None;
    }
    value_of(&snapshot.publisher, &mask::filtered(&snapshot.values, m))
}
