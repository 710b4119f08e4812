//! groups primitives.

use crate::{element, plain_node};

element! {
    /// `CreateGroup-Request`.
    pub struct CreateGroupRequest {}
}

element! {
    /// `DeleteGroup-Request`.
    pub struct DeleteGroupRequest {}
}

element! {
    /// `JoinGroup-Request`.
    pub struct JoinGroupRequest {}
}

element! {
    /// `JoinGroup-Response`.
    pub struct JoinGroupResponse {}
}

element! {
    /// `LeaveGroup-Request`.
    pub struct LeaveGroupRequest {}
}

element! {
    /// `LeaveGroup-Response`.
    pub struct LeaveGroupResponse {}
}

element! {
    /// `GetGroupMembers-Request`.
    pub struct GetGroupMembersRequest {}
}

element! {
    /// `GetGroupMembers-Response`.
    pub struct GetGroupMembersResponse {}
}

element! {
    /// `GetJoinedUsers-Request`.
    pub struct GetJoinedUsersRequest {}
}

element! {
    /// `GetJoinedUsers-Response`.
    pub struct GetJoinedUsersResponse {}
}

element! {
    /// `AddGroupMembers-Request`.
    pub struct AddGroupMembersRequest {}
}

element! {
    /// `RemoveGroupMembers-Request`.
    pub struct RemoveGroupMembersRequest {}
}

element! {
    /// `MemberAccess-Request`.
    pub struct MemberAccessRequest {}
}

element! {
    /// `GetGroupProps-Request`.
    pub struct GetGroupPropsRequest {}
}

element! {
    /// `GetGroupProps-Response`.
    pub struct GetGroupPropsResponse {}
}

element! {
    /// `SetGroupProps-Request`.
    pub struct SetGroupPropsRequest {}
}

element! {
    /// `RejectList-Request`.
    pub struct RejectListRequest {}
}

element! {
    /// `RejectList-Response`.
    pub struct RejectListResponse {}
}

element! {
    /// `SubscribeGroupNotice-Request`.
    pub struct SubscribeGroupNoticeRequest {}
}

element! {
    /// `SubscribeGroupNotice-Response`.
    pub struct SubscribeGroupNoticeResponse {}
}

element! {
    /// `GroupChangeNotice`.
    pub struct GroupChangeNotice {}
}

plain_node!(
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
    GroupChangeNotice
);
