//! Instant messaging primitives and access control (PROTOCOL.md section 2.3).

use std::borrow::Cow;

use crate::common::{ContentEncoding, CspResult, Recipient, ScreenName, Sender};
use crate::node::Value;
use crate::types::{DateTime, GroupId, MessageId, MimeType, Url, UserId};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node};

use super::capability::DeliveryMethod;

element! {
    /// `MessageInfo`: everything about a message but its content.
    pub struct MessageInfo {
        /// Assigned by the server.
        message_id: Option<MessageId> = "MessageID",
        /// Where the content can be fetched.
        message_uri: Option<Url> = "MessageURI",
        /// MIME type of the content (default `text/plain`).
        content_type: Option<MimeType> = "ContentType",
        /// How the content is encoded.
        content_encoding: Option<ContentEncoding> = "ContentEncoding",
        /// Size of the content in bytes.
        content_size: Option<u32> = "ContentSize",
        /// Who it goes to.
        recipient: Option<Recipient> = "Recipient",
        /// Who sent it.
        sender: Option<Sender> = "Sender",
        /// When it was sent.
        date_time: Option<DateTime> = "DateTime",
        /// Seconds it stays deliverable.
        validity: Option<u32> = "Validity",
    }
}

element! {
    /// `SendMessage-Request`.
    pub struct SendMessageRequest {
        /// T: report delivery to the sender.
        delivery_report: Option<bool> = "DeliveryReport",
        /// About the message.
        message_info: MessageInfo = "MessageInfo",
        /// The content.
        content_data: Option<String> = "ContentData",
    }
}

element! {
    /// `SendMessage-Response`.
    pub struct SendMessageResponse {
        /// The outcome (201 with DetailedResult per failed recipient).
        result: CspResult = "Result",
        /// The ID assigned.
        message_id: Option<MessageId> = "MessageID",
    }
}

element! {
    /// `SetDeliveryMethod-Request`: push or notify/get, for the session or for a group.
    pub struct SetDeliveryMethodRequest {
        /// The method.
        delivery_method: DeliveryMethod = "DeliveryMethod",
        /// Largest content accepted.
        accepted_content_length: Option<u32> = "AcceptedContentLength",
        /// For this group only.
        group_id: Option<GroupId> = "GroupID",
    }
}

element! {
    /// `GetMessageList-Request`.
    pub struct GetMessageListRequest {
        /// Messages of this group only.
        group_id: Option<GroupId> = "GroupID",
        /// At most this many.
        message_count: Option<u32> = "MessageCount",
    }
}

element! {
    /// `MessageInfoList` (1.3).
    pub struct MessageInfoList {
        /// The messages.
        messages: Vec<MessageInfo> = "MessageInfo",
    }
}

element! {
    /// `GetMessageList-Response`.
    pub struct GetMessageListResponse {
        /// The messages (1.1, 1.2).
        messages: Vec<MessageInfo> = "MessageInfo",
        /// The messages (1.3).
        message_info_list: Option<MessageInfoList> = "MessageInfoList",
        /// The outcome (some servers).
        result: Option<CspResult> = "Result",
    }
}

element! {
    /// `RejectMessage-Request`: the recipient refuses stored messages.
    pub struct RejectMessageRequest {
        /// The messages.
        message_ids: Vec<MessageId> = "MessageID",
    }
}

element! {
    /// `MessageNotification`: a message waits (notify/get delivery).
    pub struct MessageNotification {
        /// The message.
        message_info: MessageInfo = "MessageInfo",
    }
}

element! {
    /// `GetMessage-Request`.
    pub struct GetMessageRequest {
        /// The message.
        message_id: MessageId = "MessageID",
    }
}

element! {
    /// `GetMessage-Response`.
    pub struct GetMessageResponse {
        /// About the message.
        message_info: MessageInfo = "MessageInfo",
        /// The content.
        content_data: Option<String> = "ContentData",
    }
}

element! {
    /// `NewMessage`: a pushed message.
    pub struct NewMessage {
        /// About the message.
        message_info: MessageInfo = "MessageInfo",
        /// The content.
        content_data: Option<String> = "ContentData",
    }
}

