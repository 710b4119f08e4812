//! The HTTP/1.1 layer end to end: a toy service behind `imps_engine::http::Listener` on a
//! glommio executor thread, driven by plain `std::net::TcpStream` clients from ordinary
//! threads, on 127.0.0.1 with OS-chosen ports.
//!
//! Every test body runs under a watchdog that fails it after 30 s instead of hanging, and
//! every server is stopped (and its executor joined) at the end, also when a test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use imps_engine::http::{
    FIRST_STREAK, HandoverPort, HttpError, HttpLimits, HttpRequest, HttpResponse, HttpService,
    HttpStats, Listener, handover_ports,
};

/// The toy service: echoes `METHOD path body`; `/whoami` answers the tag, `/slow` takes
/// 600 ms, `/close` asks to close the connection. A closure, so the blanket impl is used.
fn toy(tag: String, slow_started: Arc<AtomicUsize>) -> impl HttpService {
    move |request: HttpRequest, _peer: SocketAddr| {
        let (tag, slow_started) = (tag.clone(), Arc::clone(&slow_started));
        async move {
            match request.path.as_str() {
                "/whoami" => HttpResponse::ok("text/plain", tag),
                "/slow" => {
                    slow_started.fetch_add(1, Ordering::SeqCst);
                    glommio::timer::sleep(Duration::from_millis(600)).await;
                    HttpResponse::ok("text/plain", "slow done")
                }
                "/close" => {
                    HttpResponse::ok("text/plain", "bye").with_header("Connection", "close")
                }
                _ => {
                    let mut body =
                        format!("{} {} ", request.method.as_str(), request.path).into_bytes();
                    body.extend_from_slice(&request.body);
                    HttpResponse::ok("text/plain", body)
                }
            }
        }
    }
}

/// The hand-over service: `/home/<i>/<n>` answers `<tag> <n>` and names executor `i` as the
/// request's home; anything else answers `<tag>` with no home.
struct Homing(String);

impl HttpService for Homing {
    fn call(
        &self,
        request: HttpRequest,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = HttpResponse>>> {
        let call = self.call_homed(request, peer);
        Box::pin(async move { call.await.0 })
    }

    fn call_homed(
        &self,
        request: HttpRequest,
        _peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = (HttpResponse, Option<usize>)>>> {
        let mut parts = request.path.trim_start_matches('/').split('/');
        let (home, body) = match (parts.next(), parts.next(), parts.next()) {
            (Some("home"), Some(i), Some(n)) => (i.parse().ok(), format!("{} {n}", self.0)),
            _ => (None, self.0.clone()),
        };
        Box::pin(async move { (HttpResponse::ok("text/plain", body), home) })
    }
}

struct Server {
    addr: SocketAddr,
    stats: Arc<HttpStats>,
    slow_started: Arc<AtomicUsize>,
    stop: Option<flume::Sender<()>>,
    handle: Option<glommio::ExecutorJoinHandle<Result<(), HttpError>>>,
}

impl Server {
    fn start(limits: HttpLimits) -> Server {
        Server::start_at(any_port(), limits, "a")
    }

    fn start_at(addr: SocketAddr, limits: HttpLimits, tag: &str) -> Server {
        let slow_started = Arc::new(AtomicUsize::new(0));
        let (tag, counter) = (tag.to_owned(), Arc::clone(&slow_started));
        Server::launch(addr, limits, slow_started, move |listener, stop| {
            listener.run(Rc::new(toy(tag, counter)), stop)
        })
    }

    /// A server of [`Homing`] with hand-over port `port` (tagged with its index).
    fn start_linked(addr: SocketAddr, limits: HttpLimits, port: HandoverPort) -> Server {
        let tag = port.index().to_string();
        Server::launch(addr, limits, Arc::default(), move |listener, stop| {
            listener.with_handover(port).run(Rc::new(Homing(tag)), stop)
        })
    }

    fn launch<F, Fut>(
        addr: SocketAddr,
        limits: HttpLimits,
        slow_started: Arc<AtomicUsize>,
        run: F,
    ) -> Server
    where
        F: FnOnce(Listener, flume::Receiver<()>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), HttpError>> + 'static,
    {
        let (stop_tx, stop_rx) = flume::bounded::<()>(1);
        let (ready_tx, ready_rx) = flume::bounded(1);
        let handle = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .name("http-test")
            .io_memory(256 << 10)
            .spawn(move || async move {
                let listener = match Listener::bind(addr, limits) {
                    Ok(listener) => listener,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error.to_string()));
                        return Err(error);
                    }
                };
                let _ = ready_tx.send(Ok((listener.local_addr(), listener.stats())));
                run(listener, stop_rx).await
            })
            .expect("executor starts");
        let (addr, stats) = ready_rx.recv().expect("executor reports").expect("binds");
        Server {
            addr,
            stats,
            slow_started,
            stop: Some(stop_tx),
            handle: Some(handle),
        }
    }

    /// Fires the stop signal without waiting.
    fn signal_stop(&mut self) {
        if let Some(stop) = &self.stop {
            let _ = stop.send(());
        }
    }

    /// Stops and joins the executor; `run`'s result.
    fn stop(mut self) -> Result<(), HttpError> {
        self.shutdown()
            .expect("executor ran")
            .expect("executor joins")
    }

    fn shutdown(&mut self) -> Option<glommio::Result<Result<(), HttpError>, ()>> {
        self.stop.take();
        self.handle.take().map(|h| h.join())
    }
}

