//! The message envelope: `WV-CSP-Message` / `Session` / `Transaction`.
//!
//! ```text
//! WV-CSP-Message
//!  └ Session ( SessionDescriptor, Transaction+, Poll? (1.2+), CIR? (1.2+) )
//!     └ Transaction ( TransactionDescriptor, TransactionContent, ExtBlock* (1.2+) )
//!        └ TransactionDescriptor ( TransactionMode, TransactionID?, Poll? (1.1) )
//! ```
//!
//! The reader accepts `Poll` in either place and files it where the message's version keeps it
//! (per transaction in 1.1, per session from 1.2), so a decoded message re-encodes to itself.

use crate::error::DecodeError;
use crate::node::Node;
use crate::primitive::Primitive;
use crate::raw::RawElement;
use crate::types::{SessionId, TransactionId};
use crate::version::Version;
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node, value_enum};

value_enum! {
    /// `SessionType`.
    pub enum SessionType {
        /// Inside a session (carries a SessionID).
        Inband = "Inband",
        /// Outside any session (Login, GetSPInfo, VersionDiscovery).
        Outband = "Outband",
    }
}

value_enum! {
    /// `TransactionMode`.
    pub enum TransactionMode {
        /// The originator's half of a transaction.
        Request = "Request",
        /// The answer.
        Response = "Response",
    }
}

element! {
    /// `SessionDescriptor`.
    pub struct SessionDescriptor {
        /// Inband or Outband.
        session_type: SessionType = "SessionType",
        /// The session, for Inband messages.
        session_id: Option<SessionId> = "SessionID",
    }
}

element! {
    /// `TransactionDescriptor`.
    pub struct TransactionDescriptor {
        /// Request or Response.
        mode: TransactionMode = "TransactionMode",
        /// The originator's transaction ID (may be empty, as in Polling-Request).
        id: Option<TransactionId> = "TransactionID",
        /// CSP 1.1: more server-originated transactions are queued.
        poll: Option<bool> = "Poll",
    }
}

plain_node!(SessionDescriptor, TransactionDescriptor);

/// One `Transaction`: a descriptor, one primitive and any extension blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Mode, ID and (1.1) Poll.
    pub descriptor: TransactionDescriptor,
    /// The primitive in `TransactionContent`.
    pub content: Primitive,
    /// `ExtBlock`s (1.2+), kept verbatim.
    pub ext_blocks: Vec<RawElement>,
}

/// `Session`: the body of every message.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Session type and ID.
    pub descriptor: SessionDescriptor,
    /// One or more transactions.
    pub transactions: Vec<Transaction>,
    /// 1.2+: more server-originated transactions are queued.
    pub poll: Option<bool>,
    /// 1.2+: `F` tells the client its CIR channel broke.
    pub cir: Option<bool>,
}

/// A whole CSP message and the version it was (or is to be) written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The CSP version.
    pub version: Version,
    /// The session element.
    pub session: Session,
}

impl Message {
    /// A message with one transaction.
    pub fn single(
        version: Version,
        session_id: Option<SessionId>,
        mode: TransactionMode,
        transaction_id: Option<TransactionId>,
        content: Primitive,
    ) -> Self {
        let session_type = if session_id.is_some() {
            SessionType::Inband
        } else {
            SessionType::Outband
        };
        Self {
            version,
            session: Session {
                descriptor: SessionDescriptor {
                    session_type,
                    session_id,
                },
                transactions: vec![Transaction {
                    descriptor: TransactionDescriptor {
                        mode,
                        id: transaction_id,
                        poll: None,
                    },
                    content,
                    ext_blocks: Vec::new(),
                }],
                poll: None,
                cir: None,
            },
        }
    }

    /// The Poll flag wherever the version keeps it.
    pub fn poll(&self) -> Option<bool> {
        match self.version {
            Version::V1_1 => self
                .session
                .transactions
                .iter()
                .find_map(|t| t.descriptor.poll),
            _ => self.session.poll,
        }
    }

    /// Sets the Poll flag in the version's place.
    pub fn set_poll(&mut self, poll: bool) {
        match self.version {
            Version::V1_1 => {
                for t in &mut self.session.transactions {
                    t.descriptor.poll = Some(poll);
                }
            }
            _ => self.session.poll = Some(poll),
        }
    }

    /// Moves a misplaced Poll flag to where this message's version keeps it; drops the CIR
    /// flag from 1.1 messages, which have no place for it.
    pub(crate) fn normalize_flags(&mut self) {
        match self.version {
            Version::V1_1 => {
                self.session.cir = None;
                if let Some(poll) = self.session.poll.take()
                    && let Some(t) = self.session.transactions.first_mut()
                {
                    t.descriptor.poll = t.descriptor.poll.or(Some(poll));
                }
            }
            _ => {
                for t in &mut self.session.transactions {
                    if let Some(poll) = t.descriptor.poll.take() {
                        self.session.poll = Some(self.session.poll.unwrap_or(false) || poll);
                    }
                }
            }
        }
    }
}

