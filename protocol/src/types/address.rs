//! Addresses: user, contact list, group and screen name IDs.
//!
//! A CSP address is `wv:user[/resource]@domain`; clients omit `wv:` or the domain, and IDs
//! compare case-insensitively. [`Address::parse`] splits one; [`Address::normalized`] gives the
//! one spelling a server keys on (`wv:` + lowercase, domain filled in).

use std::borrow::Cow;

use crate::node::Value;
use crate::xml::writer::XmlWriter;

/// Longest address accepted.
pub const MAX_ADDRESS_LEN: usize = 256;

/// An address split into its parts (all as written, without the `wv:` scheme).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address<'a> {
    /// The user part (empty for a service group `wv:/group@domain`).
    pub user: &'a str,
    /// The part after `/`: a contact list or group name.
    pub resource: Option<&'a str>,
    /// The domain, if given.
    pub domain: Option<&'a str>,
}

/// Why a string is not a valid address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Nothing but the scheme, or nothing at all.
    #[error("empty address")]
    Empty,
    /// Longer than [`MAX_ADDRESS_LEN`].
    #[error("address too long")]
    TooLong,
    /// Whitespace, control characters or markup inside.
    #[error("invalid character in address")]
    InvalidCharacter,
    /// A user ID with a `/` part, or a list/group ID without one.
    #[error("wrong kind of address")]
    WrongKind,
}

impl<'a> Address<'a> {
    /// Splits `text`. Accepts `wv:` in any case, or none.
    pub fn parse(text: &'a str) -> Result<Self, AddressError> {
        let text = text.trim();
        if text.len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong);
        }
        let body = match text.get(..3) {
            Some(scheme) if scheme.eq_ignore_ascii_case("wv:") => &text[3..],
            _ => text,
        };
        if body.is_empty() {
            return Err(AddressError::Empty);
        }
        if body
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
        {
            return Err(AddressError::InvalidCharacter);
        }
        let (local, domain) = match body.rfind('@') {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        if domain.is_some_and(|d| d.is_empty() || d.contains('/')) {
            return Err(AddressError::InvalidCharacter);
        }
        let (user, resource) = match local.find('/') {
            Some(i) => (&local[..i], Some(&local[i + 1..])),
            None => (local, None),
        };
        if user.is_empty() && resource.is_none_or(str::is_empty) {
            return Err(AddressError::Empty);
        }
        Ok(Self {
            user,
            resource,
            domain,
        })
    }

    /// The canonical spelling: `wv:` + lowercase, with `default_domain` when none is given.
    pub fn normalized(&self, default_domain: &str) -> String {
        let domain = self.domain.unwrap_or(default_domain);
        let mut out = String::with_capacity(4 + self.user.len() + domain.len() + 16);
        out.push_str("wv:");
        push_lowercase(&mut out, self.user);
        if let Some(resource) = self.resource {
            out.push('/');
            push_lowercase(&mut out, resource);
        }
        if !domain.is_empty() {
            out.push('@');
            push_lowercase(&mut out, domain);
        }
        out
    }
}

/// Appends `s` in lowercase (without a temporary string when it is ASCII, the usual case).
fn push_lowercase(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&s.to_lowercase());
    }
}

macro_rules! address_type {
    ($($(#[$meta:meta])* $name:ident, needs_resource = $needs:expr;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            /// The ID as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Splits the ID, checking that it is of this kind.
            pub fn address(&self) -> Result<Address<'_>, AddressError> {
                let a = Address::parse(&self.0)?;
                match ($needs, a.resource) {
                    (Some(true), None) | (Some(false), Some(_)) => Err(AddressError::WrongKind),
                    _ => Ok(a),
                }
            }

            /// The canonical spelling (see [`Address::normalized`]).
            pub fn normalize(&self, default_domain: &str) -> Result<String, AddressError> {
                Ok(self.address()?.normalized(default_domain))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Value for $name {
            fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
                Ok(Self(text.trim().to_owned()))
            }
            fn write(&self, w: &mut XmlWriter<'_>) {
                w.text(&self.0);
            }
        }
        crate::value_node!($name);

        #[cfg(any(test, feature = "sample"))]
        impl crate::sample::Sample for $name {
            fn sample(g: &mut crate::sample::Gen) -> Self {
                let user = ["alice", "Bob", "carol.k", "d_4"][g.below(4)];
                let resource = match $needs {
                    Some(true) => format!("/{}", ["friends", "~PEP1.0_privatelist", "chat"][g.below(3)]),
                    _ => String::new(),
                };
                let domain = if g.coin() { "@imps.local" } else { "" };
                let scheme = if g.coin() { "wv:" } else { "" };
                Self(format!("{scheme}{user}{resource}{domain}"))
            }
        }
    )*};
}

address_type! {
    /// A user ID: `wv:alice@imps.local`, `alice`, ...
    UserId, needs_resource = Some(false);
    /// A contact list ID: `wv:alice/friends@imps.local`.
    ContactListId, needs_resource = Some(true);
    /// A group ID: `wv:alice/chat@imps.local`, or `wv:/lobby@imps.local` for a service group.
    GroupId, needs_resource = Some(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_user_normalize_alike() {
        let want = "wv:alice@imps.local";
        for s in [
            "alice",
            "wv:alice",
            "wv:alice@imps.local",
            "WV:Alice@IMPS.local",
            " alice@imps.local ",
        ] {
            assert_eq!(
                UserId::from(s).normalize("imps.local").unwrap(),
                want,
                "{s}"
            );
        }
        assert_eq!(
            UserId::from("bob@other.org")
                .normalize("imps.local")
                .unwrap(),
            "wv:bob@other.org"
        );
    }

    #[test]
    fn lists_and_groups() {
        let list = ContactListId::from("wv:Alice/~PEP1.0_PrivateList@imps.local");
        assert_eq!(
            list.normalize("x").unwrap(),
            "wv:alice/~pep1.0_privatelist@imps.local"
        );
        let a = GroupId::from("wv:/lobby@imps.local");
        assert_eq!(
            a.address().unwrap(),
            Address {
                user: "",
                resource: Some("lobby"),
                domain: Some("imps.local")
            }
        );
        assert_eq!(
            UserId::from("wv:alice/friends").address(),
            Err(AddressError::WrongKind)
        );
        assert_eq!(
            GroupId::from("wv:alice").address(),
            Err(AddressError::WrongKind)
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Address::parse("wv:"), Err(AddressError::Empty));
        assert_eq!(Address::parse(""), Err(AddressError::Empty));
        assert_eq!(Address::parse("a b"), Err(AddressError::InvalidCharacter));
        assert_eq!(
            Address::parse("alice@"),
            Err(AddressError::InvalidCharacter)
        );
        assert_eq!(Address::parse(&"a".repeat(300)), Err(AddressError::TooLong));
    }
}
