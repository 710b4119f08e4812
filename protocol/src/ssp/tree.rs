//! A bounded XML tree reader and a canonical writer for SSP, on quick-xml.
//!
//! SSP messages are small and attribute-heavy, so the reader builds the whole element tree
//! ([`RawElement`]) first and the typed decoders look attributes and children up in it, in any
//! order. The same [`Limits`] as the CSP reader bound it: body size, depth, element count and
//! text length; a DOCTYPE is skipped and no entity other than the five predefined ones and
//! character references is ever resolved. Whitespace-only text between elements is dropped.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{DecodeError, Limits};
use crate::raw::{RawElement, RawNode};

use super::error::SspError;

/// Reads `body` into its root element.
pub(crate) fn read_tree(body: &[u8], limits: &Limits) -> Result<RawElement, DecodeError> {
    if body.len() > limits.max_body {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            limit: limits.max_body,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| DecodeError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<RawElement> = Vec::new();
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(map_xml_error)?;
        match event {
            Event::Start(start) => {
                elements += 1;
                check_count(elements, limits)?;
                if stack.len() + 1 > limits.max_depth {
                    return Err(DecodeError::TooDeep {
                        limit: limits.max_depth,
                    });
                }
                stack.push(open(&start)?);
            }
            Event::Empty(start) => {
                elements += 1;
                check_count(elements, limits)?;
                let element = open(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(RawNode::Element(element)),
                    None => {
                        finish(&mut reader)?;
                        return Ok(element);
                    }
                }
            }
            Event::End(_) => {
                let Some(mut element) = stack.pop() else {
                    return Err(DecodeError::Malformed("unexpected end tag".into()));
                };
                drop_blank_text(&mut element);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(RawNode::Element(element)),
                    None => {
                        finish(&mut reader)?;
                        return Ok(element);
                    }
                }
            }
            Event::Text(t) => push_text(&mut stack, t.xml10_content(), limits)?,
            Event::CData(t) => push_text(&mut stack, t.xml10_content(), limits)?,
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r.into_inner())?;
                let mut buf = [0u8; 4];
                push_text(
                    &mut stack,
                    Cow::Owned(c.encode_utf8(&mut buf).to_owned()),
                    limits,
                )?;
            }
            Event::DocType(_) if stack.is_empty() => {}
            Event::DocType(_) => {
                return Err(DecodeError::Malformed("DOCTYPE inside an element".into()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => return Err(DecodeError::Truncated),
        }
    }
}

fn map_xml_error(e: quick_xml::Error) -> DecodeError {
    match e {
        quick_xml::Error::Syntax(e) if e.to_string().contains("unclosed") => DecodeError::Truncated,
        quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MissingEndTag(_)) => {
            DecodeError::Truncated
        }
        e => DecodeError::Malformed(e.to_string()),
    }
}

fn check_count(elements: usize, limits: &Limits) -> Result<(), DecodeError> {
    if elements > limits.max_elements {
        return Err(DecodeError::TooManyElements {
            limit: limits.max_elements,
        });
    }
    Ok(())
}

fn open(start: &BytesStart<'_>) -> Result<RawElement, DecodeError> {
    let name = start.name().into_inner().to_owned();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| DecodeError::Entity(e.to_string().chars().take(64).collect()))?;
        let key = attr.key.into_inner();
        attributes.push((key.to_owned(), value.into_owned()));
    }
    Ok(RawElement {
        name,
        attributes,
        children: Vec::new(),
    })
}

fn push_text(
    stack: &mut [RawElement],
    more: Cow<'_, str>,
    limits: &Limits,
) -> Result<(), DecodeError> {
    if more.is_empty() {
        return Ok(());
    }
    let Some(element) = stack.last_mut() else {
        if more.trim().is_empty() {
            return Ok(());
        }
        return Err(DecodeError::Malformed(
            "text outside the root element".into(),
        ));
    };
    if let Some(RawNode::Text(prev)) = element.children.last_mut() {
        if prev.len() + more.len() > limits.max_text {
            return Err(DecodeError::TextTooLong {
                limit: limits.max_text,
            });
        }
        prev.push_str(&more);
        return Ok(());
    }
    if more.len() > limits.max_text {
        return Err(DecodeError::TextTooLong {
            limit: limits.max_text,
        });
    }
    element.children.push(RawNode::Text(more.into_owned()));
    Ok(())
}

