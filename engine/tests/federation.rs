//! SSP federation between in-memory domains (the network is in `federation_net`): handshake,
//! IM with delivery reports, anti-spoofing, 405/501, dedupe, queueing, expiry and relay.

mod federation_net;

use std::collections::HashSet;
use std::time::Duration;

use federation_net::{
    Net, config, delivered, live_pair_holding_a, pair, seed, send_results, take, triangle, url,
};
use imps_engine::federation::{
    DeliveryReport, Event, Federation, IncomingError, OutgoingMessage, PeerEntry, QueueChange,
    RemovalReason, TransmitKind,
};
use imps_protocol::Limits;
use imps_protocol::ssp::{SspMessage, decode_ssp, encode_ssp_into};

#[test]
fn the_first_item_starts_a_handshake_that_brings_the_session_up() {
    let mut net = pair();
    assert!(!net.nodes[0].fed.is_live(net.now, "b.test"));
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    let now = net.now;
    assert!(net.nodes[0].fed.is_live(now, "b.test"));
    assert!(net.nodes[1].fed.is_live(now, "a.test"));
    for n in &net.nodes {
        assert!(n.errors.is_empty(), "{:?}", n.errors);
        assert!(n.events.iter().any(|e| matches!(e, Event::PeerUp { .. })));
    }
    assert_eq!(net.nodes[0].fed.queued("b.test"), 0);
}

#[test]
fn an_im_reaches_the_remote_user_and_the_delivery_report_comes_back() {
    let mut net = pair();
    let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", true);
    net.settle();
    assert_eq!(
        delivered(&net.nodes[1]),
        vec![(
            "wv:alice@a.test".to_owned(),
            vec!["wv:bob@b.test".to_owned()],
            b"Hello".to_vec()
        )]
    );
    let a = &net.nodes[0];
    assert_eq!(send_results(a), vec![200]);
    let reports: Vec<&DeliveryReport> = a
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeliveryReport(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].original_sender, "wv:alice@a.test");
    assert_eq!(reports[0].recipient, "wv:bob@b.test");
    assert_eq!(reports[0].message_id.as_deref(), Some("m-wv:bob@b.test"));
    assert_eq!(reports[0].status.code, 200);
    // The queue records: enqueued, then acknowledged.
    assert!(a.changes.iter().any(|c| matches!(c,
        QueueChange::Enqueued(i) if i.transaction_id() == tid)));
    assert!(a.changes.iter().any(|c| matches!(c,
        QueueChange::Removed { transaction_id, reason: RemovalReason::Acknowledged, .. }
            if *transaction_id == tid)));
}

#[test]
fn an_unknown_remote_user_is_answered_531() {
    let mut net = pair();
    net.send("a.test", "wv:alice", "wv:nobody@b.test", true);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![531]);
    assert!(
        !net.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::DeliveryReport(_)))
    );
}

#[test]
fn a_sender_of_another_domain_is_refused_901() {
    let mut net = live_pair_holding_a();
    let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    let t = take(&mut net, "a.test", TransmitKind::Request);
    let xml = String::from_utf8(t.body.clone()).expect("utf-8");
    let spoofed = xml.replace("wv:alice@a.test", "wv:mallory@c.test");
    assert_ne!(xml, spoofed);
    let now = net.now;
    net.nodes[1]
        .fed
        .handle_incoming(now, None, spoofed.as_bytes())
        .expect("accepted for processing");
    net.nodes[0].fed.handle_ack(now, "b.test", &tid);
    net.nodes[0].hold = false;
    net.settle();
    assert_eq!(delivered(&net.nodes[1]).len(), 1, "only the first message");
    assert_eq!(send_results(&net.nodes[0]), vec![200, 901]);
}

