//! What the messaging service keeps per user: the messages waiting for them, their block and
//! grant lists, their recent sends (to recognize retries) and delivery reports waiting for
//! them to come online.

use std::collections::VecDeque;
use std::sync::Arc;

use imps_protocol::common::{ContentEncoding, Recipient, Sender, User};
use imps_protocol::primitives::{DeliveryReportRequest, MessageInfo};
use imps_protocol::types::{DateTime, MessageId, MimeType, UserId};

use crate::record::{AccessListsRecord, LetterRecord};

/// Recent sends remembered per user (duplicate retries).
pub const RECENT_SENDS: usize = 64;
/// Delivery reports kept for an offline sender.
pub const WAITING_REPORTS: usize = 256;

/// One message, shared by every recipient.
#[derive(Debug)]
pub struct Letter {
    /// The MessageID.
    pub id: Box<str>,
    /// The sender's normalized user ID.
    pub sender: Arc<str>,
    /// MIME type of the content.
    pub content_type: Option<Box<str>>,
    /// The content is BASE64 text.
    pub base64: bool,
    /// The content as sent.
    pub content: Option<String>,
    /// Size of the content in bytes (decoded).
    pub size: u32,
    /// The sender asked for delivery reports.
    pub report: bool,
    /// When it was sent, ms since the Unix epoch.
    pub sent_ms: u64,
    /// When it expires, ms since the Unix epoch.
    pub expires_ms: u64,
}

fn user(id: &str) -> User {
    User {
        user_id: UserId(id.to_owned()),
        client_id: None,
        friendly_name: None,
    }
}

impl Letter {
    /// `MessageInfo` as a recipient (or the sender, in a report) sees it.
    pub fn info(&self, recipient: Option<&str>) -> MessageInfo {
        MessageInfo {
            message_id: Some(MessageId(self.id.to_string())),
            message_uri: None,
            content_type: self.content_type.as_deref().map(|t| MimeType(t.to_owned())),
            content_encoding: self.base64.then_some(ContentEncoding::Base64),
            content_size: Some(self.size),
            recipient: recipient.map(|r| Recipient {
                users: vec![user(r)],
                ..Recipient::default()
            }),
            sender: Some(Sender {
                user: Some(user(&self.sender)),
                group: None,
            }),
            date_time: Some(DateTime::from_unix(self.sent_ms / 1000)),
            validity: Some(
                u32::try_from(self.expires_ms.saturating_sub(self.sent_ms) / 1000)
                    .unwrap_or(u32::MAX),
            ),
        }
    }

    /// The stored form.
    pub fn to_record(&self) -> LetterRecord {
        LetterRecord {
            id: self.id.to_string(),
            sender: self.sender.to_string(),
            content_type: self.content_type.as_deref().map(str::to_owned),
            base64: self.base64,
            content: self.content.clone(),
            report: self.report,
            sent_ms: self.sent_ms,
            expires_ms: self.expires_ms,
        }
    }

    /// Back from the stored form.
    pub fn from_record(r: LetterRecord) -> Self {
        let size = content_size(r.content.as_deref(), r.base64).unwrap_or(0);
        Self {
            id: r.id.into_boxed_str(),
            sender: Arc::from(r.sender),
            content_type: r.content_type.map(String::into_boxed_str),
            base64: r.base64,
            content: r.content,
            size,
            report: r.report,
            sent_ms: r.sent_ms,
            expires_ms: r.expires_ms,
        }
    }
}

/// Bytes of a content (BASE64 decoded); `None` when BASE64 text does not decode.
pub fn content_size(content: Option<&str>, base64: bool) -> Option<u32> {
    use base64::Engine as _;
    let Some(text) = content else { return Some(0) };
    let n = if base64 {
        let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean)
            .ok()?
            .len()
    } else {
        text.len()
    };
    u32::try_from(n).ok()
}

/// A message waiting for its recipient.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The message.
    pub letter: Arc<Letter>,
    /// Its record is in the log (its removal must be logged too).
    pub durable: bool,
}

