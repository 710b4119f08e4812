//! The WBXML 1.3 wire primitives CSP needs: global tokens, `mb_u_int32` numbers and the
//! document header (version, public id, charset, string table).

use super::error::WbxmlError;

/// Changes the code page of tags (in content) or attributes (in an attribute list).
pub(crate) const SWITCH_PAGE: u8 = 0x00;
/// Ends an element's content or an attribute list.
pub(crate) const END: u8 = 0x01;
/// A character entity: `mb_u_int32` Unicode scalar value.
pub(crate) const ENTITY: u8 = 0x02;
/// An inline NUL-terminated string.
pub(crate) const STR_I: u8 = 0x03;
/// A tag or attribute name from the string table.
pub(crate) const LITERAL: u8 = 0x04;
/// A processing instruction (skipped).
pub(crate) const PI: u8 = 0x43;
/// An inline-integer extension token (unused by CSP).
pub(crate) const EXT_I_0: u8 = 0x40;
/// An inline-integer extension token (unused by CSP).
pub(crate) const EXT_I_2: u8 = 0x42;
/// A value token: `mb_u_int32` index into the CSP value table.
pub(crate) const EXT_T_0: u8 = 0x80;
/// A table-reference extension token (unused by CSP).
pub(crate) const EXT_T_2: u8 = 0x82;
/// A string-table reference: `mb_u_int32` offset.
pub(crate) const STR_T: u8 = 0x83;
/// A single-byte extension token (unused by CSP).
pub(crate) const EXT_0: u8 = 0xC0;
/// A single-byte extension token (unused by CSP).
pub(crate) const EXT_2: u8 = 0xC2;
/// Opaque data: `mb_u_int32` length then bytes (CSP integers and DateTimes).
pub(crate) const OPAQUE: u8 = 0xC3;
/// Bit of a tag token: the element has attributes.
pub(crate) const HAS_ATTRIBUTES: u8 = 0x80;
/// Bit of a tag token: the element has content.
pub(crate) const HAS_CONTENT: u8 = 0x40;
/// IANA MIBenum of UTF-8.
pub(crate) const UTF8: u32 = 0x6A;
/// IANA MIBenum of US-ASCII (a subset of UTF-8).
pub(crate) const US_ASCII: u32 = 0x03;
/// Public id 1: "unknown or missing".
pub(crate) const PUBLIC_ID_UNKNOWN: u32 = 0x01;
/// The WBXML version written: 1.3.
pub(crate) const WBXML_VERSION: u8 = 0x03;

/// Appends `n` as an `mb_u_int32` (7 bits a byte, most significant first).
#[inline]
pub(crate) fn push_mb_u32(out: &mut Vec<u8>, n: u32) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let mut buf = [0u8; 5];
    let mut i = buf.len() - 1;
    buf[i] = (n & 0x7F) as u8;
    let mut rest = n >> 7;
    while rest != 0 {
        i -= 1;
        buf[i] = 0x80 | (rest & 0x7F) as u8;
        rest >>= 7;
    }
    out.extend_from_slice(&buf[i..]);
}

