//! The per-shard search indexes: sorted maps from folded (lowercase) text to the users or
//! groups carrying it, so a search reads a key range instead of scanning every user.
//!
//! A value is indexed under every *word start*: `"Anna-Liisa Virtanen"` is found by `ann`,
//! `liisa` and `virt`. Keys are cut to [`KEY_MAX`] bytes; a lookup reads the range of the
//! (cut) query and every candidate is checked against the whole value with [`matches`]:
//!
//! ```text
//!   put user  --> keys(first name) ... keys(mobile) --> TokenIndex (key -> postings)
//!   search    --> range [query, query~) of the most selective criterion --> candidates
//!             --> every criterion checked on the candidate's values --> hits
//! ```

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::record::{GroupRecord, Profile};
use crate::users::UserIdx;

/// Longest key kept, in bytes (longer values are cut at a character boundary).
pub const KEY_MAX: usize = 24;

/// Word starts indexed per value at most (the rest is still matched by [`matches`] when a
/// candidate is found through another criterion).
const WORDS_MAX: usize = 8;

/// What a text value is matched as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// Any word of the value starts with the query (names, aliases, topics).
    Words,
    /// Like `Words`, but only words before the `@` start a match (user IDs, e-mail: the
    /// domain is shared by too many to be a useful criterion).
    LocalWords,
    /// The value starts with the query (mobile numbers, compared digit by digit).
    Prefix,
    /// The value equals the query (user IDs of owners).
    Exact,
}

/// Lowercase, trimmed, wildcards (`*`, `%`) at either end removed; mobile numbers keep
/// only their digits.
pub fn fold(text: &str, matching: Matching) -> String {
    let t = text.trim().trim_matches(|c| c == '*' || c == '%').trim();
    match matching {
        Matching::Prefix => t.chars().filter(char::is_ascii_digit).collect(),
        _ => t.to_lowercase(),
    }
}

/// Byte offsets where a match may start in a folded value.
fn starts(folded: &str, matching: Matching) -> impl Iterator<Item = usize> + '_ {
    let end = match matching {
        Matching::LocalWords => folded.find('@').unwrap_or(folded.len()),
        _ => folded.len(),
    };
    let words = matches!(matching, Matching::Words | Matching::LocalWords);
    let mut prev_word = false;
    folded.char_indices().filter_map(move |(i, c)| {
        let word = c.is_alphanumeric();
        let start = if words {
            word && !prev_word && i < end
        } else {
            i == 0
        };
        prev_word = word;
        start.then_some(i)
    })
}

