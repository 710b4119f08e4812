//! SSP federation between real `impsd` processes on loopback (issue 11): handshake, instant
//! messages with delivery reports across domains, an unknown remote user (531), a peer that
//! is down and comes up, and a relay through an intermediate domain.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

mod federation_domains;

use federation_domains::*;

#[test]
fn a_message_crosses_domains_and_its_report_comes_back() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");
    let sent = a.csp(Some(&alice), "m1", &send("wv:bob@b.test", true, "hello b"));
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let mid = between(&sent, "<MessageID>", "</MessageID>").expect("a MessageID");
    let polled = b.poll_until(&bob, "hello b");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    assert!(
        polled.contains(mid),
        "the sender's MessageID travels: {polled}"
    );
    confirm(&b, &bob, &polled);
    let report = a.poll_until(&alice, "DeliveryReport-Request");
    assert!(report.contains(mid), "{report}");
    assert!(report.contains("wv:bob@b.test"), "{report}");
    let metrics = a.metrics();
    assert!(
        metrics.contains("imps_ssp_peer_up{peer=\"b.test\"} 1"),
        "{metrics}"
    );
    // An unknown user of the other domain: 201 with 531 for that user.
    let sent = a.csp(Some(&alice), "m2", &send("wv:nobody@b.test", false, "x"));
    assert!(sent.contains("<Code>531</Code>"), "{sent}");
    assert!(sent.contains("wv:nobody@b.test"), "{sent}");
    // bob's block list applies to the remote sender: 532 comes back to alice.
    let blocked = b.csp(
        Some(&bob),
        "b1",
        "<BlockEntity-Request><BlockList><InUse>T</InUse><AddList><UserID>wv:alice@a.test\
         </UserID></AddList></BlockList></BlockEntity-Request>",
    );
    assert!(blocked.contains("<Code>200</Code>"), "{blocked}");
    let sent = a.csp(
        Some(&alice),
        "m4",
        &send("wv:bob@b.test", false, "blocked?"),
    );
    assert!(sent.contains("<Code>532</Code>"), "{sent}");
    // Without a route to the domain: refused at once.
    let sent = a.csp(Some(&alice), "m3", &send("wv:carol@z.test", false, "x"));
    assert!(!sent.contains("<Code>200</Code>"), "{sent}");
    a.stop();
    b.stop();
}

#[test]
fn a_peer_that_is_down_gets_its_messages_when_it_comes_up() {
    let (mut a, mut b) = pair();
    a.start();
    let alice = a.login("alice");
    let started = Instant::now();
    let sent = a.csp(
        Some(&alice),
        "m1",
        &send("wv:bob@b.test", true, "while you were out"),
    );
    assert!(sent.contains("<Code>200</Code>"), "queued: {sent}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded wait");
    let metrics = a.metrics();
    assert!(
        metrics.contains("imps_ssp_queue_depth{peer=\"b.test\"} 1")
            && metrics.contains("imps_ssp_peer_up{peer=\"b.test\"} 0"),
        "{metrics}"
    );
    // The queue survives a restart of the sender's server.
    a.stop();
    a.start();
    b.start();
    let bob = b.login("bob");
    let polled = b.poll_until(&bob, "while you were out");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    confirm(&b, &bob, &polled);
    let alice = a.login("alice");
    a.poll_until(&alice, "DeliveryReport-Request");
    // Delivered once: nothing more arrives.
    std::thread::sleep(Duration::from_millis(500));
    let again = b.csp(Some(&bob), "again", "<Polling-Request/>");
    assert!(!again.contains("while you were out"), "{again}");
    a.stop();
    b.stop();
}

#[test]
fn a_message_is_relayed_through_an_intermediate_domain() {
    let mut a = Domain::new("a.test", &["alice"]);
    let mut b = Domain::new("b.test", &["bob"]);
    let mut c = Domain::new("c.test", &["carol"]);
    a.peer(&b);
    a.route("c.test", "b.test");
    b.peer(&a);
    b.peer(&c);
    c.peer(&b);
    c.route("a.test", "b.test");
    a.start();
    b.start();
    c.start();
    let alice = a.login("alice");
    let carol = c.login("carol");
    let sent = a.csp(Some(&alice), "m1", &send("wv:carol@c.test", false, "via b"));
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let polled = c.poll_until(&carol, "via b");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    // The answer retraces the path: an unknown user of c.test is reported to alice.
    let sent = a.csp(Some(&alice), "m2", &send("wv:nobody@c.test", false, "x"));
    assert!(sent.contains("<Code>531</Code>"), "{sent}");
    a.stop();
    b.stop();
    c.stop();
}

