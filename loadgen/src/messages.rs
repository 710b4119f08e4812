//! The CSP a simulated mobile client sends and how it reads the answers: one builder per
//! request primitive, the result code of any answer, and the time stamps that measure
//! end-to-end latency of presence and messages (`lg:<microseconds since the epoch>` in
//! `StatusText` and in the message body, read back by the watcher or recipient).

use imps_protocol::common::{
    ClientId, CspResult, Group, Property, Recipient, ScreenName, Sender, User,
};
use imps_protocol::primitives::attributes::{
    Availability, OnlineStatus, StatusText, UserAvailability,
};
use imps_protocol::primitives::*;
use imps_protocol::types::{
    Base64Text, ContactListId, GroupId, MessageId, MimeType, ScreenNameText, SessionId,
    TransactionId, Url, UserId,
};
use imps_protocol::{
    Message, Primitive, Session, SessionDescriptor, SessionType, StatusCode, Transaction,
    TransactionDescriptor, TransactionMode, Version,
};

/// The ClientID every simulated client presents.
const CLIENT_URL: &str = "http://loadgen.imps/mobile";

/// The presence attributes clients publish and subscribe to.
const WATCHED: [&str; 3] = ["OnlineStatus", "UserAvailability", "StatusText"];

/// A message with one request transaction, in the session `session` (Outband without one).
pub fn request(version: Version, session: Option<&str>, tid: u32, content: Primitive) -> Message {
    Message::single(
        version,
        session.map(|s| SessionId(s.to_owned())),
        TransactionMode::Request,
        Some(TransactionId(format!("lg{tid}"))),
        content,
    )
}

fn client_id() -> ClientId {
    ClientId {
        url: Some(Url(CLIENT_URL.into())),
        ..ClientId::default()
    }
}

fn login_base(user_id: &str) -> LoginRequest {
    LoginRequest {
        user_id: UserId(user_id.to_owned()),
        client_id: client_id(),
        session_cookie: "loadgen".into(),
        ..LoginRequest::default()
    }
}

/// Plain login.
pub fn login_plain(user_id: &str, password: &str) -> Primitive {
    let mut r = login_base(user_id);
    r.password = Some(password.to_owned());
    r.into()
}

/// The first step of the 4-way digest login: offers MD5 and SHA.
pub fn login_digest_offer(user_id: &str) -> Primitive {
    let mut r = login_base(user_id);
    r.digest_schemas = vec![DigestSchemaList(vec![DigestSchema::Md5, DigestSchema::Sha])];
    r.into()
}

/// The second step: the digest of `nonce` and `password` in the scheme the server chose
/// (plain password when it chose none we know).
pub fn login_digest_proof(
    user_id: &str,
    password: &str,
    challenge: &LoginResponse,
) -> Option<Primitive> {
    use imps_engine::credentials::{DigestScheme, digest_bytes};
    let nonce = challenge.nonce.as_deref()?;
    let scheme = challenge
        .digest_schema
        .as_ref()
        .and_then(|l| l.0.first().cloned());
    let mut r = login_base(user_id);
    match scheme {
        Some(DigestSchema::Md5) => {
            r.digest_bytes = Some(Base64Text(digest_bytes(DigestScheme::Md5, nonce, password)));
        }
        Some(DigestSchema::Sha) => {
            r.digest_bytes = Some(Base64Text(digest_bytes(
                DigestScheme::Sha1,
                nonce,
                password,
            )));
        }
        _ => r.password = Some(password.to_owned()),
    }
    Some(r.into())
}

/// ClientCapability-Request of a mobile phone: HTTP bearer, push or notify/get delivery,
/// and standalone-TCP wake-ups when it wants a CIR channel (the one it can hold).
pub fn capability(cir: bool, push: bool) -> Primitive {
    ClientCapabilityRequest {
        client_id: None,
        capability_list: Some(CapabilityList {
            client_type: Some(ClientType::MobilePhone),
            initial_delivery_method: Some(if push {
                DeliveryMethod::Push
            } else {
                DeliveryMethod::Notify
            }),
            accepted_content_types: vec![MimeType("text/plain".into())],
            accepted_content_length: Some(65_536),
            supported_bearers: vec![Bearer::Http],
            multi_trans: Some(1),
            parser_size: Some(65_536),
            supported_cir_methods: if cir {
                vec![CirMethod::Stcp]
            } else {
                Vec::new()
            },
            ..CapabilityList::default()
        }),
    }
    .into()
}

