//! Presence and contact-list primitives (PROTOCOL.md section 2.2).

use crate::common::{CspResult, Property, User};
use crate::types::{ContactListId, UserId};
use crate::{element, plain_node, value_enum};

use super::attributes::PresenceSubList;

element! {
    /// `NickName`: a contact list entry with a display name.
    pub struct NickName {
        /// The name shown.
        name: String = "Name",
        /// The user.
        user_id: UserId = "UserID",
    }
}

element! {
    /// `NickList` / `AddNickList`: contact list entries, with or without a nickname.
    pub struct NickList {
        /// Entries with a nickname.
        nick_names: Vec<NickName> = "NickName",
        /// Entries without one.
        user_ids: Vec<UserId> = "UserID",
    }
}

element! {
    /// `RemoveNickList`: users to take off a contact list.
    pub struct RemoveNickList {
        /// The users.
        user_ids: Vec<UserId> = "UserID",
    }
}

element! {
    /// `ContactListProperties`: `DisplayName`, `Default` (T/F), ...
    pub struct ContactListProperties {
        /// The properties.
        properties: Vec<Property> = "Property",
    }
}

element! {
    /// `Presence`: a user's or a contact list's attributes.
    pub struct Presence {
        /// The user (one of user or contact list).
        user_id: Option<UserId> = "UserID",
        /// The contact list.
        contact_list: Option<ContactListId> = "ContactList",
        /// The attributes (1.2 allows one per client).
        sub_lists: Vec<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `GetList-Request` (empty): the user's contact lists.
    pub struct GetListRequest {}
}

element! {
    /// `GetList-Response`.
    pub struct GetListResponse {
        /// The lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// The default list.
        default_contact_list: Option<ContactListId> = "DefaultContactList",
    }
}

element! {
    /// `CreateList-Request`.
    pub struct CreateListRequest {
        /// The new list.
        contact_list: ContactListId = "ContactList",
        /// Initial members.
        nick_list: Option<NickList> = "NickList",
        /// Initial properties.
        properties: Option<ContactListProperties> = "ContactListProperties",
    }
}

element! {
    /// `CreateList-Response` (1.3).
    pub struct CreateListResponse {
        /// The outcome.
        result: CspResult = "Result",
        /// The list as created.
        contact_list: Option<ContactListId> = "ContactList",
        /// Members as stored.
        nick_list: Option<NickList> = "NickList",
    }
}

element! {
    /// `DeleteList-Request`.
    pub struct DeleteListRequest {
        /// The list.
        contact_list: ContactListId = "ContactList",
    }
}

element! {
    /// `ListManage-Request`: add or remove members, set properties, or just read the list.
    pub struct ListManageRequest {
        /// The list.
        contact_list: ContactListId = "ContactList",
        /// Members to add.
        add_nick_list: Option<NickList> = "AddNickList",
        /// Members to remove.
        remove_nick_list: Option<RemoveNickList> = "RemoveNickList",
        /// Properties to set.
        properties: Option<ContactListProperties> = "ContactListProperties",
        /// T: answer with the list (1.2; always answered in 1.1).
        receive_list: Option<bool> = "ReceiveList",
    }
}

element! {
    /// `ListManage-Response`.
    pub struct ListManageResponse {
        /// The outcome.
        result: CspResult = "Result",
        /// The members.
        nick_list: Option<NickList> = "NickList",
        /// The properties.
        properties: Option<ContactListProperties> = "ContactListProperties",
    }
}

element! {
    /// `CreateAttributeList-Request`: authorize attributes to users, lists or by default.
    pub struct CreateAttributeListRequest {
        /// The attributes (empty elements).
        sub_list: PresenceSubList = "PresenceSubList",
        /// Users.
        user_ids: Vec<UserId> = "UserID",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// T: also the default attribute list.
        default_list: Option<bool> = "DefaultList",
    }
}

element! {
    /// `DeleteAttributeList-Request`.
    pub struct DeleteAttributeListRequest {
        /// Users.
        user_ids: Vec<UserId> = "UserID",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// T: also the default attribute list.
        default_list: Option<bool> = "DefaultList",
    }
}

element! {
    /// `GetAttributeList-Request`.
    pub struct GetAttributeListRequest {
        /// T: include the default attribute list.
        default_list: Option<bool> = "DefaultList",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// Users.
        users: Vec<User> = "User",
        /// Users by ID (some clients).
        user_ids: Vec<UserId> = "UserID",
    }
}

element! {
    /// `DefaultAttributeList`.
    pub struct DefaultAttributeList {
        /// The attributes.
        sub_lists: Vec<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `GetAttributeList-Response`.
    pub struct GetAttributeListResponse {
        /// The outcome.
        result: CspResult = "Result",
        /// The default attribute list.
        default_attribute_list: Option<DefaultAttributeList> = "DefaultAttributeList",
        /// Per user or contact list.
        presences: Vec<Presence> = "Presence",
    }
}

element! {
    /// `SubscribePresence-Request`.
    pub struct SubscribePresenceRequest {
        /// Users.
        users: Vec<User> = "User",
        /// Contact lists (every member, and members added later).
        contact_lists: Vec<ContactListId> = "ContactList",
        /// The attributes wanted (none = all).
        sub_list: Option<PresenceSubList> = "PresenceSubList",
        /// T: subscribe to members added later (1.2).
        auto_subscribe: Option<bool> = "AutoSubscribe",
    }
}

element! {
    /// `UnsubscribePresence-Request`.
    pub struct UnsubscribePresenceRequest {
        /// Users.
        users: Vec<User> = "User",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
    }
}

element! {
    /// `PresenceNotification-Request`: changed presence, to a watcher.
    pub struct PresenceNotificationRequest {
        /// The presences.
        presences: Vec<Presence> = "Presence",
    }
}

element! {
    /// `GetPresence-Request`.
    pub struct GetPresenceRequest {
        /// Users.
        users: Vec<User> = "User",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// The attributes wanted (none = all authorized).
        sub_list: Option<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `GetPresence-Response`.
    pub struct GetPresenceResponse {
        /// The outcome.
        result: Option<CspResult> = "Result",
        /// The presences.
        presences: Vec<Presence> = "Presence",
    }
}

element! {
    /// `UpdatePresence-Request`: changes the attributes it carries.
    pub struct UpdatePresenceRequest {
        /// The attributes.
        sub_list: PresenceSubList = "PresenceSubList",
    }
}

element! {
    /// `GetWatcherList-Request`.
    pub struct GetWatcherListRequest {
        /// Days of history (1.2).
        history_period: Option<u32> = "HistoryPeriod",
        /// Most watchers to return (1.2).
        max_watcher_list: Option<u32> = "MaxWatcherList",
    }
}

value_enum! {
    /// `WatcherStatus` (1.2).
    pub enum WatcherStatus: open Other {
        /// Subscribed now.
        Current = "CURRENT_SUBSCRIBER",
        /// Was subscribed.
        Former = "FORMER_SUBSCRIBER",
        /// Fetched presence.
        Access = "PRESENCE_ACCESS",
    }
}

element! {
    /// `Watcher` (1.2).
    pub struct Watcher {
        /// The watcher.
        user: User = "User",
        /// How they watch.
        status: Option<WatcherStatus> = "WatcherStatus",
    }
}

element! {
    /// `GetWatcherList-Response`: 1.1 lists `User`s, 1.2 `Watcher`s.
    pub struct GetWatcherListResponse {
        /// Days of history (1.2).
        history_period: Option<u32> = "HistoryPeriod",
        /// 1.1 watchers.
        users: Vec<User> = "User",
        /// 1.2 watchers.
        watchers: Vec<Watcher> = "Watcher",
        /// The outcome (some servers).
        result: Option<CspResult> = "Result",
    }
}

element! {
    /// `PresenceAuth-Request`: the server asks a publisher to authorize a watcher.
    pub struct PresenceAuthRequest {
        /// The watcher.
        user_id: UserId = "UserID",
        /// The attributes asked for.
        sub_list: Option<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `PresenceAuth-User`: the publisher's decision.
    pub struct PresenceAuthUser {
        /// The watcher.
        user_id: UserId = "UserID",
        /// T: granted.
        acceptance: bool = "Acceptance",
        /// The attributes granted.
        sub_list: Option<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `CancelAuth-Request`: withdraws a reactive authorization.
    pub struct CancelAuthRequest {
        /// The watcher.
        user_id: UserId = "UserID",
    }
}

element! {
    /// `GetReactiveAuthStatus-Request` (1.2).
    pub struct GetReactiveAuthStatusRequest {
        /// Watchers asked about (none = all).
        user_ids: Vec<UserId> = "UserID",
    }
}

value_enum! {
    /// `ReactiveAuthState` (1.2).
    pub enum ReactiveAuthState {
        /// Granted.
        Granted = "GRANTED",
        /// Denied.
        Denied = "DENIED",
        /// Not decided.
        Pending = "PENDING",
    }
}

element! {
    /// `ReactiveAuthStatus` (1.2).
    pub struct ReactiveAuthStatus {
        /// The watcher.
        user_id: UserId = "UserID",
        /// The decision.
        state: ReactiveAuthState = "ReactiveAuthState",
        /// The attributes granted.
        sub_list: Option<PresenceSubList> = "PresenceSubList",
    }
}

element! {
    /// `ReactiveAuthStatusList` (1.2).
    pub struct ReactiveAuthStatusList {
        /// One per watcher.
        statuses: Vec<ReactiveAuthStatus> = "ReactiveAuthStatus",
    }
}

element! {
    /// `GetReactiveAuthStatus-Response` (1.2).
    pub struct GetReactiveAuthStatusResponse {
        /// The outcome (some servers).
        result: Option<CspResult> = "Result",
        /// The decisions.
        list: Option<ReactiveAuthStatusList> = "ReactiveAuthStatusList",
    }
}

plain_node!(
    NickName,
    NickList,
    RemoveNickList,
    ContactListProperties,
    Presence,
    GetListRequest,
    GetListResponse,
    CreateListRequest,
    CreateListResponse,
    DeleteListRequest,
    ListManageRequest,
    ListManageResponse,
    CreateAttributeListRequest,
    DeleteAttributeListRequest,
    GetAttributeListRequest,
    DefaultAttributeList,
    GetAttributeListResponse,
    SubscribePresenceRequest,
    UnsubscribePresenceRequest,
    PresenceNotificationRequest,
    GetPresenceRequest,
    GetPresenceResponse,
    UpdatePresenceRequest,
    GetWatcherListRequest,
    Watcher,
    GetWatcherListResponse,
    PresenceAuthRequest,
    PresenceAuthUser,
    CancelAuthRequest,
    GetReactiveAuthStatusRequest,
    ReactiveAuthStatus,
    ReactiveAuthStatusList,
    GetReactiveAuthStatusResponse,
);
