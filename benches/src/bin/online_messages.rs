//! One-to-one messages between online users through the in-process engine: 2 shards on
//! pinned executors. Every sender is paired with a recipient on the other shard. Each round,
//! one thread per shard sends a message from each of its senders (one batch), polls each of
//! its recipients (one batch) and confirms every NewMessage with MessageDelivered (one
//! batch). Prints messages/s (wall clock; every message sent, pushed and confirmed).
//!
//! With `DRIVER=executor` the rounds run as a task on each shard's own executor (requests
//! handed to the core in place, as the HTTP front-end does) instead of one client thread per
//! shard: no threads compete with the shards for the cores.
//!
//! Run: `cargo run --release -p imps-benches --bin online-messages -- [PAIRS_PER_SHARD] [ROUNDS]`

use std::sync::Arc;
use std::time::Instant;

use imps_engine::config::AccessConfig;
use imps_engine::persist::Provisioner;
use imps_engine::routing::owner;
use imps_engine::runtime::LocalShard;
use imps_engine::server::{Engine, EngineClient, EngineConfig};
use imps_engine::shard::{Reply, Request, Shard};
use imps_protocol::common::{ClientId, Recipient, User};
use imps_protocol::primitives::{
    LoginRequest, MessageDelivered, MessageInfo, PollingRequest, SendMessageRequest,
};
use imps_protocol::types::{SessionId, TransactionId, Url, UserId};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn shard_of(name: &str) -> usize {
    owner(&UserId::from(name), "imps.local", 2).map_or(0, |s| usize::from(s.0))
}

/// `n` names `<base><i>` on `shard`.
fn names(base: &str, shard: usize, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{base}{i}"))
        .filter(|s| shard_of(s) == shard)
        .take(n)
        .collect()
}

fn request(session: Option<&SessionId>, mode: TransactionMode, tid: &str, p: Primitive) -> Request {
    Request::csp(Message::single(
        Version::V1_2,
        session.cloned(),
        mode,
        Some(TransactionId(tid.into())),
        p,
    ))
}