impl Drop for Server {
    /// Stops the server also when a test fails (without panicking again).
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn limits() -> HttpLimits {
    HttpLimits {
        shutdown_grace: Duration::from_secs(5),
        ..HttpLimits::default()
    }
}

/// Runs `body` on its own thread; fails if it takes more than 30 s.
fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(value) => {
            handle.join().expect("test thread");
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("test did not finish within 30 s (hang?)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sent nothing but returned"),
        },
    }
}

/// A minimal blocking client.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let writer = TcpStream::connect(addr).expect("connects");
        writer
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout set");
        let reader = BufReader::new(writer.try_clone().expect("clones"));
        Client { writer, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("writes");
    }

    /// Reads one response (the body by `Content-Length`, none for `HEAD` or `100`).
    fn response_to(&mut self, head_request: bool) -> Response {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        assert!(line.starts_with("HTTP/1.1 "), "status line {line:?}");
        let status: u16 = line[9..12].parse().expect("status code");
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("header line");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header has a colon");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if status != 100 && !head_request {
            let length: usize = response
                .header("content-length")
                .unwrap_or("0")
                .parse()
                .expect("a length");
            response.body = vec![0; length];
            self.reader.read_exact(&mut response.body).expect("body");
        }
        response
    }

    fn response(&mut self) -> Response {
        self.response_to(false)
    }

    fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.response()
    }

    /// Whether the server closed the connection (end of stream, or a reset) within 10 s.
    fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Waits (up to 5 s) until `check` holds for the stats.
fn eventually(stats: &HttpStats, check: impl Fn(&imps_engine::http::HttpStatsSnapshot) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check(&stats.snapshot()) {
        assert!(Instant::now() < deadline, "stats: {:?}", stats.snapshot());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn get_and_post_with_content_length() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        let r = client.request(&get("/hello?x=1"));
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "GET /hello ");
        assert_eq!(r.header("server"), Some("impsd"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("connection"), None);
        let r = client.request(&post("/csp", "<xml/>"));
        assert_eq!((r.status, r.text().as_str()), (200, "POST /csp <xml/>"));
        drop(client);
        server.stop().unwrap();
    });
}

#[test]
fn keep_alive_serves_three_requests_on_one_connection() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        for i in 0..3 {
            let r = client.request(&post(&format!("/r{i}"), &format!("body{i}")));
            assert_eq!(r.text(), format!("POST /r{i} body{i}"));
        }
        let stats = server.stats.snapshot();
        assert_eq!((stats.connections_accepted, stats.requests), (1, 3));
        // HTTP/1.0 with keep-alive stays open too, and is told so.
        let r = client.request(b"GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert_eq!(client.request(&get("/after")).text(), "GET /after ");
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        let mut burst = post("/1", "one");
        burst.extend(get("/slow"));
        burst.extend(post("/3", "three"));
        client.send(&burst);
        assert_eq!(client.response().text(), "POST /1 one");
        assert_eq!(client.response().text(), "slow done");
        assert_eq!(client.response().text(), "POST /3 three");
        let mut burst = Vec::new();
        for i in 0..50 {
            burst.extend(get(&format!("/p{i}")));
        }
        client.send(&burst);
        for i in 0..50 {
            assert_eq!(client.response().text(), format!("GET /p{i} "));
        }
    });
}

