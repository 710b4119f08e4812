//! A pull cursor over quick-xml events that enforces [`Limits`] and hides everything a CSP
//! decoder does not care about (comments, processing instructions, whitespace, prefixes).
//!
//! The cursor reads XML text, or WBXML straight from the tokens of [`crate::wbxml`] (no XML
//! event is built for them): both walks give every element decoder the same children,
//! names, text and errors, under the same limits.
//!
//! Call order: [`XmlReader::root`] once, then for each element alternate
//! [`XmlReader::next_child`] with exactly one of [`XmlReader::text`], [`XmlReader::skip`],
//! a nested `next_child` loop (until it returns `None`), or [`XmlReader::raw`].

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{DecodeError, Limits};
use crate::wbxml::WbxmlError;
use crate::wbxml::reader::{Token, WbxmlStart, WbxmlTokens};
use crate::wbxml::tables::TextKind;

/// An element just opened by the cursor.
#[derive(Debug, Clone)]
pub struct Child<'a> {
    start: Start<'a>,
    empty: bool,
}

/// A start tag as read from XML or from WBXML.
#[derive(Debug, Clone)]
enum Start<'a> {
    Xml(BytesStart<'a>),
    Wbxml(WbxmlStart<'a>),
}

impl<'a> Child<'a> {
    /// Local name (the part after any namespace prefix).
    pub fn name(&self) -> &str {
        match &self.start {
            Start::Xml(start) => {
                let full: &str = start.name().into_inner();
                match full.bytes().rposition(|b| b == b':') {
                    Some(i) => full.get(i + 1..).unwrap_or_default(),
                    None => full,
                }
            }
            Start::Wbxml(start) => start.local(),
        }
    }

    /// Name as written, prefix included.
    pub fn qualified_name(&self) -> &str {
        match &self.start {
            Start::Xml(start) => start.name().into_inner(),
            Start::Wbxml(start) => start.name,
        }
    }

    /// True for `<x/>`, which has no content and needs no closing.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Attributes as (name, unescaped value) pairs.
    pub fn attributes(&self) -> Result<Vec<(String, String)>, DecodeError> {
        let mut out = Vec::new();
        self.each_attribute(|key, value| out.push((key.to_owned(), value.into_owned())))?;
        Ok(out)
    }

    /// Calls `f` with each attribute (name, unescaped value) once all of them are known to
    /// read.
    fn each_attribute(&self, mut f: impl FnMut(&str, Cow<'_, str>)) -> Result<(), DecodeError> {
        let wbxml;
        let start = match &self.start {
            Start::Xml(start) => start,
            Start::Wbxml(start) if !start.has_attributes() => return Ok(()),
            Start::Wbxml(start) => {
                wbxml = start.xml_start()?;
                &wbxml
            }
        };
        for attr in start.attributes() {
            let attr = attr.map_err(|e| DecodeError::Malformed(e.to_string()))?;
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| map_escape(&e.to_string()))?;
            f(attr.key.into_inner(), value);
        }
        Ok(())
    }

    /// The value of the default namespace declaration (`xmlns="..."`), or of any prefixed
    /// declaration (`xmlns:p="..."`) when there is no default one.
    pub fn namespace(&self) -> Result<Option<String>, DecodeError> {
        if let Start::Wbxml(start) = &self.start {
            if !start.has_attributes() {
                return Ok(None);
            }
            if let Some(namespace) = start.sole_namespace() {
                return Ok(Some(namespace));
            }
        }
        // Every attribute must read (as [`Child::attributes`] would have them), but only the
        // declarations kept are copied.
        let (mut default, mut prefixed) = (None, None);
        self.each_attribute(|key, value| {
            if key == "xmlns" {
                if default.is_none() {
                    default = Some(value.into_owned());
                }
            } else if key.starts_with("xmlns:") && prefixed.is_none() {
                prefixed = Some(value.into_owned());
            }
        })?;
        Ok(default.or(prefixed))
    }

    /// How OPAQUE data in this element reads (WBXML only).
    fn kind(&self) -> TextKind {
        match &self.start {
            Start::Xml(_) => TextKind::Plain,
            Start::Wbxml(start) => start.kind,
        }
    }
}

fn map_escape(msg: &str) -> DecodeError {
    DecodeError::Entity(msg.chars().take(64).collect())
}

/// Where a cursor's events come from.
enum Source<'a> {
    Xml(Reader<&'a [u8]>),
    Wbxml(WbxmlTokens<'a>),
}

/// The cursor. See the module docs for the call order.
pub struct XmlReader<'a> {
    source: Source<'a>,
    limits: Limits,
    depth: usize,
    elements: usize,
    doctype: Option<String>,
}

impl<'a> XmlReader<'a> {
    /// A cursor over a whole message body. Checks the size limit and UTF-8 up front.
    pub fn new(body: &'a [u8], limits: Limits) -> Result<Self, DecodeError> {
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
        Ok(Self {
            source: Source::Xml(reader),
            limits,
            depth: 0,
            elements: 0,
            doctype: None,
        })
    }

    /// A cursor over the tokens of a WBXML body (whose size the caller checked).
    pub(crate) fn from_wbxml(tokens: WbxmlTokens<'a>, limits: Limits) -> Self {
        Self {
            source: Source::Wbxml(tokens),
            limits,
            depth: 0,
            elements: 0,
            doctype: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The DOCTYPE declaration's text, if the prolog had one. Read only for its public id;
    /// nothing in it is resolved or expanded.
    pub fn doctype(&self) -> Option<&str> {
        self.doctype.as_deref()
    }

    fn event(&mut self) -> Result<Event<'a>, DecodeError> {
        let Source::Xml(reader) = &mut self.source else {
            return Err(DecodeError::Malformed("XML event from a WBXML body".into()));
        };
        match reader.read_event() {
            Ok(event) => Ok(event),
            Err(quick_xml::Error::Syntax(e)) => {
                if e.to_string().contains("unclosed") {
                    Err(DecodeError::Truncated)
                } else {
                    Err(DecodeError::Malformed(e.to_string()))
                }
            }
            Err(quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MissingEndTag(
                _,
            ))) => Err(DecodeError::Truncated),
            Err(e) => Err(DecodeError::Malformed(e.to_string())),
        }
    }

    fn count_element(&mut self) -> Result<(), DecodeError> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(DecodeError::TooManyElements {
                limit: self.limits.max_elements,
            });
        }
        Ok(())
    }

    #[inline]
    fn enter(&mut self, start: BytesStart<'a>, empty: bool) -> Result<Child<'a>, DecodeError> {
        self.enter_start(Start::Xml(start), empty)
    }

    #[inline]
    fn enter_start(&mut self, start: Start<'a>, empty: bool) -> Result<Child<'a>, DecodeError> {
        self.count_element()?;
        if !empty {
            self.depth += 1;
            if self.depth > self.limits.max_depth {
                return Err(DecodeError::TooDeep {
                    limit: self.limits.max_depth,
                });
            }
        }
        let child = Child { start, empty };
        if child.name().is_empty() {
            // `< />` or `<p:/>`: nothing could write it back, so refuse it here.
            return Err(DecodeError::Malformed("element without a name".into()));
        }
        Ok(child)
    }

    /// Reads the prolog and opens the root element.
    pub fn root(&mut self) -> Result<Child<'a>, DecodeError> {
        if let Source::Wbxml(_) = self.source {
            return self.root_wbxml();
        }
        loop {
            match self.event()? {
                Event::Start(start) => return self.enter(start, false),
                Event::Empty(start) => return self.enter(start, true),
                Event::DocType(text) => {
                    let text = text.into_inner();
                    if text.len() > self.limits.max_text {
                        return Err(DecodeError::TextTooLong {
                            limit: self.limits.max_text,
                        });
                    }
                    self.doctype = Some(text.into_owned());
                }
                Event::Text(text) => {
                    if !text.into_inner().trim().is_empty() {
                        return Err(DecodeError::Malformed(
                            "text before the root element".into(),
                        ));
                    }
                }
                Event::Eof => return Err(DecodeError::Truncated),
                Event::End(_) => return Err(DecodeError::Malformed("unexpected end tag".into())),
                Event::GeneralRef(r) => return Err(DecodeError::Entity(r.into_inner().into())),
                Event::CData(_) => {
                    return Err(DecodeError::Malformed(
                        "CDATA before the root element".into(),
                    ));
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    /// The next child element of the element most recently opened, or `None` when that
    /// element closes. `parent` must be the element whose children are being read.
    pub fn next_child(&mut self, parent: &Child<'_>) -> Result<Option<Child<'a>>, DecodeError> {
        if parent.empty {
            return Ok(None);
        }
        if let Source::Wbxml(_) = self.source {
            return self.next_child_wbxml(parent);
        }
        self.next_child_xml()
    }

    fn next_child_xml(&mut self) -> Result<Option<Child<'a>>, DecodeError> {
        loop {
            match self.event()? {
                Event::Start(start) => return self.enter(start, false).map(Some),
                Event::Empty(start) => return self.enter(start, true).map(Some),
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Event::Eof => return Err(DecodeError::Truncated),
                Event::GeneralRef(r) => check_reference(&r.into_inner())?,
                Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::PI(_)
                | Event::Decl(_) => {}
                Event::DocType(_) => {
                    return Err(DecodeError::Malformed("DOCTYPE inside an element".into()));
                }
            }
        }
    }

    /// Skips the rest of `child` (its content and closing tag).
    pub fn skip(&mut self, child: &Child<'_>) -> Result<(), DecodeError> {
        while let Some(grand) = self.next_child(child)? {
            self.skip(&grand)?;
        }
        Ok(())
    }

    /// The text content of `child`, unescaped, with nested elements skipped. Consumes the
    /// closing tag.
    pub fn text(&mut self, child: &Child<'_>) -> Result<Cow<'a, str>, DecodeError> {
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        if child.empty {
            return Ok(out);
        }
        if let Source::Wbxml(_) = self.source {
            return self.text_wbxml(child);
        }
        loop {
            match self.event()? {
                Event::Text(text) => push_text(&mut out, text.xml10_content(), &self.limits)?,
                Event::CData(data) => push_text(&mut out, data.xml10_content(), &self.limits)?,
                Event::GeneralRef(r) => {
                    let c = resolve_reference(&r.into_inner())?;
                    let mut buf = [0u8; 4];
                    push_text(
                        &mut out,
                        Cow::Owned(c.encode_utf8(&mut buf).to_owned()),
                        &self.limits,
                    )?;
                }
                Event::Start(start) => {
                    let nested = self.enter(start, false)?;
                    self.skip(&nested)?;
                }
                Event::Empty(start) => {
                    self.enter(start, true)?;
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(out);
                }
                Event::Eof => return Err(DecodeError::Truncated),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::DocType(_) => {
                    return Err(DecodeError::Malformed("DOCTYPE inside an element".into()));
                }
            }
        }
    }

    /// The whole of `child` as a [`RawElement`](crate::raw::RawElement) tree.
    pub fn raw(&mut self, child: &Child<'_>) -> Result<crate::raw::RawElement, DecodeError> {
        use crate::raw::{RawElement, RawNode};
        let mut element = RawElement {
            name: child.qualified_name().to_owned(),
            attributes: child.attributes()?,
            children: Vec::new(),
        };
        if child.empty {
            return Ok(element);
        }
        if let Source::Wbxml(_) = self.source {
            return self.raw_wbxml(child, element);
        }
        loop {
            let text = match self.event()? {
                Event::Text(text) => text.xml10_content(),
                Event::CData(data) => data.xml10_content(),
                Event::GeneralRef(r) => Cow::Owned(resolve_reference(&r.into_inner())?.to_string()),
                Event::Start(start) => {
                    let nested = self.enter(start, false)?;
                    element.children.push(RawNode::Element(self.raw(&nested)?));
                    continue;
                }
                Event::Empty(start) => {
                    let nested = self.enter(start, true)?;
                    element.children.push(RawNode::Element(self.raw(&nested)?));
                    continue;
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(element);
                }
                Event::Eof => return Err(DecodeError::Truncated),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => continue,
                Event::DocType(_) => {
                    return Err(DecodeError::Malformed("DOCTYPE inside an element".into()));
                }
            };
            self.push_raw_text(&mut element, text)?;
        }
    }

    /// Reads whatever follows the root element: only whitespace, comments and processing
    /// instructions may.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Source::Wbxml(_) = self.source {
            return match self.token(TextKind::Plain, "")? {
                Token::Eof => Ok(()),
                _ => Err(DecodeError::Malformed(
                    "content after the root element".into(),
                )),
            };
        }
        loop {
            match self.event()? {
                Event::Eof => return Ok(()),
                Event::Text(text) if text.borrow().into_inner().trim().is_empty() => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => {
                    return Err(DecodeError::Malformed(
                        "content after the root element".into(),
                    ));
                }
            }
        }
    }
}

/// The WBXML side of the cursor: the same walk over [`Token`]s instead of XML events.
impl<'a> XmlReader<'a> {
    /// The next WBXML token; OPAQUE data reads as the innermost open element, `name` of
    /// `kind`, holds it.
    #[inline]
    fn token(&mut self, kind: TextKind, name: &str) -> Result<Token<'a>, DecodeError> {
        let Source::Wbxml(tokens) = &mut self.source else {
            return Err(DecodeError::Malformed(
                "WBXML token from an XML body".into(),
            ));
        };
        tokens.next(kind).map_err(|e| wbxml_error(e, name))
    }

    fn root_wbxml(&mut self) -> Result<Child<'a>, DecodeError> {
        match self.token(TextKind::Plain, "")? {
            Token::Start(start, content) => self.enter_start(Start::Wbxml(start), !content),
            Token::Eof => Err(DecodeError::Truncated),
            Token::End => Err(DecodeError::Malformed("unexpected end tag".into())),
            Token::Text(_) | Token::Char(_) | Token::Owned(_) => Err(DecodeError::Malformed(
                "text before the root element".into(),
            )),
        }
    }

    fn next_child_wbxml(&mut self, parent: &Child<'_>) -> Result<Option<Child<'a>>, DecodeError> {
        let kind = parent.kind();
        loop {
            match self.token(kind, parent.qualified_name())? {
                Token::Start(start, content) => {
                    return self.enter_start(Start::Wbxml(start), !content).map(Some);
                }
                Token::End => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Token::Eof => return Err(DecodeError::Truncated),
                Token::Text(_) | Token::Char(_) | Token::Owned(_) => {}
            }
        }
    }

    fn text_wbxml(&mut self, child: &Child<'_>) -> Result<Cow<'a, str>, DecodeError> {
        let kind = child.kind();
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        loop {
            match self.token(kind, child.qualified_name())? {
                Token::Text(text) => push_text(&mut out, Cow::Borrowed(text), &self.limits)?,
                Token::Owned(text) => push_text(&mut out, Cow::Owned(text), &self.limits)?,
                Token::Char(c) => {
                    let mut buf = [0u8; 4];
                    let c: &str = c.encode_utf8(&mut buf);
                    if out.len() + c.len() > self.limits.max_text {
                        return Err(DecodeError::TextTooLong {
                            limit: self.limits.max_text,
                        });
                    }
                    out.to_mut().push_str(c);
                }
                Token::Start(start, content) => {
                    let nested = self.enter_start(Start::Wbxml(start), !content)?;
                    self.skip(&nested)?;
                }
                Token::End => {
                    self.depth -= 1;
                    return Ok(out);
                }
                Token::Eof => return Err(DecodeError::Truncated),
            }
        }
    }

    fn raw_wbxml(
        &mut self,
        child: &Child<'_>,
        mut element: crate::raw::RawElement,
    ) -> Result<crate::raw::RawElement, DecodeError> {
        use crate::raw::RawNode;
        let kind = child.kind();
        loop {
            let mut buf = [0u8; 4];
            let text: &str = match self.token(kind, child.qualified_name())? {
                Token::Text(text) => text,
                Token::Char(c) => c.encode_utf8(&mut buf),
                Token::Owned(text) => {
                    self.push_raw_text(&mut element, Cow::Owned(text))?;
                    continue;
                }
                Token::Start(start, content) => {
                    let nested = self.enter_start(Start::Wbxml(start), !content)?;
                    element.children.push(RawNode::Element(self.raw(&nested)?));
                    continue;
                }
                Token::End => {
                    self.depth -= 1;
                    return Ok(element);
                }
                Token::Eof => return Err(DecodeError::Truncated),
            };
            self.push_raw_text(&mut element, Cow::Borrowed(text))?;
        }
    }

    /// Appends text to a raw element (joined with the text before it), within the limit.
    fn push_raw_text(
        &self,
        element: &mut crate::raw::RawElement,
        text: Cow<'_, str>,
    ) -> Result<(), DecodeError> {
        use crate::raw::RawNode;
        if text.len() > self.limits.max_text {
            return Err(DecodeError::TextTooLong {
                limit: self.limits.max_text,
            });
        }
        match element.children.last_mut() {
            Some(RawNode::Text(prev)) => {
                if prev.len() + text.len() > self.limits.max_text {
                    return Err(DecodeError::TextTooLong {
                        limit: self.limits.max_text,
                    });
                }
                prev.push_str(&text);
            }
            _ => element.children.push(RawNode::Text(text.into_owned())),
        }
        Ok(())
    }
}

/// A WBXML error as a decode error; OPAQUE data that does not read is blamed on `element`.
#[cold]
fn wbxml_error(e: WbxmlError, element: &str) -> DecodeError {
    match e {
        WbxmlError::BadOpaque {
            element: e,
            expected,
        } if e.is_empty() => DecodeError::from(WbxmlError::BadOpaque {
            element: element.chars().take(64).collect(),
            expected,
        }),
        other => DecodeError::from(other),
    }
}

fn push_text<'a>(
    out: &mut Cow<'a, str>,
    more: Cow<'a, str>,
    limits: &Limits,
) -> Result<(), DecodeError> {
    if out.len() + more.len() > limits.max_text {
        return Err(DecodeError::TextTooLong {
            limit: limits.max_text,
        });
    }
    if out.is_empty() {
        *out = more;
    } else {
        out.to_mut().push_str(&more);
    }
    Ok(())
}

/// Resolves a character reference or one of the five predefined entities. Any other entity
/// (including every entity a DOCTYPE declares) is refused: nothing is ever expanded.
fn resolve_reference(name: &str) -> Result<char, DecodeError> {
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => {
            let number = name.strip_prefix('#').ok_or_else(|| map_escape(name))?;
            let code = match number
                .strip_prefix('x')
                .or_else(|| number.strip_prefix('X'))
            {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => number.parse::<u32>(),
            }
            .map_err(|_| map_escape(name))?;
            match char::from_u32(code) {
                Some(c) if c != '\0' => Ok(c),
                _ => Err(map_escape(name)),
            }
        }
    }
}

fn check_reference(name: &str) -> Result<(), DecodeError> {
    resolve_reference(name).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element decoder moves children around: what `next_child` returns is no larger
    /// than it was when children were XML start tags only.
    #[test]
    fn children_are_as_small_as_xml_start_tags() {
        type Xml<'a> = Result<Option<(BytesStart<'a>, bool)>, DecodeError>;
        type Either<'a> = Result<Option<Child<'a>>, DecodeError>;
        assert!(std::mem::size_of::<Either<'_>>() <= std::mem::size_of::<Xml<'_>>());
    }
}
