//! Instant messages across domains (SSP.md §5): a local CSP SendMessage for a remote user
//! becomes one SSP `SendMessageRequest` per recipient; a received one becomes a message for
//! local users, with the remote sender kept as it is; `DeliveryStatusReport` both ways.

use imps_protocol::ssp::relay::{
    DeliveryResult, DeliveryStatusReport, SendMessageRequest, SendMessageResponse,
};
use imps_protocol::ssp::{
    Content, ContentData, MessageInfo, MetaInfo, Party, Sender, Status, User, domain_of_id,
};

/// A message of a local user for remote recipients ([`super::Federation::send_message`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// The local sender (`wv:alice` or `wv:alice@a.test`; qualified with our domain if bare).
    pub sender: String,
    /// Remote recipients, `wv:bob@b.test`.
    pub recipients: Vec<String>,
    /// The sender's message id.
    pub message_id: Option<String>,
    /// MIME type of the content.
    pub content_type: Option<String>,
    /// The content.
    pub content: Vec<u8>,
    /// True when the sender asked for a delivery report.
    pub delivery_report: bool,
    /// Send time, ISO 8601.
    pub date_time: Option<String>,
}

/// A message received from another domain, for local users ([`super::Event::DeliverMessage`]).
/// Answer it with [`super::Federation::answer_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// Which request to answer.
    pub inbound: InboundId,
    /// The remote sender, as it came (`wv:alice@a.test`).
    pub sender: String,
    /// The local recipients.
    pub recipients: Vec<String>,
    /// The sender's message id.
    pub message_id: Option<String>,
    /// MIME type.
    pub content_type: Option<String>,
    /// The content.
    pub content: Vec<u8>,
    /// True when the sender wants a delivery report.
    pub delivery_report: bool,
    /// Send time, ISO 8601.
    pub date_time: Option<String>,
    /// When a group of the sending domain relays the message of one of its members (the
    /// sender is then the group): that member's screen name in the group.
    pub screen_name: Option<String>,
}

/// A received request waiting for the shards' answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InboundId {
    /// The peer it came from.
    pub peer: String,
    /// Its transaction id.
    pub transaction_id: String,
}

/// The outcome of a message sent to a remote recipient ([`super::Event::SendResult`]): the
/// remote domain's answer, or 503 when it could not be delivered before the queue expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// The local sender.
    pub sender: String,
    /// The remote recipient.
    pub recipient: String,
    /// The sender's message id.
    pub message_id: Option<String>,
    /// The outcome (531 for an unknown remote user, 901 for a refused sender, ...).
    pub status: Status,
}

/// A delivery report, both ways: given to [`super::Federation::send_delivery_report`] by the
/// shard of a local recipient, and delivered to a local sender as
/// [`super::Event::DeliveryReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Who sent the message (the report goes to this user).
    pub original_sender: String,
    /// Who received it.
    pub recipient: String,
    /// The message.
    pub message_id: Option<String>,
    /// The delivery outcome.
    pub status: Status,
    /// When it was delivered, ISO 8601.
    pub delivery_time: Option<String>,
}

/// `wv:user@domain` for `id`; bare ids get `local`.
pub(crate) fn qualify(id: &str, local: &str) -> String {
    let id = id.trim();
    let bare = match id.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("wv:") => &id[3..],
        _ => id,
    };
    if bare.contains('@') {
        format!("wv:{bare}")
    } else {
        format!("wv:{bare}@{local}")
    }
}

/// True when `id` belongs to `domain` (ids without a domain are local).
pub(crate) fn is_of_domain(id: &str, domain: &str) -> bool {
    domain_of_id(id).is_none_or(|d| d.eq_ignore_ascii_case(domain))
}

/// True for a group id (`wv:owner/name@domain`, `wv:/name@domain`): a `/` before the `@`.
pub(crate) fn is_group_id(id: &str) -> bool {
    let local = id.split('@').next().unwrap_or("");
    local.contains('/')
}

/// The group a `SendMessageRequest` is for, if its recipients name one.
pub(crate) fn group_of(r: &SendMessageRequest) -> Option<String> {
    r.message_info
        .recipients
        .iter()
        .flat_map(|p| p.group_ids.iter())
        .next()
        .cloned()
}

