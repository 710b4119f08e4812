//! CSP in WBXML 1.3 (the binary XML of WAP), for CSP 1.1, 1.2 and 1.3 (public ids 0x10,
//! 0x11, 0x12).
//!
//! WBXML is read through the same cursor as XML ([`XmlReader`], which walks the tokens
//! directly rather than XML events made from them) and written through the same
//! [`XmlWriter`] calls every element encoder makes, so both encodings share one decoder and
//! one encoder per element and decoding WBXML yields exactly the [`Message`] the equivalent
//! XML does, under the same [`Limits`](crate::Limits).
//!
//! Speed: reading borrows every name and string from the body and parses attribute lists
//! only when asked; writing finds a tag's token through a per-thread cache keyed by the
//! address of the element encoders' static tag names, and writes a single piece of text in
//! its final form at once.
//!
//! Read: every tag token of the version's code pages, LITERAL names from the string table,
//! the `xmlns` attribute tokens (or none: the version then comes from the public id),
//! inline strings, string-table references, `EXT_T_0` value tokens, entities, and Integers
//! and DateTimes as OPAQUE of any length or as strings. Written: tokens of the message's
//! version, `xmlns` attribute tokens on the elements that carry a namespace in XML, value
//! tokens for predefined values, Integers and DateTimes as OPAQUE where the version lists
//! them (the lists are in the `tables` module).

mod error;
mod opaque;
pub(crate) mod reader;
pub(crate) mod tables;
mod wire;
pub(crate) mod writer;

pub use error::WbxmlError;

use crate::codec::{DecodeOptions, decode_document, encode_document};
use crate::envelope::Message;
use crate::error::DecodeError;
use crate::version::Version;
use crate::xml::reader::XmlReader;
use crate::xml::writer::XmlWriter;
use reader::{Shared, WbxmlTokens};
use wire::{Cursor, PUBLIC_ID_UNKNOWN, PublicId, push_header_start, read_header};

/// Decodes a WBXML message. The version comes from the root namespace attribute if there is
/// one, else from the public id, else from the content type's hint, else the default.
pub fn decode_wbxml(body: &[u8], options: &DecodeOptions) -> Result<Message, DecodeError> {
    if body.len() > options.limits.max_body {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            limit: options.limits.max_body,
        });
    }
    let mut cursor = Cursor::new(body);
    let header = read_header(&mut cursor)?;
    let declared = match header.public_id {
        PublicId::Number(PUBLIC_ID_UNKNOWN) => None,
        PublicId::Number(id) => {
            Some(Version::from_wbxml_public_id(id).ok_or_else(|| {
                DecodeError::UnsupportedVersion(format!("WBXML public id {id:#x}"))
            })?)
        }
        PublicId::Text(id) => Some(
            Version::from_public_id(id)
                .ok_or_else(|| DecodeError::UnsupportedVersion(id.chars().take(128).collect()))?,
        ),
    };
    let fallback = options.version_hint.unwrap_or(options.default_version);
    let shared = Shared::new(body, header.strings);
    let mut tokens = WbxmlTokens::new(cursor, &shared, declared.unwrap_or(fallback));
    if declared.is_none() {
        let namespace = tokens.root_namespace()?;
        if let Some(v) = namespace.as_deref().and_then(Version::from_namespace) {
            tokens.set_version(v);
        }
    }
    let mut r = XmlReader::from_wbxml(tokens, options.limits);
    decode_document(&mut r, options, |_| Ok(declared))
}

/// Encodes `message` as WBXML in its own version.
pub fn encode_wbxml(message: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode_wbxml_into(message, &mut out);
    out
}

/// Encodes `message` as WBXML in its own version, appending to `out`.
pub fn encode_wbxml_into(message: &Message, out: &mut Vec<u8>) {
    push_header_start(out, message.version.wbxml_public_id());
    // The string table's length, zero unless the body needs a table.
    let table_at = out.len();
    out.push(0);
    let mut w = XmlWriter::wbxml(out, message.version);
    encode_document(message, &mut w);
    w.finish_wbxml(table_at);
}
