//! Session and fundamental primitives: login, logout, keep-alive, polling, service-provider
//! info, status, VerifyID, version discovery and vendor extensions. Capability and service
//! negotiation live in [`super::capability`].

use std::borrow::Cow;

use crate::common::{ClientId, ContentEncoding, CspResult};
use crate::error::DecodeError;
use crate::node::{Node, Required, Value};
use crate::raw::RawNode;
use crate::types::{Base64Text, ContactListId, GroupId, MimeType, SessionId, Url, UserId};
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node, value_enum};

value_enum! {
    /// One password digest scheme (`DigestSchema`).
    pub enum DigestSchema: open Other {
        /// The password itself, in the clear (over a secure bearer).
        Pwd = "PWD",
        /// SHA-1.
        Sha = "SHA",
        /// MD4.
        Md4 = "MD4",
        /// MD5.
        Md5 = "MD5",
        /// MD6.
        Md6 = "MD6",
    }
}

/// The text of one `DigestSchema` element. CSP 1.1 lists every offered scheme in one element,
/// comma separated (`PWD,SHA,MD5`); CSP 1.2 repeats the element. Both read here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestSchemaList(pub Vec<DigestSchema>);

impl Value for DigestSchemaList {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        let schemas: Vec<DigestSchema> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|s| DigestSchema::parse(Cow::Borrowed(s)).ok())
            .collect();
        if schemas.is_empty() {
            return Err("no digest schema named");
        }
        Ok(Self(schemas))
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        let mut first = true;
        for schema in &self.0 {
            if !first {
                w.text(",");
            }
            first = false;
            w.text(schema.as_str());
        }
    }
}
crate::value_node!(DigestSchemaList);

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for DigestSchemaList {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        let n = 1 + g.below(3);
        Self(
            (0..n)
                .map(|_| {
                    let known = DigestSchema::KNOWN;
                    known[g.below(known.len())].clone()
                })
                .collect(),
        )
    }
}

element! {
    /// `Login-Request`: plain login with `Password`, or a step of digest login.
    pub struct LoginRequest {
        /// Who logs in.
        user_id: UserId = "UserID",
        /// The client application.
        client_id: ClientId = "ClientID",
        /// The password (plain login, or digest schema `PWD`).
        password: Option<String> = "Password",
        /// Base64 of H(nonce ‖ password) (second digest step).
        digest_bytes: Option<Base64Text> = "DigestBytes",
        /// Schemes the client offers (first digest step).
        digest_schemas: Vec<DigestSchemaList> = "DigestSchema",
        /// Session lifetime the client asks for, in seconds.
        time_to_live: Option<u32> = "TimeToLive",
        /// Opaque client cookie, echoed in CIR.
        session_cookie: String = "SessionCookie",
    }
}

impl LoginRequest {
    /// Every digest schema offered, in order, across all `DigestSchema` elements.
    pub fn offered_schemas(&self) -> impl Iterator<Item = &DigestSchema> {
        self.digest_schemas.iter().flat_map(|l| l.0.iter())
    }
}

element! {
    /// `Login-Response`.
    pub struct LoginResponse {
        /// The client application, echoed.
        client_id: ClientId = "ClientID",
        /// The outcome.
        result: CspResult = "Result",
        /// The digest challenge.
        nonce: Option<String> = "Nonce",
        /// The schema the server chose.
        digest_schema: Option<DigestSchemaList> = "DigestSchema",
        /// The new session (absent in a digest challenge).
        session_id: Option<SessionId> = "SessionID",
        /// Seconds of inactivity the server allows.
        keep_alive_time: Option<u32> = "KeepAliveTime",
        /// T: the client must negotiate capabilities before service.
        capability_request: Option<bool> = "CapabilityRequest",
    }
}

element! {
    /// `Logout-Request` (empty).
    pub struct LogoutRequest {}
}

element! {
    /// `Disconnect`: the session is over (answer to Logout, or unsolicited, e.g. 601).
    pub struct Disconnect {
        /// Why.
        result: CspResult = "Result",
    }
}

element! {
    /// `KeepAlive-Request`.
    pub struct KeepAliveRequest {
        /// Seconds the client would like.
        time_to_live: Option<u32> = "TimeToLive",
    }
}

element! {
    /// `KeepAlive-Response`.
    pub struct KeepAliveResponse {
        /// The outcome (605 when the requested value was not accepted).
        result: CspResult = "Result",
        /// Seconds the server grants.
        keep_alive_time: Option<u32> = "KeepAliveTime",
    }
}

element! {
    /// `Polling-Request` (empty): asks for the next queued server-originated transaction.
    pub struct PollingRequest {}
}

