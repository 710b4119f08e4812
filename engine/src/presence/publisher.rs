//! The publisher's shard: publishing a new presence, fanning it out, and keeping watcher
//! edges and their authorizations current.
//!
//! Fan-out walks the publisher's edges once, computes each watcher's mask (authorized and
//! wanted and changed) and appends `(session, mask)` to one batch per destination shard;
//! each batch then travels as one [`PresenceMsg::Deliver`] holding the shared snapshot.

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::primitives::{OnlineStatus, PresenceSubList};

use super::authorize::Authorization;
use super::mask;
use super::mesh::{PresenceMsg, Watch, WatchKind, WatchOutcome, Watched};
use super::publication::{Publication, SessionRef, Snapshot, WatcherEdge};
use crate::core::{Millis, Output};
use crate::shard::{Shard, ShardMsg};
use crate::users::UserIdx;

/// The mask of `snapshot` a watcher sees: authorized (`auth`, with the granted vendor
/// names), wanted and among `changed`.
pub(super) fn visible(
    auth: u32,
    vendor: &[String],
    wanted: u32,
    snapshot: &Snapshot,
    changed: u32,
) -> u32 {
    let known = auth & wanted & changed & mask::KNOWN;
    if auth & mask::VENDOR == 0 || wanted & mask::VENDOR == 0 || changed & mask::UNKNOWN == 0 {
        return known;
    }
    let vendor_bits = if vendor.is_empty() {
        mask::UNKNOWN
    } else {
        mask::vendor_bits(&snapshot.values, vendor)
    };
    known | (vendor_bits & changed)
}

impl Shard {
    /// The publication of `idx`, created on first use (online when the user has sessions).
    pub(crate) fn publication_mut(&mut self, idx: UserIdx) -> Option<&mut Publication> {
        let user = self.users.user_mut(idx)?;
        if user.presence.is_none() {
            let mut p = Publication::new(Arc::from(&*user.id));
            if !user.sessions.is_empty()
                && let Some(s) = Arc::get_mut(&mut p.snapshot)
                && let Some(o) = s.values.online_status.as_mut()
            {
                o.value = Some(true);
            }
            user.presence = Some(Box::new(p));
        }
        user.presence.as_deref_mut()
    }

    /// Merges `update` into the presence of `idx` and tells every authorized watcher.
    pub(crate) fn publish(&mut self, idx: UserIdx, update: &PresenceSubList) {
        let Some(p) = self.publication_mut(idx) else {
            return;
        };
        let mut values = p.snapshot.values.clone();
        values.merge_from(update);
        let mut changed = mask::of_names(update.names()) & mask::KNOWN;
        for raw in &update.unknown {
            if let Some(i) = values
                .unknown
                .iter()
                .position(|v| v.local_name() == raw.local_name())
            {
                changed |= mask::vendor_bit(i);
            }
        }
        let snapshot = Arc::new(Snapshot {
            publisher: p.snapshot.publisher.clone(),
            values,
        });
        p.snapshot = snapshot.clone();
        self.fan_out(idx, &snapshot, changed);
        self.fan_out_remote(idx, &snapshot, changed);
    }