impl Session {
    pub(crate) fn decode(
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
        version: Version,
    ) -> Result<Self, DecodeError> {
        let mut descriptor = None;
        let mut transactions = Vec::new();
        let (mut poll, mut cir) = (None, None);
        while let Some(child) = r.next_child(el)? {
            match child.name() {
                "SessionDescriptor" => descriptor = Some(SessionDescriptor::decode(r, &child)?),
                "Transaction" => transactions.push(Transaction::decode(r, &child, version)?),
                "Poll" => poll = Some(bool::decode(r, &child)?),
                "CIR" => cir = Some(bool::decode(r, &child)?),
                _ => r.skip(&child)?,
            }
        }
        let descriptor = descriptor.ok_or(DecodeError::Missing {
            parent: "Session",
            element: "SessionDescriptor",
        })?;
        if transactions.is_empty() {
            return Err(DecodeError::Missing {
                parent: "Session",
                element: "Transaction",
            });
        }
        Ok(Self {
            descriptor,
            transactions,
            poll,
            cir,
        })
    }

    pub(crate) fn encode(&self, w: &mut XmlWriter<'_>) {
        let mark = w.open("Session");
        self.descriptor.encode("SessionDescriptor", w);
        let v11 = w.version() == Version::V1_1;
        for t in &self.transactions {
            t.encode(w, v11);
        }
        if !v11 {
            if let Some(poll) = self.poll {
                poll.encode("Poll", w);
            }
            if let Some(cir) = self.cir {
                cir.encode("CIR", w);
            }
        }
        w.close("Session", mark);
    }
}

impl Transaction {
    fn decode(
        r: &mut XmlReader<'_>,
        el: &Child<'_>,
        version: Version,
    ) -> Result<Self, DecodeError> {
        let mut descriptor = None;
        let mut content = None;
        let mut ext_blocks = Vec::new();
        while let Some(child) = r.next_child(el)? {
            match child.name() {
                "TransactionDescriptor" => {
                    descriptor = Some(TransactionDescriptor::decode(r, &child)?);
                }
                "TransactionContent" => {
                    while let Some(primitive) = r.next_child(&child)? {
                        if content.is_some() {
                            r.skip(&primitive)?;
                            continue;
                        }
                        match Primitive::decode_element(r, &primitive, version)? {
                            Some(p) => content = Some(p),
                            None => {
                                return Err(DecodeError::UnknownPrimitive(
                                    primitive.name().chars().take(64).collect(),
                                ));
                            }
                        }
                    }
                }
                "ExtBlock" => ext_blocks.push(r.raw(&child)?),
                _ => r.skip(&child)?,
            }
        }
        Ok(Self {
            descriptor: descriptor.ok_or(DecodeError::Missing {
                parent: "Transaction",
                element: "TransactionDescriptor",
            })?,
            content: content.ok_or(DecodeError::NoPrimitive)?,
            ext_blocks,
        })
    }

    fn encode(&self, w: &mut XmlWriter<'_>, v11: bool) {
        let mark = w.open("Transaction");
        let d = &self.descriptor;
        let dmark = w.open("TransactionDescriptor");
        d.mode.encode("TransactionMode", w);
        if let Some(id) = &d.id {
            id.encode("TransactionID", w);
        }
        if v11 && let Some(poll) = d.poll {
            poll.encode("Poll", w);
        }
        w.close("TransactionDescriptor", dmark);
        w.begin_start("TransactionContent");
        w.attribute("xmlns", w.version().trc_namespace());
        let cmark = w.end_start();
        self.content.encode_element(w);
        w.close("TransactionContent", cmark);
        for block in &self.ext_blocks {
            block.write(w);
        }
        w.close("Transaction", mark);
    }
}

#[cfg(any(test, feature = "sample"))]
impl Message {
    /// A random message of `version` holding `content` (or a random primitive).
    pub fn sample(
        g: &mut crate::sample::Gen,
        version: Version,
        content: Option<Primitive>,
    ) -> Self {
        use crate::sample::Sample;
        let mut content = content;
        let count = if content.is_some() { 1 } else { 1 + g.below(2) };
        let transactions = (0..count)
            .map(|_| Transaction {
                descriptor: TransactionDescriptor {
                    mode: TransactionMode::sample(g),
                    id: Sample::sample(g),
                    poll: if version == Version::V1_1 {
                        Sample::sample(g)
                    } else {
                        None
                    },
                },
                content: content.take().unwrap_or_else(|| Primitive::sample(g)),
                ext_blocks: crate::sample::sample_raw_list(g)
                    .into_iter()
                    .map(|mut e| {
                        e.name = "ExtBlock".into();
                        e
                    })
                    .collect(),
            })
            .collect();
        let v12 = version != Version::V1_1;
        Self {
            version,
            session: Session {
                descriptor: SessionDescriptor::sample(g),
                transactions,
                poll: if v12 { Sample::sample(g) } else { None },
                cir: if v12 { Sample::sample(g) } else { None },
            },
        }
    }
}
