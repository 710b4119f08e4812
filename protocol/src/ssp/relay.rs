//! Service-relay primitives (SSP.md §5): instant messaging, presence, invitations, groups.
//! Each maps to one CSP primitive; the conversion is the engine's.

use crate::raw::RawElement;

use super::common::{
    ContentData, Element, MessageInfo, MetaInfo, Party, Payload, PresenceValue, ScreenName, Status,
    User, bool_attr, ids, read_all, read_opt, str_attr, u32_attr, write_all, write_ids, write_opt,
};
use super::error::SspError;
use super::names::{attr, el};
use super::tree::{Lookup, Writer};

/// Declares a relay primitive struct and its codec from one field list. Field kinds:
/// `attr_str` (optional string attribute), `attr_req` (mandatory string attribute),
/// `attr_u32`, `attr_bool`, `one` (optional child), `req` (mandatory child), `many`
/// (repeated child), `ids` (repeated `<El attr="id"/>`), `text` (optional text child).
macro_rules! primitive {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $kind:ident $(<$ty:ty>)? = $wire:expr $(, $attr2:expr)? ; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: primitive!(@ty $kind $(<$ty>)?), )*
        }

        impl Element for $name {
            fn read(e: &RawElement) -> Result<Self, SspError> {
                Ok(Self {
                    $( $field: primitive!(@read e, $kind $(<$ty>)?, $wire $(, $attr2)?), )*
                })
            }

            fn write(&self, name: &str, w: &mut Writer<'_>) {
                w.start(name);
                primitive!(@attrs self, w; $( $field : $kind = $wire ; )*);
                $( primitive!(@child self.$field, w, $kind, $wire $(, $attr2)?); )*
                w.end(name);
            }
        }
    };

    (@ty attr_str) => { Option<String> };
    (@ty attr_req) => { String };
    (@ty attr_u32) => { Option<u32> };
    (@ty attr_bool) => { Option<bool> };
    (@ty one<$ty:ty>) => { Option<$ty> };
    (@ty req<$ty:ty>) => { $ty };
    (@ty many<$ty:ty>) => { Vec<$ty> };
    (@ty ids) => { Vec<String> };
    (@ty text) => { Option<String> };

    (@read $e:ident, attr_str, $wire:expr) => { str_attr($e, &[$wire]) };
    (@read $e:ident, attr_req, $wire:expr) => { $e.required_attr($wire)?.trim().to_owned() };
    (@read $e:ident, attr_u32, $wire:expr) => { u32_attr($e, &[$wire])? };
    (@read $e:ident, attr_bool, $wire:expr) => { bool_attr($e, $wire)? };
    (@read $e:ident, one<$ty:ty>, $wire:expr) => { read_opt::<$ty>($e, $wire)? };
    (@read $e:ident, req<$ty:ty>, $wire:expr) => {
        <$ty>::read($e.required_child($wire)?)?
    };
    (@read $e:ident, many<$ty:ty>, $wire:expr) => { read_all::<$ty>($e, $wire)? };
    (@read $e:ident, ids, $wire:expr, $attr2:expr) => { ids($e, $wire, $attr2)? };
    (@read $e:ident, text, $wire:expr) => { $e.child_text($wire) };

    // Attributes are written first, in field order.
    (@attrs $s:ident, $w:ident; ) => {};
    (@attrs $s:ident, $w:ident; $field:ident : attr_str = $wire:expr ; $($rest:tt)*) => {
        $w.attr_opt($wire, $s.$field.as_deref());
        primitive!(@attrs $s, $w; $($rest)*);
    };
    (@attrs $s:ident, $w:ident; $field:ident : attr_req = $wire:expr ; $($rest:tt)*) => {
        $w.attr($wire, &$s.$field);
        primitive!(@attrs $s, $w; $($rest)*);
    };
    (@attrs $s:ident, $w:ident; $field:ident : attr_u32 = $wire:expr ; $($rest:tt)*) => {
        $w.attr_u32($wire, $s.$field);
        primitive!(@attrs $s, $w; $($rest)*);
    };
    (@attrs $s:ident, $w:ident; $field:ident : attr_bool = $wire:expr ; $($rest:tt)*) => {
        $w.attr_bool($wire, $s.$field);
        primitive!(@attrs $s, $w; $($rest)*);
    };
    (@attrs $s:ident, $w:ident; $field:ident : $kind:ident = $wire:expr ; $($rest:tt)*) => {
        primitive!(@attrs $s, $w; $($rest)*);
    };

    (@child $v:expr, $w:ident, attr_str, $wire:expr) => {};
    (@child $v:expr, $w:ident, attr_req, $wire:expr) => {};
    (@child $v:expr, $w:ident, attr_u32, $wire:expr) => {};
    (@child $v:expr, $w:ident, attr_bool, $wire:expr) => {};
    (@child $v:expr, $w:ident, one, $wire:expr) => { write_opt(&$v, $wire, $w) };
    (@child $v:expr, $w:ident, req, $wire:expr) => { $v.write($wire, $w) };
    (@child $v:expr, $w:ident, many, $wire:expr) => { write_all(&$v, $wire, $w) };
    (@child $v:expr, $w:ident, ids, $wire:expr, $attr2:expr) => {
        write_ids(&$v, $wire, $attr2, $w)
    };
    (@child $v:expr, $w:ident, text, $wire:expr) => { $w.text_element_opt($wire, $v.as_deref()) };
}