#[test]
fn chunked_request_body() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        client.send(b"POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        client.send(b"5;ext=1\r\nhello\r\n");
        std::thread::sleep(Duration::from_millis(50));
        client.send(b"6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n");
        let r = client.response();
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "POST /chunked hello world")
        );
        assert_eq!(client.request(&get("/next")).text(), "GET /next ");
    });
}

#[test]
fn expect_100_continue() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        client.send(
            b"POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        );
        let interim = client.response();
        assert_eq!(interim.status, 100);
        client.send(b"data");
        let r = client.response();
        assert_eq!((r.status, r.text().as_str()), (200, "POST /e data"));
    });
}

#[test]
fn body_over_the_limit_is_413() {
    watchdog(|| {
        let server = Server::start(HttpLimits {
            max_body_bytes: 1024,
            ..limits()
        });
        // Without Expect: the body is sent, the server answers 413 and closes.
        let mut client = Client::connect(server.addr);
        let body = "x".repeat(4096);
        client.send(&post("/big", &body));
        let r = client.response();
        assert_eq!(r.status, 413);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(client.closed());
        // With Expect: 413 at once, without 100 Continue and without the body.
        let mut client = Client::connect(server.addr);
        client.send(
            b"POST /big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4096\r\n\r\n",
        );
        let r = client.response();
        assert_eq!(r.status, 413);
        assert!(client.closed());
        // Chunked over the limit.
        let mut client = Client::connect(server.addr);
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
        assert_eq!(client.response().status, 413);
        eventually(&server.stats, |s| s.parse_errors(413) == 3);
    });
}

#[test]
fn malformed_request_is_400_and_closes() {
    watchdog(|| {
        let server = Server::start(limits());
        for (input, status) in [
            (&b"GARBAGE\r\n\r\n"[..], 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (
                b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
                501,
            ),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ] {
            let mut client = Client::connect(server.addr);
            client.send(input);
            let r = client.response();
            assert_eq!(r.status, status, "{}", String::from_utf8_lossy(input));
            assert_eq!(r.header("connection"), Some("close"));
            assert!(client.closed());
        }
        // An error after a good request: the good one is answered first.
        let mut client = Client::connect(server.addr);
        let mut burst = get("/ok");
        burst.extend_from_slice(b"BAD\r\n\r\n");
        client.send(&burst);
        assert_eq!(client.response().status, 200);
        assert_eq!(client.response().status, 400);
        assert!(client.closed());
        eventually(&server.stats, |s| {
            s.bad_request == 4 && s.not_implemented == 1 && s.version_not_supported == 1
        });
    });
}

#[test]
fn header_timeout_closes_a_slow_head() {
    watchdog(|| {
        let server = Server::start(HttpLimits {
            header_timeout: Duration::from_millis(300),
            ..limits()
        });
        let mut client = Client::connect(server.addr);
        let t0 = Instant::now();
        client.send(b"GET / HTTP/1.1\r\nHo");
        assert!(client.closed());
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        // Trickling bytes does not extend the deadline.
        let mut client = Client::connect(server.addr);
        let t0 = Instant::now();
        client.send(b"G");
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(50));
            if client.writer.write_all(b"E").is_err() {
                break;
            }
        }
        assert!(client.closed());
        assert!(t0.elapsed() < Duration::from_secs(5));
        // A connection that sends nothing is closed as well.
        let mut client = Client::connect(server.addr);
        assert!(client.closed());
        eventually(&server.stats, |s| {
            s.header_timeouts == 3 && s.connections_open == 0
        });
    });
}

