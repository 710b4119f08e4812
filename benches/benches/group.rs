//! A message to a group of 10,000 joined users spread over 2 shards, sans-IO: one
//! SendMessage-Request from a joined user, the Post to the group's shard, one Deliver batch
//! per shard, and a NewMessage queued in every other joined session's outbox. Both shards
//! run on the bench's one thread. Each iteration starts from fresh outboxes.
//!
//! Run: `cargo bench -p imps-benches --bench group`

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use imps_engine::config::AccessConfig;
use imps_engine::shard::Request;
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::{Group, Recipient, ScreenName};
use imps_protocol::primitives::{
    CreateGroupRequest, GroupProperties, JoinGroupRequest, MessageInfo, SendMessageRequest,
};
use imps_protocol::types::{GroupId, ScreenNameText, TransactionId};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

const JOINED: usize = 10_000;

// The server's allocator (impsd's global allocator), so the bench measures what it does:
// 10,000 queued messages are allocated and later freed per iteration.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn login(sim: &mut Sim, name: &str) -> SimClient {
    assert!(sim.add_user(name, "pw"));
    let mut c = SimClient::new(name, Version::V1_2);
    c.login(sim, "pw").expect("login");
    c
}

fn join(group: &GroupId, sname: &str) -> Primitive {
    JoinGroupRequest {
        group_id: group.clone(),
        screen_name: Some(ScreenName {
            sname: ScreenNameText(sname.into()),
            group_id: group.clone(),
        }),
        joined_request: None,
        subscribe_notification: None,
        own_properties: None,
    }
    .into()
}

/// A sim with a group of `JOINED` joined users; the message one of them sends to it.
fn world() -> (Sim, Message) {
    let mut sim = Sim::new(2, AccessConfig::default(), 17);
    let mut owner = login(&mut sim, "owner");
    let group = GroupId("wv:owner/big@imps.local".into());
    let create = CreateGroupRequest {
        group_id: group.clone(),
        properties: GroupProperties {
            properties: vec![imps_protocol::common::Property {
                name: "Name".into(),
                value: Some("Big".into()),
            }],
            welcome_note: None,
        },
        join_group: None,
        screen_name: None,
        subscribe_notification: None,
    };
    owner.call(&mut sim, create.into());
    owner.call(&mut sim, join(&group, "owner"));
    for i in 1..JOINED {
        let mut c = login(&mut sim, &format!("member{i}"));
        c.call(&mut sim, join(&group, &format!("m{i}")));
    }
    let send = SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                groups: vec![Group {
                    group_id: Some(group),
                    screen_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some("meeting moved to nine".into()),
    };
    let message = owner.message(vec![(TransactionMode::Request, None, send.into())]);
    (sim, message)
}

fn deliveries(sim: &Sim) -> u64 {
    (0..sim.shard_count())
        .map(|i| sim.shard(i).group_deliveries())
        .sum()
}

fn group(c: &mut Criterion) {
    let mut current = Some(world());
    let mut used = 0usize;
    let mut g = c.benchmark_group("group");
    g.sample_size(20);
    g.bench_function("message_to_10000_joined", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                // Outboxes hold 256 transactions: a fresh world before they fill up.
                if used >= 200 || current.is_none() {
                    current = Some(world());
                    used = 0;
                }
                let Some((sim, message)) = current.as_mut() else {
                    continue;
                };
                let before = deliveries(sim);
                // A new TransactionID each time: the same one is a retry, delivered once.
                let mut m = message.clone();
                if let Some(t) = m.session.transactions.first_mut() {
                    t.descriptor.id = Some(TransactionId(format!("g{used}")));
                }
                let request = Request::csp(m);
                let start = Instant::now();
                sim.call(request);
                total += start.elapsed();
                assert_eq!(deliveries(sim) - before, (JOINED - 1) as u64);
                used += 1;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, group);
criterion_main!(benches);
