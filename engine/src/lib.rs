//! # imps-engine
//!
//! The IMPS server engine. Users are sharded across cores: each [`routing::ShardId`] owns a
//! disjoint slice of users, chosen by [`routing::owner`], a stable hash of the normalized user
//! ID, so every core (and every restart) agrees on where a user lives.
//!
//! This crate is the I/O boundary of the project: the `csp` tool reads files here, and the
//! runtime, storage and HTTP front-end will live here; the domain logic stays sans-IO.

#![warn(missing_docs, unreachable_pub)]

pub mod access;
pub mod cir;
pub mod config;
pub mod core;
pub mod credentials;
pub mod csv;
pub mod federation;
pub mod front;
pub mod groups;
pub mod http;
pub mod im;
pub mod image_format;
pub mod invite;
pub mod names;
pub mod peering;
pub mod persist;
pub mod presence;
pub mod record;
pub mod routing;
pub mod runtime;
pub mod search;
pub mod server;
pub mod settings;
pub mod shard;
pub mod sim;
pub mod storage;
pub mod tools;
pub mod users;