#[test]
fn unknown_and_unsupported_primitives_are_answered_405_and_501() {
    let mut net = live_pair_holding_a();
    net.nodes[1].hold = true;
    for (name, code) in [("FancyRequest", 405), ("DeleteGroupRequest", 501)] {
        let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", false);
        let t = take(&mut net, "a.test", TransmitKind::Request);
        let xml = String::from_utf8(t.body.clone()).expect("utf-8");
        let other = xml.replace("SendMessageRequest", name);
        let now = net.now;
        net.nodes[1]
            .fed
            .handle_incoming(now, None, other.as_bytes())
            .expect("accepted");
        net.nodes[0].fed.handle_ack(now, "b.test", &tid);
        net.settle();
        let answer = take(&mut net, "b.test", TransmitKind::Response);
        assert!(String::from_utf8_lossy(&answer.body).contains(&format!("code=\"{code}\"")));
        net.nodes[0]
            .fed
            .handle_incoming(now, None, &answer.body)
            .expect("answer accepted");
        net.serve_events();
        assert_eq!(send_results(&net.nodes[0]).last(), Some(&code));
    }
}

#[test]
fn a_retried_transaction_is_processed_once_and_gets_the_same_answer() {
    let mut net = live_pair_holding_a();
    net.nodes[1].hold = true;
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    let t = take(&mut net, "a.test", TransmitKind::Request);
    let now = net.now;
    let b = &mut net.nodes[1];
    b.fed.handle_incoming(now, None, &t.body).expect("first");
    // A retry before the shards answered is dropped.
    b.fed.handle_incoming(now, None, &t.body).expect("retry");
    net.serve_events();
    let first = take(&mut net, "b.test", TransmitKind::Response);
    assert!(net.nodes[1].fed.poll_transmit().is_none());
    // A retry after the answer gets the same answer again, without a new delivery.
    let b = &mut net.nodes[1];
    b.fed
        .handle_incoming(now, None, &t.body)
        .expect("late retry");
    let again = b.fed.poll_transmit().expect("answer repeated");
    assert_eq!(again.body, first.body);
    net.serve_events();
    assert_eq!(
        delivered(&net.nodes[1]).len(),
        2,
        "setup message and this one"
    );
}

#[test]
fn a_peer_that_is_down_gets_the_queued_message_after_back_off() {
    let mut net = pair();
    net.nodes[1].up = false;
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.advance(Duration::from_secs(5));
    assert!(!net.nodes[0].fed.is_live(net.now, "b.test"));
    assert_eq!(net.nodes[0].fed.queued("b.test"), 1);
    net.nodes[1].up = true;
    // Not before the 10 s back-off of the failed handshake.
    net.advance(Duration::from_secs(4));
    assert!(delivered(&net.nodes[1]).is_empty());
    net.advance(Duration::from_secs(2));
    assert_eq!(delivered(&net.nodes[1]).len(), 1);
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
    assert_eq!(net.nodes[0].fed.queued("b.test"), 0);
}

#[test]
fn an_item_that_cannot_be_delivered_expires_with_a_failure() {
    let mut net = pair();
    net.nodes[1].up = false;
    let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", true);
    net.advance(Duration::from_secs(599));
    assert!(send_results(&net.nodes[0]).is_empty());
    net.advance(Duration::from_secs(2));
    assert_eq!(send_results(&net.nodes[0]), vec![503]);
    assert!(net.nodes[0].changes.iter().any(|c| matches!(c,
        QueueChange::Removed { transaction_id, reason: RemovalReason::Expired, .. }
            if *transaction_id == tid)));
    assert_eq!(net.nodes[0].fed.queued("b.test"), 0);
    // Nothing left to do: no handshake retries for an empty queue.
    net.advance(Duration::from_secs(3600));
    assert_eq!(send_results(&net.nodes[0]), vec![503]);
}

