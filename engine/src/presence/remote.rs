//! Presence across domains (issue 11), the watcher's shard: local sessions watching users
//! of other domains. The publishers of other domains a session subscribed to are kept in its
//! [`SessionPresence::remote`](super::inbox::SessionPresence) with the attributes wanted;
//! the values their domains send are queued to those sessions like a local publisher's.
//!
//! ```text
//!   SubscribePresence naming wv:bob@b.test --> RemoteRequest::SubscribePresence per domain
//!                                              (the union of what the user's sessions want)
//!   Event::Notice PresenceNotification     --> presence_notice --> sessions' queues
//!   last session of the user stops watching --> RemoteRequest::UnsubscribePresence (query 0)
//! ```
//!
//! The publisher's side (remote users watching local users) is [`super::remote_serve`].

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::primitives::Presence;
use imps_protocol::ssp::{Status, domain_of_id};
use imps_protocol::types::UserId;

use super::inbox::RemoteWatching;
use super::mask;
use super::publication::Snapshot;
use super::remote_values::{attributes_of, sub_list_of};
use crate::access::session::Session;
use crate::core::Millis;
use crate::federation::{Answer, RemoteRequest};
use crate::peering::service_side::remote_failures;
use crate::shard::Shard;
use crate::users::UserIdx;

/// `users` grouped by domain (lower case), in first-seen order.
fn by_domain(users: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for u in users {
        let domain = domain_of_id(u).unwrap_or_default().to_ascii_lowercase();
        match out.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, list)) => list.push(u.clone()),
            None => out.push((domain, vec![u.clone()])),
        }
    }
    out.into_iter().map(|(_, list)| list).collect()
}

/// The attributes of a remote value a session wanting `wanted` is shown.
fn deliverable(wanted: u32, snapshot: &Snapshot) -> u32 {
    let vendor = if wanted & mask::VENDOR != 0 {
        mask::UNKNOWN
    } else {
        0
    };
    mask::present(&snapshot.values) & ((wanted & mask::KNOWN) | vendor)
}

impl Shard {
    /// The user of a session and their ID.
    fn session_user(&self, slot: u32) -> Option<(UserIdx, String)> {
        let idx = self.sessions.get(slot)?.user;
        let id = self.users.user(idx)?.id.to_string();
        Some((idx, id))
    }

    /// What the sessions of `idx` want of remote `publisher` together (0: nobody watches).
    fn remote_wanted(&self, idx: UserIdx, publisher: &str) -> u32 {
        let Some(user) = self.users.user(idx) else {
            return 0;
        };
        user.sessions
            .iter()
            .filter_map(|&slot| self.sessions.get(slot)?.presence.as_ref())
            .flat_map(|p| p.remote.iter())
            .filter(|r| *r.publisher == *publisher)
            .fold(0, |m, r| m | r.wanted)
    }

    /// Subscribes session `slot` to the remote `users` (normalized; those in `direct` by
    /// name, the others as members of a followed contact list): remembered at once, one
    /// request per domain answering part `at`. Returns the requests sent and the users that
    /// could not be asked.
    pub(super) fn subscribe_remote(
        &mut self,
        slot: u32,
        at: (u64, u32),
        (wanted, direct): (u32, &[String]),
        users: &[String],
    ) -> (usize, Vec<(StatusCode, String)>) {
        let Some((idx, watcher)) = self.session_user(slot) else {
            return (0, Vec::new());
        };
        if let Some(p) = self
            .sessions
            .get_mut(slot)
            .map(|s| s.presence.get_or_insert_with(Box::default))
        {
            for u in users {
                let by_name = direct.contains(u);
                match p.remote.iter_mut().find(|r| *r.publisher == **u) {
                    Some(r) => {
                        r.wanted = wanted;
                        r.direct |= by_name;
                    }
                    None => p.remote.push(RemoteWatching {
                        publisher: Arc::from(u.as_str()),
                        wanted,
                        direct: by_name,
                    }),
                }
            }
        }
        let mut sent = 0;
        let mut failed = Vec::new();
        for users in by_domain(users) {
            let union = users.iter().fold(0, |m, u| m | self.remote_wanted(idx, u));
            let request = RemoteRequest::SubscribePresence {
                watcher: watcher.clone(),
                users: users.clone(),
                attributes: attributes_of(union),
            };
            if self.request_remote(at, request) {
                sent += 1;
            } else {
                self.drop_remote_watches(idx, &users);
                failed.extend(
                    users
                        .into_iter()
                        .map(|u| (StatusCode::ServiceUnavailable, u)),
                );
            }
        }
        (sent, failed)
    }

    /// Session `slot` stops watching the remote `users`; publishers no session of its
    /// user watches any more are unsubscribed (nobody waits for that).
    pub(super) fn unsubscribe_remote(&mut self, slot: u32, users: &[String]) {
        // Only what this session watched: a publisher never watched is not bothered.
        self.drop_session_watches(slot, |r| users.iter().any(|u| **u == *r.publisher));
    }

