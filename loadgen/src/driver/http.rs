//! The HTTP driver: CSP over HTTP/1.1 POST to any server, on a pool of keep-alive
//! connections per scheduler, over non-blocking sockets and one `mio` poller per scheduler.
//!
//! A request goes on an idle connection (none waiting for an answer); when none is idle a
//! new one is opened, up to the pool's size; only when all are open and busy are requests
//! pipelined, round robin (answers come back in request order). Servers answer pipelined
//! requests one after another, so a slow one (a durable write) would hold up every request
//! queued behind it on its connection: head-of-line blocking that the generator would
//! wrongly report as the server's latency. A client has one request in flight at a time,
//! so any connection will do for its next one (the session is in the message).
//!
//! On a loopback target every connection binds its own source address in 127.0.0.0/8, so
//! even many thousands of connections never run out of ephemeral ports. A connection that
//! fails or times out fails every request waiting on it (the clients see a network drop)
//! and is opened again on the next request. The clients' STCP CIR channels share the
//! poller ([`super::stcp`]).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use imps_protocol::{Encoding, Message};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::stcp::{CHANNEL_TOKEN_BASE, Channels};
use super::{ChannelEvent, DriverError, Transport};
use crate::client::Answer;
use crate::messages::CirAddress;

/// Longest wait for an answer before the connection is given up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to send: a parsed `http://HOST:PORT/PATH`.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    /// As given.
    pub url: String,
    /// The resolved address.
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    /// The request path.
    pub path: String,
}

