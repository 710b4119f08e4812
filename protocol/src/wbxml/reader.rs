//! The WBXML tokenizer: turns a CSP WBXML body into the tokens
//! [`XmlReader`](crate::xml::reader::XmlReader) reads in place of XML events, so that every
//! element decoder works unchanged on WBXML, with the same limits, and without building an
//! XML event per token.
//!
//! Tag tokens become element starts named from the version's code pages (attribute lists are
//! checked here and parsed only when asked for); strings, string-table references and value
//! tokens become borrowed text; OPAQUE integers and DateTimes become their decimal / ISO 8601
//! text; entities become characters.

use std::borrow::Cow;

use quick_xml::events::BytesStart;

use super::error::WbxmlError;
use super::opaque::{datetime_text, integer_text};
use super::tables::{Dictionary, TextKind, dictionary, namespace_prefix};
use super::wire::{
    Cursor, END, ENTITY, EXT_0, EXT_2, EXT_I_0, EXT_I_2, EXT_T_0, EXT_T_2, HAS_ATTRIBUTES,
    HAS_CONTENT, LITERAL, OPAQUE, PI, STR_I, STR_T, SWITCH_PAGE, StringTable,
};
use crate::version::Version;

/// What the element starts read from one body share: the body and its string table, to
/// parse attribute lists when asked.
pub(crate) struct Shared<'a> {
    /// The whole body (attribute lists are found by offset).
    body: &'a [u8],
    strings: StringTable<'a>,
}

impl<'a> Shared<'a> {
    /// The parts of `body` (whole, header included) that element starts refer to.
    pub(crate) fn new(body: &'a [u8], strings: StringTable<'a>) -> Self {
        Self { body, strings }
    }
}

/// An element start read from WBXML. Small (the size of an XML start tag), since the
/// cursor moves one per element: the attribute list is kept as an offset and parsed again
/// only when asked for.
#[derive(Clone, Copy)]
pub(crate) struct WbxmlStart<'a> {
    /// Name as written (a code page name, or a literal from the string table).
    pub(crate) name: &'a str,
    shared: &'a Shared<'a>,
    /// Offset in the body of the attribute list's first token; `NO_ATTRIBUTES` without one.
    attributes_at: u32,
    /// The attribute code page in force at the list's start.
    attribute_page: u8,
    /// The version whose value tokens the list's values use.
    version: Version,
    /// How the element's OPAQUE content reads.
    pub(crate) kind: TextKind,
    /// The name came from the string table (and may have a prefix).
    literal: bool,
}

/// [`WbxmlStart::attributes_at`] of a tag without attribute list.
const NO_ATTRIBUTES: u32 = u32::MAX;

impl std::fmt::Debug for WbxmlStart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WbxmlStart")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("attributes_at", &self.attributes_at)
            .finish()
    }
}

impl<'a> WbxmlStart<'a> {
    /// The name without any prefix.
    #[inline]
    pub(crate) fn local(&self) -> &'a str {
        if !self.literal {
            return self.name;
        }
        match self.name.rfind(':') {
            Some(at) => self.name.get(at + 1..).unwrap_or_default(),
            None => self.name,
        }
    }

    /// Whether the tag carried an attribute list.
    pub(crate) fn has_attributes(&self) -> bool {
        self.attributes_at != NO_ATTRIBUTES
    }

    /// A parser of the attribute list (of nothing when there is none).
    fn parser(&self) -> Option<AttributeParser<'a>> {
        if !self.has_attributes() {
            return None;
        }
        let tokens = self.shared.body.get(self.attributes_at as usize..)?;
        Some(AttributeParser {
            cursor: Cursor::new(tokens),
            strings: self.shared.strings,
            dictionary: dictionary(self.version),
            page: self.attribute_page,
        })
    }

    /// The start tag as an XML reader would have read it: the attributes (names as
    /// written, values escaped) of a start tag named as the element.
    pub(crate) fn xml_start(&self) -> Result<BytesStart<'a>, WbxmlError> {
        let mut start = BytesStart::new(self.name);
        if let Some(mut parser) = self.parser() {
            let mut value = String::new();
            while let Some(name) = parser.next(Some(&mut value))? {
                start.push_attribute((name, value.as_str()));
                value.clear();
            }
        }
        Ok(start)
    }

    /// The value of the `xmlns` attribute when it is the only attribute (what the XML
    /// attribute reader gives from [`WbxmlStart::xml_start`] too); `None` for any other
    /// list.
    pub(crate) fn sole_namespace(&self) -> Option<String> {
        let mut parser = self.parser()?;
        let mut value = String::with_capacity(64);
        let name = parser.next(Some(&mut value)).ok()??;
        if name != "xmlns" || !matches!(parser.next(None), Ok(None)) {
            return None;
        }
        Some(value)
    }
}

