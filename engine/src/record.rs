//! What a shard writes to its log and snapshots: rkyv archives of [`Record`] and
//! [`ShardImage`]. The storage layer frames and checksums the bytes; this module only turns
//! values into bytes and back.

use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;

/// A user's searchable profile.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(attr(allow(missing_docs)))]
pub struct Profile {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Alias.
    pub alias: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
}

impl Profile {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.email.is_none()
            && self.alias.is_none()
            && self.mobile.is_none()
    }
}

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct UserRecord {
    /// The normalized user ID (`wv:alice@imps.local`).
    pub id: String,
    /// The password, sealed (see [`crate::credentials::Sealer`]).
    pub sealed_password: Vec<u8>,
    /// Searchable profile.
    pub profile: Profile,
}

/// One entry of a contact list.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct ContactRecord {
    /// The member's normalized user ID.
    pub user: String,
    /// The nickname the owner gave them.
    pub nick: Option<String>,
}

/// A contact list as stored.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct ContactListRecord {
    /// The list ID as the owner wrote it (`wv:john/My_friends@imps.local`).
    pub id: String,
    /// The `DisplayName` property.
    pub display_name: Option<String>,
    /// The owner's default list.
    pub default: bool,
    /// The members, in the order added.
    pub contacts: Vec<ContactRecord>,
}

/// What an attribute list applies to.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub enum AttributeTarget {
    /// The owner's default attribute list.
    Default,
    /// One watcher (normalized user ID).
    User(String),
    /// The members of one of the owner's contact lists (normalized list ID).
    List(String),
}

/// A publisher's reactive decision about one watcher.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct GrantRecord {
    /// T: the watcher may see presence; F: refused.
    pub accepted: bool,
    /// The attributes granted; `None` means the publisher's default attribute list.
    pub attributes: Option<Vec<String>>,
}

/// A message stored for a recipient who was offline.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct LetterRecord {
    /// The MessageID.
    pub id: String,
    /// The sender's normalized user ID.
    pub sender: String,
    /// MIME type of the content.
    pub content_type: Option<String>,
    /// The content is BASE64 text.
    pub base64: bool,
    /// The content as sent.
    pub content: Option<String>,
    /// The sender asked for delivery reports.
    pub report: bool,
    /// When it was sent, ms since the Unix epoch.
    pub sent_ms: u64,
    /// When it expires, ms since the Unix epoch.
    pub expires_ms: u64,
}

/// A user's block and grant lists. Entities are normalized user IDs, `group:<GroupID>` and
/// `sn:<SName>:<GroupID>`.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(attr(allow(missing_docs)))]
pub struct AccessListsRecord {
    /// The block list applies.
    pub block_in_use: bool,
    /// Blocked entities.
    pub block: Vec<String>,
    /// The grant list applies (only granted senders get through).
    pub grant_in_use: bool,
    /// Granted entities.
    pub grant: Vec<String>,
}

/// A group as stored: everything but who is joined.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct GroupRecord {
    /// The normalized GroupID.
    pub id: String,
    /// The creator (`None`: a service provider's public group).
    pub owner: Option<String>,
    /// Properties as (name, value).
    pub properties: Vec<(String, String)>,
    /// The welcome note: (content type, text).
    pub welcome: Option<(String, String)>,
    /// Members and their roles (0 user, 1 moderator, 2 administrator).
    pub members: Vec<(String, u8)>,
    /// Users who may not join.
    pub reject: Vec<String>,
}

/// One change to a shard's durable state.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub enum Record {
    /// A user was created or replaced.
    UserPut(UserRecord),
    /// A user was removed (its normalized user ID).
    UserRemove(String),
    /// A contact list was created or changed: (owner's normalized user ID, the whole list).
    ContactListPut(String, ContactListRecord),
    /// A contact list was deleted: (owner, list ID).
    ContactListRemove(String, String),
    /// An attribute list was set: (owner, target, attribute names).
    AttributeListPut(String, AttributeTarget, Vec<String>),
    /// An attribute list was removed: (owner, target).
    AttributeListRemove(String, AttributeTarget),
    /// A reactive decision was made: (publisher, watcher, decision).
    GrantPut(String, String, GrantRecord),
    /// A reactive decision was withdrawn: (publisher, watcher).
    GrantRemove(String, String),
    /// A message waits for an offline recipient: (recipient, message).
    LetterStored(String, LetterRecord),
    /// A stored message was delivered, refused, forwarded or expired: (recipient, MessageID).
    LetterRemoved(String, String),
    /// A user's block and grant lists were set: (owner, lists).
    AccessListsPut(String, AccessListsRecord),
    /// A group was created or changed (the whole stored group).
    GroupPut(GroupRecord),
    /// A group was deleted (its normalized GroupID).
    GroupRemove(String),
}

