//! The desk's side of the services other than IM: local users' requests go to the
//! federation and their outcomes back to the waiting shard; remote users' requests are split
//! by the shard owning each local user or group, served there, and the answers merged into
//! one SSP answer; notices are split the same way and delivered.

use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::{DetailedResult, PresenceValue, Status};
use imps_protocol::types::{GroupId, UserId};

use super::{Desk, DeskMsg};
use crate::federation::{
    Answer, GroupChangeAction, IncomingMessage, IncomingNotice, IncomingRequest, RemoteRequest,
    RequestResult, status,
};
use crate::peering::shard_side::FederationOp;
use crate::routing::shard_index;
use crate::shard::{Admin, AdminDone, Reply, Request};

/// A local request waiting for its remote answer.
#[derive(Debug)]
pub(super) struct WaitingRequest {
    shard: usize,
    query: u64,
    part: u32,
    deadline: Instant,
    request: RemoteRequest,
}

impl Desk {
    /// Sets up a session with every peer at start (see
    /// [`crate::federation::Federation::greet_peers`]).
    pub(super) fn greet(&mut self) {
        let now = Instant::now();
        self.fed.greet_peers(now);
        self.drain(now);
    }

    /// A new session with `peer` (it may have restarted and forgotten our users'
    /// subscriptions and memberships): every shard sends again what its users hold there.
    pub(super) fn peer_up(&self, peer: String) {
        tracing::info!(%peer, "SSP session up");
        for shard in 0..self.local.shards() {
            let op = FederationOp::PeerUp {
                domain: peer.clone(),
            };
            self.call_shard(Some(shard), op, |_| None);
        }
    }

    /// A local user's request for another domain, answering part (`query`, `part`) of
    /// `shard`.
    pub(super) fn request(
        &mut self,
        now: Instant,
        (shard, query, part): (usize, u64, u32),
        request: RemoteRequest,
    ) {
        let queued = self.fed.request(now, request.clone());
        match queued.result {
            Ok(tid) => {
                if query != 0 {
                    let deadline = now + self.timing.answer_wait;
                    let waiting = WaitingRequest {
                        shard,
                        query,
                        part,
                        deadline,
                        request,
                    };
                    self.requests.insert(tid, waiting);
                }
            }
            Err(code) => {
                self.outcome(
                    Some(shard),
                    (query, part),
                    request,
                    status(code),
                    Answer::None,
                );
            }
        }
    }

    /// A local user's presence for watchers of other domains.
    pub(super) fn presence(&mut self, now: Instant, watchers: &[String], value: PresenceValue) {
        for (watcher, code) in self.fed.notify_presence(now, watchers, value) {
            tracing::debug!(%watcher, code = code.code(), "presence not sent");
        }
    }

    /// The outcome of a local request: to the waiting part, or (answered late, or restored
    /// after a restart) to the asking user's shard with nobody waiting.
    pub(super) fn on_request_result(&mut self, r: RequestResult) {
        let waiting = r
            .transaction_id
            .as_ref()
            .and_then(|tid| self.requests.remove(tid));
        let (shard, at) = match waiting {
            Some(w) => (Some(w.shard), (w.query, w.part)),
            None => (None, (0, 0)),
        };
        if shard.is_none() && r.request.actor().is_none() {
            // A batched presence notice that failed: nobody to tell.
            tracing::debug!(code = r.status.code, request = ?r.request, "remote notice failed");
            return;
        }
        self.outcome(shard, at, r.request, r.status, r.answer);
    }

