//! The CSP token tables, per version, and the lookups built from them: tag name to
//! (code page, token), token to name, the namespace attribute tokens, and the `EXT_T_0`
//! value tokens. Which elements carry integers or DateTimes as OPAQUE is decided here too.
//!
//! Sources (token values only): libwbxml `src/wbxml_tables.c` for CSP 1.1 and 1.2 (one
//! table for both; 1.2 additions marked), Android `libwbxml/include/csp13_data.h` for 1.3,
//! Wireshark `packet-wbxml.c` for the OPAQUE element lists.

mod csp12;
mod csp13;

use std::sync::OnceLock;

use crate::version::Version;

/// One tag of a code page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag {
    page: u8,
    token: u8,
    name: &'static str,
    /// Not part of CSP 1.1 (only meaningful in the shared 1.1/1.2 table).
    since_1_2: bool,
}

impl Tag {
    /// A tag defined since the table's first version.
    const fn new(page: u8, token: u8, name: &'static str) -> Self {
        Self {
            page,
            token,
            name,
            since_1_2: false,
        }
    }

    /// A tag CSP 1.2 added to the shared 1.1/1.2 table.
    const fn v12(page: u8, token: u8, name: &'static str) -> Self {
        Self {
            page,
            token,
            name,
            since_1_2: true,
        }
    }
}

/// How an element's text travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// Strings, value tokens, entities.
    Plain,
    /// A CSP Integer: OPAQUE big-endian.
    Integer,
    /// A CSP DateTime: OPAQUE packed date and zone.
    DateTime,
}

/// Integer elements sent as OPAQUE, with the first version that does so (Wireshark's
/// `wv_cspNN_opaque_*_tag` lists).
const INTEGERS: &[(&str, Version)] = &[
    ("Code", Version::V1_1),
    ("ContentSize", Version::V1_1),
    ("MessageCount", Version::V1_1),
    ("Validity", Version::V1_1),
    ("KeepAliveTime", Version::V1_1),
    ("TimeToLive", Version::V1_1),
    ("AcceptedContentLength", Version::V1_1),
    ("MultiTrans", Version::V1_1),
    ("ParserSize", Version::V1_1),
    ("ServerPollMin", Version::V1_1),
    ("TCPPort", Version::V1_1),
    ("UDPPort", Version::V1_1),
    ("HistoryPeriod", Version::V1_2),
    ("MaxWatcherList", Version::V1_2),
    ("SearchFindings", Version::V1_3),
    ("SearchID", Version::V1_3),
    ("SearchIndex", Version::V1_3),
    ("SearchLimit", Version::V1_3),
    ("AcceptedPullLength", Version::V1_3),
    ("AcceptedPushLength", Version::V1_3),
    ("AcceptedRichContentLength", Version::V1_3),
    ("AcceptedTextContentLength", Version::V1_3),
    ("SessionPriority", Version::V1_3),
    ("UserSessionLimit", Version::V1_3),
    ("MultiTransPerMessage", Version::V1_3),
    ("ContentPolicyLimit", Version::V1_3),
    ("AnswerOptionID", Version::V1_3),
    ("SegmentCount", Version::V1_3),
    ("SegmentReference", Version::V1_3),
    ("TryAgainTimeout", Version::V1_3),
    ("GroupContentLimit", Version::V1_3),
    ("MessageTotalCount", Version::V1_3),
    ("PairID", Version::V1_3),
    ("ClientContentLimit", Version::V1_3),
    ("MaxPullLength", Version::V1_3),
    ("MaxPushLength", Version::V1_3),
];

/// DateTime elements sent as OPAQUE (every version).
const DATETIMES: &[&str] = &["DateTime", "DeliveryTime"];

/// The `xmlns` attribute-start tokens of code page 0: each stands for a namespace prefix,
/// the version suffix (`1.2`, ...) follows as a string.
pub(crate) const NAMESPACES: &[(u8, &str)] = &[
    (0x05, "http://www.wireless-village.org/CSP"),
    (0x06, "http://www.wireless-village.org/PA"),
    (0x07, "http://www.wireless-village.org/TRC"),
    (0x08, "http://www.openmobilealliance.org/DTD/WV-CSP"),
    (0x09, "http://www.openmobilealliance.org/DTD/WV-PA"),
    (0x0A, "http://www.openmobilealliance.org/DTD/WV-TRC"),
    (0x0B, "http://www.openmobilealliance.org/DTD/IMPS-CSP"),
    (0x0C, "http://www.openmobilealliance.org/DTD/IMPS-PA"),
    (0x0D, "http://www.openmobilealliance.org/DTD/IMPS-TRC"),
];

