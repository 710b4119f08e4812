//! search_invite primitives.

use crate::{element, plain_node};

element! {
    /// `Search-Request`.
    pub struct SearchRequest {}
}

element! {
    /// `Search-Response`.
    pub struct SearchResponse {}
}

element! {
    /// `StopSearch-Request`.
    pub struct StopSearchRequest {}
}

element! {
    /// `Invite-Request`.
    pub struct InviteRequest {}
}

element! {
    /// `InviteUser-Request`.
    pub struct InviteUserRequest {}
}

element! {
    /// `InviteUser-Response`.
    pub struct InviteUserResponse {}
}

element! {
    /// `Invite-Response`.
    pub struct InviteResponse {}
}

element! {
    /// `CancelInvite-Request`.
    pub struct CancelInviteRequest {}
}

element! {
    /// `CancelInviteUser-Request`.
    pub struct CancelInviteUserRequest {}
}

plain_node!(
    SearchRequest,
    SearchResponse,
    StopSearchRequest,
    InviteRequest,
    InviteUserRequest,
    InviteUserResponse,
    InviteResponse,
    CancelInviteRequest,
    CancelInviteUserRequest
);