    /// Sends `changed` attributes of `snapshot` to the watchers of `idx`.
    fn fan_out(&mut self, idx: UserIdx, snapshot: &Arc<Snapshot>, changed: u32) {
        let Some(p) = self.users.user(idx).and_then(|u| u.presence.as_deref()) else {
            return;
        };
        let batches = &mut self.fanout;
        if batches.len() < self.shards {
            batches.resize_with(self.shards, Vec::new);
        }
        let mut vendor_edges = Vec::new();
        for edge in &p.watchers {
            if edge.auth & mask::VENDOR != 0 && changed & mask::UNKNOWN != 0 {
                vendor_edges.push(*edge);
                continue;
            }
            let m = edge.auth & edge.wanted & changed & mask::KNOWN;
            if m != 0
                && let Some(batch) = batches.get_mut(usize::from(edge.session.shard))
            {
                batch.push((edge.session, m));
            }
        }
        for edge in vendor_edges {
            let Some(watcher) = self.names.text(edge.user).cloned() else {
                continue;
            };
            let (auth, vendor) = match self.authorization(idx, &watcher) {
                Authorization::Granted(m, v) => (m, v),
                _ => continue,
            };
            let m = visible(auth, &vendor, edge.wanted, snapshot, changed);
            if m != 0
                && let Some(batch) = self.fanout.get_mut(usize::from(edge.session.shard))
            {
                batch.push((edge.session, m));
            }
        }
        for shard in 0..self.fanout.len() {
            if self.fanout[shard].is_empty() {
                continue;
            }
            let to = std::mem::take(&mut self.fanout[shard]);
            self.deliveries_sent += to.len() as u64;
            self.send_mesh(
                shard,
                PresenceMsg::Deliver {
                    snapshot: snapshot.clone(),
                    to,
                },
            );
        }
    }

    /// Sends a presence message to `shard` (this one included: the runtime routes it).
    pub(crate) fn send_mesh(&mut self, shard: usize, msg: PresenceMsg) {
        self.outputs.push_back(Output::ToShard {
            shard,
            msg: ShardMsg::Presence(msg),
        });
    }

    /// OnlineStatus follows the user's sessions unless they set it themselves.
    pub(crate) fn follow_sessions(&mut self, idx: UserIdx) {
        let Some(user) = self.users.user(idx) else {
            return;
        };
        let online = !user.sessions.is_empty();
        let Some(p) = user.presence.as_deref() else {
            return; // nobody watches; a publication created later starts right
        };
        let current = p.snapshot.values.online_status.as_ref();
        if p.user_set_online || current.and_then(|o| o.value) == Some(online) {
            return;
        }
        let update = PresenceSubList {
            online_status: Some(OnlineStatus {
                qualifier: Some(true),
                value: Some(online),
            }),
            ..PresenceSubList::default()
        };
        self.publish(idx, &update);
    }

    /// A watcher shard asks to watch (or read) publishers of this shard.
    pub(crate) fn handle_watch(&mut self, now: Millis, from: usize, w: Watch) {
        let mut results = Vec::with_capacity(w.publishers.len());
        let watcher = self.names.intern_arc(w.watcher.clone());
        for (i, publisher) in w.publishers.iter().enumerate() {
            let renew = w.renew.get(i).copied().unwrap_or(true);
            let outcome = self.watch_one(now, publisher, watcher, renew, &w);
            results.push((publisher.clone(), outcome));
        }
        self.send_mesh(
            from,
            PresenceMsg::Watched(Watched {
                query: w.query,
                part: w.part,
                kind: w.kind,
                session: w.session,
                results,
            }),
        );
    }

    fn watch_one(
        &mut self,
        now: Millis,
        publisher: &str,
        watcher: u32,
        renew: bool,
        w: &Watch,
    ) -> WatchOutcome {
        let idx = self.users.find(publisher).ok_or(StatusCode::UnknownUser)?;
        let authorization = self.authorization(idx, &w.watcher);
        if authorization == Authorization::Undecided {
            self.ask_publisher(now, idx, watcher, w.wanted);
        }
        let limit = self.config.max_watchers_per_user;
        let p = self.publication_mut(idx).ok_or(StatusCode::UnknownUser)?;
        let auth = authorization.mask();
        if w.kind != WatchKind::Get {
            let existing = if renew {
                p.watchers.iter_mut().find(|e| e.session == w.session)
            } else {
                None
            };
            match existing {
                Some(e) => {
                    e.wanted = w.wanted;
                    e.auth = auth;
                }
                None => {
                    if p.watchers.len() >= limit {
                        return Err(StatusCode::TooManyContacts);
                    }
                    p.watchers.push(WatcherEdge {
                        session: w.session,
                        user: watcher,
                        auth,
                        wanted: w.wanted,
                    });
                }
            }
        }
        let snapshot = p.snapshot.clone();
        let vendor = match &authorization {
            Authorization::Granted(_, v) => v.as_slice(),
            _ => &[],
        };
        let m = visible(
            auth,
            vendor,
            w.wanted,
            &snapshot,
            mask::present(&snapshot.values),
        );
        if m != 0 && w.kind != WatchKind::Get {
            self.deliveries_sent += 1;
        }
        Ok((m != 0).then_some((snapshot, m)))
    }

