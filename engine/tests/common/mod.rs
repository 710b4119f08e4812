//! Shared by the simulation tests of the services: a two-shard harness on a virtual clock,
//! users placed on chosen shards, and the server-originated requests a client polls.
#![allow(dead_code)]

use imps_engine::config::AccessConfig;
use imps_engine::routing::{group_owner, owner};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::User;
use imps_protocol::types::{GroupId, UserId};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

pub(crate) mod invites;

/// The service's domain in the tests.
pub(crate) const DOMAIN: &str = "imps.local";

/// The first name `base<i>` that lives on `shard` of 2.
pub(crate) fn name_on(base: &str, shard: u16) -> String {
    (0..1000)
        .map(|i| format!("{base}{i}"))
        .find(|n| owner(&UserId::from(n.as_str()), DOMAIN, 2).map(|s| s.0) == Ok(shard))
        .expect("a name on the shard")
}

/// The private group `wv:<owner>/<name>@imps.local`: it lives on its owner's shard.
pub(crate) fn group_of(user: &str, name: &str) -> GroupId {
    let g = GroupId(format!("wv:{user}/{name}@{DOMAIN}"));
    assert_eq!(
        group_owner(&g, DOMAIN, 2),
        owner(&UserId::from(user), DOMAIN, 2),
        "a private group lives with its owner"
    );
    g
}

/// The normalized user ID of a client's user.
pub(crate) fn id(c: &SimClient) -> String {
    format!("wv:{}@{DOMAIN}", c.user)
}

/// A `User` element naming `id`.
pub(crate) fn user(id: &str) -> User {
    User {
        user_id: UserId(id.into()),
        client_id: None,
        friendly_name: None,
    }
}

/// True when the answer says more is queued.
pub(crate) fn poll_flag(m: &Message) -> bool {
    m.session.poll == Some(true)
        || m.session
            .transactions
            .iter()
            .any(|t| t.descriptor.poll == Some(true))
}

/// Two shards with the default policy.
pub(crate) struct World {
    /// The simulation.
    pub(crate) sim: Sim,
}

impl World {
    /// A world seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            sim: Sim::new(2, AccessConfig::default(), seed),
        }
    }

    /// A new user on `shard` (password `pw`), not logged in.
    pub(crate) fn offline(&mut self, base: &str, shard: u16) -> SimClient {
        let name = name_on(base, shard);
        assert!(self.sim.add_user(&name, "pw"));
        SimClient::new(&name, Version::V1_2)
    }

    /// A new user on `shard`, logged in.
    pub(crate) fn online(&mut self, base: &str, shard: u16) -> SimClient {
        let mut c = self.offline(base, shard);
        c.login(&mut self.sim, "pw").expect("login");
        c
    }

    /// Sends one request and returns the answer's first transaction.
    pub(crate) fn call(&mut self, c: &mut SimClient, p: Primitive) -> Primitive {
        c.call(&mut self.sim, p).expect("an answer")
    }

    /// Sends one request that is answered with a Status; its code.
    pub(crate) fn status(&mut self, c: &mut SimClient, p: Primitive) -> u32 {
        match self.call(c, p) {
            Primitive::Status(s) => s.result.code,
            other => panic!("a Status expected, got {other:?}"),
        }
    }

    /// Polls until nothing is left; every server-originated request with its
    /// TransactionID.
    pub(crate) fn requests(&mut self, c: &mut SimClient) -> Vec<(Option<String>, Primitive)> {
        let mut out = Vec::new();
        for _ in 0..100 {
            let Some(m) = c.poll(&mut self.sim) else {
                break;
            };
            let more = poll_flag(&m);
            let got: Vec<(Option<String>, Primitive)> = m
                .session
                .transactions
                .into_iter()
                .filter(|t| t.descriptor.mode == TransactionMode::Request)
                .map(|t| (t.descriptor.id.map(|i| i.0), t.content))
                .collect();
            if got.is_empty() && !more {
                break;
            }
            out.extend(got);
        }
        out
    }
}

/// The shards of a simulation restarted from their logs, as recovery rebuilds them.
pub(crate) mod restart {
    use std::collections::HashMap;

    use imps_engine::config::AccessConfig;
    use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
    use imps_engine::record::Record;
    use imps_engine::shard::{Reply, Request, Shard, ShardSetup, route};
    use imps_engine::sim::{Sim, SimClient};
    use imps_protocol::primitives::{LoginRequest, PollingRequest};
    use imps_protocol::types::{Url, UserId};
    use imps_protocol::{Message, Primitive, TransactionMode};

    use super::{DOMAIN, poll_flag};

    /// Every shard of a [`Sim`] rebuilt from the records it appended (nothing else
    /// survives: sessions, queues, in-flight messages), on a clock that starts again at
    /// zero while the wall clock goes on where the simulation's stopped, plus the downtime.
    /// Driven like the simulation: routed requests, messages between shards, records
    /// durable at once, timers fired when due.
    pub(crate) struct Restarted {
        shards: Vec<Shard>,
        logs: Vec<Vec<Vec<u8>>>,
        /// Wall-clock ms at `Millis(0)`.
        epoch_ms: u64,
        now: Millis,
        next_token: u64,
        replies: HashMap<Token, Reply>,
    }

    impl Restarted {
        /// `sim`'s shards after `down_ms` of downtime.
        pub(crate) fn from(sim: &Sim, down_ms: u64) -> Self {
            let logs = (0..sim.shard_count())
                .map(|i| sim.log(i).to_vec())
                .collect();
            Self::recover(logs, sim.now().0 + down_ms)
        }