/// A token as the cursor reads it.
#[derive(Debug)]
pub(crate) enum Token<'a> {
    /// An element start; `true` when the element has content (and an END to come).
    Start(WbxmlStart<'a>, bool),
    /// The end of the innermost element.
    End,
    /// A piece of text, never empty.
    Text(&'a str),
    /// A character entity.
    Char(char),
    /// A piece of text made from OPAQUE data.
    Owned(String),
    /// The root element has closed and the body ends.
    Eof,
}

/// A pull source of tokens over a WBXML body (after its header).
pub(crate) struct WbxmlTokens<'a> {
    cursor: Cursor<'a>,
    shared: &'a Shared<'a>,
    strings: StringTable<'a>,
    version: Version,
    dictionary: &'static Dictionary,
    page: u8,
    attribute_page: u8,
    /// Elements open (with content).
    open: usize,
    root_seen: bool,
    /// The root, read ahead to learn its namespace.
    pushed_back: Option<(WbxmlStart<'a>, bool)>,
}

impl<'a> WbxmlTokens<'a> {
    /// A source over the body tokens at `cursor` (over the whole body of `shared`), named
    /// with the tables of `version`.
    pub(crate) fn new(cursor: Cursor<'a>, shared: &'a Shared<'a>, version: Version) -> Self {
        Self {
            cursor,
            shared,
            strings: shared.strings,
            version,
            dictionary: dictionary(version),
            page: 0,
            attribute_page: 0,
            open: 0,
            root_seen: false,
            pushed_back: None,
        }
    }

    /// Reads the root element ahead and returns its `xmlns` value, if it has one. The root
    /// is delivered again by the next [`WbxmlTokens::next`]. The root tag and the namespace
    /// tokens are the same in every version's tables.
    pub(crate) fn root_namespace(&mut self) -> Result<Option<String>, WbxmlError> {
        let Token::Start(start, content) = self.next(TextKind::Plain)? else {
            return Ok(None);
        };
        let namespace = if !start.has_attributes() {
            None
        } else if let Some(namespace) = start.sole_namespace() {
            Some(namespace)
        } else {
            start.xml_start().ok().and_then(|start| {
                start
                    .try_get_attribute("xmlns")
                    .ok()
                    .flatten()
                    .and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(std::borrow::Cow::into_owned)
                    })
            })
        };
        self.pushed_back = Some((start, content));
        Ok(namespace)
    }

    /// Names the tokens still to be read with the tables of `version`.
    pub(crate) fn set_version(&mut self, version: Version) {
        self.version = version;
        self.dictionary = dictionary(version);
    }

    /// The next token. `kind` is how OPAQUE data in the innermost open element reads (its
    /// errors name no element: the caller knows which it is).
    #[inline]
    pub(crate) fn next(&mut self, kind: TextKind) -> Result<Token<'a>, WbxmlError> {
        if let Some((start, content)) = self.pushed_back.take() {
            return Ok(Token::Start(start, content));
        }
        loop {
            if self.open == 0 && self.root_seen {
                return if self.cursor.at_end() {
                    Ok(Token::Eof)
                } else {
                    Err(WbxmlError::OutsideRoot)
                };
            }
            let token = self.cursor.byte()?;
            match token {
                SWITCH_PAGE => self.page = self.cursor.byte()?,
                END => {
                    self.open = self.open.checked_sub(1).ok_or(WbxmlError::UnbalancedEnd)?;
                    return Ok(Token::End);
                }
                STR_I => {
                    self.inside()?;
                    let s = self.cursor.inline_str()?;
                    if !s.is_empty() {
                        return Ok(Token::Text(s));
                    }
                }
                EXT_T_0 => {
                    self.inside()?;
                    let index = self.cursor.mb_u32()?;
                    let value = self
                        .dictionary
                        .value(index)
                        .ok_or(WbxmlError::UnknownValue(index))?;
                    if !value.is_empty() {
                        return Ok(Token::Text(value));
                    }
                }
                STR_T => {
                    self.inside()?;
                    let offset = self.cursor.mb_u32()?;
                    let s = self.strings.get(offset)?;
                    if !s.is_empty() {
                        return Ok(Token::Text(s));
                    }
                }
                OPAQUE => {
                    self.inside()?;
                    if let Some(token) = self.opaque(kind)? {
                        return Ok(token);
                    }
                }
                ENTITY => {
                    self.inside()?;
                    let code = self.cursor.mb_u32()?;
                    return match char::from_u32(code) {
                        Some(c) if c != '\0' => Ok(Token::Char(c)),
                        _ => Err(WbxmlError::BadEntity(code)),
                    };
                }
                PI => self.skip_pi()?,
                EXT_I_0..=EXT_I_2 | EXT_T_0..=EXT_T_2 | EXT_0..=EXT_2 => {
                    return Err(WbxmlError::UnexpectedToken(token));
                }
                _ => return self.element(token),
            }
        }
    }

    /// Content tokens are only allowed inside the root.
    #[inline]
    fn inside(&self) -> Result<(), WbxmlError> {
        if self.open == 0 {
            Err(WbxmlError::OutsideRoot)
        } else {
            Ok(())
        }
    }

    /// The text of OPAQUE data in an element of `kind` (none when empty plain text).
    fn opaque(&mut self, kind: TextKind) -> Result<Option<Token<'a>>, WbxmlError> {
        let len = self.cursor.mb_u32()?;
        let data = self.cursor.take(len)?;
        let bad = |expected| WbxmlError::BadOpaque {
            element: String::new(),
            expected,
        };
        Ok(match kind {
            TextKind::Integer => Some(match integer_text(data) {
                Some(Cow::Borrowed(text)) => Token::Text(text),
                Some(Cow::Owned(text)) => Token::Owned(text),
                None => return Err(bad("an Integer")),
            }),
            TextKind::DateTime => Some(Token::Owned(
                datetime_text(data).ok_or_else(|| bad("a DateTime"))?,
            )),
            TextKind::Plain => {
                let s = std::str::from_utf8(data)
                    .ok()
                    .filter(|s| !s.contains('\0'))
                    .ok_or_else(|| bad("UTF-8 text without NUL"))?;
                (!s.is_empty()).then_some(Token::Text(s))
            }
        })
    }

    fn element(&mut self, token: u8) -> Result<Token<'a>, WbxmlError> {
        self.root_seen = true;
        let id = token & 0x3F;
        let literal = id == LITERAL;
        let (name, kind) = if literal {
            let name = self.strings.get(self.cursor.mb_u32()?)?;
            (name, self.dictionary.literal_kind(name))
        } else {
            self.dictionary
                .name(self.page, id)
                .ok_or(WbxmlError::UnknownTag {
                    page: self.page,
                    token: id,
                })?
        };
        let attribute_page = self.attribute_page;
        let attributes_at = if token & HAS_ATTRIBUTES != 0 {
            self.attributes()?
        } else {
            NO_ATTRIBUTES
        };
        let start = WbxmlStart {
            name,
            shared: self.shared,
            attributes_at,
            attribute_page,
            version: self.version,
            kind,
            literal,
        };
        let content = token & HAS_CONTENT != 0;
        if content {
            self.open += 1;
        }
        Ok(Token::Start(start, content))
    }

    /// Checks an attribute list up to its END, which is consumed; returns its offset for
    /// parsing when asked.
    fn attributes(&mut self) -> Result<u32, WbxmlError> {
        let at = u32::try_from(self.cursor.position())
            .ok()
            .filter(|&at| at != NO_ATTRIBUTES)
            .ok_or(WbxmlError::NumberTooLarge)?;
        let mut parser = AttributeParser {
            cursor: Cursor::new(self.cursor.rest()),
            strings: self.strings,
            dictionary: self.dictionary,
            page: self.attribute_page,
        };
        while parser.next(None)?.is_some() {}
        self.attribute_page = parser.page;
        self.cursor.advance(parser.cursor.position());
        Ok(at)
    }

    /// Skips a processing instruction (its target and value, up to END).
    fn skip_pi(&mut self) -> Result<(), WbxmlError> {
        loop {
            match self.cursor.byte()? {
                END => return Ok(()),
                LITERAL => {
                    self.cursor.mb_u32()?;
                }
                SWITCH_PAGE => {
                    self.cursor.byte()?;
                }
                token if is_attribute_start(token) => {}
                token => return Err(WbxmlError::UnexpectedToken(token)),
            }
            attribute_value(&mut self.cursor, self.strings, self.dictionary, None)?;
        }
    }
}

