//! Groups across domains (issue 11), on the group's shard: a remote user's group request is
//! served by the same code as a local user's, through the user's stand-in session (see
//! [`super::remote_members`]), and its CSP answer becomes the SSP one; a remote member's
//! message is posted like a local member's. On a member's shard: messages relayed by a
//! group of another domain and its notices reach the member's sessions.

use std::sync::Arc;

use imps_protocol::common::{CspResult, ScreenName};
use imps_protocol::primitives::{
    GetGroupPropsRequest, GetJoinedUsersRequest, GroupChangeNotice, JoinGroupRequest, Joined,
    LeaveGroupRequest, LeaveGroupResponse, Left, SubscribeGroupNoticeRequest, SubscribeType,
};
use imps_protocol::ssp::Status;
use imps_protocol::ssp::joined::Mapping;
use imps_protocol::types::{GroupId, ScreenNameText, UserId};
use imps_protocol::{Primitive, StatusCode};

use super::messaging::GroupPost;
use super::remote_members::is_remote;
use super::remote_payload::{from_payload, to_payload};
use crate::core::Millis;
use crate::federation::{Answer, GroupChangeAction, RemoteRequest};
use crate::peering::RemoteLetter;
use crate::peering::service_side::ssp_status;
use crate::presence::publication::SessionRef;
use crate::shard::Shard;

impl Shard {
    /// Serves a group request of a user of another domain with the rules of a local user's
    /// (the group's access type, reject list, limits and screen names apply).
    pub(crate) fn serve_group(&mut self, now: Millis, request: RemoteRequest) -> (Status, Answer) {
        let domain = self.config.domain.clone();
        let (user, group) = match &request {
            RemoteRequest::JoinGroup(j) => (&j.user, &j.group),
            RemoteRequest::LeaveGroup { user, group }
            | RemoteRequest::GetJoinedUsers { user, group }
            | RemoteRequest::GetGroupProps { user, group }
            | RemoteRequest::GroupChange { user, group, .. } => (user, group),
            _ => return (ssp_status(StatusCode::BadRequest), Answer::None),
        };
        let Ok(group) = GroupId::from(group.as_str()).normalize(&domain) else {
            return (ssp_status(StatusCode::GroupMissing), Answer::None);
        };
        let Ok(user) = UserId::from(user.as_str()).normalize(&domain) else {
            return (ssp_status(StatusCode::InvalidParameter), Answer::None);
        };
        if !self.is_remote_user(&user) {
            return (ssp_status(StatusCode::Forbidden), Answer::None);
        }
        let group_id = GroupId(group.clone());
        let primitive: Primitive = match request {
            RemoteRequest::JoinGroup(j) => JoinGroupRequest {
                group_id: group_id.clone(),
                screen_name: j.screen_name.map(|s| ScreenName {
                    sname: ScreenNameText(s),
                    group_id: group_id.clone(),
                }),
                joined_request: Some(j.joined_list),
                subscribe_notification: Some(j.subscribe),
                own_properties: j
                    .own_properties
                    .as_ref()
                    .and_then(|p| from_payload(p, "OwnProperties")),
            }
            .into(),
            RemoteRequest::LeaveGroup { .. } => LeaveGroupRequest { group_id }.into(),
            RemoteRequest::GetJoinedUsers { .. } => GetJoinedUsersRequest { group_id }.into(),
            RemoteRequest::GetGroupProps { .. } => GetGroupPropsRequest { group_id }.into(),
            RemoteRequest::GroupChange { action, .. } => SubscribeGroupNoticeRequest {
                group_id,
                subscribe_type: match action {
                    GroupChangeAction::Subscribe => SubscribeType::Subscribe,
                    GroupChangeAction::Unsubscribe => SubscribeType::Unsubscribe,
                    GroupChangeAction::Query => SubscribeType::Get,
                },
            }
            .into(),
            _ => return (ssp_status(StatusCode::BadRequest), Answer::None),
        };
        let asker = self.remote_asker(&user, &group);
        let (answer, _membership) = self.group_request(now, &asker, primitive);
        ssp_answer(answer)
    }

