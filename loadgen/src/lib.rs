//! # imps-loadgen
//!
//! The load generator's library: it simulates a population of mobile IMPS clients against a
//! CSP server (over HTTP) or the engine linked in-process, and reports what the target
//! sustained.
//!
//! ```text
//!  Scenario (TOML) -> Model (shared, read-only) -> SimClient x N (compact state machines)
//!  one Scheduler per core: TimerWheel + its clients + a Transport (HTTP or in-process)
//!  Stats per scheduler (HDR histograms) -> merged -> Report (json, html, summary, SLOs)
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod client;
pub mod driver;
pub mod kind;
pub mod memory;
pub mod messages;
pub mod model;
pub mod population;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scheduler;
mod session_key;
pub mod stats;
pub mod users;
pub mod wheel;