/// Cuts `s` to at most [`KEY_MAX`] bytes at a character boundary.
pub fn cut(s: &str) -> &str {
    if s.len() <= KEY_MAX {
        return s;
    }
    let mut end = KEY_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The index keys of a folded value.
pub fn keys(folded: &str, matching: Matching) -> Vec<&str> {
    if folded.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<&str> = starts(folded, matching)
        .take(WORDS_MAX)
        .map(|i| cut(&folded[i..]))
        .collect();
    if out.is_empty() {
        out.push(cut(folded));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Does the raw `value` match the folded `query`?
pub fn matches(value: &str, query: &str, matching: Matching) -> bool {
    let folded = fold(value, matching);
    match matching {
        Matching::Exact => folded == query,
        Matching::Prefix => folded.starts_with(query),
        _ => {
            let mut any = false;
            for i in starts(&folded, matching) {
                if folded[i..].starts_with(query) {
                    any = true;
                    break;
                }
            }
            any || folded.starts_with(query)
        }
    }
}

/// The entities under one key: most keys name one, so one is kept inline.
#[derive(Debug, Clone)]
enum Postings<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: PartialEq + Clone> Postings<T> {
    fn len(&self) -> usize {
        match self {
            Postings::One(_) => 1,
            Postings::Many(v) => v.len(),
        }
    }

    fn push(&mut self, item: T) {
        match self {
            Postings::One(first) => *self = Postings::Many(vec![first.clone(), item]),
            Postings::Many(v) => v.push(item),
        }
    }

    /// Removes `item`; true when nothing is left.
    fn remove(&mut self, item: &T) -> bool {
        let Postings::Many(v) = self else {
            return matches!(self, Postings::One(x) if x == item);
        };
        if let Some(i) = v.iter().position(|x| x == item) {
            v.swap_remove(i);
        }
        match v.pop() {
            None => true,
            Some(last) if v.is_empty() => {
                *self = Postings::One(last);
                false
            }
            Some(last) => {
                v.push(last);
                false
            }
        }
    }

    fn for_each(&self, mut f: impl FnMut(&T)) {
        match self {
            Postings::One(x) => f(x),
            Postings::Many(v) => v.iter().for_each(f),
        }
    }
}

/// Folded keys to the entities carrying them, sorted for prefix ranges.
#[derive(Debug, Clone)]
pub struct TokenIndex<T> {
    map: BTreeMap<Box<str>, Postings<T>>,
}

impl<T> Default for TokenIndex<T> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }
}

impl<T: PartialEq + Clone> TokenIndex<T> {
    /// Indexes `item` under every key of `value`.
    pub fn insert(&mut self, value: &str, matching: Matching, item: &T) {
        let folded = fold(value, matching);
        for key in keys(&folded, matching) {
            match self.map.get_mut(key) {
                Some(p) => p.push(item.clone()),
                None => {
                    self.map.insert(key.into(), Postings::One(item.clone()));
                }
            }
        }
    }

    /// Removes `item` from every key of `value`.
    pub fn remove(&mut self, value: &str, matching: Matching, item: &T) {
        let folded = fold(value, matching);
        for key in keys(&folded, matching) {
            if self.map.get_mut(key).is_some_and(|p| p.remove(item)) {
                self.map.remove(key);
            }
        }
    }

    fn range<'a>(&'a self, query: &'a str) -> impl Iterator<Item = &'a Postings<T>> + 'a {
        let q = cut(query);
        self.map
            .range::<str, _>((Bound::Included(q), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(q))
            .map(|(_, p)| p)
    }

    /// Entries under keys starting with `query`, counted up to `cap`.
    pub fn count(&self, query: &str, cap: usize) -> usize {
        let mut n = 0;
        for p in self.range(query) {
            n += p.len();
            if n >= cap {
                return cap;
            }
        }
        n
    }

    /// Appends the entities under keys starting with `query` (possibly repeated).
    pub fn collect(&self, query: &str, out: &mut Vec<T>) {
        for p in self.range(query) {
            p.for_each(|x| out.push(x.clone()));
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A user field that is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    /// The user ID (its part before the `@`).
    Id,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// E-mail address.
    Email,
    /// Alias.
    Alias,
    /// Mobile number.
    Mobile,
}

impl UserField {
    /// Every field, in index order.
    pub const ALL: [UserField; 6] = [
        UserField::Id,
        UserField::FirstName,
        UserField::LastName,
        UserField::Email,
        UserField::Alias,
        UserField::Mobile,
    ];

    /// How values of this field match.
    pub fn matching(self) -> Matching {
        match self {
            UserField::Id | UserField::Email => Matching::LocalWords,
            UserField::Mobile => Matching::Prefix,
            _ => Matching::Words,
        }
    }

    /// This field of a user (ID without its `wv:` scheme).
    pub fn value<'a>(self, id: &'a str, profile: Option<&'a Profile>) -> Option<&'a str> {
        let p = profile;
        match self {
            UserField::Id => Some(id.strip_prefix("wv:").unwrap_or(id)),
            UserField::FirstName => p?.first_name.as_deref(),
            UserField::LastName => p?.last_name.as_deref(),
            UserField::Email => p?.email.as_deref(),
            UserField::Alias => p?.alias.as_deref(),
            UserField::Mobile => p?.mobile.as_deref(),
        }
    }
}

/// The user indexes of a shard, one per [`UserField`]; kept by [`crate::users::Directory`].
#[derive(Debug, Default)]
pub struct UserIndex {
    fields: [TokenIndex<UserIdx>; 6],
}

impl UserIndex {
    /// Indexes (`add`) or unindexes a user's ID and profile.
    pub fn update(&mut self, idx: UserIdx, id: &str, profile: Option<&Profile>, add: bool) {
        for (field, index) in UserField::ALL.iter().zip(self.fields.iter_mut()) {
            if let Some(v) = field.value(id, profile) {
                if add {
                    index.insert(v, field.matching(), &idx);
                } else {
                    index.remove(v, field.matching(), &idx);
                }
            }
        }
    }

    /// The index of `field`.
    pub fn field(&self, field: UserField) -> &TokenIndex<UserIdx> {
        let i = UserField::ALL.iter().position(|f| *f == field).unwrap_or(0);
        &self.fields[i]
    }
}

/// A group field that is searched through an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    /// The group ID (its part before the `@`: owner and name).
    Id,
    /// The `Name` property.
    Name,
    /// The `Topic` property.
    Topic,
    /// The owner's user ID.
    Owner,
}

impl GroupField {
    /// Every indexed field.
    pub const ALL: [GroupField; 4] = [
        GroupField::Id,
        GroupField::Name,
        GroupField::Topic,
        GroupField::Owner,
    ];

    /// How values of this field match.
    pub fn matching(self) -> Matching {
        match self {
            GroupField::Id => Matching::LocalWords,
            GroupField::Owner => Matching::Exact,
            _ => Matching::Words,
        }
    }

    /// This field of a stored group.
    pub fn value(self, g: &GroupRecord) -> Option<&str> {
        let prop = |name: &str| {
            g.properties
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        match self {
            GroupField::Id => Some(g.id.strip_prefix("wv:").unwrap_or(&g.id)),
            GroupField::Name => prop("Name"),
            GroupField::Topic => prop("Topic"),
            GroupField::Owner => g.owner.as_deref(),
        }
    }
}

/// True when a stored group is found by search (`Searchable` T).
pub fn searchable(g: &GroupRecord) -> bool {
    g.properties
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Searchable"))
        .is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("T"))
}

/// The searchable groups of a shard, indexed by [`GroupField`].
#[derive(Debug, Default)]
pub struct GroupIndex {
    fields: [TokenIndex<Box<str>>; 4],
    /// Every searchable group.
    all: std::collections::BTreeSet<Box<str>>,
    /// The groups of this shard each user is joined to now (for GROUP_USER_ID_JOINED),
    /// with the number of that user's sessions joined to each. Every group, searchable or
    /// not: joins are soft and change more often than properties.
    joined: hashbrown::HashMap<std::sync::Arc<str>, Vec<(Box<str>, u32)>>,
}

impl GroupIndex {
    fn update(&mut self, g: &GroupRecord, add: bool) {
        if !searchable(g) {
            return;
        }
        let id: Box<str> = g.id.as_str().into();
        for (field, index) in GroupField::ALL.iter().zip(self.fields.iter_mut()) {
            if let Some(v) = field.value(g) {
                if add {
                    index.insert(v, field.matching(), &id);
                } else {
                    index.remove(v, field.matching(), &id);
                }
            }
        }
        if add {
            self.all.insert(id);
        } else {
            self.all.remove(&id);
        }
    }

    /// A group is stored: `old` (its previous version, if any) is replaced by `new`.
    pub fn put(&mut self, old: Option<&GroupRecord>, new: &GroupRecord) {
        if let Some(old) = old {
            self.update(old, false);
        }
        self.update(new, true);
    }

    /// A group is dropped.
    pub fn remove(&mut self, g: &GroupRecord) {
        self.update(g, false);
    }

    /// The index of `field`.
    pub fn field(&self, field: GroupField) -> &TokenIndex<Box<str>> {
        let i = GroupField::ALL
            .iter()
            .position(|f| *f == field)
            .unwrap_or(0);
        &self.fields[i]
    }

    /// Every searchable group.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.all.iter().map(|g| &**g)
    }

    /// A session of `user` joined `group`.
    pub fn note_joined(&mut self, user: &std::sync::Arc<str>, group: &str) {
        let groups = self.joined.entry(user.clone()).or_default();
        match groups.iter_mut().find(|(g, _)| &**g == group) {
            Some((_, n)) => *n += 1,
            None => groups.push((group.into(), 1)),
        }
    }

    /// A session of `user` left `group` (or was made to).
    pub fn note_left(&mut self, user: &str, group: &str) {
        let Some(groups) = self.joined.get_mut(user) else {
            return;
        };
        if let Some(i) = groups.iter().position(|(g, _)| &**g == group) {
            groups[i].1 -= 1;
            if groups[i].1 == 0 {
                groups.swap_remove(i);
            }
        }
        if groups.is_empty() {
            self.joined.remove(user);
        }
    }

    /// The groups of this shard `user` is joined to.
    pub fn joined_by(&self, user: &str) -> impl Iterator<Item = &str> {
        self.joined
            .get(user)
            .into_iter()
            .flatten()
            .map(|(g, _)| &**g)
    }

    /// Number of searchable groups.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// True when no group is searchable.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_users_are_counted_per_session() {
        let mut index = GroupIndex::default();
        let ann: std::sync::Arc<str> = "wv:ann@d".into();
        index.note_joined(&ann, "wv:/a@d");
        index.note_joined(&ann, "wv:/a@d");
        index.note_joined(&ann, "wv:/b@d");
        let mut groups: Vec<&str> = index.joined_by("wv:ann@d").collect();
        groups.sort_unstable();
        assert_eq!(groups, ["wv:/a@d", "wv:/b@d"]);
        index.note_left("wv:ann@d", "wv:/a@d");
        assert_eq!(
            index.joined_by("wv:ann@d").count(),
            2,
            "one session still in a"
        );
        index.note_left("wv:ann@d", "wv:/a@d");
        index.note_left("wv:ann@d", "wv:/b@d");
        index.note_left("wv:ann@d", "wv:/b@d");
        assert_eq!(index.joined_by("wv:ann@d").count(), 0);
        assert!(index.joined.is_empty(), "no empty entries kept");
    }

    #[test]
    fn words_start_matches_and_keys_are_cut() {
        let f = fold("  Anna-Liisa VIRTANEN* ", Matching::Words);
        assert_eq!(f, "anna-liisa virtanen");
        assert_eq!(
            keys(&f, Matching::Words),
            vec!["anna-liisa virtanen", "liisa virtanen", "virtanen"]
        );
        assert!(matches("Anna-Liisa Virtanen", "liis", Matching::Words));
        assert!(matches("Anna-Liisa Virtanen", "anna-li", Matching::Words));
        assert!(!matches("Anna-Liisa Virtanen", "nna", Matching::Words));
        let long = "a".repeat(40);
        assert_eq!(
            keys(&long, Matching::Words),
            vec!["a".repeat(KEY_MAX).as_str()]
        );
        assert_eq!(fold("+358 (40) 123-45", Matching::Prefix), "3584012345");
        assert!(matches("+358 40 123", "35840", Matching::Prefix));
        assert!(!matches("+358 40 123", "40", Matching::Prefix));
    }

    #[test]
    fn local_words_stop_at_the_domain() {
        let f = fold("john.smith@example.com", Matching::LocalWords);
        assert_eq!(
            keys(&f, Matching::LocalWords),
            vec!["john.smith@example.com", "smith@example.com"]
        );
        assert!(matches(
            "john.smith@example.com",
            "smith@ex",
            Matching::LocalWords
        ));
        assert!(!matches(
            "john.smith@example.com",
            "example",
            Matching::LocalWords
        ));
    }

    #[test]
    fn postings_grow_shrink_and_ranges_count() {
        let mut ix: TokenIndex<u32> = TokenIndex::default();
        ix.insert("Alice Smith", Matching::Words, &1);
        ix.insert("Alicia Keys", Matching::Words, &2);
        ix.insert("Bob Smith", Matching::Words, &3);
        assert_eq!(ix.count("ali", 100), 2);
        assert_eq!(ix.count("smith", 100), 2);
        assert_eq!(ix.count("smith", 1), 1, "capped");
        let mut out = Vec::new();
        ix.collect("smi", &mut out);
        out.sort_unstable();
        assert_eq!(out, vec![1, 3]);
        ix.remove("Alice Smith", Matching::Words, &1);
        ix.remove("Bob Smith", Matching::Words, &3);
        assert_eq!(ix.count("smith", 100), 0);
        assert_eq!(ix.len(), 2, "alicia keys, keys");
        ix.remove("Alicia Keys", Matching::Words, &2);
        assert!(ix.is_empty());
    }
}
