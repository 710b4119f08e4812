//! The sans-IO, incremental HTTP/1.x request parser: [`RequestParser`] is fed bytes as they
//! arrive ([`RequestParser::feed`]) and hands out [`ParseEvent`]s ([`RequestParser::next_event`]):
//! complete requests, one after another for pipelined input, and the moment a request that
//! announced `Expect: 100-continue` needs its `100 Continue`. The head goes through
//! `httparse`; bodies are framed by `Content-Length` or `Transfer-Encoding: chunked`. No I/O:
//! the connection loop reads and writes.
//!
//! Every failure is a [`ParseError`] with the status to answer ([`ParseError::status`]); the
//! parser then stays failed (the connection must close). It never panics, whatever the input.

use super::limits::HttpLimits;
use super::request::{HttpRequest, Method, Version, path_of};

/// Header slots parsed on the stack (the default [`HttpLimits::max_headers`]).
const STACK_HEADERS: usize = 64;

/// A request the parser cannot accept; the connection answers [`ParseError::status`] and
/// closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes are not an HTTP/1.x request (`400`).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// The body length cannot be determined safely: `Content-Length` together with
    /// `Transfer-Encoding`, conflicting `Content-Length`s, `Transfer-Encoding` in HTTP/1.0
    /// (`400`).
    #[error("ambiguous message framing: {0}")]
    AmbiguousFraming(&'static str),
    /// The head is longer than [`HttpLimits::max_head_bytes`] (`431`).
    #[error("request head too large")]
    HeadTooLarge,
    /// More header fields than [`HttpLimits::max_headers`] (`431`).
    #[error("too many header fields")]
    TooManyHeaders,
    /// The body is (or is announced to be) longer than [`HttpLimits::max_body_bytes`]
    /// (`413`).
    #[error("request body too large")]
    BodyTooLarge,
    /// A transfer coding other than `chunked` (`501`).
    #[error("unsupported transfer coding")]
    UnsupportedTransferEncoding,
    /// HTTP/2 (its connection preface) or another version than 1.0 and 1.1 (`505`).
    #[error("HTTP version not supported")]
    VersionNotSupported,
}

impl ParseError {
    /// The response status for this error.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::Malformed(_) | ParseError::AmbiguousFraming(_) => 400,
            ParseError::HeadTooLarge | ParseError::TooManyHeaders => 431,
            ParseError::BodyTooLarge => 413,
            ParseError::UnsupportedTransferEncoding => 501,
            ParseError::VersionNotSupported => 505,
        }
    }
}

/// What the parser has for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseEvent {
    /// The head of an `Expect: 100-continue` request is complete, its announced body is within
    /// the limit and none of it has arrived yet: send `HTTP/1.1 100 Continue` now. The
    /// request itself comes later, as a [`ParseEvent::Request`] with `expects_continue` set.
    Continue,
    /// One complete request.
    Request(HttpRequest),
}

/// Which part of a request the parser is waiting for (chooses the read timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing of the next request has arrived.
    Idle,
    /// Part of a head has arrived.
    Head,
    /// The head is complete; the body is not.
    Body,
}

/// Where a chunked body is.
#[derive(Debug)]
enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk: this many data bytes to go.
    Data(usize),
    /// After a chunk's data: expecting its CRLF.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one (bytes seen so far).
    Trailers(usize),
}

/// How the body of the current request ends.
#[derive(Debug)]
enum Framing {
    /// This many bytes to go.
    Length(usize),
    /// Chunked.
    Chunked(Chunked),
}

/// A request whose head is parsed and whose body is being read.
#[derive(Debug)]
struct Pending {
    request: HttpRequest,
    framing: Framing,
}

/// The incremental request parser of one connection: [`RequestParser::feed`] it the bytes
/// read, then take [`RequestParser::next_event`] until it returns `Ok(None)` (more bytes
/// needed). Pipelined requests come out one after another. After an error the parser stays
/// failed: answer [`ParseError::status`] and close.
#[derive(Debug)]
pub struct RequestParser {
    max_head: usize,
    max_headers: usize,
    max_body: usize,
    max_chunk_line: usize,
    /// Received bytes; those before `pos` are consumed.
    buf: Vec<u8>,
    pos: usize,
    /// The request whose body is being read, if the head is complete.
    pending: Option<Box<Pending>>,
    /// Head: offset (from `pos`) where the search for the end of the head resumes.
    scan: usize,
    /// Head: whether the request line was checked already.
    line_checked: bool,
    /// Head: empty lines dropped before the request line.
    skipped: usize,
    /// Set once; every later call returns it.
    failed: Option<ParseError>,
}

