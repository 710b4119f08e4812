//! Startup handshake of one shard: [`ReadyGuard`] tells the starting thread whether the
//! shard came up, even when its executor panics or stops first. No I/O.

/// Tells [`Runtime::start`](super::Runtime) whether a shard came up; reports a failure if
/// dropped before [`ReadyGuard::ready`] (a panic, or the executor could not be built).
pub(crate) struct ReadyGuard {
    index: usize,
    tx: Option<flume::Sender<(usize, Result<(), String>)>>,
}

impl ReadyGuard {
    pub(crate) fn new(index: usize, tx: flume::Sender<(usize, Result<(), String>)>) -> Self {
        ReadyGuard {
            index,
            tx: Some(tx),
        }
    }

    pub(super) fn ready(mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send((self.index, Ok(())));
        }
    }

    pub(super) fn fail(mut self, message: String) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send((self.index, Err(message)));
        }
    }
}

impl Drop for ReadyGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let message = if std::thread::panicking() {
                "panicked during startup".to_owned()
            } else {
                "stopped during startup".to_owned()
            };
            let _ = tx.send((self.index, Err(message)));
        }
    }
}
