//! The WBXML side of [`XmlWriter`](crate::xml::writer::XmlWriter): the same calls every
//! element encoder makes (open, attribute, text, close) turned into tokens of the message's
//! version.
//!
//! Text is written straight into the output as an inline string and, when the element's
//! content ends or a child starts, replaced where it should travel otherwise: Integers and
//! DateTimes of the version's OPAQUE list as OPAQUE, a text equal to a predefined value as
//! `EXT_T_0`. Names without a token
//! go to the string table as LITERALs. Attribute and content bits are set optimistically
//! and cleared when an element turns out to have none.

use super::opaque::{datetime_value, integer_value, push_datetime, push_integer};
use super::tables::{Dictionary, TextKind, dictionary, namespace_token};
use super::wire::{
    END, EXT_T_0, HAS_ATTRIBUTES, HAS_CONTENT, LITERAL, STR_I, SWITCH_PAGE, push_mb_u32,
};
use crate::version::Version;

/// An element being written.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Offset of the tag token (for clearing its bits).
    at: usize,
    kind: TextKind,
    attributes: bool,
}

/// Token state of a WBXML message being written.
pub(crate) struct TokenSink {
    dictionary: &'static Dictionary,
    page: u8,
    open: Vec<Open>,
    /// Where the text of the innermost element starts in the output (after its STR_I).
    text_at: Option<usize>,
    strings: Vec<u8>,
}

impl TokenSink {
    /// State for a message of `version`.
    pub(crate) fn new(version: Version) -> Self {
        Self {
            dictionary: dictionary(version),
            page: 0,
            open: Vec::with_capacity(16),
            text_at: None,
            strings: Vec::new(),
        }
    }

    /// The offset of `name` in the string table, added if new.
    fn string_ref(&mut self, name: &str) -> u32 {
        let mut at = 0;
        while at < self.strings.len() {
            let end = self.strings[at..]
                .iter()
                .position(|&b| b == 0)
                .map_or(self.strings.len(), |n| at + n);
            if &self.strings[at..end] == name.as_bytes() {
                return at as u32;
            }
            at = end + 1;
        }
        let offset = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        offset
    }

    /// Starts an element, attributes may follow.
    #[inline]
    pub(crate) fn begin(&mut self, out: &mut Vec<u8>, tag: &str) {
        self.flush_text(out);
        let bits = HAS_ATTRIBUTES | HAS_CONTENT;
        let (at, kind) = match self.dictionary.tag(tag) {
            Some(code) => {
                if code.page != self.page {
                    out.extend_from_slice(&[SWITCH_PAGE, code.page]);
                    self.page = code.page;
                }
                out.push(code.token | bits);
                (out.len() - 1, code.kind)
            }
            None => {
                let offset = self.string_ref(tag);
                out.push(LITERAL | bits);
                let at = out.len() - 1;
                push_mb_u32(out, offset);
                (at, TextKind::Plain)
            }
        };
        self.open.push(Open {
            at,
            kind,
            attributes: false,
        });
    }

    /// Writes an attribute of the element just begun.
    pub(crate) fn attribute(&mut self, out: &mut Vec<u8>, name: &str, value: &str) {
        let rest = match (name, namespace_token(value)) {
            ("xmlns", Some((token, suffix))) => {
                out.push(token);
                suffix
            }
            _ => {
                let offset = self.string_ref(name);
                out.push(LITERAL);
                push_mb_u32(out, offset);
                value
            }
        };
        if !rest.is_empty() {
            push_inline(out, rest.as_bytes());
        }
        if let Some(open) = self.open.last_mut() {
            open.attributes = true;
        }
    }

    /// Ends the attribute list; returns the mark [`TokenSink::close`] compares against.
    #[inline]
    pub(crate) fn end_start(&mut self, out: &mut Vec<u8>) -> usize {
        if let Some(open) = self.open.last() {
            if open.attributes {
                out.push(END);
            } else if let Some(tag) = out.get_mut(open.at) {
                *tag &= !HAS_ATTRIBUTES;
            }
        }
        out.len()
    }

    /// Ends the innermost element.
    #[inline]
    pub(crate) fn close(&mut self, out: &mut Vec<u8>, mark: usize) {
        self.flush_text(out);
        let Some(open) = self.open.pop() else {
            return;
        };
        if out.len() == mark {
            if let Some(tag) = out.get_mut(open.at) {
                *tag &= !HAS_CONTENT;
            }
        } else {
            out.push(END);
        }
    }

    /// The output, for appending text to the innermost element's inline string (begun here
    /// if need be).
    #[inline]
    pub(crate) fn text_buffer<'o>(&mut self, out: &'o mut Vec<u8>) -> &'o mut Vec<u8> {
        if self.text_at.is_none() {
            out.push(STR_I);
            self.text_at = Some(out.len());
        }
        out
    }

    /// Ends the innermost element's text: terminates its inline string, or replaces it by an
    /// OPAQUE value or a value token.
    #[inline]
    fn flush_text(&mut self, out: &mut Vec<u8>) {
        let Some(at) = self.text_at.take() else {
            return;
        };
        let text = out.get(at..).unwrap_or_default();
        if text.is_empty() {
            out.truncate(at - 1);
            return;
        }
        let kind = self.open.last().map_or(TextKind::Plain, |o| o.kind);
        if kind == TextKind::Integer
            && let Some(n) = integer_value(text)
        {
            out.truncate(at - 1);
            push_integer(n, out);
        } else if kind == TextKind::DateTime
            && let Some(value) = datetime_value(text)
        {
            out.truncate(at - 1);
            push_datetime(value, out);
        } else if let Some(index) = self.dictionary.value_token(text) {
            out.truncate(at - 1);
            out.push(EXT_T_0);
            push_mb_u32(out, index);
        } else {
            // No CSP text holds a NUL (neither decoder ever yields one), so the string is
            // terminated as is.
            out.push(0);
        }
    }

    /// Writes the string table length and table at `at` (just after the header's charset),
    /// once the body is complete.
    pub(crate) fn finish(mut self, out: &mut Vec<u8>, at: usize) {
        self.flush_text(out);
        let mut table = Vec::with_capacity(self.strings.len() + 5);
        push_mb_u32(&mut table, self.strings.len() as u32);
        table.extend_from_slice(&self.strings);
        out.splice(at..at, table);
    }
}

/// An inline string; a NUL (which no CSP text holds) would end it, so it is dropped.
fn push_inline(out: &mut Vec<u8>, text: &[u8]) {
    out.push(STR_I);
    if text.contains(&0) {
        out.extend(text.iter().copied().filter(|&b| b != 0));
    } else {
        out.extend_from_slice(text);
    }
    out.push(0);
}
