//! Search and invitation primitives (PROTOCOL.md sections 2.1 and 2.5).

use crate::common::{Recipient, ScreenName, Sender, UrlList, UserList};
use crate::types::{GroupId, InviteId, SearchId};
use crate::{element, plain_node, value_enum};

use super::attributes::PresenceSubList;

value_enum! {
    /// `SearchElement`: what a search string is matched against.
    pub enum SearchElement: open Other {
        /// User ID.
        UserId = "USER_ID",
        /// First name.
        UserFirstName = "USER_FIRST_NAME",
        /// Last name.
        UserLastName = "USER_LAST_NAME",
        /// E-mail address.
        UserEmailAddress = "USER_EMAIL_ADDRESS",
        /// Alias.
        UserAlias = "USER_ALIAS",
        /// Online status.
        UserOnlineStatus = "USER_ONLINE_STATUS",
        /// Mobile number.
        UserMobileNumber = "USER_MOBILE_NUMBER",
        /// Group ID.
        GroupId = "GROUP_ID",
        /// Group name.
        GroupName = "GROUP_NAME",
        /// Group topic.
        GroupTopic = "GROUP_TOPIC",
        /// Groups a user joined.
        GroupUserIdJoined = "GROUP_USER_ID_JOINED",
        /// Groups a user owns.
        GroupUserIdOwner = "GROUP_USER_ID_OWNER",
        /// Groups a user auto-joins (1.2).
        GroupUserIdAutojoin = "GROUP_USER_ID_AUTOJOIN",
    }
}

element! {
    /// `SearchPairList`: one criterion.
    pub struct SearchPair {
        /// What to match.
        element: SearchElement = "SearchElement",
        /// The text to match.
        string: String = "SearchString",
    }
}

element! {
    /// `Search-Request`: a first page (pairs and limit) or the next page (ID and index).
    pub struct SearchRequest {
        /// Criteria (all must match).
        pairs: Vec<SearchPair> = "SearchPairList",
        /// Results per page.
        limit: Option<u32> = "SearchLimit",
        /// The search to continue.
        search_id: Option<SearchId> = "SearchID",
        /// Index of the first result wanted.
        index: Option<u32> = "SearchIndex",
    }
}

element! {
    /// `GroupList`: groups found.
    pub struct GroupList {
        /// The groups.
        group_ids: Vec<GroupId> = "GroupID",
    }
}

element! {
    /// `SearchResult`.
    pub struct SearchResult {
        /// Users found.
        user_list: Option<UserList> = "UserList",
        /// Groups found.
        group_list: Option<GroupList> = "GroupList",
    }
}

element! {
    /// `Search-Response`.
    pub struct SearchResponse {
        /// The search, to ask for more pages.
        search_id: Option<SearchId> = "SearchID",
        /// Results in total.
        findings: u32 = "SearchFindings",
        /// T: no more results.
        completion_flag: bool = "CompletionFlag",
        /// Index of the next result.
        index: u32 = "SearchIndex",
        /// This page.
        result: Option<SearchResult> = "SearchResult",
        /// The outcome (some servers).
        outcome: Option<crate::common::CspResult> = "Result",
    }
}

element! {
    /// `StopSearch-Request`.
    pub struct StopSearchRequest {
        /// The search.
        search_id: SearchId = "SearchID",
    }
}

value_enum! {
    /// `InviteType`.
    pub enum InviteType: open Other {
        /// Join a group.
        Group = "GR",
        /// Chat.
        Im = "IM",
        /// Watch presence.
        Presence = "PR",
        /// Shared content.
        SharedContent = "SC",
        /// Group membership (1.2 WBXML token).
        GroupMembership = "GM",
        /// 1.2 WBXML token `US`.
        Us = "US",
    }
}

element! {
    /// `Invite-Request`: from the inviter.
    pub struct InviteRequest {
        /// Chosen by the inviter.
        invite_id: InviteId = "InviteID",
        /// What the invitation is for.
        invite_type: InviteType = "InviteType",
        /// Who is invited.
        recipient: Recipient = "Recipient",
        /// The group (type GR).
        group_id: Option<GroupId> = "GroupID",
        /// Attributes offered (type PR).
        sub_list: Option<PresenceSubList> = "PresenceSubList",
        /// Content shared (type SC).
        url_list: Option<UrlList> = "URLList",
        /// A note.
        note: Option<String> = "InviteNote",
        /// The inviter's screen name.
        screen_name: Option<ScreenName> = "ScreenName",
        /// Seconds the invitation stands.
        validity: Option<u32> = "Validity",
    }
}

element! {
    /// `InviteUser-Request`: the invitation, delivered to the invitee.
    pub struct InviteUserRequest {
        /// The invitation.
        invite_id: InviteId = "InviteID",
        /// What it is for.
        invite_type: InviteType = "InviteType",
        /// The inviter.
        sender: Sender = "Sender",
        /// The group.
        group_id: Option<GroupId> = "GroupID",
        /// Attributes offered.
        sub_list: Option<PresenceSubList> = "PresenceSubList",
        /// Content shared.
        url_list: Option<UrlList> = "URLList",
        /// A note.
        note: Option<String> = "InviteNote",
        /// Seconds the invitation stands.
        validity: Option<u32> = "Validity",
    }
}

element! {
    /// `InviteUser-Response`: the invitee's answer.
    pub struct InviteUserResponse {
        /// The invitation.
        invite_id: InviteId = "InviteID",
        /// T: accepted.
        acceptance: bool = "Acceptance",
        /// The inviter (1.2).
        sender: Option<Sender> = "Sender",
        /// A note.
        note: Option<String> = "ResponseNote",
        /// The invitee's screen name.
        screen_name: Option<ScreenName> = "ScreenName",
    }
}

element! {
    /// `Invite-Response`: the answer, delivered to the inviter.
    pub struct InviteResponse {
        /// The invitation.
        invite_id: InviteId = "InviteID",
        /// T: accepted.
        acceptance: bool = "Acceptance",
        /// The invitee.
        sender: Option<Sender> = "Sender",
        /// A note.
        note: Option<String> = "ResponseNote",
    }
}

element! {
    /// `CancelInvite-Request`: from the inviter.
    pub struct CancelInviteRequest {
        /// The invitation.
        invite_id: InviteId = "InviteID",
        /// Whom to cancel it for (none = everyone invited).
        recipient: Option<Recipient> = "Recipient",
        /// A note.
        note: Option<String> = "InviteNote",
        /// Content shared.
        url_list: Option<UrlList> = "URLList",
        /// The inviter's screen name.
        screen_name: Option<ScreenName> = "ScreenName",
    }
}

element! {
    /// `CancelInviteUser-Request`: the cancellation, delivered to the invitee.
    pub struct CancelInviteUserRequest {
        /// The invitation.
        invite_id: InviteId = "InviteID",
        /// The inviter.
        sender: Sender = "Sender",
        /// A note.
        note: Option<String> = "InviteNote",
        /// Content shared.
        url_list: Option<UrlList> = "URLList",
    }
}

plain_node!(
    SearchPair,
    SearchRequest,
    GroupList,
    SearchResult,
    SearchResponse,
    StopSearchRequest,
    InviteRequest,
    InviteUserRequest,
    InviteUserResponse,
    InviteResponse,
    CancelInviteRequest,
    CancelInviteUserRequest,
);