/// A cursor over a WBXML body: every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        Self { body, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.body.len()
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.body.get(self.pos..).unwrap_or_default()
    }

    /// Skips `n` bytes (at most to the end).
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.body.len());
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.body.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, WbxmlError> {
        let b = self.peek().ok_or(WbxmlError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// An `mb_u_int32`: at most five bytes, no overflow past 32 bits.
    pub(crate) fn mb_u32(&mut self) -> Result<u32, WbxmlError> {
        let mut n: u32 = 0;
        for _ in 0..5 {
            let b = self.byte()?;
            if n > (u32::MAX >> 7) {
                return Err(WbxmlError::NumberTooLarge);
            }
            n = (n << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(WbxmlError::NumberTooLarge)
    }

    /// `len` bytes (a length read from the body, so checked against what is left).
    pub(crate) fn take(&mut self, len: u32) -> Result<&'a [u8], WbxmlError> {
        let len = usize::try_from(len).map_err(|_| WbxmlError::Truncated)?;
        let end = self.pos.checked_add(len).ok_or(WbxmlError::Truncated)?;
        let bytes = self.body.get(self.pos..end).ok_or(WbxmlError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// A NUL-terminated UTF-8 string (the NUL is consumed, not returned).
    pub(crate) fn inline_str(&mut self) -> Result<&'a str, WbxmlError> {
        let rest = self.body.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WbxmlError::Truncated)?;
        self.pos += len + 1;
        std::str::from_utf8(&rest[..len]).map_err(|_| WbxmlError::NotUtf8)
    }
}

/// What a document's header says.
#[derive(Debug, Clone)]
pub(crate) struct Header<'a> {
    /// The public id: a number, or a DOCTYPE-style string from the string table.
    pub(crate) public_id: PublicId<'a>,
    /// The string table.
    pub(crate) strings: StringTable<'a>,
}

/// The public id of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicId<'a> {
    /// A well-known numeric id (0x10..0x12 for CSP, 1 for unknown).
    Number(u32),
    /// A formal public identifier, e.g. `-//OMA//DTD WV-CSP 1.2//EN`.
    Text(&'a str),
}

/// The string table: NUL-terminated strings addressed by byte offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StringTable<'a>(&'a [u8]);

impl<'a> StringTable<'a> {
    /// The string starting at `offset`.
    pub(crate) fn get(&self, offset: u32) -> Result<&'a str, WbxmlError> {
        let start = usize::try_from(offset).map_err(|_| WbxmlError::BadStringRef(offset))?;
        let rest = self
            .0
            .get(start..)
            .ok_or(WbxmlError::BadStringRef(offset))?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WbxmlError::BadStringRef(offset))?;
        std::str::from_utf8(&rest[..len]).map_err(|_| WbxmlError::NotUtf8)
    }
}

/// Reads the header; leaves `cursor` on the first body token.
pub(crate) fn read_header<'a>(cursor: &mut Cursor<'a>) -> Result<Header<'a>, WbxmlError> {
    let version = cursor.byte()?;
    if !(0x01..=0x03).contains(&version) {
        return Err(WbxmlError::Version(version));
    }
    let id = cursor.mb_u32()?;
    let id_ref = if id == 0 {
        Some(cursor.mb_u32()?)
    } else {
        None
    };
    let charset = cursor.mb_u32()?;
    if charset != UTF8 && charset != US_ASCII {
        return Err(WbxmlError::Charset(charset));
    }
    let len = cursor.mb_u32()?;
    let strings = StringTable(cursor.take(len)?);
    let public_id = match id_ref {
        Some(offset) => PublicId::Text(strings.get(offset)?),
        None => PublicId::Number(id),
    };
    Ok(Header { public_id, strings })
}

/// Appends the fixed part of a header (version, public id, UTF-8); the string table length
/// and table follow, written by the caller once the body is known.
pub(crate) fn push_header_start(out: &mut Vec<u8>, public_id: u32) {
    out.push(WBXML_VERSION);
    push_mb_u32(out, public_id);
    push_mb_u32(out, UTF8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mb_u32_round_trips_and_rejects_overflow() {
        for n in [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x0FFF_FFFF, u32::MAX] {
            let mut buf = Vec::new();
            push_mb_u32(&mut buf, n);
            let mut c = Cursor::new(&buf);
            assert_eq!(c.mb_u32(), Ok(n));
            assert!(c.at_end());
        }
        assert_eq!(
            Cursor::new(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x00]).mb_u32(),
            Err(WbxmlError::NumberTooLarge)
        );
        assert_eq!(
            Cursor::new(&[0x90, 0x80, 0x80, 0x80, 0x00]).mb_u32(),
            Err(WbxmlError::NumberTooLarge)
        );
        assert_eq!(Cursor::new(&[0x81]).mb_u32(), Err(WbxmlError::Truncated));
    }

    #[test]
    fn header_with_text_public_id() {
        let mut body = vec![0x03, 0x00, 0x00, 0x6A, 0x04];
        body.extend_from_slice(b"abc\0");
        let mut c = Cursor::new(&body);
        let h = read_header(&mut c).expect("header");
        assert_eq!(h.public_id, PublicId::Text("abc"));
        assert!(c.at_end());
        let huge = [0x03, 0x11, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F];
        assert_eq!(
            read_header(&mut Cursor::new(&huge)).err(),
            Some(WbxmlError::Truncated)
        );
    }
}
