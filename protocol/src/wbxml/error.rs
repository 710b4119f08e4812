//! What can be wrong with a WBXML body, and how it maps onto the codec's [`DecodeError`].

use crate::error::DecodeError;

/// Why a WBXML body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WbxmlError {
    /// The body ends inside a token, string, number or element.
    #[error("WBXML body is truncated")]
    Truncated,
    /// The WBXML version byte is not 1.1, 1.2 or 1.3.
    #[error("WBXML version byte {0:#04x} is not supported")]
    Version(u8),
    /// The charset is neither UTF-8 nor US-ASCII.
    #[error("WBXML charset {0:#x} is not supported (only UTF-8)")]
    Charset(u32),
    /// An `mb_u_int32` longer than five bytes or above 32 bits.
    #[error("WBXML number does not fit 32 bits")]
    NumberTooLarge,
    /// A string that is not UTF-8.
    #[error("WBXML string is not valid UTF-8")]
    NotUtf8,
    /// A string table reference outside the table.
    #[error("string table reference {0} is out of range")]
    BadStringRef(u32),
    /// A tag token the version's code page does not define.
    #[error("unknown tag token {token:#04x} on code page {page:#04x}")]
    UnknownTag {
        /// The code page in force.
        page: u8,
        /// The token, without its attribute and content bits.
        token: u8,
    },
    /// An attribute token the version does not define.
    #[error("unknown attribute token {0:#04x}")]
    UnknownAttribute(u8),
    /// An `EXT_T_0` index the version's value table does not define.
    #[error("unknown value token {0:#x}")]
    UnknownValue(u32),
    /// A global token CSP never uses where it appears.
    #[error("unexpected token {0:#04x}")]
    UnexpectedToken(u8),
    /// An `END` with no open element.
    #[error("END token with no open element")]
    UnbalancedEnd,
    /// Text or a token outside the root element.
    #[error("content outside the root element")]
    OutsideRoot,
    /// An entity that is no Unicode scalar value (or is NUL).
    #[error("entity {0} is not a character")]
    BadEntity(u32),
    /// Opaque data that is neither an integer, a DateTime nor UTF-8 text where it appears.
    #[error("opaque data in <{element}> is not {expected}")]
    BadOpaque {
        /// The element holding it.
        element: String,
        /// What was expected there.
        expected: &'static str,
    },
}

impl From<WbxmlError> for DecodeError {
    fn from(e: WbxmlError) -> Self {
        match e {
            WbxmlError::Truncated => DecodeError::Truncated,
            WbxmlError::NotUtf8 => DecodeError::NotUtf8,
            WbxmlError::BadEntity(n) => DecodeError::Entity(format!("#{n}")),
            WbxmlError::BadOpaque { element, expected } => DecodeError::InvalidValue {
                element,
                value: "(opaque)".into(),
                reason: expected,
            },
            other => DecodeError::Malformed(other.to_string()),
        }
    }
}
