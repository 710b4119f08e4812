//! CSP status codes (PROTOCOL.md section 3): the `Code` of a `Result`.

/// A CSP status code. Codes this crate does not name are kept in [`StatusCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCode {
    /// 100: Continue.
    Continue,
    /// 101: Queued.
    Queued,
    /// 102: Started.
    Started,
    /// 200: Successful.
    Successful,
    /// 201: Partially successful.
    PartialSuccess,
    /// 202: Accepted.
    Accepted,
    /// 400: Bad request.
    BadRequest,
    /// 401: Unauthorized.
    Unauthorized,
    /// 402: Bad or invalid parameter.
    InvalidParameter,
    /// 403: Forbidden.
    Forbidden,
    /// 404: Not found.
    NotFound,
    /// 405: Service not supported.
    ServiceNotSupported,
    /// 406: Request timeout.
    RequestTimeout,
    /// 408: Request timeout.
    RequestTimeoutAlt,
    /// 409: Invalid password.
    InvalidPassword,
    /// 410: Unable to deliver.
    UnableToDeliver,
    /// 415: Unsupported media type.
    UnsupportedMediaType,
    /// 420: Invalid transaction.
    InvalidTransaction,
    /// 422: UserID and ClientID do not match.
    UserIdClientIdMismatch,
    /// 423: Invalid invitation ID.
    InvalidInvitationId,
    /// 424: Invalid search ID.
    InvalidSearchId,
    /// 425: Invalid search index.
    InvalidSearchIndex,
    /// 426: Invalid message ID.
    InvalidMessageId,
    /// 431: Unauthorized group membership.
    UnauthorizedGroupMembership,
    /// 432: Response too large.
    ResponseTooLarge,
    /// 500: Internal server or network error.
    ServerError,
    /// 501: Not implemented.
    NotImplemented,
    /// 502: Could not recover session.
    CannotRecoverSession,
    /// 503: Service unavailable.
    ServiceUnavailable,
    /// 504: Timeout.
    Timeout,
    /// 505: Version not supported.
    VersionNotSupported,
    /// 506: Service not agreed.
    ServiceNotAgreed,
    /// 507: Message queue full.
    MessageQueueFull,
    /// 516: Domain not supported.
    DomainNotSupported,
    /// 521: Unresponded presence request.
    UnrespondedPresenceRequest,
    /// 522: Unresponded group request.
    UnrespondedGroupRequest,
    /// 531: Unknown user ID.
    UnknownUser,
    /// 532: Recipient blocked the sender.
    RecipientBlockedSender,
    /// 533: Message recipient not logged in.
    RecipientNotLoggedIn,
    /// 534: Message recipient unauthorized.
    RecipientUnauthorized,
    /// 535: Search timed out.
    SearchTimedOut,
    /// 536: Too many hits.
    TooManyHits,
    /// 537: Too broad search criteria.
    SearchTooBroad,
    /// 538: Message has been rejected.
    MessageRejected,
    /// 540: Header encoding not supported.
    HeaderEncodingNotSupported,
    /// 541: Message has been forwarded.
    MessageForwarded,
    /// 542: Message has expired.
    MessageExpired,
    /// 543: No matching digest scheme supported.
    NoMatchingDigestScheme,
    /// 600: Session expired.
    SessionExpired,
    /// 601: Forced logout.
    ForcedLogout,
    /// 603: Already logged in.
    AlreadyLoggedIn,
    /// 604: Invalid session or not logged in.
    InvalidSession,
    /// 605: New value not accepted.
    NewValueNotAccepted,
    /// 616: Insufficient rights.
    InsufficientRights,
    /// 700: Contact list does not exist.
    ContactListMissing,
    /// 701: Contact list already exists.
    ContactListExists,
    /// 702: Invalid or unsupported user properties.
    InvalidUserProperties,
    /// 750: Invalid or unsupported presence attribute.
    InvalidPresenceAttribute,
    /// 751: Invalid or unsupported presence value.
    InvalidPresenceValue,
    /// 752: Invalid or unsupported contact list property.
    InvalidContactListProperty,
    /// 753: Max number of contact lists reached.
    TooManyContactLists,
    /// 754: Max number of contacts reached.
    TooManyContacts,
    /// 755: Max number of attribute lists reached.
    TooManyAttributeLists,
    /// 760: Automatic subscription not supported.
    AutoSubscriptionNotSupported,
    /// 800: Group does not exist.
    GroupMissing,
    /// 801: Group already exists.
    GroupExists,
    /// 802: Group is open.
    GroupIsOpen,
    /// 803: Group is restricted.
    GroupIsRestricted,
    /// 804: Group is public.
    GroupIsPublic,
    /// 805: Group is private.
    GroupIsPrivate,
    /// 806: Invalid or unsupported group properties.
    InvalidGroupProperties,
    /// 807: Group is already joined.
    GroupAlreadyJoined,
    /// 808: Group is not joined.
    GroupNotJoined,
    /// 809: User is on the group's reject list.
    RejectedFromGroup,
    /// 810: Not a group member.
    NotGroupMember,
    /// 811: Screen name already in use.
    ScreenNameInUse,
    /// 812: Private messaging disabled for the group.
    GroupPrivateMessagingDisabled,
    /// 813: Private messaging disabled for the user.
    UserPrivateMessagingDisabled,
    /// 814: Max number of groups reached for the user.
    TooManyGroupsForUser,
    /// 815: Max number of groups reached for the server.
    TooManyGroupsForServer,
    /// 816: Insufficient group privileges.
    InsufficientGroupPrivileges,
    /// 817: Max number of joined users reached.
    TooManyJoinedUsers,
    /// 821: History not supported.
    HistoryNotSupported,
    /// 822: Group name or topic missing.
    GroupNameOrTopicMissing,
    /// 900: Multiple errors.
    MultipleErrors,
    /// 901: General address error.
    AddressError,
    /// 902: Not enough credit.
    NotEnoughCredit,
    /// 903: Operation requires a higher class of service.
    HigherServiceClassRequired,
    /// 920: MSISDN error.
    MsisdnError,
    /// A code without a name here.
    Other(u16),
}