impl RequestParser {
    /// A parser enforcing the size limits of `limits`.
    pub fn new(limits: &HttpLimits) -> RequestParser {
        RequestParser {
            max_head: limits.max_head_bytes,
            max_headers: limits.max_headers.max(1),
            max_body: limits.max_body_bytes,
            max_chunk_line: limits.max_chunk_line_bytes.max(1),
            buf: Vec::new(),
            pos: 0,
            pending: None,
            scan: 0,
            line_checked: false,
            skipped: 0,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos.min(self.buf.len()));
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received and not yet consumed by a request.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// What the parser is waiting for.
    pub fn phase(&self) -> Phase {
        if self.pending.is_some() {
            Phase::Body
        } else if self.buffered() > 0 || self.skipped > 0 {
            Phase::Head
        } else {
            Phase::Idle
        }
    }

    /// The next event the buffered bytes allow: `Ok(None)` means more bytes are needed.
    /// After an error, every call returns the same error.
    pub fn next_event(&mut self) -> Result<Option<ParseEvent>, ParseError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.advance();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn advance(&mut self) -> Result<Option<ParseEvent>, ParseError> {
        if self.pending.is_none() {
            let Some(pending) = self.parse_head()? else {
                return Ok(None);
            };
            let wants_continue = pending.request.expects_continue
                && !matches!(pending.framing, Framing::Length(0))
                && self.buffered() == 0;
            self.pending = Some(pending);
            if wants_continue {
                return Ok(Some(ParseEvent::Continue));
            }
        }
        if !self.read_body()? {
            return Ok(None);
        }
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        self.scan = 0;
        self.line_checked = false;
        self.skipped = 0;
        Ok(Some(ParseEvent::Request(pending.request)))
    }

    fn unread(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// Parses the head once it is complete.
    fn parse_head(&mut self) -> Result<Option<Box<Pending>>, ParseError> {
        // Empty lines before the request line are dropped (RFC 9112 section 2.2).
        loop {
            let data = self.unread();
            let n = if data.starts_with(b"\r\n") {
                2
            } else if data.starts_with(b"\n") {
                1
            } else {
                break;
            };
            self.consume(n);
            self.skipped += n;
            self.scan = 0;
            if self.skipped > self.max_head {
                return Err(ParseError::HeadTooLarge);
            }
        }
        let budget = self.max_head.saturating_sub(self.skipped);
        let data = self.buf.get(self.pos..).unwrap_or(&[]);
        let mut i = self.scan;
        let end = loop {
            let Some(offset) = data
                .get(i..)
                .and_then(|d| d.iter().position(|&b| b == b'\n'))
            else {
                self.scan = data.len();
                break None;
            };
            let nl = i + offset;
            if !self.line_checked {
                // Reject a bad request line (or HTTP/2) without waiting for the whole head.
                check_request_line(data.get(..=nl).unwrap_or(data))?;
                self.line_checked = true;
            }
            match (data.get(nl + 1), data.get(nl + 2)) {
                (Some(b'\n'), _) => break Some(nl + 2),
                (Some(b'\r'), Some(b'\n')) => break Some(nl + 3),
                (None, _) | (Some(b'\r'), None) => {
                    self.scan = nl;
                    break None;
                }
                _ => i = nl + 1,
            }
        };
        let Some(end) = end else {
            if data.len() > budget {
                return Err(ParseError::HeadTooLarge);
            }
            return Ok(None);
        };
        if end > budget {
            return Err(ParseError::HeadTooLarge);
        }
        let head = data.get(..end).unwrap_or(data);
        let pending = self.build(head)?;
        self.consume(end);
        Ok(Some(Box::new(pending)))
    }

    /// Interprets a complete head.
    fn build(&self, head: &[u8]) -> Result<Pending, ParseError> {
        // The usual limit fits on the stack; a larger one takes the heap.
        let mut on_stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
        let mut on_heap = Vec::new();
        let headers: &mut [httparse::Header<'_>] = if self.max_headers <= STACK_HEADERS {
            on_stack.get_mut(..self.max_headers).unwrap_or_default()
        } else {
            on_heap.resize(self.max_headers, httparse::EMPTY_HEADER);
            &mut on_heap
        };
        let mut parsed = httparse::Request::new(headers);
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(ParseError::Malformed("incomplete head")),
            Err(error) => return Err(map_httparse(error, head)),
        }
        let (Some(method), Some(target), Some(version)) =
            (parsed.method, parsed.path, parsed.version)
        else {
            return Err(ParseError::Malformed("incomplete request line"));
        };
        let version = match version {
            0 => Version::Http10,
            1 => Version::Http11,
            _ => return Err(ParseError::VersionNotSupported),
        };
        let mut fields = Vec::with_capacity(parsed.headers.len());
        let mut content_length: Option<u64> = None;
        let mut length_overflow = false;
        let mut codings: Option<Vec<String>> = None;
        let (mut close, mut keep_alive_token, mut expect_continue) = (false, false, false);
        let mut hosts = 0usize;
        for header in parsed.headers.iter() {
            let name = header.name;
            let value = String::from_utf8_lossy(header.value);
            let value = value.trim_matches([' ', '\t']).to_owned();
            if name.eq_ignore_ascii_case("content-length") {
                for item in value.split(',') {
                    let item = item.trim_matches([' ', '\t']);
                    if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ParseError::Malformed("invalid Content-Length"));
                    }
                    let n = match item.parse::<u64>() {
                        Ok(n) => n,
                        Err(_) => {
                            length_overflow = true;
                            u64::MAX
                        }
                    };
                    if content_length.is_some_and(|previous| previous != n) {
                        return Err(ParseError::AmbiguousFraming("conflicting Content-Length"));
                    }
                    content_length = Some(n);
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                let list = codings.get_or_insert_with(Vec::new);
                list.extend(
                    value
                        .split(',')
                        .map(|c| c.trim_matches([' ', '\t']))
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(',').map(|t| t.trim_matches([' ', '\t'])) {
                    close |= token.eq_ignore_ascii_case("close");
                    keep_alive_token |= token.eq_ignore_ascii_case("keep-alive");
                }
            } else if name.eq_ignore_ascii_case("expect") {
                expect_continue |= value.eq_ignore_ascii_case("100-continue");
            } else if name.eq_ignore_ascii_case("host") {
                hosts += 1;
            }
            fields.push((name.to_owned(), value));
        }
        if hosts > 1 || (hosts == 0 && version == Version::Http11) {
            return Err(ParseError::Malformed("a request needs exactly one Host"));
        }
        let framing = match (codings, content_length) {
            (Some(_), _) if version == Version::Http10 => {
                return Err(ParseError::AmbiguousFraming(
                    "Transfer-Encoding in HTTP/1.0",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ParseError::AmbiguousFraming(
                    "both Content-Length and Transfer-Encoding",
                ));
            }
            (Some(codings), None) => {
                if codings.iter().any(|c| !c.eq_ignore_ascii_case("chunked")) {
                    return Err(ParseError::UnsupportedTransferEncoding);
                }
                if codings.len() != 1 {
                    return Err(ParseError::AmbiguousFraming("chunked must appear once"));
                }
                Framing::Chunked(Chunked::Size)
            }
            (None, Some(n)) => {
                if length_overflow || n > self.max_body as u64 {
                    return Err(ParseError::BodyTooLarge);
                }
                Framing::Length(usize::try_from(n).map_err(|_| ParseError::BodyTooLarge)?)
            }
            (None, None) => Framing::Length(0),
        };
        let body_capacity = match framing {
            Framing::Length(n) => n.min(64 * 1024),
            Framing::Chunked(_) => 0,
        };
        let keep_alive = match version {
            Version::Http11 => !close,
            Version::Http10 => keep_alive_token && !close,
        };
        Ok(Pending {
            request: HttpRequest {
                method: Method::from_token(method),
                target: target.to_owned(),
                path: path_of(target),
                version,
                headers: fields,
                body: Vec::with_capacity(body_capacity),
                keep_alive,
                expects_continue: expect_continue && version == Version::Http11,
            },
            framing,
        })
    }

    /// Moves body bytes into the pending request; true once the body is complete.
    fn read_body(&mut self) -> Result<bool, ParseError> {
        let (max_body, max_line, max_head) = (self.max_body, self.max_chunk_line, self.max_head);
        let Some(mut pending) = self.pending.take() else {
            return Ok(false);
        };
        let result = loop {
            let data = self.unread();
            let Pending { request, framing } = &mut *pending;
            match framing {
                Framing::Length(remaining) => {
                    let take = (*remaining).min(data.len());
                    request
                        .body
                        .extend_from_slice(data.get(..take).unwrap_or(&[]));
                    *remaining -= take;
                    let done = *remaining == 0;
                    self.consume(take);
                    break Ok(done);
                }
                Framing::Chunked(Chunked::Size) => {
                    let too_long = ParseError::Malformed("chunk-size line too long");
                    let Some(line) = crlf_line(data, max_line, too_long)? else {
                        break Ok(false);
                    };
                    let size = chunk_size(line)?;
                    if size > max_body.saturating_sub(request.body.len()) {
                        break Err(ParseError::BodyTooLarge);
                    }
                    let line_len = line.len() + 2;
                    *framing = Framing::Chunked(if size == 0 {
                        Chunked::Trailers(0)
                    } else {
                        Chunked::Data(size)
                    });
                    self.consume(line_len);
                }
                Framing::Chunked(Chunked::Data(remaining)) => {
                    if data.is_empty() {
                        break Ok(false);
                    }
                    let take = (*remaining).min(data.len());
                    request
                        .body
                        .extend_from_slice(data.get(..take).unwrap_or(&[]));
                    *remaining -= take;
                    if *remaining == 0 {
                        *framing = Framing::Chunked(Chunked::DataEnd);
                    }
                    self.consume(take);
                }
                Framing::Chunked(Chunked::DataEnd) => {
                    if data.starts_with(b"\r\n") {
                        *framing = Framing::Chunked(Chunked::Size);
                        self.consume(2);
                    } else if data.is_empty() || data == b"\r" {
                        break Ok(false);
                    } else {
                        break Err(ParseError::Malformed("chunk data not followed by CRLF"));
                    }
                }
                Framing::Chunked(Chunked::Trailers(seen)) => {
                    let room = max_head.saturating_sub(*seen);
                    let line = match crlf_line(data, room, ParseError::HeadTooLarge) {
                        Ok(Some(line)) => line,
                        Ok(None) => break Ok(false),
                        Err(error) => break Err(error),
                    };
                    let line_len = line.len() + 2;
                    if line.is_empty() {
                        self.consume(line_len);
                        break Ok(true);
                    }
                    *seen += line_len;
                    self.consume(line_len);
                }
            }
        };
        self.pending = Some(pending);
        result
    }
}

/// The first line of `data` without its CRLF, once it is complete; an error if it has a bare
/// CR or LF, or `too_long` if it is longer than `max` bytes.
fn crlf_line(data: &[u8], max: usize, too_long: ParseError) -> Result<Option<&[u8]>, ParseError> {
    let window = data
        .get(..max.saturating_add(1).min(data.len()))
        .unwrap_or(data);
    match window.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(i) => match (window.get(i), data.get(i + 1)) {
            (Some(b'\r'), Some(b'\n')) => Ok(data.get(..i)),
            (Some(b'\r'), None) => Ok(None),
            _ => Err(ParseError::Malformed("bare CR or LF in chunked framing")),
        },
        None if data.len() > max => Err(too_long),
        None => Ok(None),
    }
}

/// Parses a chunk-size line: hex digits, optional blanks, optional `;extensions` (ignored).
fn chunk_size(line: &[u8]) -> Result<usize, ParseError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ParseError::Malformed("invalid chunk size"));
    }
    let rest = line.get(digits..).unwrap_or(&[]);
    let rest = rest
        .get(
            rest.iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count()..,
        )
        .unwrap_or(&[]);
    if !(rest.is_empty() || rest.starts_with(b";")) {
        return Err(ParseError::Malformed("invalid chunk size"));
    }
    let mut size: usize = 0;
    for &b in line.get(..digits).unwrap_or(&[]) {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(usize::from(digit)))
            .ok_or(ParseError::BodyTooLarge)?;
    }
    Ok(size)
}

