//! Ownership: which shard owns a user or group.
//!
//! The hash is FNV-1a over the normalized ID (64 bit), reduced with a multiply-shift, so the
//! mapping is stable across processes, builds and platforms (unlike std's seeded SipHash).
//!
//! An entity named under a user (a private group `wv:alice/room@domain`) lives with that
//! user: its key is hashed as the user's (`wv:alice@domain`), so a user's own groups share
//! the user's shard (their count is local, creating one needs no hop). Public groups
//! (`wv:/lobby@domain`) hash as a whole. Data directories written before this rule
//! ([`ROUTING_VERSION`] 1) are redistributed once at startup.

use imps_protocol::types::{AddressError, GroupId, UserId};

/// Index of a shard (one per core).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u16);

/// The version of the ownership rule; data directories record the one they were written
/// with (see [`crate::storage::DataDir::routing`]).
pub const ROUTING_VERSION: u32 = 2;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_continue(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// FNV-1a, 64 bit.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    fnv_continue(FNV_OFFSET, bytes)
}

/// The hash that places a normalized key: a key named under a user (`wv:user/name@domain`)
/// hashes as that user (`wv:user@domain`); any other key as itself.
pub fn owner_hash(normalized: &str) -> u64 {
    let bytes = normalized.as_bytes();
    let Some(slash) = bytes.iter().position(|&b| b == b'/') else {
        return stable_hash(bytes);
    };
    let user = &bytes[..slash];
    if user.len() <= 3 {
        // `wv:/name@domain`: nobody's (a public group).
        return stable_hash(bytes);
    }
    let domain = match bytes.iter().rposition(|&b| b == b'@') {
        Some(at) if at > slash => &bytes[at..],
        _ => &[][..],
    };
    fnv_continue(fnv_continue(FNV_OFFSET, user), domain)
}

/// The shard that owns the entity with this normalized key, among `shards` (at least 1).
pub fn owner_of_key(normalized: &str, shards: u16) -> ShardId {
    let shards = u64::from(shards.max(1));
    // Multiply-shift keeps the high bits of the hash, which FNV mixes best.
    ShardId(((u128::from(owner_hash(normalized)) * u128::from(shards)) >> 64) as u16)
}

/// The index of the shard that owns the entity with this normalized key, among `shards`.
pub fn shard_index(normalized: &str, shards: usize) -> usize {
    let shards = u16::try_from(shards).unwrap_or(u16::MAX);
    usize::from(owner_of_key(normalized, shards).0)
}

/// `items` split by the shard that owns each one's key: one list per shard, order kept
/// (so that each destination gets one batch).
pub fn split_by_owner<T>(
    items: impl IntoIterator<Item = T>,
    shards: usize,
    key: impl Fn(&T) -> &str,
) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..shards.max(1)).map(|_| Vec::new()).collect();
    for item in items {
        let i = shard_index(key(&item), shards);
        if let Some(list) = out.get_mut(i) {
            list.push(item);
        }
    }
    out
}

/// The shard that owns `user` (normalized against `domain`).
pub fn owner(user: &UserId, domain: &str, shards: u16) -> Result<ShardId, AddressError> {
    Ok(owner_of_key(&user.normalize(domain)?, shards))
}

/// The shard that owns `group` (normalized against `domain`).
pub fn group_owner(group: &GroupId, domain: &str, shards: u16) -> Result<ShardId, AddressError> {
    Ok(owner_of_key(&group.normalize(domain)?, shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_spelling_independent() {
        let a = owner(&UserId::from("alice"), "imps.local", 8).unwrap();
        let b = owner(&UserId::from("WV:Alice@IMPS.LOCAL"), "imps.local", 8).unwrap();
        assert_eq!(a, b);
        // FNV-1a test vectors: a change of hash would move every user's data.
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(owner_of_key("anything", 1), ShardId(0));
    }

    #[test]
    fn spreads_users_evenly() {
        let shards = 4u16;
        let mut counts = [0u32; 4];
        for i in 0..40_000 {
            let s = owner_of_key(&format!("wv:user{i}@imps.local"), shards);
            counts[usize::from(s.0)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "uneven spread {counts:?}");
        }
    }

    #[test]
    fn a_users_groups_live_with_the_user() {
        for shards in [2u16, 3, 7, 64] {
            for i in 0..200 {
                let user = format!("wv:user{i}@imps.local");
                let group = format!("wv:user{i}/room{}@imps.local", i * 7);
                assert_eq!(owner_of_key(&user, shards), owner_of_key(&group, shards));
            }
        }
        // Public groups hash as themselves, so they spread over the shards.
        let mut seen = std::collections::HashSet::new();
        for i in 0..64 {
            let key = format!("wv:/lobby{i}@imps.local");
            assert_eq!(owner_hash(&key), stable_hash(key.as_bytes()));
            seen.insert(owner_of_key(&key, 4));
        }
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn bad_ids_are_errors() {
        assert!(owner(&UserId::from("wv:"), "imps.local", 2).is_err());
    }
}