impl StatusCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Self::Continue => 100,
            Self::Queued => 101,
            Self::Started => 102,
            Self::Successful => 200,
            Self::PartialSuccess => 201,
            Self::Accepted => 202,
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::InvalidParameter => 402,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::ServiceNotSupported => 405,
            Self::RequestTimeout => 406,
            Self::RequestTimeoutAlt => 408,
            Self::InvalidPassword => 409,
            Self::UnableToDeliver => 410,
            Self::UnsupportedMediaType => 415,
            Self::InvalidTransaction => 420,
            Self::UserIdClientIdMismatch => 422,
            Self::InvalidInvitationId => 423,
            Self::InvalidSearchId => 424,
            Self::InvalidSearchIndex => 425,
            Self::InvalidMessageId => 426,
            Self::UnauthorizedGroupMembership => 431,
            Self::ResponseTooLarge => 432,
            Self::ServerError => 500,
            Self::NotImplemented => 501,
            Self::CannotRecoverSession => 502,
            Self::ServiceUnavailable => 503,
            Self::Timeout => 504,
            Self::VersionNotSupported => 505,
            Self::ServiceNotAgreed => 506,
            Self::MessageQueueFull => 507,
            Self::DomainNotSupported => 516,
            Self::UnrespondedPresenceRequest => 521,
            Self::UnrespondedGroupRequest => 522,
            Self::UnknownUser => 531,
            Self::RecipientBlockedSender => 532,
            Self::RecipientNotLoggedIn => 533,
            Self::RecipientUnauthorized => 534,
            Self::SearchTimedOut => 535,
            Self::TooManyHits => 536,
            Self::SearchTooBroad => 537,
            Self::MessageRejected => 538,
            Self::HeaderEncodingNotSupported => 540,
            Self::MessageForwarded => 541,
            Self::MessageExpired => 542,
            Self::NoMatchingDigestScheme => 543,
            Self::SessionExpired => 600,
            Self::ForcedLogout => 601,
            Self::AlreadyLoggedIn => 603,
            Self::InvalidSession => 604,
            Self::NewValueNotAccepted => 605,
            Self::InsufficientRights => 616,
            Self::ContactListMissing => 700,
            Self::ContactListExists => 701,
            Self::InvalidUserProperties => 702,
            Self::InvalidPresenceAttribute => 750,
            Self::InvalidPresenceValue => 751,
            Self::InvalidContactListProperty => 752,
            Self::TooManyContactLists => 753,
            Self::TooManyContacts => 754,
            Self::TooManyAttributeLists => 755,
            Self::AutoSubscriptionNotSupported => 760,
            Self::GroupMissing => 800,
            Self::GroupExists => 801,
            Self::GroupIsOpen => 802,
            Self::GroupIsRestricted => 803,
            Self::GroupIsPublic => 804,
            Self::GroupIsPrivate => 805,
            Self::InvalidGroupProperties => 806,
            Self::GroupAlreadyJoined => 807,
            Self::GroupNotJoined => 808,
            Self::RejectedFromGroup => 809,
            Self::NotGroupMember => 810,
            Self::ScreenNameInUse => 811,
            Self::GroupPrivateMessagingDisabled => 812,
            Self::UserPrivateMessagingDisabled => 813,
            Self::TooManyGroupsForUser => 814,
            Self::TooManyGroupsForServer => 815,
            Self::InsufficientGroupPrivileges => 816,
            Self::TooManyJoinedUsers => 817,
            Self::HistoryNotSupported => 821,
            Self::GroupNameOrTopicMissing => 822,
            Self::MultipleErrors => 900,
            Self::AddressError => 901,
            Self::NotEnoughCredit => 902,
            Self::HigherServiceClassRequired => 903,
            Self::MsisdnError => 920,
            Self::Other(code) => code,
        }
    }

    /// The code for a number; unnamed numbers become [`StatusCode::Other`].
    pub fn from_code(code: u16) -> Self {
        match code {
            100 => Self::Continue,
            101 => Self::Queued,
            102 => Self::Started,
            200 => Self::Successful,
            201 => Self::PartialSuccess,
            202 => Self::Accepted,
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            402 => Self::InvalidParameter,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::ServiceNotSupported,
            406 => Self::RequestTimeout,
            408 => Self::RequestTimeoutAlt,
            409 => Self::InvalidPassword,
            410 => Self::UnableToDeliver,
            415 => Self::UnsupportedMediaType,
            420 => Self::InvalidTransaction,
            422 => Self::UserIdClientIdMismatch,
            423 => Self::InvalidInvitationId,
            424 => Self::InvalidSearchId,
            425 => Self::InvalidSearchIndex,
            426 => Self::InvalidMessageId,
            431 => Self::UnauthorizedGroupMembership,
            432 => Self::ResponseTooLarge,
            500 => Self::ServerError,
            501 => Self::NotImplemented,
            502 => Self::CannotRecoverSession,
            503 => Self::ServiceUnavailable,
            504 => Self::Timeout,
            505 => Self::VersionNotSupported,
            506 => Self::ServiceNotAgreed,
            507 => Self::MessageQueueFull,
            516 => Self::DomainNotSupported,
            521 => Self::UnrespondedPresenceRequest,
            522 => Self::UnrespondedGroupRequest,
            531 => Self::UnknownUser,
            532 => Self::RecipientBlockedSender,
            533 => Self::RecipientNotLoggedIn,
            534 => Self::RecipientUnauthorized,
            535 => Self::SearchTimedOut,
            536 => Self::TooManyHits,
            537 => Self::SearchTooBroad,
            538 => Self::MessageRejected,
            540 => Self::HeaderEncodingNotSupported,
            541 => Self::MessageForwarded,
            542 => Self::MessageExpired,
            543 => Self::NoMatchingDigestScheme,
            600 => Self::SessionExpired,
            601 => Self::ForcedLogout,
            603 => Self::AlreadyLoggedIn,
            604 => Self::InvalidSession,
            605 => Self::NewValueNotAccepted,
            616 => Self::InsufficientRights,
            700 => Self::ContactListMissing,
            701 => Self::ContactListExists,
            702 => Self::InvalidUserProperties,
            750 => Self::InvalidPresenceAttribute,
            751 => Self::InvalidPresenceValue,
            752 => Self::InvalidContactListProperty,
            753 => Self::TooManyContactLists,
            754 => Self::TooManyContacts,
            755 => Self::TooManyAttributeLists,
            760 => Self::AutoSubscriptionNotSupported,
            800 => Self::GroupMissing,
            801 => Self::GroupExists,
            802 => Self::GroupIsOpen,
            803 => Self::GroupIsRestricted,
            804 => Self::GroupIsPublic,
            805 => Self::GroupIsPrivate,
            806 => Self::InvalidGroupProperties,
            807 => Self::GroupAlreadyJoined,
            808 => Self::GroupNotJoined,
            809 => Self::RejectedFromGroup,
            810 => Self::NotGroupMember,
            811 => Self::ScreenNameInUse,
            812 => Self::GroupPrivateMessagingDisabled,
            813 => Self::UserPrivateMessagingDisabled,
            814 => Self::TooManyGroupsForUser,
            815 => Self::TooManyGroupsForServer,
            816 => Self::InsufficientGroupPrivileges,
            817 => Self::TooManyJoinedUsers,
            821 => Self::HistoryNotSupported,
            822 => Self::GroupNameOrTopicMissing,
            900 => Self::MultipleErrors,
            901 => Self::AddressError,
            902 => Self::NotEnoughCredit,
            903 => Self::HigherServiceClassRequired,
            920 => Self::MsisdnError,
            other => Self::Other(other),
        }
    }

    /// The meaning of the code, as a `Description` a server may send with it.
    pub fn description(self) -> &'static str {
        match self {
            Self::Continue => "Continue",
            Self::Queued => "Queued",
            Self::Started => "Started",
            Self::Successful => "Successful",
            Self::PartialSuccess => "Partially successful",
            Self::Accepted => "Accepted",
            Self::BadRequest => "Bad request",
            Self::Unauthorized => "Unauthorized",
            Self::InvalidParameter => "Bad or invalid parameter",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::ServiceNotSupported => "Service not supported",
            Self::RequestTimeout => "Request timeout",
            Self::RequestTimeoutAlt => "Request timeout",
            Self::InvalidPassword => "Invalid password",
            Self::UnableToDeliver => "Unable to deliver",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::InvalidTransaction => "Invalid transaction",
            Self::UserIdClientIdMismatch => "UserID and ClientID do not match",
            Self::InvalidInvitationId => "Invalid invitation ID",
            Self::InvalidSearchId => "Invalid search ID",
            Self::InvalidSearchIndex => "Invalid search index",
            Self::InvalidMessageId => "Invalid message ID",
            Self::UnauthorizedGroupMembership => "Unauthorized group membership",
            Self::ResponseTooLarge => "Response too large",
            Self::ServerError => "Internal server or network error",
            Self::NotImplemented => "Not implemented",
            Self::CannotRecoverSession => "Could not recover session",
            Self::ServiceUnavailable => "Service unavailable",
            Self::Timeout => "Timeout",
            Self::VersionNotSupported => "Version not supported",
            Self::ServiceNotAgreed => "Service not agreed",
            Self::MessageQueueFull => "Message queue full",
            Self::DomainNotSupported => "Domain not supported",
            Self::UnrespondedPresenceRequest => "Unresponded presence request",
            Self::UnrespondedGroupRequest => "Unresponded group request",
            Self::UnknownUser => "Unknown user ID",
            Self::RecipientBlockedSender => "Recipient blocked the sender",
            Self::RecipientNotLoggedIn => "Message recipient not logged in",
            Self::RecipientUnauthorized => "Message recipient unauthorized",
            Self::SearchTimedOut => "Search timed out",
            Self::TooManyHits => "Too many hits",
            Self::SearchTooBroad => "Too broad search criteria",
            Self::MessageRejected => "Message has been rejected",
            Self::HeaderEncodingNotSupported => "Header encoding not supported",
            Self::MessageForwarded => "Message has been forwarded",
            Self::MessageExpired => "Message has expired",
            Self::NoMatchingDigestScheme => "No matching digest scheme supported",
            Self::SessionExpired => "Session expired",
            Self::ForcedLogout => "Forced logout",
            Self::AlreadyLoggedIn => "Already logged in",
            Self::InvalidSession => "Invalid session or not logged in",
            Self::NewValueNotAccepted => "New value not accepted",
            Self::InsufficientRights => "Insufficient rights",
            Self::ContactListMissing => "Contact list does not exist",
            Self::ContactListExists => "Contact list already exists",
            Self::InvalidUserProperties => "Invalid or unsupported user properties",
            Self::InvalidPresenceAttribute => "Invalid or unsupported presence attribute",
            Self::InvalidPresenceValue => "Invalid or unsupported presence value",
            Self::InvalidContactListProperty => "Invalid or unsupported contact list property",
            Self::TooManyContactLists => "Max number of contact lists reached",
            Self::TooManyContacts => "Max number of contacts reached",
            Self::TooManyAttributeLists => "Max number of attribute lists reached",
            Self::AutoSubscriptionNotSupported => "Automatic subscription not supported",
            Self::GroupMissing => "Group does not exist",
            Self::GroupExists => "Group already exists",
            Self::GroupIsOpen => "Group is open",
            Self::GroupIsRestricted => "Group is restricted",
            Self::GroupIsPublic => "Group is public",
            Self::GroupIsPrivate => "Group is private",
            Self::InvalidGroupProperties => "Invalid or unsupported group properties",
            Self::GroupAlreadyJoined => "Group is already joined",
            Self::GroupNotJoined => "Group is not joined",
            Self::RejectedFromGroup => "User is on the group's reject list",
            Self::NotGroupMember => "Not a group member",
            Self::ScreenNameInUse => "Screen name already in use",
            Self::GroupPrivateMessagingDisabled => "Private messaging disabled for the group",
            Self::UserPrivateMessagingDisabled => "Private messaging disabled for the user",
            Self::TooManyGroupsForUser => "Max number of groups reached for the user",
            Self::TooManyGroupsForServer => "Max number of groups reached for the server",
            Self::InsufficientGroupPrivileges => "Insufficient group privileges",
            Self::TooManyJoinedUsers => "Max number of joined users reached",
            Self::HistoryNotSupported => "History not supported",
            Self::GroupNameOrTopicMissing => "Group name or topic missing",
            Self::MultipleErrors => "Multiple errors",
            Self::AddressError => "General address error",
            Self::NotEnoughCredit => "Not enough credit",
            Self::HigherServiceClassRequired => "Operation requires a higher class of service",
            Self::MsisdnError => "MSISDN error",
            Self::Other(code) => match code / 100 {
                1 => "Informational",
                2 => "Successful",
                4 => "Client error",
                5 => "Server error",
                6 => "Session error",
                7 => "Presence or contact list error",
                8 => "Group error",
                _ => "General error",
            },
        }
    }

    /// True for the 2xx codes.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.code())
    }
}

impl From<u16> for StatusCode {
    fn from(code: u16) -> Self {
        Self::from_code(code)
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..1000u16 {
            assert_eq!(StatusCode::from_code(code).code(), code);
        }
        assert_eq!(StatusCode::from_code(531), StatusCode::UnknownUser);
        assert!(StatusCode::PartialSuccess.is_success());
        assert!(!StatusCode::ForcedLogout.is_success());
    }
}