/// Drops whitespace-only text from an element that has child elements (indentation).
fn drop_blank_text(element: &mut RawElement) {
    let has_elements = element
        .children
        .iter()
        .any(|c| matches!(c, RawNode::Element(_)));
    if has_elements {
        element
            .children
            .retain(|c| !matches!(c, RawNode::Text(t) if t.trim().is_empty()));
    }
}

/// After the root closed only whitespace, comments and processing instructions may follow.
fn finish(reader: &mut Reader<&[u8]>) -> Result<(), DecodeError> {
    loop {
        match reader.read_event().map_err(map_xml_error)? {
            Event::Eof => return Ok(()),
            Event::Text(t) if t.xml10_content().trim().is_empty() => {}
            Event::Comment(_) | Event::PI(_) => {}
            _ => {
                return Err(DecodeError::Malformed(
                    "content after the root element".into(),
                ));
            }
        }
    }
}

/// Resolves a character reference or a predefined entity; anything else is refused.
fn resolve_reference(name: &str) -> Result<char, DecodeError> {
    let refuse = || DecodeError::Entity(name.chars().take(64).collect());
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => {
            let number = name.strip_prefix('#').ok_or_else(refuse)?;
            let code = match number
                .strip_prefix('x')
                .or_else(|| number.strip_prefix('X'))
            {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => number.parse::<u32>(),
            }
            .map_err(|_| refuse())?;
            match char::from_u32(code) {
                Some(c) if c != '\0' => Ok(c),
                _ => Err(refuse()),
            }
        }
    }
}

/// Lookups on a decoded element, lenient as SSP.md §9 asks: attribute names compare
/// case-insensitively, element names by local name.
pub(crate) trait Lookup {
    /// The value of the first attribute named any of `names` (case-insensitive).
    fn attr_any(&self, names: &[&str]) -> Option<&str>;
    /// The value of attribute `name` (case-insensitive).
    fn attr(&self, name: &str) -> Option<&str> {
        self.attr_any(&[name])
    }
    /// A mandatory attribute.
    fn required_attr(&self, name: &'static str) -> Result<&str, SspError>;
    /// Child elements in document order.
    fn elements(&self) -> impl Iterator<Item = &RawElement>;
    /// Child elements named `name`.
    fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s RawElement> {
        self.elements().filter(move |e| e.local_name() == name)
    }
    /// The first child named `name`.
    fn child(&self, name: &str) -> Option<&RawElement> {
        self.elements().find(|e| e.local_name() == name)
    }
    /// A mandatory child.
    fn required_child(&self, name: &'static str) -> Result<&RawElement, SspError>;
    /// The trimmed text of the first child named `name`.
    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text().trim().to_owned())
    }
}

impl Lookup for RawElement {
    fn attr_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        })
    }

    fn required_attr(&self, name: &'static str) -> Result<&str, SspError> {
        self.attr(name).ok_or_else(|| SspError::MissingAttribute {
            element: self.local_name().to_owned(),
            attribute: name,
        })
    }

    fn elements(&self) -> impl Iterator<Item = &RawElement> {
        self.children.iter().filter_map(|c| match c {
            RawNode::Element(e) => Some(e),
            RawNode::Text(_) => None,
        })
    }

    fn required_child(&self, name: &'static str) -> Result<&RawElement, SspError> {
        self.child(name).ok_or_else(|| SspError::Missing {
            parent: self.local_name().to_owned(),
            element: name,
        })
    }
}

