//! Elements shared by many primitives: results, users, groups, screen names, recipients.

use crate::error::DecodeError;
use crate::node::{Node, Required, Slot};
use crate::raw::RawNode;
use crate::types::{ContactListId, GroupId, MessageId, ScreenNameText, Url, UserId};
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node};

element! {
    /// `Result`: the outcome of a request (`Code`, `Description?`, `DetailedResult*`).
    pub struct CspResult {
        /// The status code (see [`crate::StatusCode`]).
        code: u32 = "Code",
        /// Human-readable text.
        description: Option<String> = "Description",
        /// One per failing part of a partially successful request (code 201).
        detailed: Vec<DetailedResult> = "DetailedResult",
    }
}

element! {
    /// `DetailedResult`: a status code and the entities it applies to.
    pub struct DetailedResult {
        /// The status code.
        code: u32 = "Code",
        /// Human-readable text.
        description: Option<String> = "Description",
        /// Users concerned.
        user_ids: Vec<UserId> = "UserID",
        /// Groups concerned.
        group_ids: Vec<GroupId> = "GroupID",
        /// Screen names concerned.
        screen_names: Vec<ScreenName> = "ScreenName",
        /// Messages concerned (1.2).
        message_ids: Vec<MessageId> = "MessageID",
        /// Contact lists concerned (1.2).
        contact_lists: Vec<ContactListId> = "ContactList",
        /// Domains concerned (1.2).
        domains: Vec<String> = "Domain",
    }
}

/// `ClientID`: identifies the client application (`URL` and/or `MSISDN`). Some clients
/// (Android's) send a bare text identifier instead; it is kept in `text`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientId {
    /// The client's URL.
    pub url: Option<Url>,
    /// The client's MSISDN.
    pub msisdn: Option<String>,
    /// A bare identifier written as the element's text.
    pub text: Option<String>,
}

impl Node for ClientId {
    fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError> {
        let raw = r.raw(el)?;
        let mut id = ClientId::default();
        for child in &raw.children {
            match child {
                RawNode::Element(e) if e.local_name() == "URL" => {
                    id.url = Some(Url(e.text().trim().to_owned()));
                }
                RawNode::Element(e) if e.local_name() == "MSISDN" => {
                    id.msisdn = Some(e.text());
                }
                RawNode::Element(_) => {}
                RawNode::Text(_) => {}
            }
        }
        let text = raw.text();
        if !text.trim().is_empty() {
            id.text = Some(text.trim().to_owned());
        }
        Ok(id)
    }

    fn encode(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        let mark = w.open(tag);
        if let Some(text) = &self.text {
            w.text(text);
        }
        self.url.encode_slot("URL", w);
        self.msisdn.encode_slot("MSISDN", w);
        w.close(tag, mark);
    }
}
impl Required for ClientId {}

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for ClientId {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        use crate::sample::Sample;
        Self {
            url: Sample::sample(g),
            msisdn: Sample::sample(g),
            text: if g.below(4) == 0 {
                Some(g.token())
            } else {
                None
            },
        }
    }
}

element! {
    /// `ScreenName`: a nickname inside a group.
    pub struct ScreenName {
        /// The nickname.
        sname: ScreenNameText = "SName",
        /// The group it is used in.
        group_id: GroupId = "GroupID",
    }
}

element! {
    /// `User`: a user, optionally one of their clients.
    pub struct User {
        /// The user.
        user_id: UserId = "UserID",
        /// One client of the user.
        client_id: Option<ClientId> = "ClientID",
        /// The user's friendly name (1.3).
        friendly_name: Option<String> = "FriendlyName",
    }
}

element! {
    /// `Group`: a group, or a screen name in one.
    pub struct Group {
        /// The group.
        group_id: Option<GroupId> = "GroupID",
        /// A screen name in the group.
        screen_name: Option<ScreenName> = "ScreenName",
    }
}

element! {
    /// `Recipient`: users, groups and contact lists a message or invitation goes to.
    pub struct Recipient {
        /// Users.
        users: Vec<User> = "User",
        /// Groups or screen names.
        groups: Vec<Group> = "Group",
        /// Contact lists (every member).
        contact_lists: Vec<ContactListId> = "ContactList",
    }
}

element! {
    /// `Sender`: a user, or a group / screen name.
    pub struct Sender {
        /// A user.
        user: Option<User> = "User",
        /// A group or a screen name in one.
        group: Option<Group> = "Group",
    }
}

element! {
    /// `UserList`: users, as listed by group and search primitives.
    pub struct UserList {
        /// Users by ID.
        user_ids: Vec<UserId> = "UserID",
        /// Users with details.
        users: Vec<User> = "User",
        /// Users by screen name.
        screen_names: Vec<ScreenName> = "ScreenName",
    }
}

plain_node!(
    CspResult,
    DetailedResult,
    ScreenName,
    User,
    Group,
    Recipient,
    Sender,
    UserList
);

impl CspResult {
    /// A result with `code` and its standard description.
    pub fn new(code: crate::StatusCode) -> Self {
        Self {
            code: u32::from(code.code()),
            description: Some(code.description().to_owned()),
            detailed: Vec::new(),
        }
    }

    /// The code as a [`crate::StatusCode`].
    pub fn status(&self) -> crate::StatusCode {
        crate::StatusCode::from_code(u16::try_from(self.code).unwrap_or(u16::MAX))
    }
}

crate::value_enum! {
    /// `ContentEncoding`: how `ContentData` is carried.
    pub enum ContentEncoding: open Other {
        /// As text.
        None = "None",
        /// Base64.
        Base64 = "BASE64",
    }
}

element! {
    /// `URLList`: references (invitations, shared content).
    pub struct UrlList {
        /// The URLs.
        urls: Vec<Url> = "URL",
    }
}

element! {
    /// `Property`: a name/value pair of a contact list, group or membership.
    pub struct Property {
        /// The property name (`DisplayName`, `Topic`, ...).
        name: String = "Name",
        /// Its value.
        value: Option<String> = "Value",
    }
}

plain_node!(UrlList, Property);

/// Looks up a property by name (case-insensitive, as clients spell `AccessType` both ways).
pub fn property<'a>(props: &'a [Property], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .and_then(|p| p.value.as_deref())
}
