//! The SSP envelope (SSP.md §2), the session set-up primitives (§3), the transaction content
//! and the codec entry points [`decode_ssp`] and [`encode_ssp_into`].
//!
//! ```text
//! WV-SSP-Message xmlns=".../WV-SSP1.3"
//!  ├ SetupTransaction mode transactionID   -> SendSecretToken | LoginRequest | LoginResponse
//!  └ Session sessionID
//!      └ Transaction+ mode transactionID [relayPath]   -> one primitive
//! ```

use crate::error::Limits;
use crate::raw::RawElement;
use crate::status::StatusCode;

use super::common::{
    Element, Status, decode_base64, domain_of_service_id, encode_base64, service_id,
};
use super::error::SspError;
use super::names::{self, attr, el, value};
use super::tree::{Lookup, Writer, parse_u32, read_tree};

/// One SSP message: one HTTP POST body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SspMessage {
    /// A handshake step, outside any session.
    Setup(SetupTransaction),
    /// Transactions of a live session.
    Session(SessionBlock),
}

/// `Request` or `Response`. On receipt anything but `Request` (any case) is a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Expects an answer.
    Request,
    /// Answers a request with the same transaction id.
    Response,
}

impl Mode {
    fn read(e: &RawElement) -> Self {
        match e.attr(attr::MODE) {
            Some(m) if m.trim().eq_ignore_ascii_case(value::REQUEST) => Self::Request,
            _ => Self::Response,
        }
    }

    fn wire(self) -> &'static str {
        match self {
            Self::Request => value::REQUEST,
            Self::Response => value::RESPONSE,
        }
    }
}

/// `SetupTransaction`: one handshake step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupTransaction {
    /// Request (from the initiator) or Response (from the responder).
    pub mode: Mode,
    /// The sender's set-up transaction id (steps 4–6 echo the initiator's).
    pub transaction_id: String,
    /// The step.
    pub content: SetupContent,
}

/// What a `SetupTransaction` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupContent {
    /// Steps 1–2.
    SendSecretToken(SendSecretToken),
    /// Steps 3–4.
    LoginRequest(LoginRequest),
    /// Steps 5–6.
    LoginResponse(LoginResponse),
}

/// A token or digest and whether it travels base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Token {
    /// The value, decoded.
    pub value: Vec<u8>,
    /// True when written with `encoding="base64"`; Baraza sends secret tokens plain.
    pub base64: bool,
}

impl Token {
    /// A plain-text token.
    pub fn plain(value: impl Into<Vec<u8>>) -> Self {
        Self {
            value: value.into(),
            base64: false,
        }
    }

    /// A base64-encoded token.
    pub fn base64(value: impl Into<Vec<u8>>) -> Self {
        Self {
            value: value.into(),
            base64: true,
        }
    }

    fn read(e: &RawElement) -> Result<Self, SspError> {
        let text = e.text();
        let text = text.trim();
        match e.attr(attr::ENCODING) {
            Some(enc) if enc.trim().eq_ignore_ascii_case(value::BASE64) => Ok(Self {
                value: decode_base64(text)
                    .ok_or_else(|| SspError::invalid(e.local_name(), "text", text, "not base64"))?,
                base64: true,
            }),
            _ => Ok(Self::plain(text.as_bytes())),
        }
    }

    fn write(&self, name: &str, w: &mut Writer<'_>) {
        w.start(name);
        if self.base64 {
            w.attr(attr::ENCODING, value::BASE64);
            w.text(&encode_base64(&self.value));
        } else {
            w.text(&String::from_utf8_lossy(&self.value));
        }
        w.end(name);
    }
}

/// `SendSecretToken`: a domain's secret, sent to the other's published address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSecretToken {
    /// The sending domain (`serviceID="wv:@domain"`).
    pub domain: String,
    /// `WV-SSP`.
    pub protocol: Option<String>,
    /// `1.3` (read from `protocolVersion` or Baraza's `procotolVersion`).
    pub protocol_version: Option<String>,
    /// The secret.
    pub secret: Token,
}

impl SendSecretToken {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            domain: domain_of_service_id(e.required_attr(attr::SERVICE_ID)?).to_owned(),
            protocol: e.attr(attr::PROTOCOL).map(str::to_owned),
            protocol_version: e
                .attr_any(&[attr::PROTOCOL_VERSION, attr::PROTOCOL_VERSION_BARAZA])
                .map(str::to_owned),
            secret: Token::read(e.required_child(el::SECRET_TOKEN)?)?,
        })
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.start(el::SEND_SECRET_TOKEN);
        w.attr(attr::SERVICE_ID, &service_id(&self.domain));
        w.attr_opt(attr::PROTOCOL, self.protocol.as_deref());
        w.attr_opt(attr::PROTOCOL_VERSION, self.protocol_version.as_deref());
        self.secret.write(el::SECRET_TOKEN, w);
        w.end(el::SEND_SECRET_TOKEN);
    }
}

