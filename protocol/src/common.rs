//! Elements shared by many primitives: results, users, groups, screen names, recipients.

use crate::types::{ContactListId, GroupId, MessageId, ScreenNameText, Url, UserId};
use crate::{element, plain_node};

element! {
    /// `Result`: the outcome of a request (`Code`, `Description?`, `DetailedResult*`).
    pub struct CspResult {
        /// The status code (see [`crate::StatusCode`]).
        code: u32 = "Code",
        /// Human-readable text.
        description: Option<String> = "Description",
        /// One per failing part of a partially successful request (code 201).
        detailed: Vec<DetailedResult> = "DetailedResult",
    }
}

element! {
    /// `DetailedResult`: a status code and the entities it applies to.
    pub struct DetailedResult {
        /// The status code.
        code: u32 = "Code",
        /// Human-readable text.
        description: Option<String> = "Description",
        /// Users concerned.
        user_ids: Vec<UserId> = "UserID",
        /// Groups concerned.
        group_ids: Vec<GroupId> = "GroupID",
        /// Screen names concerned.
        screen_names: Vec<ScreenName> = "ScreenName",
        /// Messages concerned (1.2).
        message_ids: Vec<MessageId> = "MessageID",
        /// Contact lists concerned (1.2).
        contact_lists: Vec<ContactListId> = "ContactList",
        /// Domains concerned (1.2).
        domains: Vec<String> = "Domain",
    }
}

element! {
    /// `ClientID`: identifies the client application (`URL` and/or `MSISDN`).
    pub struct ClientId {
        /// The client's URL.
        url: Option<Url> = "URL",
        /// The client's MSISDN.
        msisdn: Option<String> = "MSISDN",
    }
}

element! {
    /// `ScreenName`: a nickname inside a group.
    pub struct ScreenName {
        /// The nickname.
        sname: ScreenNameText = "SName",
        /// The group it is used in.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `User`: a user, optionally one of their clients.
    pub struct User {
        /// The user.
        user_id: UserId = "UserID",
        /// One client of the user.
        client_id: Option<ClientId> = "ClientID",
        /// The user's friendly name (1.3).
        friendly_name: Option<String> = "FriendlyName",
    }
}

element! {
    /// `Group`: a group, or a screen name in one.
    pub struct Group {
        /// The group.
        group_id: Option<GroupId> = "GroupID",
        /// A screen name in the group.
        screen_name: Option<ScreenName> = "ScreenName",
    }
}

element! {
    /// `Recipient`: users, groups and contact lists a message or invitation goes to.
    pub struct Recipient {
        /// Users.
        users: Vec<User> = "User",
        /// Groups or screen names.
        groups: Vec<Group> = "Group",
        /// Contact lists (every member).
        contact_lists: Vec<ContactListId> = "ContactList",
    }
}

element! {
    /// `Sender`: a user, or a group / screen name.
    pub struct Sender {
        /// A user.
        user: Option<User> = "User",
        /// A group or a screen name in one.
        group: Option<Group> = "Group",
    }
}

element! {
    /// `UserList`: users, as listed by group and search primitives.
    pub struct UserList {
        /// Users by ID.
        user_ids: Vec<UserId> = "UserID",
        /// Users with details.
        users: Vec<User> = "User",
        /// Users by screen name.
        screen_names: Vec<ScreenName> = "ScreenName",
    }
}

plain_node!(
    CspResult,
    DetailedResult,
    ClientId,
    ScreenName,
    User,
    Group,
    Recipient,
    Sender,
    UserList
);

impl CspResult {
    /// A result with `code` and its standard description.
    pub fn new(code: crate::StatusCode) -> Self {
        Self {
            code: u32::from(code.code()),
            description: Some(code.description().to_owned()),
            detailed: Vec::new(),
        }
    }

    /// The code as a [`crate::StatusCode`].
    pub fn status(&self) -> crate::StatusCode {
        crate::StatusCode::from_code(u16::try_from(self.code).unwrap_or(u16::MAX))
    }
}