impl HttpTarget {
    /// Parses and resolves `url`.
    pub fn parse(url: &str) -> Result<Self, DriverError> {
        let bad = || DriverError::Target(url.to_owned());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let with_port = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|_| bad())?
            .next()
            .ok_or_else(bad)?;
        Ok(Self {
            url: url.to_owned(),
            addr,
            host: authority.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// One keep-alive connection and the clients waiting on it, in order.
#[derive(Debug, Default)]
struct Conn {
    stream: Option<TcpStream>,
    connected: bool,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    waiting: VecDeque<(u32, Instant)>,
    /// Listed in [`HttpDriver::idle`].
    listed_idle: bool,
}

/// The driver of one scheduler.
pub struct HttpDriver {
    poll: Poll,
    events: Events,
    target: HttpTarget,
    conns: Vec<Conn>,
    first_conn: usize,
    head: Vec<u8>,
    body: Vec<u8>,
    failed: Vec<(u32, Answer)>,
    dirty: Vec<usize>,
    in_flight: usize,
    last_timeout_check: Instant,
    channels: Channels,
    /// Open connections with nothing waiting (entries re-checked when taken).
    idle: Vec<usize>,
    /// Connections not open, to open on demand.
    closed: Vec<usize>,
    /// Where round-robin pipelining goes next once every connection is busy.
    next_busy: usize,
    /// Requests sent on a connection already waiting for an answer.
    pipelined: u64,
}

impl std::fmt::Debug for HttpDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDriver")
            .field("target", &self.target.url)
            .field("connections", &self.conns.len())
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

/// The source address of connection `n` (counted over the whole process) on loopback.
pub fn loopback_source(n: usize) -> Ipv4Addr {
    let n = n as u32;
    Ipv4Addr::new(
        127,
        1 + (n / 65_024 % 254) as u8,
        (n / 254 % 256) as u8,
        (n % 254 + 1) as u8,
    )
}

impl HttpDriver {
    /// A driver for scheduler `thread` with `connections` connections to `target`; its
    /// clients' STCP channels say `PING` every `cir_ping`.
    pub fn new(
        target: &HttpTarget,
        thread: usize,
        connections: u16,
        cir_ping: Duration,
    ) -> Result<Self, DriverError> {
        let n = usize::from(connections.max(1));
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/vnd.wv.csp.xml\r\nContent-Length: ",
            target.path, target.host
        );
        Ok(Self {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            target: target.clone(),
            conns: (0..n).map(|_| Conn::default()).collect(),
            first_conn: thread * n,
            head: head.into_bytes(),
            body: Vec::with_capacity(4096),
            failed: Vec::new(),
            dirty: Vec::new(),
            in_flight: 0,
            last_timeout_check: Instant::now(),
            channels: Channels::new(cir_ping),
            idle: Vec::new(),
            closed: (0..n).rev().collect(),
            next_busy: 0,
            pipelined: 0,
        })
    }

    fn open(&mut self, i: usize) -> std::io::Result<()> {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::for_address(self.target.addr), Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        socket.set_tcp_nodelay(true)?;
        if let IpAddr::V4(ip) = self.target.addr.ip()
            && ip.is_loopback()
        {
            let source = SocketAddr::new(IpAddr::V4(loopback_source(self.first_conn + i)), 0);
            socket.bind(&source.into())?;
        }
        match socket.connect(&self.target.addr.into()) {
            Ok(()) => {}
            Err(e)
                if e.raw_os_error() == Some(libc::EINPROGRESS)
                    || e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let mut stream = TcpStream::from_std(socket.into());
        self.poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let conn = &mut self.conns[i];
        conn.stream = Some(stream);
        conn.connected = false;
        Ok(())
    }

    /// Fails every request waiting on connection `i` and closes it.
    fn fail(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        if let Some(mut s) = conn.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
            self.closed.push(i);
        }
        conn.connected = false;
        conn.out.clear();
        conn.written = 0;
        conn.input.clear();
        self.in_flight -= conn.waiting.len();
        for (client, _) in conn.waiting.drain(..) {
            self.failed.push((client, Answer::Transport));
        }
    }

    fn flush(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        let Some(stream) = conn.stream.as_mut() else {
            return;
        };
        if !conn.connected {
            return;
        }
        while conn.written < conn.out.len() {
            match stream.write(&conn.out[conn.written..]) {
                Ok(0) => return self.fail(i),
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.fail(i),
            }
        }
        conn.out.clear();
        conn.written = 0;
    }

    fn read(&mut self, i: usize, out: &mut Vec<(u32, Answer)>) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let conn = &mut self.conns[i];
            let Some(stream) = conn.stream.as_mut() else {
                return;
            };
            match stream.read(&mut buf) {
                Ok(0) => {
                    self.parse(i, out);
                    return self.fail(i);
                }
                Ok(n) => conn.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.parse(i, out);
                    return self.fail(i);
                }
            }
        }
        self.parse(i, out);
    }

    /// Takes every whole response off connection `i`'s input.
    fn parse(&mut self, i: usize, out: &mut Vec<(u32, Answer)>) {
        let mut used = 0;
        let mut close = false;
        loop {
            let conn = &self.conns[i];
            match parse_response(&conn.input[used..]) {
                Ok(Some(r)) => {
                    used += r.consumed;
                    close |= r.close;
                    let conn = &mut self.conns[i];
                    if let Some((client, _)) = conn.waiting.pop_front() {
                        self.in_flight -= 1;
                        out.push((client, r.answer));
                    }
                    if conn.waiting.is_empty() && !conn.listed_idle && !close {
                        conn.listed_idle = true;
                        self.idle.push(i);
                    }
                    if close {
                        break;
                    }
                }
                Ok(None) => break,
                Err(()) => {
                    close = true;
                    break;
                }
            }
        }
        self.conns[i].input.drain(..used);
        if close {
            self.fail(i);
        }
    }

    fn check_timeouts(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_timeout_check) < Duration::from_millis(100) {
            return;
        }
        self.last_timeout_check = now;
        for i in 0..self.conns.len() {
            if self.conns[i]
                .waiting
                .front()
                .is_some_and(|(_, at)| now.duration_since(*at) > REQUEST_TIMEOUT)
            {
                self.fail(i);
            }
        }
    }
}

/// A whole response read off a connection.
#[derive(Debug)]
struct Parsed {
    answer: Answer,
    consumed: usize,
    close: bool,
}

