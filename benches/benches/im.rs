//! Instant messages between online users on two shards, sans-IO: one iteration is a
//! SendMessage-Request from a user on one shard to a user on the other, the Post and its
//! answer between the shards, the recipient's poll that takes the NewMessage, and the
//! recipient's MessageDelivered. Both shards run on the bench's one thread.
//!
//! Run: `cargo bench -p imps-benches --bench im`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imps_engine::config::AccessConfig;
use imps_engine::routing::owner;
use imps_engine::shard::{Reply, Request};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::{Recipient, User};
use imps_protocol::primitives::{
    MessageDelivered, MessageInfo, PollingRequest, SendMessageRequest,
};
use imps_protocol::types::UserId;
use imps_protocol::{Message, Primitive, TransactionMode, Version};

const DOMAIN: &str = "imps.local";

fn name_on(base: &str, shard: u16) -> String {
    (0..1000)
        .map(|i| format!("{base}{i}"))
        .find(|n| owner(&UserId::from(n.as_str()), DOMAIN, 2).map(|s| s.0) == Ok(shard))
        .unwrap_or_else(|| base.to_owned())
}

fn login(sim: &mut Sim, name: &str) -> SimClient {
    assert!(sim.add_user(name, "pw"));
    let mut c = SimClient::new(name, Version::V1_2);
    c.login(sim, "pw").expect("login");
    c
}

fn send(from: &mut SimClient, to: &str) -> Message {
    let req = SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                users: vec![User {
                    user_id: UserId(format!("wv:{to}@{DOMAIN}")),
                    client_id: None,
                    friendly_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some("see you at eight".into()),
    };
    from.message(vec![(
        TransactionMode::Request,
        Some(String::new()),
        req.into(),
    )])
}

fn im(c: &mut Criterion) {
    let mut sim = Sim::new(2, AccessConfig::default(), 5);
    let mut alice = login(&mut sim, &name_on("alice", 0));
    let mut bob = login(&mut sim, &name_on("bob", 1));
    let message = send(&mut alice, &bob.user.clone());
    let poll = bob.message(vec![(
        TransactionMode::Request,
        None,
        PollingRequest {}.into(),
    )]);
    let mut group = c.benchmark_group("im");
    group.throughput(Throughput::Elements(1));
    group.bench_function("send_poll_delivered", |b| {
        b.iter(|| {
            sim.call(Request::csp(message.clone()));
            let Some(Reply::Csp(Some(polled))) = sim.call(Request::csp(poll.clone())) else {
                panic!("the message is waiting")
            };
            let t = &polled.session.transactions[0];
            let Primitive::NewMessage(m) = &t.content else {
                panic!("a NewMessage")
            };
            let delivered = MessageDelivered {
                message_id: m.message_info.message_id.clone().expect("an ID"),
            };
            let answer = bob.message(vec![(
                TransactionMode::Response,
                t.descriptor.id.as_ref().map(|i| i.0.clone()),
                delivered.into(),
            )]);
            sim.call(Request::csp(answer))
        })
    });
    group.finish();
}

criterion_group!(benches, im);
criterion_main!(benches);
