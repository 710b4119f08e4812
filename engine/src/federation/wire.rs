//! [`RemoteRequest`]s on the wire: each variant to its SSP primitive (SSP.md §5; `MetaInfo`
//! names the local domain and the acting user) and back from a received one.

use imps_protocol::StatusCode;
use imps_protocol::ssp::extension::{GetUserProfileRequest, UpdateUserProfileRequest};
use imps_protocol::ssp::relay::{
    CancelInviteRequest, GetGroupPropsRequest, GetPresenceRequest, GroupChangeNotice,
    GroupChangeSubscription, InviteRequest, InviteResponse, JoinGroupRequest, LeaveGroupIndication,
    LeaveGroupRequest, NameList, PresenceNotification, SubscribeRequest, UnsubscribeRequest,
};
use imps_protocol::ssp::{Content, MetaInfo, Party, ScreenName, Status, User};

use super::request::{
    GroupChangeAction, GroupJoin, GroupNotice, Invitation, InvitationAnswer, InvitationCancel,
    RemoteRequest,
};

fn users(ids: &[String]) -> Vec<User> {
    ids.iter().map(User::new).collect()
}

fn user_ids(users: &[User]) -> Vec<String> {
    users.iter().map(|u| u.user_id.clone()).collect()
}

fn first_user(p: &Option<Party>) -> Option<String> {
    p.as_ref()
        .and_then(|p| p.users.first())
        .map(|u| u.user_id.clone())
}

fn requester_of(meta: &Option<MetaInfo>) -> Option<String> {
    meta.as_ref()
        .and_then(|m| m.user.as_ref())
        .map(|u| u.user_id.clone())
}

/// `MetaInfo` of a request sent by `local` for `user` (none: the server itself).
pub(crate) fn meta(local: &str, user: Option<&str>) -> Option<MetaInfo> {
    Some(MetaInfo {
        client_originated: user.is_some(),
        requestor_domain: local.to_owned(),
        user: user.map(User::new),
    })
}

