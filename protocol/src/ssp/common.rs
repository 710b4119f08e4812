//! Parts shared by several SSP primitives: results, sender information, parties, message
//! description and content, presence values. Wire names come from [`super::names`].

use crate::raw::{RawElement, RawNode};

use super::error::SspError;
use super::names::{attr, el, value};
use super::tree::{Lookup, Writer, parse_bool, parse_u32};

/// An SSP element: decoded from a tree node, written under a name.
pub(crate) trait Element: Sized {
    /// Decodes `e` (whose name the caller matched).
    fn read(e: &RawElement) -> Result<Self, SspError>;
    /// Writes the element as `<name ...>...</name>`.
    fn write(&self, name: &str, w: &mut Writer<'_>);
}

/// Reads every child named `name`.
pub(crate) fn read_all<T: Element>(e: &RawElement, name: &str) -> Result<Vec<T>, SspError> {
    e.children_named(name).map(T::read).collect()
}

/// Reads the first child named `name`, if any.
pub(crate) fn read_opt<T: Element>(e: &RawElement, name: &str) -> Result<Option<T>, SspError> {
    e.child(name).map(T::read).transpose()
}

/// Writes each item under `name`.
pub(crate) fn write_all<T: Element>(items: &[T], name: &str, w: &mut Writer<'_>) {
    for item in items {
        item.write(name, w);
    }
}

/// Writes the item under `name` when present.
pub(crate) fn write_opt<T: Element>(item: &Option<T>, name: &str, w: &mut Writer<'_>) {
    if let Some(item) = item {
        item.write(name, w);
    }
}

/// An optional `u32` attribute.
pub(crate) fn u32_attr(e: &RawElement, names: &[&'static str]) -> Result<Option<u32>, SspError> {
    names
        .iter()
        .find_map(|n| e.attr(n).map(|v| (*n, v)))
        .map(|(n, v)| parse_u32(e.local_name(), n, v))
        .transpose()
}

/// An optional `Yes`/`No` attribute.
pub(crate) fn bool_attr(e: &RawElement, name: &'static str) -> Result<Option<bool>, SspError> {
    e.attr(name)
        .map(|v| parse_bool(e.local_name(), name, v))
        .transpose()
}

/// An optional string attribute.
pub(crate) fn str_attr(e: &RawElement, names: &[&str]) -> Option<String> {
    e.attr_any(names).map(str::to_owned)
}

/// The domain of a service id `wv:@domain` (also accepted: `@domain`, `domain`).
pub fn domain_of_service_id(service_id: &str) -> &str {
    let s = service_id.trim();
    let s = strip_wv(s);
    match s.find('@') {
        Some(i) => &s[i + 1..],
        None => s,
    }
}

/// The service id `wv:@domain` of a domain.
pub fn service_id(domain: &str) -> String {
    format!("{}{domain}", super::names::SERVICE_ID_PREFIX)
}

/// The domain of a user or group id (`wv:` optional): the text after the first `@`, or `None`
/// for a local id (SSP.md §6).
pub fn domain_of_id(id: &str) -> Option<&str> {
    let s = strip_wv(id.trim());
    s.find('@').map(|i| &s[i + 1..])
}

fn strip_wv(s: &str) -> &str {
    match s.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("wv:") => &s[3..],
        _ => s,
    }
}

/// `Status`: a result, in the CSP code space (SSP.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// The code; a `Status` without one reads as 404 (as Baraza does).
    pub code: u16,
    /// Human-readable text.
    pub description: Option<String>,
    /// Per-item results (with 201).
    pub detailed: Vec<DetailedResult>,
    /// Seconds to wait before retrying.
    pub try_again_timeout: Option<u32>,
}

impl Status {
    /// A bare status with `code`.
    pub fn new(code: u16) -> Self {
        Self {
            code,
            ..Self::default()
        }
    }

    /// True for 2xx codes.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

fn code_attr(e: &RawElement, default: u16) -> Result<u16, SspError> {
    match e.attr(attr::CODE) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| SspError::invalid(e.local_name(), attr::CODE, v, "not a status code")),
    }
}

