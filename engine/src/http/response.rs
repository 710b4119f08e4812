//! The response side: [`HttpResponse`] (what a service returns) and its HTTP/1.1
//! serialization into a caller's buffer ([`HttpResponse::write_to`]), with the framing
//! headers this layer owns (`Content-Length`, `Connection`, `Server`). No I/O: the
//! connection loop writes the buffer.

use std::io::Write as _;

/// The `100 Continue` interim response, sent before the body of an `Expect: 100-continue`
/// request.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The value of the `Server` header of every response.
pub const SERVER: &str = "impsd";

/// A response from a service.
///
/// The framing headers are the layer's: `Content-Length`, `Transfer-Encoding` and
/// `Connection` in [`HttpResponse::headers`] are not written. A `Connection: close` there
/// asks the connection to close after this response (the response then says so). Header
/// names or values with CR, LF or NUL are dropped (no response splitting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code. `1xx` and anything outside `100..=999` are sent as `500` (this layer
    /// sends `100 Continue` itself).
    pub status: u16,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Further header fields, in order.
    pub headers: Vec<(String, String)>,
    /// The body (not sent for `HEAD` requests, nor with `204` and `304`).
    pub body: Vec<u8>,
}

/// How [`HttpResponse::write_to`] frames a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// The request was `HEAD`: send the headers (with the `Content-Length` of the body) but
    /// not the body.
    pub head_request: bool,
    /// The connection closes after this response: send `Connection: close`.
    pub close: bool,
    /// The request was HTTP/1.0 with `Connection: keep-alive` and the connection stays open:
    /// send `Connection: keep-alive`.
    pub http10_keep_alive: bool,
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `200 OK` with `body` of type `content_type`.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse {
            status: 200,
            content_type: Some(content_type.to_owned()),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A plain-text error response: the status line's reason phrase as the body.
    pub fn error(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            content_type: Some("text/plain; charset=utf-8".to_owned()),
            headers: Vec::new(),
            body: format!("{}\n", reason_phrase(status)).into_bytes(),
        }
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Whether the service asked to close the connection (`Connection: close` in
    /// [`HttpResponse::headers`]).
    pub fn wants_close(&self) -> bool {
        self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("connection")
                && value
                    .split(',')
                    .any(|t| t.trim_matches([' ', '\t']).eq_ignore_ascii_case("close"))
        })
    }

    /// Appends the serialized response to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>, options: WriteOptions) {
        let status = if (200..=999).contains(&self.status) {
            self.status
        } else {
            500
        };
        if status == 200 {
            out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        } else {
            let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason_phrase(status));
        }
        out.extend_from_slice(b"Server: ");
        out.extend_from_slice(SERVER.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(content_type) = &self.content_type
            && is_clean(content_type)
        {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(content_type.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.headers {
            let owned = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
            if owned || name.is_empty() || !is_clean(name) || !is_clean(value) || name.contains(':')
            {
                continue;
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let bodiless = status == 204 || status == 304;
        if !bodiless {
            out.extend_from_slice(b"Content-Length: ");
            push_decimal(out, self.body.len());
            out.extend_from_slice(b"\r\n");
        }
        if options.close {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if options.http10_keep_alive {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !options.head_request && !bodiless {
            out.extend_from_slice(&self.body);
        }
    }
}

/// Appends `n` in decimal (without the formatting machinery: once per response).
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn is_clean(s: &str) -> bool {
    !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// The standard reason phrase of `status` (`""` for codes without one).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(response: &HttpResponse, options: WriteOptions) -> String {
        let mut out = Vec::new();
        response.write_to(&mut out, options);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn serializes_with_framing_headers() {
        let response = HttpResponse::ok("text/xml", "<a/>")
            .with_header("X-A", "1")
            .with_header("Content-Length", "99")
            .with_header("Bad", "x\r\nInjected: 1");
        assert_eq!(
            text(&response, WriteOptions::default()),
            "HTTP/1.1 200 OK\r\nServer: impsd\r\nContent-Type: text/xml\r\nX-A: 1\r\n\
             Content-Length: 4\r\n\r\n<a/>"
        );
        let close = WriteOptions {
            close: true,
            ..WriteOptions::default()
        };
        assert!(
            text(&response, close).ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n<a/>")
        );
        let keep = WriteOptions {
            http10_keep_alive: true,
            ..WriteOptions::default()
        };
        assert!(text(&response, keep).contains("Connection: keep-alive\r\n"));
    }

    #[test]
    fn head_and_bodiless_statuses() {
        let head = WriteOptions {
            head_request: true,
            ..WriteOptions::default()
        };
        let s = text(&HttpResponse::ok("text/plain", "hello"), head);
        assert!(s.ends_with("Content-Length: 5\r\n\r\n"), "{s}");
        let s = text(&HttpResponse::new(204), WriteOptions::default());
        assert_eq!(s, "HTTP/1.1 204 No Content\r\nServer: impsd\r\n\r\n");
        let s = text(&HttpResponse::new(100), WriteOptions::default());
        assert!(s.starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
    }

    #[test]
    fn errors_and_close_requests() {
        let s = text(&HttpResponse::error(413), WriteOptions::default());
        assert!(s.starts_with("HTTP/1.1 413 Content Too Large\r\n"));
        assert!(s.ends_with("\r\n\r\nContent Too Large\n"));
        assert!(
            HttpResponse::new(200)
                .with_header("connection", "Close")
                .wants_close()
        );
        assert!(!HttpResponse::new(200).wants_close());
        assert_eq!(reason_phrase(799), "");
    }

    #[test]
    fn lengths_in_decimal() {
        for n in [0, 7, 10, 682, 65_536, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