/// Reads the attributes of a list one at a time.
struct AttributeParser<'a> {
    cursor: Cursor<'a>,
    strings: StringTable<'a>,
    dictionary: &'static Dictionary,
    page: u8,
}

impl<'a> AttributeParser<'a> {
    /// The name of the next attribute, its value appended to `value` (when given); `None`
    /// after the list's END.
    fn next(&mut self, mut value: Option<&mut String>) -> Result<Option<&'a str>, WbxmlError> {
        loop {
            let token = self.cursor.byte()?;
            let name = match token {
                END => return Ok(None),
                SWITCH_PAGE => {
                    self.page = self.cursor.byte()?;
                    continue;
                }
                LITERAL => self.strings.get(self.cursor.mb_u32()?)?,
                token if is_attribute_start(token) => {
                    let prefix = namespace_prefix(token)
                        .filter(|_| self.page == 0)
                        .ok_or(WbxmlError::UnknownAttribute(token))?;
                    if let Some(value) = value.as_deref_mut() {
                        value.push_str(prefix);
                    }
                    "xmlns"
                }
                _ => return Err(WbxmlError::UnexpectedToken(token)),
            };
            attribute_value(&mut self.cursor, self.strings, self.dictionary, value)?;
            return Ok(Some(name));
        }
    }
}