#[test]
fn body_timeout_closes_a_slow_body() {
    watchdog(|| {
        let server = Server::start(HttpLimits {
            body_timeout: Duration::from_millis(300),
            ..limits()
        });
        let mut client = Client::connect(server.addr);
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
        assert!(client.closed());
        eventually(&server.stats, |s| s.body_timeouts == 1);
    });
}

#[test]
fn idle_timeout_closes_a_kept_alive_connection() {
    watchdog(|| {
        let server = Server::start(HttpLimits {
            idle_timeout: Duration::from_millis(300),
            ..limits()
        });
        let mut client = Client::connect(server.addr);
        assert_eq!(client.request(&get("/")).status, 200);
        let t0 = Instant::now();
        assert!(client.closed());
        assert!(t0.elapsed() >= Duration::from_millis(250));
        eventually(&server.stats, |s| s.idle_timeouts == 1);
    });
}

#[test]
fn connection_cap_refuses_the_extra_connection() {
    watchdog(|| {
        let server = Server::start(HttpLimits {
            max_connections: 1,
            ..limits()
        });
        let mut first = Client::connect(server.addr);
        assert_eq!(first.request(&get("/1")).status, 200);
        let mut extra = Client::connect(server.addr);
        let r = extra.response();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(extra.closed());
        // The first one still works; once it is gone, a new one is served.
        assert_eq!(first.request(&get("/2")).status, 200);
        drop(first);
        eventually(&server.stats, |s| s.connections_open == 0);
        let mut next = Client::connect(server.addr);
        assert_eq!(next.request(&get("/3")).status, 200);
        let stats = server.stats.snapshot();
        assert_eq!(
            (stats.connections_refused, stats.connections_accepted),
            (1, 2)
        );
    });
}

#[test]
fn head_response_has_no_body() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = client.response_to(true);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length"),
            Some("8"),
            "the length of `HEAD /h `"
        );
        // Had a body been sent, this would read it instead of the next response.
        let r = client.request(&get("/after"));
        assert_eq!(r.text(), "GET /after ");
    });
}

#[test]
fn connection_close_is_honoured() {
    watchdog(|| {
        let server = Server::start(limits());
        let mut client = Client::connect(server.addr);
        let r = client.request(b"GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert_eq!((r.status, r.header("connection")), (200, Some("close")));
        assert!(client.closed());
        // HTTP/1.0 without keep-alive closes.
        let mut client = Client::connect(server.addr);
        let r = client.request(b"GET /c HTTP/1.0\r\n\r\n");
        assert_eq!(r.header("connection"), Some("close"));
        assert!(client.closed());
        // The service may ask for it too; later pipelined requests are not served.
        let mut client = Client::connect(server.addr);
        let mut burst = get("/close");
        burst.extend(get("/never"));
        client.send(&burst);
        let r = client.response();
        assert_eq!(
            (r.text().as_str(), r.header("connection")),
            ("bye", Some("close"))
        );
        assert!(client.closed());
        eventually(&server.stats, |s| s.requests == 3);
    });
}

#[test]
fn two_executors_bound_to_the_same_port_both_serve() {
    watchdog(|| {
        let first = Server::start_at(any_port(), limits(), "first");
        let second = Server::start_at(first.addr, limits(), "second");
        assert_eq!(first.addr, second.addr);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut client = Client::connect(first.addr);
            seen.insert(client.request(&get("/whoami")).text());
            if seen.len() == 2 {
                break;
            }
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["first", "second"]);
        second.stop().unwrap();
        first.stop().unwrap();
    });
}

