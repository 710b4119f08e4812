//! The CSP-format payloads inside SSP (SSP.md §5: presence attribute lists, properties and
//! welcome notes are CSP XML) converted to and from the crate's CSP types, through the CSP
//! codec.

use crate::error::{DecodeError, Limits};
use crate::node::Node;
use crate::primitives::PresenceSubList;
use crate::raw::RawElement;
use crate::version::Version;
use crate::xml::reader::XmlReader;
use crate::xml::writer::XmlWriter;

use super::tree::read_tree;

/// Decodes a CSP element kept in an SSP message (e.g. a `PresenceValue` sub-list) as the CSP
/// type `T`, within `limits`.
pub fn to_csp<T: Node>(raw: &RawElement, limits: &Limits) -> Result<T, DecodeError> {
    let mut bytes = Vec::new();
    raw.write(&mut XmlWriter::new(&mut bytes, Version::V1_3));
    let mut reader = XmlReader::new(&bytes, *limits)?;
    let root = reader.root()?;
    T::decode(&mut reader, &root)
}

/// Encodes a CSP value under `tag` into a tree for an SSP message.
pub fn from_csp<T: Node>(value: &T, tag: &'static str) -> Result<RawElement, DecodeError> {
    let mut bytes = Vec::new();
    value.encode(tag, &mut XmlWriter::new(&mut bytes, Version::V1_3));
    read_tree(&bytes, &Limits::default())
}

/// The presence of a `PresenceValue` sub-list.
pub fn presence_sub_list(
    raw: &RawElement,
    limits: &Limits,
) -> Result<PresenceSubList, DecodeError> {
    to_csp(raw, limits)
}

/// A `PresenceSubList` tree for a `PresenceValue`.
pub fn presence_sub_list_element(list: &PresenceSubList) -> Result<RawElement, DecodeError> {
    from_csp(list, "PresenceSubList")
}