        /// These shards restarted again after `down_ms` of downtime.
        pub(crate) fn again(&self, down_ms: u64) -> Self {
            Self::recover(self.logs.clone(), self.epoch_ms + self.now.0 + down_ms)
        }

        fn recover(logs: Vec<Vec<Vec<u8>>>, epoch_ms: u64) -> Self {
            let n = logs.len();
            let shards = logs
                .iter()
                .enumerate()
                .map(|(id, log)| {
                    let mut shard = Shard::new(ShardSetup {
                        id,
                        shards: n,
                        config: AccessConfig::default(),
                        // The simulation's master key: the stored passwords open with it.
                        master_key: [0x5A; 32],
                        seed: [id as u8 + 40; 32],
                        next_seq: LogSeq(1),
                    });
                    for bytes in log {
                        shard.apply(Record::from_bytes(bytes).expect("a record"));
                    }
                    shard.resume_log_at(LogSeq(log.len() as u64 + 1));
                    shard.set_epoch_ms(epoch_ms);
                    shard
                })
                .collect();
            Self {
                shards,
                logs,
                epoch_ms,
                now: Millis(0),
                next_token: 1,
                replies: HashMap::new(),
            }
        }

        /// Shard `i`.
        pub(crate) fn shard(&self, i: usize) -> &Shard {
            &self.shards[i]
        }

        /// Records shard `i` holds (before the restart and since).
        pub(crate) fn log(&self, i: usize) -> &[Vec<u8>] {
            &self.logs[i]
        }

        /// Moves the clock forward by `ms`, firing every timer that falls due on the way.
        pub(crate) fn advance(&mut self, ms: u64) {
            let end = self.now.plus(ms);
            while let Some(at) = self
                .shards
                .iter()
                .filter_map(Core::next_timer)
                .filter(|t| *t <= end)
                .min()
            {
                self.now = self.now.max(at);
                self.fire_due();
            }
            self.now = end;
        }

        fn fire_due(&mut self) {
            for i in 0..self.shards.len() {
                if self.shards[i].next_timer().is_some_and(|t| t <= self.now) {
                    self.shards[i].handle_timer(self.now);
                }
            }
            self.drain();
        }

        fn drain(&mut self) {
            loop {
                let mut progressed = false;
                for i in 0..self.shards.len() {
                    while let Some(out) = self.shards[i].poll_output() {
                        progressed = true;
                        match out {
                            Output::Reply { token, reply } => {
                                self.replies.insert(token, reply);
                            }
                            Output::ToShard { shard, msg } => {
                                let now = self.now;
                                self.shards[shard].handle_mesh(now, i, msg);
                            }
                            Output::Append(bytes) => {
                                self.logs[i].push(bytes);
                                let upto = LogSeq(self.logs[i].len() as u64);
                                self.shards[i].handle_durable(self.now, upto);
                            }
                            Output::Wake(_) => {}
                        }
                    }
                }
                if !progressed {
                    break;
                }
            }
        }

        /// Sends a message of `c`'s session (timers due first, as a running shard has
        /// them fired); the answer.
        pub(crate) fn send(&mut self, m: Message) -> Option<Message> {
            self.fire_due();
            let request = Request::csp(m);
            let token = Token(self.next_token);
            self.next_token += 1;
            let shard = route(&request, self.shards.len(), DOMAIN);
            self.shards[shard].handle_request(self.now, token, request);
            self.drain();
            match self.replies.remove(&token)? {
                Reply::Csp(m) => m,
                Reply::Admin(_) => None,
            }
        }

        /// Sends one request; the answer's first transaction.
        pub(crate) fn call(&mut self, c: &mut SimClient, p: Primitive) -> Primitive {
            let m = c.message(vec![(TransactionMode::Request, None, p)]);
            let reply = self.send(m).expect("an answer");
            reply
                .session
                .transactions
                .into_iter()
                .next()
                .expect("a transaction")
                .content
        }

        /// Sends one request answered with a Status; its code.
        pub(crate) fn status(&mut self, c: &mut SimClient, p: Primitive) -> u32 {
            match self.call(c, p) {
                Primitive::Status(s) => s.result.code,
                other => panic!("a Status expected, got {other:?}"),
            }
        }

        /// Logs `c` in with password `pw`.
        pub(crate) fn login(&mut self, c: &mut SimClient) {
            c.session = None;
            let mut req = LoginRequest {
                user_id: UserId(c.user.clone()),
                password: Some("pw".into()),
                session_cookie: format!("cookie-{}", c.user),
                ..LoginRequest::default()
            };
            req.client_id.url = Some(Url(c.client.clone()));
            match self.call(c, req.into()) {
                Primitive::LoginResponse(r) if r.session_id.is_some() => c.session = r.session_id,
                other => panic!("login of {} failed: {other:?}", c.user),
            }
        }

        /// Polls until nothing is left; every server-originated request with its
        /// TransactionID.
        pub(crate) fn requests(&mut self, c: &mut SimClient) -> Vec<(String, Primitive)> {
            let mut out = Vec::new();
            for _ in 0..100 {
                let m = c.message(vec![(
                    TransactionMode::Request,
                    None,
                    PollingRequest {}.into(),
                )]);
                let Some(m) = self.send(m) else {
                    break;
                };
                let more = poll_flag(&m);
                let got: Vec<(String, Primitive)> = m
                    .session
                    .transactions
                    .into_iter()
                    .filter(|t| t.descriptor.mode == TransactionMode::Request)
                    .map(|t| (t.descriptor.id.map(|i| i.0).unwrap_or_default(), t.content))
                    .collect();
                if got.is_empty() && !more {
                    break;
                }
                out.extend(got);
            }
            out
        }
    }
}