/// The namespace prefix an attribute-start token of page 0 stands for.
pub(crate) fn namespace_prefix(token: u8) -> Option<&'static str> {
    NAMESPACES
        .iter()
        .find(|(t, _)| *t == token)
        .map(|(_, prefix)| *prefix)
}

/// The attribute-start token and the suffix left to write for an `xmlns` value.
pub(crate) fn namespace_token(value: &str) -> Option<(u8, &str)> {
    NAMESPACES.iter().rev().find_map(|(token, prefix)| {
        value
            .strip_prefix(prefix)
            .filter(|suffix| !suffix.starts_with('/'))
            .map(|suffix| (*token, suffix))
    })
}

/// The kind of text an element carries when read: the union over every version, so that
/// any encoder's habit decodes.
fn read_kind(name: &str) -> TextKind {
    if DATETIMES.contains(&name) {
        TextKind::DateTime
    } else if INTEGERS.iter().any(|(n, _)| *n == name) {
        TextKind::Integer
    } else {
        TextKind::Plain
    }
}

/// The kind of text an element carries when written in `version`.
fn write_kind(name: &str, version: Version) -> TextKind {
    if DATETIMES.contains(&name) {
        TextKind::DateTime
    } else if INTEGERS.iter().any(|(n, v)| *n == name && *v <= version) {
        TextKind::Integer
    } else {
        TextKind::Plain
    }
}

/// A name-keyed table for the writer's lookups (every element and text of every message):
/// open addressing over a hash of the length and the first and last eight bytes, and a
/// word-wise comparison, so a lookup costs a few loads.
#[derive(Debug, Clone)]
struct NameTable<V: Copy> {
    slots: Vec<Option<(&'static [u8], V)>>,
    mask: usize,
    /// Bit `n` set when some name is `n` bytes long (names up to 63 bytes).
    lengths: u64,
    /// Bit `b` set when some name starts with byte `b`.
    firsts: [u64; 4],
}

/// The first eight bytes of `bytes` (zero-padded) as a little-endian word, without a loop.
#[inline]
fn head_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    if let Some(chunk) = bytes.first_chunk::<8>() {
        return u64::from_le_bytes(*chunk);
    }
    // Two overlapping loads cover 2..=7 bytes; the overlap holds the same bytes.
    if let (Some(lo), Some(hi)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        let (lo, hi) = (u32::from_le_bytes(*lo), u32::from_le_bytes(*hi));
        return u64::from(lo) | (u64::from(hi) << ((n - 4) * 8));
    }
    if let (Some(lo), Some(hi)) = (bytes.first_chunk::<2>(), bytes.last_chunk::<2>()) {
        let (lo, hi) = (u16::from_le_bytes(*lo), u16::from_le_bytes(*hi));
        return u64::from(lo) | (u64::from(hi) << ((n - 2) * 8));
    }
    bytes.first().map_or(0, |&b| u64::from(b))
}

/// The last eight bytes of `bytes` (zero-padded) as a little-endian word.
#[inline]
fn tail_word(bytes: &[u8]) -> u64 {
    match bytes.last_chunk::<8>() {
        Some(chunk) => u64::from_le_bytes(*chunk),
        None => head_word(bytes),
    }
}

#[inline]
fn name_hash(bytes: &[u8]) -> usize {
    let mixed = (head_word(bytes) ^ tail_word(bytes).rotate_left(29) ^ bytes.len() as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 32) as usize
}

/// Equality of two names, by eight-byte words.
#[inline]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || head_word(a) != head_word(b) || tail_word(a) != tail_word(b) {
        return false;
    }
    // Head and tail words cover up to 16 bytes; longer names compare their middle too.
    a.len() <= 16
        || a[8..]
            .chunks(8)
            .zip(b[8..].chunks(8))
            .all(|(x, y)| head_word(x) == head_word(y))
}

