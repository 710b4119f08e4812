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
pub fn parse_session_id(text: &str) -> Option<(usize, SessionKey)> {
    let (shard, hex) = text.trim().split_once('-')?;
    if shard.is_empty() || shard.len() > 5 || !shard.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let shard: usize = shard.parse().ok()?;
    let hex = hex.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let mut key = [0u8; 16];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let hi = hex_digit(pair[0])?;
        let lo = hex_digit(pair[1])?;
        key[i] = (hi << 4) | lo;
    }
    Some((shard, SessionKey(key)))
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

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
        ] {
            assert_eq!(parse_session_id(bad), None, "{bad}");
        }
        assert_ne!(SessionKey::random(&mut rng), key);
    }
}