    /// Answers the parts whose wait is over: a request that changes something stays queued
    /// and counts as accepted (its late failure reaches the user's shard with nobody
    /// waiting); a query times out (504).
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let due: Vec<String> = self
            .requests
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(tid, _)| tid.clone())
            .collect();
        for tid in due {
            let Some(w) = self.requests.remove(&tid) else {
                continue;
            };
            let code = if accepted_when_queued(&w.request) {
                StatusCode::Successful
            } else {
                StatusCode::Timeout
            };
            let at = (w.query, w.part);
            self.outcome(Some(w.shard), at, w.request, status(code), Answer::None);
        }
    }

    /// The earliest deadline of the waiting requests.
    pub(super) fn next_request_deadline(&self) -> Option<Instant> {
        self.requests.values().map(|w| w.deadline).min()
    }

    fn outcome(
        &self,
        shard: Option<usize>,
        (query, part): (u64, u32),
        request: RemoteRequest,
        status: Status,
        answer: Answer,
    ) {
        let user = request.actor().map(str::to_owned).unwrap_or_default();
        let op = FederationOp::Outcome {
            user,
            query,
            part,
            request: Box::new(request),
            status,
            answer: Box::new(answer),
        };
        self.call_shard(shard, op, |_| None);
    }

    /// Serves a remote user's request on the shards of the local users or group it names,
    /// then answers it.
    pub(super) fn serve(&self, r: IncomingRequest) {
        let parts = self.split(&r.request);
        let local = self.local.clone();
        let tx = self.tx.clone();
        self.local.spawn(async move {
            let mut answers = Vec::with_capacity(parts.len());
            for (shard, target, request) in parts {
                let users = request_users(&request);
                let op = FederationOp::Serve {
                    target,
                    request: Box::new(request),
                };
                let served = match local
                    .call_on(shard, Request::Admin(Admin::Federation(op)))
                    .await
                {
                    Ok(Reply::Admin(Ok(AdminDone::Served { status, answer }))) => (status, *answer),
                    _ => (status(StatusCode::ServerError), Answer::None),
                };
                answers.push((served, users));
            }
            let (status, answer) = merge(answers);
            let _ = tx.send(DeskMsg::Served {
                inbound: r.inbound,
                status,
                answer: Box::new(answer),
            });
        });
    }

    /// Delivers a notice to the shards of the local users it names.
    pub(super) fn notice(&self, n: IncomingNotice) {
        for (shard, target, notice) in self.split(&n.notice) {
            let op = FederationOp::Notice {
                target,
                origin: n.origin.clone(),
                notice: Box::new(notice),
            };
            self.call_shard(Some(shard), op, |_| None);
        }
    }

    /// Delivers a remote user's message to a local group (`m.recipients[0]`), then answers.
    pub(super) fn deliver_to_group(&self, m: IncomingMessage) {
        let Some(group) = m.recipients.first().map(|g| self.group_key(g)) else {
            let _ = self.tx.send(DeskMsg::Answered {
                inbound: m.inbound,
                status: status(StatusCode::GroupMissing),
            });
            return;
        };
        let shard = shard_index(&group, self.local.shards());
        let letter = super::inbound_im::remote_letter(&m);
        let op = FederationOp::GroupMessage {
            group,
            letter: Box::new(letter),
            to_screen_name: None,
        };
        let inbound = m.inbound;
        self.call_shard(Some(shard), op, move |done| {
            let code = match done {
                Some(AdminDone::Delivered(code)) => code,
                _ => StatusCode::ServerError,
            };
            Some(DeskMsg::Answered {
                inbound,
                status: status(code),
            })
        });
    }

    fn user_key(&self, user: &str) -> String {
        UserId::from(user)
            .normalize(&self.domain)
            .unwrap_or_else(|_| user.to_owned())
    }

    fn group_key(&self, group: &str) -> String {
        GroupId::from(group)
            .normalize(&self.domain)
            .unwrap_or_else(|_| group.to_owned())
    }

    /// `request` split by the shard that owns each local user (or the group) it is about:
    /// (shard, a local user or group it names, the request for that shard).
    fn split(&self, request: &RemoteRequest) -> Vec<(usize, String, RemoteRequest)> {
        let shards = self.local.shards();
        let by_users = |users: &[String], make: &dyn Fn(Vec<String>) -> RemoteRequest| {
            let mut per: Vec<(usize, String, Vec<String>)> = Vec::new();
            for u in users {
                let key = self.user_key(u);
                let shard = shard_index(&key, shards);
                match per.iter_mut().find(|(s, _, _)| *s == shard) {
                    Some((_, _, list)) => list.push(key),
                    None => per.push((shard, key.clone(), vec![key])),
                }
            }
            per.into_iter()
                .map(|(shard, target, list)| (shard, target, make(list)))
                .collect::<Vec<_>>()
        };
        let one_user = |user: &str| {
            let key = self.user_key(user);
            vec![(shard_index(&key, shards), key, request.clone())]
        };
        let one_group = |group: &str| {
            let key = self.group_key(group);
            vec![(shard_index(&key, shards), key, request.clone())]
        };
        match request {
            RemoteRequest::SubscribePresence {
                watcher,
                users,
                attributes,
            } => by_users(users, &|users| RemoteRequest::SubscribePresence {
                watcher: watcher.clone(),
                users,
                attributes: attributes.clone(),
            }),
            RemoteRequest::UnsubscribePresence { watcher, users } => {
                by_users(users, &|users| RemoteRequest::UnsubscribePresence {
                    watcher: watcher.clone(),
                    users,
                })
            }
            RemoteRequest::GetPresence {
                requester,
                users,
                attributes,
            } => by_users(users, &|users| RemoteRequest::GetPresence {
                requester: requester.clone(),
                users,
                attributes: attributes.clone(),
            }),
            RemoteRequest::GetUserProfile { requester, users } => {
                by_users(users, &|users| RemoteRequest::GetUserProfile {
                    requester: requester.clone(),
                    users,
                })
            }
            RemoteRequest::PresenceNotification { watchers, values } => {
                by_users(watchers, &|watchers| RemoteRequest::PresenceNotification {
                    watchers,
                    values: values.clone(),
                })
            }
            RemoteRequest::LeftGroup {
                group,
                users,
                status,
                reason,
            } => by_users(users, &|users| RemoteRequest::LeftGroup {
                group: group.clone(),
                users,
                status: status.clone(),
                reason: reason.clone(),
            }),
            RemoteRequest::GroupChangeNotice(n) => by_users(&n.recipients, &|recipients| {
                let mut n = n.clone();
                n.recipients = recipients;
                RemoteRequest::GroupChangeNotice(n)
            }),
            RemoteRequest::Invite(inv) => one_user(&inv.invited),
            RemoteRequest::InviteAnswer(a) => one_user(&a.inviting),
            RemoteRequest::CancelInvite(c) => one_user(&c.canceled),
            RemoteRequest::UpdateUserProfile { profile, .. } => one_user(&profile.user_id),
            RemoteRequest::JoinGroup(j) => one_group(&j.group),
            RemoteRequest::LeaveGroup { group, .. }
            | RemoteRequest::GetJoinedUsers { group, .. }
            | RemoteRequest::GetGroupProps { group, .. }
            | RemoteRequest::GroupChange { group, .. } => one_group(group),
        }
    }
}