/// The `SendMessageRequest` for one recipient (a user, or a group).
pub(crate) fn request(
    msg: &OutgoingMessage,
    sender: &str,
    recipient: &str,
    local: &str,
) -> Content {
    Content::SendMessageRequest(SendMessageRequest {
        delivery_report: Some(msg.delivery_report),
        meta_info: Some(MetaInfo {
            client_originated: true,
            requestor_domain: local.to_owned(),
            user: Some(User::new(sender)),
        }),
        message_info: MessageInfo {
            message_id: msg.message_id.clone(),
            content_type: msg.content_type.clone(),
            content_size: u32::try_from(msg.content.len()).ok(),
            recipients: vec![if is_group_id(recipient) {
                Party {
                    group_ids: vec![recipient.to_owned()],
                    ..Party::default()
                }
            } else {
                Party::user(recipient)
            }],
            sender: Some(Sender::User(User::new(sender))),
            date_time: msg.date_time.clone(),
            ..MessageInfo::default()
        },
        content: Some(ContentData {
            content_type: msg.content_type.clone(),
            data: msg.content.clone(),
        }),
    })
}

/// The `SendMessageRequest` by which the local group `msg.sender` hands a message of one of
/// its members (`screen_name`) to a member of another domain: the group is the sender and
/// no user acts, so the poster may be of any domain.
pub(crate) fn group_request(
    msg: &OutgoingMessage,
    screen_name: Option<&str>,
    recipient: &str,
    local: &str,
) -> Content {
    let mut content = request(msg, &msg.sender, recipient, local);
    if let Content::SendMessageRequest(r) = &mut content {
        r.delivery_report = Some(false);
        r.meta_info = Some(MetaInfo {
            client_originated: false,
            requestor_domain: local.to_owned(),
            user: None,
        });
        r.message_info.sender = Some(Sender::Group {
            group_id: msg.sender.clone(),
            display: screen_name.map(str::to_owned),
        });
    }
    content
}

/// The users a `SendMessageRequest` is for, and the one domain they share (`None` when they
/// are in several domains or there is none).
pub(crate) fn recipients(r: &SendMessageRequest) -> (Vec<String>, Option<String>) {
    let users: Vec<String> = r
        .message_info
        .recipients
        .iter()
        .flat_map(|p| p.users.iter().map(|u| u.user_id.clone()))
        .collect();
    let mut domains = users
        .iter()
        .map(|u| domain_of_id(u).unwrap_or("").to_ascii_lowercase());
    let first = domains.next();
    let domain = match first {
        Some(d) if !d.is_empty() && domains.all(|o| o == d) => Some(d),
        _ => None,
    };
    (users, domain)
}

/// The sender of a `SendMessageRequest`: `Sender` (a user, or a group relaying a member's
/// message), else the `MetaInfo` user.
pub(crate) fn sender_of(r: &SendMessageRequest) -> Option<String> {
    match &r.message_info.sender {
        Some(Sender::User(u)) => Some(u.user_id.clone()),
        Some(Sender::Group { group_id, .. }) => Some(group_id.clone()),
        _ => r
            .meta_info
            .as_ref()
            .and_then(|m| m.user.as_ref())
            .map(|u| u.user_id.clone()),
    }
}

/// The event of a received `SendMessageRequest` for local `users`.
pub(crate) fn incoming(
    inbound: InboundId,
    r: &SendMessageRequest,
    sender: String,
    users: Vec<String>,
) -> IncomingMessage {
    let content = r.content.as_ref();
    IncomingMessage {
        inbound,
        sender,
        recipients: users,
        message_id: r.message_info.message_id.clone(),
        content_type: r
            .message_info
            .content_type
            .clone()
            .or_else(|| content.and_then(|c| c.content_type.clone())),
        content: content.map(|c| c.data.clone()).unwrap_or_default(),
        delivery_report: r.delivery_report.unwrap_or(false),
        date_time: r.message_info.date_time.clone(),
        screen_name: match &r.message_info.sender {
            Some(Sender::Group { display, .. }) => display.clone(),
            _ => None,
        },
    }
}

/// The `SendMessageResponse` answering a received message.
pub(crate) fn response(message_id: Option<String>, status: Status) -> Content {
    Content::SendMessageResponse(SendMessageResponse { message_id, status })
}