#[test]
fn the_queue_of_a_peer_is_bounded_507() {
    let mut c = config("a.test", &["b.test"], &[]);
    c.queue_capacity = 2;
    let mut net = Net::new(vec![
        (c, &["wv:alice@a.test"][..]),
        (config("b.test", &["a.test"], &[]), &[][..]),
    ]);
    net.nodes[1].up = false;
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.send("a.test", "wv:alice", "wv:carl@b.test", false);
    let now = net.now;
    let msg = OutgoingMessage {
        sender: "wv:alice".into(),
        recipients: vec!["wv:dora@b.test".into(), "wv:eve@z.test".into()],
        ..OutgoingMessage::default()
    };
    let q = net.nodes[0].fed.send_message(now, &msg);
    assert_eq!(
        q[0].result,
        Err(imps_protocol::StatusCode::MessageQueueFull)
    );
    assert_eq!(
        q[1].result,
        Err(imps_protocol::StatusCode::DomainNotSupported)
    );
}

#[test]
fn a_relay_carries_the_message_on_and_the_answers_back() {
    let mut net = triangle(&[]);
    net.send("a.test", "wv:alice", "wv:carol@c.test", true);
    net.settle();
    assert_eq!(
        delivered(&net.nodes[2]),
        vec![(
            "wv:alice@a.test".to_owned(),
            vec!["wv:carol@c.test".to_owned()],
            b"Hello".to_vec()
        )]
    );
    assert!(delivered(&net.nodes[1]).is_empty());
    let a = &net.nodes[0];
    assert_eq!(send_results(a), vec![200]);
    assert!(a.events.iter().any(|e| matches!(e,
        Event::DeliveryReport(r) if r.recipient == "wv:carol@c.test" && r.status.code == 200)));
    // Unknown user behind the relay: the 531 retraces the path too.
    net.send("a.test", "wv:alice", "wv:nobody@c.test", false);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200, 531]);
    for n in &net.nodes {
        assert!(n.errors.is_empty(), "{:?}", n.errors);
    }
}

#[test]
fn a_routing_loop_is_refused() {
    // b sends c.test's traffic back to a: the relay path shows the loop.
    let mut net = Net::new(vec![
        (
            config("a.test", &["b.test"], &[("c.test", "b.test")]),
            &["wv:alice@a.test"][..],
        ),
        (
            config("b.test", &["a.test"], &[("c.test", "a.test")]),
            &[][..],
        ),
    ]);
    net.send("a.test", "wv:alice", "wv:carol@c.test", false);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![516]);
    assert_eq!(net.nodes[0].fed.queued("b.test"), 0);
    assert!(net.nodes.iter().all(|n| delivered(n).is_empty()));
}

#[test]
fn a_wrong_shared_secret_gives_no_session() {
    let mut ca = config("a.test", &[], &[]);
    ca.peers.push(
        PeerEntry::new("b.test", &url("b.test"))
            .expect("peer")
            .with_secret("one"),
    );
    let mut cb = config("b.test", &[], &[]);
    cb.peers.push(
        PeerEntry::new("a.test", &url("a.test"))
            .expect("peer")
            .with_secret("two"),
    );
    let mut net = Net::new(vec![
        (ca, &["wv:alice@a.test"][..]),
        (cb, &["wv:bob@b.test"][..]),
    ]);
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.advance(Duration::from_secs(120));
    let now = net.now;
    assert!(!net.nodes[0].fed.is_live(now, "b.test"));
    assert!(!net.nodes[1].fed.is_live(now, "a.test"));
    assert!(delivered(&net.nodes[1]).is_empty());
    assert!(
        net.nodes[1]
            .errors
            .iter()
            .any(|e| matches!(e, IncomingError::Handshake(_))),
        "{:?}",
        net.nodes[1].errors
    );
    net.advance(Duration::from_secs(600));
    assert_eq!(send_results(&net.nodes[0]), vec![503]);
}

