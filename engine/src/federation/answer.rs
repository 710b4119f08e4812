//! Answers to [`RemoteRequest`]s both ways: the SSP response primitive the shards' answer
//! becomes ([`response`]), and the status and [`Answer`] a received response carries
//! ([`read`]).

use imps_protocol::ssp::extension::GetUserProfileResponse;
use imps_protocol::ssp::joined::GetJoinedUsersResponse;
use imps_protocol::ssp::relay::{
    GetGroupPropsResponse, GetGroupSubStatusResponse, GetPresenceResponse, JoinGroupResponse,
    NameList,
};
use imps_protocol::ssp::{Content, Status};

use super::request::{Answer, GroupChangeAction, RemoteRequest};

/// The response primitive answering `request` with `status` and `answer`. An answer that
/// does not fit the request (say, presence values for a join) is dropped: only the status
/// goes back.
pub(crate) fn response(request: &RemoteRequest, status: Status, answer: Answer) -> Content {
    match (request, answer) {
        (RemoteRequest::GetPresence { .. }, answer) => {
            Content::GetPresenceResponse(GetPresenceResponse {
                status,
                values: match answer {
                    Answer::Presence(v) => v,
                    _ => Vec::new(),
                },
            })
        }
        (RemoteRequest::JoinGroup(_), answer) => {
            let (joined, welcome_note) = match answer {
                Answer::Joined {
                    joined,
                    welcome_note,
                } => (joined, welcome_note),
                _ => (Vec::new(), None),
            };
            Content::JoinGroupResponse(JoinGroupResponse {
                status,
                joined_list: (!joined.is_empty()).then_some(NameList { names: joined }),
                welcome_note,
            })
        }
        (RemoteRequest::GetJoinedUsers { .. }, answer) => {
            let (admins, users) = match answer {
                Answer::JoinedUsers { admins, users } => (admins, users),
                _ => (Vec::new(), Vec::new()),
            };
            Content::GetJoinedUsersResponse(GetJoinedUsersResponse {
                status: Some(status),
                admins,
                users,
                blocked: Vec::new(),
            })
        }
        (RemoteRequest::GetGroupProps { .. }, answer) => {
            let (group_properties, own_properties) = match answer {
                Answer::GroupProps {
                    group_properties,
                    own_properties,
                } => (group_properties, own_properties),
                _ => (None, None),
            };
            Content::GetGroupPropsResponse(GetGroupPropsResponse {
                status: Some(status),
                group_properties,
                own_properties,
            })
        }
        (
            RemoteRequest::GroupChange {
                group,
                action: GroupChangeAction::Query,
                ..
            },
            answer,
        ) => Content::GetGroupSubStatusResponse(GetGroupSubStatusResponse {
            group_id: group.clone(),
            subscribed: Some(matches!(answer, Answer::Subscribed(true))),
            status: Some(status),
        }),
        (RemoteRequest::GetUserProfile { .. }, answer) => {
            Content::GetUserProfileResponse(GetUserProfileResponse {
                status,
                profiles: match answer {
                    Answer::Profiles(p) => p,
                    _ => Vec::new(),
                },
            })
        }
        _ => Content::Status(status),
    }
}

/// The status and answer a received response carries (a missing status reads as 200).
pub(crate) fn read(content: Content) -> (Status, Answer) {
    let ok = || Status::new(200);
    match content {
        Content::GetPresenceResponse(r) => (r.status, Answer::Presence(r.values)),
        Content::JoinGroupResponse(r) => (
            r.status,
            Answer::Joined {
                joined: r.joined_list.map(|l| l.names).unwrap_or_default(),
                welcome_note: r.welcome_note,
            },
        ),
        Content::GetJoinedUsersResponse(r) => (
            r.status.unwrap_or_else(ok),
            Answer::JoinedUsers {
                admins: r.admins,
                users: r.users,
            },
        ),
        Content::GetGroupPropsResponse(r) => (
            r.status.unwrap_or_else(ok),
            Answer::GroupProps {
                group_properties: r.group_properties,
                own_properties: r.own_properties,
            },
        ),
        Content::GetGroupSubStatusResponse(r) => (
            r.status.unwrap_or_else(ok),
            Answer::Subscribed(r.subscribed.unwrap_or(false)),
        ),
        Content::GetUserProfileResponse(r) => (r.status, Answer::Profiles(r.profiles)),
        other => (super::im::answer_status(&other), Answer::None),
    }
}
