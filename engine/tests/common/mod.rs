//! Shared by the simulation tests of the services: a two-shard harness on a virtual clock,
//! users placed on chosen shards, and the server-originated requests a client polls.
#![allow(dead_code)]

use imps_engine::config::AccessConfig;
use imps_engine::routing::{group_owner, owner};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::common::User;
use imps_protocol::types::{GroupId, UserId};
use imps_protocol::{Message, Primitive, TransactionMode, Version};

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