impl RemoteRequest {
    /// The SSP primitive, sent by the domain `local`.
    pub(crate) fn to_content(&self, local: &str) -> Content {
        let meta = |user: Option<&str>| meta(local, user);
        match self {
            Self::SubscribePresence {
                watcher,
                users,
                attributes,
            } => Content::SubscribeRequest(SubscribeRequest {
                meta_info: meta(Some(watcher)),
                user_ids: users.clone(),
                attribute_list: attributes.clone(),
            }),
            Self::UnsubscribePresence { watcher, users } => {
                Content::UnsubscribeRequest(UnsubscribeRequest {
                    meta_info: meta(Some(watcher)),
                    user_ids: users.clone(),
                })
            }
            Self::GetPresence {
                requester,
                users,
                attributes,
            } => Content::GetPresenceRequest(GetPresenceRequest {
                meta_info: meta(Some(requester)),
                user_ids: users.clone(),
                attribute_list: attributes.clone(),
            }),
            Self::PresenceNotification { watchers, values } => {
                Content::PresenceNotification(PresenceNotification {
                    meta_info: meta(None),
                    recipients: users(watchers),
                    values: values.clone(),
                })
            }
            Self::Invite(i) => Content::InviteRequest(InviteRequest {
                invite_id: i.invite_id.clone(),
                invite_type: i.invite_type.clone(),
                validity: i.validity,
                meta_info: meta(Some(&i.inviting)),
                inviting: Some(Party::user(i.inviting.clone())),
                invited: Some(Party::user(i.invited.clone())),
                group_id: i.group_id.iter().cloned().collect(),
                attribute_list: i.attributes.clone(),
                invite_note: i.note.clone(),
                ..InviteRequest::default()
            }),
            Self::InviteAnswer(a) => Content::InviteResponse(InviteResponse {
                invite_id: a.invite_id.clone(),
                acceptance: Some(a.accepted),
                status: Some(Status::new(200)),
                inviting: Some(Party::user(a.inviting.clone())),
                responding: Some(Party::user(a.responding.clone())),
                response_note: a.note.clone(),
                screen_name: None,
            }),
            Self::CancelInvite(c) => Content::CancelInviteRequest(CancelInviteRequest {
                invite_id: c.invite_id.clone(),
                meta_info: meta(Some(&c.canceling)),
                canceling: Some(Party::user(c.canceling.clone())),
                canceled: Some(Party::user(c.canceled.clone())),
                group_id: c.group_id.clone(),
                cancel_note: c.note.clone(),
            }),
            Self::JoinGroup(j) => Content::JoinGroupRequest(JoinGroupRequest {
                group_id: j.group.clone(),
                joined_list_request: Some(j.joined_list),
                subscribe_notif: Some(j.subscribe),
                meta_info: meta(Some(&j.user)),
                screen_name: j.screen_name.as_ref().map(|n| ScreenName {
                    group_id: Some(j.group.clone()),
                    name: n.clone(),
                }),
                own_properties: j.own_properties.clone(),
            }),
            Self::LeaveGroup { user, group } => Content::LeaveGroupRequest(LeaveGroupRequest {
                group_id: group.clone(),
                meta_info: meta(Some(user)),
            }),
            Self::LeftGroup {
                group,
                users: removed,
                status,
                reason,
            } => Content::LeaveGroupIndication(LeaveGroupIndication {
                group_id: group.clone(),
                recipients: users(removed),
                status: status.clone(),
                reason: reason.clone(),
            }),
            Self::GetJoinedUsers { user, group } => {
                Content::GetJoinedUsersRequest(GroupChangeSubscription {
                    group_id: group.clone(),
                    meta_info: meta(Some(user)),
                })
            }
            Self::GetGroupProps { user, group } => {
                Content::GetGroupPropsRequest(GetGroupPropsRequest {
                    group_id: group.clone(),
                    meta_info: meta(Some(user)),
                })
            }
            Self::GroupChange {
                user,
                group,
                action,
            } => {
                let s = GroupChangeSubscription {
                    group_id: group.clone(),
                    meta_info: meta(Some(user)),
                };
                match action {
                    GroupChangeAction::Subscribe => Content::SubscribeGroupChangeRequest(s),
                    GroupChangeAction::Unsubscribe => Content::UnsubscribeGroupChangeRequest(s),
                    GroupChangeAction::Query => Content::GetGroupSubStatusRequest(s),
                }
            }
            Self::GroupChangeNotice(n) => Content::GroupChangeNotice(GroupChangeNotice {
                group_id: n.group.clone(),
                recipients: users(&n.recipients),
                joined: names(&n.joined),
                left: names(&n.left),
                group_properties: n.group_properties.clone(),
                own_properties: n.own_properties.clone(),
                ..GroupChangeNotice::default()
            }),
            Self::GetUserProfile {
                requester,
                users: ids,
            } => Content::GetUserProfileRequest(GetUserProfileRequest {
                meta_info: meta(Some(requester)),
                user_ids: ids.clone(),
            }),
            Self::UpdateUserProfile { requester, profile } => {
                Content::UpdateUserProfileRequest(UpdateUserProfileRequest {
                    meta_info: meta(Some(requester)),
                    profile: profile.clone(),
                })
            }
        }
    }

