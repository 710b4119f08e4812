//! Size limits and timeouts of the HTTP/1.1 layer: [`HttpLimits`], plain data shared by the
//! sans-IO parser (sizes) and the connection loop and listener (timeouts, connection cap).
//! No I/O here.

use std::time::Duration;

/// Limits of one listener and its connections. [`HttpLimits::default`] gives values fit for a
/// public-facing IMPS server (small XML requests, many mobile clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request head (request line, headers and the blank line; empty lines before the
    /// request line count too). Over it: `431`. Default 16 KiB.
    pub max_head_bytes: usize,
    /// Most header fields in one request. Over it: `431`. Default 64.
    pub max_headers: usize,
    /// Largest request body (after de-chunking). Over it: `413`. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Longest chunk-size line of a chunked body, extensions included, CRLF excluded. Over
    /// it: `400`. Default 1 KiB.
    pub max_chunk_line_bytes: usize,
    /// The whole head of a request must arrive within this time of its first byte; a new
    /// connection must also send its first byte within it. Default 10 s.
    pub header_timeout: Duration,
    /// The whole body must arrive within this time of the end of the head. Default 30 s.
    pub body_timeout: Duration,
    /// Longest wait for the first byte of the next request on a kept-alive connection.
    /// Default 60 s.
    pub idle_timeout: Duration,
    /// Longest time one write of responses may take (a client that does not read). Default
    /// 30 s.
    pub write_timeout: Duration,
    /// When the server closes a connection, how long it keeps reading (and discarding) what
    /// the client still sends, so that the client sees the last response instead of a reset.
    /// Default 2 s.
    pub linger_timeout: Duration,
    /// Most connections open at once on one listener; the next ones are refused with `503`.
    /// Default 4096.
    pub max_connections: usize,
    /// After the stop signal, how long in-flight requests may take before their connections
    /// are dropped. Default 30 s.
    pub shutdown_grace: Duration,
    /// Size of the per-connection read buffer (one read at most). Default 16 KiB.
    pub read_buffer_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 1024 * 1024,
            max_chunk_line_bytes: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            linger_timeout: Duration::from_secs(2),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(30),
            read_buffer_bytes: 16 * 1024,
        }
    }
}
