//! Whole-message decoding and encoding, with version detection.

use crate::envelope::Message;
use crate::error::{DecodeError, Limits};
use crate::version::{Encoding, Version};
use crate::xml::reader::XmlReader;
use crate::xml::writer::XmlWriter;

/// How to decode: limits, and what the transport says about the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Hard limits.
    pub limits: Limits,
    /// The version the content type named, if it named one.
    pub version_hint: Option<Version>,
    /// The version assumed when neither namespace, DOCTYPE nor content type tells.
    pub default_version: Version,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            version_hint: None,
            default_version: Version::V1_2,
        }
    }
}

/// Decodes a message in `encoding` with default options.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<Message, DecodeError> {
    decode_with(body, encoding, &DecodeOptions::default())
}

/// Decodes a message in `encoding`.
pub fn decode_with(
    body: &[u8],
    encoding: Encoding,
    options: &DecodeOptions,
) -> Result<Message, DecodeError> {
    match encoding {
        Encoding::Xml => decode_xml(body, options),
        Encoding::Wbxml => crate::wbxml::decode_wbxml(body, options),
    }
}

/// Decodes an XML message. The version comes from the root namespace, else the DOCTYPE
/// public id, else the content type's hint, else the default.
pub fn decode_xml(body: &[u8], options: &DecodeOptions) -> Result<Message, DecodeError> {
    let mut r = XmlReader::new(body, options.limits)?;
    decode_document(&mut r, options, |r| {
        match r.doctype().map(doctype_version) {
            Some(Err(id)) => Err(DecodeError::UnsupportedVersion(id)),
            Some(Ok(v)) => Ok(v),
            None => Ok(None),
        }
    })
}

/// Decodes the message a cursor (over XML or WBXML) holds. The version comes from the root
/// namespace, else from `declared` (the DOCTYPE or WBXML public id), else the content
/// type's hint, else the default.
pub(crate) fn decode_document<'a>(
    r: &mut XmlReader<'a>,
    options: &DecodeOptions,
    declared: impl FnOnce(&XmlReader<'a>) -> Result<Option<Version>, DecodeError>,
) -> Result<Message, DecodeError> {
    let root = r.root()?;
    if root.name() != "WV-CSP-Message" {
        return Err(DecodeError::NotCsp(root.name().chars().take(64).collect()));
    }
    let version = match root.namespace()? {
        Some(ns) => match Version::from_namespace(&ns) {
            Some(v) => Some(v),
            None => {
                return Err(DecodeError::UnsupportedVersion(
                    ns.chars().take(128).collect(),
                ));
            }
        },
        None => None,
    };
    let version = match version {
        Some(v) => v,
        None => match declared(r)? {
            Some(v) => v,
            None => options.version_hint.unwrap_or(options.default_version),
        },
    };
    let mut session = None;
    while let Some(child) = r.next_child(&root)? {
        if child.name() == "Session" && session.is_none() {
            session = Some(crate::envelope::Session::decode(r, &child, version)?);
        } else {
            r.skip(&child)?;
        }
    }
    r.finish()?;
    let session = session.ok_or(DecodeError::Missing {
        parent: "WV-CSP-Message",
        element: "Session",
    })?;
    let mut message = Message { version, session };
    message.normalize_flags();
    Ok(message)
}

/// The version a DOCTYPE names: `Ok(None)` without a public id, `Err` with an unknown one.
fn doctype_version(doctype: &str) -> Result<Option<Version>, String> {
    let Some(at) = doctype.find("PUBLIC") else {
        return Ok(None);
    };
    let rest = doctype[at + 6..].trim_start();
    let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return Ok(None);
    };
    let rest = &rest[1..];
    let Some(end) = rest.find(quote) else {
        return Ok(None);
    };
    let id = &rest[..end];
    Version::from_public_id(id)
        .map(Some)
        .ok_or_else(|| id.chars().take(128).collect())
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoding is not implemented yet.
    #[error("encoding {0:?} is not supported")]
    UnsupportedEncoding(Encoding),
}

/// Encodes `message` in its own version and `encoding`, appending to `out`.
pub fn encode_into(
    message: &Message,
    encoding: Encoding,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    match encoding {
        Encoding::Xml => {
            encode_xml_into(message, out);
            Ok(())
        }
        Encoding::Wbxml => {
            crate::wbxml::encode_wbxml_into(message, out);
            Ok(())
        }
    }
}

/// Encodes `message` as XML in its own version.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    encode_xml_into(message, &mut out);
    out
}

/// Encodes `message` as canonical XML in its own version, appending to `out`.
pub fn encode_xml_into(message: &Message, out: &mut Vec<u8>) {
    let mut w = XmlWriter::new(out, message.version);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    encode_document(message, &mut w);
}

/// Writes the root element and everything in it (XML or WBXML, as `w` writes).
pub(crate) fn encode_document(message: &Message, w: &mut XmlWriter<'_>) {
    w.begin_start("WV-CSP-Message");
    w.attribute("xmlns", message.version.csp_namespace());
    let mark = w.end_start();
    message.session.encode(w);
    w.close("WV-CSP-Message", mark);
}
