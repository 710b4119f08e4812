//! Every SSP element and attribute name, in one table.
//!
//! Names marked *Baraza* are the wire names of SSP 1.3 as Baraza sends and parses them
//! (SSP.md §2–§5); names marked *extension* are ours, for the parts whose normative wire format
//! is unknown (SSP.md §7). A normative SSP schema can replace either set here without touching
//! the codec, which refers to names only through these constants.

/// Default namespace of SSP 1.3 messages (Baraza).
pub const NAMESPACE_1_3: &str = "http://www.openmobilealliance.org/DTD/WV-SSP1.3";
/// Media type of SSP XML bodies (IANA registered).
pub const CONTENT_TYPE: &str = "application/vnd.wv.ssp+xml";
/// Prefix of a domain's service id: `wv:@<domain>`.
pub const SERVICE_ID_PREFIX: &str = "wv:@";
/// The value of `SendSecretToken/@protocol`.
pub const PROTOCOL_NAME: &str = "WV-SSP";
/// The protocol version we send.
pub const PROTOCOL_VERSION: &str = "1.3";

/// Element names.
pub mod el {
    // Envelope (Baraza).
    /// Root element.
    pub const ROOT: &str = "WV-SSP-Message";
    /// Session set-up transaction (no session yet).
    pub const SETUP_TRANSACTION: &str = "SetupTransaction";
    /// A live session's block of transactions.
    pub const SESSION: &str = "Session";
    /// One transaction inside a session.
    pub const TRANSACTION: &str = "Transaction";

    // Session management (Baraza).
    /// Handshake steps 1–2.
    pub const SEND_SECRET_TOKEN: &str = "SendSecretToken";
    /// The secret inside `SendSecretToken`.
    pub const SECRET_TOKEN: &str = "SecretToken";
    /// Handshake steps 3–4.
    pub const LOGIN_REQUEST: &str = "LoginRequest";
    /// The MD5 digest inside `LoginRequest`.
    pub const PASSWORD_DIGEST: &str = "PasswordDigest";
    /// Handshake steps 5–6.
    pub const LOGIN_RESPONSE: &str = "LoginResponse";
    /// Extension: keyed HMAC-SHA256 proof inside `LoginRequest` (XEP-0185 formula).
    pub const KEYED_DIGEST: &str = "KeyedDigest";

    // Results (Baraza).
    /// Generic result.
    pub const STATUS: &str = "Status";
    /// Text of a result.
    pub const STATUS_DESCRIPTION: &str = "StatusDescription";
    /// Per-item result.
    pub const DETAILED_RESULT: &str = "DetailedResult";
    /// Retry hint, seconds.
    pub const TRY_AGAIN_TIMEOUT: &str = "TryAgainTimeout";
    /// A domain in a detailed result.
    pub const DOMAIN: &str = "Domain";

    // Addressing (Baraza).
    /// Sender information of a relayed request.
    pub const META_INFO: &str = "MetaInfo";
    /// The requesting domain inside `MetaInfo`.
    pub const REQUESTOR: &str = "Requestor";
    /// An end user (`userID` attribute).
    pub const USER: &str = "User";
    /// A client of a user (`url` attribute, text).
    pub const CLIENT_ID: &str = "ClientID";
    /// A user id (`userID` attribute).
    pub const USER_ID: &str = "UserID";
    /// A verified user id in GetPresenceRequest (`userID` attribute).
    pub const VER_USER_ID: &str = "VerUserID";
    /// A group id (`groupID` attribute).
    pub const GROUP_ID: &str = "GroupID";
    /// A screen name (`groupID` attribute, name as text).
    pub const SCREEN_NAME: &str = "ScreenName";
    /// A display name of a group sender.
    pub const SENDER_DISPLAY: &str = "SenderDisplay";
    /// A name in group lists.
    pub const NAME: &str = "Name";

