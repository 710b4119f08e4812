//! The access service: login (plain and 4-way digest), sessions and their expiry, keep-alive,
//! capability and service negotiation, and each session's queue of server-originated
//! transactions. Plain data and functions over a [`crate::shard::Shard`]; no I/O.

pub mod capability;
pub mod cir;
pub mod login;
pub mod outbox;
pub mod poll_pace;
pub mod service;
pub mod session;
pub mod session_id;
