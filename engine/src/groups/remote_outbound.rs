//! Groups of another domain, on a local member's shard (issue 11): a session's request about
//! such a group leaves for its domain as one part of the CSP answer, and the remote answer
//! becomes the CSP response (joining or leaving is noted on the session, so the group's
//! messages and notices reach it). Messages to such a group go to its domain with the
//! user's other remote recipients (see `im::send`).

use std::sync::Arc;

use imps_protocol::common::{CspResult, ScreenName, UserList};
use imps_protocol::primitives::{
    GetGroupPropsResponse, GetJoinedUsersResponse, JoinGroupResponse, LeaveGroupResponse, Mapping,
    MappingList, Status as CspStatus, SubscribeGroupNoticeResponse, SubscribeType, UserMapList,
};
use imps_protocol::ssp::{Status, domain_of_id};
use imps_protocol::types::{GroupId, ScreenNameText, UserId};
use imps_protocol::{Primitive, StatusCode, Version};

use super::remote_payload::{from_payload, to_payload};
use crate::access::session::SessionState;
use crate::federation::{Answer, GroupChangeAction, GroupJoin, RemoteRequest};
use crate::presence::publication::SessionRef;
use crate::shard::{PartKind, Shard};
use crate::users::UserIdx;

impl Shard {
    /// True when `group` (normalized) is hosted by another domain and federation is on.
    pub(crate) fn is_remote_group(&self, group: &str) -> bool {
        self.is_remote_user(group)
    }

    /// Sends the request of session `slot` about the group `group` of another domain; the
    /// remote answer replaces the transaction. `Some(code)` when it cannot be sent.
    pub(super) fn forward_remote_group_request(
        &mut self,
        slot: u32,
        group: String,
        request: &Primitive,
    ) -> Option<StatusCode> {
        let user = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
            .map(|u| u.id.to_string())?;
        let remote = match request {
            Primitive::JoinGroupRequest(r) => RemoteRequest::JoinGroup(GroupJoin {
                user,
                group,
                screen_name: r
                    .screen_name
                    .as_ref()
                    .map(|s| s.sname.0.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                joined_list: r.joined_request == Some(true),
                subscribe: r.subscribe_notification == Some(true),
                own_properties: r
                    .own_properties
                    .as_ref()
                    .and_then(|p| to_payload(p, "OwnProperties")),
            }),
            Primitive::LeaveGroupRequest(_) => RemoteRequest::LeaveGroup { user, group },
            Primitive::GetJoinedUsersRequest(_) => RemoteRequest::GetJoinedUsers { user, group },
            Primitive::GetGroupPropsRequest(_) => RemoteRequest::GetGroupProps { user, group },
            Primitive::SubscribeGroupNoticeRequest(r) => RemoteRequest::GroupChange {
                user,
                group,
                action: match r.subscribe_type {
                    SubscribeType::Subscribe => GroupChangeAction::Subscribe,
                    SubscribeType::Unsubscribe => GroupChangeAction::Unsubscribe,
                    SubscribeType::Get => GroupChangeAction::Query,
                },
            },
            // Creating, deleting and administering a group stay with its own domain's users.
            _ => return Some(StatusCode::InsufficientGroupPrivileges),
        };
        let (query, part) = self.open_part(PartKind::Remote);
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = 1;
            p.asked = 1;
        }
        if !self.request_remote((query, part), remote)
            && let Some(p) = self.part_mut(query, part)
        {
            p.waiting = 0;
            p.remote = Some(CspStatus::new(StatusCode::ServiceUnavailable).into());
        }
        None
    }

    /// The last session of `user` in the groups of other domains `groups` ended: the user
    /// leaves them (nobody waits for the answer).
    pub(super) fn leave_remote_groups(&mut self, user: UserIdx, groups: &[Arc<str>]) {
        let Some((id, slots)) = self
            .users
            .user(user)
            .map(|u| (u.id.to_string(), u.sessions.clone()))
        else {
            return;
        };
        for group in groups {
            let still_in = slots.iter().any(|&slot| {
                self.sessions
                    .get(slot)
                    .is_some_and(|s| s.groups.iter().any(|g| g == group))
            });
            if !still_in {
                self.remote_joins.remove(&(user, group.clone()));
                let leave = RemoteRequest::LeaveGroup {
                    user: id.clone(),
                    group: group.to_string(),
                };
                self.request_remote((0, 0), leave);
            }
        }
    }