/// A shard's whole durable state, as a snapshot holds it.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
#[rkyv(attr(allow(missing_docs)))]
pub struct ShardImage {
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

/// Bytes that do not hold a valid archive.
#[derive(Debug, thiserror::Error)]
#[error("record does not decode: {0}")]
pub struct RecordError(String);

fn aligned(bytes: &[u8]) -> AlignedVec {
    let mut v = AlignedVec::with_capacity(bytes.len());
    v.extend_from_slice(bytes);
    v
}

/// Implements `to_bytes` / `from_bytes` for archived types.
macro_rules! archive_bytes {
    ($($t:ty),*) => {$(
        impl $t {
            /// The archive bytes.
            pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
                rkyv::to_bytes::<RkyvError>(self)
                    .map(|v| v.to_vec())
                    .map_err(|e| RecordError(e.to_string()))
            }

            /// Reads archive bytes (validated; any alignment).
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
                rkyv::from_bytes::<Self, RkyvError>(&aligned(bytes))
                    .map_err(|e| RecordError(e.to_string()))
            }
        }
    )*};
}

archive_bytes!(Record, ShardImage);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let r = Record::UserPut(UserRecord {
            id: "wv:alice@imps.local".into(),
            sealed_password: vec![1, 2, 3],
            profile: Profile {
                alias: Some("Al".into()),
                ..Profile::default()
            },
        });
        let bytes = r.to_bytes().unwrap();
        // Misaligned copy still reads.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&bytes);
        assert_eq!(Record::from_bytes(&shifted[1..]).unwrap(), r);
        assert!(Record::from_bytes(&[0xFF; 7]).is_err());
        let image = ShardImage {
            users: vec![UserRecord {
                id: "wv:bob@imps.local".into(),
                sealed_password: vec![9],
                profile: Profile::default(),
            }],
            contact_lists: vec![(
                "wv:bob@imps.local".into(),
                ContactListRecord {
                    id: "wv:bob/friends@imps.local".into(),
                    display_name: Some("Friends".into()),
                    default: true,
                    contacts: vec![ContactRecord {
                        user: "wv:alice@imps.local".into(),
                        nick: Some("Al".into()),
                    }],
                },
            )],
            attribute_lists: vec![(
                "wv:bob@imps.local".into(),
                AttributeTarget::List("wv:bob/friends@imps.local".into()),
                vec!["OnlineStatus".into(), "StatusText".into()],
            )],
            grants: vec![(
                "wv:bob@imps.local".into(),
                "wv:carol@imps.local".into(),
                GrantRecord {
                    accepted: true,
                    attributes: None,
                },
            )],
            letters: vec![(
                "wv:bob@imps.local".into(),
                LetterRecord {
                    id: "m1".into(),
                    sender: "wv:alice@imps.local".into(),
                    content_type: Some("text/plain".into()),
                    base64: false,
                    content: Some("héllo".into()),
                    report: true,
                    sent_ms: 1,
                    expires_ms: 2,
                },
            )],
            access_lists: vec![(
                "wv:bob@imps.local".into(),
                AccessListsRecord {
                    block_in_use: true,
                    block: vec!["wv:eve@imps.local".into()],
                    ..AccessListsRecord::default()
                },
            )],
            groups: vec![GroupRecord {
                id: "wv:bob/club@imps.local".into(),
                owner: Some("wv:bob@imps.local".into()),
                properties: vec![("Name".into(), "Club".into())],
                welcome: Some(("text/plain".into(), "Hi".into())),
                members: vec![("wv:bob@imps.local".into(), 2)],
                reject: vec!["wv:eve@imps.local".into()],
            }],
        };
        assert_eq!(
            ShardImage::from_bytes(&image.to_bytes().unwrap()).unwrap(),
            image
        );
    }
}
