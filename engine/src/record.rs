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

/// An invitation a user sent, still open, as its inviter's shard stores it.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct SentInvitationRecord {
    /// The InviteID (trimmed).
    pub id: String,
    /// Invitees who have not answered and were not cancelled (normalized user IDs).
    pub invitees: Vec<String>,
    /// When it was sent, ms since the Unix epoch.
    pub sent_ms: u64,
    /// When it expires, ms since the Unix epoch.
    pub expires_ms: u64,
}

/// An invitation a user received and has not answered, as the invitee's shard stores it.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct ReceivedInvitationRecord {
    /// The inviter's normalized user ID.
    pub inviter: String,
    /// The InviteID as the inviter wrote it.
    pub invite_id: String,
    /// The InviteType as written on the wire (`IM`, `PR`, `GR`, `SC`).
    pub invite_type: String,
    /// The group (type GR).
    pub group_id: Option<String>,
    /// The presence attributes offered, by name (type PR).
    pub attributes: Option<Vec<String>>,
    /// The content shared (type SC).
    pub urls: Option<Vec<String>>,
    /// The inviter's note.
    pub note: Option<String>,
    /// Seconds the invitation stands, from when it was sent.
    pub validity_s: u32,
    /// When it expires, ms since the Unix epoch.
    pub expires_ms: u64,
    /// Shown to a session of the invitee (a cancellation must then be told).
    pub seen: bool,
}

/// An invitee's answer, held for the inviter (an Invite-Response).
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct InvitationAnswerRecord {
    /// The InviteID.
    pub invite_id: String,
    /// The invitee's normalized user ID.
    pub invitee: String,
    /// Accepted.
    pub acceptance: bool,
    /// The invitee's note.
    pub note: Option<String>,
}

/// An inviter's cancellation, held for an invitee who saw the invitation (a
/// CancelInviteUser-Request).
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub struct InvitationCancelRecord {
    /// The InviteID as the inviter wrote it.
    pub invite_id: String,
    /// The inviter's normalized user ID.
    pub inviter: String,
    /// The inviter's note.
    pub note: Option<String>,
    /// Content no longer shared.
    pub urls: Option<Vec<String>>,
}

/// An answer or a cancellation held for an offline user's next login.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[rkyv(attr(allow(missing_docs)))]
pub enum InvitationNoticeRecord {
    /// An invitee answered the user's invitation.
    Answer(InvitationAnswerRecord),
    /// The inviter cancelled an invitation the user saw.
    Cancel(InvitationCancelRecord),
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
    /// A user sent an invitation: (inviter, the invitation).
    InvitationSent(String, SentInvitationRecord),
    /// Invitees of a sent invitation are no longer waited for (not delivered, answered or
    /// cancelled): (inviter, InviteID, invitees). The invitation goes with its last invitee.
    InviteesDone(String, String, Vec<String>),
    /// A user received an invitation (it replaces one of the same inviter and InviteID):
    /// (invitee, the invitation). Boxed so that the archived `Record` keeps its size (logs
    /// written before these variants still decode).
    InvitationReceived(String, Box<ReceivedInvitationRecord>),
    /// A received invitation was answered or cancelled: (invitee, inviter, InviteID).
    InvitationClosed(String, String, String),
    /// An answer or cancellation waits for an offline user (the oldest goes beyond the
    /// per-user limit): (user, notice).
    InvitationNoticeHeld(String, InvitationNoticeRecord),
    /// A session of the user got every open invitation and every notice held: the
    /// invitations are seen, the notices gone (the user's normalized ID).
    InvitationsDelivered(String),
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
    /// Every open invitation sent: (inviter, invitation).
    pub sent_invitations: Vec<(String, SentInvitationRecord)>,
    /// Every open invitation received: (invitee, invitation).
    pub received_invitations: Vec<(String, ReceivedInvitationRecord)>,
    /// Every notice held for an offline user, oldest first: (user, notice).
    pub invitation_notices: Vec<(String, InvitationNoticeRecord)>,
}

/// Bytes that do not hold a valid archive.
#[derive(Debug, thiserror::Error)]
#[error("record does not decode: {0}")]
pub struct RecordError(String);

pub(crate) fn aligned(bytes: &[u8]) -> AlignedVec {
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

archive_bytes!(Record);

impl RecordError {
    pub(crate) fn new(reason: impl std::fmt::Display) -> Self {
        Self(reason.to_string())
    }
}

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
        let invitations = [
            Record::InviteesDone(
                "wv:bob@imps.local".into(),
                "chat".into(),
                vec!["wv:carol@imps.local".into()],
            ),
            Record::InvitationClosed(
                "wv:carol@imps.local".into(),
                "wv:bob@imps.local".into(),
                "chat".into(),
            ),
            Record::InvitationsDelivered("wv:carol@imps.local".into()),
        ];
        for r in invitations {
            assert_eq!(Record::from_bytes(&r.to_bytes().unwrap()).unwrap(), r);
        }
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
            sent_invitations: vec![(
                "wv:bob@imps.local".into(),
                SentInvitationRecord {
                    id: "chat".into(),
                    invitees: vec!["wv:carol@imps.local".into()],
                    sent_ms: 1,
                    expires_ms: 86_400_001,
                },
            )],
            received_invitations: vec![(
                "wv:bob@imps.local".into(),
                ReceivedInvitationRecord {
                    inviter: "wv:carol@imps.local".into(),
                    invite_id: "see".into(),
                    invite_type: "PR".into(),
                    group_id: None,
                    attributes: Some(vec!["StatusText".into()]),
                    urls: None,
                    note: Some("hi".into()),
                    validity_s: 60,
                    expires_ms: 60_000,
                    seen: true,
                },
            )],
            invitation_notices: vec![
                (
                    "wv:bob@imps.local".into(),
                    InvitationNoticeRecord::Answer(InvitationAnswerRecord {
                        invite_id: "chat".into(),
                        invitee: "wv:carol@imps.local".into(),
                        acceptance: false,
                        note: None,
                    }),
                ),
                (
                    "wv:bob@imps.local".into(),
                    InvitationNoticeRecord::Cancel(InvitationCancelRecord {
                        invite_id: "party".into(),
                        inviter: "wv:dave@imps.local".into(),
                        note: Some("sorry".into()),
                        urls: Some(vec!["http://party.example/".into()]),
                    }),
                ),
            ],
        };
        assert_eq!(
            ShardImage::from_bytes(&image.to_bytes().unwrap()).unwrap(),
            image
        );
    }

    #[test]
    fn the_archived_record_keeps_its_size() {
        // The root of an archive sits at its end, found by the archived size: logs written
        // by earlier builds decode only while it stays the same (new variants go last and
        // box what is large).
        assert_eq!(std::mem::size_of::<ArchivedRecord>(), 80);
    }
}
