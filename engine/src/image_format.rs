//! How a [`ShardImage`] is written in a snapshot: an 8-byte magic naming the layout, then
//! the rkyv archive. Images written before the magic existed (layout 1: no invitation
//! fields) are read through that layout and converted, so a data directory of an earlier
//! build keeps its snapshots. A new field of `ShardImage` gets a new magic and the
//! previous layout joins the ones read here.

use rkyv::rancor::Error as RkyvError;

use crate::record::{
    AccessListsRecord, AttributeTarget, ContactListRecord, GrantRecord, GroupRecord, LetterRecord,
    RecordError, ShardImage, UserRecord, aligned,
};

/// The magic of the current layout (2: with invitations).
const MAGIC: &[u8; 8] = b"IMPSIMG2";

/// A shard image as builds before durable invitations wrote it (no magic).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(attr(allow(missing_docs)))]
pub struct ShardImageV1 {
    /// Every user.
    pub users: Vec<UserRecord>,
    /// Every contact list: (owner's normalized user ID, list).
    pub contact_lists: Vec<(String, ContactListRecord)>,
    /// Every attribute list: (owner, target, attribute names).
    pub attribute_lists: Vec<(String, AttributeTarget, Vec<String>)>,
    /// Every reactive decision: (publisher, watcher, decision).
    pub grants: Vec<(String, String, GrantRecord)>,
    /// Every stored message: (recipient, message).
    pub letters: Vec<(String, LetterRecord)>,
    /// Every user's block and grant lists: (owner, lists).
    pub access_lists: Vec<(String, AccessListsRecord)>,
    /// Every group.
    pub groups: Vec<GroupRecord>,
}

impl ShardImageV1 {
    /// The archive bytes, as layout 1 wrote them (for tests of the conversion).
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        rkyv::to_bytes::<RkyvError>(self)
            .map(|v| v.to_vec())
            .map_err(RecordError::new)
    }
}

impl From<ShardImageV1> for ShardImage {
    fn from(v1: ShardImageV1) -> Self {
        let ShardImageV1 {
            users,
            contact_lists,
            attribute_lists,
            grants,
            letters,
            access_lists,
            groups,
        } = v1;
        ShardImage {
            users,
            contact_lists,
            attribute_lists,
            grants,
            letters,
            access_lists,
            groups,
            ..ShardImage::default()
        }
    }
}

impl ShardImage {
    /// The snapshot bytes: the magic, then the archive.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        let archive = rkyv::to_bytes::<RkyvError>(self).map_err(RecordError::new)?;
        let mut out = Vec::with_capacity(MAGIC.len() + archive.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&archive);
        Ok(out)
    }

    /// Reads snapshot bytes of this layout or of layout 1 (validated; any alignment).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        match bytes.strip_prefix(MAGIC) {
            Some(archive) => {
                rkyv::from_bytes::<Self, RkyvError>(&aligned(archive)).map_err(RecordError::new)
            }
            None => rkyv::from_bytes::<ShardImageV1, RkyvError>(&aligned(bytes))
                .map(ShardImage::from)
                .map_err(|e| RecordError::new(format!("no known image layout: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str) -> GroupRecord {
        GroupRecord {
            id: id.into(),
            owner: None,
            properties: vec![("Name".into(), "x".into())],
            welcome: None,
            members: Vec::new(),
            reject: Vec::new(),
        }
    }

    #[test]
    fn an_image_of_the_earlier_layout_is_read_and_converted() {
        let v1 = ShardImageV1 {
            letters: Vec::new(),
            groups: vec![group("wv:/a@d"), group("wv:/b@d")],
            ..ShardImageV1::default()
        };
        let bytes = v1.to_bytes().unwrap();
        let image = ShardImage::from_bytes(&bytes).unwrap();
        assert_eq!(image.groups, v1.groups);
        assert!(image.sent_invitations.is_empty());
        // The current layout round-trips and carries its magic.
        let again = image.to_bytes().unwrap();
        assert!(again.starts_with(MAGIC));
        assert_eq!(ShardImage::from_bytes(&again).unwrap(), image);
        assert!(ShardImage::from_bytes(b"IMPSIMG2garbage").is_err());
        assert!(ShardImage::from_bytes(b"").is_err());
    }
}
