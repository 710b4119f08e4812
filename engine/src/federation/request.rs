//! The services other than IM across domains (SSP.md §5, §7) as the shards see them: one
//! [`RemoteRequest`] type for both directions. A local user's request goes out with
//! [`super::Federation::request`] and comes back as [`super::Event::RequestResult`]; a remote
//! user's request arrives as [`super::Event::Request`] (answer it with
//! [`super::Federation::answer_request`]) or, for one-way notices, as
//! [`super::Event::Notice`] (answered 200 by the federation itself).
//!
//! This module names the domain a request goes to, the user who acts in it (anti-spoofing)
//! and the feature group it belongs to (agreement); the private `wire` module maps it to and from its
//! SSP primitive.

use imps_protocol::ssp::extension::{FeatureGroup, UserProfile};
use imps_protocol::ssp::{Payload, PresenceValue, Status, domain_of_id};

use super::im::InboundId;

/// What a group change subscription request does (CSP SubscribeGroupNotice type S, U, G).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupChangeAction {
    /// Subscribe to change notices (`SubscribeGroupChangeRequest`).
    Subscribe,
    /// End the subscription (`UnsubscribeGroupChangeRequest`).
    Unsubscribe,
    /// Ask whether subscribed (`GetGroupSubStatusRequest`).
    Query,
}

/// An invitation (`InviteRequest`), one per invitee.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invitation {
    /// The inviter's invitation id.
    pub invite_id: String,
    /// The inviter.
    pub inviting: String,
    /// The invitee.
    pub invited: String,
    /// `IM`, `GR`, `PR`, `SC`, ...
    pub invite_type: Option<String>,
    /// Seconds it stays valid.
    pub validity: Option<u32>,
    /// The group invited to.
    pub group_id: Option<String>,
    /// Presence attributes offered (CSP format).
    pub attributes: Option<Payload>,
    /// Text.
    pub note: Option<String>,
}

/// The invitee's answer (`InviteResponse`), to the inviter's domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvitationAnswer {
    /// The invitation.
    pub invite_id: String,
    /// The inviter (the answer goes to this user).
    pub inviting: String,
    /// The answering invitee.
    pub responding: String,
    /// True when accepted.
    pub accepted: bool,
    /// Text.
    pub note: Option<String>,
}

/// A withdrawn invitation (`CancelInviteRequest`), to the invitee's domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvitationCancel {
    /// The invitation.
    pub invite_id: String,
    /// The inviter who withdraws.
    pub canceling: String,
    /// The invitee.
    pub canceled: String,
    /// The group of the invitation.
    pub group_id: Option<String>,
    /// Text.
    pub note: Option<String>,
}

/// A join of a group hosted in another domain (`JoinGroupRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupJoin {
    /// The joining user.
    pub user: String,
    /// The group (`wv:owner/name@domain`).
    pub group: String,
    /// The name in the group.
    pub screen_name: Option<String>,
    /// True to get the joined users in the answer.
    pub joined_list: bool,
    /// True to subscribe to change notices.
    pub subscribe: bool,
    /// The user's own properties (CSP format).
    pub own_properties: Option<Payload>,
}

/// A change of a group (`GroupChangeNotice`), from the group's domain to its members'.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupNotice {
    /// The group.
    pub group: String,
    /// The users to notify (all of the receiving domain).
    pub recipients: Vec<String>,
    /// Screen names that joined.
    pub joined: Vec<String>,
    /// Screen names that left.
    pub left: Vec<String>,
    /// Changed group properties (CSP format).
    pub group_properties: Option<Payload>,
    /// Changed own properties (CSP format).
    pub own_properties: Option<Payload>,
}

