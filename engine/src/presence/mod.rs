//! The presence service, sans-IO, as plain functions over a [`crate::shard::Shard`]:
//!
//! - contact lists and attribute lists, stored durably before they are acknowledged;
//! - authorization ([`authorize`]): proactive by attribute lists, reactive by the
//!   publisher's decisions ([`reactive`]), proactive first;
//! - publishing and fan-out on the publisher's shard ([`publisher`]): one shared
//!   [`publication::Snapshot`] per update, one batch per destination shard ([`mesh`]);
//! - subscriptions, GetPresence and delivery on the watcher's shard ([`watcher`]), into a
//!   bounded coalescing queue per session ([`inbox`]) that is encoded only when the client
//!   polls.
//!
//! No I/O: messages to other shards leave as `Output::ToShard`.

pub mod attribute_lists;
pub(crate) mod authorize;
pub mod contact_lists;
pub mod inbox;
pub mod mask;
pub mod mesh;
mod own;
pub mod publication;
pub(crate) mod publisher;
pub(crate) mod reactive;
pub(crate) mod watcher;
