//! Group primitives (PROTOCOL.md section 2.4).

use crate::common::{ContentEncoding, CspResult, Property, ScreenName, UserList};
use crate::types::{GroupId, MimeType, ScreenNameText, UserId};
use crate::{element, plain_node, value_enum};

use super::im::EntityList;

element! {
    /// `WelcomeNote`: shown to users who join a group.
    pub struct WelcomeNote {
        /// MIME type.
        content_type: MimeType = "ContentType",
        /// How `content_data` is encoded.
        content_encoding: Option<ContentEncoding> = "ContentEncoding",
        /// The note.
        content_data: String = "ContentData",
    }
}

element! {
    /// `GroupProperties`: `Name`, `Topic`, `AccessType`, `Type`, `PrivateMessaging`,
    /// `Searchable`, `MaxActiveUsers`, `AutoDelete`, ... and the welcome note.
    pub struct GroupProperties {
        /// The properties.
        properties: Vec<Property> = "Property",
        /// The welcome note.
        welcome_note: Option<WelcomeNote> = "WelcomeNote",
    }
}

element! {
    /// `OwnProperties`: the requesting user's own properties in a group
    /// (`PrivilegeLevel`, `IsMember`, `ScreenName`, `PrivateMessaging`, ...).
    pub struct OwnProperties {
        /// The properties.
        properties: Vec<Property> = "Property",
    }
}

element! {
    /// `Mapping` (1.2): a screen name and, when visible, the user behind it.
    pub struct Mapping {
        /// The screen name.
        sname: ScreenNameText = "SName",
        /// The user.
        user_id: Option<UserId> = "UserID",
    }
}

element! {
    /// `AdminMapping` / `ModMapping` / `UserMapping` (1.2).
    pub struct MappingList {
        /// The mappings.
        mappings: Vec<Mapping> = "Mapping",
    }
}

element! {
    /// `UserMapList` (1.2).
    pub struct UserMapList {
        /// Joined users.
        user_mapping: Option<MappingList> = "UserMapping",
    }
}

element! {
    /// `AdminMapList` (1.2): joined users by role.
    pub struct AdminMapList {
        /// Administrators.
        admin_mapping: Option<MappingList> = "AdminMapping",
        /// Moderators.
        mod_mapping: Option<MappingList> = "ModMapping",
        /// Ordinary users.
        user_mapping: Option<MappingList> = "UserMapping",
    }
}

element! {
    /// `Admin` / `Mod` / `Users`: members with a role.
    pub struct RoleMembers {
        /// The members.
        user_list: UserList = "UserList",
    }
}

element! {
    /// `Joined`: users who joined (1.1 screen names; 1.2 `UserMapList`).
    pub struct Joined {
        /// 1.1.
        screen_names: Vec<ScreenName> = "ScreenName",
        /// 1.2.
        user_map_list: Option<UserMapList> = "UserMapList",
    }
}

element! {
    /// `Left`: users who left (1.1 screen names; 1.2 `UserList`).
    pub struct Left {
        /// 1.1.
        screen_names: Vec<ScreenName> = "ScreenName",
        /// 1.2.
        user_list: Option<UserList> = "UserList",
    }
}

element! {
    /// `CreateGroup-Request`.
    pub struct CreateGroupRequest {
        /// The new group.
        group_id: GroupId = "GroupID",
        /// Its properties.
        properties: GroupProperties = "GroupProperties",
        /// T: the creator joins at once.
        join_group: Option<bool> = "JoinGroup",
        /// The creator's screen name when joining.
        screen_name: Option<ScreenName> = "ScreenName",
        /// T: the creator gets change notices.
        subscribe_notification: Option<bool> = "SubscribeNotification",
    }
}

element! {
    /// `DeleteGroup-Request`.
    pub struct DeleteGroupRequest {
        /// The group.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `JoinGroup-Request`.
    pub struct JoinGroupRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// The screen name to use.
        screen_name: Option<ScreenName> = "ScreenName",
        /// T: answer with the joined users.
        joined_request: Option<bool> = "JoinedRequest",
        /// T: get change notices.
        subscribe_notification: Option<bool> = "SubscribeNotification",
        /// Own properties to set (1.2).
        own_properties: Option<OwnProperties> = "OwnProperties",
    }
}

element! {
    /// `JoinGroup-Response`.
    pub struct JoinGroupResponse {
        /// 1.1: joined users.
        user_list: Option<UserList> = "UserList",
        /// 1.2: joined users.
        user_map_list: Option<UserMapList> = "UserMapList",
        /// The welcome note.
        welcome_note: Option<WelcomeNote> = "WelcomeNote",
        /// The outcome (some servers).
        result: Option<CspResult> = "Result",
    }
}

