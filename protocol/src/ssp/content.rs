//! [`Content`]: the one primitive a `Transaction` carries, dispatched by element name.

use crate::raw::RawElement;
use crate::status::StatusCode;

use super::common::{Element, MetaInfo, Sender, Status, domain_of_id};
use super::extension::{
    GetUserProfileRequest, GetUserProfileResponse, ServiceRequest, ServiceResponse,
    UpdateUserProfileRequest,
};
use super::joined::GetJoinedUsersResponse;
use super::message::{InvalidPrimitive, UnknownPrimitive};
use super::names::el;
use super::relay::{
    CancelInviteRequest, DeliveryStatusReport, GetGroupPropsRequest, GetGroupPropsResponse,
    GetGroupSubStatusResponse, GetPresenceRequest, GetPresenceResponse, GroupChangeNotice,
    GroupChangeSubscription, InviteRequest, InviteResponse, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupIndication, LeaveGroupRequest, PresenceNotification, SendMessageRequest,
    SendMessageResponse, SubscribeRequest, UnsubscribeRequest,
};
use super::tree::Writer;

macro_rules! content {
    ($( $(#[$meta:meta])* $variant:ident($ty:ty) = $name:expr, )*) => {
        /// The primitive of a `Transaction`.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Content {
            $( $(#[$meta])* $variant($ty), )*
            /// An element this codec does not model (answer with [`UnknownPrimitive::status`]).
            Unknown(UnknownPrimitive),
            /// A known element that does not decode (answer with its error's status).
            Invalid(InvalidPrimitive),
        }

        impl Content {
            /// Decodes the primitive `e`; never fails (see [`Content::Unknown`] and
            /// [`Content::Invalid`]).
            pub(crate) fn read(e: &RawElement) -> Self {
                let name = e.local_name();
                $(
                    if name == $name {
                        return match <$ty>::read(e) {
                            Ok(v) => Self::$variant(v),
                            Err(error) => Self::Invalid(InvalidPrimitive {
                                element: e.clone(),
                                error,
                            }),
                        };
                    }
                )*
                Self::Unknown(UnknownPrimitive::new(e.clone()))
            }

            /// Writes the primitive.
            pub(crate) fn write(&self, w: &mut Writer<'_>) {
                match self {
                    $( Self::$variant(v) => v.write($name, w), )*
                    Self::Unknown(u) => w.raw_element(&u.element),
                    Self::Invalid(i) => w.raw_element(&i.element),
                }
            }

            /// The element name of the primitive.
            pub fn name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $name, )*
                    Self::Unknown(u) => u.element.local_name(),
                    Self::Invalid(i) => i.element.local_name(),
                }
            }
        }
    };
}

