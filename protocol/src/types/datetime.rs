//! CSP DateTime: ISO 8601 in every spelling clients use.
//!
//! Accepted: basic `YYYYMMDDTHHMM[SS]`, extended `YYYY-MM-DDTHH:MM[:SS]`, optional fraction
//! of a second (dropped), then an optional zone: `Z`, a military zone letter (`A`...`Y`),
//! `+HH`, `+HHMM` or `+HH:MM`. Written back in basic form.

use std::borrow::Cow;
use std::io::Write as _;

use crate::node::Value;
use crate::xml::writer::XmlWriter;

/// The zone part of a [`DateTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// No zone: local time of the sender.
    Unspecified,
    /// `Z`.
    Utc,
    /// A military zone letter other than `Z` (`A` is UTC+1, ...).
    Letter(u8),
    /// An offset from UTC in minutes.
    Offset(i16),
}

/// A point in time as CSP writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// Year (0..=9999).
    pub year: u16,
    /// Month (1..=12).
    pub month: u8,
    /// Day (1..=31).
    pub day: u8,
    /// Hour (0..=23).
    pub hour: u8,
    /// Minute (0..=59).
    pub minute: u8,
    /// Second (0..=60), when given.
    pub second: Option<u8>,
    /// Zone.
    pub zone: Zone,
}