element! {
    /// `GetSPInfo-Request`.
    pub struct GetSpInfoRequest {
        /// The client application.
        client_id: Option<ClientId> = "ClientID",
    }
}

element! {
    /// `GetSPInfo-Response`: who the service provider is.
    pub struct GetSpInfoResponse {
        /// The client application, echoed.
        client_id: Option<ClientId> = "ClientID",
        /// The provider's name.
        name: String = "Name",
        /// The provider's logo.
        logo: Option<Logo> = "Logo",
        /// A description.
        description: Option<String> = "Description",
        /// The provider's home page.
        url: Option<Url> = "URL",
    }
}

element! {
    /// `Status`: the generic answer (`Result`, `ClientID?`).
    pub struct Status {
        /// The outcome.
        result: CspResult = "Result",
        /// The client application.
        client_id: Option<ClientId> = "ClientID",
    }
}

impl Status {
    /// A `Status` carrying `code` and its standard description.
    pub fn new(code: crate::StatusCode) -> Self {
        Self {
            result: CspResult::new(code),
            client_id: None,
        }
    }
}

element! {
    /// `IDList`: identifiers to verify (VerifyID-Request, 1.2).
    pub struct IdList {
        /// Users.
        user_ids: Vec<UserId> = "UserID",
        /// Contact lists.
        contact_lists: Vec<ContactListId> = "ContactList",
        /// Groups.
        group_ids: Vec<GroupId> = "GroupID",
        /// Screen names.
        screen_names: Vec<crate::common::ScreenName> = "ScreenName",
        /// Domains.
        domains: Vec<String> = "Domain",
    }
}

element! {
    /// `VerifyID-Request` (1.2): do these identifiers exist? Answered by Status.
    pub struct VerifyIdRequest {
        /// What to verify.
        id_list: IdList = "IDList",
    }
}

element! {
    /// `VersionList`: CSP versions (`VName` like `1.2`).
    pub struct VersionList {
        /// Version names.
        versions: Vec<String> = "VName",
    }
}

element! {
    /// `WV-CSP-VersionDiscovery-Request` (1.2): which versions does the server speak?
    pub struct VersionDiscoveryRequest {
        /// The versions the client speaks.
        version_list: Option<VersionList> = "VersionList",
    }
}

element! {
    /// `WV-CSP-VersionDiscovery-Response`.
    pub struct VersionDiscoveryResponse {
        /// The outcome.
        result: Option<CspResult> = "Result",
        /// The versions the server speaks.
        version_list: Option<VersionList> = "VersionList",
    }
}

/// Declares a primitive whose content is vendor data kept exactly: text and elements
/// (`ExtendedData` in 1.2, plain text in some servers).
macro_rules! extended_primitive {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name(pub Vec<RawNode>);

        impl Node for $name {
            fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.raw(el)?.children))
            }

            fn encode(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
                let mark = w.open(tag);
                for child in &self.0 {
                    match child {
                        RawNode::Element(e) => e.write(w),
                        RawNode::Text(t) => w.text(t),
                    }
                }
                w.close(tag, mark);
            }
        }
        impl Required for $name {}

        #[cfg(any(test, feature = "sample"))]
        impl crate::sample::Sample for $name {
            fn sample(g: &mut crate::sample::Gen) -> Self {
                let mut nodes: Vec<RawNode> = crate::sample::sample_raw_list(g)
                    .into_iter()
                    .map(RawNode::Element)
                    .collect();
                if nodes.is_empty() {
                    nodes.push(RawNode::Text(g.token()));
                }
                Self(nodes)
            }
        }
    )*};
}

extended_primitive! {
    /// `Extended-Request` (1.2): a vendor extension, kept verbatim.
    ExtendedRequest,
    /// `Extended-Response` (1.2): a vendor extension, kept verbatim.
    ExtendedResponse,
}

element! {
    /// `Logo`: the service provider's logo.
    pub struct Logo {
        /// MIME type.
        content_type: MimeType = "ContentType",
        /// Size in bytes.
        content_size: Option<u32> = "ContentSize",
        /// How `content_data` is encoded.
        content_encoding: Option<ContentEncoding> = "ContentEncoding",
        /// The image.
        content_data: String = "ContentData",
    }
}

plain_node!(
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    Disconnect,
    KeepAliveRequest,
    KeepAliveResponse,
    PollingRequest,
    GetSpInfoRequest,
    GetSpInfoResponse,
    Status,
    IdList,
    VerifyIdRequest,
    VersionList,
    VersionDiscoveryRequest,
    VersionDiscoveryResponse,
    Logo,
);
