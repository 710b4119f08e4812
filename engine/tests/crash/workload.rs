//! The write workload of the kill test and the model it is checked against.
//!
//! Each worker owns one user and issues one contact-list operation at a time: create a list
//! (with one member), add a member to its newest list, or delete its oldest list, each with
//! names never used before. The [`UserModel`] holds what the acknowledged operations imply
//! and the one operation whose answer did not arrive (the server was killed meanwhile).
//!
//! After a restart, [`UserModel::verify`] reads every list back over CSP: the state must be
//! exactly the acknowledged one, or the acknowledged one with the unanswered operation fully
//! applied (it may have become durable just before the kill). Anything else (an acknowledged
//! change missing, a list half-built, a stray member) fails the test.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore as _, SeedableRng as _};

use super::client::{CallError, Csp, Member};

/// How many lists a worker keeps before it deletes its oldest.
const MAX_LISTS: usize = 4;
/// How many members a list gets before the worker starts a new one.
const MAX_MEMBERS: usize = 3;

/// One contact-list operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `CreateList` with its initial members.
    Create(String, Vec<Member>),
    /// `ListManage` adding members.
    Add(String, Vec<Member>),
    /// `DeleteList`.
    Delete(String),
}

/// Lists by ID, members sorted.
pub(crate) type Lists = BTreeMap<String, Vec<Member>>;

fn apply(lists: &mut Lists, op: &Op) {
    match op {
        Op::Create(list, members) => {
            let mut m = members.clone();
            m.sort();
            lists.insert(list.clone(), m);
        }
        Op::Add(list, members) => {
            if let Some(m) = lists.get_mut(list) {
                m.extend(members.iter().cloned());
                m.sort();
            }
        }
        Op::Delete(list) => {
            lists.remove(list);
        }
    }
}

/// What one user's acknowledged operations imply.
#[derive(Debug, Clone)]
pub(crate) struct UserModel {
    /// The user (normalized ID) and password.
    pub user: String,
    password: String,
    /// Lists as acknowledged; creation order kept in `order`.
    lists: Lists,
    order: Vec<String>,
    /// The operation sent whose answer never came.
    in_flight: Option<Op>,
    next_name: u64,
    /// Operations acknowledged so far (over all cycles).
    pub acked: u64,
    /// Unanswered operations that turned out to be durable.
    pub applied_unacked: u64,
    /// The state after each acknowledged operation (the first entry: no lists).
    history: Vec<Lists>,
}

impl UserModel {
    /// A user with no lists.
    pub(crate) fn new(user: &str, password: &str) -> UserModel {
        UserModel {
            user: user.into(),
            password: password.into(),
            lists: Lists::new(),
            order: Vec::new(),
            in_flight: None,
            next_name: 1,
            acked: 0,
            applied_unacked: 0,
            history: vec![Lists::new()],
        }
    }

    fn local(&self) -> &str {
        self.user
            .trim_start_matches("wv:")
            .split('@')
            .next()
            .unwrap_or_default()
    }

    /// The next operation this worker would send.
    fn next_op(&mut self) -> Op {
        let n = self.next_name;
        self.next_name += 1;
        let member = vec![(format!("wv:m{n}@imps.local"), format!("nick{n}"))];
        if self.order.len() >= MAX_LISTS {
            return Op::Delete(self.order[0].clone());
        }
        match self.order.last() {
            Some(last) if self.lists.get(last).is_some_and(|m| m.len() < MAX_MEMBERS) => {
                Op::Add(last.clone(), member)
            }
            _ => Op::Create(format!("wv:{}/l{n}@imps.local", self.local()), member),
        }
    }

    fn acknowledge(&mut self, op: &Op) {
        apply(&mut self.lists, op);
        match op {
            Op::Create(list, _) => self.order.push(list.clone()),
            Op::Delete(list) => self.order.retain(|l| l != list),
            Op::Add(..) => {}
        }
        self.acked += 1;
        self.history.push(self.lists.clone());
    }

    /// The states this user's lists went through, one per acknowledged operation (index 0:
    /// no lists). A consistent copy taken while the user worked holds one of them.
    pub(crate) fn history(&self) -> &[Lists] {
        &self.history
    }

    /// Logs in and runs operations until `stop` is set or a call fails (the server died);
    /// returns the number acknowledged in this run. Panics on a definite wrong answer.
    pub(crate) fn run(&mut self, csp: &mut Csp, stop: &AtomicBool) -> u64 {
        assert!(self.in_flight.is_none(), "verify before running again");
        if csp.login(&self.user, &self.password).is_err() {
            // Killed before or during the login: nothing was sent.
            return 0;
        }
        let mut acked = 0;
        while !stop.load(Ordering::Relaxed) {
            let op = self.next_op();
            self.in_flight = Some(op.clone());
            let answer = match &op {
                Op::Create(list, members) => csp.create_list(list, members),
                Op::Add(list, members) => csp.add_members(list, members),
                Op::Delete(list) => csp.delete_list(list),
            };
            match answer {
                Ok(200) => {
                    self.in_flight = None;
                    self.acknowledge(&op);
                    acked += 1;
                }
                Ok(code) => panic!("{}: {op:?} answered {code}", self.user),
                // The server is gone (or refused as a whole): the outcome is unknown.
                Err(CallError::Io(_) | CallError::Http(_)) => break,
                Err(CallError::Garbled(e)) => panic!("{}: {op:?}: {e}", self.user),
            }
        }
        acked
    }

    /// Reads the user's lists back and checks them against the model (see the module docs);
    /// adopts the unanswered operation if it turned out durable. Returns the number of
    /// acknowledged operations whose effect was checked (all of them so far).
    pub(crate) fn verify(&mut self, csp: &mut Csp) -> Result<u64, String> {
        csp.login(&self.user, &self.password)
            .map_err(|e| format!("{}: login after restart: {e}", self.user))?;
        let mut found = Lists::new();
        for list in csp
            .lists()
            .map_err(|e| format!("{}: GetList: {e}", self.user))?
        {
            let members = csp
                .members(&list)
                .map_err(|e| format!("{}: ListManage {list}: {e}", self.user))?;
            found.insert(list, members);
        }
        if found == self.lists {
            self.in_flight = None;
            return Ok(self.acked);
        }
        if let Some(op) = self.in_flight.take() {
            let mut with = self.lists.clone();
            apply(&mut with, &op);
            if found == with {
                self.acknowledge(&op);
                self.acked -= 1;
                self.applied_unacked += 1;
                return Ok(self.acked);
            }
            self.in_flight = Some(op);
        }
        Err(format!(
            "{}: after restart the lists are\n  {found:?}\nbut the acknowledged operations imply\n  \
             {:?}\n(unanswered operation: {:?})",
            self.user, self.lists, self.in_flight
        ))
    }
}

/// A random generator for the test, seeded from `IMPS_CRASH_SEED` or the clock; prints the
/// seed so a failure can be replayed.
pub(crate) fn rng() -> ChaCha8Rng {
    let seed = std::env::var("IMPS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("crash test seed: IMPS_CRASH_SEED={seed}");
    ChaCha8Rng::seed_from_u64(seed)
}

/// A uniformly random value in `lo..hi`.
pub(crate) fn between(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.next_u64() % (hi - lo).max(1)
}

/// A stop flag shared by the workers of one cycle.
pub(crate) fn stop_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}