/// Checks a request line (with its line end) as soon as it is complete.
fn check_request_line(line: &[u8]) -> Result<(), ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; 1];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(line) {
        Ok(_) | Err(httparse::Error::TooManyHeaders) => Ok(()),
        Err(error) => Err(map_httparse(error, line)),
    }
}

fn map_httparse(error: httparse::Error, head: &[u8]) -> ParseError {
    match error {
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        httparse::Error::Version if names_other_version(head) => ParseError::VersionNotSupported,
        _ => ParseError::Malformed("invalid request head"),
    }
}

/// Whether the request line ends in a well-formed `HTTP/x[.y]` other than 1.0 and 1.1
/// (`PRI * HTTP/2.0`, the HTTP/2 preface, included).
fn names_other_version(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(head.len());
    let rest = head.get(start..).unwrap_or(&[]);
    let line_end = rest.iter().position(|&b| b == b'\r' || b == b'\n');
    let line = rest.get(..line_end.unwrap_or(rest.len())).unwrap_or(&[]);
    let Some(version) = line.rsplit(|&b| b == b' ').next() else {
        return false;
    };
    let Some(number) = version.strip_prefix(b"HTTP/") else {
        return false;
    };
    let (major, minor) = match number.iter().position(|&b| b == b'.') {
        Some(dot) => (
            number.get(..dot).unwrap_or(&[]),
            number.get(dot + 1..).unwrap_or(&[]),
        ),
        None => (number, &b"0"[..]),
    };
    let digits = |s: &[u8]| !s.is_empty() && s.len() <= 3 && s.iter().all(u8::is_ascii_digit);
    digits(major) && digits(minor) && !(major == b"1" && (minor == b"0" || minor == b"1"))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
