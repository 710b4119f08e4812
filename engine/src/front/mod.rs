//! The HTTP front-end of `impsd`: CSP over HTTP POST, `/health`, `/metrics` and the
//! standalone-HTTP CIR endpoint, on every executor. It decodes, routes, encodes; the
//! domain logic stays in the shards.

pub mod csp;
pub mod metrics;
pub mod serve;
pub mod service;