/// The `DeliveryStatusReport` of `report`, sent by `local`.
pub(crate) fn report_request(report: &DeliveryReport, recipient: &str, local: &str) -> Content {
    Content::DeliveryStatusReport(DeliveryStatusReport {
        meta_info: Some(MetaInfo {
            client_originated: false,
            requestor_domain: local.to_owned(),
            user: None,
        }),
        delivery_result: Some(DeliveryResult {
            status: report.status.clone(),
        }),
        delivery_time: report.delivery_time.clone(),
        message_info: Some(MessageInfo {
            message_id: report.message_id.clone(),
            recipients: vec![Party::user(recipient)],
            sender: Some(Sender::User(User::new(report.original_sender.clone()))),
            ..MessageInfo::default()
        }),
    })
}

/// The original sender and the recipient of a received report (either may be missing).
pub(crate) fn report_parties(r: &DeliveryStatusReport) -> (Option<String>, Option<String>) {
    let info = r.message_info.as_ref();
    let sender = info.and_then(|i| match &i.sender {
        Some(Sender::User(u)) => Some(u.user_id.clone()),
        _ => None,
    });
    let recipient = info
        .and_then(|i| i.recipients.iter().flat_map(|p| p.users.iter()).next())
        .map(|u| u.user_id.clone());
    (sender, recipient)
}

/// The report event of a received `DeliveryStatusReport`.
pub(crate) fn report_event(
    r: &DeliveryStatusReport,
    original_sender: String,
    recipient: String,
) -> DeliveryReport {
    DeliveryReport {
        original_sender,
        recipient,
        message_id: r.message_info.as_ref().and_then(|i| i.message_id.clone()),
        status: r
            .delivery_result
            .as_ref()
            .map_or_else(|| Status::new(200), |d| d.status.clone()),
        delivery_time: r.delivery_time.clone(),
    }
}

/// The status an answer carries (a bare `Status`, or the one inside a response primitive).
pub(crate) fn answer_status(content: &Content) -> Status {
    match content {
        Content::Status(s) => s.clone(),
        Content::SendMessageResponse(r) => r.status.clone(),
        Content::Unknown(u) => Status::new(u.status().code()),
        Content::Invalid(i) => Status::new(i.error.status().code()),
        _ => Status::new(200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_qualified_and_classified() {
        assert_eq!(qualify("wv:alice", "a.test"), "wv:alice@a.test");
        assert_eq!(qualify("alice@a.test", "x"), "wv:alice@a.test");
        assert_eq!(qualify("WV:bob@b.test", "x"), "wv:bob@b.test");
        assert!(is_of_domain("wv:bob@B.test", "b.test"));
        assert!(is_of_domain("wv:bob", "b.test"));
        assert!(!is_of_domain("wv:bob@c.test", "b.test"));
    }

    #[test]
    fn a_request_names_one_recipient_domain() {
        let msg = OutgoingMessage {
            sender: "wv:alice@a.test".into(),
            recipients: vec!["wv:bob@b.test".into()],
            content: b"hi".to_vec(),
            ..OutgoingMessage::default()
        };
        let Content::SendMessageRequest(r) = request(&msg, &msg.sender, "wv:bob@b.test", "a.test")
        else {
            panic!("not a SendMessageRequest");
        };
        assert_eq!(
            recipients(&r),
            (vec!["wv:bob@b.test".to_owned()], Some("b.test".to_owned()))
        );
        assert_eq!(sender_of(&r).as_deref(), Some("wv:alice@a.test"));
    }

    #[test]
    fn a_group_relays_a_members_message_as_its_sender() {
        let msg = OutgoingMessage {
            sender: "wv:bob/chat@b.test".into(),
            message_id: Some("m1".into()),
            content: b"hi".to_vec(),
            ..OutgoingMessage::default()
        };
        let content = group_request(&msg, Some("carol"), "wv:alice@a.test", "b.test");
        assert_eq!(content.check_origin("b.test"), Ok(()));
        let Content::SendMessageRequest(r) = content else {
            panic!("not a SendMessageRequest");
        };
        assert_eq!(group_of(&r), None, "for the member, not the group");
        assert_eq!(
            recipients(&r),
            (
                vec!["wv:alice@a.test".to_owned()],
                Some("a.test".to_owned())
            )
        );
        assert_eq!(sender_of(&r).as_deref(), Some("wv:bob/chat@b.test"));
        let inbound = InboundId {
            peer: "b.test".into(),
            transaction_id: "t".into(),
        };
        let m = incoming(inbound, &r, "wv:bob/chat@b.test".into(), Vec::new());
        assert_eq!(m.screen_name.as_deref(), Some("carol"));
        assert_eq!(m.content, b"hi");
    }
}
