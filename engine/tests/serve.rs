//! `impsd serve` as a user runs it: the real binary on free loopback ports and a real data
//! directory, driven with raw HTTP/1.1 over `std::net::TcpStream` and with curl, in XML and
//! in WBXML.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use imps_protocol::{Encoding, Message, Primitive, Version, decode, encode_wbxml};

mod serve_support;
use serve_support::*;

#[test]
fn content_types_versions_errors_and_metrics() {
    let server = Server::start("");
    let v11 = (
        "http://www.wireless-village.org/CSP1.1",
        "http://www.wireless-village.org/TRC1.1",
    );
    let v13 = (
        "http://www.openmobilealliance.org/DTD/IMPS-CSP1.3",
        "http://www.openmobilealliance.org/DTD/IMPS-TRC1.3",
    );
    for (ct, (csp, trc)) in [
        ("application/vnd.wv.csp.xml", v11),
        ("application/vnd.wv.csp.xml", (CSP12, TRC12)),
        ("application/vnd.wv.csp+xml", v13),
        ("text/xml", (CSP12, TRC12)),
        ("application/xml; charset=utf-8", v11),
    ] {
        let (status, headers, body) =
            server.post_csp(ct, &login_body(csp, trc, "alice", "a-pw", ct));
        assert_eq!(status, 200, "{ct}: {body}");
        assert!(
            body.contains(csp),
            "answered in the client's version: {body}"
        );
        assert!(body.contains("<Code>200</Code>"), "{body}");
        let reply_type = header(&headers, "content-type").unwrap_or_default();
        assert!(
            reply_type.starts_with("application/vnd.wv.csp"),
            "{reply_type}"
        );
    }
    // XML sent as WBXML does not decode: 400 (WBXML itself: wbxml_login_and_keep_alive);
    // other types: 415.
    let body = login_body(CSP12, TRC12, "alice", "a-pw", "w");
    assert_eq!(
        server.post_csp("application/vnd.wv.csp.wbxml", &body).0,
        400
    );
    assert_eq!(server.post_csp("text/html", &body).0, 415);
    // Wrong password: a CSP answer, no session.
    let (_, _, wrong) = server.post_csp(
        "application/vnd.wv.csp.xml",
        &login_body(CSP12, TRC12, "alice", "nope", "w"),
    );
    assert!(
        wrong.contains("<Code>409</Code>") && !wrong.contains("<SessionID>"),
        "{wrong}"
    );
    // Not CSP at all: HTTP 400; an unknown primitive: a CSP Status 405.
    assert_eq!(server.post_csp("text/xml", "<html/>").0, 400);
    let (status, _, body) = server.post_csp(
        "text/xml",
        &envelope(CSP12, TRC12, None, "t7", "<Teleport-Request/>"),
    );
    assert_eq!(status, 200);
    assert!(
        body.contains("<Code>405</Code>") && body.contains("<TransactionID>t7"),
        "{body}"
    );
    // Unknown path and method.
    assert_eq!(server.request("GET", "/nope", &[], b"").unwrap().0, 404);
    assert_eq!(server.request("GET", "/imps", &[], b"").unwrap().0, 405);
    let Response(status, _, body) = server.request("HEAD", "/health", &[], b"").unwrap();
    assert_eq!((status, body.len()), (200, 0));

    // The MSISDN header counts only from a trusted proxy (none configured here).
    let (_, _, answer) = {
        let r = server
            .request(
                "POST",
                "/imps",
                &[("Content-Type", "text/xml"), ("MSISDN", "+358401234567")],
                login_body(CSP12, TRC12, "alice", "a-pw", "m").as_bytes(),
            )
            .unwrap();
        (r.0, r.1, String::from_utf8_lossy(&r.2).into_owned())
    };
    assert!(!answer.contains("<MSISDN>"), "{answer}");

    // An idle poll is an empty 200.
    let sid = login(&server, "bob", "b-pw", "poller");
    let (status, _, body) = server.post_csp(
        "application/vnd.wv.csp.xml",
        &envelope(CSP12, TRC12, Some(&sid), "p1", "<Polling-Request/>"),
    );
    assert_eq!((status, body.len()), (200, 0));

    // Metrics: Prometheus text whose every sample parses.
    let Response(status, _, metrics) = server.request("GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    let text = String::from_utf8(metrics).unwrap();
    let mut samples = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, value) = line.rsplit_once(' ').expect("name value");
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad sample {line}"));
        assert!(name.starts_with("imps_"), "{line}");
        samples += 1;
    }
    assert!(samples > 10);
    let logins: u64 = text
        .lines()
        .filter(|l| {
            l.starts_with("imps_transactions_total")
                && l.contains("Login-Request")
                && l.contains("code=\"200\"")
        })
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<u64>().ok()))
        .sum();
    assert_eq!(logins, 7);
    let sessions: u64 = text
        .lines()
        .filter(|l| l.starts_with("imps_sessions{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<u64>().ok()))
        .sum();
    assert_eq!(sessions, 7);

    let out = server.stop();
    assert!(out.contains("stopped"), "{out}");

    // From a trusted proxy, the network's MSISDN is stamped into the login's ClientID.
    let server = Server::start("[http]\ntrusted_proxies = [\"127.0.0.1\"]\n");
    let r = server
        .request(
            "POST",
            "/imps",
            &[("Content-Type", "text/xml"), ("MSISDN", "+358401234567")],
            login_body(CSP12, TRC12, "alice", "a-pw", "m").as_bytes(),
        )
        .unwrap();
    let answer = String::from_utf8_lossy(&r.2);
    assert!(
        answer.contains("<MSISDN>+358401234567</MSISDN>"),
        "{answer}"
    );
    server.stop();
}

#[test]
fn keep_alive_pipelining_chunked_and_continue() {
    let server = Server::start("");
    let sid = login(&server, "alice", "a-pw", "pipeliner");
    let ka = envelope(CSP12, TRC12, Some(&sid), "k1", "<KeepAlive-Request/>");
    // Two requests written at once on one connection: two answers, in order.
    let mut s = TcpStream::connect(server.http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let one = format!(
        "POST /imps HTTP/1.1\r\nHost: t\r\nContent-Type: application/vnd.wv.csp.xml\r\nContent-Length: {}\r\n\r\n{ka}",
        ka.len()
    );
    s.write_all(format!("{one}{one}").as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for _ in 0..2 {
        let Response(status, _, body) = read_response(&mut r, false).unwrap();
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("KeepAlive-Response"));
    }
    // A chunked body on the same (kept-alive) connection.
    let (a, b) = ka.split_at(ka.len() / 2);
    s.write_all(
        format!(
            "POST /imps HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let Response(status, _, body) = read_response(&mut r, false).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("KeepAlive-Response"));

    // curl with Expect: 100-continue.
    let path = server._dir.path().join("ka.xml");
    std::fs::write(&path, &ka).unwrap();
    let out = Command::new("curl")
        .args([
            "-s",
            "-v",
            "-H",
            "Content-Type: application/vnd.wv.csp.xml",
            "-H",
            "Expect: 100-continue",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", path.display()))
        .arg(format!("http://{}/imps", server.http))
        .output()
        .expect("curl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("100 Continue"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("KeepAlive-Response"));
    server.stop();
}

#[test]
fn limits_and_timeouts() {
    let server = Server::start(
        "[http]\nmax_body_bytes = 4096\nheader_timeout_ms = 500\nidle_timeout_ms = 500\n",
    );
    let big = vec![b'x'; 10_000];
    let Response(status, _, _) = server
        .request("POST", "/imps", &[("Content-Type", "text/xml")], &big)
        .unwrap();
    assert_eq!(status, 413);
    // Malformed HTTP: 400.
    let mut s = TcpStream::connect(server.http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    let Response(status, _, _) = read_response(&mut BufReader::new(s), false).unwrap();
    assert_eq!(status, 400);
    // A slow head is cut off by the header timeout; an idle connection by the idle timeout.
    for partial in [&b"POST /imps HTTP/1.1\r\nHost: t\r\n"[..], &b""[..]] {
        let mut s = TcpStream::connect(server.http).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(partial).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        assert!(start.elapsed() < Duration::from_secs(4));
    }
    // The server still serves others.
    assert_eq!(server.request("GET", "/health", &[], b"").unwrap().0, 200);
    server.stop();
}

fn capability(sid: &str, methods: &str, udp_port: u16) -> String {
    envelope(
        CSP12,
        TRC12,
        Some(sid),
        "cap",
        &format!(
            "<ClientCapability-Request><CapabilityList>{methods}<UDPPort>{udp_port}</UDPPort>\
             </CapabilityList></ClientCapability-Request>"
        ),
    )
}

#[test]
fn cir_tcp_and_udp_wake_ups() {
    let server = Server::start("");
    // STCP: the capability answer advertises the listener; HELO, PING, then a wake-up.
    let sid = login(&server, "alice", "a-pw", "phone");
    let (_, _, caps) = server.post_csp(
        "application/vnd.wv.csp.xml",
        &capability(&sid, "<SupportedCIRMethod>STCP</SupportedCIRMethod>", 0),
    );
    assert!(
        caps.contains(&format!("<TCPPort>{}</TCPPort>", server.stcp.port())),
        "{caps}"
    );
    // 1.2: the CIR flag says the channel is not up yet.
    let ka = envelope(CSP12, TRC12, Some(&sid), "k", "<KeepAlive-Request/>");
    let (_, _, before) = server.post_csp("application/vnd.wv.csp.xml", &ka);
    assert!(before.contains("<CIR>F</CIR>"), "{before}");
    let tcp = TcpStream::connect(server.stcp).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut lines = BufReader::new(tcp.try_clone().unwrap());
    let mut w = tcp;
    let mut line = String::new();
    w.write_all(format!("HELO {sid}\r\n").as_bytes()).unwrap();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "OK");
    line.clear();
    w.write_all(b"PING\r\n").unwrap();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "OK");
    let (_, _, after) = server.post_csp("application/vnd.wv.csp.xml", &ka);
    assert!(after.contains("<CIR>T</CIR>"), "{after}");
    // The same client logging in again ends the old session: its Disconnect is queued and
    // the client is woken on its CIR channel.
    login(&server, "alice", "a-pw", "phone");
    line.clear();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "WVCI 1.2 cookie-alice");
    // An unknown session is refused.
    let mut bad = TcpStream::connect(server.stcp).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bad.write_all(b"HELO 0-00000000000000000000000000000000\r\n")
        .unwrap();
    let mut answer = String::new();
    BufReader::new(bad).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("ERROR"), "{answer}");

    // SUDP: a datagram to the client's address and UDPPort.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = udp.local_addr().unwrap().port();
    let sid = login(&server, "bob", "b-pw", "udp-phone");
    server.post_csp(
        "application/vnd.wv.csp.xml",
        &capability(&sid, "<SupportedCIRMethod>SUDP</SupportedCIRMethod>", port),
    );
    login(&server, "bob", "b-pw", "udp-phone");
    let mut buf = [0u8; 256];
    let (n, _) = udp.recv_from(&mut buf).expect("a WVCI datagram");
    assert_eq!(&buf[..n], b"WVCI 1.2 cookie-bob");
    server.stop();
}

#[test]
fn cir_http_url_is_polled_cheaply() {
    let server = Server::start("");
    let sid = login(&server, "alice", "a-pw", "shttp-phone");
    let (_, _, caps) = server.post_csp(
        "application/vnd.wv.csp.xml",
        &capability(&sid, "<SupportedCIRMethod>SHTTP</SupportedCIRMethod>", 0),
    );
    let url = between(&caps, "<CIRURL><URL>", "</URL>")
        .expect("a CIRURL")
        .to_owned();
    let path = url
        .split_once(&server.http.to_string())
        .map(|(_, p)| p.to_owned())
        .expect("on the HTTP listener");
    assert_eq!(
        server.request("GET", &path, &[], b"").unwrap().0,
        204,
        "nothing pending"
    );
    // The same client logging in again queues a Disconnect for the old session: its
    // CIRURL now has a wake-up, taken once.
    login(&server, "alice", "a-pw", "shttp-phone");
    // The wake-up travels from the shard to the CIR hub asynchronously: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let Response(status, _, body) = loop {
        let r = server.request("GET", &path, &[], b"").unwrap();
        if r.0 != 204 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&body).trim_end(),
        "WVCI 1.2 cookie-alice"
    );
    assert_eq!(server.request("GET", &path, &[], b"").unwrap().0, 204);
    server.stop();
}

#[test]
fn presence_over_http_reaches_a_subscriber_when_it_polls() {
    const PA12: &str = "http://www.openmobilealliance.org/DTD/WV-PA1.2";
    let server = Server::start("");
    let post = |sid: &str, tid: &str, content: &str| server.post_in(sid, tid, content);
    let bob = login(&server, "bob", "b-pw", "http://bob.example/phone");
    let grant = format!(
        "<CreateAttributeList-Request><PresenceSubList xmlns=\"{PA12}\"><StatusText/>\
         </PresenceSubList><DefaultList>T</DefaultList></CreateAttributeList-Request>"
    );
    assert!(post(&bob, "g1", &grant).contains("<Code>200</Code>"));
    let update = format!(
        "<UpdatePresence-Request><PresenceSubList xmlns=\"{PA12}\"><StatusText>\
         <Qualifier>T</Qualifier><PresenceValue>over http</PresenceValue></StatusText>\
         <Alias><Qualifier>T</Qualifier><PresenceValue>hidden</PresenceValue></Alias>\
         </PresenceSubList></UpdatePresence-Request>"
    );
    assert!(post(&bob, "u1", &update).contains("<Code>200</Code>"));
    let alice = login(&server, "alice", "a-pw", "http://alice.example/phone");
    let subscribe = "<SubscribePresence-Request><User><UserID>wv:bob@imps.local</UserID></User>\
                     </SubscribePresence-Request>";
    let answer = post(&alice, "s1", subscribe);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    let polled = post(&alice, "p1", "<Polling-Request/>");
    assert!(polled.contains("PresenceNotification-Request"), "{polled}");
    assert!(polled.contains("over http"), "{polled}");
    assert!(
        !polled.contains("hidden"),
        "Alias is not authorized: {polled}"
    );
    // bob's watcher list names alice.
    let watchers = post(&bob, "w1", "<GetWatcherList-Request/>");
    assert!(watchers.contains("wv:alice@imps.local"), "{watchers}");
    let Response(_, _, metrics) = server
        .request("GET", "/metrics", &[], b"")
        .expect("metrics");
    let metrics = String::from_utf8_lossy(&metrics);
    let received: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("imps_presence_deliveries_received_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(received >= 1, "{metrics}");
    server.stop();
}

#[test]
fn a_message_over_http_is_pushed_confirmed_and_reported() {
    let server = Server::start("");
    let post = |sid: &str, tid: &str, content: &str| server.post_in(sid, tid, content);
    let alice = login(&server, "alice", "a-pw", "http://alice.example/phone");
    let bob = login(&server, "bob", "b-pw", "http://bob.example/phone");
    let send = "<SendMessage-Request><DeliveryReport>T</DeliveryReport><MessageInfo>\
                <ContentType>text/plain</ContentType><Recipient><User><UserID>wv:bob@imps.local\
                </UserID></User></Recipient></MessageInfo><ContentData>grüße 👋</ContentData>\
                </SendMessage-Request>";
    let sent = post(&alice, "m1", send);
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let mid = between(&sent, "<MessageID>", "</MessageID>").expect("a MessageID");
    let polled = post(&bob, "p1", "<Polling-Request/>");
    assert!(polled.contains("<NewMessage>"), "{polled}");
    assert!(polled.contains("grüße 👋"), "{polled}");
    // Dates are wall-clock time, not the server's uptime.
    let date = between(&polled, "<DateTime>", "</DateTime>").expect("a DateTime");
    assert!(!date.starts_with("1970"), "{date}");
    let tid = between(&polled, "<TransactionID>", "</TransactionID>").expect("a TransactionID");
    let delivered = format!(
        "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"{CSP12}\"><Session><SessionDescriptor>\
         <SessionType>Inband</SessionType><SessionID>{bob}</SessionID></SessionDescriptor>\
         <Transaction><TransactionDescriptor><TransactionMode>Response</TransactionMode>\
         <TransactionID>{tid}</TransactionID></TransactionDescriptor><TransactionContent \
         xmlns=\"{TRC12}\"><MessageDelivered><MessageID>{mid}</MessageID></MessageDelivered>\
         </TransactionContent></Transaction></Session></WV-CSP-Message>"
    );
    let (status, _, _) = server.post_csp("application/vnd.wv.csp.xml", &delivered);
    assert_eq!(status, 200);
    let report = post(&alice, "p2", "<Polling-Request/>");
    assert!(report.contains("DeliveryReport-Request"), "{report}");
    assert!(report.contains(mid), "{report}");
    server.stop();
}

#[test]
fn a_public_group_over_http_welcomes_and_relays() {
    let server = Server::start("");
    let post = |sid: &str, tid: &str, content: &str| server.post_in(sid, tid, content);
    let alice = login(&server, "alice", "a-pw", "http://alice.example/phone");
    let bob = login(&server, "bob", "b-pw", "http://bob.example/phone");
    let join = |sname: &str| {
        format!(
            "<JoinGroup-Request><GroupID>wv:/lobby@imps.local</GroupID><ScreenName><SName>{sname}\
             </SName><GroupID>wv:/lobby@imps.local</GroupID></ScreenName><JoinedRequest>T\
             </JoinedRequest></JoinGroup-Request>"
        )
    };
    let joined = post(&alice, "j1", &join("al"));
    assert!(joined.contains("Welcome to the lobby"), "{joined}");
    post(&bob, "j2", &join("bo"));
    let send = "<SendMessage-Request><DeliveryReport>F</DeliveryReport><MessageInfo><Recipient>\
                <Group><GroupID>wv:/lobby@imps.local</GroupID></Group></Recipient></MessageInfo>\
                <ContentData>hello lobby</ContentData></SendMessage-Request>";
    let sent = post(&alice, "m1", send);
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let polled = post(&bob, "p1", "<Polling-Request/>");
    assert!(polled.contains("hello lobby"), "{polled}");
    assert!(
        polled.contains("<SName>al</SName>"),
        "sender shown by screen name: {polled}"
    );
    server.stop();
}

#[test]
fn sigusr1_writes_snapshots_on_demand() {
    let server = Server::start("");
    let alice = login(&server, "alice", "a-pw", "http://alice.example/phone");
    let create = "<CreateList-Request><ContactList>wv:alice/friends@imps.local</ContactList>\
                  </CreateList-Request>";
    let body = envelope(CSP12, TRC12, Some(&alice), "c1", create);
    let (status, _, answer) = server.post_csp("application/vnd.wv.csp.xml", &body);
    assert_eq!(status, 200, "{answer}");
    let pid = server.child.id().to_string();
    let ok = Command::new("kill")
        .args(["-USR1", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
    let data = server._dir.path().join("data");
    let deadline = Instant::now() + Duration::from_secs(20);
    let snapshots = || {
        walk(&data)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "snap"))
            .count()
    };
    while snapshots() < 1 {
        assert!(Instant::now() < deadline, "no snapshot after SIGUSR1");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = server.stop();
    assert!(out.contains("snapshot ["), "{out}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// POSTs `message` as WBXML with `content_type`; checks the answer is WBXML of the same type
/// and returns it decoded.
fn post_wbxml(server: &Server, content_type: &str, message: &Message) -> Message {
    let Response(status, headers, body) = server
        .request(
            "POST",
            "/imps",
            &[("Content-Type", content_type)],
            &encode_wbxml(message),
        )
        .expect("request");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "content-type"), Some(content_type));
    assert_eq!(
        body.first(),
        Some(&0x03),
        "WBXML 1.3 header expected: {body:02x?}"
    );
    decode(&body, Encoding::Wbxml).unwrap_or_else(|e| panic!("{e}: {body:02x?}"))
}

/// A one-transaction request of `version`, built from XML.
fn wbxml_request(version: Version, session: Option<&str>, tid: &str, content: &str) -> Message {
    let descriptor = match session {
        Some(s) => format!(
            "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{s}</SessionID>\
             </SessionDescriptor>"
        ),
        None => "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into(),
    };
    let xml = format!(
        "<WV-CSP-Message xmlns=\"{}\"><Session>{descriptor}<Transaction><TransactionDescriptor>\
         <TransactionMode>Request</TransactionMode><TransactionID>{tid}</TransactionID>\
         </TransactionDescriptor><TransactionContent xmlns=\"{}\">{content}</TransactionContent>\
         </Transaction></Session></WV-CSP-Message>",
        version.csp_namespace(),
        version.trc_namespace()
    );
    decode(xml.as_bytes(), Encoding::Xml).expect("request XML decodes")
}

#[test]
fn wbxml_login_and_keep_alive() {
    let server = Server::start("");
    for (version, content_type) in [
        (Version::V1_2, "application/vnd.wv.csp.wbxml"),
        (Version::V1_3, "application/vnd.wv.csp+wbxml"),
    ] {
        let login = wbxml_request(
            version,
            None,
            "login",
            "<Login-Request><UserID>alice</UserID><ClientID><URL>wbxml-test</URL></ClientID>\
             <Password>a-pw</Password><SessionCookie>cookie-a</SessionCookie></Login-Request>",
        );
        let answer = post_wbxml(&server, content_type, &login);
        assert_eq!(answer.version, version);
        let t = &answer.session.transactions[0];
        assert_eq!(
            t.descriptor.id.as_ref().map(|i| i.0.as_str()),
            Some("login")
        );
        let Primitive::LoginResponse(response) = &t.content else {
            panic!("not a Login-Response: {answer:#?}");
        };
        assert_eq!(response.result.code, 200, "{answer:#?}");
        let session = response
            .session_id
            .as_ref()
            .map(|s| s.0.clone())
            .expect("a session id");

        let keep_alive = wbxml_request(
            version,
            Some(&session),
            "ka1",
            "<KeepAlive-Request><TimeToLive>300</TimeToLive></KeepAlive-Request>",
        );
        let answer = post_wbxml(&server, content_type, &keep_alive);
        let t = &answer.session.transactions[0];
        assert_eq!(t.descriptor.id.as_ref().map(|i| i.0.as_str()), Some("ka1"));
        let Primitive::KeepAliveResponse(response) = &t.content else {
            panic!("not a KeepAlive-Response: {answer:#?}");
        };
        assert_eq!(response.result.code, 200, "{answer:#?}");
        assert!(response.keep_alive_time.is_some_and(|s| s > 0));
    }
    // Truncated WBXML is a transport error, not a crash.
    let login = wbxml_request(Version::V1_2, None, "x", "<Logout-Request/>");
    let bytes = encode_wbxml(&login);
    let Response(status, _, _) = server
        .request(
            "POST",
            "/imps",
            &[("Content-Type", "application/vnd.wv.csp.wbxml")],
            &bytes[..bytes.len() / 2],
        )
        .expect("request");
    assert_eq!(status, 400);
}

#[test]
fn polls_faster_than_server_poll_min_are_counted_then_refused() {
    let server = Server::start("[access]\nserver_poll_min_s = 30\n");
    let post = |sid: &str, tid: &str, content: &str| server.post_in(sid, tid, content);
    let alice = login(&server, "alice", "a-pw", "http://alice.example/phone");
    let bob = login(&server, "bob", "b-pw", "http://bob.example/phone");
    let (_, _, caps) = server.post_csp("application/vnd.wv.csp.xml", &capability(&alice, "", 0));
    assert!(caps.contains("<ServerPollMin>30</ServerPollMin>"), "{caps}");
    // The first poll is on time; the next three come too early but are served (empty);
    // the fifth is refused.
    for tid in ["p1", "p2", "p3", "p4"] {
        assert_eq!(post(&alice, tid, "<Polling-Request/>"), "", "{tid}");
    }
    let refused = post(&alice, "p5", "<Polling-Request/>");
    assert!(refused.contains("<Code>503</Code>"), "{refused}");
    assert!(refused.contains("ServerPollMin"), "{refused}");
    // The session itself is fine.
    let ka = post(&alice, "k1", "<KeepAlive-Request/>");
    assert!(ka.contains("<Code>200</Code>"), "{ka}");
    // Something queued: the poll is welcome however early.
    let send = "<SendMessage-Request><MessageInfo><ContentType>text/plain</ContentType>\
                <Recipient><User><UserID>wv:alice@imps.local</UserID></User></Recipient>\
                </MessageInfo><ContentData>ping</ContentData></SendMessage-Request>";
    assert!(post(&bob, "m1", send).contains("<Code>200</Code>"));
    let polled = post(&alice, "p6", "<Polling-Request/>");
    assert!(polled.contains("<NewMessage>"), "{polled}");
    // Then early again: served empty, the count of the run starts over.
    assert_eq!(post(&alice, "p7", "<Polling-Request/>"), "");
    let Response(_, _, metrics) = server
        .request("GET", "/metrics", &[], b"")
        .expect("metrics");
    let metrics = String::from_utf8_lossy(&metrics);
    let sum = |name: &str| -> u64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    assert_eq!(sum("imps_polls_early_total"), 4, "{metrics}");
    assert_eq!(sum("imps_polls_refused_total"), 1, "{metrics}");
    server.stop();
}