/// Reads one response from `buf`: `Ok(None)` until it is whole, `Err` when it is not HTTP.
fn parse_response(buf: &[u8]) -> Result<Option<Parsed>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let status = response.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    for h in response.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| ())?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let (body, consumed) = if chunked {
        match dechunk(&buf[head..])? {
            Some((body, n)) => (body, head + n),
            None => return Ok(None),
        }
    } else {
        let len = length.unwrap_or(0);
        if buf.len() < head + len {
            return Ok(None);
        }
        (buf[head..head + len].to_vec(), head + len)
    };
    let answer = match status {
        200 if body.iter().all(u8::is_ascii_whitespace) => Answer::Csp(None),
        200 => match imps_protocol::decode(&body, Encoding::Xml) {
            Ok(m) => Answer::Csp(Some(m)),
            Err(_) => Answer::Undecodable,
        },
        code => Answer::Http(code),
    };
    Ok(Some(Parsed {
        answer,
        consumed,
        close,
    }))
}

/// A chunked body: `Ok(None)` until whole; the body and the bytes it took.
fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ()> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let (start, size) = match httparse::parse_chunk_size(&buf[at..]) {
            Ok(httparse::Status::Complete(x)) => x,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(()),
        };
        let size = usize::try_from(size).map_err(|_| ())?;
        let data = at + start;
        if size == 0 {
            // Trailers are not expected: the final CRLF ends the body.
            return Ok((buf.len() >= data + 2).then(|| (body, data + 2)));
        }
        if buf.len() < data + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[data..data + size]);
        at = data + size + 2;
    }
}

impl HttpDriver {
    /// The connection the next request goes on: an idle one, else a new one, else the next
    /// busy one round robin. `None` when a new one was needed and could not be opened.
    fn connection_for_request(&mut self) -> Option<usize> {
        while let Some(i) = self.idle.pop() {
            let conn = &mut self.conns[i];
            conn.listed_idle = false;
            if conn.stream.is_some() && conn.waiting.is_empty() {
                return Some(i);
            }
        }
        if let Some(i) = self.closed.pop() {
            return match self.open(i) {
                Ok(()) => Some(i),
                Err(_) => {
                    self.closed.push(i);
                    None
                }
            };
        }
        // Every connection is open and waiting: pipeline.
        let n = self.conns.len();
        for _ in 0..n {
            let i = self.next_busy % n;
            self.next_busy = self.next_busy.wrapping_add(1);
            if self.conns[i].stream.is_some() {
                self.pipelined += 1;
                return Some(i);
            }
        }
        None
    }
}

impl Transport for HttpDriver {
    fn send(&mut self, client: u32, message: Message) {
        let Some(i) = self.connection_for_request() else {
            self.failed.push((client, Answer::Transport));
            return;
        };
        self.body.clear();
        imps_protocol::encode_xml_into(&message, &mut self.body);
        let conn = &mut self.conns[i];
        conn.out.extend_from_slice(&self.head);
        conn.out
            .extend_from_slice(self.body.len().to_string().as_bytes());
        conn.out.extend_from_slice(b"\r\n\r\n");
        conn.out.extend_from_slice(&self.body);
        conn.waiting.push_back((client, Instant::now()));
        self.in_flight += 1;
        self.dirty.push(i);
    }

