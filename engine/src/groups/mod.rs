//! Groups, sans-IO, as plain functions over a [`crate::shard::Shard`]. A private group
//! lives on its owner's shard (see [`crate::routing`]), a public one on the shard its
//! GroupID hashes to; its users' sessions live on theirs:
//!
//! ```text
//!   user's shard                                   group's shard
//!   JoinGroup / SetGroupProps / ... --Request-->   checks roles, reject list, limits;
//!                                                  changes stored durably first
//!   answer in place of the transaction <-Answer-   JoinGroup-Response, Status, ...
//!   outboxes of joined sessions <------Notify---   GroupChangeNotice, forced LeaveGroup
//!   NewMessage to joined sessions <---Deliver---   a message to the group: one shared
//!                                                  letter, one batch per shard
//! ```
//!
//! Groups, members, roles, reject lists and properties are durable; who is joined (and
//! with which screen name) is soft: it ends with the session.

pub mod group;
pub mod mail;
pub mod mesh;
pub(crate) mod messaging;
pub(crate) mod ops;
mod remote;
mod remote_members;
mod remote_outbound;
mod remote_payload;
#[cfg(test)]
mod remote_tests;
mod route;
pub(crate) mod session_side;
