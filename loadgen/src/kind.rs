//! The kinds of transactions a simulated client starts, named after their request
//! primitives (the report's rows).

/// Kinds of transactions a client starts, named after their request primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Login-Request (plain, or the first step of digest).
    Login,
    /// Login-Request carrying the digest (second step).
    LoginDigest,
    /// ClientCapability-Request.
    Capability,
    /// Service-Request.
    Service,
    /// GetList-Request.
    GetList,
    /// CreateList-Request.
    CreateList,
    /// CreateAttributeList-Request (the default list: what every watcher may see).
    AttributeList,
    /// SubscribePresence-Request.
    Subscribe,
    /// UpdatePresence-Request.
    UpdatePresence,
    /// GetPresence-Request.
    GetPresence,
    /// ListManage-Request.
    ListManage,
    /// SendMessage-Request.
    SendMessage,
    /// Polling-Request.
    Poll,
    /// KeepAlive-Request.
    KeepAlive,
    /// Logout-Request.
    Logout,
    /// The client's Status answers to server-originated requests.
    Acknowledge,
    /// GetMessage-Request of a notified message (notify/get delivery).
    GetMessage,
    /// MessageDelivered after a GetMessage.
    MessageDelivered,
    /// JoinGroup-Request of a public room.
    JoinGroup,
    /// LeaveGroup-Request.
    LeaveGroup,
    /// CreateGroup-Request of the user's own room (joined at once).
    CreateGroup,
    /// SendMessage-Request to the joined room.
    GroupMessage,
}

impl Kind {
    /// Every kind, in index order.
    pub const ALL: [Kind; 22] = [
        Kind::Login,
        Kind::LoginDigest,
        Kind::Capability,
        Kind::Service,
        Kind::GetList,
        Kind::CreateList,
        Kind::AttributeList,
        Kind::Subscribe,
        Kind::UpdatePresence,
        Kind::GetPresence,
        Kind::ListManage,
        Kind::SendMessage,
        Kind::Poll,
        Kind::KeepAlive,
        Kind::Logout,
        Kind::Acknowledge,
        Kind::GetMessage,
        Kind::MessageDelivered,
        Kind::JoinGroup,
        Kind::LeaveGroup,
        Kind::CreateGroup,
        Kind::GroupMessage,
    ];

    /// Its index in [`Kind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name reported: the request primitive.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "Login-Request",
            Kind::LoginDigest => "Login-Request(digest)",
            Kind::Capability => "ClientCapability-Request",
            Kind::Service => "Service-Request",
            Kind::GetList => "GetList-Request",
            Kind::CreateList => "CreateList-Request",
            Kind::AttributeList => "CreateAttributeList-Request",
            Kind::Subscribe => "SubscribePresence-Request",
            Kind::UpdatePresence => "UpdatePresence-Request",
            Kind::GetPresence => "GetPresence-Request",
            Kind::ListManage => "ListManage-Request",
            Kind::SendMessage => "SendMessage-Request",
            Kind::Poll => "Polling-Request",
            Kind::KeepAlive => "KeepAlive-Request",
            Kind::Logout => "Logout-Request",
            Kind::Acknowledge => "Status",
            Kind::GetMessage => "GetMessage-Request",
            Kind::MessageDelivered => "MessageDelivered",
            Kind::JoinGroup => "JoinGroup-Request",
            Kind::LeaveGroup => "LeaveGroup-Request",
            Kind::CreateGroup => "CreateGroup-Request",
            Kind::GroupMessage => "SendMessage-Request(group)",
        }
    }
}
