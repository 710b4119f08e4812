//! Interned user IDs: each normalized ID a shard meets is stored once and named by a `u32`,
//! so watcher edges and subscriptions cost four bytes per name instead of a string.
//!
//! Names are never removed: they are real users (a name enters only after its owner shard
//! confirmed the account), so the table is bounded by the user population.

use std::sync::Arc;

use hashbrown::HashMap;

/// A shard's interned names.
#[derive(Debug, Default)]
pub struct Names {
    by_text: HashMap<Arc<str>, u32>,
    texts: Vec<Arc<str>>,
}

impl Names {
    /// The number of `text`, interning it when new.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&n) = self.by_text.get(text) {
            return n;
        }
        let arc: Arc<str> = Arc::from(text);
        self.intern_arc(arc)
    }

    /// Like [`Names::intern`], reusing an existing allocation.
    pub fn intern_arc(&mut self, text: Arc<str>) -> u32 {
        if let Some(&n) = self.by_text.get(&*text) {
            return n;
        }
        let n = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.clone());
        self.by_text.insert(text, n);
        n
    }

    /// The number of `text`, when interned.
    pub fn find(&self, text: &str) -> Option<u32> {
        self.by_text.get(text).copied()
    }

    /// The text of `n`.
    pub fn text(&self, n: u32) -> Option<&Arc<str>> {
        self.texts.get(n as usize)
    }

    /// How many names are interned.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable() {
        let mut n = Names::default();
        let a = n.intern("wv:a@x");
        let b = n.intern("wv:b@x");
        assert_ne!(a, b);
        assert_eq!(n.intern("wv:a@x"), a);
        assert_eq!(n.find("wv:b@x"), Some(b));
        assert_eq!(n.text(a).map(|t| &**t), Some("wv:a@x"));
        assert_eq!(n.len(), 2);
    }
}
