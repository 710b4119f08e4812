//! The CIR channels over real sockets: STCP listeners and hubs on a glommio executor,
//! std clients (TCP and UDP) in the test thread.

use std::future::Future;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use imps_engine::access::cir::CirWake;
use imps_engine::access::session_id::parse_session_id;
use imps_engine::cir::{
    CirConfig, CirHub, CirShared, CirStats, Delivery, StcpConfig, StcpListener, Validator,
    run_wake_inbox, wake_broadcast,
};
use imps_protocol::Version;

/// Runs `body` in its own thread; fails the test if it takes more than 30 s.
fn bounded(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => thread.join().expect("test setup"),
        Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => panic!("test still running after 30 s"),
    }
}

type Hubs = Rc<Vec<Rc<CirHub>>>;
type Job = Box<dyn FnOnce(Hubs) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// One executor with `hubs` hubs (indexes 0..hubs, one shared state), each serving STCP on
/// its own port.
struct Server {
    addrs: Vec<SocketAddr>,
    jobs: Option<flume::Sender<Job>>,
    stop: Option<flume::Sender<()>>,
    handle: Option<glommio::ExecutorJoinHandle<Vec<bool>>>,
}

/// Valid sessions: those whose ID parses.
fn validator() -> Validator {
    Rc::new(|session: String| -> Pin<Box<dyn Future<Output = bool>>> {
        Box::pin(async move { parse_session_id(&session).is_some() })
    })
}