#[test]
fn a_matching_shared_secret_gives_a_session() {
    let mut ca = config("a.test", &[], &[]);
    ca.peers.push(
        PeerEntry::new("b.test", &url("b.test"))
            .expect("peer")
            .with_secret("s3"),
    );
    let mut cb = config("b.test", &[], &[]);
    cb.peers.push(
        PeerEntry::new("a.test", &url("a.test"))
            .expect("peer")
            .with_secret("s3"),
    );
    let mut net = Net::new(vec![
        (ca, &["wv:alice@a.test"][..]),
        (cb, &["wv:bob@b.test"][..]),
    ]);
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
}

#[test]
fn a_peer_that_forgot_the_session_gets_a_new_handshake() {
    let mut net = pair();
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    // b restarts and forgets everything.
    net.nodes[1].fed =
        Federation::new(config("b.test", &["a.test"], &[]), seed(9)).expect("config");
    assert!(net.nodes[0].fed.is_live(net.now, "b.test"));
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200, 200]);
    assert_eq!(delivered(&net.nodes[1]).len(), 2);
    assert!(net.nodes[1].fed.is_live(net.now, "a.test"));
}

#[test]
fn posts_from_strangers_and_garbage_are_refused() {
    let mut net = pair();
    let now = net.now;
    let b = &mut net.nodes[1].fed;
    assert!(matches!(
        b.handle_incoming(now, None, b"<nonsense/>"),
        Err(IncomingError::Decode(_))
    ));
    // A session block from an unconfigured domain.
    let stranger =
        std::fs::read("../protocol/testdata/ssp/10-send-message-request.xml").expect("fixture");
    let msg = decode_ssp(&stranger, &Limits::default()).expect("fixture decodes");
    let mut body = Vec::new();
    encode_ssp_into(&msg, &mut body);
    assert!(matches!(msg, SspMessage::Session(_)));
    assert!(matches!(
        b.handle_incoming(now, None, &body),
        Err(IncomingError::UnknownPeer(d)) if d == "a.example"
    ));
    assert!(matches!(
        b.handle_incoming(now, Some("c.test"), &body),
        Err(IncomingError::PeerMismatch { .. })
    ));
    let used: HashSet<String> = std::iter::from_fn(|| b.poll_transmit())
        .map(|t| t.peer_domain)
        .collect();
    assert!(used.is_empty(), "nothing sent to strangers");
}

#[test]
fn both_domains_starting_a_handshake_at_once_end_with_one_session() {
    let mut net = pair();
    net.nodes[1].users.push("wv:bob@b.test".into());
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.send("b.test", "wv:bob", "wv:alice@a.test", false);
    net.advance(Duration::from_secs(60));
    let now = net.now;
    assert!(net.nodes[0].fed.is_live(now, "b.test"));
    assert!(net.nodes[1].fed.is_live(now, "a.test"));
    assert_eq!(delivered(&net.nodes[0]).len(), 1);
    assert_eq!(delivered(&net.nodes[1]).len(), 1);
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
    assert_eq!(send_results(&net.nodes[1]), vec![200]);
}

#[test]
fn an_acknowledged_request_without_answer_fails_at_expiry() {
    let mut net = live_pair_holding_a();
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    let t = take(&mut net, "a.test", TransmitKind::Request);
    // b's transport took it, then b lost it before answering.
    let now = net.now;
    net.nodes[0]
        .fed
        .handle_ack(now, &t.peer_domain, &t.transaction_id);
    net.nodes[0].hold = false;
    net.advance(Duration::from_secs(599));
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
    net.advance(Duration::from_secs(2));
    assert_eq!(send_results(&net.nodes[0]), vec![200, 504]);
}