    /// The request a received primitive carries: `None` for primitives that are not
    /// requests of this kind (IM, answers, the agreement, unknown ones), `Err(402)` when a
    /// party is missing.
    pub(crate) fn from_content(content: &Content) -> Option<Result<Self, StatusCode>> {
        let missing = StatusCode::InvalidParameter;
        let actor = |m: &Option<MetaInfo>| requester_of(m).ok_or(missing);
        let r = match content {
            Content::SubscribeRequest(r) => actor(&r.meta_info).map(|w| Self::SubscribePresence {
                watcher: w,
                users: r.user_ids.clone(),
                attributes: r.attribute_list.clone(),
            }),
            Content::UnsubscribeRequest(r) => {
                actor(&r.meta_info).map(|w| Self::UnsubscribePresence {
                    watcher: w,
                    users: r.user_ids.clone(),
                })
            }
            Content::GetPresenceRequest(r) => actor(&r.meta_info).map(|w| Self::GetPresence {
                requester: w,
                users: r.user_ids.clone(),
                attributes: r.attribute_list.clone(),
            }),
            Content::PresenceNotification(r) => Ok(Self::PresenceNotification {
                watchers: user_ids(&r.recipients),
                values: r.values.clone(),
            }),
            Content::InviteRequest(r) => {
                match (
                    first_user(&r.inviting).or(requester_of(&r.meta_info)),
                    first_user(&r.invited),
                ) {
                    (Some(inviting), Some(invited)) => Ok(Self::Invite(Invitation {
                        invite_id: r.invite_id.clone(),
                        inviting,
                        invited,
                        invite_type: r.invite_type.clone(),
                        validity: r.validity,
                        group_id: r.group_id.first().cloned(),
                        attributes: r.attribute_list.clone(),
                        note: r.invite_note.clone(),
                    })),
                    _ => Err(missing),
                }
            }
            Content::InviteResponse(r) => {
                match (first_user(&r.inviting), first_user(&r.responding)) {
                    (Some(inviting), Some(responding)) => {
                        Ok(Self::InviteAnswer(InvitationAnswer {
                            invite_id: r.invite_id.clone(),
                            inviting,
                            responding,
                            accepted: r.acceptance.unwrap_or(false),
                            note: r.response_note.clone(),
                        }))
                    }
                    _ => Err(missing),
                }
            }
            Content::CancelInviteRequest(r) => {
                match (
                    first_user(&r.canceling).or(requester_of(&r.meta_info)),
                    first_user(&r.canceled),
                ) {
                    (Some(canceling), Some(canceled)) => Ok(Self::CancelInvite(InvitationCancel {
                        invite_id: r.invite_id.clone(),
                        canceling,
                        canceled,
                        group_id: r.group_id.clone(),
                        note: r.cancel_note.clone(),
                    })),
                    _ => Err(missing),
                }
            }
            Content::JoinGroupRequest(r) => actor(&r.meta_info).map(|user| {
                Self::JoinGroup(GroupJoin {
                    user,
                    group: r.group_id.clone(),
                    screen_name: r.screen_name.as_ref().map(|s| s.name.clone()),
                    joined_list: r.joined_list_request.unwrap_or(false),
                    subscribe: r.subscribe_notif.unwrap_or(false),
                    own_properties: r.own_properties.clone(),
                })
            }),
            Content::LeaveGroupRequest(r) => actor(&r.meta_info).map(|user| Self::LeaveGroup {
                user,
                group: r.group_id.clone(),
            }),
            Content::LeaveGroupIndication(r) => Ok(Self::LeftGroup {
                group: r.group_id.clone(),
                users: user_ids(&r.recipients),
                status: r.status.clone(),
                reason: r.reason.clone(),
            }),
            Content::GetJoinedUsersRequest(r) => {
                actor(&r.meta_info).map(|user| Self::GetJoinedUsers {
                    user,
                    group: r.group_id.clone(),
                })
            }
            Content::GetGroupPropsRequest(r) => {
                actor(&r.meta_info).map(|user| Self::GetGroupProps {
                    user,
                    group: r.group_id.clone(),
                })
            }
            Content::SubscribeGroupChangeRequest(r) => {
                group_change(r, GroupChangeAction::Subscribe)
            }
            Content::UnsubscribeGroupChangeRequest(r) => {
                group_change(r, GroupChangeAction::Unsubscribe)
            }
            Content::GetGroupSubStatusRequest(r) => group_change(r, GroupChangeAction::Query),
            Content::GroupChangeNotice(r) => Ok(Self::GroupChangeNotice(GroupNotice {
                group: r.group_id.clone(),
                recipients: user_ids(&r.recipients),
                joined: r
                    .joined
                    .as_ref()
                    .map(|n| n.names.clone())
                    .unwrap_or_default(),
                left: r.left.as_ref().map(|n| n.names.clone()).unwrap_or_default(),
                group_properties: r.group_properties.clone(),
                own_properties: r.own_properties.clone(),
            })),
            Content::GetUserProfileRequest(r) => {
                actor(&r.meta_info).map(|requester| Self::GetUserProfile {
                    requester,
                    users: r.user_ids.clone(),
                })
            }
            Content::UpdateUserProfileRequest(r) => {
                actor(&r.meta_info).map(|requester| Self::UpdateUserProfile {
                    requester,
                    profile: r.profile.clone(),
                })
            }
            _ => return None,
        };
        Some(r)
    }
}

fn group_change(
    r: &GroupChangeSubscription,
    action: GroupChangeAction,
) -> Result<RemoteRequest, StatusCode> {
    let user = requester_of(&r.meta_info).ok_or(StatusCode::InvalidParameter)?;
    Ok(RemoteRequest::GroupChange {
        user,
        group: r.group_id.clone(),
        action,
    })
}

