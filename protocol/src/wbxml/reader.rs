//! The WBXML tokenizer: turns a CSP WBXML body into the same quick-xml events the XML
//! reader gets from text, so that [`XmlReader`](crate::xml::reader::XmlReader) and every
//! element decoder work unchanged on WBXML, with the same limits.
//!
//! Tag tokens become start/empty/end events named from the version's code pages; `xmlns`
//! attribute tokens become `xmlns` attributes; strings, string-table references and value
//! tokens become text; OPAQUE integers and DateTimes become their decimal / ISO 8601 text;
//! entities become character references.

use std::borrow::Cow;

use quick_xml::events::{BytesEnd, BytesRef, BytesStart, BytesText, Event};

use super::error::WbxmlError;
use super::opaque::{datetime_text, integer_text};
use super::tables::{Dictionary, TextKind, namespace_prefix};
use super::wire::{
    Cursor, END, ENTITY, EXT_0, EXT_2, EXT_I_0, EXT_I_2, EXT_T_0, EXT_T_2, HAS_ATTRIBUTES,
    HAS_CONTENT, LITERAL, OPAQUE, PI, STR_I, STR_T, SWITCH_PAGE, StringTable,
};

/// An element whose content is being read.
#[derive(Debug, Clone, Copy)]
struct Open<'a> {
    name: &'a str,
    kind: TextKind,
}

/// A pull source of quick-xml events over a WBXML body (after its header).
pub(crate) struct WbxmlEvents<'a> {
    cursor: Cursor<'a>,
    strings: StringTable<'a>,
    dictionary: &'static Dictionary,
    page: u8,
    attribute_page: u8,
    open: Vec<Open<'a>>,
    root_seen: bool,
    /// Text after a carriage return, delivered as the next event.
    rest: Option<&'a str>,
    /// An event read ahead (the root, read to learn its namespace).
    pushed_back: Option<Event<'a>>,
}

impl<'a> WbxmlEvents<'a> {
    /// A source over the body tokens at `cursor`, named with `dictionary`.
    pub(crate) fn new(
        cursor: Cursor<'a>,
        strings: StringTable<'a>,
        dictionary: &'static Dictionary,
    ) -> Self {
        Self {
            cursor,
            strings,
            dictionary,
            page: 0,
            attribute_page: 0,
            open: Vec::new(),
            root_seen: false,
            rest: None,
            pushed_back: None,
        }
    }

    /// Reads the root element ahead and returns its `xmlns` value, if it has one. The root
    /// is delivered again by the next [`WbxmlEvents::next_event`]. The root tag and the
    /// namespace tokens are the same in every version's tables.
    pub(crate) fn root_namespace(&mut self) -> Result<Option<String>, WbxmlError> {
        let event = self.next_event()?;
        let namespace = match &event {
            Event::Start(start) | Event::Empty(start) => start
                .try_get_attribute("xmlns")
                .ok()
                .flatten()
                .and_then(|a| {
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .ok()
                        .map(Cow::into_owned)
                }),
            _ => None,
        };
        self.pushed_back = Some(event);
        Ok(namespace)
    }

    /// Names the tokens still to be read with `dictionary`.
    pub(crate) fn set_dictionary(&mut self, dictionary: &'static Dictionary) {
        self.dictionary = dictionary;
    }

