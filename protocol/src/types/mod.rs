//! CSP data types: Boolean, Integer, DateTime, Base64 content and addresses.

mod address;
mod datetime;

use std::borrow::Cow;
use std::io::Write as _;

pub use address::{Address, AddressError, ContactListId, GroupId, MAX_ADDRESS_LEN, UserId};
pub use datetime::{DateTime, Zone};

use crate::node::Value;
use crate::xml::writer::XmlWriter;

impl Value for String {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        Ok(text.into_owned())
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        w.text(self);
    }
}

/// CSP Boolean: `T` or `F` (lowercase and `true`/`false` accepted on input).
impl Value for bool {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        match text.trim() {
            "T" | "t" | "true" | "TRUE" | "True" => Ok(true),
            "F" | "f" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err("not a Boolean (T or F)"),
        }
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        w.text(if *self { "T" } else { "F" });
    }
}

/// CSP Integer: decimal digits.
impl Value for u32 {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        let t = text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        t.parse().map_err(|_| "not an Integer")
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        let _ = write!(w.buffer(), "{self}");
    }
}

/// CSP Integer, wide (content sizes).
impl Value for u64 {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        let t = text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        t.parse().map_err(|_| "not an Integer")
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        let _ = write!(w.buffer(), "{self}");
    }
}

crate::value_node!(String, bool, u32, u64);

/// Identifier-like text kept exactly as the peer wrote it, minus surrounding whitespace.
macro_rules! token_type {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
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
                Self(g.token())
            }
        }
    )*};
}

token_type! {
    /// A `SessionID` chosen by the server.
    SessionId,
    /// A `TransactionID` chosen by the originator of a transaction (may be empty).
    TransactionId,
    /// A `MessageID`.
    MessageId,
    /// An `InviteID`.
    InviteId,
    /// A `SearchID`.
    SearchId,
    /// A screen name's `SName`.
    ScreenNameText,
    /// A `URL`, `MessageURI` and similar references.
    Url,
    /// A MIME `ContentType`.
    MimeType,
}

/// Text carried Base64-encoded (`DirectContent`, `ContentData` with encoding `BASE64`). Kept
/// as text, because clients send data that does not decode; [`Base64Text::decode`] when the
/// bytes are wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Base64Text(pub String);

impl Base64Text {
    /// Encodes bytes.
    pub fn encode(bytes: &[u8]) -> Self {
        use base64::Engine as _;
        Self(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Decodes the text (whitespace ignored, padding optional).
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        use base64::Engine as _;
        let compact: String = self
            .0
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let compact = compact.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact)
    }
}

impl Value for Base64Text {
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str> {
        Ok(Self(text.trim().to_owned()))
    }
    fn write(&self, w: &mut XmlWriter<'_>) {
        w.text(&self.0);
    }
}
crate::value_node!(Base64Text);

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for Base64Text {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        let n = g.below(24);
        let bytes: Vec<u8> = (0..n).map(|_| g.next_u64() as u8).collect();
        Self::encode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_and_integers() {
        assert_eq!(bool::parse("T".into()), Ok(true));
        assert_eq!(bool::parse(" F ".into()), Ok(false));
        assert!(bool::parse("yes".into()).is_err());
        assert_eq!(u32::parse("600".into()), Ok(600));
        assert!(u32::parse("-1".into()).is_err());
        assert!(u32::parse("99999999999".into()).is_err());
    }

    #[test]
    fn base64_round_trip() {
        let t = Base64Text::encode(b"hello world");
        assert_eq!(t.decode().unwrap(), b"hello world");
        assert!(Base64Text("BASE64EncodedDataHere".into()).decode().is_err());
    }
}
