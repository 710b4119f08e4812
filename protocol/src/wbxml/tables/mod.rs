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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TextKind {
    /// Strings, value tokens, entities.
    #[default]
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
    // Every prefix is one of two bases and a name; the bases differ at their 12th byte.
    const OMA: &str = "http://www.openmobilealliance.org/DTD/";
    const WV: &str = "http://www.wireless-village.org/";
    let (names, rest): (&[(u8, &str)], &str) = if let Some(rest) = value.strip_prefix(OMA) {
        (
            &[
                (0x08, "WV-CSP"),
                (0x09, "WV-PA"),
                (0x0A, "WV-TRC"),
                (0x0B, "IMPS-CSP"),
                (0x0C, "IMPS-PA"),
                (0x0D, "IMPS-TRC"),
            ],
            rest,
        )
    } else if let Some(rest) = value.strip_prefix(WV) {
        (&[(0x05, "CSP"), (0x06, "PA"), (0x07, "TRC")], rest)
    } else {
        return None;
    };
    names.iter().find_map(|(token, name)| {
        rest.strip_prefix(name)
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
/// open addressing over a fingerprint of the name (its length and first and last eight
/// bytes, which for names up to 16 bytes are the whole name), so a lookup costs a few loads
/// and compares, with no call.
#[derive(Debug, Clone)]
struct NameTable<V: Copy> {
    slots: Box<[Slot<V>]>,
    mask: usize,
    shift: u32,
    /// Bit [`NameTable::filter_bit`] set for every name: most texts that are no name are
    /// told apart by a single load (the value table is asked about every text).
    filter: [u64; 8],
}

/// A slot; vacant when `name` is empty.
#[derive(Debug, Clone, Copy)]
struct Slot<V: Copy> {
    words: (u64, u64),
    name: &'static [u8],
    value: V,
}

/// Two words that, with the length, tell apart any two names of up to 16 bytes: the first
/// and last eight bytes (for shorter names, overlapping four-byte or single-byte loads).
#[inline]
fn words(bytes: &[u8]) -> (u64, u64) {
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        return (u64::from_le_bytes(*head), u64::from_le_bytes(*tail));
    }
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        let (head, tail) = (u32::from_le_bytes(*head), u32::from_le_bytes(*tail));
        return (u64::from(head) | (u64::from(tail) << 32), 0);
    }
    let n = bytes.len();
    let (a, b, c) = match *bytes {
        [a] => (a, a, a),
        [a, b] => (a, b, b),
        [a, b, c, ..] => (a, b, c),
        [] => return (0, 0),
    };
    (
        u64::from(a) | (u64::from(b) << 8) | (u64::from(c) << 16) | ((n as u64) << 24),
        0,
    )
}

#[inline]
fn fingerprint_hash((head, tail): (u64, u64), len: usize) -> u64 {
    (head ^ tail.rotate_left(29) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl<V: Copy + Default> NameTable<V> {
    /// A table of `entries`; the first entry of a name wins.
    fn new(entries: impl Iterator<Item = (&'static str, V)>) -> Self {
        let entries: Vec<_> = entries.filter(|(name, _)| !name.is_empty()).collect();
        let size = (entries.len() * 2).next_power_of_two().max(16);
        let vacant = Slot {
            words: (0, 0),
            name: &[],
            value: V::default(),
        };
        let mut table = Self {
            slots: vec![vacant; size].into_boxed_slice(),
            mask: size - 1,
            shift: 64 - size.trailing_zeros(),
            filter: [0; 8],
        };
        for (name, value) in entries {
            let name = name.as_bytes();
            let bit = Self::filter_bit(name);
            table.filter[bit / 64] |= 1 << (bit % 64);
            let words = words(name);
            let mut at = table.home(words, name.len());
            while let Some(slot) = table.slots.get_mut(at) {
                if slot.name.is_empty() {
                    *slot = Slot { words, name, value };
                    break;
                }
                if slot.name == name {
                    break;
                }
                at = (at + 1) & table.mask;
            }
        }
        table
    }

    #[inline]
    fn home(&self, words: (u64, u64), len: usize) -> usize {
        (fingerprint_hash(words, len) >> self.shift) as usize
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Option<V> {
        if name.is_empty() {
            return None;
        }
        let words = words(name);
        let mut at = self.home(words, name.len());
        loop {
            let slot = self.slots.get(at)?;
            if slot.words == words
                && slot.name.len() == name.len()
                && (name.len() <= 16 || slot.name.get(8..) == name.get(8..))
            {
                return Some(slot.value);
            }
            if slot.name.is_empty() {
                return None;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// The filter bit of a name: from its length and first and last bytes.
    #[inline]
    fn filter_bit(name: &[u8]) -> usize {
        let (first, last) = match name {
            [first, .., last] => (*first, *last),
            [only] => (*only, *only),
            [] => (0, 0),
        };
        let key = u32::from(first) | (u32::from(last) << 8) | ((name.len() as u32) << 16);
        (key.wrapping_mul(0x9E37_79B1) >> 23) as usize
    }

    /// False when `name` is certainly not in the table.
    #[inline]
    fn may_contain(&self, name: &[u8]) -> bool {
        let bit = Self::filter_bit(name);
        self.filter[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// Number of code pages (0x00..=0x0B).
const PAGES: usize = 12;

/// Where a tag is written.
#[derive(Debug, Clone, Copy, Default)]
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
    value_by_byte: [Option<u32>; 256],
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
        let mut value_by_byte = [None; 256];
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
    #[inline(always)]
    pub(crate) fn value_token(&self, text: &[u8]) -> Option<u32> {
        match text {
            [b] => self.value_by_byte[usize::from(*b)],
            [_, ..] if text.len() <= 32 && self.value_by_text.may_contain(text) => {
                self.long_value_token(text)
            }
            _ => None,
        }
    }

    #[inline(never)]
    fn long_value_token(&self, text: &[u8]) -> Option<u32> {
        self.value_by_text.get(text)
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
    fn every_name_and_value_is_found() {
        for v in Version::ALL {
            let d = dictionary(v);
            let (tags, values) = match v {
                Version::V1_1 | Version::V1_2 => (csp12::TAGS, csp12::VALUES),
                Version::V1_3 => (csp13::TAGS, csp13::VALUES),
            };
            for tag in tags {
                if v == Version::V1_1 && tag.since_1_2 {
                    continue;
                }
                let code = d.tag(tag.name).expect(tag.name);
                let (name, _) = d.name(code.page, code.token).expect(tag.name);
                assert_eq!(name, tag.name);
                // Names differing in one byte, or one byte longer or shorter, are other names.
                let mut other = tag.name.as_bytes().to_vec();
                other.push(b'x');
                assert!(
                    d.by_name.get(&other).is_none()
                        || tags.iter().any(|t| t.name.as_bytes() == other)
                );
                other.pop();
                other.pop();
                assert!(
                    d.by_name.get(&other).is_none()
                        || tags.iter().any(|t| t.name.as_bytes() == other)
                );
            }
            for (index, text) in values {
                let found = d.value_token(text.as_bytes()).expect(text);
                assert_eq!(d.value(found), Some(*text), "{index:#x}");
            }
            assert!(d.tag("").is_none());
            assert_eq!(d.value_token(b""), None);
        }
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
            namespace_token("http://www.wireless-village.org/TRC1.1"),
            Some((0x07, "1.1"))
        );
        assert_eq!(
            namespace_token("http://www.openmobilealliance.org/DTD/WV-CSP/1.2"),
            None
        );
        for (token, prefix) in NAMESPACES {
            assert_eq!(namespace_token(prefix), Some((*token, "")));
            let value = format!("{prefix}1.3");
            assert_eq!(namespace_token(&value), Some((*token, "1.3")));
            assert_eq!(namespace_token(&value[..value.len() - 5]), None);
        }
        assert_eq!(
            namespace_prefix(0x07),
            Some("http://www.wireless-village.org/TRC")
        );
        assert_eq!(namespace_prefix(0x0E), None);
    }
}
