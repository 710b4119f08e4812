//! The standalone-TCP CIR channels of one HTTP driver's clients, keyed by client index (the
//! clients keep no socket): connect, `HELO <SessionID>`, `OK`; `PING` every so often
//! (answered `OK`); `WVCI <version> <cookie>` lines from the server become wake-ups.
//!
//! ```text
//!   open --connect--> HELO sent --OK--> up --every ping interval--> PING (OK ignored)
//!                         |              '--WVCI--> ChannelEvent::Wake
//!                         '--ERROR / close / reset / refused--> ChannelEvent::Lost
//! ```
//!
//! Like the HTTP connections, channels to a loopback target bind source addresses spread
//! over 127.0.0.0/8 (a range of their own), so a million of them never run out of ports.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use super::ChannelEvent;
use super::http::loopback_source;

/// Tokens from here on are channels (slot = token - base); below are HTTP connections.
pub(crate) const CHANNEL_TOKEN_BASE: usize = 1 << 30;

/// Source addresses of channels: `loopback_source(FIRST_SOURCE + n % SOURCES)`, clear of
/// the HTTP connections' (which count from 0).
const FIRST_SOURCE: usize = 1 << 20;
const SOURCES: usize = 15_000_000;

/// Channels opened by this process, for their source addresses.
static OPENED: AtomicUsize = AtomicUsize::new(0);

/// The longest line the server sends (`WVCI 1.3 <cookie>`, `ERROR 503`); longer is an error.
const MAX_LINE: usize = 600;

/// One channel.
#[derive(Debug)]
struct Channel {
    client: u32,
    generation: u32,
    stream: TcpStream,
    connected: bool,
    up: bool,
    /// Bytes not written yet (`HELO`, `PING`).
    out: Vec<u8>,
    /// Bytes of a line not ended yet.
    input: Vec<u8>,
}

/// The channels of one driver.
#[derive(Debug)]
pub(crate) struct Channels {
    slots: Vec<Option<Channel>>,
    free: Vec<usize>,
    by_client: HashMap<u32, usize>,
    /// (when, slot, generation), in time order: the interval is the same for all.
    pings: VecDeque<(Instant, usize, u32)>,
    ping_every: Duration,
    generation: u32,
    events: Vec<(u32, ChannelEvent)>,
}

impl Channels {
    /// No channels yet; each will `PING` every `ping_every`.
    pub(crate) fn new(ping_every: Duration) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_client: HashMap::new(),
            pings: VecDeque::new(),
            ping_every: ping_every.max(Duration::from_secs(1)),
            generation: 0,
            events: Vec::new(),
        }
    }

    /// Channels open.
    pub(crate) fn len(&self) -> usize {
        self.by_client.len()
    }

    /// Opens `client`'s channel to `addr` for `session` (closing one it had). A channel that
    /// cannot even be started is reported lost at once.
    pub(crate) fn open(
        &mut self,
        registry: &Registry,
        client: u32,
        addr: SocketAddr,
        session: &str,
    ) {
        self.close(registry, client);
        match connect(addr) {
            Ok(stream) => {
                let slot = self.free.pop().unwrap_or_else(|| {
                    self.slots.push(None);
                    self.slots.len() - 1
                });
                self.generation = self.generation.wrapping_add(1);
                let mut channel = Channel {
                    client,
                    generation: self.generation,
                    stream,
                    connected: false,
                    up: false,
                    out: format!("HELO {session}\r\n").into_bytes(),
                    input: Vec::new(),
                };
                let token = Token(CHANNEL_TOKEN_BASE + slot);
                let interest = Interest::READABLE | Interest::WRITABLE;
                if registry
                    .register(&mut channel.stream, token, interest)
                    .is_err()
                {
                    self.free.push(slot);
                    self.events.push((client, ChannelEvent::Lost));
                    return;
                }
                self.slots[slot] = Some(channel);
                self.by_client.insert(client, slot);
            }
            Err(_) => self.events.push((client, ChannelEvent::Lost)),
        }
    }

    /// Closes `client`'s channel, if any, without an event.
    pub(crate) fn close(&mut self, registry: &Registry, client: u32) {
        if let Some(slot) = self.by_client.remove(&client) {
            self.release(registry, slot);
        }
    }

    fn release(&mut self, registry: &Registry, slot: usize) {
        if let Some(mut c) = self.slots.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(&mut c.stream);
            self.free.push(slot);
        }
    }

    /// The channel in `slot` is gone: reported lost.
    fn lose(&mut self, registry: &Registry, slot: usize) {
        let Some(client) = self
            .slots
            .get(slot)
            .and_then(|c| c.as_ref())
            .map(|c| c.client)
        else {
            return;
        };
        self.by_client.remove(&client);
        self.release(registry, slot);
        self.events.push((client, ChannelEvent::Lost));
    }

    /// The poller says the channel of `token` is ready.
    pub(crate) fn ready(
        &mut self,
        registry: &Registry,
        token: usize,
        readable: bool,
        writable: bool,
    ) {
        let slot = token - CHANNEL_TOKEN_BASE;
        let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if writable && !c.connected {
            match c.stream.take_error() {
                Ok(None) if c.stream.peer_addr().is_ok() => c.connected = true,
                Ok(None) => {}
                _ => return self.lose(registry, slot),
            }
        }
        if (writable || readable) && !self.flush(slot) {
            return self.lose(registry, slot);
        }
        if readable && !self.read(slot) {
            self.lose(registry, slot);
        }
    }

    /// Writes what is pending; false when the channel failed.
    fn flush(&mut self, slot: usize) -> bool {
        let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return true;
        };
        if !c.connected {
            return true;
        }
        while !c.out.is_empty() {
            match c.stream.write(&c.out) {
                Ok(0) => return false,
                Ok(n) => {
                    c.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        c.out = Vec::new();
        true
    }

    /// Reads and acts on whole lines; false when the channel ended or failed.
    fn read(&mut self, slot: usize) -> bool {
        let mut buf = [0u8; 1024];
        let now = Instant::now();
        loop {
            let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                return true;
            };
            match c.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => c.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
            while let Some(end) = c.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = c.input.drain(..=end).collect();
                match server_line(&line) {
                    Line::Ok if !c.up => {
                        c.up = true;
                        self.events.push((c.client, ChannelEvent::Up));
                        self.pings
                            .push_back((now + self.ping_every, slot, c.generation));
                    }
                    Line::Ok | Line::Other => {}
                    Line::Wake => self.events.push((c.client, ChannelEvent::Wake)),
                    Line::Error => return false,
                }
            }
            if c.input.len() > MAX_LINE {
                return false;
            }
        }
        if let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut)
            && c.input.is_empty()
        {
            c.input = Vec::new();
        }
        true
    }

    /// Sends the `PING`s that fell due by `now`.
    pub(crate) fn ping(&mut self, registry: &Registry, now: Instant) {
        while let Some(&(at, slot, generation)) = self.pings.front() {
            if at > now {
                break;
            }
            self.pings.pop_front();
            let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if c.generation != generation {
                continue;
            }
            c.out.extend_from_slice(b"PING\r\n");
            self.pings
                .push_back((now + self.ping_every, slot, generation));
            if !self.flush(slot) {
                self.lose(registry, slot);
            }
        }
    }

    /// Moves the events since the last call to `out`.
    pub(crate) fn events(&mut self, out: &mut Vec<(u32, ChannelEvent)>) {
        out.append(&mut self.events);
    }
}

