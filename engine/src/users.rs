//! The users a shard owns: accounts (durable) and, per user, the sessions they hold (soft).
//!
//! Users live in a slab addressed by [`UserIdx`]; a map from the normalized user ID finds
//! them. Profiles are boxed so that the many users without one cost a pointer.

use hashbrown::HashMap;

use crate::presence::publication::Publication;
use crate::record::{AttributeTarget, ContactListRecord, GrantRecord, Profile, UserRecord};

/// Handle of a user in its shard's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserIdx(pub u32);

/// One account.
#[derive(Debug)]
pub struct User {
    /// Normalized user ID.
    pub id: Box<str>,
    /// The sealed password.
    pub sealed_password: Box<[u8]>,
    /// Searchable profile, when any field is set.
    pub profile: Option<Box<Profile>>,
    /// Slots of the sessions this user holds.
    pub sessions: Vec<u32>,
    /// The user's contact lists.
    pub contact_lists: Vec<ContactListRecord>,
    /// The user's attribute lists: what each target is authorized to see.
    pub attribute_lists: Vec<(AttributeTarget, Vec<String>)>,
    /// Reactive decisions about watchers (normalized watcher ID, decision).
    pub grants: Vec<(Box<str>, GrantRecord)>,
    /// Presence and watchers (soft; `None` until someone publishes or watches).
    pub presence: Option<Box<Publication>>,
    /// Messaging state: waiting messages, block and grant lists, recent sends, reports.
    pub im: Option<Box<crate::im::mailbox::Mailbox>>,
}

/// A shard's users.
#[derive(Debug, Default)]
pub struct Directory {
    slots: Vec<Option<User>>,
    free: Vec<u32>,
    by_id: HashMap<Box<str>, UserIdx>,
    /// The search index over IDs and profiles.
    search: crate::search::index::UserIndex,
}

impl Directory {
    /// Creates or replaces an account (sessions of a replaced account are kept).
    pub fn put(&mut self, record: UserRecord) -> UserIdx {
        let profile = (!record.profile.is_empty()).then(|| Box::new(record.profile));
        if let Some(&idx) = self.by_id.get(record.id.as_str()) {
            if let Some(Some(user)) = self.slots.get_mut(idx.0 as usize) {
                user.sealed_password = record.sealed_password.into_boxed_slice();
                self.search
                    .update(idx, &user.id, user.profile.as_deref(), false);
                user.profile = profile;
                self.search
                    .update(idx, &user.id, user.profile.as_deref(), true);
            }
            return idx;
        }
        let id: Box<str> = record.id.into_boxed_str();
        let user = User {
            id: id.clone(),
            sealed_password: record.sealed_password.into_boxed_slice(),
            profile,
            sessions: Vec::new(),
            contact_lists: Vec::new(),
            attribute_lists: Vec::new(),
            grants: Vec::new(),
            presence: None,
            im: None,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(user);
                UserIdx(i)
            }
            None => {
                self.slots.push(Some(user));
                UserIdx((self.slots.len() - 1) as u32)
            }
        };
        if let Some(Some(u)) = self.slots.get(idx.0 as usize) {
            self.search.update(idx, &u.id, u.profile.as_deref(), true);
        }
        self.by_id.insert(id, idx);
        idx
    }

    /// Removes an account; returns it (with its session slots) when it existed.
    pub fn remove(&mut self, id: &str) -> Option<User> {
        let idx = self.by_id.remove(id)?;
        let user = self.slots.get_mut(idx.0 as usize)?.take();
        self.free.push(idx.0);
        if let Some(u) = &user {
            self.search.update(idx, &u.id, u.profile.as_deref(), false);
        }
        user
    }

    /// The search index over IDs and profiles.
    pub fn search_index(&self) -> &crate::search::index::UserIndex {
        &self.search
    }

    /// Finds a user by normalized ID.
    pub fn find(&self, id: &str) -> Option<UserIdx> {
        self.by_id.get(id).copied()
    }

    /// The user at `idx`.
    pub fn user(&self, idx: UserIdx) -> Option<&User> {
        self.slots.get(idx.0 as usize).and_then(Option::as_ref)
    }

    /// The user at `idx`, mutably.
    pub fn user_mut(&mut self, idx: UserIdx) -> Option<&mut User> {
        self.slots.get_mut(idx.0 as usize).and_then(Option::as_mut)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every contact list with its owner (for snapshots).
    pub fn contact_lists(&self) -> Vec<(String, ContactListRecord)> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|u| {
                u.contact_lists
                    .iter()
                    .map(|l| (u.id.to_string(), l.clone()))
            })
            .collect()
    }

    /// Every attribute list with its owner (for snapshots).
    pub fn attribute_lists(&self) -> Vec<(String, AttributeTarget, Vec<String>)> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|u| {
                u.attribute_lists
                    .iter()
                    .map(|(t, names)| (u.id.to_string(), t.clone(), names.clone()))
            })
            .collect()
    }

    /// Every reactive decision with its publisher (for snapshots).
    pub fn grants(&self) -> Vec<(String, String, GrantRecord)> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|u| {
                u.grants
                    .iter()
                    .map(|(w, g)| (u.id.to_string(), w.to_string(), g.clone()))
            })
            .collect()
    }

    /// Every stored (durable) waiting message with its recipient (for snapshots).
    pub fn letters(&self) -> Vec<(String, crate::record::LetterRecord)> {
        self.slots
            .iter()
            .flatten()
            .flat_map(|u| {
                u.im.iter()
                    .flat_map(|m| m.letters.iter())
                    .filter(|w| w.durable)
                    .map(|w| (u.id.to_string(), w.letter.to_record()))
            })
            .collect()
    }

    /// Every user's block and grant lists that differ from the default (for snapshots).
    pub fn access_lists(&self) -> Vec<(String, crate::record::AccessListsRecord)> {
        self.slots
            .iter()
            .flatten()
            .filter_map(|u| {
                let a = &u.im.as_deref()?.access;
                (*a != crate::record::AccessListsRecord::default())
                    .then(|| (u.id.to_string(), a.clone()))
            })
            .collect()
    }

    /// Every account as a record (for snapshots), in slot order.
    pub fn records(&self) -> Vec<UserRecord> {
        self.slots
            .iter()
            .flatten()
            .map(|u| UserRecord {
                id: u.id.to_string(),
                sealed_password: u.sealed_password.to_vec(),
                profile: u.profile.as_deref().cloned().unwrap_or_default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str) -> UserRecord {
        UserRecord {
            id: id.into(),
            sealed_password: vec![1],
            profile: Profile::default(),
        }
    }

    #[test]
    fn put_find_replace_remove() {
        let mut d = Directory::default();
        let a = d.put(rec("wv:a@x"));
        let b = d.put(rec("wv:b@x"));
        assert_ne!(a, b);
        assert_eq!(d.put(rec("wv:a@x")), a);
        assert_eq!(d.len(), 2);
        assert!(d.user(a).unwrap().profile.is_none());
        assert!(d.remove("wv:a@x").is_some());
        assert_eq!(d.find("wv:a@x"), None);
        let c = d.put(rec("wv:c@x"));
        assert_eq!(c, a, "slot reused");
        assert_eq!(d.records().len(), 2);
    }
}
