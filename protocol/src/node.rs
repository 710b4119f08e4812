//! The traits every CSP element implements, and the macros that define elements.
//!
//! A struct element is declared once with [`element!`]: its fields in spec order, each with
//! the tag it is written under. A field's type says its cardinality: `T` is mandatory,
//! `Option<T>` optional, `Vec<T>` repeated. Children are read in any order; unknown children
//! are skipped (or kept, for elements declared with a `..rest` field).

use std::borrow::Cow;

use crate::error::DecodeError;
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;

/// An element type: decoded from the content of an opened element, encoded under a tag.
pub trait Node: Sized {
    /// Reads the content of `el` (already opened) up to and including its end tag.
    fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError>;
    /// Writes the element as `<tag>...</tag>`.
    fn encode(&self, tag: &'static str, w: &mut XmlWriter<'_>);
}

/// A simple type carried as element text (Boolean, Integer, DateTime, identifiers, ...).
pub trait Value: Sized {
    /// Parses the element's text. `Err` carries a short reason.
    fn parse(text: Cow<'_, str>) -> Result<Self, &'static str>;
    /// Writes the value as (unescaped) text.
    fn write(&self, w: &mut XmlWriter<'_>);
}

/// A field of an element: how often it may occur, how it is gathered and written.
pub trait Slot: Sized {
    /// What is gathered while the parent's children are read.
    type Acc: Default;
    /// Takes one occurrence.
    fn accept(
        acc: &mut Self::Acc,
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
    ) -> Result<(), DecodeError>;
    /// Turns what was gathered into the field.
    fn finish(acc: Self::Acc, parent: &'static str, tag: &'static str)
    -> Result<Self, DecodeError>;
    /// Writes every occurrence.
    fn encode_slot(&self, tag: &'static str, w: &mut XmlWriter<'_>);
}

/// Makes [`Value`] types [`Node`]s carried as element text.
#[macro_export]
#[doc(hidden)]
macro_rules! value_node {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::node::Node for $t {
            fn decode(
                r: &mut $crate::xml::reader::XmlReader<'_>,
                el: &$crate::xml::reader::Child<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                let text = r.text(el)?;
                match <$t as $crate::node::Value>::parse(std::borrow::Cow::Borrowed(&text)) {
                    Ok(v) => Ok(v),
                    Err(reason) => Err($crate::error::DecodeError::invalid(el.name(), &text, reason)),
                }
            }
            fn encode(&self, tag: &'static str, w: &mut $crate::xml::writer::XmlWriter<'_>) {
                let mark = w.open_static(tag);
                $crate::node::Value::write(self, w);
                w.close(tag, mark);
            }
        }
        impl $crate::node::Required for $t {}
    )*};
}

impl<T: Node> Slot for Option<T> {
    type Acc = Option<T>;
    fn accept(
        acc: &mut Self::Acc,
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
    ) -> Result<(), DecodeError> {
        *acc = Some(T::decode(r, el)?);
        Ok(())
    }
    fn finish(acc: Self::Acc, _: &'static str, _: &'static str) -> Result<Self, DecodeError> {
        Ok(acc)
    }
    fn encode_slot(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        if let Some(v) = self {
            v.encode(tag, w);
        }
    }
}

impl<T: Node> Slot for Vec<T> {
    type Acc = Vec<T>;
    fn accept(
        acc: &mut Self::Acc,
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
    ) -> Result<(), DecodeError> {
        acc.push(T::decode(r, el)?);
        Ok(())
    }
    fn finish(acc: Self::Acc, _: &'static str, _: &'static str) -> Result<Self, DecodeError> {
        Ok(acc)
    }
    fn encode_slot(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        for v in self {
            v.encode(tag, w);
        }
    }
}

/// A mandatory field of type `T`.
impl<T: Node + Required> Slot for T {
    type Acc = Option<T>;
    fn accept(
        acc: &mut Self::Acc,
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
    ) -> Result<(), DecodeError> {
        *acc = Some(T::decode(r, el)?);
        Ok(())
    }
    fn finish(
        acc: Self::Acc,
        parent: &'static str,
        tag: &'static str,
    ) -> Result<Self, DecodeError> {
        acc.ok_or(DecodeError::Missing {
            parent,
            element: tag,
        })
    }
    fn encode_slot(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        self.encode(tag, w);
    }
}

/// Types that may stand as a mandatory field (every [`Node`] but `Option` and `Vec`).
pub trait Required {}