fn names(list: &[String]) -> Option<NameList> {
    (!list.is_empty()).then(|| NameList {
        names: list.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use imps_protocol::Limits;
    use imps_protocol::ssp::extension::UserProfile;
    use imps_protocol::ssp::{
        Mode, PresenceValue, SessionBlock, SspMessage, Transaction, decode_ssp, encode_ssp,
    };

    use super::*;

    fn every_variant() -> Vec<RemoteRequest> {
        let alice = "wv:alice@a.test".to_owned();
        let bob = "wv:bob@b.test".to_owned();
        let group = "wv:bob/chat@b.test".to_owned();
        vec![
            RemoteRequest::SubscribePresence {
                watcher: alice.clone(),
                users: vec![bob.clone()],
                attributes: None,
            },
            RemoteRequest::UnsubscribePresence {
                watcher: alice.clone(),
                users: vec![bob.clone()],
            },
            RemoteRequest::GetPresence {
                requester: alice.clone(),
                users: vec![bob.clone()],
                attributes: None,
            },
            RemoteRequest::PresenceNotification {
                watchers: vec![bob.clone()],
                values: vec![PresenceValue {
                    user_id: alice.clone(),
                    sub_lists: Vec::new(),
                }],
            },
            RemoteRequest::Invite(Invitation {
                invite_id: "i1".into(),
                inviting: alice.clone(),
                invited: bob.clone(),
                invite_type: Some("GR".into()),
                validity: Some(60),
                group_id: Some(group.clone()),
                attributes: None,
                note: Some("join us".into()),
            }),
            RemoteRequest::InviteAnswer(InvitationAnswer {
                invite_id: "i1".into(),
                inviting: alice.clone(),
                responding: bob.clone(),
                accepted: true,
                note: Some("ok".into()),
            }),
            RemoteRequest::CancelInvite(InvitationCancel {
                invite_id: "i1".into(),
                canceling: alice.clone(),
                canceled: bob.clone(),
                group_id: Some(group.clone()),
                note: Some("sorry".into()),
            }),
            RemoteRequest::JoinGroup(GroupJoin {
                user: alice.clone(),
                group: group.clone(),
                screen_name: Some("Ali".into()),
                joined_list: true,
                subscribe: false,
                own_properties: None,
            }),
            RemoteRequest::LeaveGroup {
                user: alice.clone(),
                group: group.clone(),
            },
            RemoteRequest::LeftGroup {
                group: group.clone(),
                users: vec![alice.clone()],
                status: Some(Status::new(200)),
                reason: Some("closed".into()),
            },
            RemoteRequest::GetJoinedUsers {
                user: alice.clone(),
                group: group.clone(),
            },
            RemoteRequest::GetGroupProps {
                user: alice.clone(),
                group: group.clone(),
            },
            RemoteRequest::GroupChange {
                user: alice.clone(),
                group: group.clone(),
                action: GroupChangeAction::Subscribe,
            },
            RemoteRequest::GroupChange {
                user: alice.clone(),
                group: group.clone(),
                action: GroupChangeAction::Unsubscribe,
            },
            RemoteRequest::GroupChange {
                user: alice.clone(),
                group: group.clone(),
                action: GroupChangeAction::Query,
            },
            RemoteRequest::GroupChangeNotice(GroupNotice {
                group,
                recipients: vec![alice.clone()],
                joined: vec!["Bert".into()],
                left: vec!["Carl".into()],
                group_properties: None,
                own_properties: None,
            }),
            RemoteRequest::GetUserProfile {
                requester: alice.clone(),
                users: vec![bob.clone()],
            },
            RemoteRequest::UpdateUserProfile {
                requester: alice,
                profile: UserProfile {
                    user_id: bob,
                    active: Some(true),
                    settings: vec![("location".into(), "off".into())],
                    ..UserProfile::default()
                },
            },
        ]
    }

    #[test]
    fn every_request_survives_the_wire() {
        for request in every_variant() {
            let message = SspMessage::Session(SessionBlock {
                session_id: "1@a.test".into(),
                transactions: vec![Transaction::new(
                    Mode::Request,
                    "t",
                    request.to_content("a.test"),
                )],
            });
            let decoded = decode_ssp(&encode_ssp(&message), &Limits::default()).expect("decodes");
            let SspMessage::Session(block) = decoded else {
                panic!("session expected");
            };
            let content = &block.transactions[0].content;
            assert_eq!(content.check_origin("a.test"), Ok(()), "{request:?}");
            assert_eq!(
                RemoteRequest::from_content(content),
                Some(Ok(request.clone()))
            );
        }
    }

    #[test]
    fn a_request_without_its_actor_is_refused_402() {
        let content = Content::SubscribeRequest(SubscribeRequest {
            meta_info: None,
            user_ids: vec!["wv:bob@b.test".into()],
            attribute_list: None,
        });
        assert_eq!(
            RemoteRequest::from_content(&content),
            Some(Err(StatusCode::InvalidParameter))
        );
        assert_eq!(
            RemoteRequest::from_content(&Content::Status(Status::new(200))),
            None
        );
    }
}