impl DateTime {
    /// A UTC time with seconds.
    pub fn utc(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Self {
        Self {
            year,
            month,
            day,
            hour,
            minute,
            second: Some(second),
            zone: Zone::Utc,
        }
    }

    /// The UTC time `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: u64) -> Self {
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        // Civil-from-days (Howard Hinnant).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Self::utc(
            year,
            month,
            day,
            (rem / 3600) as u8,
            (rem / 60 % 60) as u8,
            (rem % 60) as u8,
        )
    }

    /// Parses any accepted spelling.
    pub fn parse_str(text: &str) -> Result<Self, &'static str> {
        let s = text.trim().as_bytes();
        let mut p = Parser { s, i: 0 };
        let year = p.digits(4)? as u16;
        let extended = p.eat(b'-');
        let month = p.digits(2)? as u8;
        if extended && !p.eat(b'-') {
            return Err("expected '-' in date");
        }
        let day = p.digits(2)? as u8;
        if !(p.eat(b'T') || p.eat(b't') || p.eat(b' ')) {
            return Err("expected 'T' between date and time");
        }
        let hour = p.digits(2)? as u8;
        p.eat(b':');
        let minute = p.digits(2)? as u8;
        let colon = p.eat(b':');
        let second = if colon || p.peek().is_some_and(|c| c.is_ascii_digit()) {
            Some(p.digits(2)? as u8)
        } else {
            None
        };
        if second.is_some() && (p.eat(b'.') || p.eat(b',')) {
            let start = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            if p.i == start {
                return Err("empty fraction of a second");
            }
        }
        let zone = match p.peek() {
            None => Zone::Unspecified,
            Some(b'Z') | Some(b'z') => {
                p.i += 1;
                Zone::Utc
            }
            Some(c @ (b'+' | b'-')) => {
                p.i += 1;
                let hours = p.digits(2)? as i16;
                p.eat(b':');
                let minutes = if p.peek().is_some() {
                    p.digits(2)? as i16
                } else {
                    0
                };
                if hours > 23 || minutes > 59 {
                    return Err("zone offset out of range");
                }
                let total = hours * 60 + minutes;
                Zone::Offset(if c == b'-' { -total } else { total })
            }
            Some(c) if c.is_ascii_alphabetic() && !c.eq_ignore_ascii_case(&b'J') => {
                p.i += 1;
                Zone::Letter(c.to_ascii_uppercase())
            }
            Some(_) => return Err("unexpected character in time"),
        };
        if p.i != s.len() {
            return Err("trailing characters");
        }
        let dt = Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            zone,
        };
        dt.validate()?;
        Ok(dt)
    }

    fn validate(&self) -> Result<(), &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("month out of range");
        }
        if self.day == 0 || self.day > days_in_month(self.year, self.month) {
            return Err("day out of range");
        }
        if self.hour > 23 || self.minute > 59 || self.second.is_some_and(|s| s > 60) {
            return Err("time out of range");
        }
        Ok(())
    }

    /// The canonical (basic) spelling, as the writer emits it.
    pub fn to_basic(&self) -> String {
        let mut buf = Vec::with_capacity(20);
        self.write_basic(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    fn write_basic(&self, out: &mut Vec<u8>) {
        let _ = write!(
            out,
            "{:04}{:02}{:02}T{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        );
        if let Some(s) = self.second {
            let _ = write!(out, "{s:02}");
        }
        match self.zone {
            Zone::Unspecified => {}
            Zone::Utc => out.push(b'Z'),
            Zone::Letter(c) => out.push(c),
            Zone::Offset(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                let m = m.unsigned_abs();
                let _ = write!(out, "{sign}{:02}{:02}", m / 60, m % 60);
            }
        }
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn digits(&mut self, n: usize) -> Result<u32, &'static str> {
        let end = self.i + n;
        let part = self.s.get(self.i..end).ok_or("too short")?;
        let mut v = 0u32;
        for &c in part {
            if !c.is_ascii_digit() {
                return Err("expected a digit");
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.i = end;
        Ok(v)
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_basic())
    }
}

impl Value for DateTime {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        Self::parse_str(&text)
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        self.write_basic(w.buffer());
    }
}
crate::value_node!(DateTime);

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for DateTime {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        let zone = match g.below(4) {
            0 => Zone::Unspecified,
            1 => Zone::Utc,
            2 => Zone::Letter(b'A' + g.below(8) as u8),
            _ => Zone::Offset(g.below(24 * 60) as i16 - 12 * 60),
        };
        Self {
            year: 1990 + g.below(60) as u16,
            month: 1 + g.below(12) as u8,
            day: 1 + g.below(28) as u8,
            hour: g.below(24) as u8,
            minute: g.below(60) as u8,
            second: if g.coin() {
                Some(g.below(60) as u8)
            } else {
                None
            },
            zone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> DateTime {
        DateTime::parse_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_sample_spelling() {
        let base = DateTime {
            second: None,
            ..DateTime::utc(2001, 9, 25, 13, 40, 0)
        };
        assert_eq!(p("20010925T1340Z"), base);
        assert_eq!(
            p("20010925T1340"),
            DateTime {
                zone: Zone::Unspecified,
                ..base
            }
        );
        assert_eq!(
            p("2001-09-25T13:40:13+0100"),
            DateTime {
                second: Some(13),
                zone: Zone::Offset(60),
                ..base
            }
        );
        assert_eq!(
            p("2001-09-25T13:40:13+01:00"),
            p("2001-09-25T13:40:13+0100")
        );
        assert_eq!(p("2001-09-25T13:40:13A").zone, Zone::Letter(b'A'));
        assert_eq!(p("20010925T134013.250Z").second, Some(13));
        assert_eq!(p("2001-09-25T13:40:13-05").zone, Zone::Offset(-300));
    }

    #[test]
    fn invalid_spellings() {
        for bad in [
            "",
            "2001",
            "20011325T1340Z",
            "20010230T1340Z",
            "20010925T2540Z",
            "20010925T1340Q1",
            "20010925 1340+2500",
            "2001-0925T1340",
            "20010925T1340Z junk",
            "２００１0925T1340",
        ] {
            assert!(DateTime::parse_str(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn writes_basic_and_round_trips() {
        for s in [
            "20010925T1340Z",
            "20010925T134013+0100",
            "20010925T1340",
            "20010925T134059A",
        ] {
            assert_eq!(p(s).to_basic(), s);
        }
        assert_eq!(DateTime::from_unix(0).to_basic(), "19700101T000000Z");
        assert_eq!(
            DateTime::from_unix(1_001_425_213).to_basic(),
            "20010925T134013Z"
        );
    }
}