/// A domain played by the test itself: the sans-IO federation of `a.test`, its POSTs made with
/// `std::net`, and a loopback listener taking the POSTs of its peer.
struct FakeDomain {
    fed: imps_engine::federation::Federation,
    port: u16,
    incoming: std::sync::mpsc::Receiver<Vec<u8>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Request bodies sent, by transaction id.
    sent: Vec<(String, Vec<u8>)>,
}

impl FakeDomain {
    fn new(peer: &Domain) -> FakeDomain {
        use imps_engine::federation::{Federation, FederationConfig, PeerEntry, RetryPolicy};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let (tx, incoming) = std::sync::mpsc::channel();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let tx = tx.clone();
                        std::thread::spawn(move || serve_posts(stream, &tx));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        let mut config = FederationConfig::new("a.test");
        config
            .peers
            .push(PeerEntry::new(&peer.name, &peer.url()).expect("peer"));
        config.retry = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(200),
            send_timeout: Duration::from_secs(2),
        };
        FakeDomain {
            fed: Federation::new(config, [7; 32]).expect("federation"),
            port,
            incoming,
            stop,
            sent: Vec::new(),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ssp", self.port)
    }

    /// Runs the federation against `peer` until an event satisfies `done` (bounded).
    fn pump_until(
        &mut self,
        peer: &Domain,
        mut done: impl FnMut(&imps_engine::federation::Event) -> bool,
    ) -> imps_engine::federation::Event {
        use imps_engine::federation::TransmitKind;
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            assert!(Instant::now() < deadline, "no such event in time");
            let now = Instant::now();
            if self.fed.next_timeout(now).is_some_and(|t| t <= now) {
                self.fed.handle_timeout(now);
            }
            while let Some(t) = self.fed.poll_transmit() {
                let status = post_ssp(peer, &t.body).map_or(0, |(s, _)| s);
                if t.kind == TransmitKind::Request {
                    self.sent.push((t.transaction_id.clone(), t.body.clone()));
                }
                if t.kind != TransmitKind::Response {
                    let now = Instant::now();
                    if status == 200 {
                        self.fed.handle_ack(now, &t.peer_domain, &t.transaction_id);
                    } else {
                        self.fed
                            .handle_send_failed(now, &t.peer_domain, &t.transaction_id);
                    }
                }
            }
            while let Some(e) = self.fed.poll_event() {
                if done(&e) {
                    return e;
                }
            }
            if let Ok(body) = self.incoming.recv_timeout(Duration::from_millis(10)) {
                // What the peer sends is well formed; a refusal here fails the test later.
                let _ = self.fed.handle_incoming(Instant::now(), None, &body);
            }
        }
    }

    fn send(&mut self, peer: &Domain, sender: &str, text: &str) -> u16 {
        use imps_engine::federation::{Event, OutgoingMessage};
        let msg = OutgoingMessage {
            sender: sender.into(),
            recipients: vec!["wv:bob@b.test".into()],
            message_id: Some(format!("id-{text}")),
            content_type: Some("text/plain".into()),
            content: text.as_bytes().to_vec(),
            ..OutgoingMessage::default()
        };
        let queued = self.fed.send_message(Instant::now(), &msg);
        assert!(queued[0].result.is_ok(), "{queued:?}");
        match self.pump_until(peer, |e| matches!(e, Event::SendResult(_))) {
            Event::SendResult(r) => r.status.code,
            other => panic!("{other:?}"),
        }
    }
}

impl Drop for FakeDomain {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Answers every POST on `stream` with an empty 200 and passes its body on.
fn serve_posts(stream: TcpStream, tx: &std::sync::mpsc::Sender<Vec<u8>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err()
            || tx.send(body).is_err()
            || out
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .is_err()
        {
            return;
        }
    }
}