    fn poll(&mut self, timeout: Duration, out: &mut Vec<(u32, Answer)>) -> Result<(), DriverError> {
        out.append(&mut self.failed);
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for i in dirty.drain(..) {
            self.flush(i);
        }
        self.dirty = dirty;
        let wait = if out.is_empty() {
            timeout
        } else {
            Duration::ZERO
        };
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<(usize, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                (
                    e.token().0,
                    e.is_readable() || e.is_read_closed(),
                    e.is_writable() || e.is_error(),
                )
            })
            .collect();
        for (i, readable, writable) in ready {
            if i >= CHANNEL_TOKEN_BASE {
                self.channels
                    .ready(self.poll.registry(), i, readable, writable);
                continue;
            }
            if i >= self.conns.len() {
                continue;
            }
            if writable && !self.conns[i].connected {
                let conn = &mut self.conns[i];
                let Some(stream) = conn.stream.as_ref() else {
                    continue;
                };
                match stream.take_error() {
                    Ok(None) if stream.peer_addr().is_ok() => conn.connected = true,
                    Ok(None) => {}
                    _ => {
                        self.fail(i);
                        continue;
                    }
                }
            }
            if writable {
                self.flush(i);
            }
            if readable {
                self.read(i, out);
            }
        }
        self.check_timeouts();
        self.channels.ping(self.poll.registry(), Instant::now());
        out.append(&mut self.failed);
        Ok(())
    }

    fn open_channel(&mut self, client: u32, address: CirAddress, session: &str) -> bool {
        let ip = address.ip.unwrap_or(self.target.addr.ip());
        let addr = SocketAddr::new(ip, address.port);
        self.channels
            .open(self.poll.registry(), client, addr, session);
        true
    }

    fn close_channel(&mut self, client: u32) {
        self.channels.close(self.poll.registry(), client);
    }

    fn channel_events(&mut self, out: &mut Vec<(u32, ChannelEvent)>) {
        self.channels.events(out);
    }

    fn in_flight(&self) -> usize {
        self.in_flight + self.failed.len()
    }

    fn pipelined(&self) -> u64 {
        self.pipelined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = HttpTarget::parse("http://127.0.0.1:8080/imps").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:8080", "/imps")
        );
        assert_eq!(HttpTarget::parse("http://127.0.0.1:9").unwrap().path, "/");
        assert!(HttpTarget::parse("https://x/").is_err());
        assert!(HttpTarget::parse("ftp://x").is_err());
    }

    #[test]
    fn requests_go_on_idle_connections_and_pipeline_only_when_all_are_busy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/imps", listener.local_addr().unwrap());
        let target = HttpTarget::parse(&url).unwrap();
        let mut d = HttpDriver::new(&target, 0, 2, Duration::from_secs(60)).unwrap();
        let poll = || {
            crate::messages::request(
                imps_protocol::Version::V1_2,
                None,
                1,
                crate::messages::poll(),
            )
        };
        d.send(0, poll());
        d.send(1, poll());
        // Two clients, two connections, each opened for its request.
        let open = |d: &HttpDriver| d.conns.iter().filter(|c| c.stream.is_some()).count();
        assert_eq!((open(&d), d.pipelined), (2, 0));
        d.send(2, poll());
        assert_eq!((open(&d), d.pipelined), (2, 1));
        assert_eq!(d.in_flight(), 3);
        // An answer frees its connection: the next request goes there, not behind another.
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        d.conns[1].input.extend_from_slice(answer);
        let mut out = Vec::new();
        d.parse(1, &mut out);
        assert_eq!(out.len(), 1);
        assert!(matches!(out[0], (1, Answer::Csp(None))));
        d.send(3, poll());
        assert_eq!(d.pipelined, 1);
        assert_eq!(d.conns[1].waiting.front().map(|w| w.0), Some(3));
    }

    #[test]
    fn sources_spread_over_loopback_and_stay_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000 {
            let ip = loopback_source(n);
            assert!(ip.is_loopback() && ip.octets()[3] != 0 && ip.octets()[3] != 255);
            assert!(seen.insert(ip), "{ip} twice");
        }
    }

    #[test]
    fn responses_parse_whole_partial_pipelined_and_chunked() {
        let empty = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let r = parse_response(empty).unwrap().unwrap();
        assert!(matches!(r.answer, Answer::Csp(None)));
        assert_eq!(r.consumed, empty.len());
        assert!(parse_response(&empty[..10]).unwrap().is_none());
        let body = imps_protocol::encode(&crate::messages::request(
            imps_protocol::Version::V1_2,
            None,
            1,
            crate::messages::poll(),
        ));
        let mut two =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        two.extend_from_slice(&body);
        let first = two.len();
        two.extend_from_slice(
            b"HTTP/1.1 405 Nope\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
        );
        let r = parse_response(&two).unwrap().unwrap();
        assert!(matches!(r.answer, Answer::Csp(Some(_))));
        assert_eq!(r.consumed, first);
        let r = parse_response(&two[first..]).unwrap().unwrap();
        assert!(matches!(r.answer, Answer::Http(405)) && r.close);
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n <x\r\n0\r\n\r\n";
        let r = parse_response(chunked).unwrap().unwrap();
        assert!(matches!(r.answer, Answer::Undecodable));
        assert_eq!(r.consumed, chunked.len());
        assert!(
            parse_response(&chunked[..chunked.len() - 1])
                .unwrap()
                .is_none()
        );
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
    }
}