fn login(client: &EngineClient, shard: usize, users: &[String]) -> Vec<SessionId> {
    let reqs = users
        .iter()
        .map(|u| {
            let l = LoginRequest {
                user_id: u.as_str().into(),
                client_id: ClientId {
                    url: Some(Url("http://phone.example/c".into())),
                    ..Default::default()
                },
                password: Some("pass".into()),
                session_cookie: "c".into(),
                ..Default::default()
            };
            request(None, TransactionMode::Request, "l", l.into())
        })
        .collect();
    client
        .call_batch(shard, reqs)
        .expect("logins")
        .into_iter()
        .filter_map(|r| match r {
            Reply::Csp(Some(m)) => match m.session.transactions.into_iter().next()?.content {
                Primitive::LoginResponse(r) => r.session_id,
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn send(session: &SessionId, to: &str) -> Request {
    let req = SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                users: vec![User {
                    user_id: UserId(format!("wv:{to}@imps.local")),
                    client_id: None,
                    friendly_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some("see you at eight".into()),
    };
    // An empty TransactionID: no retry detection needed for this traffic.
    request(Some(session), TransactionMode::Request, "", req.into())
}

/// A MessageDelivered answer for every NewMessage in a poll's answer.
fn confirmations(polled: Message, session: &SessionId) -> Vec<Request> {
    let mut acks = Vec::new();
    for t in polled.session.transactions {
        if let Primitive::NewMessage(n) = t.content
            && let Some(id) = n.message_info.message_id
        {
            let tid = t.descriptor.id.map(|i| i.0).unwrap_or_default();
            let done = MessageDelivered { message_id: id };
            acks.push(request(
                Some(session),
                TransactionMode::Response,
                &tid,
                done.into(),
            ));
        }
    }
    acks
}

/// Rounds for one shard: its senders send, its recipients poll and confirm. Returns the
/// messages confirmed.
fn run(
    client: &EngineClient,
    shard: usize,
    senders: &[SessionId],
    targets: &[String],
    recipients: &[SessionId],
    rounds: usize,
) -> usize {
    let mut confirmed = 0;
    for _ in 0..rounds {
        let sends = senders
            .iter()
            .zip(targets)
            .map(|(s, t)| send(s, t))
            .collect();
        client.call_batch(shard, sends).expect("sends");
        let polls = recipients
            .iter()
            .map(|s| {
                request(
                    Some(s),
                    TransactionMode::Request,
                    "",
                    PollingRequest {}.into(),
                )
            })
            .collect();
        let polled = client.call_batch(shard, polls).expect("polls");
        let mut acks = Vec::with_capacity(polled.len());
        for (reply, session) in polled.into_iter().zip(recipients) {
            let Reply::Csp(Some(m)) = reply else { continue };
            acks.extend(confirmations(m, session));
        }
        confirmed += acks.len();
        client.call_batch(shard, acks).expect("acks");
    }
    confirmed
}

/// The same rounds driven by a task on the shard's own executor (requests handed to the
/// core in place, as the HTTP front-end does): no client threads competing for the cores.
async fn run_local(
    local: LocalShard<Shard>,
    senders: Arc<Vec<Vec<SessionId>>>,
    recipients: Arc<Vec<Vec<String>>>,
    recipient_sessions: Arc<Vec<Vec<SessionId>>>,
    rounds: usize,
) -> usize {
    let shard = local.index();
    let (ss, rs) = (&senders[shard], &recipient_sessions[shard]);
    let targets = &recipients[1 - shard];
    let mut confirmed = 0;
    for _ in 0..rounds {
        let sends: Vec<Request> = ss.iter().zip(targets).map(|(s, t)| send(s, t)).collect();
        for r in local.submit_all(sends) {
            let _ = r.await;
        }
        let polls: Vec<Request> = rs
            .iter()
            .map(|s| {
                request(
                    Some(s),
                    TransactionMode::Request,
                    "",
                    PollingRequest {}.into(),
                )
            })
            .collect();
        let mut acks = Vec::with_capacity(polls.len());
        for (reply, session) in local.submit_all(polls).into_iter().zip(rs) {
            let Ok(Reply::Csp(Some(m))) = reply.await else {
                continue;
            };
            acks.extend(confirmations(m, session));
        }
        confirmed += acks.len();
        for r in local.submit_all(acks) {
            let _ = r.await;
        }
    }
    confirmed
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pairs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("imps-online-messages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let senders: Vec<Vec<String>> = (0..2).map(|s| names("s", s, pairs)).collect();
    let recipients: Vec<Vec<String>> = (0..2).map(|s| names("r", s, pairs)).collect();
    let mut p = Provisioner::open(&dir, Some(2), AccessConfig::default()).expect("data dir");
    for u in senders.iter().chain(&recipients).flatten() {
        p.put_user(u, "pass", Default::default()).expect("user");
    }
    p.finish().expect("provisioned");
    let spin_us: u64 = std::env::var("SPIN_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let engine = Engine::start(EngineConfig {
        shards: Some(2),
        spin_before_park: (spin_us > 0).then(|| std::time::Duration::from_micros(spin_us)),
        ..EngineConfig::new(&dir)
    })
    .expect("engine");
    let client = engine.client();
    let sender_sessions: Vec<Vec<SessionId>> =
        (0..2).map(|s| login(&client, s, &senders[s])).collect();
    let recipient_sessions: Vec<Vec<SessionId>> =
        (0..2).map(|s| login(&client, s, &recipients[s])).collect();
    let start = Instant::now();
    let on_executors = std::env::var("DRIVER").is_ok_and(|d| d == "executor");
    let confirmed: usize = if on_executors {
        let senders = Arc::new(sender_sessions.clone());
        let targets = Arc::new(recipients.clone());
        let rs = Arc::new(recipient_sessions.clone());
        let pending = client
            .runtime()
            .spawn_on_each(move |local| {
                run_local(local, senders.clone(), targets.clone(), rs.clone(), rounds)
            })
            .expect("tasks");
        pending.into_iter().map(|p| p.wait().expect("task")).sum()
    } else {
        std::thread::scope(|sc| {
            let handles: Vec<_> = (0..2)
                .map(|shard| {
                    let client = client.clone();
                    let (ss, rs) = (&sender_sessions[shard], &recipient_sessions[shard]);
                    // Shard s sends to the recipients of the other shard.
                    let targets = &recipients[1 - shard];
                    sc.spawn(move || run(&client, shard, ss, targets, rs, rounds))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        })
    };
    let elapsed = start.elapsed().as_secs_f64();
    engine.shutdown().expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "pairs={} rounds={rounds} shards=2 messages={confirmed} seconds={elapsed:.3} \
         messages_per_s={:.0}",
        pairs * 2,
        confirmed as f64 / elapsed
    );
}