    // Instant messaging (Baraza).
    /// IM request.
    pub const SEND_MESSAGE_REQUEST: &str = "SendMessageRequest";
    /// IM response.
    pub const SEND_MESSAGE_RESPONSE: &str = "SendMessageResponse";
    /// Delivery report.
    pub const DELIVERY_STATUS_REPORT: &str = "DeliveryStatusReport";
    /// Outcome inside a delivery report.
    pub const DELIVERY_RESULT: &str = "DeliveryResult";
    /// Time inside a delivery report.
    pub const DELIVERY_TIME: &str = "DeliveryTime";
    /// Message description.
    pub const MESSAGE_INFO: &str = "MessageInfo";
    /// Message content.
    pub const CONTENT_DATA: &str = "ContentData";
    /// Recipients of a message.
    pub const RECIPIENT: &str = "Recipient";
    /// Sender of a message.
    pub const SENDER: &str = "Sender";
    /// A timestamp.
    pub const DATE_TIME: &str = "DateTime";

    // Presence (Baraza).
    /// Presence subscription.
    pub const SUBSCRIBE_REQUEST: &str = "SubscribeRequest";
    /// End of a presence subscription.
    pub const UNSUBSCRIBE_REQUEST: &str = "UnsubscribeRequest";
    /// Presence push.
    pub const PRESENCE_NOTIFICATION: &str = "PresenceNotification";
    /// Presence fetch.
    pub const GET_PRESENCE_REQUEST: &str = "GetPresenceRequest";
    /// Presence fetch answer.
    pub const GET_PRESENCE_RESPONSE: &str = "GetPresenceResponse";
    /// One user's presence (`userID` attribute, CSP `PresenceSubList` children).
    pub const PRESENCE_VALUE: &str = "PresenceValue";
    /// Requested presence attributes (CSP format inside).
    pub const ATTRIBUTE_LIST: &str = "AttributeList";

    // Invitations (Baraza).
    /// Invitation.
    pub const INVITE_REQUEST: &str = "InviteRequest";
    /// Answer of the invitee.
    pub const INVITE_RESPONSE: &str = "InviteResponse";
    /// Withdrawn invitation.
    pub const CANCEL_INVITE_REQUEST: &str = "CancelInviteRequest";
    /// The inviter.
    pub const INVITING: &str = "Inviting";
    /// The invitees.
    pub const INVITED: &str = "Invited";
    /// The answering invitee.
    pub const RESPONDING: &str = "Responding";
    /// Who withdraws.
    pub const CANCELING: &str = "Canceling";
    /// Whose invitation is withdrawn.
    pub const CANCELED: &str = "Canceled";
    /// Application of an invitation (`applicationID` attribute).
    pub const APPLICATION_ID: &str = "ApplicationID";
    /// Shared content of an invitation.
    pub const CONTENT_ID_LIST: &str = "ContentIDList";
    /// One shared content (`url` attribute).
    pub const CONTENT_ID: &str = "ContentID";
    /// Text of an invitation.
    pub const INVITE_NOTE: &str = "InviteNote";
    /// Text of an answer.
    pub const RESPONSE_NOTE: &str = "ResponseNote";
    /// Text of a withdrawal.
    pub const CANCEL_NOTE: &str = "CancelNote";

    // Groups (Baraza).
    /// Join a remote group.
    pub const JOIN_GROUP_REQUEST: &str = "JoinGroupRequest";
    /// Answer to a join.
    pub const JOIN_GROUP_RESPONSE: &str = "JoinGroupResponse";
    /// Names of the joined users.
    pub const JOINED_LIST: &str = "JoinedList";
    /// Welcome text of a group (CSP format inside).
    pub const WELCOME_NOTE: &str = "WelcomeNote";
    /// A user's own group properties (CSP format inside).
    pub const OWN_PROPERTIES: &str = "OwnProperties";
    /// Group properties (CSP format inside).
    pub const GROUP_PROPERTIES: &str = "GroupProperties";
    /// Leave a remote group.
    pub const LEAVE_GROUP_REQUEST: &str = "LeaveGroupRequest";
    /// The group domain removed a user.
    pub const LEAVE_GROUP_INDICATION: &str = "LeaveGroupIndication";
    /// Why a user was removed.
    pub const REASON_TEXT: &str = "ReasonText";
    /// Subscribe to group change notices.
    pub const SUBSCRIBE_GROUP_CHANGE_REQUEST: &str = "SubscribeGroupChangeRequest";
    /// End a group change subscription.
    pub const UNSUBSCRIBE_GROUP_CHANGE_REQUEST: &str = "UnsubscribeGroupChangeRequest";
    /// Ask for the group change subscription state.
    pub const GET_GROUP_SUB_STATUS_REQUEST: &str = "GetGroupSubStatusRequest";
    /// Group change subscription state.
    pub const GET_GROUP_SUB_STATUS_RESPONSE: &str = "GetGroupSubStatusResponse";
    /// A group changed.
    pub const GROUP_CHANGE_NOTICE: &str = "GroupChangeNotice";
    /// Users who joined.
    pub const JOINED: &str = "Joined";
    /// Users who left.
    pub const LEFT: &str = "Left";
    /// Blocked users who joined (CSP format inside).
    pub const JOINED_BLOCKED: &str = "JoinedBlocked";
    /// Blocked users who left (CSP format inside).
    pub const LEFT_BLOCKED: &str = "LeftBlocked";