impl Element for Status {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            code: code_attr(e, 404)?,
            description: e.child_text(el::STATUS_DESCRIPTION),
            detailed: read_all(e, el::DETAILED_RESULT)?,
            try_again_timeout: e
                .child_text(el::TRY_AGAIN_TIMEOUT)
                .map(|t| parse_u32(el::TRY_AGAIN_TIMEOUT, "text", &t))
                .transpose()?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::CODE, &self.code.to_string());
        w.text_element_opt(el::STATUS_DESCRIPTION, self.description.as_deref());
        write_all(&self.detailed, el::DETAILED_RESULT, w);
        if let Some(t) = self.try_again_timeout {
            w.text_element(el::TRY_AGAIN_TIMEOUT, &t.to_string());
        }
        w.end(name);
    }
}

/// `DetailedResult`: the result for some users, groups, screen names or domains.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DetailedResult {
    /// The code.
    pub code: u16,
    /// Human-readable text.
    pub description: Option<String>,
    /// Users it concerns (`UserID userID=`).
    pub user_ids: Vec<String>,
    /// Groups it concerns (`GroupID groupID=`).
    pub group_ids: Vec<String>,
    /// Screen names it concerns.
    pub screen_names: Vec<ScreenName>,
    /// Domains it concerns.
    pub domains: Vec<String>,
}

impl Element for DetailedResult {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            code: code_attr(e, 404)?,
            description: e.child_text(el::STATUS_DESCRIPTION),
            user_ids: ids(e, el::USER_ID, attr::USER_ID)?,
            group_ids: ids(e, el::GROUP_ID, attr::GROUP_ID)?,
            screen_names: read_all(e, el::SCREEN_NAME)?,
            domains: e
                .children_named(el::DOMAIN)
                .map(|d| d.text().trim().to_owned())
                .collect(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::CODE, &self.code.to_string());
        w.text_element_opt(el::STATUS_DESCRIPTION, self.description.as_deref());
        write_ids(&self.user_ids, el::USER_ID, attr::USER_ID, w);
        write_ids(&self.group_ids, el::GROUP_ID, attr::GROUP_ID, w);
        write_all(&self.screen_names, el::SCREEN_NAME, w);
        for d in &self.domains {
            w.text_element(el::DOMAIN, d);
        }
        w.end(name);
    }
}

/// Ids carried as `<element attribute="id"/>` (text content accepted too, for leniency).
pub(crate) fn ids(
    e: &RawElement,
    element: &'static str,
    attribute: &'static str,
) -> Result<Vec<String>, SspError> {
    e.children_named(element)
        .map(|c| match c.attr(attribute) {
            Some(v) => Ok(v.trim().to_owned()),
            None => {
                let t = c.text();
                let t = t.trim();
                if t.is_empty() {
                    Err(SspError::MissingAttribute {
                        element: element.to_owned(),
                        attribute,
                    })
                } else {
                    Ok(t.to_owned())
                }
            }
        })
        .collect()
}

/// Writes ids as `<element attribute="id"/>`.
pub(crate) fn write_ids(ids: &[String], element: &str, attribute: &str, w: &mut Writer<'_>) {
    for id in ids {
        w.start(element);
        w.attr(attribute, id);
        w.end(element);
    }
}

/// `ScreenName groupID=…`: a user's name in a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScreenName {
    /// The group.
    pub group_id: Option<String>,
    /// The name.
    pub name: String,
}

impl Element for ScreenName {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            group_id: str_attr(e, &[attr::GROUP_ID]),
            name: e.text().trim().to_owned(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr_opt(attr::GROUP_ID, self.group_id.as_deref());
        w.text(&self.name);
        w.end(name);
    }
}

/// `User userID=…`, with an optional `ClientID`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    /// The user (`wv:` prefix optional).
    pub user_id: String,
    /// The user's client.
    pub client_id: Option<ClientId>,
}

impl User {
    /// A user without client id.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            client_id: None,
        }
    }
}

impl Element for User {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            user_id: e.required_attr(attr::USER_ID)?.trim().to_owned(),
            client_id: read_opt(e, el::CLIENT_ID)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::USER_ID, &self.user_id);
        write_opt(&self.client_id, el::CLIENT_ID, w);
        w.end(name);
    }
}

/// `ClientID url=…`: a client, by URL and/or text (e.g. an MSISDN).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientId {
    /// The client's URL.
    pub url: Option<String>,
    /// The text content.
    pub text: Option<String>,
}

