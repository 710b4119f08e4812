//! CSP integers and DateTimes as WBXML OPAQUE data.
//!
//! An Integer is big-endian, minimal length when written (1 to 4 bytes; Android writes 0 as
//! one zero byte). Any length is read, zero-length meaning 0, as long as the value fits 64
//! bits. A DateTime is 5 packed bytes (2 reserved bits, year 12, month 4, day 5, hour 5,
//! minute 6, second 6) and a zone byte (`Z`, another military letter, or 0 for none).

use std::borrow::Cow;

use super::wire::OPAQUE;

/// The numbers below [`SMALL`], each as four zero-padded decimal digits.
static SMALL_DIGITS: [u8; SMALL as usize * 4] = {
    let mut digits = [0u8; SMALL as usize * 4];
    let mut n = 0;
    while n < SMALL as usize {
        digits[n * 4] = b'0' + (n / 1000) as u8;
        digits[n * 4 + 1] = b'0' + (n / 100 % 10) as u8;
        digits[n * 4 + 2] = b'0' + (n / 10 % 10) as u8;
        digits[n * 4 + 3] = b'0' + (n % 10) as u8;
        n += 1;
    }
    digits
};

/// Integers below this have static text.
const SMALL: u64 = 10_000;

/// The decimal text of an opaque integer, `None` when it does not fit 64 bits. Small ones
/// (most of what CSP sends: status codes, sizes, times) are not allocated.
pub(crate) fn integer_text(bytes: &[u8]) -> Option<Cow<'static, str>> {
    let significant = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => &[],
    };
    if significant.len() > 8 {
        return None;
    }
    let n = significant
        .iter()
        .fold(0u64, |n, &b| (n << 8) | u64::from(b));
    if n < SMALL {
        let width = match n {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            _ => 4,
        };
        let at = n as usize * 4;
        let digits = SMALL_DIGITS.get(at + 4 - width..at + 4)?;
        if let Ok(text) = std::str::from_utf8(digits) {
            return Some(Cow::Borrowed(text));
        }
    }
    Some(Cow::Owned(n.to_string()))
}

/// The value of `text` when it is a canonical decimal that fits 32 bits (what every decoder
/// reads as an opaque integer).
pub(crate) fn integer_value(text: &[u8]) -> Option<u32> {
    let canonical = !text.is_empty()
        && text.len() <= 10
        && text.iter().all(u8::is_ascii_digit)
        && (text[0] != b'0' || text.len() == 1);
    if !canonical {
        return None;
    }
    let n = text.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    u32::try_from(n).ok()
}

/// Writes `n` as an opaque integer, big-endian, minimal length.
pub(crate) fn push_integer(n: u32, out: &mut Vec<u8>) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take(3).take_while(|&&b| b == 0).count();
    out.push(OPAQUE);
    out.push((4 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// The ISO 8601 basic text (`YYYYMMDDTHHMMSS` and the zone letter, if any) of an opaque
/// DateTime, `None` when the data is no DateTime.
pub(crate) fn datetime_text(bytes: &[u8]) -> Option<String> {
    let (packed, zone) = match bytes {
        [a, b, c, d, e] => ([*a, *b, *c, *d, *e], 0),
        [a, b, c, d, e, z] => ([*a, *b, *c, *d, *e], *z),
        _ => return None,
    };
    let bits = packed.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    let year = (bits >> 26) & 0xFFF;
    let month = (bits >> 22) & 0xF;
    let day = (bits >> 17) & 0x1F;
    let hour = (bits >> 12) & 0x1F;
    let minute = (bits >> 6) & 0x3F;
    let second = bits & 0x3F;
    let mut text = String::with_capacity(16);
    // Every field fits its width: year 12 bits, the others at most 6.
    let digits = |text: &mut String, n: u64, width: u32| {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (n / 10u64.pow(place) % 10) as u8));
        }
    };
    digits(&mut text, year, 4);
    digits(&mut text, month, 2);
    digits(&mut text, day, 2);
    text.push('T');
    digits(&mut text, hour, 2);
    digits(&mut text, minute, 2);
    digits(&mut text, second, 2);
    match zone {
        0 => {}
        b'A'..=b'Z' => text.push(char::from(zone)),
        _ => return None,
    }
    Some(text)
}

