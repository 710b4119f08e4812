//! Presence fan-out across two shards, sans-IO: one publisher with 20, 200 or 2,000
//! watchers, half of them on the other shard. One iteration is an UpdatePresence-Request
//! handled by the publisher's shard, the fan-out batches built, and both shards queueing the
//! shared snapshot for every watcher session. Both shards run on the bench's one thread, so
//! deliveries/s here is what one core does for both; two cores share it in a server.
//!
//! Before the timings it prints the engine memory per watcher edge, measured as the growth
//! of the resident set while 2,000 sessions each subscribe to 500 publishers (1,000,000
//! edges).
//!
//! Run: `cargo bench -p imps-benches --bench fanout`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use imps_benches::rss_bytes;
use imps_engine::config::AccessConfig;
use imps_engine::routing::owner;
use imps_engine::shard::Request;
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::User;
use imps_protocol::primitives::{
    CreateAttributeListRequest, PresenceSubList, StatusText, SubscribePresenceRequest,
    UpdatePresenceRequest,
};
use imps_protocol::types::UserId;
use imps_protocol::{Message, TransactionMode, Version};

const DOMAIN: &str = "imps.local";

fn shard_of(name: &str) -> u16 {
    owner(&UserId::from(name), DOMAIN, 2).map_or(0, |s| s.0)
}

/// `n` names `<base><i>` alternating between shard 0 and shard 1.
fn names(base: &str, n: usize) -> Vec<String> {
    let mut by_shard: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut i = 0;
    while by_shard[0].len() < n.div_ceil(2) || by_shard[1].len() < n / 2 {
        let name = format!("{base}{i}");
        by_shard[usize::from(shard_of(&name))].push(name);
        i += 1;
    }
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        if let Some(name) = by_shard[k % 2].get(k / 2) {
            out.push(name.clone());
        }
    }
    out
}

fn login(sim: &mut Sim, name: &str) -> SimClient {
    assert!(sim.add_user(name, "pw"));
    let mut c = SimClient::new(name, Version::V1_2);
    c.login(sim, "pw").expect("login");
    c
}

/// The publisher lets everybody see StatusText.
fn grant_status_text(sim: &mut Sim, publisher: &mut SimClient) {
    let grant = CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(["StatusText"]),
        user_ids: vec![],
        contact_lists: vec![],
        default_list: Some(true),
    };
    publisher.call(sim, grant.into());
}

fn subscribe(sim: &mut Sim, watcher: &mut SimClient, publishers: &[String]) {
    let users = publishers
        .iter()
        .map(|p| User {
            user_id: UserId(format!("wv:{p}@{DOMAIN}")),
            client_id: None,
            friendly_name: None,
        })
        .collect();
    let req = SubscribePresenceRequest {
        users,
        ..SubscribePresenceRequest::default()
    };
    watcher.call(sim, req.into());
}

fn update(publisher: &mut SimClient, text: &str) -> Message {
    let req = UpdatePresenceRequest {
        sub_list: PresenceSubList {
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some(text.into()),
            }),
            ..PresenceSubList::default()
        },
    };
    publisher.message(vec![(TransactionMode::Request, None, req.into())])
}

fn config() -> AccessConfig {
    AccessConfig {
        max_sessions_per_user: 1,
        ..AccessConfig::default()
    }
}

/// Bytes of engine memory per watcher edge.
fn edge_memory() -> f64 {
    const WATCHERS: usize = 2_000;
    const PUBLISHERS: usize = 500;
    let mut sim = Sim::new(2, config(), 3);
    let publishers = names("p", PUBLISHERS);
    for p in &publishers {
        let mut c = login(&mut sim, p);
        // Granted, but StatusText never published: no initial delivery is queued, so the
        // growth below is the edges alone.
        grant_status_text(&mut sim, &mut c);
    }
    let mut watchers: Vec<SimClient> = names("w", WATCHERS)
        .iter()
        .map(|w| login(&mut sim, w))
        .collect();
    let before = rss_bytes();
    for w in &mut watchers {
        subscribe(&mut sim, w, &publishers);
    }
    let after = rss_bytes();
    (after.saturating_sub(before)) as f64 / (WATCHERS * PUBLISHERS) as f64
}

fn fanout(c: &mut Criterion) {
    eprintln!(
        "engine memory per watcher edge: {:.1} bytes (RSS growth over 1,000,000 edges)",
        edge_memory()
    );
    let mut group = c.benchmark_group("fanout");
    for watchers in [20usize, 200, 2_000] {
        let mut sim = Sim::new(2, config(), 5);
        let mut publisher = login(&mut sim, &format!("star{watchers}"));
        grant_status_text(&mut sim, &mut publisher);
        let publisher_id = [publisher.user.clone()];
        for w in names(&format!("fan{watchers}-"), watchers) {
            let mut c = login(&mut sim, &w);
            subscribe(&mut sim, &mut c, &publisher_id);
        }
        let updates = [update(&mut publisher, "one"), update(&mut publisher, "two")];
        let home = usize::from(shard_of(&publisher.user));
        let before = sim.shard(home).presence_deliveries().0;
        sim.call(Request::csp(updates[0].clone()));
        let per_update = sim.shard(home).presence_deliveries().0 - before;
        assert_eq!(per_update, watchers as u64, "every watcher is reached");
        group.throughput(Throughput::Elements(watchers as u64));
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("watchers", watchers), |b| {
            b.iter(|| {
                i += 1;
                sim.call(Request::csp(updates[i % 2].clone()))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
