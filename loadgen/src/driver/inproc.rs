//! The in-process driver: messages go to the engine's shards through [`EngineClient`]
//! without HTTP or XML, batched per shard (one channel crossing per shard per scheduler
//! turn), for the engine's own capacity.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use imps_engine::runtime::Pending;
use imps_engine::server::EngineClient;
use imps_engine::shard::{Reply, Request};
use imps_protocol::Message;

use super::{DriverError, Transport};
use crate::client::Answer;

/// Requests batched per shard and the batches waiting for their replies.
#[derive(Debug)]
pub struct InProcess {
    engine: EngineClient,
    queued: Vec<(Vec<u32>, Vec<Request>)>,
    waiting: VecDeque<(Vec<u32>, Pending<Vec<Reply>>)>,
    in_flight: usize,
}

impl InProcess {
    /// A driver submitting to `engine`.
    pub fn new(engine: EngineClient) -> Self {
        let shards = engine.runtime().shards();
        Self {
            engine,
            queued: (0..shards).map(|_| (Vec::new(), Vec::new())).collect(),
            waiting: VecDeque::new(),
            in_flight: 0,
        }
    }

    fn flush(&mut self) -> Result<(), DriverError> {
        for (shard, (clients, requests)) in self.queued.iter_mut().enumerate() {
            if requests.is_empty() {
                continue;
            }
            let pending = self
                .engine
                .runtime()
                .submit_batch(shard, std::mem::take(requests))
                .map_err(|e| DriverError::Engine(e.to_string()))?;
            self.waiting.push_back((std::mem::take(clients), pending));
        }
        Ok(())
    }

    fn collect(&mut self, out: &mut Vec<(u32, Answer)>) -> bool {
        let mut got = false;
        let mut i = 0;
        while i < self.waiting.len() {
            let Some(replies) = self.waiting[i].1.try_take() else {
                i += 1;
                continue;
            };
            got = true;
            let Some((clients, _)) = self.waiting.remove(i) else {
                break;
            };
            self.in_flight -= clients.len();
            let mut replies = replies.into_iter();
            for client in clients {
                let answer = match replies.next() {
                    Some(Reply::Csp(m)) => Answer::Csp(m),
                    _ => Answer::Transport,
                };
                out.push((client, answer));
            }
        }
        got
    }
}

impl Transport for InProcess {
    fn send(&mut self, client: u32, message: Message) {
        let request = Request::csp(message);
        let shard = self.engine.shard_of(&request);
        if let Some((clients, requests)) = self.queued.get_mut(shard) {
            clients.push(client);
            requests.push(request);
            self.in_flight += 1;
        }
    }

    fn poll(&mut self, timeout: Duration, out: &mut Vec<(u32, Answer)>) -> Result<(), DriverError> {
        self.flush()?;
        let deadline = Instant::now() + timeout;
        while !self.collect(out) && !self.waiting.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(50));
        }
        if self.waiting.is_empty() && !timeout.is_zero() && out.is_empty() {
            std::thread::sleep(timeout.min(Duration::from_millis(1)));
        }
        Ok(())
    }

    fn in_flight(&self) -> usize {
        self.in_flight
    }
}
