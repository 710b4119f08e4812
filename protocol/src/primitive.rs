//! The registry of primitives: [`Primitive`] holds any one of them.

use crate::error::DecodeError;
use crate::node::Node;
use crate::primitives::*;
use crate::version::Version;
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;

/// Primitives that CSP 1.3 added and whose structure is not public. They are recognised and
/// decode to [`Primitive::Unsupported`], so a server can answer 501 instead of 405.
pub const UNSUPPORTED_PRIMITIVES: &[&str] = &[
    "GetSegment-Request",
    "GetSegment-Response",
    "DropSegment-Request",
    "SubscribeNotification-Request",
    "UnsubscribeNotification-Request",
    "Notification-Request",
    "SystemMessage-Request",
    "SystemMessage-User",
    "GetPublicProfile-Request",
    "GetPublicProfile-Response",
    "UpdatePublicProfile-Request",
    "GetMap-Request",
    "GetMap-Response",
    "ExtendConversation-Request",
    "ExtendConversation-Response",
];

/// Other names some clients use for a primitive (CSP 1.0 and early 1.1 spellings).
const ALIASES: &[(&str, &str)] = &[("BlockUser-Request", "BlockEntity-Request")];

macro_rules! primitives {
    ($( $variant:ident = $name:literal, )*) => {
        /// One CSP primitive: the content of a `TransactionContent`.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Primitive {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant(Box<$variant>),
            )*
            /// A primitive recognised by name but not modelled by this crate.
            Unsupported {
                /// The element name.
                name: String,
                /// The version of the message it came in.
                version: Version,
            },
        }

        impl Primitive {
            /// Every modelled primitive's element name.
            pub const NAMES: &'static [&'static str] = &[$( $name, )*];

            /// The element name of this primitive as a static string (`"Unsupported"` for a
            /// recognised but unmodelled one; [`Primitive::name`] gives its own name).
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                    Self::Unsupported { .. } => "Unsupported",
                }
            }

            /// The element name of this primitive.
            pub fn name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $name, )*
                    Self::Unsupported { name, .. } => name,
                }
            }

            /// Decodes the primitive element `el`. `Ok(None)` when the name is no primitive.
            pub(crate) fn decode_element(
                r: &mut XmlReader<'_>,
                el: &Child<'_>,
                version: Version,
            ) -> Result<Option<Self>, DecodeError> {
                let name = el.name();
                let name = ALIASES.iter().find(|(a, _)| *a == name).map_or(name, |(_, n)| *n);
                Ok(Some(match name {
                    $( $name => Self::$variant(Box::new(<$variant as Node>::decode(r, el)?)), )*
                    other => {
                        if UNSUPPORTED_PRIMITIVES.contains(&other) {
                            let name = other.to_owned();
                            r.skip(el)?;
                            Self::Unsupported { name, version }
                        } else {
                            return Ok(None);
                        }
                    }
                }))
            }

            /// Writes the primitive element.
            pub(crate) fn encode_element(&self, w: &mut XmlWriter<'_>) {
                match self {
                    $( Self::$variant(p) => p.encode($name, w), )*
                    Self::Unsupported { name, .. } => {
                        let mark = w.open(name);
                        w.close(name, mark);
                    }
                }
            }
        }

        $(
            impl From<$variant> for Primitive {
                fn from(p: $variant) -> Self {
                    Self::$variant(Box::new(p))
                }
            }
        )*

        #[cfg(any(test, feature = "sample"))]
        impl Primitive {
            /// A random primitive of any kind.
            pub fn sample(g: &mut crate::sample::Gen) -> Self {
                let all: &[fn(&mut crate::sample::Gen) -> Primitive] = &[
                    $( |g| Primitive::$variant(Box::new(crate::sample::Sample::sample(g))), )*
                ];
                all[g.below(all.len())](g)
            }

            /// A random value of the primitive named `name`.
            pub fn sample_named(name: &str, g: &mut crate::sample::Gen) -> Option<Self> {
                match name {
                    $( $name => Some(Primitive::$variant(Box::new(crate::sample::Sample::sample(g)))), )*
                    _ => None,
                }
            }
        }
    };
}

