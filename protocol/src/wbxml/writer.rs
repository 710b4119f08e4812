//! The WBXML side of [`XmlWriter`](crate::xml::writer::XmlWriter): the same calls every
//! element encoder makes (open, attribute, text, close) turned into tokens of the message's
//! version.
//!
//! Text travels as an inline string, except where it should travel otherwise: Integers and
//! DateTimes of the version's OPAQUE list as OPAQUE, a text equal to a predefined value as
//! `EXT_T_0`. A single piece of plain text (what element encoders nearly always write) is
//! written in its final form at once; text written in several pieces, and Integer and
//! DateTime text, is written as an inline string and replaced if need be when the element's
//! content ends or a child starts. Names without a token go to the string table as
//! LITERALs. Attribute and content bits are set optimistically and cleared when an element
//! turns out to have none.

use std::cell::Cell;

use super::opaque::{datetime_value, integer_value, push_datetime, push_integer};
use super::tables::{Dictionary, TagCode, TextKind, dictionary, namespace_token};
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

/// The text of the innermost element written so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// None (or only empty pieces).
    None,
    /// An inline string whose text starts at `at` (after its STR_I), not terminated yet.
    /// `final_form` when it is a single piece of plain text already known to be no value:
    /// only its terminator is missing.
    Inline { at: usize, final_form: bool },
    /// A single piece that is a predefined value, already written as the `EXT_T_0` at `at`.
    Value { at: usize, index: u32 },
}

/// A tag's code in one version, cached by the address and length of a `&'static str`
/// naming it: such a string's bytes never change, so the address stands for the name.
#[derive(Debug, Clone, Copy)]
struct CachedTag {
    addr: usize,
    len: usize,
    /// The version's public id, 0 for a vacant entry.
    version: u8,
    code: Option<TagCode>,
}

impl CachedTag {
    const VACANT: Self = Self {
        addr: 0,
        len: 0,
        version: 0,
        code: None,
    };
}

/// Entries of the per-thread tag cache (a power of two).
const TAG_CACHE: usize = 256;

thread_local! {
    /// Tag codes by the address of their static names, shared by every message a thread
    /// writes.
    static TAG_CODES: [Cell<CachedTag>; TAG_CACHE] =
        const { [const { Cell::new(CachedTag::VACANT) }; TAG_CACHE] };
}

/// Token state of a WBXML message being written. The entry points of the hottest calls
/// (open, text, close) are never inlined: [`XmlWriter`](crate::xml::writer::XmlWriter)'s
/// methods then stay small dispatchers, inlined into the element encoders, and neither
/// encoding's code weighs on the other's.
pub(crate) struct TokenSink {
    dictionary: &'static Dictionary,
    /// The version's public id (the tag cache's key).
    version: u8,
    page: u8,
    open: Vec<Open>,
    /// The text of the innermost element written so far.
    text: Text,
    strings: Vec<u8>,
}