    /// Session `slot` stops watching the remote publishers `drop` picks; those no session
    /// of its user watches any more are unsubscribed.
    fn drop_session_watches(&mut self, slot: u32, drop: impl Fn(&RemoteWatching) -> bool) {
        let Some((idx, watcher)) = self.session_user(slot) else {
            return;
        };
        let mut dropped = Vec::new();
        if let Some(p) = self
            .sessions
            .get_mut(slot)
            .and_then(|s| s.presence.as_mut())
        {
            p.remote.retain(|r| {
                let d = drop(r);
                if d {
                    dropped.push(r.publisher.to_string());
                }
                !d
            });
        }
        self.unsubscribe_unwatched(idx, &watcher, &dropped);
    }

    /// Sends UnsubscribePresence for those of `publishers` no session of `idx` watches.
    fn unsubscribe_unwatched(&mut self, idx: UserIdx, watcher: &str, publishers: &[String]) {
        let gone: Vec<String> = publishers
            .iter()
            .filter(|p| self.remote_wanted(idx, p) == 0)
            .cloned()
            .collect();
        for users in by_domain(&gone) {
            let request = RemoteRequest::UnsubscribePresence {
                watcher: watcher.to_owned(),
                users,
            };
            if !self.request_remote((0, 0), request) {
                tracing::debug!(%watcher, "remote unsubscription not sent");
            }
        }
    }

    /// A session ended: the remote publishers only it watched are unsubscribed.
    pub(super) fn remote_session_ended(&mut self, session: &Session) {
        let Some(p) = session.presence.as_ref().filter(|p| !p.remote.is_empty()) else {
            return;
        };
        let Some(watcher) = self.users.user(session.user).map(|u| u.id.to_string()) else {
            return;
        };
        let publishers: Vec<String> = p.remote.iter().map(|r| r.publisher.to_string()).collect();
        self.unsubscribe_unwatched(session.user, &watcher, &publishers);
    }

    /// A followed contact list of session `slot` changed: its remote members `added` are
    /// watched, its remote members `removed` dropped unless subscribed by name.
    pub(super) fn followed_remote_changed(
        &mut self,
        slot: u32,
        wanted: u32,
        added: &[String],
        removed: &[String],
    ) {
        if !added.is_empty() {
            let (_, failed) = self.subscribe_remote(slot, (0, 0), (wanted, &[]), added);
            if !failed.is_empty() {
                tracing::debug!(?failed, "remote list members not watched");
            }
        }
        self.drop_session_watches(slot, |r| {
            !r.direct && removed.iter().any(|u| **u == *r.publisher)
        });
    }

    /// A new session with `domain` came up (it may have restarted and forgotten its remote
    /// watchers): one SubscribePresence per local user whose active sessions watch users of
    /// that domain, naming them all with the union of the attributes those sessions want.
    /// Nobody waits for the answer; a failure is handled as any late one (the users it
    /// names are no longer watched).
    pub(crate) fn resubscribe_remote(&mut self, domain: &str) {
        let mut watched: Vec<(UserIdx, Vec<String>)> = Vec::new();
        for s in self.sessions.active() {
            let Some(p) = s.presence.as_ref() else {
                continue;
            };
            let of_domain = p.remote.iter().filter(|r| {
                domain_of_id(&r.publisher).is_some_and(|d| d.eq_ignore_ascii_case(domain))
            });
            for r in of_domain {
                let publisher = r.publisher.to_string();
                match watched.iter_mut().find(|(i, _)| *i == s.user) {
                    Some((_, list)) if list.contains(&publisher) => {}
                    Some((_, list)) => list.push(publisher),
                    None => watched.push((s.user, vec![publisher])),
                }
            }
        }
        for (idx, users) in watched {
            let Some(watcher) = self.users.user(idx).map(|u| u.id.to_string()) else {
                continue;
            };
            let union = users.iter().fold(0, |m, u| m | self.remote_wanted(idx, u));
            let request = RemoteRequest::SubscribePresence {
                watcher,
                users,
                attributes: attributes_of(union),
            };
            if !self.request_remote((0, 0), request) {
                tracing::debug!(%domain, "remote subscription not sent again");
            }
        }
    }

    /// Asks the remote `users` (normalized) for their presence, one request per domain
    /// answering part `at`. Returns the requests sent and the users that could not be
    /// asked.
    pub(super) fn get_remote(
        &mut self,
        slot: u32,
        at: (u64, u32),
        wanted: u32,
        users: &[String],
    ) -> (usize, Vec<(StatusCode, String)>) {
        let Some((_, requester)) = self.session_user(slot) else {
            return (0, Vec::new());
        };
        let mut sent = 0;
        let mut failed = Vec::new();
        for users in by_domain(users) {
            let request = RemoteRequest::GetPresence {
                requester: requester.clone(),
                users: users.clone(),
                attributes: attributes_of(wanted),
            };
            if self.request_remote(at, request) {
                sent += 1;
            } else {
                failed.extend(
                    users
                        .into_iter()
                        .map(|u| (StatusCode::ServiceUnavailable, u)),
                );
            }
        }
        (sent, failed)
    }

