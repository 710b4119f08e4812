//! The watcher's shard: SubscribePresence, UnsubscribePresence and GetPresence from a
//! session, the answers of publisher shards, and presence delivered to its sessions.
//!
//! Targets are grouped by owner shard, so a subscription to a whole contact list is one
//! [`Watch`] per shard. Subscribing to a contact list follows it: members added later are
//! watched, members removed are dropped (unless also subscribed by name).

use std::sync::Arc;

use hashbrown::HashSet;

use imps_protocol::StatusCode;
use imps_protocol::primitives::{
    GetPresenceRequest, Presence, PresenceSubList, SubscribePresenceRequest,
    UnsubscribePresenceRequest,
};
use imps_protocol::types::{ContactListId, UserId};

use super::inbox::{SessionPresence, Watching};
use super::mask;
use super::mesh::{PresenceMsg, Watch, WatchKind, Watched};
use super::publication::{SessionRef, Snapshot};
use crate::access::session::Session;
use crate::routing::{owner_of_key, split_by_owner};
use crate::shard::{PartKind, Shard};

/// The attributes a request's PresenceSubList asks for (none or empty: all).
fn wanted(sub_list: Option<&PresenceSubList>) -> u32 {
    match sub_list {
        Some(l) if !l.is_empty() => mask::of_names(l.names()),
        _ => mask::ALL,
    }
}

/// Targets of a request, normalized, with the lists they came from.
struct Targets {
    users: Vec<String>,
    lists: Vec<String>,
    failed: Vec<(StatusCode, String)>,
}

impl Shard {
    /// The deployment-wide reference of a local session.
    pub(crate) fn session_ref(&self, slot: u32) -> Option<SessionRef> {
        let s = self.sessions.get(slot)?;
        Some(SessionRef {
            shard: u16::try_from(self.id).unwrap_or(u16::MAX),
            slot,
            serial: s.serial,
        })
    }

    /// The slot of a local session named by reference, when it is still the same session.
    pub(crate) fn slot_of(&self, r: SessionRef) -> Option<u32> {
        if usize::from(r.shard) != self.id {
            return None;
        }
        self.sessions
            .get(r.slot)
            .filter(|s| s.serial == r.serial)
            .map(|_| r.slot)
    }

    fn session_presence(&mut self, slot: u32) -> Option<&mut SessionPresence> {
        let s = self.sessions.get_mut(slot)?;
        Some(s.presence.get_or_insert_with(Box::default))
    }