    /// Ask for a group's properties.
    pub const GET_GROUP_PROPS_REQUEST: &str = "GetGroupPropsRequest";
    /// A group's properties.
    pub const GET_GROUP_PROPS_RESPONSE: &str = "GetGroupPropsResponse";

    /// Ask for the users in a group.
    pub const GET_JOINED_USERS_REQUEST: &str = "GetJoinedUsersRequest";
    /// The users in a group.
    pub const GET_JOINED_USERS_RESPONSE: &str = "GetJoinedUsersResponse";
    /// Joined administrators.
    pub const JOINED_ADMIN: &str = "JoinedAdmin";
    /// Joined ordinary users (what Baraza sends).
    pub const JOINED_USER: &str = "JoinedUser";
    /// Joined ordinary users (what Baraza parses; read only).
    pub const JOINED_USERS: &str = "JoinedUsers";
    /// Screen-name to user mappings.
    pub const USER_MAP_LIST: &str = "UserMapList";
    /// A group of mappings.
    pub const USER_MAPPING: &str = "UserMapping";
    /// One screen name and its user.
    pub const MAPPING: &str = "Mapping";
    /// Screen name inside a mapping.
    pub const SNAME: &str = "SName";

    // Extensions (ours, SSP.md §7).
    /// Extension: service discovery and agreement request.
    pub const SERVICE_REQUEST: &str = "ServiceRequest";
    /// Extension: service discovery and agreement answer.
    pub const SERVICE_RESPONSE: &str = "ServiceResponse";
    /// Extension: the feature groups one side offers or the agreed ones.
    pub const FEATURES: &str = "Features";
    /// Extension: one feature group (`name` attribute).
    pub const FEATURE: &str = "Feature";
    /// Extension: one function of a feature group (`name` attribute).
    pub const FUNCTION: &str = "Function";
    /// Extension: user profile fetch.
    pub const GET_USER_PROFILE_REQUEST: &str = "GetUserProfileRequest";
    /// Extension: user profile fetch answer.
    pub const GET_USER_PROFILE_RESPONSE: &str = "GetUserProfileResponse";
    /// Extension: user profile update.
    pub const UPDATE_USER_PROFILE_REQUEST: &str = "UpdateUserProfileRequest";
    /// Extension: one user's profile (`userID`, `active` attributes).
    pub const USER_PROFILE: &str = "UserProfile";
    /// Extension: a privacy or terminal setting (`name` attribute, value as text).
    pub const SETTING: &str = "Setting";

    /// SSP elements Baraza relays (SSP.md §5) that this codec recognises but does not model:
    /// a transaction holding one of them is answered 501, any other unknown element 405.
    pub const KNOWN_UNSUPPORTED: &[&str] = &[
        "DeleteGroupRequest",
        "GetGroupMemberRequest",
        "GetGroupMemberResponse",
        "AddGroupMemberRequest",
        "RemoveGroupMemberRequest",
        "MemberAccessRequest",
        "SetGroupPropsRequest",
        "RejectListRequest",
        "RejectListResponse",
        "CreateGroupRequest",
        "SearchRequest",
        "StopSearchRequest",
        "GetPublicProfileRequest",
    ];
}

