//! Group messages between shards.

use std::sync::Arc;

use imps_protocol::{Primitive, Version};

use crate::im::mailbox::Letter;
use crate::presence::publication::SessionRef;

/// A group message between shards.
#[derive(Debug)]
pub enum GroupMsg {
    /// A user's request about a group, to the group's shard.
    Request {
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// The requesting session.
        session: SessionRef,
        /// The requesting user (normalized).
        user: Arc<str>,
        /// The client's CSP version.
        version: Version,
        /// The group (normalized).
        group: Arc<str>,
        /// The request primitive.
        request: Box<Primitive>,
    },
    /// The answer, in place of the request's transaction.
    Answer {
        /// The request.
        query: u64,
        /// Its part.
        part: u32,
        /// The session that asked.
        session: SessionRef,
        /// The answer.
        content: Box<Primitive>,
        /// The session joined (true) or left (false) this group.
        membership: Option<(Arc<str>, bool)>,
    },
    /// Server-originated primitives for sessions of the destination shard.
    Notify {
        /// The sessions.
        to: Vec<SessionRef>,
        /// What each gets.
        primitive: Arc<Primitive>,
        /// When the primitive makes them leave this group.
        left: Option<Arc<str>>,
    },
    /// A message to the group, for joined sessions of the destination shard.
    Deliver {
        /// The message.
        letter: Arc<Letter>,
        /// The group.
        group: Arc<str>,
        /// The sender's screen name in the group, when joined.
        screen_name: Option<Arc<str>>,
        /// The sessions (private messages: one).
        to: Vec<SessionRef>,
    },
    /// A message sent to the group (or privately to a screen name in it), to the group's
    /// shard; answered with `ImMsg::Posted`.
    Post {
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// The message.
        letter: Arc<Letter>,
        /// The group (normalized).
        group: Arc<str>,
        /// A screen name in the group: a private message to that user only.
        to_screen_name: Option<Box<str>>,
        /// The sending session.
        session: SessionRef,
    },
    /// A session ended: it leaves these groups.
    SessionEnded {
        /// The session.
        session: SessionRef,
        /// The groups (normalized).
        groups: Vec<Arc<str>>,
    },
}