/// A request or notice between domains, other than IM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteRequest {
    /// `watcher` subscribes to the presence of `users` (one domain).
    SubscribePresence {
        /// The watcher.
        watcher: String,
        /// Whose presence.
        users: Vec<String>,
        /// Which attributes (CSP `PresenceSubList` format).
        attributes: Option<Payload>,
    },
    /// `watcher` ends its subscription to `users`.
    UnsubscribePresence {
        /// The watcher.
        watcher: String,
        /// Whose presence.
        users: Vec<String>,
    },
    /// `requester` fetches the presence of `users`; the answer is [`Answer::Presence`].
    GetPresence {
        /// Who asks.
        requester: String,
        /// Whose presence.
        users: Vec<String>,
        /// Which attributes (CSP format).
        attributes: Option<Payload>,
    },
    /// Notice: presence `values` for the `watchers` (one domain). Sent batched with
    /// [`super::Federation::notify_presence`].
    PresenceNotification {
        /// The watchers to deliver to.
        watchers: Vec<String>,
        /// The presence values.
        values: Vec<PresenceValue>,
    },
    /// An invitation.
    Invite(Invitation),
    /// Notice: the invitee's answer.
    InviteAnswer(InvitationAnswer),
    /// Notice: a withdrawn invitation.
    CancelInvite(InvitationCancel),
    /// A join; the answer is [`Answer::Joined`].
    JoinGroup(GroupJoin),
    /// `user` leaves `group`.
    LeaveGroup {
        /// The leaving user.
        user: String,
        /// The group.
        group: String,
    },
    /// Notice: the group's domain removed `users` from `group` (`LeaveGroupIndication`).
    LeftGroup {
        /// The group.
        group: String,
        /// The removed users.
        users: Vec<String>,
        /// Why, as a status.
        status: Option<Status>,
        /// Why, as text.
        reason: Option<String>,
    },
    /// The joined users of `group`; the answer is [`Answer::JoinedUsers`].
    GetJoinedUsers {
        /// Who asks.
        user: String,
        /// The group.
        group: String,
    },
    /// The properties of `group`; the answer is [`Answer::GroupProps`].
    GetGroupProps {
        /// Who asks.
        user: String,
        /// The group.
        group: String,
    },
    /// A group change subscription; a query's answer is [`Answer::Subscribed`].
    GroupChange {
        /// The user.
        user: String,
        /// The group.
        group: String,
        /// What to do.
        action: GroupChangeAction,
    },
    /// Notice: a group changed.
    GroupChangeNotice(GroupNotice),
    /// Extension: the profiles of `users`; the answer is [`Answer::Profiles`].
    GetUserProfile {
        /// Who asks.
        requester: String,
        /// Whose profiles (one domain).
        users: Vec<String>,
    },
    /// Extension: `requester` updates the profile of `profile.user_id`.
    UpdateUserProfile {
        /// Who asks.
        requester: String,
        /// The new profile.
        profile: UserProfile,
    },
}

/// What a remote domain answered besides the status (and what the shards answer with).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Answer {
    /// Only a status.
    #[default]
    None,
    /// Presence values (`GetPresenceResponse`).
    Presence(Vec<PresenceValue>),
    /// The outcome of a join (`JoinGroupResponse`).
    Joined {
        /// Screen names of the joined users, when asked for.
        joined: Vec<String>,
        /// Welcome text (CSP format).
        welcome_note: Option<Payload>,
    },
    /// The users in a group (`GetJoinedUsersResponse`).
    JoinedUsers {
        /// Administrators.
        admins: Vec<imps_protocol::ssp::joined::Mapping>,
        /// Ordinary users.
        users: Vec<imps_protocol::ssp::joined::Mapping>,
    },
    /// Group properties (`GetGroupPropsResponse`).
    GroupProps {
        /// The group's properties (CSP format).
        group_properties: Option<Payload>,
        /// The asking user's own properties (CSP format).
        own_properties: Option<Payload>,
    },
    /// Whether subscribed to group changes (`GetGroupSubStatusResponse`).
    Subscribed(bool),
    /// User profiles (extension `GetUserProfileResponse`).
    Profiles(Vec<UserProfile>),
}

/// A remote user's request for the shards ([`super::Event::Request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// Which request to answer.
    pub inbound: InboundId,
    /// The request; its acting user is of the domain it came from (checked).
    pub request: RemoteRequest,
}

/// A notice from another domain for local users ([`super::Event::Notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingNotice {
    /// The domain it came from (its originator, also when relayed).
    pub origin: String,
    /// The notice.
    pub notice: RemoteRequest,
}

/// The outcome of a local request ([`super::Event::RequestResult`]): the remote answer, or
/// 503 (expired in the queue), 504 (no answer before the expiry), 506 (feature not agreed),
/// 516 (no route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestResult {
    /// The SSP transaction that carried it (`None` when it was refused before one was made).
    pub transaction_id: Option<String>,
    /// The request.
    pub request: RemoteRequest,
    /// The outcome.
    pub status: Status,
    /// What came with it.
    pub answer: Answer,
}

fn same_domain(ids: &[String]) -> Option<String> {
    let mut domains = ids
        .iter()
        .map(|u| domain_of_id(u).map(str::to_ascii_lowercase));
    let first = domains.next()??;
    domains
        .all(|d| d.as_deref() == Some(first.as_str()))
        .then_some(first)
}

fn domain(id: &str) -> Option<String> {
    domain_of_id(id).map(str::to_ascii_lowercase)
}

impl RemoteRequest {
    /// The user who acts (a watcher, inviter, joiner, ...); `None` for notices the server of
    /// a domain sends on its own (presence and group notices, removals).
    pub fn actor(&self) -> Option<&str> {
        match self {
            Self::SubscribePresence { watcher, .. } | Self::UnsubscribePresence { watcher, .. } => {
                Some(watcher)
            }
            Self::GetPresence { requester, .. }
            | Self::GetUserProfile { requester, .. }
            | Self::UpdateUserProfile { requester, .. } => Some(requester),
            Self::Invite(i) => Some(&i.inviting),
            Self::InviteAnswer(a) => Some(&a.responding),
            Self::CancelInvite(c) => Some(&c.canceling),
            Self::JoinGroup(j) => Some(&j.user),
            Self::LeaveGroup { user, .. }
            | Self::GetJoinedUsers { user, .. }
            | Self::GetGroupProps { user, .. }
            | Self::GroupChange { user, .. } => Some(user),
            Self::PresenceNotification { .. }
            | Self::LeftGroup { .. }
            | Self::GroupChangeNotice(_) => None,
        }
    }