#[test]
fn queue_records_let_a_restarted_server_deliver_what_it_had_queued() {
    let mut net = pair();
    net.nodes[1].up = false;
    let tid = net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.advance(Duration::from_secs(30));
    // The log a durable caller would have kept: items enqueued and not removed.
    let mut kept = Vec::new();
    for c in std::mem::take(&mut net.nodes[0].changes) {
        match c {
            QueueChange::Enqueued(item) => kept.push(*item),
            QueueChange::Removed { transaction_id, .. } => {
                kept.retain(|i| i.transaction_id() != transaction_id)
            }
        }
    }
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].transaction_id(), tid);
    // a restarts with an empty queue and gets the item back from its log; b comes up.
    let now = net.now;
    let mut fresh = Federation::new(config("a.test", &["b.test"], &[]), seed(7)).expect("config");
    assert_eq!(fresh.queued("b.test"), 0);
    for item in kept {
        fresh.restore(now, item);
    }
    net.nodes[0].fed = fresh;
    net.nodes[1].up = true;
    net.settle();
    assert_eq!(delivered(&net.nodes[1]).len(), 1);
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
}

#[test]
fn a_relay_that_cannot_reach_the_next_hop_answers_503_at_its_expiry() {
    let mut net = triangle(&[]);
    let b = net.index("b.test");
    let mut cb = config("b.test", &["a.test", "c.test"], &[]);
    cb.queue_expiry = Duration::from_secs(300);
    net.nodes[b].fed = Federation::new(cb, seed(5)).expect("config");
    net.node("c.test").up = false;
    net.send("a.test", "wv:alice", "wv:carol@c.test", false);
    net.advance(Duration::from_secs(299));
    assert!(send_results(&net.nodes[0]).is_empty());
    assert_eq!(net.nodes[b].fed.queued("c.test"), 1);
    net.advance(Duration::from_secs(2));
    assert_eq!(send_results(&net.nodes[0]), vec![503]);
    assert_eq!(net.nodes[b].fed.queued("c.test"), 0);
}

#[test]
fn an_expired_session_is_set_up_again_for_the_next_item() {
    let mut ca = config("a.test", &["b.test"], &[]);
    ca.session_ttl = 100;
    let mut net = Net::new(vec![
        (ca, &["wv:alice@a.test"][..]),
        (config("b.test", &["a.test"], &[]), &["wv:bob@b.test"][..]),
    ]);
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    assert!(net.nodes[0].fed.is_live(net.now, "b.test"));
    net.advance(Duration::from_secs(101));
    assert!(!net.nodes[0].fed.is_live(net.now, "b.test"));
    assert!(
        !net.nodes[1].fed.is_live(net.now, "a.test"),
        "b granted 100 s too"
    );
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    assert!(net.nodes[0].fed.is_live(net.now, "b.test"));
    assert_eq!(send_results(&net.nodes[0]), vec![200, 200]);
    let ups = net.nodes[0]
        .events
        .iter()
        .filter(|e| matches!(e, Event::PeerUp { .. }))
        .count();
    assert_eq!(ups, 2);
}

#[test]
fn a_restarted_peer_greets_and_both_sides_see_a_new_session() {
    let mut net = pair();
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    let ups = |n: &federation_net::Node| {
        n.events
            .iter()
            .filter(|e| matches!(e, Event::PeerUp { .. }))
            .count()
    };
    assert_eq!(ups(&net.nodes[0]), 1);
    assert_eq!(ups(&net.nodes[1]), 1, "the responder is told too");
    // b restarts with nothing queued: it greets a at start, and a, whose old session is
    // still live, sees a new one come up.
    net.nodes[1].fed =
        Federation::new(config("b.test", &["a.test"], &[]), seed(9)).expect("config");
    net.nodes[1].events.clear();
    let now = net.now;
    net.nodes[1].fed.greet_peers(now);
    net.settle();
    assert_eq!(ups(&net.nodes[0]), 2);
    assert_eq!(ups(&net.nodes[1]), 1);
    assert!(net.nodes[0].fed.is_live(net.now, "b.test"));
    assert!(net.nodes[1].fed.is_live(net.now, "a.test"));
    // Nothing new: no further PeerUp.
    net.settle();
    assert_eq!(ups(&net.nodes[0]), 2);
}
