//! Group messages for sessions that fetch them (notify/get), on the joined user's shard:
//! the delivery method a session chose per group (SetDeliveryMethod with a GroupID), and
//! the group messages waiting for GetMessageList / GetMessage / MessageDelivered.
//!
//! Soft state like the join itself: it ends with the session. Leaving a group ends the
//! method chosen for it, but a message already kept (its MessageNotification is queued or
//! delivered) stays fetchable by its MessageID until it is delivered, rejected or the
//! session ends: the notification told the client it may fetch it. It is no longer listed
//! under the group. Bounded per session; when full the oldest waiting message goes (a group
//! conversation moves on; a personal message is never dropped this way).

use std::collections::VecDeque;
use std::sync::Arc;

use hashbrown::HashMap;
use imps_protocol::primitives::{MessageInfo, NewMessage};

use crate::presence::publication::SessionRef;

/// What one session keeps about its groups' messages.
#[derive(Debug, Default)]
struct SessionMail {
    /// Delivery methods chosen per group (true: push), overriding the session's.
    methods: Vec<(Arc<str>, bool)>,
    /// Waiting messages, oldest first, with their group (`None` once the session left
    /// it: fetched by MessageID only).
    waiting: VecDeque<(Option<Arc<str>>, Arc<NewMessage>)>,
}

impl SessionMail {
    fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.waiting.is_empty()
    }
}

/// The group mail of a shard's sessions.
#[derive(Debug, Default)]
pub struct GroupMail {
    sessions: HashMap<SessionRef, SessionMail>,
}

impl GroupMail {
    /// The delivery method `session` chose for `group` (None: the session's own).
    pub fn method(&self, session: SessionRef, group: &str) -> Option<bool> {
        let mail = self.sessions.get(&session)?;
        mail.methods
            .iter()
            .find(|(g, _)| &**g == group)
            .map(|(_, push)| *push)
    }

    /// `session` takes `group`'s messages by push (true) or notify/get.
    pub fn set_method(&mut self, session: SessionRef, group: Arc<str>, push: bool) {
        let mail = self.sessions.entry(session).or_default();
        match mail.methods.iter_mut().find(|(g, _)| *g == group) {
            Some(entry) => entry.1 = push,
            None => mail.methods.push((group, push)),
        }
    }

    /// Keeps `message` of `group` for `session` (at most `limit` wait; the oldest goes).
    pub fn keep(
        &mut self,
        session: SessionRef,
        group: Arc<str>,
        message: Arc<NewMessage>,
        limit: usize,
    ) {
        let mail = self.sessions.entry(session).or_default();
        while mail.waiting.len() >= limit.max(1) {
            mail.waiting.pop_front();
        }
        mail.waiting.push_back((Some(group), message));
    }

    /// The infos of `group`'s messages waiting for `session`, oldest first, at most `max`.
    pub fn list(&self, session: SessionRef, group: &str, max: usize) -> Vec<MessageInfo> {
        let Some(mail) = self.sessions.get(&session) else {
            return Vec::new();
        };
        mail.waiting
            .iter()
            .filter(|(g, _)| g.as_deref() == Some(group))
            .take(max)
            .map(|(_, m)| m.message_info.clone())
            .collect()
    }

    /// The waiting message `id` of `session`.
    pub fn find(&self, session: SessionRef, id: &str) -> Option<&Arc<NewMessage>> {
        let mail = self.sessions.get(&session)?;
        mail.waiting
            .iter()
            .find(|(_, m)| {
                m.message_info
                    .message_id
                    .as_ref()
                    .is_some_and(|x| x.0 == id)
            })
            .map(|(_, m)| m)
    }

    /// Removes the waiting message `id` of `session`; false when there is none.
    pub fn take(&mut self, session: SessionRef, id: &str) -> bool {
        let Some(mail) = self.sessions.get_mut(&session) else {
            return false;
        };
        let Some(i) = mail.waiting.iter().position(|(_, m)| {
            m.message_info
                .message_id
                .as_ref()
                .is_some_and(|x| x.0 == id)
        }) else {
            return false;
        };
        mail.waiting.remove(i);
        if mail.is_empty() {
            self.sessions.remove(&session);
        }
        true
    }

    /// `session` left `group`: its method goes; its waiting messages, already announced,
    /// stay fetchable by MessageID but are no longer listed under the group.
    pub fn left(&mut self, session: SessionRef, group: &str) {
        let Some(mail) = self.sessions.get_mut(&session) else {
            return;
        };
        mail.methods.retain(|(g, _)| &**g != group);
        for (g, _) in &mut mail.waiting {
            if g.as_deref() == Some(group) {
                *g = None;
            }
        }
        if mail.is_empty() {
            self.sessions.remove(&session);
        }
    }

    /// `session` ended.
    pub fn ended(&mut self, session: SessionRef) {
        self.sessions.remove(&session);
    }

    /// Sessions with something kept (for tests and metrics).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no session keeps anything.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::types::MessageId;

    fn message(id: &str) -> Arc<NewMessage> {
        Arc::new(NewMessage {
            message_info: MessageInfo {
                message_id: Some(MessageId(id.into())),
                ..MessageInfo::default()
            },
            content_data: Some(format!("text of {id}")),
        })
    }

    #[test]
    fn waiting_messages_are_bounded_listed_per_group_and_taken_once() {
        let s = SessionRef {
            shard: 0,
            slot: 1,
            serial: 1,
        };
        let (a, b): (Arc<str>, Arc<str>) = ("wv:/a@d".into(), "wv:/b@d".into());
        let mut mail = GroupMail::default();
        for i in 0..5 {
            mail.keep(s, a.clone(), message(&format!("a{i}")), 3);
        }
        mail.keep(s, b.clone(), message("b0"), 10);
        let ids = |v: Vec<MessageInfo>| -> Vec<String> {
            v.into_iter()
                .filter_map(|i| i.message_id.map(|m| m.0))
                .collect()
        };
        assert_eq!(
            ids(mail.list(s, &a, 10)),
            ["a2", "a3", "a4"],
            "oldest dropped"
        );
        assert_eq!(ids(mail.list(s, &b, 10)), ["b0"]);
        assert!(mail.find(s, "a3").is_some());
        assert!(mail.take(s, "a3"));
        assert!(!mail.take(s, "a3"), "taken once");
        mail.set_method(s, a.clone(), true);
        assert_eq!(mail.method(s, &a), Some(true));
        assert_eq!(mail.method(s, &b), None);
        mail.left(s, &a);
        assert_eq!(mail.method(s, &a), None);
        assert!(mail.list(s, &a, 10).is_empty(), "no longer listed");
        assert!(mail.find(s, "a4").is_some(), "announced: still fetchable");
        assert!(mail.take(s, "a4"));
        assert_eq!(ids(mail.list(s, &b, 10)), ["b0"], "other groups unchanged");
        mail.ended(s);
        assert!(mail.is_empty());
    }
}