    /// The domain the request is for (lower case); `None` when its targets name no domain
    /// or several.
    pub fn destination(&self) -> Option<String> {
        match self {
            Self::SubscribePresence { users, .. }
            | Self::UnsubscribePresence { users, .. }
            | Self::GetPresence { users, .. }
            | Self::GetUserProfile { users, .. }
            | Self::LeftGroup { users, .. } => same_domain(users),
            Self::PresenceNotification { watchers, .. } => same_domain(watchers),
            Self::UpdateUserProfile { profile, .. } => domain(&profile.user_id),
            Self::Invite(i) => domain(&i.invited),
            Self::InviteAnswer(a) => domain(&a.inviting),
            Self::CancelInvite(c) => domain(&c.canceled),
            Self::JoinGroup(GroupJoin { group, .. })
            | Self::LeaveGroup { group, .. }
            | Self::GetJoinedUsers { group, .. }
            | Self::GetGroupProps { group, .. }
            | Self::GroupChange { group, .. } => domain(group),
            Self::GroupChangeNotice(n) => same_domain(&n.recipients),
        }
    }

    /// The first user or group the request is for (what [`super::Queued::recipient`] names).
    pub fn target(&self) -> String {
        let first = |ids: &[String]| ids.first().cloned().unwrap_or_default();
        match self {
            Self::SubscribePresence { users, .. }
            | Self::UnsubscribePresence { users, .. }
            | Self::GetPresence { users, .. }
            | Self::GetUserProfile { users, .. }
            | Self::LeftGroup { users, .. } => first(users),
            Self::PresenceNotification { watchers, .. } => first(watchers),
            Self::UpdateUserProfile { profile, .. } => profile.user_id.clone(),
            Self::Invite(i) => i.invited.clone(),
            Self::InviteAnswer(a) => a.inviting.clone(),
            Self::CancelInvite(c) => c.canceled.clone(),
            Self::JoinGroup(GroupJoin { group, .. })
            | Self::LeaveGroup { group, .. }
            | Self::GetJoinedUsers { group, .. }
            | Self::GetGroupProps { group, .. }
            | Self::GroupChange { group, .. } => group.clone(),
            Self::GroupChangeNotice(n) => first(&n.recipients),
        }
    }

    /// True for one-way notices (answered 200 by the receiving federation, no shard answer).
    pub fn is_notice(&self) -> bool {
        matches!(
            self,
            Self::PresenceNotification { .. }
                | Self::InviteAnswer(_)
                | Self::CancelInvite(_)
                | Self::LeftGroup { .. }
                | Self::GroupChangeNotice(_)
        )
    }

    /// The feature group the request needs agreed (SSP.md §1; invitations are in CSP's
    /// `FundamentalFeat`).
    pub fn feature(&self) -> FeatureGroup {
        match self {
            Self::SubscribePresence { .. }
            | Self::UnsubscribePresence { .. }
            | Self::GetPresence { .. }
            | Self::PresenceNotification { .. } => FeatureGroup::Presence,
            Self::Invite(_) | Self::InviteAnswer(_) | Self::CancelInvite(_) => {
                FeatureGroup::Fundamental
            }
            Self::JoinGroup(_)
            | Self::LeaveGroup { .. }
            | Self::LeftGroup { .. }
            | Self::GetJoinedUsers { .. }
            | Self::GetGroupProps { .. }
            | Self::GroupChange { .. }
            | Self::GroupChangeNotice(_) => FeatureGroup::Group,
            Self::GetUserProfile { .. } | Self::UpdateUserProfile { .. } => {
                FeatureGroup::UserProfile
            }
        }
    }

    /// Anti-spoofing beyond `MetaInfo` (which the codec checks): the acting user, and for
    /// server notices the users or group they speak for, must be of `origin`, the domain the
    /// request came from. Ids without a domain are refused, so a remote user can never pass
    /// for a local one.
    pub fn comes_from(&self, origin: &str) -> bool {
        let of = |id: &str| domain_of_id(id).is_some_and(|d| d.eq_ignore_ascii_case(origin));
        if let Some(actor) = self.actor()
            && !of(actor)
        {
            return false;
        }
        match self {
            Self::PresenceNotification { values, .. } => values.iter().all(|v| of(&v.user_id)),
            Self::LeftGroup { group, .. } => of(group),
            Self::GroupChangeNotice(n) => of(&n.group),
            _ => true,
        }
    }
}