impl<V: Copy> NameTable<V> {
    /// A table of `entries`; the first entry of a name wins.
    fn new(entries: impl Iterator<Item = (&'static str, V)>) -> Self {
        let entries: Vec<_> = entries.collect();
        let size = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = Self {
            slots: vec![None; size],
            mask: size - 1,
            lengths: 0,
            firsts: [0; 4],
        };
        for (name, value) in entries {
            table.lengths |= 1u64.checked_shl(name.len() as u32).unwrap_or(0);
            if let Some(&b) = name.as_bytes().first() {
                table.firsts[usize::from(b >> 6)] |= 1 << (b & 63);
            }
            let mut at = name_hash(name.as_bytes()) & table.mask;
            loop {
                match &table.slots[at] {
                    Some((key, _)) if same_name(key, name.as_bytes()) => break,
                    Some(_) => at = (at + 1) & table.mask,
                    None => {
                        table.slots[at] = Some((name.as_bytes(), value));
                        break;
                    }
                }
            }
        }
        table
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Option<V> {
        let first = *name.first()?;
        let length_known = self.lengths & 1u64.checked_shl(name.len() as u32).unwrap_or(0) != 0;
        if !length_known || self.firsts[usize::from(first >> 6)] & (1 << (first & 63)) == 0 {
            return None;
        }
        let mut at = name_hash(name) & self.mask;
        loop {
            match self.slots.get(at)? {
                Some((key, value)) if same_name(key, name) => return Some(*value),
                Some(_) => at = (at + 1) & self.mask,
                None => return None,
            }
        }
    }
}

/// Number of code pages (0x00..=0x0B).
const PAGES: usize = 12;

/// Where a tag is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagCode {
    /// Code page.
    pub(crate) page: u8,
    /// Token (without attribute/content bits).
    pub(crate) token: u8,
    /// How its text is written.
    pub(crate) kind: TextKind,
}

/// A version's tables, indexed both ways.
pub(crate) struct Dictionary {
    by_name: NameTable<TagCode>,
    by_token: Vec<Option<(&'static str, TextKind)>>,
    value_by_text: NameTable<u32>,
    /// The value tokens of one-byte values (`T`, `F`, ...), by byte.
    value_by_byte: Vec<Option<u32>>,
    values: Vec<Option<&'static str>>,
}

impl Dictionary {
    fn build(version: Version) -> Self {
        let (tags, values): (&[Tag], &[(u32, &'static str)]) = match version {
            Version::V1_1 | Version::V1_2 => (csp12::TAGS, csp12::VALUES),
            Version::V1_3 => (csp13::TAGS, csp13::VALUES),
        };
        let mut by_token = vec![None; PAGES * 64];
        for tag in tags {
            let slot = usize::from(tag.page) * 64 + usize::from(tag.token & 0x3F);
            if let Some(entry) = by_token.get_mut(slot) {
                *entry = Some((tag.name, read_kind(tag.name)));
            }
        }
        let by_name = NameTable::new(
            tags.iter()
                .filter(|tag| version != Version::V1_1 || !tag.since_1_2)
                .map(|tag| {
                    let code = TagCode {
                        page: tag.page,
                        token: tag.token,
                        kind: write_kind(tag.name, version),
                    };
                    (tag.name, code)
                }),
        );
        let value_by_text = NameTable::new(values.iter().map(|&(index, text)| (text, index)));
        let mut value_by_byte = vec![None; 256];
        for &(index, text) in values.iter().rev() {
            if let [b] = text.as_bytes() {
                value_by_byte[usize::from(*b)] = Some(index);
            }
        }
        // Read: the version's values, then the 1.3 ones for indices it leaves undefined
        // (Android sends SSMS/SHTTP as 0xA4/0xA5 in 1.2 messages too).
        let size = values
            .iter()
            .chain(csp13::VALUES)
            .map(|(i, _)| *i as usize + 1)
            .max()
            .unwrap_or(0);
        let mut by_index = vec![None; size];
        for &(index, text) in values.iter().chain(csp13::VALUES) {
            if let Some(slot @ None) = by_index.get_mut(index as usize) {
                *slot = Some(text);
            }
        }
        Self {
            by_name,
            by_token,
            value_by_text,
            value_by_byte,
            values: by_index,
        }
    }

    /// Where `name` is written, if the version has a token for it.
    #[inline]
    pub(crate) fn tag(&self, name: &str) -> Option<TagCode> {
        self.by_name.get(name.as_bytes())
    }

    /// The name and text kind of a token read on `page`.
    pub(crate) fn name(&self, page: u8, token: u8) -> Option<(&'static str, TextKind)> {
        let slot = usize::from(page) * 64 + usize::from(token & 0x3F);
        self.by_token.get(slot).copied().flatten()
    }

    /// The text kind of an element read under a literal (string-table) name.
    pub(crate) fn literal_kind(&self, name: &str) -> TextKind {
        read_kind(name)
    }

    /// The `EXT_T_0` index of a text, when the whole text is a predefined value.
    #[inline]
    pub(crate) fn value_token(&self, text: &[u8]) -> Option<u32> {
        match text {
            [b] => self.value_by_byte.get(usize::from(*b)).copied().flatten(),
            _ if text.len() > 32 => None,
            _ => self.value_by_text.get(text),
        }
    }

    /// The text of an `EXT_T_0` index.
    pub(crate) fn value(&self, index: u32) -> Option<&'static str> {
        self.values.get(index as usize).copied().flatten()
    }
}

/// The tables of `version` (built once).
pub(crate) fn dictionary(version: Version) -> &'static Dictionary {
    static V11: OnceLock<Dictionary> = OnceLock::new();
    static V12: OnceLock<Dictionary> = OnceLock::new();
    static V13: OnceLock<Dictionary> = OnceLock::new();
    let cell = match version {
        Version::V1_1 => &V11,
        Version::V1_2 => &V12,
        Version::V1_3 => &V13,
    };
    cell.get_or_init(|| Dictionary::build(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_tokens_match_the_spec() {
        for v in Version::ALL {
            let d = dictionary(v);
            for (name, page, token) in [
                ("WV-CSP-Message", 0, 0x09),
                ("Session", 0, 0x2D),
                ("TransactionContent", 0, 0x33),
                ("Poll", 0, 0x21),
                ("Code", 0, 0x0B),
                ("Login-Request", 1, 0x1D),
                ("KeepAlive-Response", 1, 0x29),
            ] {
                let code = d.tag(name).expect(name);
                assert_eq!((code.page, code.token), (page, token), "{name} in {v}");
                assert_eq!(d.name(page, token).map(|(n, _)| n), Some(name));
            }
            assert_eq!(d.tag("Code").map(|c| c.kind), Some(TextKind::Integer));
            assert_eq!(d.tag("DateTime").map(|c| c.kind), Some(TextKind::DateTime));
            assert_eq!(d.value_token(b"T"), Some(0x2C));
            assert_eq!(d.value_token(b"Outband"), Some(0x19));
            assert_eq!(d.value(0x0B), Some("F"));
        }
        assert!(dictionary(Version::V1_1).tag("CIR").is_none());
        assert_eq!(
            dictionary(Version::V1_2).tag("CIR").map(|c| c.page),
            Some(9)
        );
        assert_eq!(dictionary(Version::V1_3).value_token(b"SHTTP"), Some(0xA5));
        assert_eq!(dictionary(Version::V1_2).value_token(b"SHTTP"), None);
        assert_eq!(dictionary(Version::V1_2).value(0xA5), Some("SHTTP"));
        assert_eq!(dictionary(Version::V1_2).value(0x77), Some("VIDEO_STREAM"));
        assert_eq!(
            dictionary(Version::V1_3).tag("SearchID").map(|c| c.kind),
            Some(TextKind::Integer)
        );
        assert_eq!(
            dictionary(Version::V1_2).tag("SearchID").map(|c| c.kind),
            Some(TextKind::Plain)
        );
    }

    #[test]
    fn namespaces_split_into_token_and_suffix() {
        assert_eq!(
            namespace_token("http://www.openmobilealliance.org/DTD/WV-CSP1.2"),
            Some((0x08, "1.2"))
        );
        assert_eq!(
            namespace_token("http://www.openmobilealliance.org/DTD/IMPS-PA1.3"),
            Some((0x0C, "1.3"))
        );
        assert_eq!(namespace_token("http://example.com/x"), None);
        assert_eq!(
            namespace_prefix(0x07),
            Some("http://www.wireless-village.org/TRC")
        );
        assert_eq!(namespace_prefix(0x0E), None);
    }
}