/// Parses an unsigned integer attribute.
pub(crate) fn parse_u32(element: &str, name: &'static str, v: &str) -> Result<u32, SspError> {
    v.trim()
        .parse()
        .map_err(|_| SspError::invalid(element, name, v, "not an unsigned integer"))
}

/// Parses a `Yes`/`No` attribute (also `T`/`F`, `true`/`false`, any case).
pub(crate) fn parse_bool(element: &str, name: &'static str, v: &str) -> Result<bool, SspError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "t" | "true" => Ok(true),
        "no" | "f" | "false" => Ok(false),
        _ => Err(SspError::invalid(element, name, v, "not Yes or No")),
    }
}

/// The canonical writer: compact UTF-8, attributes in a fixed order, `<X/>` for empty elements.
pub(crate) struct Writer<'b> {
    out: &'b mut Vec<u8>,
    open: bool,
}

impl<'b> Writer<'b> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'b mut Vec<u8>) -> Self {
        Self { out, open: false }
    }

    /// Raw markup (the XML declaration).
    pub(crate) fn raw(&mut self, markup: &str) {
        self.out.extend_from_slice(markup.as_bytes());
    }

    fn seal(&mut self) {
        if self.open {
            self.out.push(b'>');
            self.open = false;
        }
    }

    /// Opens `<name`; attributes may follow.
    pub(crate) fn start(&mut self, name: &str) {
        self.seal();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.open = true;
    }

    /// ` name="value"` on the element just started.
    pub(crate) fn attr(&mut self, name: &str, value: &str) {
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"=\"");
        escape_into(self.out, value, true);
        self.out.push(b'"');
    }

    /// An optional attribute.
    pub(crate) fn attr_opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.attr(name, v);
        }
    }

    /// A `Yes`/`No` attribute.
    pub(crate) fn attr_bool(&mut self, name: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.attr(name, yes_no(v));
        }
    }

    /// A number attribute.
    pub(crate) fn attr_u32(&mut self, name: &str, value: Option<u32>) {
        if let Some(v) = value {
            self.attr(name, &v.to_string());
        }
    }

    /// Text content.
    pub(crate) fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.seal();
        escape_into(self.out, text, false);
    }

    /// Closes `name`: `/>` when nothing was written since it started.
    pub(crate) fn end(&mut self, name: &str) {
        if self.open {
            self.out.extend_from_slice(b"/>");
            self.open = false;
            return;
        }
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'>');
    }

    /// `<name>text</name>`.
    pub(crate) fn text_element(&mut self, name: &str, text: &str) {
        self.start(name);
        self.text(text);
        self.end(name);
    }

    /// An optional text element.
    pub(crate) fn text_element_opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.text_element(name, t);
        }
    }

    /// A kept element, as it came.
    pub(crate) fn raw_element(&mut self, element: &RawElement) {
        self.raw_parts(&element.name, &element.attributes, &element.children);
    }

    /// A kept element's attributes and children, under `name`.
    pub(crate) fn raw_parts(
        &mut self,
        name: &str,
        attributes: &[(String, String)],
        children: &[RawNode],
    ) {
        self.start(name);
        for (k, v) in attributes {
            self.attr(k, v);
        }
        for child in children {
            match child {
                RawNode::Element(e) => self.raw_element(e),
                RawNode::Text(t) => self.text(t),
            }
        }
        self.end(name);
    }
}

/// `Yes` or `No`.
pub(crate) fn yes_no(v: bool) -> &'static str {
    if v {
        super::names::value::YES
    } else {
        super::names::value::NO
    }
}

fn escape_into(out: &mut Vec<u8>, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '&' => out.extend_from_slice(b"&amp;"),
            '"' if attribute => out.extend_from_slice(b"&quot;"),
            '\r' => out.extend_from_slice(b"&#13;"),
            '\n' if attribute => out.extend_from_slice(b"&#10;"),
            '\t' if attribute => out.extend_from_slice(b"&#9;"),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}