/// Reads the value tokens that follow an attribute start, appending them to `value` (when
/// given).
fn attribute_value(
    cursor: &mut Cursor<'_>,
    strings: StringTable<'_>,
    dictionary: &Dictionary,
    mut value: Option<&mut String>,
) -> Result<(), WbxmlError> {
    loop {
        let Some(token) = cursor.peek() else {
            return Err(WbxmlError::Truncated);
        };
        let text = match token {
            STR_I => {
                cursor.byte()?;
                cursor.inline_str()?
            }
            STR_T => {
                cursor.byte()?;
                strings.get(cursor.mb_u32()?)?
            }
            EXT_T_0 => {
                cursor.byte()?;
                let index = cursor.mb_u32()?;
                dictionary
                    .value(index)
                    .ok_or(WbxmlError::UnknownValue(index))?
            }
            ENTITY => {
                cursor.byte()?;
                let code = cursor.mb_u32()?;
                match char::from_u32(code) {
                    Some(c) if c != '\0' => {
                        if let Some(value) = value.as_deref_mut() {
                            value.push(c);
                        }
                        continue;
                    }
                    _ => return Err(WbxmlError::BadEntity(code)),
                }
            }
            OPAQUE => {
                cursor.byte()?;
                let len = cursor.mb_u32()?;
                let data = cursor.take(len)?;
                std::str::from_utf8(data)
                    .ok()
                    .filter(|t| !t.contains('\0'))
                    .ok_or_else(|| WbxmlError::BadOpaque {
                        element: "(attribute value)".into(),
                        expected: "UTF-8 text without NUL",
                    })?
            }
            SWITCH_PAGE | END | LITERAL => return Ok(()),
            token if is_attribute_start(token) => return Ok(()),
            _ => return Err(WbxmlError::UnexpectedToken(token)),
        };
        if let Some(value) = value.as_deref_mut() {
            value.push_str(text);
        }
    }
}