impl TokenSink {
    /// State for a message of `version`.
    pub(crate) fn new(version: Version) -> Self {
        Self {
            dictionary: dictionary(version),
            version: version.wbxml_public_id() as u8,
            page: 0,
            open: Vec::with_capacity(16),
            text: Text::None,
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

    /// The code of a static tag name, from the thread's cache when it has it.
    #[inline]
    fn static_code(&self, tag: &'static str) -> Option<TagCode> {
        let addr = tag.as_ptr() as usize;
        let slot = ((addr as u64 ^ tag.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56)
            as usize
            & (TAG_CACHE - 1);
        TAG_CODES.with(|cache| {
            let cell = cache.get(slot)?;
            let cached = cell.get();
            if cached.addr == addr && cached.len == tag.len() && cached.version == self.version {
                return cached.code;
            }
            let code = self.dictionary.tag(tag);
            cell.set(CachedTag {
                addr,
                len: tag.len(),
                version: self.version,
                code,
            });
            code
        })
    }

    /// Writes the tag token of `tag` (whose code is `code`, switching page if need be)
    /// with `bits`; returns its offset and how its text is written.
    #[inline]
    fn tag(
        &mut self,
        out: &mut Vec<u8>,
        code: Option<TagCode>,
        tag: &str,
        bits: u8,
    ) -> (usize, TextKind) {
        match code {
            Some(code) => {
                if code.page != self.page {
                    out.extend_from_slice(&[SWITCH_PAGE, code.page]);
                    self.page = code.page;
                }
                out.push(code.token | bits);
                (out.len() - 1, code.kind)
            }
            None => self.literal_tag(out, tag, bits),
        }
    }

    #[cold]
    fn literal_tag(&mut self, out: &mut Vec<u8>, tag: &str, bits: u8) -> (usize, TextKind) {
        let offset = self.string_ref(tag);
        out.push(LITERAL | bits);
        let at = out.len() - 1;
        push_mb_u32(out, offset);
        (at, TextKind::Plain)
    }

    /// Starts an element, attributes may follow.
    #[inline]
    pub(crate) fn begin(&mut self, out: &mut Vec<u8>, tag: &str) {
        self.flush_text(out);
        let code = self.dictionary.tag(tag);
        let (at, kind) = self.tag(out, code, tag, HAS_ATTRIBUTES | HAS_CONTENT);
        self.open.push(Open {
            at,
            kind,
            attributes: false,
        });
    }

    /// Starts an element without attributes; returns the mark [`TokenSink::close`] compares
    /// against.
    #[inline(never)]
    pub(crate) fn open(&mut self, out: &mut Vec<u8>, tag: &str) -> usize {
        self.flush_text(out);
        let code = self.dictionary.tag(tag);
        self.open_coded(out, code, tag)
    }

    /// [`TokenSink::open`] for a static name.
    #[inline(never)]
    pub(crate) fn open_static(&mut self, out: &mut Vec<u8>, tag: &'static str) -> usize {
        self.flush_text(out);
        let code = self.static_code(tag);
        self.open_coded(out, code, tag)
    }

    #[inline]
    fn open_coded(&mut self, out: &mut Vec<u8>, code: Option<TagCode>, tag: &str) -> usize {
        let (at, kind) = self.tag(out, code, tag, HAS_CONTENT);
        self.open.push(Open {
            at,
            kind,
            attributes: false,
        });
        out.len()
    }

    /// Writes an attribute of the element just begun.
    pub(crate) fn attribute(&mut self, out: &mut Vec<u8>, name: &str, value: &str) {
        let namespace = if name == "xmlns" {
            namespace_token(value)
        } else {
            None
        };
        let rest = match namespace {
            Some((token, suffix)) => {
                out.push(token);
                suffix
            }
            None => {
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
    #[inline(never)]
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

    /// Writes a piece of the innermost element's text. The first piece of plain text is
    /// written in its final form at once (most texts are a single piece); any further piece
    /// turns the text back into an inline string, settled when the element's content ends.
    #[inline(never)]
    pub(crate) fn text(&mut self, out: &mut Vec<u8>, text: &str) {
        if self.text != Text::None {
            self.text_buffer(out).extend_from_slice(text.as_bytes());
            return;
        }
        if text.is_empty() {
            return;
        }
        let kind = self.open.last().map_or(TextKind::Plain, |o| o.kind);
        if kind == TextKind::Plain {
            if let Some(index) = self.dictionary.value_token(text.as_bytes()) {
                self.text = Text::Value {
                    at: out.len(),
                    index,
                };
                out.push(EXT_T_0);
                push_mb_u32(out, index);
                return;
            }
            out.push(STR_I);
            self.text = Text::Inline {
                at: out.len(),
                final_form: true,
            };
        } else {
            out.push(STR_I);
            self.text = Text::Inline {
                at: out.len(),
                final_form: false,
            };
        }
        out.extend_from_slice(text.as_bytes());
    }

    /// The output, for appending text to the innermost element's inline string (begun, or
    /// made again from a value token, here if need be).
    #[inline]
    pub(crate) fn text_buffer<'o>(&mut self, out: &'o mut Vec<u8>) -> &'o mut Vec<u8> {
        match self.text {
            Text::Inline {
                final_form: false, ..
            } => {}
            Text::Inline { at, .. } => {
                self.text = Text::Inline {
                    at,
                    final_form: false,
                };
            }
            Text::None => {
                out.push(STR_I);
                self.text = Text::Inline {
                    at: out.len(),
                    final_form: false,
                };
            }
            Text::Value { at, index } => self.reopen_value(out, at, index),
        }
        out
    }

    /// Turns a value token back into the inline string of its text.
    #[cold]
    fn reopen_value(&mut self, out: &mut Vec<u8>, at: usize, index: u32) {
        out.truncate(at);
        out.push(STR_I);
        self.text = Text::Inline {
            at: out.len(),
            final_form: false,
        };
        // Every value token written is one the table reads back as the same text.
        out.extend_from_slice(self.dictionary.value(index).unwrap_or_default().as_bytes());
    }

    /// Ends the innermost element's text, if it has any pending.
    #[inline]
    fn flush_text(&mut self, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.text, Text::None) {
            Text::None | Text::Value { .. } => {}
            Text::Inline {
                final_form: true, ..
            } => out.push(0),
            Text::Inline { at, .. } => self.end_text(out, at),
        }
    }

    /// Ends the text starting at `at`: terminates its inline string, or replaces it by an
    /// OPAQUE value or a value token.
    #[inline(never)]
    fn end_text(&mut self, out: &mut Vec<u8>, at: usize) {
        let text = out.get(at..).unwrap_or_default();
        if text.is_empty() {
            out.truncate(at.saturating_sub(1));
            return;
        }
        let kind = self.open.last().map_or(TextKind::Plain, |o| o.kind);
        if kind == TextKind::Integer
            && let Some(n) = integer_value(text)
        {
            out.truncate(at.saturating_sub(1));
            push_integer(n, out);
        } else if kind == TextKind::DateTime
            && let Some(value) = datetime_value(text)
        {
            out.truncate(at.saturating_sub(1));
            push_datetime(value, out);
        } else if let Some(index) = self.dictionary.value_token(text) {
            out.truncate(at.saturating_sub(1));
            out.push(EXT_T_0);
            push_mb_u32(out, index);
        } else {
            // No CSP text holds a NUL (neither decoder ever yields one), so the string is
            // terminated as is.
            out.push(0);
        }
    }

    /// Completes the header once the body is complete: `at` (just after the header's
    /// charset) holds the length of an empty string table, which is replaced by the table
    /// if there is one.
    pub(crate) fn finish(mut self, out: &mut Vec<u8>, at: usize) {
        self.flush_text(out);
        if self.strings.is_empty() {
            return;
        }
        let mut table = Vec::with_capacity(self.strings.len() + 5);
        push_mb_u32(&mut table, self.strings.len() as u32);
        table.extend_from_slice(&self.strings);
        let end = (at + 1).min(out.len());
        out.splice(at.min(end)..end, table);
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

#[cfg(test)]
mod tests {
    use crate::version::Version;
    use crate::xml::writer::XmlWriter;

    /// The body tokens `write` produces in `version` (after a short string table).
    fn body(version: Version, write: impl Fn(&mut XmlWriter<'_>)) -> Vec<u8> {
        let mut out = vec![0x03, 0x11, 0x6A];
        let at = out.len();
        out.push(0);
        let mut w = XmlWriter::wbxml(&mut out, version);
        write(&mut w);
        w.finish_wbxml(at);
        let table = usize::from(out[3]);
        assert!(table < 0x80);
        out.split_off(4 + table)
    }

    #[test]
    fn text_in_pieces_is_settled_as_a_whole() {
        // Qualifier is page 0 token 0x26; T is value 0x2C, AVAILABLE a value too.
        let one = |w: &mut XmlWriter<'_>| {
            let mark = w.open("Qualifier");
            w.text("T");
            w.close("Qualifier", mark);
        };
        assert_eq!(body(Version::V1_2, one), [0x66, 0x80, 0x2C, 0x01]);
        let two = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Qualifier");
            w.text("T");
            w.text("x");
            w.close("Qualifier", mark);
        };
        assert_eq!(
            body(Version::V1_2, two),
            [0x66, 0x03, b'T', b'x', 0x00, 0x01]
        );
        let joined = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Qualifier");
            w.text("");
            w.text("AVAIL");
            w.text("ABLE");
            w.close("Qualifier", mark);
        };
        let whole = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Qualifier");
            w.text("AVAILABLE");
            w.close("Qualifier", mark);
        };
        assert_eq!(body(Version::V1_2, joined), body(Version::V1_2, whole));
        assert_eq!(body(Version::V1_2, whole)[1], 0x80);
        // A value followed by more text through the formatting buffer.
        let buffered = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Qualifier");
            w.text("F");
            w.buffer().extend_from_slice(b"oo");
            w.close("Qualifier", mark);
        };
        assert_eq!(
            body(Version::V1_2, buffered),
            [0x66, 0x03, b'F', b'o', b'o', 0x00, 0x01]
        );
        // Empty text leaves an empty element.
        let empty = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Qualifier");
            w.text("");
            w.close("Qualifier", mark);
        };
        assert_eq!(body(Version::V1_2, empty), [0x26]);
    }

    #[test]
    fn integers_in_pieces_are_opaque() {
        // Code is page 0 token 0x0B, an Integer.
        let code = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("Code");
            w.text("2");
            w.text("00");
            w.close("Code", mark);
        };
        assert_eq!(body(Version::V1_2, code), [0x4B, 0xC3, 0x01, 0xC8, 0x01]);
    }

    #[test]
    fn cached_tags_follow_the_version() {
        // CIR has a token from 1.2 on, and is a literal in 1.1; the cache must not mix them.
        let cir = |w: &mut XmlWriter<'_>| {
            let mark = w.open_static("CIR");
            w.close("CIR", mark);
        };
        for _ in 0..2 {
            let v11 = body(Version::V1_1, cir);
            assert_eq!(v11, [0x04, 0x00], "{v11:02x?}");
            let v12 = body(Version::V1_2, cir);
            assert_eq!(v12[..2], [0x00, 0x09], "{v12:02x?}");
            let dynamic = |w: &mut XmlWriter<'_>| {
                let name = String::from("CIR");
                let mark = w.open(&name);
                w.close(&name, mark);
            };
            assert_eq!(body(Version::V1_2, dynamic), v12);
            assert_eq!(body(Version::V1_1, dynamic), v11);
        }
    }
}