primitives! {
LoginRequest = "Login-Request",
LoginResponse = "Login-Response",
LogoutRequest = "Logout-Request",
Disconnect = "Disconnect",
KeepAliveRequest = "KeepAlive-Request",
KeepAliveResponse = "KeepAlive-Response",
PollingRequest = "Polling-Request",
GetSpInfoRequest = "GetSPInfo-Request",
GetSpInfoResponse = "GetSPInfo-Response",
ClientCapabilityRequest = "ClientCapability-Request",
ClientCapabilityResponse = "ClientCapability-Response",
ServiceRequest = "Service-Request",
ServiceResponse = "Service-Response",
Status = "Status",
VerifyIdRequest = "VerifyID-Request",
VersionDiscoveryRequest = "WV-CSP-VersionDiscovery-Request",
VersionDiscoveryResponse = "WV-CSP-VersionDiscovery-Response",
ExtendedRequest = "Extended-Request",
ExtendedResponse = "Extended-Response",
SearchRequest = "Search-Request",
SearchResponse = "Search-Response",
StopSearchRequest = "StopSearch-Request",
InviteRequest = "Invite-Request",
InviteUserRequest = "InviteUser-Request",
InviteUserResponse = "InviteUser-Response",
InviteResponse = "Invite-Response",
CancelInviteRequest = "CancelInvite-Request",
CancelInviteUserRequest = "CancelInviteUser-Request",
GetListRequest = "GetList-Request",
GetListResponse = "GetList-Response",
CreateListRequest = "CreateList-Request",
CreateListResponse = "CreateList-Response",
DeleteListRequest = "DeleteList-Request",
ListManageRequest = "ListManage-Request",
ListManageResponse = "ListManage-Response",
CreateAttributeListRequest = "CreateAttributeList-Request",
DeleteAttributeListRequest = "DeleteAttributeList-Request",
GetAttributeListRequest = "GetAttributeList-Request",
GetAttributeListResponse = "GetAttributeList-Response",
SubscribePresenceRequest = "SubscribePresence-Request",
UnsubscribePresenceRequest = "UnsubscribePresence-Request",
PresenceNotificationRequest = "PresenceNotification-Request",
GetPresenceRequest = "GetPresence-Request",
GetPresenceResponse = "GetPresence-Response",
UpdatePresenceRequest = "UpdatePresence-Request",
GetWatcherListRequest = "GetWatcherList-Request",
GetWatcherListResponse = "GetWatcherList-Response",
PresenceAuthRequest = "PresenceAuth-Request",
PresenceAuthUser = "PresenceAuth-User",
CancelAuthRequest = "CancelAuth-Request",
GetReactiveAuthStatusRequest = "GetReactiveAuthStatus-Request",
GetReactiveAuthStatusResponse = "GetReactiveAuthStatus-Response",
SendMessageRequest = "SendMessage-Request",
SendMessageResponse = "SendMessage-Response",
SetDeliveryMethodRequest = "SetDeliveryMethod-Request",
GetMessageListRequest = "GetMessageList-Request",
GetMessageListResponse = "GetMessageList-Response",
RejectMessageRequest = "RejectMessage-Request",
MessageNotification = "MessageNotification",
GetMessageRequest = "GetMessage-Request",
GetMessageResponse = "GetMessage-Response",
NewMessage = "NewMessage",
MessageDelivered = "MessageDelivered",
DeliveryReportRequest = "DeliveryReport-Request",
ForwardMessageRequest = "ForwardMessage-Request",
ForwardMessageResponse = "ForwardMessage-Response",
GetBlockedListRequest = "GetBlockedList-Request",
GetBlockedListResponse = "GetBlockedList-Response",
BlockEntityRequest = "BlockEntity-Request",
CreateGroupRequest = "CreateGroup-Request",
DeleteGroupRequest = "DeleteGroup-Request",
JoinGroupRequest = "JoinGroup-Request",
JoinGroupResponse = "JoinGroup-Response",
LeaveGroupRequest = "LeaveGroup-Request",
LeaveGroupResponse = "LeaveGroup-Response",
GetGroupMembersRequest = "GetGroupMembers-Request",
GetGroupMembersResponse = "GetGroupMembers-Response",
GetJoinedUsersRequest = "GetJoinedUsers-Request",
GetJoinedUsersResponse = "GetJoinedUsers-Response",
AddGroupMembersRequest = "AddGroupMembers-Request",
RemoveGroupMembersRequest = "RemoveGroupMembers-Request",
MemberAccessRequest = "MemberAccess-Request",
GetGroupPropsRequest = "GetGroupProps-Request",
GetGroupPropsResponse = "GetGroupProps-Response",
SetGroupPropsRequest = "SetGroupProps-Request",
RejectListRequest = "RejectList-Request",
RejectListResponse = "RejectList-Response",
SubscribeGroupNoticeRequest = "SubscribeGroupNotice-Request",
SubscribeGroupNoticeResponse = "SubscribeGroupNotice-Response",
GroupChangeNotice = "GroupChangeNotice",}