/// One user's messaging state.
#[derive(Debug, Default)]
pub struct Mailbox {
    /// Messages waiting, oldest first.
    pub letters: VecDeque<Waiting>,
    /// Their total size, bytes.
    pub bytes: usize,
    /// Block and grant lists.
    pub access: AccessListsRecord,
    /// Recent sends: (client, TransactionID, MessageID), newest last.
    pub recent_sends: VecDeque<(u64, Box<str>, Box<str>)>,
    /// Delivery reports waiting for the user to come online.
    pub reports: Vec<DeliveryReportRequest>,
    /// When the shard's expiry queue next looks at this mailbox (wall-clock ms); `None`
    /// when it has no entry for it. One entry per mailbox, not one per message: a message
    /// confirmed at once leaves nothing behind.
    pub expiry_at: Option<u64>,
}

impl Mailbox {
    /// Adds a waiting message.
    pub fn push(&mut self, w: Waiting) {
        self.bytes += w.letter.size as usize;
        self.letters.push_back(w);
    }

    /// Removes the message `id`.
    pub fn take(&mut self, id: &str) -> Option<Waiting> {
        let i = self.letters.iter().position(|w| &*w.letter.id == id)?;
        let w = self.letters.remove(i)?;
        self.bytes = self.bytes.saturating_sub(w.letter.size as usize);
        Some(w)
    }

    /// The waiting message `id`.
    pub fn find(&self, id: &str) -> Option<&Waiting> {
        self.letters.iter().find(|w| &*w.letter.id == id)
    }

    /// Remembers a send; returns the MessageID of an earlier send with the same client and
    /// TransactionID, when there was one.
    pub fn remember_send(&mut self, client: u64, tid: &str, id: &str) -> Option<Box<str>> {
        if let Some((_, _, earlier)) = self
            .recent_sends
            .iter()
            .find(|(c, t, _)| *c == client && &**t == tid)
        {
            return Some(earlier.clone());
        }
        if self.recent_sends.len() >= RECENT_SENDS {
            self.recent_sends.pop_front();
        }
        self.recent_sends.push_back((client, tid.into(), id.into()));
        None
    }

    /// True when nothing is kept (the box can be dropped).
    pub fn is_idle(&self) -> bool {
        self.letters.is_empty()
            && self.reports.is_empty()
            && self.recent_sends.is_empty()
            && self.expiry_at.is_none()
            && self.access == AccessListsRecord::default()
    }

    /// Asks for the expiry queue to look at this box by `at`: true when a new entry is
    /// needed (none yet, or the one there comes later).
    pub fn schedule_expiry(&mut self, at: u64) -> bool {
        if self.expiry_at.is_some_and(|t| t <= at) {
            return false;
        }
        self.expiry_at = Some(at);
        true
    }

    /// The queue's entry for `at` came due: forgets it when it is the current one.
    pub fn expiry_due(&mut self, at: u64) {
        if self.expiry_at == Some(at) {
            self.expiry_at = None;
        }
    }

    /// The ids of the messages expired by `wall` (ms).
    pub fn expired(&self, wall: u64) -> Vec<Box<str>> {
        self.letters
            .iter()
            .filter(|w| w.letter.expires_ms <= wall)
            .map(|w| w.letter.id.clone())
            .collect()
    }

    /// When the next waiting message expires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.letters.iter().map(|w| w.letter.expires_ms).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_retries() {
        assert_eq!(content_size(Some("héllo"), false), Some(6));
        assert_eq!(content_size(Some("aGk="), true), Some(2));
        assert_eq!(content_size(Some("!!"), true), None);
        let mut m = Mailbox::default();
        assert_eq!(m.remember_send(1, "t1", "m1"), None);
        assert_eq!(m.remember_send(1, "t1", "m2").as_deref(), Some("m1"));
        assert_eq!(m.remember_send(2, "t1", "m3"), None);
    }
}