/// True for the tokens that start an attribute (all but the global tokens, below 0x80).
fn is_attribute_start(token: u8) -> bool {
    matches!(token, 0x05..=0x3F | 0x45..=0x7F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::wire::{push_mb_u32, read_header};

    /// A root `WV-CSP-Message` whose attribute list is `list` (END included), with content.
    fn root_with(list: &[u8], table: &[u8]) -> Vec<u8> {
        let mut body = vec![0x03, 0x11, 0x6A];
        push_mb_u32(&mut body, table.len() as u32);
        body.extend_from_slice(table);
        body.push(0xC9);
        body.extend_from_slice(list);
        body.push(0x01);
        body
    }

    /// Reads the root start of `body` and hands it to `check`.
    fn with_start(body: &[u8], check: impl FnOnce(WbxmlStart<'_>)) {
        let mut cursor = Cursor::new(body);
        let header = read_header(&mut cursor).expect("header");
        let shared = Shared::new(body, header.strings);
        let mut tokens = WbxmlTokens::new(cursor, &shared, Version::V1_2);
        match tokens.next(TextKind::Plain) {
            Ok(Token::Start(start, true)) => check(start),
            other => panic!("{other:?}"),
        }
    }

    /// The namespace shortcut reads what the XML attribute reader reads from the same list.
    #[test]
    fn sole_namespace_reads_like_xml() {
        for suffix in ["1.2", "", "a\tb\nc\r\nd", "<&'\">", "x\ry", " \t"] {
            let mut list = vec![0x08, 0x03];
            list.extend_from_slice(suffix.as_bytes());
            list.extend_from_slice(&[0x00, 0x02, 0x09, 0x01]);
            let body = root_with(&list, b"");
            with_start(&body, |start| {
                let xml = start.xml_start().expect("list");
                let expected = xml
                    .try_get_attribute("xmlns")
                    .expect("attribute")
                    .expect("xmlns")
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("value")
                    .into_owned();
                assert_eq!(start.sole_namespace(), Some(expected), "{suffix:?}");
            });
        }
        // A literal name, two attributes: no shortcut.
        let body = root_with(&[0x04, 0x00, 0x03, b'v', 0x00, 0x01], b"xmlns\0");
        with_start(&body, |start| {
            assert_eq!(
                start.sole_namespace().as_deref(),
                Some("v"),
                "literal xmlns"
            );
        });
        let body = root_with(&[0x05, 0x05, 0x01], b"");
        with_start(&body, |start| assert_eq!(start.sole_namespace(), None));
        let body = root_with(&[0x04, 0x00, 0x01], b"other\0");
        with_start(&body, |start| assert_eq!(start.sole_namespace(), None));
    }

    /// The cursor moves one start per element: it stays as small as an XML start tag.
    #[test]
    fn starts_are_small() {
        assert!(std::mem::size_of::<WbxmlStart<'_>>() <= 32);
        assert!(
            std::mem::size_of::<WbxmlStart<'_>>()
                <= std::mem::size_of::<quick_xml::events::BytesStart<'_>>()
        );
    }
}