content! {
    /// `Status`: a generic answer.
    Status(Status) = el::STATUS,
    /// `SendMessageRequest`.
    SendMessageRequest(SendMessageRequest) = el::SEND_MESSAGE_REQUEST,
    /// `SendMessageResponse`.
    SendMessageResponse(SendMessageResponse) = el::SEND_MESSAGE_RESPONSE,
    /// `DeliveryStatusReport`.
    DeliveryStatusReport(DeliveryStatusReport) = el::DELIVERY_STATUS_REPORT,
    /// `SubscribeRequest`.
    SubscribeRequest(SubscribeRequest) = el::SUBSCRIBE_REQUEST,
    /// `UnsubscribeRequest`.
    UnsubscribeRequest(UnsubscribeRequest) = el::UNSUBSCRIBE_REQUEST,
    /// `PresenceNotification`.
    PresenceNotification(PresenceNotification) = el::PRESENCE_NOTIFICATION,
    /// `GetPresenceRequest`.
    GetPresenceRequest(GetPresenceRequest) = el::GET_PRESENCE_REQUEST,
    /// `GetPresenceResponse`.
    GetPresenceResponse(GetPresenceResponse) = el::GET_PRESENCE_RESPONSE,
    /// `InviteRequest`.
    InviteRequest(InviteRequest) = el::INVITE_REQUEST,
    /// `InviteResponse`.
    InviteResponse(InviteResponse) = el::INVITE_RESPONSE,
    /// `CancelInviteRequest`.
    CancelInviteRequest(CancelInviteRequest) = el::CANCEL_INVITE_REQUEST,
    /// `JoinGroupRequest`.
    JoinGroupRequest(JoinGroupRequest) = el::JOIN_GROUP_REQUEST,
    /// `JoinGroupResponse`.
    JoinGroupResponse(JoinGroupResponse) = el::JOIN_GROUP_RESPONSE,
    /// `LeaveGroupRequest`.
    LeaveGroupRequest(LeaveGroupRequest) = el::LEAVE_GROUP_REQUEST,
    /// `LeaveGroupIndication`.
    LeaveGroupIndication(LeaveGroupIndication) = el::LEAVE_GROUP_INDICATION,
    /// `SubscribeGroupChangeRequest`.
    SubscribeGroupChangeRequest(GroupChangeSubscription) = el::SUBSCRIBE_GROUP_CHANGE_REQUEST,
    /// `UnsubscribeGroupChangeRequest`.
    UnsubscribeGroupChangeRequest(GroupChangeSubscription) =
        el::UNSUBSCRIBE_GROUP_CHANGE_REQUEST,
    /// `GetGroupSubStatusRequest`.
    GetGroupSubStatusRequest(GroupChangeSubscription) = el::GET_GROUP_SUB_STATUS_REQUEST,
    /// `GetGroupSubStatusResponse`.
    GetGroupSubStatusResponse(GetGroupSubStatusResponse) = el::GET_GROUP_SUB_STATUS_RESPONSE,
    /// `GetGroupPropsRequest`.
    GetGroupPropsRequest(GetGroupPropsRequest) = el::GET_GROUP_PROPS_REQUEST,
    /// `GetGroupPropsResponse`.
    GetGroupPropsResponse(GetGroupPropsResponse) = el::GET_GROUP_PROPS_RESPONSE,
    /// `GetJoinedUsersRequest`.
    GetJoinedUsersRequest(GroupChangeSubscription) = el::GET_JOINED_USERS_REQUEST,
    /// `GetJoinedUsersResponse`.
    GetJoinedUsersResponse(GetJoinedUsersResponse) = el::GET_JOINED_USERS_RESPONSE,
    /// `GroupChangeNotice`.
    GroupChangeNotice(GroupChangeNotice) = el::GROUP_CHANGE_NOTICE,
    /// Extension `ServiceRequest`.
    ServiceRequest(ServiceRequest) = el::SERVICE_REQUEST,
    /// Extension `ServiceResponse`.
    ServiceResponse(ServiceResponse) = el::SERVICE_RESPONSE,
    /// Extension `GetUserProfileRequest`.
    GetUserProfileRequest(GetUserProfileRequest) = el::GET_USER_PROFILE_REQUEST,
    /// Extension `GetUserProfileResponse`.
    GetUserProfileResponse(GetUserProfileResponse) = el::GET_USER_PROFILE_RESPONSE,
    /// Extension `UpdateUserProfileRequest`.
    UpdateUserProfileRequest(UpdateUserProfileRequest) = el::UPDATE_USER_PROFILE_REQUEST,
}

impl Content {
    /// The `MetaInfo` of a relayed request, if the primitive has one.
    pub fn meta_info(&self) -> Option<&MetaInfo> {
        match self {
            Self::SendMessageRequest(r) => r.meta_info.as_ref(),
            Self::DeliveryStatusReport(r) => r.meta_info.as_ref(),
            Self::SubscribeRequest(r) => r.meta_info.as_ref(),
            Self::UnsubscribeRequest(r) => r.meta_info.as_ref(),
            Self::PresenceNotification(r) => r.meta_info.as_ref(),
            Self::GetPresenceRequest(r) => r.meta_info.as_ref(),
            Self::InviteRequest(r) => r.meta_info.as_ref(),
            Self::CancelInviteRequest(r) => r.meta_info.as_ref(),
            Self::JoinGroupRequest(r) => r.meta_info.as_ref(),
            Self::LeaveGroupRequest(r) => r.meta_info.as_ref(),
            Self::GetGroupPropsRequest(r) => r.meta_info.as_ref(),
            Self::SubscribeGroupChangeRequest(r)
            | Self::UnsubscribeGroupChangeRequest(r)
            | Self::GetGroupSubStatusRequest(r)
            | Self::GetJoinedUsersRequest(r) => r.meta_info.as_ref(),
            Self::ServiceRequest(r) => r.meta_info.as_ref(),
            Self::GetUserProfileRequest(r) => r.meta_info.as_ref(),
            Self::UpdateUserProfileRequest(r) => r.meta_info.as_ref(),
            _ => None,
        }
    }

    /// Anti-spoofing (SSP.md §4, §8): the requesting domain of `MetaInfo`, its end user and an
    /// IM's user `Sender` must all belong to `origin`, the domain the request came from.
    /// Otherwise the answer is 901.
    pub fn check_origin(&self, origin: &str) -> Result<(), StatusCode> {
        let same = |d: &str| d.eq_ignore_ascii_case(origin);
        if let Some(meta) = self.meta_info() {
            if !same(&meta.requestor_domain) {
                return Err(StatusCode::AddressError);
            }
            if let Some(user) = &meta.user
                && !domain_of_id(&user.user_id).is_some_and(same)
            {
                return Err(StatusCode::AddressError);
            }
        }
        if let Self::SendMessageRequest(r) = self
            && let Some(Sender::User(user)) = &r.message_info.sender
            && !domain_of_id(&user.user_id).is_some_and(same)
        {
            return Err(StatusCode::AddressError);
        }
        Ok(())
    }
}
