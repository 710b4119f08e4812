//! Who may see which of a publisher's attributes.
//!
//! ```text
//!   own attribute list for the watcher          -> that list            (proactive)
//!   else member of contact lists with lists     -> union of those lists (proactive)
//!   else the default attribute list             -> that list            (proactive)
//!   else a reactive decision: accepted          -> its attributes, or the default list
//!                             refused           -> nothing
//!                             none yet          -> nothing, and the publisher is asked
//! ```
//!
//! Proactive grants have priority: a watcher authorized proactively is never the subject of
//! a reactive request. An empty list authorizes nothing.

use imps_protocol::types::ContactListId;

use super::mask;
use crate::record::AttributeTarget;
use crate::shard::Shard;
use crate::users::{User, UserIdx};

/// The outcome of an authorization check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authorization {
    /// These attributes: a mask (bit [`mask::VENDOR`] when vendor names are granted) and the
    /// vendor attribute names granted.
    Granted(u32, Vec<String>),
    /// The publisher refused.
    Refused,
    /// Nothing proactive and no reactive decision yet.
    Undecided,
}

impl Authorization {
    /// The mask granted (0 unless granted).
    pub(crate) fn mask(&self) -> u32 {
        match self {
            Authorization::Granted(m, _) => *m,
            _ => 0,
        }
    }

    fn of_names<'a>(names: impl IntoIterator<Item = &'a str> + Clone) -> Self {
        let m = mask::of_names(names.clone());
        let vendor = names
            .into_iter()
            .filter(|n| mask::bit_of(n).is_none())
            .map(str::to_owned)
            .collect();
        Authorization::Granted(m, vendor)
    }
}

/// The attribute names `user` proactively grants `watcher`, if any list applies.
fn proactive<'a>(user: &'a User, watcher: &str, domain: &str) -> Option<Vec<&'a str>> {
    let list_of = |t: &AttributeTarget| {
        user.attribute_lists
            .iter()
            .find(|(x, _)| x == t)
            .map(|(_, names)| names)
    };
    if let Some(names) = list_of(&AttributeTarget::User(watcher.to_owned())) {
        return Some(names.iter().map(String::as_str).collect());
    }
    let mut union: Option<Vec<&str>> = None;
    for list in &user.contact_lists {
        if !list.contacts.iter().any(|c| c.user == watcher) {
            continue;
        }
        let Ok(id) = ContactListId::from(list.id.as_str()).normalize(domain) else {
            continue;
        };
        if let Some(names) = list_of(&AttributeTarget::List(id)) {
            let acc = union.get_or_insert_with(Vec::new);
            for n in names {
                if !acc.contains(&n.as_str()) {
                    acc.push(n);
                }
            }
        }
    }
    if union.is_some() {
        return union;
    }
    list_of(&AttributeTarget::Default).map(|names| names.iter().map(String::as_str).collect())
}

impl Shard {
    /// What `publisher` lets `watcher` (a normalized user ID) see.
    pub(crate) fn authorization(&self, publisher: UserIdx, watcher: &str) -> Authorization {
        let Some(user) = self.users.user(publisher) else {
            return Authorization::Refused;
        };
        if *user.id == *watcher {
            return Authorization::Granted(mask::ALL, Vec::new());
        }
        if let Some(names) = proactive(user, watcher, &self.config.domain)
            && !names.is_empty()
        {
            return Authorization::of_names(names);
        }
        match user.grants.iter().find(|(w, _)| **w == *watcher) {
            Some((_, g)) if g.accepted => match &g.attributes {
                Some(names) => Authorization::of_names(names.iter().map(String::as_str)),
                None => match user
                    .attribute_lists
                    .iter()
                    .find(|(t, _)| *t == AttributeTarget::Default)
                {
                    Some((_, names)) => Authorization::of_names(names.iter().map(String::as_str)),
                    // No default list: acceptance grants every attribute.
                    None => Authorization::Granted(mask::ALL, Vec::new()),
                },
            },
            Some(_) => Authorization::Refused,
            None => Authorization::Undecided,
        }
    }
}
