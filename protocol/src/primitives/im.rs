//! im primitives.

use crate::{element, plain_node};

element! {
    /// `SendMessage-Request`.
    pub struct SendMessageRequest {}
}

element! {
    /// `SendMessage-Response`.
    pub struct SendMessageResponse {}
}

element! {
    /// `SetDeliveryMethod-Request`.
    pub struct SetDeliveryMethodRequest {}
}

element! {
    /// `GetMessageList-Request`.
    pub struct GetMessageListRequest {}
}

element! {
    /// `GetMessageList-Response`.
    pub struct GetMessageListResponse {}
}

element! {
    /// `RejectMessage-Request`.
    pub struct RejectMessageRequest {}
}

element! {
    /// `MessageNotification`.
    pub struct MessageNotification {}
}

element! {
    /// `GetMessage-Request`.
    pub struct GetMessageRequest {}
}

element! {
    /// `GetMessage-Response`.
    pub struct GetMessageResponse {}
}

element! {
    /// `NewMessage`.
    pub struct NewMessage {}
}

element! {
    /// `MessageDelivered`.
    pub struct MessageDelivered {}
}

element! {
    /// `DeliveryReport-Request`.
    pub struct DeliveryReportRequest {}
}

element! {
    /// `ForwardMessage-Request`.
    pub struct ForwardMessageRequest {}
}

element! {
    /// `ForwardMessage-Response`.
    pub struct ForwardMessageResponse {}
}

element! {
    /// `GetBlockedList-Request`.
    pub struct GetBlockedListRequest {}
}

element! {
    /// `GetBlockedList-Response`.
    pub struct GetBlockedListResponse {}
}

element! {
    /// `BlockEntity-Request`.
    pub struct BlockEntityRequest {}
}

plain_node!(
    SendMessageRequest,
    SendMessageResponse,
    SetDeliveryMethodRequest,
    GetMessageListRequest,
    GetMessageListResponse,
    RejectMessageRequest,
    MessageNotification,
    GetMessageRequest,
    GetMessageResponse,
    NewMessage,
    MessageDelivered,
    DeliveryReportRequest,
    ForwardMessageRequest,
    ForwardMessageResponse,
    GetBlockedListRequest,
    GetBlockedListResponse,
    BlockEntityRequest
);