primitive! {
    /// `SendMessageRequest`: an IM for users of the receiving domain (CSP SendMessage-Request).
    pub struct SendMessageRequest {
        /// `Yes`: report delivery to the sender.
        delivery_report: attr_bool = attr::DELIVERY_REPORT;
        /// The originator.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// About the message.
        message_info: req<MessageInfo> = el::MESSAGE_INFO;
        /// The content.
        content: one<ContentData> = el::CONTENT_DATA;
    }
}

primitive! {
    /// `SendMessageResponse` (CSP SendMessage-Response).
    pub struct SendMessageResponse {
        /// The id the receiving domain assigned.
        message_id: attr_str = attr::MESSAGE_ID;
        /// The outcome.
        status: req<Status> = el::STATUS;
    }
}

primitive! {
    /// `DeliveryStatusReport` (CSP DeliveryReport-Request), to the original sender's domain.
    pub struct DeliveryStatusReport {
        /// The reporting side.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// The delivery outcome (a `Status` inside `DeliveryResult`).
        delivery_result: one<DeliveryResult> = el::DELIVERY_RESULT;
        /// When it was delivered.
        delivery_time: text = el::DELIVERY_TIME;
        /// Which message.
        message_info: one<MessageInfo> = el::MESSAGE_INFO;
    }
}

primitive! {
    /// `DeliveryResult`: the outcome of a delivery.
    pub struct DeliveryResult {
        /// The outcome.
        status: req<Status> = el::STATUS;
    }
}

primitive! {
    /// `SubscribeRequest` (CSP SubscribePresence-Request).
    pub struct SubscribeRequest {
        /// The watcher.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// Whose presence.
        user_ids: ids = el::USER_ID, attr::USER_ID;
        /// Which attributes (CSP `PresenceSubList` format inside).
        attribute_list: one<Payload> = el::ATTRIBUTE_LIST;
    }
}

primitive! {
    /// `UnsubscribeRequest` (CSP UnsubscribePresence-Request).
    pub struct UnsubscribeRequest {
        /// The watcher.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// Whose presence.
        user_ids: ids = el::USER_ID, attr::USER_ID;
    }
}

primitive! {
    /// `PresenceNotification` (CSP PresenceNotification-Request): presence for the listed
    /// watchers of the receiving domain.
    pub struct PresenceNotification {
        /// The notifying side.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// The watchers to deliver to.
        recipients: many<User> = el::USER;
        /// The presence values.
        values: many<PresenceValue> = el::PRESENCE_VALUE;
    }
}

primitive! {
    /// `GetPresenceRequest` (CSP GetPresence-Request).
    pub struct GetPresenceRequest {
        /// The asking user.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// Whose presence.
        user_ids: ids = el::VER_USER_ID, attr::USER_ID;
        /// Which attributes (CSP format inside).
        attribute_list: one<Payload> = el::ATTRIBUTE_LIST;
    }
}

primitive! {
    /// `GetPresenceResponse` (CSP GetPresence-Response).
    pub struct GetPresenceResponse {
        /// The outcome.
        status: req<Status> = el::STATUS;
        /// The presence values.
        values: many<PresenceValue> = el::PRESENCE_VALUE;
    }
}

