//! A client's session ID, kept inline (no heap) when it is short, as every `impsd` ID is.

/// A session ID kept without heap when it is short (every `impsd` ID is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionKey {
    None,
    Inline { len: u8, bytes: [u8; 46] },
    Heap(Box<str>),
}

impl SessionKey {
    pub(crate) fn new(id: &str) -> Self {
        let mut bytes = [0u8; 46];
        match u8::try_from(id.len()) {
            Ok(len) if id.len() <= bytes.len() => {
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(id.into()),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).ok(),
            Self::Heap(s) => Some(s),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap(s) => s.len(),
            _ => 0,
        }
    }
}
