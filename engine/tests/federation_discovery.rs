//! DNS SRV discovery between real `impsd` processes (issue 11): two domains with no peer
//! table find each other through a name server (a small one in this test, on loopback) that
//! advertises `_imps-server._tcp.<domain>`, and a message crosses; a domain the name server
//! does not know is refused with 516.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

mod federation_domains;

use federation_domains::*;

/// A name server for the test's domains: `_imps-server._tcp.<domain>` → `ssp.<domain>` at
/// the domain's port (no glue: the address is asked for separately), `ssp.<domain>` →
/// 127.0.0.1, anything else NXDOMAIN.
struct NameServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NameServer {
    fn start(zones: Vec<(String, u16)>) -> NameServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let addr = socket.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicUsize::new(0));
        let (s, q) = (stop.clone(), queries.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                q.fetch_add(1, Ordering::Relaxed);
                if let Some(answer) = answer(&buf[..n], &zones) {
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        NameServer {
            addr,
            stop,
            queries,
            thread: Some(thread),
        }
    }
}

impl Drop for NameServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(query: &[u8], zones: &[(String, u16)]) -> Option<Vec<u8>> {
    let q = Message::from_vec(query).ok()?;
    let asked = q.queries.first()?.clone();
    let name = asked
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
    m.add_query(asked.clone());
    let mut found = false;
    for (domain, port) in zones {
        let host = Name::from_ascii(format!("ssp.{domain}.")).ok()?;
        if asked.query_type() == RecordType::SRV && name == format!("_imps-server._tcp.{domain}") {
            m.answers.push(Record::from_rdata(
                asked.name().clone(),
                60,
                RData::SRV(SRV::new(10, 1, *port, host)),
            ));
            found = true;
        } else if asked.query_type() == RecordType::A && name == format!("ssp.{domain}") {
            m.answers
                .push(Record::from_rdata(host, 60, RData::A(A::new(127, 0, 0, 1))));
            found = true;
        }
    }
    if !found {
        m.metadata.response_code = ResponseCode::NXDomain;
    }
    m.to_vec().ok()
}

#[test]
fn domains_without_a_peer_table_find_each_other_by_dns_srv() {
    let mut a = Domain::new("a.test", &["alice"]);
    let mut b = Domain::new("b.test", &["bob"]);
    let dns = NameServer::start(vec![("a.test".into(), a.port), ("b.test".into(), b.port)]);
    for d in [&mut a, &mut b] {
        d.args.push("--dns-srv".into());
        d.args.push("--dns-server".into());
        d.args.push(dns.addr.to_string());
    }
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");

    let sent = a.csp(
        Some(&alice),
        "s1",
        &send("wv:bob@b.test", false, "found you"),
    );
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let polled = b.poll_until(&bob, "found you");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    // SRV and A for b.test from a.test, and the same for a.test from b.test.
    assert!(dns.queries.load(Ordering::Relaxed) >= 4);

    // A domain the name server does not know: no route (516), asked once for a while.
    let asked = dns.queries.load(Ordering::Relaxed);
    let lost = a.csp(
        Some(&alice),
        "s2",
        &send("wv:carol@c.test", false, "anyone?"),
    );
    assert!(lost.contains("<Code>516</Code>"), "{lost}");
    let again = a.csp(
        Some(&alice),
        "s3",
        &send("wv:carol@c.test", false, "anyone?"),
    );
    assert!(again.contains("<Code>516</Code>"), "{again}");
    assert_eq!(
        dns.queries.load(Ordering::Relaxed),
        asked + 1,
        "not found is remembered"
    );
    a.stop();
    b.stop();
}

#[test]
fn without_dns_srv_an_unknown_domain_is_not_looked_up() {
    let dns = NameServer::start(vec![("b.test".into(), 9)]);
    let mut a = Domain::new("a.test", &["alice"]);
    let b = Domain::new("b.test", &["bob"]);
    // Federation on (a static peer), discovery off: c.test is never asked for.
    a.peer(&b);
    a.args.push("--dns-server".into());
    a.args.push(dns.addr.to_string());
    a.start();
    let alice = a.login("alice");
    let lost = a.csp(
        Some(&alice),
        "s1",
        &send("wv:carol@c.test", false, "anyone?"),
    );
    assert!(lost.contains("<Code>516</Code>"), "{lost}");
    assert_eq!(dns.queries.load(Ordering::Relaxed), 0);
    a.stop();
}