element! {
    /// `MessageDelivered`: the client has the message.
    pub struct MessageDelivered {
        /// The message.
        message_id: MessageId = "MessageID",
    }
}

element! {
    /// `DeliveryReport-Request`: to the sender, how delivery went.
    pub struct DeliveryReportRequest {
        /// The outcome of delivery.
        result: CspResult = "Result",
        /// When it was delivered.
        delivery_time: Option<DateTime> = "DeliveryTime",
        /// The message.
        message_info: MessageInfo = "MessageInfo",
    }
}

element! {
    /// `ForwardMessage-Request`: send a stored message on to others.
    pub struct ForwardMessageRequest {
        /// The message.
        message_id: MessageId = "MessageID",
        /// Who to.
        recipient: Recipient = "Recipient",
    }
}

element! {
    /// `ForwardMessage-Response` (1.3).
    pub struct ForwardMessageResponse {
        /// The outcome.
        result: CspResult = "Result",
        /// The ID of the forwarded copy.
        message_id: Option<MessageId> = "MessageID",
    }
}

/// `InUse`: whether a block or grant list is applied. Clients send it empty (`<InUse/>`)
/// to leave the setting as it is, which reads as `InUse(None)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InUse(pub Option<bool>);

impl Value for InUse {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        if text.trim().is_empty() {
            return Ok(Self(None));
        }
        bool::parse(text).map(|b| Self(Some(b)))
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        if let Some(b) = self.0 {
            b.write(w);
        }
    }
}
crate::value_node!(InUse);

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for InUse {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        Self(crate::sample::Sample::sample(g))
    }
}

element! {
    /// `EntityList` / `AddList` / `RemoveList`: users, screen names and groups.
    pub struct EntityList {
        /// Users.
        user_ids: Vec<UserId> = "UserID",
        /// Screen names in groups.
        screen_names: Vec<ScreenName> = "ScreenName",
        /// Groups.
        group_ids: Vec<GroupId> = "GroupID",
    }
}

impl EntityList {
    /// True when the list names nothing.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty() && self.screen_names.is_empty() && self.group_ids.is_empty()
    }
}

element! {
    /// `BlockList` / `GrantList`: whether it is in use, and its entries (whole, or changes).
    pub struct AccessList {
        /// Whether the list applies.
        in_use: Option<InUse> = "InUse",
        /// The whole list (responses).
        entity_list: Option<EntityList> = "EntityList",
        /// Entries to add (requests).
        add_list: Option<EntityList> = "AddList",
        /// Entries to remove (requests).
        remove_list: Option<EntityList> = "RemoveList",
    }
}

element! {
    /// `GetBlockedList-Request` (empty).
    pub struct GetBlockedListRequest {}
}

element! {
    /// `GetBlockedList-Response`.
    pub struct GetBlockedListResponse {
        /// Blocked entities.
        block_list: Option<AccessList> = "BlockList",
        /// Granted entities.
        grant_list: Option<AccessList> = "GrantList",
        /// 1.3: block list applied.
        block_list_in_use: Option<bool> = "BlockListInUse",
        /// 1.3: grant list applied.
        grant_list_in_use: Option<bool> = "GrantListInUse",
    }
}

element! {
    /// `BlockEntity-Request` (`BlockUser-Request` in early clients): changes the lists.
    pub struct BlockEntityRequest {
        /// Changes to the block list.
        block_list: Option<AccessList> = "BlockList",
        /// Changes to the grant list.
        grant_list: Option<AccessList> = "GrantList",
        /// 1.3: block list applied.
        block_list_in_use: Option<bool> = "BlockListInUse",
        /// 1.3: grant list applied.
        grant_list_in_use: Option<bool> = "GrantListInUse",
    }
}

plain_node!(
    MessageInfo,
    SendMessageRequest,
    SendMessageResponse,
    SetDeliveryMethodRequest,
    GetMessageListRequest,
    MessageInfoList,
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
    EntityList,
    AccessList,
    GetBlockedListRequest,
    GetBlockedListResponse,
    BlockEntityRequest,
);
