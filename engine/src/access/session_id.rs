//! Session IDs: the owning shard plus 128 random bits, so the front-end routes a request
//! without a lookup and nobody can guess a live session.
//!
//! Text form: `<shard>-<32 lowercase hex digits>`, e.g. `1-9f86d081884c7d659a2feaa0c55ad015`.

use rand_core::RngCore;

/// The random part of a session ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey(pub [u8; 16]);

impl SessionKey {
    /// A fresh random key.
    pub fn random(rng: &mut impl RngCore) -> Self {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The text form for `shard`.
    pub fn to_text(self, shard: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(40);
        s.push_str(&shard.to_string());
        s.push('-');
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xF)]));
        }
        s
    }
}

/// Splits a session ID's text into its shard and key. `None` when it is not one of ours.
/// On the path of every request (twice: routing, then the session lookup), hence the table.
pub fn parse_session_id(text: &str) -> Option<(usize, SessionKey)> {
    let text = text.trim_ascii().as_bytes();
    // The key is the last 32 bytes, after a '-' and 1 to 5 digits.
    let split = text.len().checked_sub(33)?;
    let (shard, rest) = text.split_at(split);
    let (&dash, hex) = rest.split_first()?;
    if dash != b'-' || shard.is_empty() || shard.len() > 5 {
        return None;
    }
    let mut n = 0usize;
    for &b in shard {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + usize::from(d);
    }
    let mut key = [0u8; 16];
    let mut bad = 0u8;
    for (k, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        let hi = HEX_VALUE[usize::from(pair[0])];
        let lo = HEX_VALUE[usize::from(pair[1])];
        bad |= (hi | lo) & 0x80;
        *k = (hi << 4) | (lo & 0x0F);
    }
    (bad == 0).then_some((n, SessionKey(key)))
}

/// The value of each hex digit byte; 0x80 for bytes that are not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn text_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = SessionKey::random(&mut rng);
        let text = key.to_text(12);
        assert_eq!(text.len(), 3 + 32);
        assert_eq!(parse_session_id(&text), Some((12, key)));
        assert_eq!(parse_session_id(&text.to_uppercase()), Some((12, key)));
        for bad in [
            "",
            "-",
            "1-",
            "x-00",
            "1-zz",
            &text[..text.len() - 1],
            "999999-00",
            "999999-9f86d081884c7d659a2feaa0c55ad015",
            "1-9f86d081884c7d659a2feaa0c55ad01g",
            "1-9f86d081884c7d659a2feaa0c55ad01\u{e9}",
            "1-9f86d081884c7d659a2feaa0c55ad0\u{e9}",
            "1+9f86d081884c7d659a2feaa0c55ad015",
            "a-9f86d081884c7d659a2feaa0c55ad015",
            "-9f86d081884c7d659a2feaa0c55ad015",
        ] {
            assert_eq!(parse_session_id(bad), None, "{bad}");
        }
        assert_ne!(SessionKey::random(&mut rng), key);
    }
}