/// What a capability answer agreed: ServerPollMin seconds, and the standalone-TCP CIR
/// channel's address (`TCPAddress`, `TCPPort`) when STCP was agreed (`None` address: the
/// server gave no usable one; the client then polls).
pub fn agreed_capability(r: &ClientCapabilityResponse) -> (Option<u32>, Option<CirAddress>) {
    let (poll_min, methods, address, port) = if let Some(a) = &r.agreed_capability_list {
        (
            a.server_poll_min,
            &a.supported_cir_methods,
            &a.tcp_address,
            a.tcp_port,
        )
    } else if let Some(c) = &r.capability_list {
        (
            c.server_poll_min,
            &c.supported_cir_methods,
            &c.tcp_address,
            c.tcp_port,
        )
    } else {
        return (None, None);
    };
    let stcp = methods.contains(&CirMethod::Stcp);
    let cir = stcp
        .then(|| {
            let port = u16::try_from(port.unwrap_or(3171)).ok()?;
            let ip = match address.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(a) => Some(a.parse().ok()?),
            };
            Some(CirAddress { ip, port })
        })
        .flatten();
    (poll_min, cir)
}

/// The STCP channel agreed by the ClientCapability-Response in `answer`, if any.
pub fn agreed_channel(answer: &Message) -> Option<CirAddress> {
    answer
        .session
        .transactions
        .iter()
        .find_map(|t| match &t.content {
            Primitive::ClientCapabilityResponse(r) => Some(r),
            _ => None,
        })
        .and_then(|r| agreed_capability(r).1)
}

/// Where a standalone-TCP CIR channel connects: the advertised IP (`None`: the HTTP
/// target's host) and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CirAddress {
    /// `TCPAddress`, when it is an IP address.
    pub ip: Option<std::net::IpAddr>,
    /// `TCPPort` (3171 when absent, as Android does).
    pub port: u16,
}

/// Service-Request for the whole of the fundamental, presence, IM and group features.
pub fn service() -> Primitive {
    let feature = |name: &str| Feature {
        name: name.into(),
        functions: Vec::new(),
    };
    ServiceRequest {
        client_id: None,
        functions: Some(Functions {
            tree: FeatureTree {
                features: ["FundamentalFeat", "PresenceFeat", "IMFeat", "GroupFeat"]
                    .into_iter()
                    .map(feature)
                    .collect(),
            },
        }),
        all_functions_request: None,
    }
    .into()
}

/// The ID of the list a client keeps its contacts in.
pub fn list_id(user_id: &str, domain: &str) -> String {
    let bare = user_id.strip_prefix("wv:").unwrap_or(user_id);
    match bare.split_once('@') {
        Some((local, d)) => format!("wv:{local}/loadgen@{d}"),
        None if domain.is_empty() => format!("wv:{bare}/loadgen"),
        None => format!("wv:{bare}/loadgen@{domain}"),
    }
}

/// CreateList-Request of the default list holding `contacts`.
pub fn create_list(list: &str, contacts: Vec<String>) -> Primitive {
    CreateListRequest {
        contact_list: ContactListId(list.to_owned()),
        nick_list: Some(NickList {
            nick_names: Vec::new(),
            user_ids: contacts.into_iter().map(UserId).collect(),
        }),
        properties: Some(ContactListProperties {
            properties: vec![Property {
                name: "Default".into(),
                value: Some("T".into()),
            }],
        }),
    }
    .into()
}

