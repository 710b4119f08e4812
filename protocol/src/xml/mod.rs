//! XML reading and writing primitives shared by every CSP element.

pub mod reader;
pub mod writer;
