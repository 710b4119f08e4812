//! A shard whose log failed for good ([`LogSink::is_failed`] after a failed commit: a full
//! disk, an I/O error): the records of that commit (and every later one) will never be
//! durable.
//!
//! ```text
//!   commit Err, sink failed --> core.handle_log_failed(first non-durable seq)
//!                               (the core answers the requests waiting for them with errors)
//!                           --> requests refused: callers get RuntimeError::Shutdown (503)
//!                           --> reopen task: factory(index) with backoff 0.1 s .. 5 s
//!                               (recovery from what is durable + a new log)
//!   factory Ok              --> core and log swapped, requests accepted again
//! ```
//!
//! No in-memory change that did not reach the log survives the swap: the old core (whose
//! state may hold them) is dropped, unseen since the failure.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::Shard;
use crate::core::{Core, LogSeq};
use crate::runtime::log::{LogError, LogSink};

/// The future of the shard factory: a core and its log sink.
pub(super) type Made<C> = Pin<Box<dyn Future<Output = Result<(C, Box<dyn LogSink>), LogError>>>>;
/// The shard factory, kept to rebuild the shard after a log failure.
pub(super) type Remake<C> = Rc<dyn Fn(usize) -> Made<C>>;

/// First and longest wait between attempts to rebuild a shard whose log failed.
const REOPEN_FIRST: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(5);

impl<C: Core> Shard<C> {
    /// A commit failed and the sink is failed for good: tells the core, stops taking
    /// requests and starts rebuilding the shard.
    pub(super) fn failed_for_good(&mut self, error: &LogError) {
        self.stats.commit_errors += 1;
        let from = LogSeq(self.stats.durable.0 + 1);
        eprintln!(
            "imps-engine runtime: shard {}: log commit failed: {error}; records from seq {} are \
             not durable: their requests are answered with errors, new requests are refused, \
             and the shard is rebuilt from its log",
            self.index, from.0
        );
        self.log_failed = true;
        let now = self.clock.now();
        self.core.handle_log_failed(now, from);
        self.tasks.spawn(reopen(self.this.clone()));
    }

    /// Swaps in a core recovered from the durable log, and its new log.
    fn replace(&mut self, core: C, log: Box<dyn LogSink>) {
        self.core = core;
        self.log = log;
        self.log_failed = false;
        self.log_dirty = false;
        self.committing = false;
        // Requests the old core never answered: their callers get an error.
        self.pending.clear();
        self.timer_armed = None;
        self.stats.reopens += 1;
        eprintln!(
            "imps-engine runtime: shard {}: rebuilt from its durable log; serving again",
            self.index
        );
        self.drain();
        self.timer_notify.notify();
    }
}

/// Rebuilds a shard whose log failed: calls the factory (recovery from disk and a new log)
/// until it succeeds, waiting longer after each failure, then swaps the result in.
async fn reopen<C: Core>(this: Weak<RefCell<Shard<C>>>) {
    let mut wait = REOPEN_FIRST;
    loop {
        glommio::timer::sleep(wait).await;
        let (index, remake) = {
            let Some(shard) = this.upgrade() else { return };
            let shard = shard.borrow();
            if shard.closed {
                return;
            }
            (shard.index, shard.remake.clone())
        };
        match remake(index).await {
            Ok((core, log)) => {
                if let Some(shard) = this.upgrade() {
                    shard.borrow_mut().replace(core, log);
                }
                return;
            }
            Err(error) => {
                wait = (wait * 2).min(REOPEN_MAX);
                eprintln!(
                    "imps-engine runtime: shard {index}: could not rebuild after a log failure: \
                     {error}; retrying in {} ms",
                    wait.as_millis()
                );
            }
        }
    }
}