impl Element for ClientId {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let text = e.text().trim().to_owned();
        Ok(Self {
            url: str_attr(e, &[attr::URL]),
            text: (!text.is_empty()).then_some(text),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr_opt(attr::URL, self.url.as_deref());
        w.text(self.text.as_deref().unwrap_or(""));
        w.end(name);
    }
}

/// `MetaInfo`: who originated a relayed request (SSP.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaInfo {
    /// True when an end user (not e.g. a group) originated it.
    pub client_originated: bool,
    /// The requesting domain (`Requestor serviceID="wv:@domain"`).
    pub requestor_domain: String,
    /// The requesting end user.
    pub user: Option<User>,
}

impl Element for MetaInfo {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let requestor = e.required_child(el::REQUESTOR)?;
        Ok(Self {
            client_originated: bool_attr(e, attr::CLIENT_ORIGINATED)?.unwrap_or(false),
            requestor_domain: domain_of_service_id(requestor.required_attr(attr::SERVICE_ID)?)
                .to_owned(),
            user: read_opt(requestor, el::USER)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr_bool(attr::CLIENT_ORIGINATED, Some(self.client_originated));
        w.start(el::REQUESTOR);
        w.attr(attr::SERVICE_ID, &service_id(&self.requestor_domain));
        write_opt(&self.user, el::USER, w);
        w.end(el::REQUESTOR);
        w.end(name);
    }
}

/// Users, groups and screen names: the content of `Recipient`, `Inviting`, `Invited`,
/// `Responding`, `Canceling` and `Canceled`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    /// Users.
    pub users: Vec<User>,
    /// Groups (`GroupID groupID=`).
    pub group_ids: Vec<String>,
    /// Screen names in groups.
    pub screen_names: Vec<ScreenName>,
}

impl Party {
    /// True when it names nobody (Baraza's stray `<Canceled/>`).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.group_ids.is_empty() && self.screen_names.is_empty()
    }

    /// A party of one user.
    pub fn user(user_id: impl Into<String>) -> Self {
        Self {
            users: vec![User::new(user_id)],
            ..Self::default()
        }
    }
}

impl Element for Party {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            users: read_all(e, el::USER)?,
            group_ids: ids(e, el::GROUP_ID, attr::GROUP_ID)?,
            screen_names: read_all(e, el::SCREEN_NAME)?,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        write_all(&self.users, el::USER, w);
        write_ids(&self.group_ids, el::GROUP_ID, attr::GROUP_ID, w);
        write_all(&self.screen_names, el::SCREEN_NAME, w);
        w.end(name);
    }
}

/// `Sender`: a user, or a group with a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// An end user.
    User(User),
    /// A group.
    Group {
        /// The group.
        group_id: String,
        /// How the sender shows in the group.
        display: Option<String>,
    },
}

impl Element for Sender {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        if let Some(user) = e.child(el::USER) {
            return Ok(Self::User(User::read(user)?));
        }
        let group_id = ids(e, el::GROUP_ID, attr::GROUP_ID)?
            .into_iter()
            .next()
            .ok_or(SspError::Missing {
                parent: el::SENDER.to_owned(),
                element: el::USER,
            })?;
        Ok(Self::Group {
            group_id,
            display: e.child_text(el::SENDER_DISPLAY),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        match self {
            Self::User(u) => u.write(el::USER, w),
            Self::Group { group_id, display } => {
                write_ids(
                    std::slice::from_ref(group_id),
                    el::GROUP_ID,
                    attr::GROUP_ID,
                    w,
                );
                w.text_element_opt(el::SENDER_DISPLAY, display.as_deref());
            }
        }
        w.end(name);
    }
}

/// `MessageInfo`: everything about a message but its content. Attribute names are read
/// case-insensitively and Baraza's `validlity` is accepted (SSP.md §9).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageInfo {
    /// Message id.
    pub message_id: Option<String>,
    /// Where the content can be fetched.
    pub message_uri: Option<String>,
    /// MIME type.
    pub content_type: Option<String>,
    /// Content name.
    pub content_name: Option<String>,
    /// Content size in bytes.
    pub content_size: Option<u32>,
    /// Seconds it stays deliverable.
    pub validity: Option<u32>,
    /// Recipients.
    pub recipients: Vec<Party>,
    /// Sender.
    pub sender: Option<Sender>,
    /// Send time, ISO 8601 text.
    pub date_time: Option<String>,
}

