//! # imps-loadgen
//!
//! The load generator's library: it simulates a population of mobile IMPS clients. This first
//! part is the population model: how big each simulated user's contact list is, drawn from a
//! distribution with a seeded, reproducible generator. Pure: no I/O, no clock.

#![warn(missing_docs, unreachable_pub)]

pub mod population;