impl Server {
    fn start(hubs: usize, stcp: StcpConfig) -> Server {
        let (addr_tx, addr_rx) = flume::bounded(1);
        let (jobs, job_rx) = flume::unbounded::<Job>();
        let (stop, stop_rx) = flume::bounded::<()>(1);
        let handle = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(move || async move {
                let shared = CirShared::default();
                let config = CirConfig {
                    udp_source: "127.0.0.1:0".parse().expect("test setup"),
                    ..CirConfig::default()
                };
                let mut all = Vec::new();
                let mut serving = Vec::new();
                let mut addrs = Vec::new();
                for index in 0..hubs {
                    let hub = CirHub::new(index, &config, shared.clone()).expect("test setup");
                    let listener = StcpListener::bind(
                        "127.0.0.1:0".parse().expect("test setup"),
                        stcp.clone(),
                    )
                    .expect("test setup");
                    addrs.push(listener.local_addr());
                    let serve = listener.serve(hub.clone(), validator(), stop_rx.clone());
                    serving.push(glommio::spawn_local(serve));
                    all.push(hub);
                }
                addr_tx.send(addrs).expect("test setup");
                let hubs = Rc::new(all);
                while let Ok(job) = job_rx.recv_async().await {
                    glommio::spawn_local(job(hubs.clone())).detach();
                }
                let mut ended = Vec::new();
                for serve in serving {
                    ended.push(serve.await.is_ok());
                }
                ended
            })
            .expect("test setup");
        let addrs = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("test setup");
        Server {
            addrs,
            jobs: Some(jobs),
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Runs `f` on the executor and waits for its result.
    fn run<R, F, Fut>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(Hubs) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let (tx, rx) = flume::bounded(1);
        let job: Job = Box::new(move |hubs| {
            Box::pin(async move {
                let _ = tx.send(f(hubs).await);
            })
        });
        self.jobs
            .as_ref()
            .expect("test setup")
            .send(job)
            .expect("test setup");
        rx.recv_timeout(Duration::from_secs(20))
            .expect("test setup")
    }

    fn deliver(&self, hub: usize, wake: &CirWake) -> Delivery {
        let wake = wake.clone();
        self.run(move |hubs| async move { hubs[hub].deliver(&wake).await })
    }

    fn stats(&self, hub: usize) -> CirStats {
        self.run(move |hubs| async move { hubs[hub].stats() })
    }

    fn has_tcp(&self, session: &str) -> bool {
        let session = session.to_owned();
        self.run(move |hubs| async move { hubs[0].has_tcp(&session) })
    }

    /// Waits (up to 10 s) until `f` holds for hub `hub`'s counters.
    fn wait_stats(&self, hub: usize, f: impl Fn(&CirStats) -> bool) -> CirStats {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let stats = self.stats(hub);
            if f(&stats) {
                return stats;
            }
            assert!(Instant::now() < until, "counters never matched: {stats:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the listeners, waits for them to end; true for each that ended cleanly.
    fn stop(mut self) -> Vec<bool> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Vec<bool> {
        drop(self.stop.take());
        drop(self.jobs.take());
        match self.handle.take() {
            Some(handle) => handle.join().expect("test setup"),
            None => Vec::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A std STCP client.
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("test setup");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("test setup");
        let reader = BufReader::new(stream.try_clone().expect("test setup"));
        Client { stream, reader }
    }

    fn send(&mut self, bytes: &str) {
        self.stream.write_all(bytes.as_bytes()).expect("test setup");
    }

    /// The next line, which must end with CRLF, without it.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("test setup");
        assert!(line.ends_with("\r\n"), "not a CRLF line: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    fn helo(&mut self, session: &str) {
        self.send(&format!("HELO {session}\r\n"));
        assert_eq!(self.line(), "OK");
    }

    /// The server closed the connection (without sending anything more).
    fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "unexpected data: {rest:?}"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

fn sid(shard: usize, n: u8) -> String {
    format!("{shard}-{n:032x}")
}

fn wake(session: &str, version: Version, cookie: &str) -> CirWake {
    CirWake {
        session_id: session.into(),
        version,
        cookie: cookie.into(),
        udp: None,
        tcp: true,
        http: false,
    }
}

#[test]
fn stcp_helo_ping_and_wvci() {
    bounded(|| {
        let server = Server::start(1, StcpConfig::default());
        let s = sid(0, 1);
        let mut client = Client::connect(server.addrs[0]);
        client.helo(&s);
        client.send("PING\r\n");
        assert_eq!(client.line(), "OK");
        client.send("ping\n"); // LF alone is accepted too
        assert_eq!(client.line(), "OK");
        assert!(server.has_tcp(&s));

        let d = server.deliver(0, &wake(&s, Version::V1_2, "ck-42"));
        assert_eq!(
            d,
            Delivery {
                tcp: true,
                udp: false,
                http: false
            }
        );
        assert_eq!(client.line(), "WVCI 1.2 ck-42");
        // Once the client has read it, the next wake is written too.
        server.deliver(0, &wake(&s, Version::V1_2, "ck-42"));
        assert_eq!(client.line(), "WVCI 1.2 ck-42");

        let stats = server.wait_stats(0, |s| s.wvci_tcp_written == 2);
        assert_eq!((stats.stcp_accepted, stats.stcp_open), (1, 1));
        assert_eq!((stats.helo_ok, stats.pings), (1, 2));

        drop(client);
        server.wait_stats(0, |s| s.stcp_open == 0);
        assert!(!server.has_tcp(&s));
        assert_eq!(server.stop(), vec![true]);
    });
}

#[test]
fn stcp_invalid_session_is_refused() {
    bounded(|| {
        let server = Server::start(1, StcpConfig::default());
        let mut client = Client::connect(server.addrs[0]);
        client.send("HELO nobody\r\n");
        assert_eq!(client.line(), "ERROR 604");
        client.expect_closed();
        let stats = server.wait_stats(0, |s| s.stcp_open == 0);
        assert_eq!((stats.helo_refused, stats.helo_ok), (1, 0));
        assert!(!server.has_tcp("nobody"));
    });
}

#[test]
fn stcp_bad_lines_are_refused() {
    bounded(|| {
        let server = Server::start(1, StcpConfig::default());
        let s = sid(0, 1);

        let mut client = Client::connect(server.addrs[0]);
        client.helo(&s);
        client.send("WAKE ME\r\n");
        assert_eq!(client.line(), "ERROR 400");
        client.expect_closed();

        let mut client = Client::connect(server.addrs[0]);
        client.send(&format!("HELO {}\r\n", "x".repeat(600)));
        assert_eq!(client.line(), "ERROR 400");
        client.expect_closed();

        let mut client = Client::connect(server.addrs[0]);
        client.send("PING\r\n");
        assert_eq!(client.line(), "ERROR 400");
        client.expect_closed();

        let stats = server.wait_stats(0, |s| s.stcp_open == 0);
        assert_eq!(stats.protocol_errors, 3);
        // The bound connection that misbehaved is no longer the session's channel.
        assert!(!server.has_tcp(&s));
    });
}

#[test]
fn stcp_second_helo_replaces_the_first() {
    bounded(|| {
        let server = Server::start(1, StcpConfig::default());
        let s = sid(0, 7);
        let mut first = Client::connect(server.addrs[0]);
        first.helo(&s);
        let mut second = Client::connect(server.addrs[0]);
        second.helo(&s);
        first.expect_closed();

        assert!(server.deliver(0, &wake(&s, Version::V1_3, "c2")).tcp);
        assert_eq!(second.line(), "WVCI 1.3 c2");
        let stats = server.wait_stats(0, |s| s.stcp_open == 1);
        assert_eq!((stats.helo_ok, stats.replaced), (2, 1));
        assert!(server.has_tcp(&s));
    });
}

#[test]
fn stcp_replacement_across_executors_and_broadcast() {
    bounded(|| {
        // Two hubs stand for two executors; each has its own listener.
        let server = Server::start(2, StcpConfig::default());
        let (broadcast, inboxes) = wake_broadcast(2, 16);
        server.run(move |hubs| async move {
            for (hub, inbox) in hubs.iter().zip(inboxes) {
                glommio::spawn_local(run_wake_inbox(hub.clone(), inbox)).detach();
            }
        });
        let s = sid(1, 3);
        let mut old = Client::connect(server.addrs[0]);
        old.helo(&s);
        let mut new = Client::connect(server.addrs[1]);
        new.helo(&s);

        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut w = wake(&s, Version::V1_2, "bc");
        w.udp = Some(udp.local_addr().unwrap());
        let sent = broadcast.send(w);
        assert_eq!((sent.queued, sent.dropped), (2, 0));

        assert_eq!(new.line(), "WVCI 1.2 bc");
        old.expect_closed();
        // One datagram, from the owner hub (1) only.
        let mut buf = [0u8; 64];
        let n = udp.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WVCI 1.2 bc");
        assert!(udp.recv(&mut buf).is_err(), "a second datagram was sent");
        assert_eq!(server.stats(0).udp_sent, 0);
        assert_eq!(server.stats(1).udp_sent, 1);
        assert_eq!(server.stats(0).replaced, 1);
        drop(broadcast);
    });
}

#[test]
fn sudp_datagram_from_the_owner_hub_only() {
    bounded(|| {
        let server = Server::start(2, StcpConfig::default());
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let s = sid(1, 9);
        let w = CirWake {
            session_id: s.as_str().into(),
            version: Version::V1_1,
            cookie: "cookie".into(),
            udp: Some(udp.local_addr().unwrap()),
            tcp: false,
            http: true,
        };
        // Hub 0 does not own shard 1's sessions: nothing sent, nothing recorded.
        assert_eq!(server.deliver(0, &w), Delivery::default());
        let mut buf = [0u8; 64];
        assert!(udp.recv(&mut buf).is_err());
        let pending = {
            let s = s.clone();
            server.run(move |hubs| async move { hubs[1].take_http_pending(&s) })
        };
        assert_eq!(pending, None);

        assert_eq!(
            server.deliver(1, &w),
            Delivery {
                tcp: false,
                udp: true,
                http: true
            }
        );
        let (n, from) = udp.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WVCI 1.1 cookie");
        let hub1_udp = server.run(|hubs| async move { hubs[1].udp_local_addr() });
        assert_eq!(Some(from), hub1_udp);
        let stats = server.stats(1);
        assert_eq!(
            (stats.udp_sent, stats.udp_errors, stats.http_pending),
            (1, 0, 1)
        );
        assert_eq!(server.stats(0), CirStats::default());
    });
}

#[test]
fn shttp_pending_is_taken_once() {
    bounded(|| {
        let server = Server::start(2, StcpConfig::default());
        let s = sid(0, 5);
        let mut w = wake(&s, Version::V1_2, "h");
        w.tcp = false;
        w.http = true;
        assert!(server.deliver(0, &w).http);
        // Taken from any executor's hub, once.
        let taken = server.run(move |hubs| async move {
            let first = hubs[1].take_http_pending(&s);
            let second = hubs[0].take_http_pending(&s);
            (first, second, hubs[0].shared().http_pending_len())
        });
        assert_eq!(taken, (Some("WVCI 1.2 h".to_owned()), None, 0));
    });
}

#[test]
fn stcp_helo_and_idle_timeouts() {
    bounded(|| {
        let config = StcpConfig {
            helo_timeout_ms: 300,
            idle_timeout_ms: 300,
            ..StcpConfig::default()
        };
        let server = Server::start(1, config);
        let start = Instant::now();
        let mut silent = Client::connect(server.addrs[0]);
        silent.expect_closed();
        assert!(start.elapsed() >= Duration::from_millis(250));

        let mut idle = Client::connect(server.addrs[0]);
        idle.helo(&sid(0, 1));
        // PINGs keep it open past the idle timeout...
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(100));
            idle.send("PING\r\n");
            assert_eq!(idle.line(), "OK");
        }
        // ...silence closes it.
        let silent_since = Instant::now();
        idle.expect_closed();
        assert!(silent_since.elapsed() >= Duration::from_millis(250));
        let stats = server.wait_stats(0, |s| s.stcp_open == 0);
        assert_eq!((stats.helo_timeouts, stats.idle_closed), (1, 1));
        assert!(!server.has_tcp(&sid(0, 1)));
    });
}

#[test]
fn stcp_connection_cap() {
    bounded(|| {
        let config = StcpConfig {
            max_connections: 1,
            ..StcpConfig::default()
        };
        let server = Server::start(1, config);
        let mut first = Client::connect(server.addrs[0]);
        first.helo(&sid(0, 1));
        let mut refused = Client::connect(server.addrs[0]);
        assert_eq!(refused.line(), "ERROR 503");
        refused.expect_closed();
        drop(first);
        server.wait_stats(0, |s| s.stcp_open == 0);
        let mut again = Client::connect(server.addrs[0]);
        again.helo(&sid(0, 1));
        assert_eq!(server.stats(0).stcp_refused_full, 1);
    });
}

#[test]
fn stcp_graceful_stop() {
    bounded(|| {
        let server = Server::start(2, StcpConfig::default());
        let mut bound = Client::connect(server.addrs[0]);
        bound.helo(&sid(0, 1));
        let mut waiting = Client::connect(server.addrs[1]);
        waiting.send("HE"); // a partial HELO
        server.wait_stats(1, |s| s.stcp_open == 1);
        let addr = server.addrs[0];
        let start = Instant::now();
        assert_eq!(server.stop(), vec![true, true]);
        assert!(start.elapsed() < Duration::from_secs(5));
        bound.expect_closed();
        waiting.expect_closed();
        // The listener is gone (its in-flight io_uring accept may keep it alive a moment).
        let until = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).is_ok() {
            assert!(Instant::now() < until, "still listening on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}
