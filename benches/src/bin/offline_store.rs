//! Messages to offline users through the in-process engine: 2 shards on pinned executors
//! with their real logs on a real data directory, every message stored durably (group
//! commit) before its SendMessage-Response. Senders on both shards send in batches; each
//! message's acknowledgement latency is taken as the time its batch took (an upper bound).
//! Prints messages/s and latency percentiles.
//!
//! Run: `cargo run --release -p imps-benches --bin offline-store -- [MESSAGES] [BATCH]`

use std::time::Instant;

use imps_engine::config::AccessConfig;
use imps_engine::persist::Provisioner;
use imps_engine::server::{Engine, EngineClient, EngineConfig};
use imps_engine::shard::{Reply, Request};
use imps_protocol::common::{ClientId, Recipient, User};
use imps_protocol::primitives::{LoginRequest, MessageInfo, SendMessageRequest};
use imps_protocol::types::{SessionId, Url, UserId};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SENDERS: usize = 64;
const RECIPIENTS: usize = 20_000;

fn login(i: usize) -> Request {
    let req = LoginRequest {
        user_id: format!("sender{i}").into(),
        client_id: ClientId {
            url: Some(Url("http://phone.example/client".into())),
            ..Default::default()
        },
        password: Some("pass".into()),
        session_cookie: format!("c{i}"),
        ..Default::default()
    };
    Request::csp(Message::single(
        Version::V1_2,
        None,
        TransactionMode::Request,
        Some("l".into()),
        req.into(),
    ))
}

fn send(session: &SessionId, n: usize) -> Request {
    let req = SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                users: vec![User {
                    user_id: UserId(format!("rcpt{}", n % RECIPIENTS)),
                    client_id: None,
                    friendly_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some(format!("message number {n}")),
    };
    Request::csp(Message::single(
        Version::V1_2,
        Some(session.clone()),
        TransactionMode::Request,
        Some(format!("t{n}").into()),
        req.into(),
    ))
}

fn accepted(reply: &Reply) -> bool {
    matches!(reply, Reply::Csp(Some(m)) if matches!(
        m.session.transactions.first().map(|t| &t.content),
        Some(Primitive::SendMessageResponse(r)) if r.result.code == 200
    ))
}

/// Sends `count` messages from the senders of `shard`; returns the batch latencies (µs,
/// one per message) and how many were accepted.
fn run(
    client: &EngineClient,
    shard: usize,
    sessions: &[SessionId],
    count: usize,
    batch: usize,
    offset: usize,
) -> (Vec<u64>, usize) {
    let mut latencies = Vec::with_capacity(count);
    let mut ok = 0;
    let mut n = 0;
    while n < count {
        let k = batch.min(count - n);
        let reqs: Vec<Request> = (0..k)
            .map(|j| send(&sessions[(n + j) % sessions.len()], offset + n + j))
            .collect();
        let start = Instant::now();
        let replies = client.call_batch(shard, reqs).expect("replies");
        let us = start.elapsed().as_micros() as u64;
        ok += replies.iter().filter(|r| accepted(r)).count();
        latencies.extend(std::iter::repeat_n(us, k));
        n += k;
    }
    (latencies, ok)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(400_000);
    let batch: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let dir = std::env::temp_dir().join(format!("imps-offline-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut p = Provisioner::open(&dir, Some(2), AccessConfig::default()).expect("data dir");
    for i in 0..SENDERS {
        p.put_user(&format!("sender{i}"), "pass", Default::default())
            .expect("user");
    }
    for i in 0..RECIPIENTS {
        p.put_user(&format!("rcpt{i}"), "pass", Default::default())
            .expect("user");
    }
    p.finish().expect("provisioned");
    let engine = Engine::start(EngineConfig {
        shards: Some(2),
        ..EngineConfig::new(&dir)
    })
    .expect("engine");
    let client = engine.client();
    let mut sessions: Vec<Vec<SessionId>> = vec![Vec::new(); engine.shards()];
    for i in 0..SENDERS {
        let req = login(i);
        let shard = client.shard_of(&req);
        let reply = client.call_batch(shard, vec![req]).expect("login");
        if let Some(Reply::Csp(Some(m))) = reply.first()
            && let Some(Primitive::LoginResponse(r)) =
                m.session.transactions.first().map(|t| &t.content)
            && let Some(sid) = &r.session_id
        {
            sessions[shard].push(sid.clone());
        }
    }
    let per_shard = messages / 2;
    let start = Instant::now();
    let results: Vec<(Vec<u64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .iter()
            .enumerate()
            .map(|(shard, sids)| {
                let client = client.clone();
                s.spawn(move || run(&client, shard, sids, per_shard, batch, shard * per_shard))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sender thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    engine.shutdown().expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
    let ok: usize = results.iter().map(|r| r.1).sum();
    let mut lat: Vec<u64> = results.into_iter().flat_map(|r| r.0).collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(ok, per_shard * 2, "every message was stored");
    println!(
        "messages={} batch={batch} shards=2 seconds={elapsed:.3} messages_per_s={:.0} \
         ack_us_p50={} ack_us_p99={} ack_us_max={}",
        per_shard * 2,
        (per_shard * 2) as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        lat.last().copied().unwrap_or(0),
    );
}
