//! Random values of every CSP type, for property tests, fuzz seeds and benches
//! (feature `sample`). Deterministic for a seed.

use crate::raw::{RawElement, RawNode};

/// A small deterministic generator (xorshift64*).
pub struct Gen {
    state: u64,
    depth: u32,
}

impl Gen {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            depth: 0,
        }
    }

    /// The next raw 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability 1/2.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// A short printable string that survives XML: letters, digits, spaces inside, markup
    /// characters and some non-ASCII.
    pub fn text(&mut self) -> String {
        const POOL: &[&str] = &[
            "a", "b", "Z", "0", "7", " ", "<", ">", "&", "\"", "'", "é", "ß", "日", "#", "@", ":",
            "/", ".", "\n",
        ];
        let len = self.below(10);
        let mut s = String::new();
        for i in 0..len {
            let piece = POOL[self.below(POOL.len())];
            let edge = i == 0 || i + 1 == len;
            if edge && piece.trim().is_empty() {
                s.push('x');
            } else {
                s.push_str(piece);
            }
        }
        s
    }

    /// A token without spaces or markup (identifiers).
    pub fn token(&mut self) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.#";
        let len = 1 + self.below(12);
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len())] as char)
            .collect()
    }

    /// Runs `f` one level deeper; returns `None` past a small depth so recursion ends.
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.depth >= 3 {
            return None;
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        Some(out)
    }
}

/// A type with random values.
pub trait Sample: Sized {
    /// A random value.
    fn sample(g: &mut Gen) -> Self;
}

impl Sample for String {
    fn sample(g: &mut Gen) -> Self {
        g.text()
    }
}

impl Sample for bool {
    fn sample(g: &mut Gen) -> Self {
        g.coin()
    }
}

impl Sample for u32 {
    fn sample(g: &mut Gen) -> Self {
        match g.below(3) {
            0 => 0,
            1 => g.below(1000) as u32,
            _ => g.next_u64() as u32,
        }
    }
}

impl Sample for u64 {
    fn sample(g: &mut Gen) -> Self {
        g.next_u64() >> g.below(64)
    }
}

impl<T: Sample> Sample for Option<T> {
    fn sample(g: &mut Gen) -> Self {
        if g.coin() { g.nested(T::sample) } else { None }
    }
}

impl<T: Sample> Sample for Vec<T> {
    fn sample(g: &mut Gen) -> Self {
        let n = g.below(3);
        (0..n).filter_map(|_| g.nested(T::sample)).collect()
    }
}

impl<T: Sample> Sample for Box<T> {
    fn sample(g: &mut Gen) -> Self {
        Box::new(T::sample(g))
    }
}

/// A few unknown elements in a foreign namespace, as vendors add them.
pub fn sample_raw_list(g: &mut Gen) -> Vec<RawElement> {
    let n = g.below(2);
    (0..n).filter_map(|_| g.nested(sample_raw)).collect()
}

fn sample_raw(g: &mut Gen) -> RawElement {
    let mut element = RawElement {
        name: format!("Vendor{}", g.below(5)),
        attributes: Vec::new(),
        children: Vec::new(),
    };
    if g.coin() {
        element
            .attributes
            .push(("xmlns".into(), "http://vendor.example/ext".into()));
    }
    match g.below(3) {
        0 => {}
        1 => {
            let text = g.text();
            if !text.is_empty() {
                element.children.push(RawNode::Text(text));
            }
        }
        _ => {
            if let Some(child) = g.nested(sample_raw) {
                element.children.push(RawNode::Element(child));
            }
        }
    }
    element
}

impl Sample for RawElement {
    fn sample(g: &mut Gen) -> Self {
        sample_raw(g)
    }
}
