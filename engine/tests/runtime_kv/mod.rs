//! The toy key-value core and helpers the runtime tests drive.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
use imps_engine::runtime::{
    CommitFuture, LocalShard, LogSink, MemoryLog, Runtime, RuntimeConfig, ShardStats,
};

// ---------------------------------------------------------------------------------------------
// The toy core
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) enum Req {
    /// Reads a key of this shard.
    Get(u64),
    /// Writes a key: appends a log record, replies once it is durable.
    Put(u64, u64),
    /// Sends `x` to shard `to`, which answers `x + 1`; replies with that.
    Forward { to: usize, x: u64 },
    /// Replies after `ms` milliseconds.
    After(u64),
    /// Emits a wake-up, replies at once.
    Wake(u64),
    /// Which shard and thread handled this.
    Whoami,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rep {
    Value { shard: usize, value: Option<u64> },
    Stored { shard: usize, seq: LogSeq },
    Forwarded { x: u64, by: usize },
    Fired { due: Millis, now: Millis },
    Done,
    Shard { shard: usize, thread: String },
}

#[derive(Debug)]
pub(crate) enum Mesh {
    Ping { origin: Token, x: u64 },
    Pong { origin: Token, x: u64 },
}

pub(crate) struct KvCore {
    pub shard: usize,
    /// Proves the runtime never needs a core to be `Send`.
    pub _not_send: Rc<()>,
    pub map: HashMap<u64, u64>,
    pub out: VecDeque<Output<KvCore>>,
    pub appended: u64,
    pub durable: u64,
    pub awaiting_durable: VecDeque<(u64, Token)>,
    pub timers: BTreeMap<(Millis, Token), ()>,
    /// Where to record the thread that drops the core, if anywhere.
    pub drops: Option<Arc<Mutex<Vec<String>>>>,
}

impl Drop for KvCore {
    fn drop(&mut self) {
        if let Some(drops) = &self.drops {
            drops.lock().expect("lock").push(thread_name());
        }
    }
}

impl KvCore {
    pub(crate) fn new(shard: usize) -> KvCore {
        KvCore {
            shard,
            _not_send: Rc::new(()),
            map: HashMap::new(),
            out: VecDeque::new(),
            appended: 0,
            durable: 0,
            awaiting_durable: VecDeque::new(),
            timers: BTreeMap::new(),
            drops: None,
        }
    }

    pub(crate) fn reply(&mut self, token: Token, reply: Rep) {
        self.out.push_back(Output::Reply { token, reply });
    }
}

pub(crate) fn record(key: u64, value: u64) -> Vec<u8> {
    let mut bytes = key.to_le_bytes().to_vec();
    bytes.extend_from_slice(&value.to_le_bytes());
    bytes
}

pub(crate) fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

impl Core for KvCore {
    type Request = Req;
    type Reply = Rep;
    type Mesh = Mesh;
    type Wake = u64;

    fn handle_request(&mut self, now: Millis, token: Token, request: Req) {
        match request {
            Req::Get(key) => {
                let value = self.map.get(&key).copied();
                self.reply(
                    token,
                    Rep::Value {
                        shard: self.shard,
                        value,
                    },
                );
            }
            Req::Put(key, value) => {
                self.map.insert(key, value);
                self.appended += 1;
                self.out.push_back(Output::Append(record(key, value)));
                self.awaiting_durable.push_back((self.appended, token));
            }
            Req::Forward { to, x } => self.out.push_back(Output::ToShard {
                shard: to,
                msg: Mesh::Ping { origin: token, x },
            }),
            Req::After(ms) => {
                self.timers.insert((now.plus(ms), token), ());
            }
            Req::Wake(x) => {
                self.out.push_back(Output::Wake(x));
                self.reply(token, Rep::Done);
            }
            Req::Whoami => self.reply(
                token,
                Rep::Shard {
                    shard: self.shard,
                    thread: thread_name(),
                },
            ),
        }
    }

    fn handle_mesh(&mut self, _now: Millis, from: usize, msg: Mesh) {
        match msg {
            Mesh::Ping { origin, x } => self.out.push_back(Output::ToShard {
                shard: from,
                msg: Mesh::Pong { origin, x: x + 1 },
            }),
            Mesh::Pong { origin, x } => self.reply(origin, Rep::Forwarded { x, by: from }),
        }
    }

    fn handle_durable(&mut self, _now: Millis, upto: LogSeq) {
        assert!(
            upto.0 <= self.appended,
            "durable {upto:?} beyond appended {}",
            self.appended
        );
        assert!(upto.0 >= self.durable, "durability went backwards");
        self.durable = upto.0;
        while let Some(&(seq, token)) = self.awaiting_durable.front() {
            if seq > upto.0 {
                break;
            }
            self.awaiting_durable.pop_front();
            self.reply(
                token,
                Rep::Stored {
                    shard: self.shard,
                    seq: LogSeq(seq),
                },
            );
        }
    }

    fn handle_timer(&mut self, now: Millis) {
        while let Some((&(due, token), ())) = self.timers.first_key_value() {
            if due > now {
                break;
            }
            self.timers.pop_first();
            self.reply(token, Rep::Fired { due, now });
        }
    }

    fn poll_output(&mut self) -> Option<Output<KvCore>> {
        self.out.pop_front()
    }

    fn next_timer(&self) -> Option<Millis> {
        self.timers.first_key_value().map(|(&(due, _), ())| due)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `body` on its own thread and fails the test if it takes more than 30 s.
pub(crate) fn bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(value) => {
            handle.join().expect("test thread");
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("test did not finish within 30 s (hang?)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sent nothing but returned"),
        },
    }
}

pub(crate) fn config(shards: usize) -> RuntimeConfig {
    RuntimeConfig {
        pin: false,
        io_memory: Some(256 << 10),
        ..RuntimeConfig::with_shards(shards)
    }
}

pub(crate) fn start(shards: usize) -> Runtime<KvCore> {
    Runtime::start(config(shards), KvCore::new).expect("runtime starts")
}

pub(crate) fn stats(runtime: &Runtime<KvCore>, shard: usize) -> ShardStats {
    runtime
        .spawn_on(
            shard,
            |local: LocalShard<KvCore>| async move { local.stats() },
        )
        .expect("spawn")
        .wait()
        .expect("stats")
}

/// A sink whose commits take `delay` (on the executor's timer) or fail while `fail` is set.
#[derive(Clone)]
pub(crate) struct TestLog {
    pub memory: MemoryLog,
    pub delay: Duration,
    pub fail: Arc<AtomicBool>,
}

impl TestLog {
    pub(crate) fn new(delay: Duration) -> TestLog {
        TestLog {
            memory: MemoryLog::new(),
            delay,
            fail: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl LogSink for TestLog {
    fn append(&self, record: Vec<u8>) -> LogSeq {
        self.memory.append(record)
    }

    fn commit(&self) -> CommitFuture {
        if self.fail.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err("disk on fire".into())));
        }
        let commit = self.memory.commit();
        let delay = self.delay;
        Box::pin(async move {
            if !delay.is_zero() {
                glommio::timer::sleep(delay).await;
            }
            commit.await
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------