/// ListManage-Request adding or removing one contact.
pub fn list_manage(list: &str, contact: String, add: bool) -> Primitive {
    let mut r = ListManageRequest {
        contact_list: ContactListId(list.to_owned()),
        ..ListManageRequest::default()
    };
    if add {
        r.add_nick_list = Some(NickList {
            nick_names: Vec::new(),
            user_ids: vec![UserId(contact)],
        });
    } else {
        r.remove_nick_list = Some(RemoveNickList {
            user_ids: vec![UserId(contact)],
        });
    }
    r.into()
}

/// CreateAttributeList-Request of the default list: every watcher may see the watched
/// attributes (what a client sets up once, with its first contact list).
pub fn authorize_default() -> Primitive {
    CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(WATCHED),
        user_ids: Vec::new(),
        contact_lists: Vec::new(),
        default_list: Some(true),
    }
    .into()
}

/// SubscribePresence-Request for the watched attributes of a list's members.
pub fn subscribe(list: &str) -> Primitive {
    SubscribePresenceRequest {
        users: Vec::new(),
        contact_lists: vec![ContactListId(list.to_owned())],
        sub_list: Some(PresenceSubList::naming(WATCHED)),
        auto_subscribe: Some(true),
    }
    .into()
}

/// UpdatePresence-Request: online, available, and a status text carrying `stamp`.
pub fn update_presence(stamp: String) -> Primitive {
    let sub_list = PresenceSubList {
        online_status: Some(OnlineStatus {
            qualifier: Some(true),
            value: Some(true),
        }),
        user_availability: Some(UserAvailability {
            qualifier: Some(true),
            value: Some(Availability::Available),
        }),
        status_text: Some(StatusText {
            qualifier: Some(true),
            value: Some(stamp),
        }),
        ..PresenceSubList::default()
    };
    UpdatePresenceRequest { sub_list }.into()
}

/// GetPresence-Request of the watched attributes of `users`.
pub fn get_presence(users: Vec<String>) -> Primitive {
    GetPresenceRequest {
        users: users.into_iter().map(user).collect(),
        contact_lists: Vec::new(),
        sub_list: Some(PresenceSubList::naming(WATCHED)),
    }
    .into()
}

fn user(id: String) -> User {
    User {
        user_id: UserId(id),
        client_id: None,
        friendly_name: None,
    }
}

/// SendMessage-Request of a short text from `from` to `to`, carrying `stamp`.
pub fn send_message(from: String, to: String, stamp: String) -> Primitive {
    SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            content_type: Some(MimeType("text/plain".into())),
            content_size: u32::try_from(stamp.len()).ok(),
            recipient: Some(Recipient {
                users: vec![user(to)],
                ..Recipient::default()
            }),
            sender: Some(Sender {
                user: Some(user(from)),
                group: None,
            }),
            ..MessageInfo::default()
        },
        content_data: Some(stamp),
    }
    .into()
}

/// SendMessage-Request of a short text from `from` to the group `group`, carrying `stamp`.
pub fn send_group_message(from: String, group: String, stamp: String) -> Primitive {
    SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            content_type: Some(MimeType("text/plain".into())),
            content_size: u32::try_from(stamp.len()).ok(),
            recipient: Some(Recipient {
                groups: vec![Group {
                    group_id: Some(GroupId(group)),
                    screen_name: None,
                }],
                ..Recipient::default()
            }),
            sender: Some(Sender {
                user: Some(user(from)),
                group: None,
            }),
            ..MessageInfo::default()
        },
        content_data: Some(stamp),
    }
    .into()
}

/// The ID of the public room `k` (provisioned by `impsd groups add --group /PREFIXroomK`).
pub fn room_id(prefix: &str, k: u32, domain: &str) -> String {
    format!("wv:/{prefix}room{k}@{domain}")
}

/// The ID of the private room a user creates (`wv:USER/room@DOMAIN`).
pub fn own_room_id(user_id: &str, domain: &str) -> String {
    let bare = user_id.strip_prefix("wv:").unwrap_or(user_id);
    match bare.split_once('@') {
        Some((local, d)) => format!("wv:{local}/room@{d}"),
        None => format!("wv:{bare}/room@{domain}"),
    }
}