primitive! {
    /// `InviteRequest` (CSP Invite-Request, one per invitee).
    pub struct InviteRequest {
        /// Invitation id.
        invite_id: attr_req = attr::INVITE_ID;
        /// Invitation type (`IM`, `GR`, `PR`, `SC`, ...).
        invite_type: attr_str = attr::INVITE_TYPE;
        /// Seconds it stays valid.
        validity: attr_u32 = attr::VALIDITY;
        /// The inviter's side.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// The inviter.
        inviting: one<Party> = el::INVITING;
        /// The invitees.
        invited: one<Party> = el::INVITED;
        /// The group invited to.
        group_id: ids = el::GROUP_ID, attr::GROUP_ID;
        /// The application invited to.
        application_id: ids = el::APPLICATION_ID, attr::APPLICATION_ID;
        /// Presence attributes offered (CSP format inside).
        attribute_list: one<Payload> = el::ATTRIBUTE_LIST;
        /// Shared content.
        content_ids: one<ContentIdList> = el::CONTENT_ID_LIST;
        /// Text.
        invite_note: text = el::INVITE_NOTE;
        /// The inviter's screen name.
        screen_name: one<ScreenName> = el::SCREEN_NAME;
    }
}

primitive! {
    /// `ContentIDList`: shared content of an invitation.
    pub struct ContentIdList {
        /// The content URLs.
        urls: ids = el::CONTENT_ID, attr::URL;
    }
}

primitive! {
    /// `InviteResponse`: the invitee's answer, back to the inviter's domain.
    pub struct InviteResponse {
        /// Invitation id.
        invite_id: attr_req = attr::INVITE_ID;
        /// `Yes` when accepted.
        acceptance: attr_bool = attr::ACCEPTANCE;
        /// The outcome.
        status: one<Status> = el::STATUS;
        /// The inviter.
        inviting: one<Party> = el::INVITING;
        /// The answering invitee.
        responding: one<Party> = el::RESPONDING;
        /// Text.
        response_note: text = el::RESPONSE_NOTE;
        /// The invitee's screen name.
        screen_name: one<ScreenName> = el::SCREEN_NAME;
    }
}

/// `CancelInviteRequest` (CSP CancelInvite-Request). Baraza sends a stray empty
/// `<Canceled/>` after the real one (SSP.md §9): the first non-empty `Canceled` is taken.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelInviteRequest {
    /// Invitation id.
    pub invite_id: String,
    /// The withdrawing side.
    pub meta_info: Option<MetaInfo>,
    /// Who withdraws.
    pub canceling: Option<Party>,
    /// Whose invitation is withdrawn.
    pub canceled: Option<Party>,
    /// The group of the invitation.
    pub group_id: Option<String>,
    /// Text.
    pub cancel_note: Option<String>,
}

impl Element for CancelInviteRequest {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let canceled: Vec<Party> = read_all(e, el::CANCELED)?;
        let first = canceled.first().cloned();
        Ok(Self {
            invite_id: e.required_attr(attr::INVITE_ID)?.trim().to_owned(),
            meta_info: read_opt(e, el::META_INFO)?,
            canceling: read_opt(e, el::CANCELING)?,
            canceled: canceled.into_iter().find(|p| !p.is_empty()).or(first),
            group_id: ids(e, el::GROUP_ID, attr::GROUP_ID)?.into_iter().next(),
            cancel_note: e.child_text(el::CANCEL_NOTE),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::INVITE_ID, &self.invite_id);
        write_opt(&self.meta_info, el::META_INFO, w);
        write_opt(&self.canceling, el::CANCELING, w);
        write_opt(&self.canceled, el::CANCELED, w);
        if let Some(g) = &self.group_id {
            write_ids(std::slice::from_ref(g), el::GROUP_ID, attr::GROUP_ID, w);
        }
        w.text_element_opt(el::CANCEL_NOTE, self.cancel_note.as_deref());
        w.end(name);
    }
}