    /// A session stops watching publishers of this shard.
    pub(crate) fn handle_unwatch(
        &mut self,
        now: Millis,
        session: SessionRef,
        publishers: &[Arc<str>],
    ) {
        for publisher in publishers {
            let Some(p) = self
                .users
                .find(publisher)
                .and_then(|i| self.users.user_mut(i))
                .and_then(|u| u.presence.as_deref_mut())
            else {
                continue;
            };
            let mut gone = None;
            p.watchers.retain(|e| {
                let keep = e.session != session;
                if !keep {
                    gone = Some(e.user);
                }
                keep
            });
            if let Some(user) = gone
                && !p.watchers.iter().any(|e| e.user == user)
            {
                p.remember_former(user, now);
            }
        }
    }

    /// Recomputes the authorization of the watchers of `idx` (of one watcher when given)
    /// after a grant changed: newly visible attributes are delivered at once, withdrawn
    /// ones are cut from what waits in the watchers' queues.
    pub(crate) fn reauthorize(&mut self, idx: UserIdx, only: Option<&str>) {
        self.reauthorize_remote(idx, only);
        let Some(p) = self.users.user(idx).and_then(|u| u.presence.as_deref()) else {
            return;
        };
        let edges: Vec<(usize, WatcherEdge)> = p.watchers.iter().copied().enumerate().collect();
        let snapshot = p.snapshot.clone();
        let present = mask::present(&snapshot.values);
        let mut grown: Vec<Vec<(SessionRef, u32)>> = vec![Vec::new(); self.shards];
        let mut shrunk: Vec<Vec<(SessionRef, u32)>> = vec![Vec::new(); self.shards];
        let mut updates = Vec::new();
        for (i, edge) in edges {
            let Some(watcher) = self.names.text(edge.user).cloned() else {
                continue;
            };
            if only.is_some_and(|o| *o != *watcher) {
                continue;
            }
            let authorization = self.authorization(idx, &watcher);
            let auth = authorization.mask();
            if auth == edge.auth {
                continue;
            }
            updates.push((i, auth));
            let shard = usize::from(edge.session.shard);
            if auth & !edge.auth != 0 {
                let vendor = match &authorization {
                    Authorization::Granted(_, v) => v.as_slice(),
                    _ => &[],
                };
                let m = visible(auth, vendor, edge.wanted, &snapshot, present);
                if m != 0
                    && let Some(b) = grown.get_mut(shard)
                {
                    b.push((edge.session, m));
                }
            }
            if edge.auth & !auth != 0
                && let Some(b) = shrunk.get_mut(shard)
            {
                b.push((edge.session, auth));
            }
        }
        if let Some(p) = self
            .users
            .user_mut(idx)
            .and_then(|u| u.presence.as_deref_mut())
        {
            for (i, auth) in updates {
                if let Some(e) = p.watchers.get_mut(i) {
                    e.auth = auth;
                }
            }
        }
        for (shard, to) in shrunk.into_iter().enumerate() {
            if !to.is_empty() {
                let publisher = snapshot.publisher.clone();
                self.send_mesh(shard, PresenceMsg::Restrict { publisher, to });
            }
        }
        for (shard, to) in grown.into_iter().enumerate() {
            if !to.is_empty() {
                let snapshot = snapshot.clone();
                self.send_mesh(shard, PresenceMsg::Deliver { snapshot, to });
            }
        }
    }

    /// [`Shard::reauthorize`] for an owner named by user ID (after a stored change).
    pub(crate) fn reauthorize_owner(&mut self, owner: &str) {
        if let Some(idx) = self.users.find(owner) {
            self.reauthorize(idx, None);
        }
    }
}