/// JoinGroup-Request under the screen name `name` (unique per attempt: a dropped session of
/// the same user may still be joined under another): no member list, no change notices.
pub fn join_group(group: String, name: String) -> Primitive {
    JoinGroupRequest {
        screen_name: Some(ScreenName {
            sname: ScreenNameText(name),
            group_id: GroupId(group.clone()),
        }),
        group_id: GroupId(group),
        joined_request: Some(false),
        subscribe_notification: Some(false),
        own_properties: None,
    }
    .into()
}

/// LeaveGroup-Request.
pub fn leave_group(group: String) -> Primitive {
    LeaveGroupRequest {
        group_id: GroupId(group),
    }
    .into()
}

/// CreateGroup-Request of a private, open chat room deleted when its last user leaves; the
/// creator joins it at once under the screen name `name`.
pub fn create_group(group: String, name: String) -> Primitive {
    let property = |name: &str, value: &str| Property {
        name: name.into(),
        value: Some(value.into()),
    };
    CreateGroupRequest {
        group_id: GroupId(group.clone()),
        properties: GroupProperties {
            properties: vec![
                property("Name", "loadgen room"),
                property("Type", "Private"),
                property("AccessType", "Open"),
                property("AutoDelete", "T"),
            ],
            welcome_note: None,
        },
        join_group: Some(true),
        screen_name: Some(ScreenName {
            sname: ScreenNameText(name),
            group_id: GroupId(group.clone()),
        }),
        subscribe_notification: Some(false),
    }
    .into()
}

/// GetMessage-Request of a notified message.
pub fn get_message(id: &str) -> Primitive {
    GetMessageRequest {
        message_id: MessageId(id.to_owned()),
    }
    .into()
}

/// MessageDelivered: the fetched message is in the client's hands.
pub fn message_delivered(id: &str) -> Primitive {
    MessageDelivered {
        message_id: MessageId(id.to_owned()),
    }
    .into()
}

/// The IDs of the messages announced (MessageNotification, notify/get delivery) by the
/// server-originated transactions of `answer`.
pub fn notified(answer: &Message) -> impl Iterator<Item = &str> {
    answer
        .session
        .transactions
        .iter()
        .filter_map(|t| match &t.content {
            Primitive::MessageNotification(n) => n.message_info.message_id.as_ref(),
            _ => None,
        })
        .map(|id| id.0.as_str())
}

/// Polling-Request.
pub fn poll() -> Primitive {
    PollingRequest {}.into()
}

/// KeepAlive-Request.
pub fn keep_alive() -> Primitive {
    KeepAliveRequest { time_to_live: None }.into()
}

/// Logout-Request.
pub fn logout() -> Primitive {
    LogoutRequest {}.into()
}

/// The client's answers to the server-originated requests of `answer` (Status 200 with the
/// server's TransactionID), in one message; `None` when it carried none.
pub fn acknowledgements(answer: &Message, session: Option<&str>) -> Option<Message> {
    let transactions: Vec<Transaction> = answer
        .session
        .transactions
        .iter()
        .filter(|t| t.descriptor.mode == TransactionMode::Request)
        .map(|t| Transaction {
            descriptor: TransactionDescriptor {
                mode: TransactionMode::Response,
                id: t.descriptor.id.clone(),
                poll: None,
            },
            content: Status {
                result: CspResult::new(StatusCode::Successful),
                client_id: None,
            }
            .into(),
            ext_blocks: Vec::new(),
        })
        .collect();
    if transactions.is_empty() {
        return None;
    }
    let session_id = session.map(|s| SessionId(s.to_owned()));
    Some(Message {
        version: answer.version,
        session: Session {
            descriptor: SessionDescriptor {
                session_type: if session_id.is_some() {
                    SessionType::Inband
                } else {
                    SessionType::Outband
                },
                session_id,
            },
            transactions,
            poll: None,
            cir: None,
        },
    })
}