    /// A notice of a group of domain `origin` for local members (of this shard): a forced
    /// leave or a change, to the sessions that joined the group.
    pub(crate) fn group_notice(&mut self, _now: Millis, origin: &str, notice: RemoteRequest) {
        let (group, users, primitive, left) = match notice {
            RemoteRequest::LeftGroup {
                group,
                users,
                status,
                ..
            } => {
                let code = status.map_or(StatusCode::NotGroupMember, |s| StatusCode::from(s.code));
                let p: Primitive = LeaveGroupResponse {
                    group_id: Some(GroupId(group.clone())),
                    result: CspResult::new(code),
                }
                .into();
                (group, users, p, true)
            }
            RemoteRequest::GroupChangeNotice(n) => {
                let names = |list: &[String]| -> Vec<ScreenName> {
                    list.iter()
                        .map(|s| ScreenName {
                            sname: ScreenNameText(s.clone()),
                            group_id: GroupId(n.group.clone()),
                        })
                        .collect()
                };
                let p: Primitive = GroupChangeNotice {
                    group_id: GroupId(n.group.clone()),
                    joined: (!n.joined.is_empty()).then(|| Joined {
                        screen_names: names(&n.joined),
                        user_map_list: None,
                    }),
                    left: (!n.left.is_empty()).then(|| Left {
                        screen_names: names(&n.left),
                        user_list: None,
                    }),
                    properties: n
                        .group_properties
                        .as_ref()
                        .and_then(|p| from_payload(p, "GroupProperties")),
                    own_properties: n
                        .own_properties
                        .as_ref()
                        .and_then(|p| from_payload(p, "OwnProperties")),
                }
                .into();
                (n.group, n.recipients, p, false)
            }
            other => {
                tracing::debug!(%origin, notice = ?other, "not a group notice");
                return;
            }
        };
        let primitive = Arc::new(primitive);
        let left = left.then(|| Arc::<str>::from(group.as_str()));
        for user in users {
            let to = self.member_sessions(&user, &group);
            self.handle_group_notify(&to, &primitive, left.as_ref());
        }
    }

    /// A message of a user of another domain for a local group: 200 or why not (the codes
    /// of a local member's message; 808 when the sender has not joined).
    pub(crate) fn remote_group_message(
        &mut self,
        now: Millis,
        group: &str,
        letter: RemoteLetter,
        to_screen_name: Option<String>,
    ) -> StatusCode {
        let domain = self.config.domain.clone();
        let Ok(group) = GroupId::from(group).normalize(&domain) else {
            return StatusCode::GroupMissing;
        };
        let Ok(sender) = UserId::from(letter.sender.as_str()).normalize(&domain) else {
            return StatusCode::InvalidParameter;
        };
        let Some(g) = self.groups.get(group.as_str()) else {
            return StatusCode::GroupMissing;
        };
        let joined = g
            .joined
            .iter()
            .find(|j| is_remote(j.session) && *j.user == *sender);
        let Some(session) = joined.map(|j| j.session) else {
            return StatusCode::GroupNotJoined;
        };
        let letter = match self.letter_from_remote(now, letter, sender, false) {
            Ok(l) => l,
            Err(code) => return code,
        };
        let post = GroupPost {
            letter,
            group: Arc::from(group),
            to_screen_name: to_screen_name.map(String::into_boxed_str),
            session,
        };
        self.group_post(&post)
    }

