//! The canonical XML writer: compact, UTF-8, every special character escaped, into a
//! caller-supplied buffer. Made by the WBXML encoder ([`crate::wbxml`]), the same writer
//! produces WBXML tokens: element encoders need not know which encoding they write.

use crate::version::Version;
use crate::wbxml::writer::TokenSink;

/// Writes elements into a byte buffer. Elements whose content turns out empty are closed as
/// `<Tag/>`.
pub struct XmlWriter<'b> {
    out: &'b mut Vec<u8>,
    version: Version,
    wbxml: Option<TokenSink>,
}

impl<'b> XmlWriter<'b> {
    /// A writer appending to `out`, for messages of `version`.
    pub fn new(out: &'b mut Vec<u8>, version: Version) -> Self {
        Self {
            out,
            version,
            wbxml: None,
        }
    }

    /// A writer appending WBXML tokens of `version` to `out` (after a header the caller
    /// wrote); [`XmlWriter::finish_wbxml`] completes the header.
    pub(crate) fn wbxml(out: &'b mut Vec<u8>, version: Version) -> Self {
        Self {
            out,
            version,
            wbxml: Some(TokenSink::new(version)),
        }
    }

    /// Completes a WBXML message: inserts the string table at `table_at`, the offset just
    /// after the header's charset. Does nothing for XML.
    pub(crate) fn finish_wbxml(self, table_at: usize) {
        if let Some(sink) = self.wbxml {
            sink.finish(self.out, table_at);
        }
    }

    /// The version being written.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Appends raw markup (in WBXML, which has no markup, it is written as text).
    pub fn raw(&mut self, markup: &str) {
        match &mut self.wbxml {
            Some(sink) => sink
                .text_buffer(self.out)
                .extend_from_slice(markup.as_bytes()),
            None => self.out.extend_from_slice(markup.as_bytes()),
        }
    }

    /// Opens `<tag` and leaves it open for attributes; finish with [`XmlWriter::end_start`].
    pub fn begin_start(&mut self, tag: &str) {
        if let Some(sink) = &mut self.wbxml {
            sink.begin(self.out, tag);
            return;
        }
        self.out.push(b'<');
        self.out.extend_from_slice(tag.as_bytes());
    }

    /// Writes ` name="value"` inside an open start tag.
    pub fn attribute(&mut self, name: &str, value: &str) {
        if let Some(sink) = &mut self.wbxml {
            sink.attribute(self.out, name, value);
            return;
        }
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"=\"");
        escape_into(self.out, value, true);
        self.out.push(b'"');
    }

    /// Closes the start tag and returns a mark for [`XmlWriter::close`].
    pub fn end_start(&mut self) -> usize {
        if let Some(sink) = &mut self.wbxml {
            return sink.end_start(self.out);
        }
        self.out.push(b'>');
        self.out.len()
    }

    /// `<tag>`; returns a mark for [`XmlWriter::close`].
    #[inline]
    pub fn open(&mut self, tag: &str) -> usize {
        if let Some(sink) = &mut self.wbxml {
            return sink.open(self.out, tag);
        }
        self.open_xml(tag)
    }

    /// [`XmlWriter::open`] for a tag known at compile time (what element encoders write):
    /// in WBXML its token comes from a per-thread cache keyed by the string's address (a
    /// `'static` string never changes) rather than from a lookup by name.
    #[inline]
    pub fn open_static(&mut self, tag: &'static str) -> usize {
        if let Some(sink) = &mut self.wbxml {
            return sink.open_static(self.out, tag);
        }
        self.open_xml(tag)
    }

    /// The XML side of the methods above.
    #[inline(never)]
    fn open_xml(&mut self, tag: &str) -> usize {
        self.out.push(b'<');
        self.out.extend_from_slice(tag.as_bytes());
        self.out.push(b'>');
        self.out.len()
    }

    /// `</tag>`, or turns the start tag into `<tag/>` when nothing was written since `mark`.
    #[inline]
    pub fn close(&mut self, tag: &str, mark: usize) {
        if let Some(sink) = &mut self.wbxml {
            sink.close(self.out, mark);
            return;
        }
        self.close_xml(tag, mark);
    }

    #[inline(never)]
    fn close_xml(&mut self, tag: &str, mark: usize) {
        if self.out.len() == mark {
            self.out.pop();
            self.out.extend_from_slice(b"/>");
        } else {
            self.out.extend_from_slice(b"</");
            self.out.extend_from_slice(tag.as_bytes());
            self.out.push(b'>');
        }
    }

    /// Escaped text content.
    #[inline]
    pub fn text(&mut self, text: &str) {
        if let Some(sink) = &mut self.wbxml {
            sink.text(self.out, text);
            return;
        }
        escape_into(self.out, text, false);
    }

    /// `<tag>text</tag>`.
    pub fn text_element(&mut self, tag: &str, text: &str) {
        let mark = self.open(tag);
        self.text(text);
        self.close(tag, mark);
    }

    /// Appends to the buffer through `fmt::Write` (numbers, dates).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        match &mut self.wbxml {
            Some(sink) => sink.text_buffer(self.out),
            None => self.out,
        }
    }
}

/// Escapes `&`, `<`, `>` (and `"` in attributes); also `\r` so that it survives a reader's
/// line-end normalization, and in attributes tab and line feed, which a reader's attribute
/// value normalization would turn into spaces.
fn escape_into(out: &mut Vec<u8>, text: &str, attribute: bool) {
    let bytes = text.as_bytes();
    let needs = |b: u8| {
        matches!(b, b'&' | b'<' | b'>' | b'\r') || (attribute && matches!(b, b'"' | b'\t' | b'\n'))
    };
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if needs(b) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(match b {
                b'&' => b"&amp;",
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'\r' => b"&#13;",
                b'\t' => b"&#9;",
                b'\n' => b"&#10;",
                _ => b"&quot;",
            });
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_self_closes() {
        let mut buf = Vec::new();
        let mut w = XmlWriter::new(&mut buf, Version::V1_2);
        let outer = w.open("A");
        w.text_element("B", "x<y & \"z\">");
        let inner = w.open("C");
        w.close("C", inner);
        w.begin_start("D");
        w.attribute("k", "a\"b\tc\nd");
        let mark = w.end_start();
        w.close("D", mark);
        w.close("A", outer);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "<A><B>x&lt;y &amp; \"z\"&gt;</B><C/><D k=\"a&quot;b&#9;c&#10;d\"/></A>"
        );
    }
}
