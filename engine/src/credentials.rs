//! Passwords at rest and the CSP login proofs.
//!
//! A password is kept sealed (ChaCha20-Poly1305) under a master key that lives in the data
//! directory's `keys/` folder, never in the logs or snapshots: a copy of the logs alone does
//! not reveal passwords. The plain text is needed because 4-way digest login proves knowledge
//! as `Base64(H(nonce ‖ password))`; unsealing costs about a microsecond, so logins stay cheap
//! in a storm. Pure functions: the caller supplies the key and the randomness.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use md5::Md5;
use rand_core::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// Why a credential operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The sealed secret is shorter than a nonce and a tag.
    #[error("sealed secret is truncated ({0} bytes)")]
    Truncated(usize),
    /// The key is wrong or the sealed secret was altered.
    #[error("sealed secret does not open with this key")]
    Unseal,
    /// Sealing failed.
    #[error("could not seal the secret")]
    Seal,
}

/// A hash a client may use for digest login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestScheme {
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
}

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals and opens passwords with the data directory's master key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer for `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Seals `password`: 12 random nonce bytes followed by the ciphertext and tag.
    pub fn seal(&self, password: &str, rng: &mut impl RngCore) -> Result<Vec<u8>, CredentialError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), password.as_bytes())
            .map_err(|_| CredentialError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a sealed password.
    pub fn open(&self, sealed: &[u8]) -> Result<String, CredentialError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CredentialError::Truncated(sealed.len()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| CredentialError::Unseal)?;
        String::from_utf8(plain).map_err(|_| CredentialError::Unseal)
    }
}

/// The bytes a digest covers: ISO-8859-1 where the text allows it (as clients compute it),
/// UTF-8 otherwise.
fn latin1(text: &str, out: &mut Vec<u8>) {
    if text.chars().all(|c| u32::from(c) <= 0xFF) {
        out.extend(text.chars().map(|c| u32::from(c) as u8));
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// `Base64(H(nonce ‖ password))`, the `DigestBytes` a client sends.
pub fn digest_bytes(scheme: DigestScheme, nonce: &str, password: &str) -> String {
    let mut input = Vec::with_capacity(nonce.len() + password.len());
    latin1(nonce, &mut input);
    latin1(password, &mut input);
    let engine = base64::engine::general_purpose::STANDARD;
    match scheme {
        DigestScheme::Md5 => engine.encode(Md5::digest(&input)),
        DigestScheme::Sha1 => engine.encode(Sha1::digest(&input)),
    }
}

/// True when the client's `DigestBytes` prove `password` for `nonce` (constant time; the
/// client's Base64 may have whitespace or lack padding).
pub fn verify_digest(scheme: DigestScheme, nonce: &str, password: &str, given: &str) -> bool {
    let expected = digest_bytes(scheme, nonce, password);
    let given: String = given.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let expected = expected.trim_end_matches('=');
    let given = given.trim_end_matches('=');
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// True when `given` equals `password` (constant time in the content).
pub fn verify_password(password: &str, given: &str) -> bool {
    password.len() == given.len() && bool::from(password.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn seal_and_open() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sealer = Sealer::new(&[7u8; 32]);
        let sealed = sealer.seal("sécret", &mut rng).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s\xc3\xa9cre"));
        assert_eq!(sealer.open(&sealed).unwrap(), "sécret");
        let other = Sealer::new(&[8u8; 32]);
        assert_eq!(other.open(&sealed), Err(CredentialError::Unseal));
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert_eq!(sealer.open(&tampered), Err(CredentialError::Unseal));
        assert_eq!(
            sealer.open(&sealed[..10]),
            Err(CredentialError::Truncated(10))
        );
    }

    #[test]
    fn digests_match_known_values() {
        // MD5("abc" + "def") = MD5("abcdef") = e80b5017098950fc58aad83c8c14978e
        let md5 = digest_bytes(DigestScheme::Md5, "abc", "def");
        assert_eq!(md5, "6AtQFwmJUPxYqtg8jBSXjg==");
        // SHA1("abcdef") = 1f8ac10f23c5b5bc1167bda84b833e5c057a77d2
        let sha = digest_bytes(DigestScheme::Sha1, "abc", "def");
        assert_eq!(sha, "H4rBDyPFtbwRZ72oS4M+XAV6d9I=");
        assert!(verify_digest(
            DigestScheme::Md5,
            "abc",
            "def",
            "6AtQFwmJUPxYqtg8jBSXjg"
        ));
        assert!(!verify_digest(DigestScheme::Md5, "abc", "deg", &md5));
        assert!(!verify_digest(DigestScheme::Sha1, "abc", "def", &md5));
        assert!(verify_password("pw", "pw"));
        assert!(!verify_password("pw", "pW"));
        assert!(!verify_password("pw", "pw2"));
    }
}
