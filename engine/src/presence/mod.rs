//! The presence service, sans-IO, as plain functions over a [`crate::shard::Shard`]:
//!
//! - contact lists and attribute lists, stored durably before they are acknowledged;
//! - authorization ([`authorize`]): proactive by attribute lists, reactive by the
//!   publisher's decisions ([`reactive`]), proactive first;
//! - publishing and fan-out on the publisher's shard ([`publisher`]): one shared
//!   [`publication::Snapshot`] per update, one batch per destination shard ([`mesh`]);
//! - subscriptions, GetPresence and delivery on the watcher's shard ([`watcher`]), into a
//!   bounded coalescing queue per session ([`inbox`]) that is encoded only when the client
//!   polls;
//! - presence across domains: local sessions watching users of other domains ([`remote`]),
//!   users of other domains watching local users ([`remote_serve`]), the values in their
//!   SSP form ([`remote_values`]).
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
mod remote;
mod remote_serve;
mod remote_values;

pub(crate) use remote_serve::status_of as remote_status;
pub(crate) mod watcher;
