//! A prefix search over 1,000,000 users on 2 shards, sans-IO: one Search-Request on the
//! searcher's shard, a Find to each shard (an index range, then the checks), the Found
//! answers gathered, sorted and kept, and the first page answered. Both shards run on the
//! bench's one thread; the XML codec is not included.
//!
//! Run: `cargo bench -p imps-benches --bench search`

use criterion::{Criterion, criterion_group, criterion_main};
use imps_engine::config::AccessConfig;
use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
use imps_engine::record::Profile;
use imps_engine::shard::{Admin, Reply, Request, Shard, ShardSetup, route};
use imps_protocol::common::ClientId;
use imps_protocol::primitives::{LoginRequest, SearchElement, SearchPair, SearchRequest};
use imps_protocol::types::{SessionId, TransactionId, Url};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

const USERS: usize = 1_000_000;
const SHARDS: usize = 2;
const DOMAIN: &str = "imps.local";
const SYLLABLES: [&str; 20] = [
    "ka", "ko", "ri", "ta", "mi", "no", "se", "lu", "va", "he", "jo", "pe", "sa", "tu", "ne", "ro",
    "li", "ma", "vi", "ku",
];

/// A last name of five syllables, one per base-20 digit of `i` (unique below 3.2 million).
fn last_name(i: usize) -> String {
    let mut n = i;
    let mut out = String::new();
    for _ in 0..5 {
        out.push_str(SYLLABLES[n % 20]);
        n /= 20;
    }
    let mut name: Vec<char> = out.chars().collect();
    name[0] = name[0].to_ascii_uppercase();
    name.into_iter().collect()
}

struct Cluster {
    shards: Vec<Shard>,
    next_token: u64,
}

impl Cluster {
    fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|id| {
                Shard::new(ShardSetup {
                    id,
                    shards: SHARDS,
                    config: AccessConfig::default(),
                    master_key: [7; 32],
                    seed: [id as u8 + 1; 32],
                    next_seq: LogSeq(1),
                })
            })
            .collect();
        Self {
            shards,
            next_token: 1,
        }
    }

    /// Handles a request on its shard, delivers messages between shards until all is
    /// quiet (records durable at once), and returns the reply.
    fn call(&mut self, request: Request) -> Option<Reply> {
        let token = Token(self.next_token);
        self.next_token += 1;
        let at = route(&request, SHARDS, DOMAIN);
        self.shards[at].handle_request(Millis(0), token, request);
        let mut reply = None;
        loop {
            let mut progressed = false;
            for i in 0..SHARDS {
                while let Some(out) = self.shards[i].poll_output() {
                    progressed = true;
                    match out {
                        Output::Reply { token: t, reply: r } if t == token => reply = Some(r),
                        Output::ToShard { shard, msg } => {
                            self.shards[shard].handle_mesh(Millis(0), i, msg);
                        }
                        Output::Append(_) => {
                            self.shards[i].handle_durable(Millis(0), LogSeq(u64::MAX));
                        }
                        _ => {}
                    }
                }
            }
            if !progressed {
                return reply;
            }
        }
    }

    fn csp(&mut self, session: Option<&SessionId>, content: Primitive) -> Primitive {
        let m = Message::single(
            Version::V1_2,
            session.cloned(),
            TransactionMode::Request,
            Some(TransactionId("t1".into())),
            content,
        );
        match self.call(Request::csp(m)) {
            Some(Reply::Csp(Some(m))) => m
                .session
                .transactions
                .into_iter()
                .next()
                .map(|t| t.content)
                .expect("a transaction"),
            other => panic!("no CSP answer: {other:?}"),
        }
    }
}

/// A million users with profiles; a logged-in searcher.
fn cluster() -> (Cluster, SessionId) {
    let mut c = Cluster::new();
    for i in 0..USERS {
        let profile = Profile {
            first_name: Some(["Anna", "Matti", "Liisa", "Juha", "Sanna"][i % 5].into()),
            last_name: Some(last_name(i)),
            email: Some(format!("user{i}@example.com")),
            ..Profile::default()
        };
        c.call(Request::Admin(Admin::PutUser {
            user: format!("user{i}"),
            password: "pw".into(),
            profile,
        }));
    }
    let login = LoginRequest {
        user_id: "user0".into(),
        client_id: ClientId {
            url: Some(Url("http://bench.example/".into())),
            ..Default::default()
        },
        password: Some("pw".into()),
        session_cookie: "cookie".into(),
        ..Default::default()
    };
    let Primitive::LoginResponse(r) = c.csp(None, login.into()) else {
        panic!("login")
    };
    (c, r.session_id.expect("a session"))
}

fn search(element: SearchElement, prefix: &str) -> Primitive {
    SearchRequest {
        pairs: vec![SearchPair {
            element,
            string: prefix.into(),
        }],
        limit: Some(50),
        search_id: None,
        index: None,
    }
    .into()
}

fn bench(c: &mut Criterion) {
    let (mut cluster, session) = cluster();
    let mut group = c.benchmark_group("search_1m_users");
    // The first three syllables of a last name fix 1 user in 20^3 = 8,000: 125 of the
    // million (the first page holds 50). A user ID prefix: user12345 and user123450..9.
    let cases = [
        (
            "last_name_prefix_125_hits",
            SearchElement::UserLastName,
            "karita",
        ),
        ("user_id_prefix_11_hits", SearchElement::UserId, "user12345"),
    ];
    for (name, element, prefix) in cases {
        let found = cluster.csp(Some(&session), search(element.clone(), prefix));
        let Primitive::SearchResponse(r) = found else {
            panic!("a Search-Response for {prefix}: {found:?}")
        };
        println!("{name}: {} findings", r.findings);
        group.bench_function(name, |b| {
            b.iter(|| {
                // Each search is kept for paging (a few per session, the oldest dropped).
                match cluster.csp(Some(&session), search(element.clone(), prefix)) {
                    Primitive::SearchResponse(r) => r.findings,
                    other => panic!("a Search-Response expected, got {other:?}"),
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