    /// The next event; [`Event::Eof`] once the root element has closed and the body ends.
    pub(crate) fn next_event(&mut self) -> Result<Event<'a>, WbxmlError> {
        if let Some(event) = self.pushed_back.take() {
            return Ok(event);
        }
        if let Some(rest) = self.rest.take()
            && let Some(event) = self.text(rest)
        {
            return Ok(event);
        }
        loop {
            if self.open.is_empty() && self.root_seen {
                return if self.cursor.at_end() {
                    Ok(Event::Eof)
                } else {
                    Err(WbxmlError::OutsideRoot)
                };
            }
            let token = self.cursor.byte()?;
            match token {
                SWITCH_PAGE => self.page = self.cursor.byte()?,
                END => {
                    let open = self.open.pop().ok_or(WbxmlError::UnbalancedEnd)?;
                    return Ok(Event::End(BytesEnd::new(open.name)));
                }
                PI => self.skip_pi()?,
                ENTITY | STR_I | STR_T | EXT_T_0 | OPAQUE => {
                    let top = *self.open.last().ok_or(WbxmlError::OutsideRoot)?;
                    if let Some(event) = self.content(token, top)? {
                        return Ok(event);
                    }
                }
                EXT_I_0..=EXT_I_2 | EXT_T_0..=EXT_T_2 | EXT_0..=EXT_2 => {
                    return Err(WbxmlError::UnexpectedToken(token));
                }
                _ => return self.element(token),
            }
        }
    }

    /// A text event for `text`, none for an empty one (XML has no empty text either); a
    /// carriage return (which an XML reader would turn into a line feed) travels as a
    /// character reference.
    fn text(&mut self, text: &'a str) -> Option<Event<'a>> {
        match text.find('\r') {
            _ if text.is_empty() => None,
            None => Some(Event::Text(BytesText::from_escaped(text))),
            Some(0) => {
                self.rest = Some(&text[1..]).filter(|r| !r.is_empty());
                Some(Event::GeneralRef(BytesRef::new("#13")))
            }
            Some(at) => {
                self.rest = Some(&text[at..]);
                Some(Event::Text(BytesText::from_escaped(&text[..at])))
            }
        }
    }

    /// The event of a content token (none for an empty string).
    fn content(&mut self, token: u8, top: Open<'a>) -> Result<Option<Event<'a>>, WbxmlError> {
        match token {
            ENTITY => {
                let code = self.cursor.mb_u32()?;
                match char::from_u32(code) {
                    Some(c) if c != '\0' => {
                        let reference = BytesRef::new(format!("#{}", u32::from(c)));
                        Ok(Some(Event::GeneralRef(reference)))
                    }
                    _ => Err(WbxmlError::BadEntity(code)),
                }
            }
            STR_I => {
                let s = self.cursor.inline_str()?;
                Ok(self.text(s))
            }
            STR_T => {
                let offset = self.cursor.mb_u32()?;
                let s = self.strings.get(offset)?;
                Ok(self.text(s))
            }
            EXT_T_0 => {
                let index = self.cursor.mb_u32()?;
                let value = self
                    .dictionary
                    .value(index)
                    .ok_or(WbxmlError::UnknownValue(index))?;
                Ok(Some(Event::Text(BytesText::from_escaped(value))))
            }
            _ => {
                let len = self.cursor.mb_u32()?;
                let data = self.cursor.take(len)?;
                let bad = |expected| WbxmlError::BadOpaque {
                    element: top.name.chars().take(64).collect(),
                    expected,
                };
                let text = match top.kind {
                    TextKind::Integer => integer_text(data).ok_or_else(|| bad("an Integer"))?,
                    TextKind::DateTime => datetime_text(data).ok_or_else(|| bad("a DateTime"))?,
                    TextKind::Plain => {
                        let s = std::str::from_utf8(data)
                            .ok()
                            .filter(|s| !s.contains('\0'))
                            .ok_or_else(|| bad("UTF-8 text without NUL"))?;
                        return Ok(self.text(s));
                    }
                };
                Ok(Some(Event::Text(BytesText::from_escaped(text))))
            }
        }
    }

    fn element(&mut self, token: u8) -> Result<Event<'a>, WbxmlError> {
        if self.root_seen && self.open.is_empty() {
            return Err(WbxmlError::OutsideRoot);
        }
        self.root_seen = true;
        let id = token & 0x3F;
        let (name, kind) = if id == LITERAL {
            let name = self.strings.get(self.cursor.mb_u32()?)?;
            (name, self.dictionary.literal_kind(name))
        } else {
            let (name, kind) =
                self.dictionary
                    .name(self.page, id)
                    .ok_or(WbxmlError::UnknownTag {
                        page: self.page,
                        token: id,
                    })?;
            (name, kind)
        };
        let mut start = BytesStart::new(name);
        if token & HAS_ATTRIBUTES != 0 {
            self.attributes(&mut start)?;
        }
        if token & HAS_CONTENT != 0 {
            self.open.push(Open { name, kind });
            Ok(Event::Start(start))
        } else {
            Ok(Event::Empty(start))
        }
    }

    /// Reads an attribute list up to its END into `start`.
    fn attributes(&mut self, start: &mut BytesStart<'a>) -> Result<(), WbxmlError> {
        loop {
            let token = self.cursor.byte()?;
            let (name, mut value) = match token {
                END => return Ok(()),
                SWITCH_PAGE => {
                    self.attribute_page = self.cursor.byte()?;
                    continue;
                }
                LITERAL => (self.strings.get(self.cursor.mb_u32()?)?, String::new()),
                token if is_attribute_start(token) => {
                    let prefix = namespace_prefix(token)
                        .filter(|_| self.attribute_page == 0)
                        .ok_or(WbxmlError::UnknownAttribute(token))?;
                    ("xmlns", prefix.to_owned())
                }
                _ => return Err(WbxmlError::UnexpectedToken(token)),
            };
            self.attribute_value(&mut value)?;
            start.push_attribute((name, value.as_str()));
        }
    }

    /// Appends the value tokens that follow an attribute start to `value`.
    fn attribute_value(&mut self, value: &mut String) -> Result<(), WbxmlError> {
        loop {
            let Some(token) = self.cursor.peek() else {
                return Err(WbxmlError::Truncated);
            };
            match token {
                STR_I => {
                    self.cursor.byte()?;
                    value.push_str(self.cursor.inline_str()?);
                }
                STR_T => {
                    self.cursor.byte()?;
                    value.push_str(self.strings.get(self.cursor.mb_u32()?)?);
                }
                EXT_T_0 => {
                    self.cursor.byte()?;
                    let index = self.cursor.mb_u32()?;
                    let text = self
                        .dictionary
                        .value(index)
                        .ok_or(WbxmlError::UnknownValue(index))?;
                    value.push_str(text);
                }
                ENTITY => {
                    self.cursor.byte()?;
                    let code = self.cursor.mb_u32()?;
                    match char::from_u32(code) {
                        Some(c) if c != '\0' => value.push(c),
                        _ => return Err(WbxmlError::BadEntity(code)),
                    }
                }
                OPAQUE => {
                    self.cursor.byte()?;
                    let len = self.cursor.mb_u32()?;
                    let data = self.cursor.take(len)?;
                    let text = std::str::from_utf8(data)
                        .ok()
                        .filter(|t| !t.contains('\0'))
                        .ok_or_else(|| WbxmlError::BadOpaque {
                            element: "(attribute value)".into(),
                            expected: "UTF-8 text without NUL",
                        })?;
                    value.push_str(text);
                }
                SWITCH_PAGE | END | LITERAL => return Ok(()),
                token if is_attribute_start(token) => return Ok(()),
                _ => return Err(WbxmlError::UnexpectedToken(token)),
            }
        }
    }

    /// Skips a processing instruction (its target and value, up to END).
    fn skip_pi(&mut self) -> Result<(), WbxmlError> {
        let mut scratch = String::new();
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
            scratch.clear();
            self.attribute_value(&mut scratch)?;
        }
    }
}

/// True for the tokens that start an attribute (all but the global tokens, below 0x80).
fn is_attribute_start(token: u8) -> bool {
    matches!(token, 0x05..=0x3F | 0x45..=0x7F)
}