/// True when a request that waited too long stays queued and counts as accepted; false for
/// a query, whose asker needs the answer itself.
pub(crate) fn accepted_when_queued(request: &RemoteRequest) -> bool {
    match request {
        RemoteRequest::GetPresence { .. }
        | RemoteRequest::JoinGroup(_)
        | RemoteRequest::GetJoinedUsers { .. }
        | RemoteRequest::GetGroupProps { .. }
        | RemoteRequest::GetUserProfile { .. } => false,
        RemoteRequest::GroupChange { action, .. } => *action != GroupChangeAction::Query,
        _ => true,
    }
}

/// The users a request served on one shard is about (to name them in a failure).
fn request_users(request: &RemoteRequest) -> Vec<String> {
    match request {
        RemoteRequest::SubscribePresence { users, .. }
        | RemoteRequest::UnsubscribePresence { users, .. }
        | RemoteRequest::GetPresence { users, .. }
        | RemoteRequest::GetUserProfile { users, .. } => users.clone(),
        RemoteRequest::Invite(inv) => vec![inv.invited.clone()],
        _ => Vec::new(),
    }
}

/// One SSP answer from the answers of several shards: 200 when all succeeded, the one
/// answer when there is one, else 201 naming the failed users.
fn merge(mut answers: Vec<((Status, Answer), Vec<String>)>) -> (Status, Answer) {
    if answers.len() == 1
        && let Some((one, _)) = answers.pop()
    {
        return one;
    }
    let mut merged = Answer::None;
    let mut failed: Vec<DetailedResult> = Vec::new();
    let mut any_ok = false;
    for ((status, answer), users) in answers {
        match status.code {
            200 => any_ok = true,
            201 => {
                any_ok = true;
                failed.extend(status.detailed);
            }
            code => failed.push(DetailedResult {
                code,
                user_ids: users,
                ..Default::default()
            }),
        }
        merged = match (merged, answer) {
            (Answer::Presence(mut a), Answer::Presence(b)) => {
                a.extend(b);
                Answer::Presence(a)
            }
            (Answer::Profiles(mut a), Answer::Profiles(b)) => {
                a.extend(b);
                Answer::Profiles(a)
            }
            (Answer::None, b) => b,
            (a, _) => a,
        };
    }
    let status = match (failed.is_empty(), any_ok) {
        (true, _) => status(StatusCode::Successful),
        (false, false) if failed.iter().all(|d| d.code == failed[0].code) => {
            let mut s = status(StatusCode::from(failed[0].code));
            s.detailed = failed;
            s
        }
        (false, _) => {
            let mut s = Status::new(201);
            s.detailed = failed;
            s
        }
    };
    (status, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_several_shards_merge_into_one() {
        let ok = (
            (status(StatusCode::Successful), Answer::None),
            vec!["wv:a@x".to_owned()],
        );
        let unknown = (
            (status(StatusCode::UnknownUser), Answer::None),
            vec!["wv:b@x".to_owned()],
        );
        assert_eq!(merge(vec![ok.clone(), ok.clone()]).0.code, 200);
        let partial = merge(vec![ok.clone(), unknown.clone()]).0;
        assert_eq!(partial.code, 201);
        assert_eq!(partial.detailed[0].user_ids, vec!["wv:b@x".to_owned()]);
        assert_eq!(merge(vec![unknown.clone(), unknown]).0.code, 531);
        let a = PresenceValue {
            user_id: "wv:a@x".into(),
            sub_lists: Vec::new(),
        };
        let with = |v: &PresenceValue| {
            (
                (
                    status(StatusCode::Successful),
                    Answer::Presence(vec![v.clone()]),
                ),
                Vec::new(),
            )
        };
        assert_eq!(
            merge(vec![with(&a), with(&a)]).1,
            Answer::Presence(vec![a.clone(), a])
        );
    }

    #[test]
    fn queries_are_not_accepted_when_queued() {
        let get = RemoteRequest::GetPresence {
            requester: "wv:a@x".into(),
            users: vec!["wv:b@y".into()],
            attributes: None,
        };
        assert!(!accepted_when_queued(&get));
        let sub = RemoteRequest::UnsubscribePresence {
            watcher: "wv:a@x".into(),
            users: vec!["wv:b@y".into()],
        };
        assert!(accepted_when_queued(&sub));
    }
}