element! {
    /// `LeaveGroup-Request`.
    pub struct LeaveGroupRequest {
        /// The group.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `LeaveGroup-Response` (also unsolicited: the user was made to leave).
    pub struct LeaveGroupResponse {
        /// The group.
        group_id: Option<GroupId> = "GroupID",
        /// The outcome or the reason.
        result: CspResult = "Result",
    }
}

element! {
    /// `GetGroupMembers-Request`.
    pub struct GetGroupMembersRequest {
        /// The group.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `GetGroupMembers-Response`.
    pub struct GetGroupMembersResponse {
        /// Administrators.
        admin: Option<RoleMembers> = "Admin",
        /// Moderators.
        moderators: Option<RoleMembers> = "Mod",
        /// Ordinary members.
        users: Option<RoleMembers> = "Users",
    }
}

element! {
    /// `GetJoinedUsers-Request` (1.2).
    pub struct GetJoinedUsersRequest {
        /// The group.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `GetJoinedUsers-Response` (1.2).
    pub struct GetJoinedUsersResponse {
        /// By role (for administrators).
        admin_map_list: Option<AdminMapList> = "AdminMapList",
        /// Joined users.
        user_map_list: Option<UserMapList> = "UserMapList",
    }
}

element! {
    /// `AddGroupMembers-Request`.
    pub struct AddGroupMembersRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// New members.
        user_list: UserList = "UserList",
    }
}

element! {
    /// `RemoveGroupMembers-Request`.
    pub struct RemoveGroupMembersRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// Members to remove.
        user_list: UserList = "UserList",
    }
}

element! {
    /// `MemberAccess-Request`: changes members' roles.
    pub struct MemberAccessRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// New administrators.
        admin: Option<RoleMembers> = "Admin",
        /// New moderators.
        moderators: Option<RoleMembers> = "Mod",
        /// New ordinary members.
        users: Option<RoleMembers> = "Users",
    }
}

element! {
    /// `GetGroupProps-Request`.
    pub struct GetGroupPropsRequest {
        /// The group.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `GetGroupProps-Response`.
    pub struct GetGroupPropsResponse {
        /// The group's properties.
        properties: Option<GroupProperties> = "GroupProperties",
        /// The requester's own properties.
        own_properties: Option<OwnProperties> = "OwnProperties",
    }
}

element! {
    /// `SetGroupProps-Request`.
    pub struct SetGroupPropsRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// Group properties to change.
        properties: Option<GroupProperties> = "GroupProperties",
        /// Own properties to change.
        own_properties: Option<OwnProperties> = "OwnProperties",
    }
}

element! {
    /// `RejectList-Request`: users banned from joining (with no change: just read it).
    pub struct RejectListRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// Users to ban.
        add_list: Option<EntityList> = "AddList",
        /// Users to let back.
        remove_list: Option<EntityList> = "RemoveList",
    }
}

element! {
    /// `RejectList-Response`.
    pub struct RejectListResponse {
        /// The banned users.
        user_list: Option<UserList> = "UserList",
    }
}

value_enum! {
    /// `SubscribeType`.
    pub enum SubscribeType {
        /// Ask whether subscribed.
        Get = "G",
        /// Subscribe.
        Subscribe = "S",
        /// Unsubscribe.
        Unsubscribe = "U",
    }
}

element! {
    /// `SubscribeGroupNotice-Request`.
    pub struct SubscribeGroupNoticeRequest {
        /// The group.
        group_id: GroupId = "GroupID",
        /// Get, subscribe or unsubscribe.
        subscribe_type: SubscribeType = "SubscribeType",
    }
}

element! {
    /// `SubscribeGroupNotice-Response`: answer to `G`.
    pub struct SubscribeGroupNoticeResponse {
        /// T: subscribed.
        value: bool = "Value",
    }
}

element! {
    /// `GroupChangeNotice`: joins, leaves and property changes.
    pub struct GroupChangeNotice {
        /// The group.
        group_id: GroupId = "GroupID",
        /// Who joined.
        joined: Option<Joined> = "Joined",
        /// Who left.
        left: Option<Left> = "Left",
        /// New group properties.
        properties: Option<GroupProperties> = "GroupProperties",
        /// New own properties.
        own_properties: Option<OwnProperties> = "OwnProperties",
    }
}

plain_node!(
    WelcomeNote,
    GroupProperties,
    OwnProperties,
    Mapping,
    MappingList,
    UserMapList,
    AdminMapList,
    RoleMembers,
    Joined,
    Left,
    CreateGroupRequest,
    DeleteGroupRequest,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupRequest,
    LeaveGroupResponse,
    GetGroupMembersRequest,
    GetGroupMembersResponse,
    GetJoinedUsersRequest,
    GetJoinedUsersResponse,
    AddGroupMembersRequest,
    RemoveGroupMembersRequest,
    MemberAccessRequest,
    GetGroupPropsRequest,
    GetGroupPropsResponse,
    SetGroupPropsRequest,
    RejectListRequest,
    RejectListResponse,
    SubscribeGroupNoticeRequest,
    SubscribeGroupNoticeResponse,
    GroupChangeNotice,
);
