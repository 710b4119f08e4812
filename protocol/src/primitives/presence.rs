//! presence primitives.

use crate::{element, plain_node};

element! {
    /// `GetList-Request`.
    pub struct GetListRequest {}
}

element! {
    /// `GetList-Response`.
    pub struct GetListResponse {}
}

element! {
    /// `CreateList-Request`.
    pub struct CreateListRequest {}
}

element! {
    /// `CreateList-Response`.
    pub struct CreateListResponse {}
}

element! {
    /// `DeleteList-Request`.
    pub struct DeleteListRequest {}
}

element! {
    /// `ListManage-Request`.
    pub struct ListManageRequest {}
}

element! {
    /// `ListManage-Response`.
    pub struct ListManageResponse {}
}

element! {
    /// `CreateAttributeList-Request`.
    pub struct CreateAttributeListRequest {}
}

element! {
    /// `DeleteAttributeList-Request`.
    pub struct DeleteAttributeListRequest {}
}

element! {
    /// `GetAttributeList-Request`.
    pub struct GetAttributeListRequest {}
}

element! {
    /// `GetAttributeList-Response`.
    pub struct GetAttributeListResponse {}
}

element! {
    /// `SubscribePresence-Request`.
    pub struct SubscribePresenceRequest {}
}

element! {
    /// `UnsubscribePresence-Request`.
    pub struct UnsubscribePresenceRequest {}
}

element! {
    /// `PresenceNotification-Request`.
    pub struct PresenceNotificationRequest {}
}

element! {
    /// `GetPresence-Request`.
    pub struct GetPresenceRequest {}
}

element! {
    /// `GetPresence-Response`.
    pub struct GetPresenceResponse {}
}

element! {
    /// `UpdatePresence-Request`.
    pub struct UpdatePresenceRequest {}
}

element! {
    /// `GetWatcherList-Request`.
    pub struct GetWatcherListRequest {}
}

element! {
    /// `GetWatcherList-Response`.
    pub struct GetWatcherListResponse {}
}

element! {
    /// `PresenceAuth-Request`.
    pub struct PresenceAuthRequest {}
}

element! {
    /// `PresenceAuth-User`.
    pub struct PresenceAuthUser {}
}

element! {
    /// `CancelAuth-Request`.
    pub struct CancelAuthRequest {}
}

element! {
    /// `GetReactiveAuthStatus-Request`.
    pub struct GetReactiveAuthStatusRequest {}
}

element! {
    /// `GetReactiveAuthStatus-Response`.
    pub struct GetReactiveAuthStatusResponse {}
}

plain_node!(
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
    GetAttributeListResponse,
    SubscribePresenceRequest,
    UnsubscribePresenceRequest,
    PresenceNotificationRequest,
    GetPresenceRequest,
    GetPresenceResponse,
    UpdatePresenceRequest,
    GetWatcherListRequest,
    GetWatcherListResponse,
    PresenceAuthRequest,
    PresenceAuthUser,
    CancelAuthRequest,
    GetReactiveAuthStatusRequest,
    GetReactiveAuthStatusResponse
);