    /// A message a group of another domain relays to its local member `recipient` (the
    /// group is the sender): to the member's sessions as a group message.
    pub(crate) fn deliver_from_remote_group(
        &mut self,
        now: Millis,
        recipient: &str,
        letter: RemoteLetter,
    ) -> StatusCode {
        if self.users.find(recipient).is_none() {
            return StatusCode::UnknownUser;
        }
        let group = letter.sender.clone();
        let screen_name = letter.screen_name.clone();
        let letter = match self.letter_from_remote(now, letter, group.clone(), false) {
            Ok(l) => l,
            Err(code) => return code,
        };
        let to = self.member_sessions(recipient, &group);
        self.handle_group_deliver(&letter, &group, screen_name.as_deref(), &to);
        StatusCode::Successful
    }

    /// The active sessions of local `user` that joined `group`; all of them when none did
    /// (the join was not made through a session of this server, or it restarted).
    fn member_sessions(&self, user: &str, group: &str) -> Vec<SessionRef> {
        let Some(u) = self.users.find(user).and_then(|i| self.users.user(i)) else {
            return Vec::new();
        };
        let active: Vec<(u32, bool)> = u
            .sessions
            .iter()
            .filter_map(|&slot| {
                let s = self.sessions.get(slot)?;
                (s.state == crate::access::session::SessionState::Active)
                    .then(|| (slot, s.groups.iter().any(|g| &**g == group)))
            })
            .collect();
        let any_joined = active.iter().any(|(_, j)| *j);
        active
            .into_iter()
            .filter(|(_, j)| *j || !any_joined)
            .filter_map(|(slot, _)| self.session_ref(slot))
            .collect()
    }
}

/// The SSP status and answer of the CSP answer a group request got.
fn ssp_answer(answer: Primitive) -> (Status, Answer) {
    let ok = || ssp_status(StatusCode::Successful);
    let code = |r: &CspResult| ssp_status(csp_code(r.code));
    let mapping = |m: imps_protocol::primitives::Mapping| Mapping {
        screen_name: m.sname.0,
        user_id: m.user_id.map(|u| u.0),
    };
    match answer {
        Primitive::Status(s) => (code(&s.result), Answer::None),
        Primitive::LeaveGroupResponse(r) => (code(&r.result), Answer::None),
        Primitive::JoinGroupResponse(r) => {
            let r = *r;
            let mut joined: Vec<String> = r
                .user_map_list
                .and_then(|l| l.user_mapping)
                .map(|l| l.mappings.into_iter().map(|m| m.sname.0).collect())
                .unwrap_or_default();
            if let Some(list) = r.user_list {
                joined.extend(list.screen_names.into_iter().map(|s| s.sname.0));
            }
            let status = r.result.as_ref().map_or_else(ok, code);
            let answer = Answer::Joined {
                joined,
                welcome_note: r
                    .welcome_note
                    .as_ref()
                    .and_then(|w| to_payload(w, "WelcomeNote")),
            };
            (status, answer)
        }
        Primitive::GetJoinedUsersResponse(r) => {
            let r = *r;
            let users = r
                .user_map_list
                .and_then(|l| l.user_mapping)
                .map(|l| l.mappings.into_iter().map(mapping).collect())
                .unwrap_or_default();
            let admins = Vec::new();
            (ok(), Answer::JoinedUsers { admins, users })
        }
        Primitive::GetGroupPropsResponse(r) => (
            ok(),
            Answer::GroupProps {
                group_properties: r
                    .properties
                    .as_ref()
                    .and_then(|p| to_payload(p, "GroupProperties")),
                own_properties: r
                    .own_properties
                    .as_ref()
                    .and_then(|p| to_payload(p, "OwnProperties")),
            },
        ),
        Primitive::SubscribeGroupNoticeResponse(r) => (ok(), Answer::Subscribed(r.value)),
        other => {
            tracing::debug!(primitive = ?other, "unexpected group answer");
            (ssp_status(StatusCode::ServerError), Answer::None)
        }
    }
}

/// The status code of a CSP result code (500 when out of range).
pub(super) fn csp_code(code: u32) -> StatusCode {
    u16::try_from(code).map_or(StatusCode::ServerError, StatusCode::from)
}
