//! SSP, the Server-to-Server Protocol between IMPS service-provider domains (OMA IMPS SSP 1.3
//! as Baraza speaks it; SSP.md): message model, XML codec, session handshake, transaction
//! and relay tables. Sans-IO like the rest of the crate: time and randomness come in as
//! arguments, bytes go out into caller buffers.
//!
//! # What is Baraza-compatible and what is ours
//!
//! *Wire-compatible with Baraza* (the only public SSP implementation; facts in SSP.md §2–§5,
//! §9): the envelope (`WV-SSP-Message` in namespace `.../DTD/WV-SSP1.3`, `SetupTransaction`,
//! `Session`/`Transaction` with `mode` and `transactionID` attributes), the set-up primitives
//! `SendSecretToken`, `LoginRequest`, `LoginResponse` and the dialback with the MD5 digest,
//! `Status`/`DetailedResult`, `MetaInfo`, and the relay primitives of [`Content`] from
//! `SendMessageRequest` to `GroupChangeNotice`. The reader accepts Baraza's quirks:
//! `procotolVersion`, attribute names in any case, `validlity`, `JoinedUsers` as well as
//! `JoinedUser`, `userid=`, a stray empty `<Canceled/>`, unencoded secret tokens, ids with or
//! without `wv:`, and a `Status` without a code (read as 404).
//!
//! *Our extensions* (SSP.md §7–§8: no public wire format exists), all named in [`names`] so a
//! normative schema can replace them: `ServiceRequest`/`ServiceResponse` (service discovery
//! and agreement as CSP-style feature groups), `GetUserProfileRequest`,
//! `GetUserProfileResponse`, `UpdateUserProfileRequest`, the `KeyedDigest` child of
//! `LoginRequest` (HMAC-SHA256 with a per-peer shared secret, XEP-0185 formula), and the
//! `relayPath` attribute of `Transaction` that carries the domains a relayed request passed
//! through, for loop detection. Baraza ignores unknown attributes and children, so the
//! extensions do not disturb it; a peer that does not know an extension primitive answers 405.
//!
//! # Element names
//!
//! | Group | Elements |
//! |---|---|
//! | Envelope | `WV-SSP-Message`, `SetupTransaction`, `Session`, `Transaction` |
//! | Set-up | `SendSecretToken`(`SecretToken`), `LoginRequest`(`PasswordDigest`, ext `KeyedDigest`), `LoginResponse`(`Status`) |
//! | Results | `Status`(`StatusDescription`, `DetailedResult`, `TryAgainTimeout`) |
//! | Addressing | `MetaInfo`(`Requestor`(`User`(`ClientID`))), `UserID`, `VerUserID`, `GroupID`, `ScreenName` |
//! | IM | `SendMessageRequest`, `SendMessageResponse`, `DeliveryStatusReport`, `MessageInfo`, `ContentData` |
//! | Presence | `SubscribeRequest`, `UnsubscribeRequest`, `PresenceNotification`, `GetPresenceRequest`, `GetPresenceResponse`, `PresenceValue`, `AttributeList` |
//! | Invitations | `InviteRequest`, `InviteResponse`, `CancelInviteRequest` |
//! | Groups | `JoinGroupRequest`/`Response`, `LeaveGroupRequest`, `LeaveGroupIndication`, `(Un)SubscribeGroupChangeRequest`, `GetGroupSubStatusRequest`/`Response`, `GetJoinedUsersRequest`/`Response`, `GetGroupPropsRequest`/`Response`, `GroupChangeNotice` |
//! | Extensions | `ServiceRequest`, `ServiceResponse`, `Features`/`Feature`/`Function`, `GetUserProfileRequest`/`Response`, `UpdateUserProfileRequest`, `UserProfile`/`Setting` |
//!
//! Presence attribute lists, group and own properties and welcome notes are CSP XML inside
//! SSP (SSP.md §5): they are kept as trees ([`Payload`], and
//! [`RawElement`](crate::raw::RawElement) for presence values) and [`csp`] turns them into
//! the CSP types. Other SSP elements Baraza relays
//! ([`names::el::KNOWN_UNSUPPORTED`]) decode as [`Content::Unknown`] with
//! `recognised = true` (answer 501); anything else as `recognised = false` (answer 405).
//!
//! [`Content::check_origin`] / [`Transaction::check_origin`] implement the anti-spoofing rule
//! (901 when a request's `MetaInfo` or IM sender is not of the domain it came from).
//!
//! # Modules
//!
//! [`message`] has the envelope and codec, [`handshake`] the session set-up state machine,
//! [`transaction`] transaction ids and the dedupe table, [`routing`] the relay Transaction
//! Table and the Service Table.

pub mod common;
mod content;
pub mod csp;
pub mod digest;
mod error;
pub mod extension;
pub mod handshake;
pub mod joined;
pub mod message;
pub mod names;
pub mod relay;
pub mod routing;
pub mod transaction;
mod tree;

pub use common::{
    ClientId, ContentData, DetailedResult, MessageInfo, MetaInfo, Party, Payload, PresenceValue,
    ScreenName, Sender, Status, User, domain_of_id, domain_of_service_id, service_id,
};
pub use content::Content;
pub use error::SspError;
pub use message::{
    InvalidPrimitive, LoginRequest, LoginResponse, Mode, SendSecretToken, SessionBlock,
    SetupContent, SetupTransaction, SspMessage, Token, Transaction, UnknownPrimitive, decode_ssp,
    encode_ssp, encode_ssp_into,
};