    /// True when an active session of the local `user` is a member of `group`.
    fn holds_remote_group(&self, user: &str, group: &str) -> bool {
        let Some(u) = self.users.find(user).and_then(|i| self.users.user(i)) else {
            return false;
        };
        u.sessions.iter().any(|&slot| {
            self.sessions.get(slot).is_some_and(|s| {
                s.state == SessionState::Active && s.groups.iter().any(|g| &**g == group)
            })
        })
    }

    /// Remembers how the user of `session` joined a group of another domain.
    fn remember_remote_join(&mut self, session: SessionRef, join: &GroupJoin) {
        let Some(idx) = self
            .slot_of(session)
            .and_then(|slot| self.sessions.get(slot))
            .map(|s| s.user)
        else {
            return;
        };
        let join = GroupJoin {
            joined_list: false,
            ..join.clone()
        };
        self.remote_joins
            .insert((idx, Arc::from(join.group.as_str())), join);
    }

    /// The user of `session` left a group of another domain.
    fn forget_remote_join(&mut self, session: SessionRef, group: &str) {
        if let Some(idx) = self
            .slot_of(session)
            .and_then(|slot| self.sessions.get(slot))
            .map(|s| s.user)
        {
            self.remote_joins.remove(&(idx, Arc::from(group)));
        }
    }

    /// A new session with `domain` came up (it may have restarted and forgotten its remote
    /// members): one JoinGroup per (local user, group of that domain) an active session of
    /// the user is a member of, with the screen name and notices of the first join. Nobody
    /// waits: success keeps the membership, a refusal (807 when the group still knows the
    /// member, or any failure) is logged as any late group outcome.
    pub(crate) fn rejoin_remote_groups(&mut self, domain: &str) {
        let mut held: Vec<(UserIdx, Arc<str>)> = Vec::new();
        for s in self.sessions.active() {
            for g in &s.groups {
                let of_domain = domain_of_id(g).is_some_and(|d| d.eq_ignore_ascii_case(domain));
                let key = (s.user, g.clone());
                if of_domain && self.is_remote_group(g) && !held.contains(&key) {
                    held.push(key);
                }
            }
        }
        // Joins nobody holds any more are forgotten.
        let domain_of = |g: &str| domain_of_id(g).map(str::to_ascii_lowercase);
        let ours = domain.to_ascii_lowercase();
        self.remote_joins
            .retain(|k, _| domain_of(&k.1).as_deref() != Some(ours.as_str()) || held.contains(k));
        for (idx, group) in held {
            let Some(user) = self.users.user(idx).map(|u| u.id.to_string()) else {
                continue;
            };
            let join = match self.remote_joins.get(&(idx, group.clone())) {
                Some(j) => GroupJoin { user, ..j.clone() },
                None => GroupJoin {
                    user,
                    group: group.to_string(),
                    screen_name: None,
                    joined_list: false,
                    subscribe: true,
                    own_properties: None,
                },
            };
            if !self.request_remote((0, 0), RemoteRequest::JoinGroup(join)) {
                tracing::debug!(%domain, %group, "remote group join not sent again");
            }
        }
    }

    /// Takes the groups of other domains out of `groups` (a message's recipients): those
    /// addressed as a whole, and the private messages to a screen name in them, which are
    /// not carried across domains (refused with 501).
    pub(crate) fn take_remote_groups(
        &self,
        groups: &mut Vec<(String, Option<Box<str>>)>,
    ) -> (Vec<String>, Vec<(StatusCode, String)>) {
        let (mut whole, mut refused) = (Vec::new(), Vec::new());
        groups.retain(|(g, sname)| {
            if !self.is_remote_group(g) {
                return true;
            }
            match sname {
                None => whole.push(g.clone()),
                Some(_) => refused.push((StatusCode::NotImplemented, g.clone())),
            }
            false
        });
        (whole, refused)
    }