fn post_ssp(peer: &Domain, body: &[u8]) -> std::io::Result<(u16, String)> {
    peer.request(
        "POST",
        "/ssp",
        &[("Content-Type", "application/vnd.wv.ssp+xml")],
        body,
    )
}

#[test]
fn a_retried_transaction_is_processed_once_and_a_spoofed_sender_is_refused() {
    let mut b = Domain::new("b.test", &["bob"]);
    let mut a = FakeDomain::new(&b);
    b.args.push("--peer".into());
    b.args.push(format!("a.test={}", a.url()));
    b.start();
    let bob = b.login("bob");
    assert_eq!(a.send(&b, "wv:alice@a.test", "once"), 200);
    // The same transaction again, as a retry would carry it: accepted, not delivered again.
    let (_, body) = a.sent.last().cloned().expect("a request was sent");
    assert_eq!(post_ssp(&b, &body).expect("retry").0, 200);
    let polled = b.poll_until(&bob, "once");
    assert_eq!(polled.matches("<ContentData>once").count(), 1, "{polled}");
    std::thread::sleep(Duration::from_millis(500));
    let again = b.csp(Some(&bob), "again", "<Polling-Request/>");
    assert!(!again.contains("once"), "{again}");
    // A sender of another domain than the peer's: 901, and nothing is delivered.
    assert_eq!(a.send(&b, "wv:mallory@c.test", "spoofed"), 901);
    std::thread::sleep(Duration::from_millis(300));
    let after = b.csp(Some(&bob), "after", "<Polling-Request/>");
    assert!(!after.contains("spoofed"), "{after}");
    // Not SSP at all: 400; SSP from an unknown domain: refused.
    assert_eq!(post_ssp(&b, b"<html/>").expect("junk").0, 400);
    b.stop();
}

#[test]
fn without_federation_ssp_is_not_served_and_unknown_peers_are_refused() {
    let mut plain = Domain::new("z.test", &["zed"]);
    plain.start();
    let ssp = [("Content-Type", "application/vnd.wv.ssp+xml")];
    assert_eq!(
        plain.request("POST", "/", &ssp, b"<x/>").expect("ssp").0,
        415
    );
    assert_eq!(post_ssp(&plain, b"<x/>").expect("ssp").0, 404);
    plain.stop();
    // A federated server takes a handshake from a peer and refuses one from a stranger.
    let mut b = Domain::new("b.test", &["bob"]);
    let mut a = FakeDomain::new(&b);
    b.args.push("--peer".into());
    b.args.push(format!("a.test={}", a.url()));
    b.start();
    let msg = imps_engine::federation::OutgoingMessage {
        sender: "wv:alice@a.test".into(),
        recipients: vec!["wv:bob@b.test".into()],
        content: b"x".to_vec(),
        ..Default::default()
    };
    a.fed.send_message(Instant::now(), &msg);
    let setup = a.fed.poll_transmit().expect("a handshake step");
    let foreign = String::from_utf8_lossy(&setup.body).replace("a.test", "q.test");
    assert_eq!(post_ssp(&b, foreign.as_bytes()).expect("foreign").0, 403);
    assert_eq!(post_ssp(&b, &setup.body).expect("setup").0, 200);
    b.stop();
}

#[test]
fn peers_with_a_shared_secret_federate_and_a_wrong_secret_gets_no_session() {
    for (secret_a, secret_b, delivered) in [("s3cret", "s3cret", true), ("s3cret", "other", false)]
    {
        let (mut a, mut b) = pair();
        a.args.push("--peer-secret".into());
        a.args.push(format!("b.test={secret_a}"));
        b.args.push("--peer-secret".into());
        b.args.push(format!("a.test={secret_b}"));
        a.start();
        b.start();
        let alice = a.login("alice");
        let bob = b.login("bob");
        let sent = a.csp(
            Some(&alice),
            "m1",
            &send("wv:bob@b.test", false, "keyed hello"),
        );
        assert!(
            sent.contains("<Code>200</Code>"),
            "accepted or queued: {sent}"
        );
        if delivered {
            b.poll_until(&bob, "keyed hello");
        } else {
            // The handshake fails: the message stays queued, no session comes up.
            let polled = b.csp(Some(&bob), "p", "<Polling-Request/>");
            assert!(!polled.contains("keyed hello"), "{polled}");
            let metrics = a.metrics();
            assert!(
                metrics.contains("imps_ssp_peer_up{peer=\"b.test\"} 0")
                    && metrics.contains("imps_ssp_queue_depth{peer=\"b.test\"} 1"),
                "{metrics}"
            );
        }
        a.stop();
        b.stop();
    }
}

