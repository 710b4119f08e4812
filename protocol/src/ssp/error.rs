//! Why an SSP message could not be decoded, and the status code that answers it.

use crate::error::DecodeError;
use crate::status::StatusCode;

/// A failure to decode an SSP message or one of its elements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SspError {
    /// The body is not acceptable XML or breaks a [`crate::Limits`] bound.
    #[error(transparent)]
    Xml(#[from] DecodeError),
    /// The root element is not `WV-SSP-Message`.
    #[error("root element <{0}> is not WV-SSP-Message")]
    NotSsp(String),
    /// The root holds neither `SetupTransaction` nor `Session`.
    #[error("WV-SSP-Message holds neither SetupTransaction nor Session")]
    NoBody,
    /// A mandatory child element is missing.
    #[error("<{parent}> lacks the mandatory <{element}>")]
    Missing {
        /// The element that should contain it.
        parent: String,
        /// The missing element.
        element: &'static str,
    },
    /// A mandatory attribute is missing.
    #[error("<{element}> lacks the mandatory attribute {attribute}")]
    MissingAttribute {
        /// The element.
        element: String,
        /// The missing attribute.
        attribute: &'static str,
    },
    /// A value does not parse.
    #[error("invalid value {value:?} of {name} in <{element}>: {reason}")]
    InvalidValue {
        /// The element.
        element: String,
        /// The attribute, or `text` for element content.
        name: &'static str,
        /// The offending value (cut to 64 bytes).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `SetupTransaction` holds an element that is no set-up primitive.
    #[error("<{0}> is not a session set-up primitive")]
    UnknownSetup(String),
}

impl SspError {
    /// The status code a server answers with (in a `Status`, where there is a transaction to
    /// answer; an HTTP front end answers 400 to envelope errors instead).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Xml(e) => e.status(),
            Self::Missing { .. } | Self::MissingAttribute { .. } | Self::InvalidValue { .. } => {
                StatusCode::InvalidParameter
            }
            Self::UnknownSetup(_) => StatusCode::ServiceNotSupported,
            Self::NotSsp(_) | Self::NoBody => StatusCode::BadRequest,
        }
    }

    /// An [`SspError::InvalidValue`].
    pub(crate) fn invalid(
        element: &str,
        name: &'static str,
        value: &str,
        reason: &'static str,
    ) -> Self {
        let mut end = value.len().min(64);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        Self::InvalidValue {
            element: element.to_owned(),
            name,
            value: value[..end].to_owned(),
            reason,
        }
    }
}