/// What a server line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// `OK` (to `HELO` or `PING`).
    Ok,
    /// `WVCI ...`.
    Wake,
    /// `ERROR ...`.
    Error,
    /// Anything else (ignored).
    Other,
}

fn server_line(line: &[u8]) -> Line {
    let text = std::str::from_utf8(line).unwrap_or("").trim();
    let word = text.split_ascii_whitespace().next().unwrap_or("");
    if word.eq_ignore_ascii_case("OK") {
        Line::Ok
    } else if word.eq_ignore_ascii_case("WVCI") {
        Line::Wake
    } else if word.eq_ignore_ascii_case("ERROR") {
        Line::Error
    } else {
        Line::Other
    }
}

/// A non-blocking connect to `addr`, from a source address of its own on loopback.
fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    if let IpAddr::V4(ip) = addr.ip()
        && ip.is_loopback()
    {
        let n = OPENED.fetch_add(1, Ordering::Relaxed);
        let source = loopback_source(FIRST_SOURCE + n % SOURCES);
        socket.bind(&SocketAddr::new(IpAddr::V4(source), 0).into())?;
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e)
            if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == ErrorKind::WouldBlock => {
        }
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    #[test]
    fn server_lines_are_read() {
        assert_eq!(server_line(b"OK\r\n"), Line::Ok);
        assert_eq!(server_line(b"WVCI 1.2 loadgen\r\n"), Line::Wake);
        assert_eq!(server_line(b"ERROR 604\r\n"), Line::Error);
        assert_eq!(server_line(b"\r\n"), Line::Other);
    }

    #[test]
    fn sources_stay_on_loopback_and_clear_of_http() {
        let http: std::collections::HashSet<_> = (0..10_000).map(loopback_source).collect();
        for n in [0, 1, SOURCES - 1, SOURCES, 3 * SOURCES + 7] {
            let ip = loopback_source(FIRST_SOURCE + n % SOURCES);
            assert!(ip.is_loopback() && !http.contains(&ip), "{ip}");
        }
    }

    /// A channel against a scripted server on 127.0.0.1: HELO answered OK, a PING, a WVCI
    /// wake-up, then an ERROR that loses it.
    #[test]
    fn a_channel_says_helo_pings_wakes_and_is_lost() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut w = s;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "HELO 0-abc\r\n");
            w.write_all(b"OK\r\n").unwrap();
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "PING\r\n");
            w.write_all(b"OK\r\nWVCI 1.2 loadgen\r\n").unwrap();
            w.write_all(b"ERROR 503\r\n").unwrap();
        });
        let mut poll = mio::Poll::new().unwrap();
        let mut events = mio::Events::with_capacity(16);
        let mut channels = Channels::new(Duration::from_millis(50));
        channels.open(poll.registry(), 7, addr, "0-abc");
        assert_eq!(channels.len(), 1);
        let mut seen = Vec::new();
        let mut pinged = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !seen.contains(&(7, ChannelEvent::Lost)) {
            assert!(Instant::now() < deadline, "{seen:?}");
            poll.poll(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
            for e in events.iter() {
                let (r, w) = (e.is_readable() || e.is_read_closed(), e.is_writable());
                channels.ready(poll.registry(), e.token().0, r, w);
            }
            channels.events(&mut seen);
            if !pinged && seen.contains(&(7, ChannelEvent::Up)) {
                // One PING, as if its interval had passed.
                pinged = true;
                channels.ping(poll.registry(), Instant::now() + Duration::from_secs(1));
            }
        }
        server.join().unwrap();
        assert_eq!(
            seen,
            [
                (7, ChannelEvent::Up),
                (7, ChannelEvent::Wake),
                (7, ChannelEvent::Lost)
            ]
        );
        assert_eq!(channels.len(), 0);
    }
}