/// Declares a struct element. See the module docs.
///
/// ```ignore
/// element! {
///     /// Docs.
///     pub struct Foo {
///         /// Docs.
///         user_id: UserId = "UserID",
///         nick: Option<String> = "Nick",
///     }
/// }
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! element {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $tag:literal ),* $(,)?
            $( ; $(#[$rmeta:meta])* ..$rest:ident )?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $( $(#[$rmeta])* pub $rest: Vec<$crate::raw::RawElement>, )?
        }

        impl $name {
            /// Reads the children of an opened element into this type.
            #[allow(unused_mut, unused_variables)]
            pub fn decode_content(
                r: &mut $crate::xml::reader::XmlReader<'_>,
                el: &$crate::xml::reader::Child<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                $( let mut $field = <<$ty as $crate::node::Slot>::Acc as Default>::default(); )*
                $( let mut $rest: Vec<$crate::raw::RawElement> = Vec::new(); )?
                while let Some(child) = r.next_child(el)? {
                    match child.name() {
                        $( $tag => <$ty as $crate::node::Slot>::accept(&mut $field, r, &child)?, )*
                        _ => {
                            $( $rest.push(r.raw(&child)?); continue; )?
                            #[allow(unreachable_code)]
                            r.skip(&child)?
                        }
                    }
                }
                Ok(Self {
                    $( $field: <$ty as $crate::node::Slot>::finish(
                        $field, stringify!($name), $tag)?, )*
                    $( $rest, )?
                })
            }

            /// Writes the children of this element.
            #[allow(unused_variables)]
            pub fn encode_content(&self, w: &mut $crate::xml::writer::XmlWriter<'_>) {
                $( $crate::node::Slot::encode_slot(&self.$field, $tag, w); )*
                $( for extra in &self.$rest { extra.write(w); } )?
            }
        }

        impl $crate::node::Required for $name {}

        #[cfg(any(test, feature = "sample"))]
        impl $crate::sample::Sample for $name {
            #[allow(unused_variables)]
            fn sample(g: &mut $crate::sample::Gen) -> Self {
                Self {
                    $( $field: $crate::sample::Sample::sample(g), )*
                    $( $rest: $crate::sample::sample_raw_list(g), )?
                }
            }
        }
    };
}

/// Implements [`Node`] for a type declared with [`element!`] as `<tag>content</tag>`.
#[macro_export]
#[doc(hidden)]
macro_rules! plain_node {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::node::Node for $t {
            fn decode(
                r: &mut $crate::xml::reader::XmlReader<'_>,
                el: &$crate::xml::reader::Child<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                Self::decode_content(r, el)
            }
            fn encode(&self, tag: &'static str, w: &mut $crate::xml::writer::XmlWriter<'_>) {
                let mark = w.open_static(tag);
                self.encode_content(w);
                w.close(tag, mark);
            }
        }
    )*};
}

/// Declares a closed set of text values (`T`/`F`, `Request`/`Response`, ...). Unknown text is
/// a decode error. With `open Other`, unknown text is kept in the named variant instead.
#[macro_export]
#[doc(hidden)]
macro_rules! value_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// Every value, in spec order.
            pub const ALL: &'static [$name] = &[$( $name::$variant ),+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &'static str {
                match self { $( Self::$variant => $text, )+ }
            }
        }

        /// The first value in spec order.
        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl $crate::node::Value for $name {
            fn parse(text: std::borrow::Cow<'_, str>) -> Result<Self, &'static str> {
                let text = text.trim();
                $( if text.eq_ignore_ascii_case($text) { return Ok(Self::$variant); } )+
                Err(concat!("not a ", stringify!($name)))
            }
            fn write(&self, w: &mut $crate::xml::writer::XmlWriter<'_>) {
                w.text(self.as_str());
            }
        }
        $crate::value_node!($name);

        #[cfg(any(test, feature = "sample"))]
        impl $crate::sample::Sample for $name {
            fn sample(g: &mut $crate::sample::Gen) -> Self {
                Self::ALL[g.below(Self::ALL.len())]
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident : open $other:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value not named by the specification, kept as written.
            $other(String),
        }

        impl $name {
            /// Every named value, in spec order.
            pub const KNOWN: &'static [$name] = &[$( $name::$variant ),+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self { $( Self::$variant => $text, )+ Self::$other(s) => s }
            }
        }

        /// The first value in spec order.
        impl Default for $name {
            fn default() -> Self {
                Self::KNOWN[0].clone()
            }
        }

        impl $crate::node::Value for $name {
            fn parse(text: std::borrow::Cow<'_, str>) -> Result<Self, &'static str> {
                let trimmed = text.trim();
                $( if trimmed.eq_ignore_ascii_case($text) { return Ok(Self::$variant); } )+
                Ok(Self::$other(trimmed.to_owned()))
            }
            fn write(&self, w: &mut $crate::xml::writer::XmlWriter<'_>) {
                w.text(self.as_str());
            }
        }
        $crate::value_node!($name);

        #[cfg(any(test, feature = "sample"))]
        impl $crate::sample::Sample for $name {
            fn sample(g: &mut $crate::sample::Gen) -> Self {
                let i = g.below(Self::KNOWN.len() + 1);
                match Self::KNOWN.get(i) {
                    Some(v) => v.clone(),
                    None => Self::$other(format!("X_{}", g.below(1000))),
                }
            }
        }
    };
}
