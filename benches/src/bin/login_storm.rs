//! A login storm through the in-process engine: N users provisioned on a real data
//! directory, 2 shards on pinned executors, every user logging in at once in batches per
//! shard. Prints logins/s (wall clock, first request to last reply).
//!
//! Run: `cargo run --release -p imps-benches --bin login-storm -- [USERS] [plain|digest]`

use std::time::Instant;

use imps_engine::config::AccessConfig;
use imps_engine::credentials::{DigestScheme, digest_bytes};
use imps_engine::persist::Provisioner;
use imps_engine::server::{Engine, EngineClient, EngineConfig};
use imps_engine::shard::{Reply, Request};
use imps_protocol::common::ClientId;
use imps_protocol::primitives::{DigestSchema, DigestSchemaList, LoginRequest};
use imps_protocol::types::{Base64Text, Url};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 1024;

fn login(i: usize, password: Option<&str>, digest: Option<String>, schemes: bool) -> Request {
    let req = LoginRequest {
        user_id: format!("user{i}").into(),
        client_id: ClientId {
            url: Some(Url("http://phone.example/client".into())),
            ..Default::default()
        },
        password: password.map(str::to_owned),
        digest_bytes: digest.map(Base64Text),
        digest_schemas: if schemes {
            vec![DigestSchemaList(vec![DigestSchema::Md5])]
        } else {
            Vec::new()
        },
        session_cookie: format!("c{i}"),
        ..Default::default()
    };
    Request::csp(Message::single(
        Version::V1_2,
        None,
        TransactionMode::Request,
        Some(format!("t{i}").into()),
        req.into(),
    ))
}

fn response(reply: &Reply) -> Option<&imps_protocol::primitives::LoginResponse> {
    match reply {
        Reply::Csp(Some(m)) => match &m.session.transactions.first()?.content {
            Primitive::LoginResponse(r) => Some(r),
            _ => None,
        },
        _ => None,
    }
}

/// Logs in users `ids` (all owned by `shard`); returns how many got a session.
fn storm(client: &EngineClient, shard: usize, ids: &[usize], digest: bool) -> usize {
    let mut ok = 0;
    for chunk in ids.chunks(BATCH) {
        if digest {
            let first: Vec<Request> = chunk.iter().map(|&i| login(i, None, None, true)).collect();
            let challenges = client.call_batch(shard, first).expect("challenges");
            let second: Vec<Request> = chunk
                .iter()
                .zip(&challenges)
                .map(|(&i, c)| {
                    let nonce = response(c)
                        .and_then(|r| r.nonce.clone())
                        .unwrap_or_default();
                    login(
                        i,
                        None,
                        Some(digest_bytes(DigestScheme::Md5, &nonce, "pass")),
                        false,
                    )
                })
                .collect();
            let replies = client.call_batch(shard, second).expect("logins");
            ok += replies
                .iter()
                .filter(|r| response(r).is_some_and(|r| r.session_id.is_some()))
                .count();
        } else {
            let reqs: Vec<Request> = chunk
                .iter()
                .map(|&i| login(i, Some("pass"), None, false))
                .collect();
            let replies = client.call_batch(shard, reqs).expect("logins");
            ok += replies
                .iter()
                .filter(|r| response(r).is_some_and(|r| r.session_id.is_some()))
                .count();
        }
    }
    ok
}

fn main() {
    let mut args = std::env::args().skip(1);
    let users: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let digest = args.next().is_some_and(|a| a == "digest");
    let dir = std::env::temp_dir().join(format!("imps-login-storm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut p = Provisioner::open(&dir, Some(2), AccessConfig::default()).expect("data dir");
    for i in 0..users {
        p.put_user(&format!("user{i}"), "pass", Default::default())
            .expect("user");
    }
    p.finish().expect("provisioned");

    let engine = Engine::start(EngineConfig {
        shards: Some(2),
        ..EngineConfig::new(&dir)
    })
    .expect("engine");
    let client = engine.client();
    let mut by_shard = vec![Vec::new(); engine.shards()];
    for i in 0..users {
        by_shard[client.shard_of(&login(i, None, None, false))].push(i);
    }
    let start = Instant::now();
    let ok: usize = std::thread::scope(|s| {
        let handles: Vec<_> = by_shard
            .iter()
            .enumerate()
            .map(|(shard, ids)| {
                let client = client.clone();
                s.spawn(move || storm(&client, shard, ids, digest))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("storm thread"))
            .sum()
    });
    let elapsed = start.elapsed().as_secs_f64();
    engine.shutdown().expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ok, users, "every login opened a session");
    println!(
        "logins={users} scheme={} shards=2 seconds={elapsed:.3} logins_per_s={:.0}",
        if digest { "digest-md5" } else { "plain" },
        users as f64 / elapsed
    );
}