#[test]
fn user_profiles_are_served_within_the_presence_grant_and_never_updated_from_outside() {
    use imps_engine::federation::{Answer, Event, RemoteRequest};
    use imps_protocol::ssp::extension::{FeatureGroup, UserProfile};
    let mut b = Domain::new("b.test", &["bob"]);
    let mut a = FakeDomain::new(&b);
    b.args.push("--peer".into());
    b.args.push(format!("a.test={}", a.url()));
    b.start();
    let ask = |a: &mut FakeDomain, request: RemoteRequest| {
        let queued = a.fed.request(Instant::now(), request);
        assert!(queued.result.is_ok(), "{queued:?}");
        match a.pump_until(&b, |e| matches!(e, Event::RequestResult(_))) {
            Event::RequestResult(r) => r,
            other => panic!("{other:?}"),
        }
    };
    let get = RemoteRequest::GetUserProfile {
        requester: "wv:alice@a.test".into(),
        users: vec!["wv:bob@b.test".into(), "wv:nobody@b.test".into()],
    };
    // bob is offline and alice is not authorized: services only, no activity.
    let r = ask(&mut a, get.clone());
    assert_eq!(r.status.code, 201, "{r:?}");
    assert_eq!(r.status.detailed[0].code, 531);
    let Answer::Profiles(profiles) = &r.answer else {
        panic!("{r:?}")
    };
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].user_id, "wv:bob@b.test");
    assert_eq!(profiles[0].active, None, "not granted OnlineStatus");
    assert!(profiles[0].settings.is_empty());
    assert!(
        profiles[0]
            .services
            .features
            .iter()
            .any(|f| f.group == FeatureGroup::Presence)
    );
    // bob logs in and grants alice his OnlineStatus and ClientInfo: she learns he is active.
    let bob = b.login("bob");
    let grant = "<CreateAttributeList-Request><PresenceSubList \
                 xmlns=\"http://www.openmobilealliance.org/DTD/WV-PA1.2\"><OnlineStatus/>\
                 <ClientInfo/></PresenceSubList><UserID>wv:alice@a.test</UserID><DefaultList>F\
                 </DefaultList></CreateAttributeList-Request>";
    let answer = b.csp(Some(&bob), "grant", grant);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    let caps = "<ClientCapability-Request><ClientID><URL>http://bob.example/</URL></ClientID>\
                <CapabilityList><ParserSize>4000</ParserSize></CapabilityList>\
                </ClientCapability-Request>";
    let answer = b.csp(Some(&bob), "caps", caps);
    assert!(answer.contains("ClientCapability-Response"), "{answer}");
    let r = ask(&mut a, get);
    let Answer::Profiles(profiles) = &r.answer else {
        panic!("{r:?}")
    };
    assert_eq!(profiles[0].active, Some(true), "{r:?}");
    assert!(
        profiles[0]
            .settings
            .iter()
            .any(|(k, v)| k == "ParserSize" && v == "4000"),
        "{r:?}"
    );
    // Another domain never updates a local user's profile.
    let update = RemoteRequest::UpdateUserProfile {
        requester: "wv:alice@a.test".into(),
        profile: UserProfile {
            user_id: "wv:bob@b.test".into(),
            active: Some(false),
            ..Default::default()
        },
    };
    assert_eq!(ask(&mut a, update).status.code, 403);
    // IM keeps working on the same session.
    assert_eq!(a.send(&b, "wv:alice@a.test", "after-profiles"), 200);
    b.stop();
}