/// The result code an answer carries; answers without a `Result` count as successful.
pub fn result_code(p: &Primitive) -> StatusCode {
    let result: Option<&CspResult> = match p {
        Primitive::Status(s) => Some(&s.result),
        Primitive::Disconnect(d) => Some(&d.result),
        Primitive::LoginResponse(r) => Some(&r.result),
        Primitive::KeepAliveResponse(r) => Some(&r.result),
        Primitive::CreateListResponse(r) => Some(&r.result),
        Primitive::ListManageResponse(r) => Some(&r.result),
        Primitive::SendMessageResponse(r) => Some(&r.result),
        Primitive::JoinGroupResponse(r) => r.result.as_ref(),
        Primitive::LeaveGroupResponse(r) => Some(&r.result),
        Primitive::GetPresenceResponse(r) => r.result.as_ref(),
        Primitive::GetAttributeListResponse(r) => Some(&r.result),
        Primitive::Unsupported { .. } => return StatusCode::ServiceNotSupported,
        _ => None,
    };
    result.map_or(StatusCode::Successful, CspResult::status)
}

/// True for the codes that say "this server does not do that" rather than "that failed".
pub fn is_unsupported(code: StatusCode) -> bool {
    matches!(
        code,
        StatusCode::ServiceNotSupported | StatusCode::NotImplemented | StatusCode::ServiceNotAgreed
    )
}

/// True for the codes that end the session (the client must log in again).
pub fn ends_session(code: StatusCode) -> bool {
    matches!(
        code,
        StatusCode::SessionExpired | StatusCode::ForcedLogout | StatusCode::InvalidSession
    )
}

/// A time stamp to carry in presence or a message.
pub fn stamp(unix_us: u64) -> String {
    format!("lg:{unix_us}")
}

/// The time stamp in `text`, if it is one.
pub fn read_stamp(text: &str) -> Option<u64> {
    text.trim().strip_prefix("lg:")?.parse().ok()
}

/// What a server-originated transaction tells the end-to-end measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// A presence update stamped at this time reached a watcher.
    Presence(u64),
    /// A message stamped at this time reached its recipient.
    Message(u64),
    /// A group message stamped at this time reached a joined user.
    GroupMessage(u64),
}

impl Delivered {
    /// The stamp: when the update or message was sent, µs since the Unix epoch.
    pub fn stamp(self) -> u64 {
        match self {
            Self::Presence(at) | Self::Message(at) | Self::GroupMessage(at) => at,
        }
    }
}

fn message_stamp(info: &MessageInfo, content: Option<&str>) -> Option<Delivered> {
    let at = content.and_then(read_stamp)?;
    let to_group = info
        .recipient
        .as_ref()
        .is_some_and(|r| !r.groups.is_empty())
        || info.sender.as_ref().is_some_and(|s| s.group.is_some());
    Some(if to_group {
        Delivered::GroupMessage(at)
    } else {
        Delivered::Message(at)
    })
}