/// The packed bits and zone byte of `text` when it is exactly `YYYYMMDDTHHMMSS` with an
/// optional zone letter and every field fits its bits.
pub(crate) fn datetime_value(text: &[u8]) -> Option<(u64, u8)> {
    let (fields, zone) = match text {
        [body @ .., z] if text.len() == 16 && z.is_ascii_uppercase() && *z != b'J' => (body, *z),
        _ if text.len() == 15 => (text, 0),
        _ => return None,
    };
    if fields.get(8) != Some(&b'T') {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = fields.get(range)?;
        part.iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if year > 0xFFF || month > 15 || day > 31 || hour > 31 || minute > 63 || second > 63 {
        return None;
    }
    let bits = (year << 26) | (month << 22) | (day << 17) | (hour << 12) | (minute << 6) | second;
    Some((bits, zone))
}

/// Writes packed DateTime bits and a zone byte as a 6-byte opaque DateTime.
pub(crate) fn push_datetime((bits, zone): (u64, u8), out: &mut Vec<u8>) {
    out.push(OPAQUE);
    out.push(6);
    out.extend_from_slice(&bits.to_be_bytes()[3..]);
    out.push(zone);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        for (text, bytes) in [
            ("0", &[0xC3, 0x01, 0x00][..]),
            ("200", &[0xC3, 0x01, 0xC8]),
            ("600", &[0xC3, 0x02, 0x02, 0x58]),
            ("4294967295", &[0xC3, 0x04, 0xFF, 0xFF, 0xFF, 0xFF]),
        ] {
            let mut out = Vec::new();
            push_integer(integer_value(text.as_bytes()).expect(text), &mut out);
            assert_eq!(out, bytes, "{text}");
            assert_eq!(integer_text(&bytes[2..]).as_deref(), Some(text));
        }
        for text in ["", "007", "-1", "4294967296", "1 "] {
            assert_eq!(integer_value(text.as_bytes()), None, "{text}");
        }
        assert_eq!(integer_text(&[]).as_deref(), Some("0"));
        assert_eq!(
            integer_text(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).as_deref(),
            Some("1")
        );
        assert_eq!(integer_text(&[1, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        for n in [
            0u32,
            7,
            10,
            99,
            100,
            999,
            1000,
            9999,
            10_000,
            65_535,
            u32::MAX,
        ] {
            assert_eq!(
                integer_text(&n.to_be_bytes()).as_deref(),
                Some(n.to_string().as_str())
            );
        }
        assert!(matches!(
            integer_text(&[0x27, 0x0F]),
            Some(Cow::Borrowed("9999"))
        ));
    }

    #[test]
    fn datetimes() {
        for text in ["20011225T131415Z", "20011225T131415", "20240229T235959A"] {
            let mut out = Vec::new();
            push_datetime(datetime_value(text.as_bytes()).expect(text), &mut out);
            assert_eq!((out[0], out[1]), (0xC3, 6));
            assert_eq!(datetime_text(&out[2..]).as_deref(), Some(text));
        }
        for text in [
            "20011225T1314Z",
            "2001-12-25T13:14:15Z",
            "20011225T131415+0100",
            // The year has 12 bits: a later one travels as a string (a fuzzer's find).
            "60070625T055652Z",
        ] {
            assert_eq!(datetime_value(text.as_bytes()), None, "{text}");
        }
        assert_eq!(datetime_text(&[1, 2, 3]), None);
        assert_eq!(
            datetime_text(&[0x3F, 0xFF, 0xFF, 0xFF, 0xFF]).as_deref(),
            Some("40951531T316363")
        );
        assert_eq!(datetime_text(&[0, 0, 0, 0, 0, b'z']), None);
    }
}
