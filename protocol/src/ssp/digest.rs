//! The handshake proofs: the MD5 dialback digest Baraza uses (SSP.md §3) and our optional
//! keyed proof, HMAC-SHA256 with the XEP-0185 key derivation (SSP.md §10).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// `PasswordDigest` value: MD5 of the other side's secret token (sent base64-encoded).
pub fn dialback_digest(secret: &[u8]) -> [u8; 16] {
    Md5::digest(secret).into()
}

/// The keyed proof over a handshake: HMAC-SHA256(key = SHA-256(shared secret),
/// `receiving ' ' originating ' ' initiator-token ' ' responder-token`), the XEP-0185 formula
/// with the two exchanged secret tokens in place of the stream id.
pub fn keyed_digest(
    shared_secret: &[u8],
    receiving: &str,
    originating: &str,
    initiator_token: &[u8],
    responder_token: &[u8],
) -> [u8; 32] {
    let key: [u8; 32] = Sha256::digest(shared_secret).into();
    let mut text = Vec::with_capacity(
        receiving.len() + originating.len() + initiator_token.len() + responder_token.len() + 3,
    );
    text.extend_from_slice(receiving.as_bytes());
    text.push(b' ');
    text.extend_from_slice(originating.as_bytes());
    text.push(b' ');
    text.extend_from_slice(initiator_token);
    text.push(b' ');
    text.extend_from_slice(responder_token);
    hmac_sha256(&key, &text)
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], text: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(text);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_6_long_key() {
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn md5_of_known_input() {
        assert_eq!(
            hex(&dialback_digest(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }

    #[test]
    fn keyed_digest_depends_on_every_input() {
        let base = keyed_digest(b"s", "b.test", "a.test", b"t1", b"t2");
        assert_ne!(base, keyed_digest(b"x", "b.test", "a.test", b"t1", b"t2"));
        assert_ne!(base, keyed_digest(b"s", "a.test", "b.test", b"t1", b"t2"));
        assert_ne!(base, keyed_digest(b"s", "b.test", "a.test", b"t2", b"t1"));
        assert!(constant_time_eq(
            &base,
            &keyed_digest(b"s", "b.test", "a.test", b"t1", b"t2")
        ));
        assert!(!constant_time_eq(&base[..31], &base));
    }
}