    /// The outcome of a group request a local user sent to another domain.
    pub(crate) fn group_outcome(
        &mut self,
        _now: crate::core::Millis,
        (query, part): (u64, u32),
        request: RemoteRequest,
        status: Status,
        answer: Answer,
    ) {
        let code = StatusCode::from(status.code);
        let ok = code == StatusCode::Successful;
        let session = match query {
            0 => None,
            q => self.query_slot(q).and_then(|s| self.session_ref(s)),
        };
        if let RemoteRequest::JoinGroup(j) = &request
            && ok
            && session.is_none()
            && !self.holds_remote_group(&j.user, &j.group)
        {
            // Joined when nobody waits any more (answered 504 meanwhile, or the session
            // ended), and no session of the user is a member (a join sent again after the
            // group's domain restarted is): leave again rather than stay a member nobody
            // sees.
            let leave = RemoteRequest::LeaveGroup {
                user: j.user.clone(),
                group: j.group.clone(),
            };
            self.request_remote((0, 0), leave);
        }
        if query == 0 {
            tracing::debug!(code = status.code, ?request, "late group outcome");
            return;
        }
        let content: Primitive = match (request, answer) {
            (RemoteRequest::LeaveGroup { group, .. }, _) => {
                if ok && let Some(s) = session {
                    self.note_membership(s, &group.as_str().into(), false);
                    self.forget_remote_join(s, &group);
                }
                LeaveGroupResponse {
                    group_id: Some(GroupId(group)),
                    result: CspResult::new(code),
                }
                .into()
            }
            (_, _) if !ok => CspStatus::new(code).into(),
            (RemoteRequest::JoinGroup(j), answer) => {
                if let Some(s) = session {
                    self.note_membership(s, &j.group.as_str().into(), true);
                    self.remember_remote_join(s, &j);
                }
                let (joined, welcome) = match answer {
                    Answer::Joined {
                        joined,
                        welcome_note,
                    } => (joined, welcome_note),
                    _ => (Vec::new(), None),
                };
                let v1_1 = session
                    .and_then(|s| self.slot_of(s))
                    .and_then(|slot| self.sessions.get(slot))
                    .is_some_and(|s| s.version == Version::V1_1);
                let mut response = JoinGroupResponse {
                    user_list: None,
                    user_map_list: None,
                    welcome_note: welcome.and_then(|w| from_payload(&w, "WelcomeNote")),
                    result: None,
                };
                if j.joined_list && v1_1 {
                    let names = joined.into_iter().map(|n| ScreenName {
                        sname: ScreenNameText(n),
                        group_id: GroupId(j.group.clone()),
                    });
                    response.user_list = Some(UserList {
                        screen_names: names.collect(),
                        ..UserList::default()
                    });
                } else if j.joined_list {
                    response.user_map_list = Some(map_list(joined.into_iter().map(|n| (n, None))));
                }
                response.into()
            }
            (RemoteRequest::GetJoinedUsers { .. }, answer) => {
                let users = match answer {
                    Answer::JoinedUsers { admins, users } => {
                        admins.into_iter().chain(users).collect::<Vec<_>>()
                    }
                    _ => Vec::new(),
                };
                GetJoinedUsersResponse {
                    admin_map_list: None,
                    user_map_list: Some(map_list(
                        users.into_iter().map(|m| (m.screen_name, m.user_id)),
                    )),
                }
                .into()
            }
            (RemoteRequest::GetGroupProps { .. }, answer) => {
                let (props, own) = match answer {
                    Answer::GroupProps {
                        group_properties,
                        own_properties,
                    } => (group_properties, own_properties),
                    _ => (None, None),
                };
                GetGroupPropsResponse {
                    properties: props.and_then(|p| from_payload(&p, "GroupProperties")),
                    own_properties: own.and_then(|p| from_payload(&p, "OwnProperties")),
                }
                .into()
            }
            (
                RemoteRequest::GroupChange {
                    action: GroupChangeAction::Query,
                    ..
                },
                answer,
            ) => SubscribeGroupNoticeResponse {
                value: matches!(answer, Answer::Subscribed(true)),
            }
            .into(),
            _ => CspStatus::new(code).into(),
        };
        if let Some(p) = self.part_mut(query, part) {
            p.remote = Some(content);
            p.waiting = 0;
        }
        self.part_answered(query);
    }
}

/// A `UserMapList` of (screen name, user ID) pairs.
fn map_list(pairs: impl Iterator<Item = (String, Option<String>)>) -> UserMapList {
    UserMapList {
        user_mapping: Some(MappingList {
            mappings: pairs
                .map(|(sname, user_id)| Mapping {
                    sname: ScreenNameText(sname),
                    user_id: user_id.map(UserId),
                })
                .collect(),
        }),
    }
}