/// `LoginRequest`: proof that the sender received the other domain's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// The sending domain.
    pub domain: String,
    /// Requested session lifetime, seconds.
    pub time_to_live: Option<u32>,
    /// `PasswordDigest`: MD5 of the other side's secret (base64 on the wire).
    pub digest: Token,
    /// Extension `KeyedDigest`: HMAC-SHA256 proof with a per-peer shared secret.
    pub keyed_digest: Option<Token>,
}

impl LoginRequest {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            domain: domain_of_service_id(e.required_attr(attr::SERVICE_ID)?).to_owned(),
            time_to_live: ttl(e)?,
            digest: Token::read(e.required_child(el::PASSWORD_DIGEST)?)?,
            keyed_digest: e.child(el::KEYED_DIGEST).map(Token::read).transpose()?,
        })
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.start(el::LOGIN_REQUEST);
        w.attr(attr::SERVICE_ID, &service_id(&self.domain));
        w.attr_u32(attr::TIME_TO_LIVE, self.time_to_live);
        self.digest.write(el::PASSWORD_DIGEST, w);
        if let Some(k) = &self.keyed_digest {
            w.start(el::KEYED_DIGEST);
            w.attr(attr::ALGORITHM, value::HMAC_SHA256);
            w.attr(attr::ENCODING, value::BASE64);
            w.text(&encode_base64(&k.value));
            w.end(el::KEYED_DIGEST);
        }
        w.end(el::LOGIN_REQUEST);
    }
}

fn ttl(e: &RawElement) -> Result<Option<u32>, SspError> {
    e.attr(attr::TIME_TO_LIVE)
        .map(|v| parse_u32(e.local_name(), attr::TIME_TO_LIVE, v))
        .transpose()
}

/// `LoginResponse`: the session id the sender will use, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResponse {
    /// The sender's own session id, `<n>@<domain>`.
    pub session_id: String,
    /// Granted lifetime, seconds.
    pub time_to_live: Option<u32>,
    /// The outcome.
    pub status: Status,
}

impl LoginResponse {
    fn read(e: &RawElement) -> Result<Self, SspError> {
        Ok(Self {
            session_id: e.required_attr(attr::SESSION_ID)?.trim().to_owned(),
            time_to_live: ttl(e)?,
            status: Status::read(e.required_child(el::STATUS)?)?,
        })
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.start(el::LOGIN_RESPONSE);
        w.attr(attr::SESSION_ID, &self.session_id);
        w.attr_u32(attr::TIME_TO_LIVE, self.time_to_live);
        self.status.write(el::STATUS, w);
        w.end(el::LOGIN_RESPONSE);
    }
}

/// `Session`: the transactions of a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBlock {
    /// The sender's own session id (`<n>@<sender-domain>`).
    pub session_id: String,
    /// One or more transactions.
    pub transactions: Vec<Transaction>,
}

impl SessionBlock {
    /// The sender's domain: the text after the last `@` of the session id.
    pub fn peer_domain(&self) -> Option<&str> {
        self.session_id
            .rfind('@')
            .map(|i| &self.session_id[i + 1..])
    }
}

/// `Transaction`: one request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Request or Response.
    pub mode: Mode,
    /// Chosen by the request's originator, echoed by the response.
    pub transaction_id: String,
    /// Extension `relayPath`: domains the request passed through, oldest first (empty for a
    /// direct request).
    pub relay_path: Vec<String>,
    /// The primitive.
    pub content: super::Content,
}

impl Transaction {
    /// A direct (unrelayed) transaction.
    pub fn new(mode: Mode, transaction_id: impl Into<String>, content: super::Content) -> Self {
        Self {
            mode,
            transaction_id: transaction_id.into(),
            relay_path: Vec::new(),
            content,
        }
    }
}

impl Transaction {
    /// The response to this transaction: same id, mode Response, no relay path.
    pub fn respond(&self, content: super::Content) -> Transaction {
        Transaction::new(Mode::Response, self.transaction_id.clone(), content)
    }

    /// The domain that originated the request: the first of its relay path, or `peer` (the
    /// session's domain) for a direct request. A relayed request's origin is as trustworthy as
    /// the relay that vouches for it, an agreed peer.
    pub fn origin<'a>(&'a self, peer: &'a str) -> &'a str {
        self.relay_path.first().map_or(peer, String::as_str)
    }

    /// [`super::Content::check_origin`] against [`Transaction::origin`]: `Err(901)` when the
    /// request's sender is not of the domain it came from.
    pub fn check_origin(&self, peer: &str) -> Result<(), StatusCode> {
        self.content.check_origin(self.origin(peer))
    }
}

/// A primitive this codec does not model, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPrimitive {
    /// The element.
    pub element: RawElement,
    /// True for an SSP element that is recognised but not supported (answer 501); false for
    /// an unknown one (answer 405).
    pub recognised: bool,
}

