//! Ownership: which shard owns a user or group.
//!
//! The hash is FNV-1a over the normalized ID (64 bit), reduced with a multiply-shift, so the
//! mapping is stable across processes, builds and platforms (unlike std's seeded SipHash).

use imps_protocol::types::{AddressError, GroupId, UserId};

/// Index of a shard (one per core).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u16);

/// FNV-1a, 64 bit.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The shard that owns the entity with this normalized key, among `shards` (at least 1).
pub fn owner_of_key(normalized: &str, shards: u16) -> ShardId {
    let shards = u64::from(shards.max(1));
    // Multiply-shift keeps the high bits of the hash, which FNV mixes best.
    ShardId(((u128::from(stable_hash(normalized.as_bytes())) * u128::from(shards)) >> 64) as u16)
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
    fn bad_ids_are_errors() {
        assert!(owner(&UserId::from("wv:"), "imps.local", 2).is_err());
    }
}