/// Every stamp delivered in `answer`: its server-originated transactions, and a fetched
/// message (GetMessage-Response).
pub fn delivered(answer: &Message, out: &mut Vec<Delivered>) {
    for t in &answer.session.transactions {
        match &t.content {
            Primitive::PresenceNotificationRequest(n) => {
                for p in &n.presences {
                    for s in &p.sub_lists {
                        if let Some(at) = s
                            .status_text
                            .as_ref()
                            .and_then(|t| t.value.as_deref())
                            .and_then(read_stamp)
                        {
                            out.push(Delivered::Presence(at));
                        }
                    }
                }
            }
            Primitive::NewMessage(m) => {
                out.extend(message_stamp(&m.message_info, m.content_data.as_deref()));
            }
            Primitive::GetMessageResponse(m) => {
                out.extend(message_stamp(&m.message_info, m.content_data.as_deref()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::{Encoding, decode, encode};

    fn roundtrip(m: &Message) -> Message {
        decode(&encode(m), Encoding::Xml).unwrap()
    }

    #[test]
    fn every_request_encodes_and_decodes_in_every_version() {
        let contents = [
            login_plain("user1", "pw"),
            login_digest_offer("user1"),
            capability(true, false),
            capability(false, true),
            service(),
            GetListRequest {}.into(),
            create_list(
                "wv:user1/loadgen@imps.local",
                vec!["wv:user2@imps.local".into()],
            ),
            list_manage("wv:user1/loadgen@imps.local", "wv:user3".into(), true),
            list_manage("wv:user1/loadgen@imps.local", "wv:user3".into(), false),
            subscribe("wv:user1/loadgen@imps.local"),
            authorize_default(),
            update_presence(stamp(42)),
            get_presence(vec!["wv:user2".into()]),
            send_message("wv:user1".into(), "wv:user2".into(), stamp(43)),
            poll(),
            keep_alive(),
            logout(),
            join_group(room_id("lg", 1, "imps.local"), "user1.3".into()),
            leave_group(room_id("lg", 1, "imps.local")),
            create_group(own_room_id("user1", "imps.local"), "user1.4".into()),
            send_group_message("wv:user1".into(), room_id("lg", 2, "imps.local"), stamp(9)),
            get_message("m-1"),
            message_delivered("m-1"),
        ];
        for version in [Version::V1_1, Version::V1_2, Version::V1_3] {
            for c in &contents {
                let m = request(version, Some("0-abc"), 7, c.clone());
                let back = roundtrip(&m);
                assert_eq!(back.session.transactions[0].content.name(), c.name());
                assert_eq!(back.version, version);
            }
        }
    }

    #[test]
    fn stamps_round_trip_through_notifications() {
        let mut update = update_presence(stamp(1_234));
        let Primitive::UpdatePresenceRequest(u) = &mut update else {
            panic!()
        };
        let notification: Primitive = PresenceNotificationRequest {
            presences: vec![Presence {
                user_id: Some(UserId("wv:user2".into())),
                contact_list: None,
                sub_lists: vec![u.sub_list.clone()],
            }],
        }
        .into();
        let mut m = request(Version::V1_2, Some("s"), 1, notification);
        m.session.transactions.push(Transaction {
            descriptor: TransactionDescriptor {
                mode: TransactionMode::Request,
                id: Some(TransactionId("srv2".into())),
                poll: None,
            },
            content: NewMessage {
                message_info: MessageInfo::default(),
                content_data: Some(stamp(5_678)),
            }
            .into(),
            ext_blocks: Vec::new(),
        });
        let m = roundtrip(&m);
        let mut out = Vec::new();
        delivered(&m, &mut out);
        assert_eq!(
            out,
            vec![Delivered::Presence(1_234), Delivered::Message(5_678)]
        );
        let acks = acknowledgements(&m, Some("s")).unwrap();
        assert_eq!(acks.session.transactions.len(), 2);
        assert_eq!(
            acks.session.transactions[1].descriptor.id,
            Some(TransactionId("srv2".into()))
        );
        assert!(
            acks.session
                .transactions
                .iter()
                .all(|t| t.descriptor.mode == TransactionMode::Response)
        );
    }

    #[test]
    fn result_codes_and_classes() {
        let s: Primitive = Status {
            result: CspResult::new(StatusCode::NotImplemented),
            client_id: None,
        }
        .into();
        assert!(is_unsupported(result_code(&s)));
        assert_eq!(
            result_code(&GetListResponse::default().into()),
            StatusCode::Successful
        );
        assert!(ends_session(StatusCode::InvalidSession));
        assert!(!ends_session(StatusCode::Successful));
        assert_eq!(read_stamp(" lg:99 "), Some(99));
        assert_eq!(read_stamp("busy"), None);
    }

    #[test]
    fn list_ids_name_their_owner() {
        assert_eq!(
            list_id("user1", "imps.local"),
            "wv:user1/loadgen@imps.local"
        );
        assert_eq!(
            list_id("wv:bob@x.org", "imps.local"),
            "wv:bob/loadgen@x.org"
        );
    }
}