/// Attribute names. The reader compares them case-insensitively.
pub mod attr {
    /// Default namespace declaration.
    pub const XMLNS: &str = "xmlns";
    /// `Request` or `Response`.
    pub const MODE: &str = "mode";
    /// Transaction id.
    pub const TRANSACTION_ID: &str = "transactionID";
    /// Session id (`<n>@<domain>`).
    pub const SESSION_ID: &str = "sessionID";
    /// A domain as a service, `wv:@<domain>`.
    pub const SERVICE_ID: &str = "serviceID";
    /// `WV-SSP`.
    pub const PROTOCOL: &str = "protocol";
    /// Protocol version.
    pub const PROTOCOL_VERSION: &str = "protocolVersion";
    /// Baraza's misspelling of `protocolVersion` (read only).
    pub const PROTOCOL_VERSION_BARAZA: &str = "procotolVersion";
    /// Token or content encoding (`base64`).
    pub const ENCODING: &str = "encoding";
    /// Session lifetime in seconds.
    pub const TIME_TO_LIVE: &str = "timeToLive";
    /// Result code.
    pub const CODE: &str = "code";
    /// User id.
    pub const USER_ID: &str = "userID";
    /// Group id.
    pub const GROUP_ID: &str = "groupID";
    /// A URL.
    pub const URL: &str = "url";
    /// `Yes` when an end user originated the request.
    pub const CLIENT_ORIGINATED: &str = "clientOriginated";
    /// `Yes` to ask for a delivery report.
    pub const DELIVERY_REPORT: &str = "deliveryReport";
    /// Message id.
    pub const MESSAGE_ID: &str = "messageID";
    /// Message URI.
    pub const MESSAGE_URI: &str = "messageURI";
    /// MIME type.
    pub const CONTENT_TYPE: &str = "contentType";
    /// Content name.
    pub const CONTENT_NAME: &str = "contentName";
    /// Content size.
    pub const CONTENT_SIZE: &str = "contentSize";
    /// Validity in seconds.
    pub const VALIDITY: &str = "validity";
    /// Baraza's misspelling of `validity` (read only).
    pub const VALIDITY_BARAZA: &str = "validlity";
    /// Date format (`iso8601`).
    pub const FORMAT: &str = "format";
    /// Invitation id.
    pub const INVITE_ID: &str = "inviteID";
    /// Invitation type.
    pub const INVITE_TYPE: &str = "inviteType";
    /// `Yes` when the invitee accepts.
    pub const ACCEPTANCE: &str = "acceptance";
    /// Application id.
    pub const APPLICATION_ID: &str = "applicationID";
    /// `Yes` to receive the joined users.
    pub const JOINED_LIST_REQUEST: &str = "joinedListRequest";
    /// `Yes` to subscribe to change notices on join.
    pub const SUBSCRIBE_NOTIF: &str = "subscribeNotif";
    /// `Yes` when subscribed.
    pub const SUBSCRIBED: &str = "subscribed";
    /// Extension: domains a relayed transaction passed through, space separated, oldest first.
    pub const RELAY_PATH: &str = "relayPath";
    /// Extension: algorithm of a keyed digest (`hmac-sha256`).
    pub const ALGORITHM: &str = "algorithm";
    /// Extension: feature, function or setting name.
    pub const NAME: &str = "name";
    /// Extension: `Yes` when a user is active.
    pub const ACTIVE: &str = "active";
}

/// Attribute values.
pub mod value {
    /// Transaction mode of a request.
    pub const REQUEST: &str = "Request";
    /// Transaction mode of a response.
    pub const RESPONSE: &str = "Response";
    /// Boolean true.
    pub const YES: &str = "Yes";
    /// Boolean false.
    pub const NO: &str = "No";
    /// The only encoding SSP uses.
    pub const BASE64: &str = "base64";
    /// The only date format SSP uses.
    pub const ISO8601: &str = "iso8601";
    /// Extension: keyed digest algorithm.
    pub const HMAC_SHA256: &str = "hmac-sha256";
}