primitive! {
    /// `JoinGroupRequest` (CSP JoinGroup-Request), to the group's domain.
    pub struct JoinGroupRequest {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// `Yes`: answer with the joined users.
        joined_list_request: attr_bool = attr::JOINED_LIST_REQUEST;
        /// `Yes`: subscribe to change notices.
        subscribe_notif: attr_bool = attr::SUBSCRIBE_NOTIF;
        /// The joining user.
        meta_info: one<MetaInfo> = el::META_INFO;
        /// The name in the group.
        screen_name: one<ScreenName> = el::SCREEN_NAME;
        /// The user's own properties (CSP format inside).
        own_properties: one<Payload> = el::OWN_PROPERTIES;
    }
}

primitive! {
    /// `JoinGroupResponse` (CSP JoinGroup-Response).
    pub struct JoinGroupResponse {
        /// The outcome.
        status: req<Status> = el::STATUS;
        /// The joined users' names.
        joined_list: one<NameList> = el::JOINED_LIST;
        /// Welcome text (CSP format inside).
        welcome_note: one<Payload> = el::WELCOME_NOTE;
    }
}

/// A list of `Name` elements (`JoinedList`, `Joined`, `Left`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameList {
    /// The names.
    pub names: Vec<String>,
}

impl Element for NameList {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            names: e
                .children_named(el::NAME)
                .map(|n| n.text().trim().to_owned())
                .collect(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        for n in &self.names {
            w.text_element(el::NAME, n);
        }
        w.end(name);
    }
}

primitive! {
    /// `LeaveGroupRequest` (CSP LeaveGroup-Request).
    pub struct LeaveGroupRequest {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// The leaving user.
        meta_info: one<MetaInfo> = el::META_INFO;
    }
}

primitive! {
    /// `LeaveGroupIndication`: the group's domain removed a user (server-initiated CSP
    /// LeaveGroup-Response).
    pub struct LeaveGroupIndication {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// The removed users.
        recipients: many<User> = el::USER;
        /// Why.
        status: one<Status> = el::STATUS;
        /// Why, as text.
        reason: text = el::REASON_TEXT;
    }
}

primitive! {
    /// `SubscribeGroupChangeRequest`, `UnsubscribeGroupChangeRequest` and
    /// `GetGroupSubStatusRequest` (CSP SubscribeGroupNotice-Request of type S, U, G).
    pub struct GroupChangeSubscription {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// The user.
        meta_info: one<MetaInfo> = el::META_INFO;
    }
}

primitive! {
    /// `GetGroupSubStatusResponse`.
    pub struct GetGroupSubStatusResponse {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// `Yes` when subscribed.
        subscribed: attr_bool = attr::SUBSCRIBED;
        /// The outcome.
        status: one<Status> = el::STATUS;
    }
}

primitive! {
    /// `GroupChangeNotice` (CSP GroupChangeNotice), from the group's domain.
    pub struct GroupChangeNotice {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// The local users to notify.
        recipients: many<User> = el::USER;
        /// Who joined.
        joined: one<NameList> = el::JOINED;
        /// Who left.
        left: one<NameList> = el::LEFT;
        /// Blocked users who joined (CSP format inside).
        joined_blocked: one<Payload> = el::JOINED_BLOCKED;
        /// Blocked users who left (CSP format inside).
        left_blocked: one<Payload> = el::LEFT_BLOCKED;
        /// Changed group properties (CSP format inside).
        group_properties: one<Payload> = el::GROUP_PROPERTIES;
        /// Changed own properties (CSP format inside).
        own_properties: one<Payload> = el::OWN_PROPERTIES;
    }
}

primitive! {
    /// `GetGroupPropsRequest` (CSP GetGroupProps-Request), to the group's domain.
    pub struct GetGroupPropsRequest {
        /// The group.
        group_id: attr_req = attr::GROUP_ID;
        /// The asking user.
        meta_info: one<MetaInfo> = el::META_INFO;
    }
}

primitive! {
    /// `GetGroupPropsResponse` (CSP GetGroupProps-Response).
    pub struct GetGroupPropsResponse {
        /// The outcome.
        status: one<Status> = el::STATUS;
        /// The group's properties (CSP format inside).
        group_properties: one<Payload> = el::GROUP_PROPERTIES;
        /// The asking user's own properties (CSP format inside).
        own_properties: one<Payload> = el::OWN_PROPERTIES;
    }
}
