//! # imps-protocol
//!
//! The Wireless Village / OMA IMPS Client-Server Protocol (CSP 1.1, 1.2, 1.3) as Rust types
//! and a codec: one type per primitive ([`primitives`]), the envelope ([`Message`]), data types
//! ([`types`]), presence attributes ([`primitives::attributes`]) and status codes
//! ([`StatusCode`]).
//!
//! It is sans-IO, like rustls's codec or quinn-proto: bytes in, values out, values in, bytes
//! out. No sockets, no clock, no async, no global state. The I/O boundary is the caller's:
//! [`decode`] takes a whole body, [`encode_into`] appends to a caller's buffer, in XML or
//! WBXML ([`wbxml`]).
//!
//! The reader is lenient (any element order, unknown and vendor elements skipped, namespaces
//! optional, every DateTime spelling) and bounded ([`Limits`]): a message over a limit or
//! malformed is a [`DecodeError`], never a panic, and a DOCTYPE is read for its public id but
//! never expanded. The writer is canonical: compact UTF-8 with the namespaces of the
//! message's [`Version`].

#![warn(missing_docs, unreachable_pub)]

pub mod codec;
pub mod common;
pub mod envelope;
pub mod error;
pub mod node;
pub mod primitive;
pub mod primitives;
pub mod raw;
#[cfg(any(test, feature = "sample"))]
pub mod sample;
pub mod ssp;
pub mod status;
pub mod types;
pub mod version;
pub mod wbxml;
pub mod xml;

pub use codec::{
    DecodeOptions, EncodeError, decode, decode_with, decode_xml, encode, encode_into,
    encode_xml_into,
};
pub use envelope::{
    Message, Session, SessionDescriptor, SessionType, Transaction, TransactionDescriptor,
    TransactionMode,
};
pub use error::{DecodeError, Limits};
pub use primitive::{Primitive, UNSUPPORTED_PRIMITIVES};
pub use status::StatusCode;
pub use version::{ContentType, Encoding, Version};
pub use wbxml::{WbxmlError, decode_wbxml, encode_wbxml, encode_wbxml_into};
