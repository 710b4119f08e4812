//! Decode errors and the limits that bound the reader.

use crate::status::StatusCode;

/// Hard limits applied while decoding one message. A message over any limit is rejected with a
/// [`DecodeError`]; the reader never panics and never allocates beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted body, in bytes.
    pub max_body: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements in one message.
    pub max_elements: usize,
    /// Longest text content of one element, in bytes (after unescaping).
    pub max_text: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 1024 * 1024,
            max_depth: 32,
            max_elements: 50_000,
            max_text: 256 * 1024,
        }
    }
}

/// Why a message could not be decoded. [`DecodeError::status`] gives the CSP status code a
/// server answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body is larger than [`Limits::max_body`].
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the body.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Elements are nested deeper than [`Limits::max_depth`].
    #[error("elements nested deeper than {limit}")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// The message has more elements than [`Limits::max_elements`].
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The limit in force.
        limit: usize,
    },
    /// The text of one element is longer than [`Limits::max_text`].
    #[error("text longer than {limit} bytes")]
    TextTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("message is not valid UTF-8")]
    NotUtf8,
    /// The body is not well-formed XML.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The body ends before the message does.
    #[error("message is truncated")]
    Truncated,
    /// An entity reference other than the five predefined ones or a character reference.
    /// DTD entities are never expanded.
    #[error("entity reference &{0}; is not allowed")]
    Entity(String),
    /// The root element is not `WV-CSP-Message`.
    #[error("root element <{0}> is not WV-CSP-Message")]
    NotCsp(String),
    /// The namespace, DOCTYPE or content type names a CSP version this codec does not speak.
    #[error("unsupported CSP version or namespace {0:?}")]
    UnsupportedVersion(String),
    /// `TransactionContent` holds an element that is no CSP primitive.
    #[error("unknown primitive <{0}>")]
    UnknownPrimitive(String),
    /// `TransactionContent` holds no primitive at all.
    #[error("TransactionContent holds no primitive")]
    NoPrimitive,
    /// A mandatory element is missing.
    #[error("<{parent}> lacks the mandatory <{element}>")]
    Missing {
        /// The element that should contain it.
        parent: &'static str,
        /// The missing element.
        element: &'static str,
    },
    /// An element's text is not a valid value of its type.
    #[error("invalid value {value:?} in <{element}>: {reason}")]
    InvalidValue {
        /// The element holding the value.
        element: String,
        /// The offending text (cut to 64 bytes).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl DecodeError {
    /// The CSP status code a server answers a message with when it fails this way.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedVersion(_) => StatusCode::VersionNotSupported,
            Self::UnknownPrimitive(_) => StatusCode::ServiceNotSupported,
            Self::Missing { .. } | Self::InvalidValue { .. } => StatusCode::InvalidParameter,
            _ => StatusCode::BadRequest,
        }
    }

    /// True when not even the envelope could be read, so no CSP answer can be built and an
    /// HTTP front-end should answer 400 (or 413 for [`DecodeError::TooLarge`]).
    pub fn is_envelope_error(&self) -> bool {
        matches!(
            self,
            Self::TooLarge { .. }
                | Self::NotUtf8
                | Self::NotCsp(_)
                | Self::Truncated
                | Self::Malformed(_)
                | Self::TooDeep { .. }
                | Self::TooManyElements { .. }
                | Self::Entity(_)
        )
    }

    /// An [`DecodeError::InvalidValue`] for `value` found in `element`.
    pub fn invalid(element: &str, value: &str, reason: &'static str) -> Self {
        let mut end = value.len().min(64);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        Self::InvalidValue {
            element: element.to_owned(),
            value: value[..end].to_owned(),
            reason,
        }
    }
}