    /// The users and contact-list members a request names, normalized.
    fn targets(&self, slot: u32, users: &[UserId], lists: &[ContactListId]) -> Targets {
        let domain = &self.config.domain;
        let mut t = Targets {
            users: Vec::new(),
            lists: Vec::new(),
            failed: Vec::new(),
        };
        for u in users {
            match u.normalize(domain) {
                Ok(id) if !t.users.contains(&id) => t.users.push(id),
                Ok(_) => {}
                Err(_) => t.failed.push((StatusCode::UnknownUser, u.0.clone())),
            }
        }
        let owner = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user));
        for l in lists {
            let found = l.normalize(domain).ok().and_then(|norm| {
                owner?
                    .contact_lists
                    .iter()
                    .find(|c| {
                        ContactListId::from(c.id.as_str())
                            .normalize(domain)
                            .is_ok_and(|n| n == norm)
                    })
                    .map(|c| (norm, c))
            });
            match found {
                Some((norm, list)) => {
                    t.lists.push(norm);
                    for c in &list.contacts {
                        if !t.users.contains(&c.user) {
                            t.users.push(c.user.clone());
                        }
                    }
                }
                None => t.failed.push((StatusCode::ContactListMissing, l.0.clone())),
            }
        }
        t
    }

    /// The publishers a session watches now (before a request changes that).
    fn watched_set(&self, slot: u32) -> HashSet<u32> {
        self.sessions
            .get(slot)
            .and_then(|s| s.presence.as_ref())
            .map(|p| p.watching.iter().map(|w| w.publisher).collect())
            .unwrap_or_default()
    }

    /// Sends one Watch per owner shard for `users`; returns how many were sent. Publishers
    /// in `known` may already have an edge for this session (the publisher's shard looks
    /// for it); for the others it appends without a search, so a storm of new subscribers
    /// costs linear work.
    fn send_watches(
        &mut self,
        slot: u32,
        kind: WatchKind,
        (query, part): (u64, u32),
        wanted: u32,
        users: &[String],
        known: &HashSet<u32>,
    ) -> usize {
        let (Some(session), Some(watcher)) = (
            self.session_ref(slot),
            self.sessions
                .get(slot)
                .and_then(|s| self.users.user(s.user))
                .map(|u| Arc::<str>::from(&*u.id)),
        ) else {
            return 0;
        };
        let shards = u16::try_from(self.shards).unwrap_or(u16::MAX);
        let mut by_shard: Vec<(Vec<Arc<str>>, Vec<bool>)> =
            vec![(Vec::new(), Vec::new()); self.shards];
        for u in users {
            let shard = usize::from(owner_of_key(u, shards).0);
            let name = self.names.intern(u);
            if let (Some(b), Some(text)) = (by_shard.get_mut(shard), self.names.text(name)) {
                b.0.push(text.clone());
                b.1.push(known.contains(&name));
            }
        }
        let mut sent = 0;
        for (shard, (publishers, renew)) in by_shard.into_iter().enumerate() {
            if publishers.is_empty() {
                continue;
            }
            sent += 1;
            let watch = Watch {
                query,
                part,
                kind,
                session,
                watcher: watcher.clone(),
                wanted,
                publishers,
                renew,
            };
            self.send_mesh(shard, PresenceMsg::Watch(watch));
        }
        sent
    }

    /// Sends one Unwatch per owner shard for `publishers` (interned names).
    fn send_unwatches(&mut self, session: SessionRef, publishers: &[u32]) {
        let texts = publishers
            .iter()
            .filter_map(|&p| self.names.text(p).cloned());
        let by_shard = split_by_owner(texts, self.shards, |t| t);
        for (shard, publishers) in by_shard.into_iter().enumerate() {
            if !publishers.is_empty() {
                self.send_mesh(
                    shard,
                    PresenceMsg::Unwatch {
                        session,
                        publishers,
                    },
                );
            }
        }
    }

    /// `SubscribePresence-Request`: answered when every publisher's shard has answered;
    /// the current presence of each follows as notifications.
    pub(crate) fn subscribe_presence(
        &mut self,
        slot: u32,
        req: &SubscribePresenceRequest,
    ) -> Option<StatusCode> {
        let users: Vec<UserId> = req.users.iter().map(|u| u.user_id.clone()).collect();
        let mut t = self.targets(slot, &users, &req.contact_lists);
        let remote = self.take_remote(&mut t.users);
        let wanted = wanted(req.sub_list.as_ref());
        let limit = self.config.max_subscriptions_per_session;
        let follow = req.auto_subscribe != Some(false);
        let direct: Vec<String> = req
            .users
            .iter()
            .filter_map(|u| u.user_id.normalize(&self.config.domain).ok())
            .collect();
        let (remote_direct, direct): (Vec<String>, Vec<String>) =
            direct.into_iter().partition(|u| self.is_remote_user(u));
        let known = self.watched_set(slot);
        let p = self.session_presence(slot)?;
        if p.watching.len() + p.remote.len() + t.users.len() + remote.len() > limit {
            return Some(StatusCode::TooManyContacts);
        }
        if follow {
            for l in &t.lists {
                match p.lists.iter_mut().find(|(x, _)| **x == **l) {
                    Some(entry) => entry.1 = wanted,
                    None => p.lists.push((l.clone().into_boxed_str(), wanted)),
                }
            }
        }
        for d in &direct {
            let n = self.names.intern(d);
            if let Some(p) = self
                .sessions
                .get_mut(slot)
                .and_then(|s| s.presence.as_mut())
            {
                match p.watching.iter_mut().find(|w| w.publisher == n) {
                    Some(w) => w.direct = true,
                    None => p.watching.push(Watching {
                        publisher: n,
                        direct: true,
                    }),
                }
            }
        }
        if t.users.is_empty() && remote.is_empty() && t.failed.is_empty() {
            return Some(StatusCode::InvalidParameter);
        }
        let (query, part) = self.open_part(PartKind::Subscribe);
        let sent = self.send_watches(
            slot,
            WatchKind::Subscribe,
            (query, part),
            wanted,
            &t.users,
            &known,
        );
        let (remote_sent, mut failed) =
            self.subscribe_remote(slot, (query, part), (wanted, &remote_direct), &remote);
        let asked = t.users.len() + remote.len() + t.failed.len();
        failed.extend(t.failed);
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = sent + remote_sent;
            p.asked = asked;
            p.failed = failed;
        }
        None
    }

    /// `UnsubscribePresence-Request`: stops at once.
    pub(crate) fn unsubscribe_presence(
        &mut self,
        slot: u32,
        req: &UnsubscribePresenceRequest,
    ) -> StatusCode {
        let users: Vec<UserId> = req.users.iter().map(|u| u.user_id.clone()).collect();
        let mut t = self.targets(slot, &users, &req.contact_lists);
        let remote = self.take_remote(&mut t.users);
        self.unsubscribe_remote(slot, &remote);
        let names: Vec<u32> = t.users.iter().map(|u| self.names.intern(u)).collect();
        let Some(session) = self.session_ref(slot) else {
            return StatusCode::InvalidSession;
        };
        let Some(p) = self.session_presence(slot) else {
            return StatusCode::InvalidSession;
        };
        p.lists.retain(|(l, _)| !t.lists.iter().any(|x| **x == **l));
        p.watching.retain(|w| !names.contains(&w.publisher));
        self.send_unwatches(session, &names);
        if t.failed.is_empty() {
            StatusCode::Successful
        } else {
            t.failed[0].0
        }
    }

    /// `GetPresence-Request`: answered when every publisher's shard has answered.
    pub(crate) fn get_presence(
        &mut self,
        slot: u32,
        req: &GetPresenceRequest,
    ) -> Option<StatusCode> {
        let users: Vec<UserId> = req.users.iter().map(|u| u.user_id.clone()).collect();
        let mut t = self.targets(slot, &users, &req.contact_lists);
        let remote = self.take_remote(&mut t.users);
        if t.users.is_empty() && remote.is_empty() && t.failed.is_empty() {
            return Some(StatusCode::InvalidParameter);
        }
        let wanted = wanted(req.sub_list.as_ref());
        let (query, part) = self.open_part(PartKind::Get);
        let sent = self.send_watches(
            slot,
            WatchKind::Get,
            (query, part),
            wanted,
            &t.users,
            &HashSet::new(),
        );
        let (remote_sent, mut failed) = self.get_remote(slot, (query, part), wanted, &remote);
        let asked = t.users.len() + remote.len() + t.failed.len();
        failed.extend(t.failed);
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = sent + remote_sent;
            p.asked = asked;
            p.failed = failed;
        }
        None
    }

    /// A publisher shard answered a Watch.
    pub(crate) fn handle_watched(&mut self, w: Watched) {
        let slot = self.slot_of(w.session);
        let mut gone = Vec::new();
        let mut woke = false;
        for (publisher, outcome) in &w.results {
            if w.kind == WatchKind::Get {
                continue;
            }
            let Ok(found) = outcome else {
                // Not watchable (unknown user, limit): forget the subscription.
                if let Some(n) = self.names.find(publisher)
                    && let Some(p) = slot
                        .and_then(|s| self.sessions.get_mut(s))
                        .and_then(|s| s.presence.as_mut())
                {
                    p.watching.retain(|x| x.publisher != n);
                }
                continue;
            };
            let name = self.names.intern_arc(publisher.clone());
            let Some(p) = slot.and_then(|s| self.sessions.get_mut(s)) else {
                gone.push(name);
                continue;
            };
            let p = p.presence.get_or_insert_with(Box::default);
            if !p.watches(name) {
                p.watching.push(Watching {
                    publisher: name,
                    direct: false,
                });
            }
            if let Some((snapshot, m)) = found {
                p.deliver(snapshot, *m);
                woke = true;
                self.deliveries_received += 1;
            }
        }
        if !gone.is_empty() {
            self.send_unwatches(w.session, &gone);
        }
        if woke && let Some(slot) = slot {
            self.wake(slot);
        }
        if w.query == 0 {
            return;
        }
        if let Some(part) = self.part_mut(w.query, w.part) {
            for (publisher, outcome) in w.results {
                match outcome {
                    Err(code) => part.failed.push((code, publisher.to_string())),
                    Ok(Some((snapshot, m))) if w.kind == WatchKind::Get => {
                        part.presences.push(Presence {
                            user_id: Some(UserId(publisher.to_string())),
                            contact_list: None,
                            sub_lists: vec![mask::filtered(&snapshot.values, m)],
                        });
                    }
                    Ok(_) => {}
                }
            }
            part.waiting = part.waiting.saturating_sub(1);
        }
        self.part_answered(w.query);
    }

    /// New presence for sessions of this shard.
    pub(crate) fn handle_deliver(&mut self, snapshot: &Arc<Snapshot>, to: &[(SessionRef, u32)]) {
        for &(r, m) in to {
            let Some(slot) = self.slot_of(r) else {
                continue;
            };
            let Some(s) = self.sessions.get_mut(slot) else {
                continue;
            };
            let p = s.presence.get_or_insert_with(Box::default);
            self.deliveries_received += 1;
            p.deliver(snapshot, m);
            // Woken again whenever the client has been heard from since its last wake-up
            // (`woken` cleared) and presence still waits: a wake-up that was not acted upon
            // (no channel at that moment, the client busy) is repeated, not lost until the
            // next keep-alive.
            if !s.woken {
                self.wake(slot);
            }
        }
    }

    /// A publisher withdrew attributes from sessions of this shard.
    pub(crate) fn handle_restrict(&mut self, publisher: &str, to: &[(SessionRef, u32)]) {
        for &(r, auth) in to {
            if let Some(p) = self
                .slot_of(r)
                .and_then(|slot| self.sessions.get_mut(slot))
                .and_then(|s| s.presence.as_mut())
            {
                p.restrict(publisher, auth);
            }
        }
    }

    /// A session ended: its publishers forget it.
    pub(crate) fn presence_session_ended(&mut self, slot: u32, session: &Session) {
        self.remote_session_ended(session);
        let Some(p) = &session.presence else { return };
        let publishers: Vec<u32> = p.watching.iter().map(|w| w.publisher).collect();
        let r = SessionRef {
            shard: u16::try_from(self.id).unwrap_or(u16::MAX),
            slot,
            serial: session.serial,
        };
        self.send_unwatches(r, &publishers);
    }

    /// The members of a contact list of a local user changed: sessions following the list
    /// watch the added members and drop the removed ones.
    pub(crate) fn followed_list_changed(
        &mut self,
        owner: &str,
        list: &str,
        added: &[String],
        removed: &[String],
    ) {
        let Some(idx) = self.users.find(owner) else {
            return;
        };
        let slots = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for slot in slots {
            let Some(wanted) = self
                .sessions
                .get(slot)
                .and_then(|s| s.presence.as_ref())
                .and_then(|p| p.lists.iter().find(|(l, _)| **l == *list).map(|(_, w)| *w))
            else {
                continue;
            };
            let mut added = added.to_vec();
            let remote_added = self.take_remote(&mut added);
            let remote_removed: Vec<String> = removed
                .iter()
                .filter(|u| self.is_remote_user(u))
                .cloned()
                .collect();
            self.followed_remote_changed(slot, wanted, &remote_added, &remote_removed);
            if !added.is_empty() {
                let known = self.watched_set(slot);
                self.send_watches(slot, WatchKind::Follow, (0, 0), wanted, &added, &known);
            }
            let drop: Vec<u32> = removed
                .iter()
                .filter_map(|u| self.names.find(u))
                .filter(|n| {
                    self.sessions
                        .get(slot)
                        .and_then(|s| s.presence.as_ref())
                        .is_some_and(|p| p.watching.iter().any(|w| w.publisher == *n && !w.direct))
                })
                .collect();
            if drop.is_empty() {
                continue;
            }
            if let Some(p) = self
                .sessions
                .get_mut(slot)
                .and_then(|s| s.presence.as_mut())
            {
                p.watching.retain(|w| !drop.contains(&w.publisher));
            }
            if let Some(r) = self.session_ref(slot) {
                self.send_unwatches(r, &drop);
            }
        }
    }

    /// True when something waits for the session's next poll.
    pub(crate) fn has_queued(&self, slot: u32) -> bool {
        self.sessions.get(slot).is_some_and(|s| {
            s.outbox.has_queued() || s.presence.as_ref().is_some_and(|p| p.has_queued())
        })
    }

    /// Moves waiting presence into the session's outbox as one PresenceNotification-Request.
    pub(crate) fn presence_to_outbox(&mut self, slot: u32, max_presences: usize) {
        let has = self
            .sessions
            .get(slot)
            .and_then(|s| s.presence.as_ref())
            .is_some_and(|p| p.has_queued());
        if !has {
            return;
        }
        let id = self.txn_id();
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        let Some(notification) = s
            .presence
            .as_mut()
            .and_then(|p| p.take_notification(max_presences))
        else {
            return;
        };
        let out = crate::access::outbox::Outgoing {
            id,
            primitive: notification.into(),
        };
        // Presence is already bounded by its own queue: it always fits.
        let limit = s.outbox.queued_len() + 1;
        let _ = s.outbox.push(out, limit);
    }
}