#[test]
fn graceful_stop_finishes_in_flight_requests() {
    watchdog(|| {
        let mut server = Server::start(limits());
        let mut busy = Client::connect(server.addr);
        let mut idle = Client::connect(server.addr);
        assert_eq!(idle.request(&get("/")).status, 200);
        busy.send(&get("/slow"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.slow_started.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the slow request never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let t0 = Instant::now();
        server.signal_stop();
        std::thread::sleep(Duration::from_millis(100));
        // No new connections; the idle one is closed; the busy one gets its answer.
        assert!(TcpStream::connect(server.addr).is_err(), "still accepting");
        assert!(idle.closed());
        let r = busy.response();
        assert_eq!((r.status, r.text().as_str()), (200, "slow done"));
        assert_eq!(r.header("connection"), Some("close"));
        assert!(busy.closed());
        let stats = Arc::clone(&server.stats);
        server.stop().unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(stats.snapshot().connections_open, 0);
    });
}

/// Two linked executors on one port; `(servers, client, executor the client landed on)`.
fn linked_pair(limits: HttpLimits) -> (Vec<Server>, Client, usize) {
    let mut ports = handover_ports(2).into_iter();
    let (p0, p1) = (ports.next().expect("port 0"), ports.next().expect("port 1"));
    let first = Server::start_linked(any_port(), limits.clone(), p0);
    let second = Server::start_linked(first.addr, limits, p1);
    let addr = first.addr;
    let servers = vec![first, second];
    for _ in 0..200 {
        let mut client = Client::connect(addr);
        let r = client.request(&get("/whoami"));
        if r.status == 200 {
            let here = r.text().parse().expect("an executor index");
            return (servers, client, here);
        }
    }
    panic!("no executor took a connection");
}

#[test]
fn a_connection_moves_to_the_executor_serving_its_requests() {
    watchdog(|| {
        let (servers, mut client, here) = linked_pair(limits());
        let other = 1 - here;
        // The first streak is served here, then the connection moves between two requests.
        for n in 0..FIRST_STREAK + 3 {
            let r = client.request(&get(&format!("/home/{other}/{n}")));
            let by = if n < FIRST_STREAK { here } else { other };
            assert_eq!(r.text(), format!("{by} {n}"), "request {n}");
        }
        // Pipelined requests keep their order after the move.
        let burst: Vec<u8> = (100..110)
            .flat_map(|n| get(&format!("/home/{other}/{n}")))
            .collect();
        client.send(&burst);
        for n in 100..110 {
            assert_eq!(client.response().text(), format!("{other} {n}"));
        }
        let (moved_out, moved_in) = (
            servers[here].stats.snapshot(),
            servers[other].stats.snapshot(),
        );
        assert_eq!((moved_out.moved_out, moved_in.moved_in), (1, 1));
        assert_eq!(moved_in.connections_accepted, 0);
        eventually(&servers[here].stats, |s| s.connections_open == 0);
        assert_eq!(moved_in.connections_open, 1);
        // Stopping closes the moved connection too.
        let stats: Vec<_> = servers.iter().map(|s| Arc::clone(&s.stats)).collect();
        for server in servers {
            server.stop().unwrap();
        }
        assert!(client.closed());
        assert!(stats.iter().all(|s| s.snapshot().connections_open == 0));
    });
}

#[test]
fn a_connection_does_not_move_to_a_listener_at_its_cap() {
    watchdog(|| {
        let one = HttpLimits {
            max_connections: 1,
            ..limits()
        };
        let (servers, mut holder, full) = linked_pair(one);
        // A second connection, on the other executor (the full one refuses it with 503).
        let mut client = None;
        for _ in 0..200 {
            let mut c = Client::connect(servers[0].addr);
            if c.request(&get("/whoami")).status == 200 {
                client = Some(c);
                break;
            }
        }
        let mut client = client.expect("a connection on the other executor");
        let here = 1 - full;
        for n in 0..FIRST_STREAK * 2 {
            let r = client.request(&get(&format!("/home/{full}/{n}")));
            assert_eq!(r.text(), format!("{here} {n}"), "moved to a full listener");
        }
        assert_eq!(holder.request(&get("/whoami")).text(), full.to_string());
        drop(holder);
        eventually(&servers[full].stats, |s| s.connections_open == 0);
        // Room now: after another streak the connection moves.
        for n in 0..=FIRST_STREAK {
            let r = client.request(&get(&format!("/home/{full}/{n}")));
            let by = if n < FIRST_STREAK { here } else { full };
            assert_eq!(r.text(), format!("{by} {n}"), "request {n}");
        }
        assert_eq!(servers[full].stats.snapshot().moved_in, 1);
    });
}