impl UnknownPrimitive {
    /// Classifies `element` by [`names::el::KNOWN_UNSUPPORTED`].
    pub fn new(element: RawElement) -> Self {
        let recognised = el::KNOWN_UNSUPPORTED.contains(&element.local_name());
        Self {
            element,
            recognised,
        }
    }

    /// The status to answer with: 501 for recognised, 405 for unknown elements (as Baraza).
    pub fn status(&self) -> StatusCode {
        if self.recognised {
            StatusCode::NotImplemented
        } else {
            StatusCode::ServiceNotSupported
        }
    }
}

/// A known primitive whose content does not decode, kept as it came with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPrimitive {
    /// The element.
    pub element: RawElement,
    /// Why it does not decode.
    pub error: SspError,
}

/// Decodes one SSP message. Errors concern the envelope only: a transaction whose primitive
/// is unknown or does not decode still decodes, as [`super::Content::Unknown`] or
/// [`super::Content::Invalid`], so the server can answer it with a status.
pub fn decode_ssp(body: &[u8], limits: &Limits) -> Result<SspMessage, SspError> {
    let root = read_tree(body, limits)?;
    if root.local_name() != el::ROOT {
        return Err(SspError::NotSsp(
            root.local_name().chars().take(64).collect(),
        ));
    }
    if let Some(setup) = root.child(el::SETUP_TRANSACTION) {
        return read_setup(setup).map(SspMessage::Setup);
    }
    let session = root.child(el::SESSION).ok_or(SspError::NoBody)?;
    let transactions = session
        .children_named(el::TRANSACTION)
        .map(read_transaction)
        .collect::<Result<Vec<_>, _>>()?;
    if transactions.is_empty() {
        return Err(SspError::Missing {
            parent: el::SESSION.to_owned(),
            element: el::TRANSACTION,
        });
    }
    Ok(SspMessage::Session(SessionBlock {
        session_id: session.required_attr(attr::SESSION_ID)?.trim().to_owned(),
        transactions,
    }))
}

fn read_setup(e: &RawElement) -> Result<SetupTransaction, SspError> {
    let content = e.elements().next().ok_or(SspError::Missing {
        parent: el::SETUP_TRANSACTION.to_owned(),
        element: el::SEND_SECRET_TOKEN,
    })?;
    let content = match content.local_name() {
        n if n == el::SEND_SECRET_TOKEN => {
            SetupContent::SendSecretToken(SendSecretToken::read(content)?)
        }
        n if n == el::LOGIN_REQUEST => SetupContent::LoginRequest(LoginRequest::read(content)?),
        n if n == el::LOGIN_RESPONSE => SetupContent::LoginResponse(LoginResponse::read(content)?),
        other => return Err(SspError::UnknownSetup(other.chars().take(64).collect())),
    };
    Ok(SetupTransaction {
        mode: Mode::read(e),
        transaction_id: e.required_attr(attr::TRANSACTION_ID)?.trim().to_owned(),
        content,
    })
}

fn read_transaction(e: &RawElement) -> Result<Transaction, SspError> {
    let content = e.elements().next().ok_or(SspError::Missing {
        parent: el::TRANSACTION.to_owned(),
        element: el::STATUS,
    })?;
    Ok(Transaction {
        mode: Mode::read(e),
        transaction_id: e.required_attr(attr::TRANSACTION_ID)?.trim().to_owned(),
        relay_path: e
            .attr(attr::RELAY_PATH)
            .map(|p| p.split_ascii_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        content: super::Content::read(content),
    })
}

/// Appends the canonical XML of `message` to `out`.
pub fn encode_ssp_into(message: &SspMessage, out: &mut Vec<u8>) {
    let mut w = Writer::new(out);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    w.start(el::ROOT);
    w.attr(attr::XMLNS, names::NAMESPACE_1_3);
    match message {
        SspMessage::Setup(setup) => {
            w.start(el::SETUP_TRANSACTION);
            w.attr(attr::MODE, setup.mode.wire());
            w.attr(attr::TRANSACTION_ID, &setup.transaction_id);
            match &setup.content {
                SetupContent::SendSecretToken(s) => s.write(&mut w),
                SetupContent::LoginRequest(l) => l.write(&mut w),
                SetupContent::LoginResponse(l) => l.write(&mut w),
            }
            w.end(el::SETUP_TRANSACTION);
        }
        SspMessage::Session(session) => {
            w.start(el::SESSION);
            w.attr(attr::SESSION_ID, &session.session_id);
            for t in &session.transactions {
                w.start(el::TRANSACTION);
                w.attr(attr::MODE, t.mode.wire());
                w.attr(attr::TRANSACTION_ID, &t.transaction_id);
                if !t.relay_path.is_empty() {
                    w.attr(attr::RELAY_PATH, &t.relay_path.join(" "));
                }
                t.content.write(&mut w);
                w.end(el::TRANSACTION);
            }
            w.end(el::SESSION);
        }
    }
    w.end(el::ROOT);
}

/// The canonical XML of `message`.
pub fn encode_ssp(message: &SspMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    encode_ssp_into(message, &mut out);
    out
}