impl Element for MessageInfo {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            message_id: str_attr(e, &[attr::MESSAGE_ID]),
            message_uri: str_attr(e, &[attr::MESSAGE_URI]),
            content_type: str_attr(e, &[attr::CONTENT_TYPE]),
            content_name: str_attr(e, &[attr::CONTENT_NAME]),
            content_size: u32_attr(e, &[attr::CONTENT_SIZE])?,
            validity: u32_attr(e, &[attr::VALIDITY, attr::VALIDITY_BARAZA])?,
            recipients: read_all(e, el::RECIPIENT)?,
            sender: read_opt(e, el::SENDER)?,
            date_time: e.child_text(el::DATE_TIME),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr_opt(attr::MESSAGE_ID, self.message_id.as_deref());
        w.attr_opt(attr::MESSAGE_URI, self.message_uri.as_deref());
        w.attr_opt(attr::CONTENT_TYPE, self.content_type.as_deref());
        w.attr_opt(attr::CONTENT_NAME, self.content_name.as_deref());
        w.attr_u32(attr::CONTENT_SIZE, self.content_size);
        w.attr_u32(attr::VALIDITY, self.validity);
        write_all(&self.recipients, el::RECIPIENT, w);
        write_opt(&self.sender, el::SENDER, w);
        if let Some(t) = &self.date_time {
            w.start(el::DATE_TIME);
            w.attr(attr::FORMAT, value::ISO8601);
            w.text(t);
            w.end(el::DATE_TIME);
        }
        w.end(name);
    }
}

/// `ContentData`: message content. Always base64 on the SSP wire; text without
/// `encoding="base64"` is taken as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentData {
    /// MIME type.
    pub content_type: Option<String>,
    /// The decoded bytes.
    pub data: Vec<u8>,
}

impl Element for ContentData {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        let text = e.text();
        let data = match e.attr(attr::ENCODING) {
            Some(enc) if enc.trim().eq_ignore_ascii_case(value::BASE64) => decode_base64(&text)
                .ok_or_else(|| SspError::invalid(e.local_name(), "text", &text, "not base64"))?,
            _ => text.into_bytes(),
        };
        Ok(Self {
            content_type: str_attr(e, &[attr::CONTENT_TYPE]),
            data,
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr_opt(attr::CONTENT_TYPE, self.content_type.as_deref());
        w.attr(attr::ENCODING, value::BASE64);
        w.text(&encode_base64(&self.data));
        w.end(name);
    }
}

/// Base64 (standard alphabet) of `bytes`.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64, ignoring whitespace; padding optional.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(compact.trim_end_matches('='))
        .ok()
}

/// `PresenceValue userID=…`: one user's presence, as CSP `PresenceSubList` elements (kept as
/// trees; [`super::csp`] turns them into CSP types).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceValue {
    /// Whose presence.
    pub user_id: String,
    /// The CSP-format presence attribute lists.
    pub sub_lists: Vec<RawElement>,
}

impl Element for PresenceValue {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            user_id: e.required_attr(attr::USER_ID)?.trim().to_owned(),
            sub_lists: e.elements().cloned().collect(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        w.attr(attr::USER_ID, &self.user_id);
        for s in &self.sub_lists {
            w.raw_element(s);
        }
        w.end(name);
    }
}

/// A CSP-format payload kept as the content of its SSP element (`AttributeList`,
/// `OwnProperties`, `GroupProperties`, `WelcomeNote`, `JoinedBlocked`, ...): attributes and
/// children as they came, written back under the element's wire name. [`super::csp`] turns
/// the children into CSP types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    /// Attributes (namespace declarations among them).
    pub attributes: Vec<(String, String)>,
    /// Child elements and text.
    pub children: Vec<RawNode>,
}

impl Payload {
    /// A payload of child elements.
    pub fn of(elements: impl IntoIterator<Item = RawElement>) -> Self {
        Self {
            attributes: Vec::new(),
            children: elements.into_iter().map(RawNode::Element).collect(),
        }
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &RawElement> {
        self.children.iter().filter_map(|c| match c {
            RawNode::Element(e) => Some(e),
            RawNode::Text(_) => None,
        })
    }
}

impl Element for Payload {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            attributes: e.attributes.clone(),
            children: e.children.clone(),
        })
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.raw_parts(name, &self.attributes, &self.children);
    }
}