    /// Forgets the remote `publishers` in every session of `idx` (they cannot be watched).
    fn drop_remote_watches(&mut self, idx: UserIdx, publishers: &[String]) {
        let slots = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for slot in slots {
            if let Some(p) = self
                .sessions
                .get_mut(slot)
                .and_then(|s| s.presence.as_mut())
            {
                p.remote
                    .retain(|r| !publishers.iter().any(|u| **u == *r.publisher));
            }
        }
    }

    /// The outcome of a presence request a local user sent to another domain.
    pub(crate) fn presence_outcome(
        &mut self,
        _now: Millis,
        at: (u64, u32),
        request: RemoteRequest,
        status: Status,
        answer: Answer,
    ) {
        match request {
            RemoteRequest::SubscribePresence { watcher, users, .. } => {
                let failed: Vec<String> = remote_failures(&status, &users)
                    .into_iter()
                    .map(|(_, u)| u)
                    .collect();
                if !failed.is_empty()
                    && let Some(idx) = self.users.find(&watcher)
                {
                    self.drop_remote_watches(idx, &failed);
                }
                self.complete_remote_part(at, &status, &users);
            }
            RemoteRequest::UnsubscribePresence { users, .. } => {
                self.complete_remote_part(at, &status, &users);
            }
            RemoteRequest::GetPresence { users, .. } => {
                let domain = self.config.domain.clone();
                if let Answer::Presence(values) = answer
                    && let Some(part) = self.part_mut(at.0, at.1)
                {
                    for value in &values {
                        // Only the users asked: the answer cannot add others.
                        let Some(user) = UserId::from(value.user_id.as_str())
                            .normalize(&domain)
                            .ok()
                            .filter(|u| users.contains(u))
                        else {
                            continue;
                        };
                        let Some(list) = sub_list_of(value) else {
                            continue;
                        };
                        part.presences.push(Presence {
                            user_id: Some(UserId(user)),
                            contact_list: None,
                            sub_lists: vec![list],
                        });
                    }
                }
                self.complete_remote_part(at, &status, &users);
            }
            other => tracing::debug!(code = status.code, request = ?other, "presence outcome"),
        }
    }

    /// Presence values from domain `origin` for local watchers (of this shard): queued to
    /// the sessions that watch each publisher, filtered to what each asked for.
    pub(crate) fn presence_notice(&mut self, _now: Millis, origin: &str, notice: RemoteRequest) {
        let RemoteRequest::PresenceNotification { watchers, values } = notice else {
            return;
        };
        let domain = self.config.domain.clone();
        let snapshots: Vec<Arc<Snapshot>> = values
            .iter()
            // A domain speaks for its own users only.
            .filter(|v| domain_of_id(&v.user_id).is_some_and(|d| d.eq_ignore_ascii_case(origin)))
            .filter_map(|v| {
                let publisher = UserId::from(v.user_id.as_str()).normalize(&domain).ok()?;
                Some(Arc::new(Snapshot {
                    publisher: Arc::from(publisher),
                    values: sub_list_of(v)?,
                }))
            })
            .collect();
        if snapshots.is_empty() {
            return;
        }
        for watcher in watchers {
            let Some((idx, id, slots)) = UserId::from(watcher.as_str())
                .normalize(&domain)
                .ok()
                .and_then(|w| self.users.find(&w))
                .and_then(|i| Some((i, self.users.user(i)?)))
                .map(|(i, u)| (i, u.id.to_string(), u.sessions.clone()))
            else {
                continue;
            };
            for slot in slots {
                self.queue_remote_presence(slot, &snapshots);
            }
            // A subscription nobody here has any more (the sessions ended while this
            // server was down, or an unsubscription was lost): the publisher's domain is
            // told again.
            let stale: Vec<String> = snapshots
                .iter()
                .filter(|s| self.remote_wanted(idx, &s.publisher) == 0)
                .map(|s| s.publisher.to_string())
                .collect();
            self.unsubscribe_unwatched(idx, &id, &stale);
        }
    }

    /// Queues the `snapshots` a session watches, and wakes it.
    fn queue_remote_presence(&mut self, slot: u32, snapshots: &[Arc<Snapshot>]) {
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        let Some(p) = s.presence.as_mut() else {
            return;
        };
        let mut delivered = 0;
        for snapshot in snapshots {
            let Some(r) = p.remote.iter().find(|r| r.publisher == snapshot.publisher) else {
                continue;
            };
            let m = deliverable(r.wanted, snapshot);
            if m != 0 {
                p.deliver(snapshot, m);
                delivered += 1;
            }
        }
        let woken = s.woken;
        self.deliveries_received += delivered;
        if delivered > 0 && !woken {
            self.wake(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_grouped_by_domain() {
        let users: Vec<String> = ["wv:a@b.test", "wv:c@d.test", "wv:e@B.test"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            by_domain(&users),
            vec![
                vec!["wv:a@b.test".to_owned(), "wv:e@B.test".to_owned()],
                vec!["wv:c@d.test".to_owned()]
            ]
        );
    }
}
