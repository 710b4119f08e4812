//! The contract between a sans-IO shard and the runtime that drives it.
//!
//! A [`Core`] owns one shard's state. The runtime (real executors, or the simulation harness
//! with a virtual clock) feeds it inputs with the current time and drains its outputs:
//!
//! ```text
//!   handle_request / handle_mesh / handle_durable / handle_log_failed / handle_timer (now)
//!        |
//!        v
//!   poll_output() -> Reply        answer a client request (by its token)
//!                 -> ToShard      a batch-able message for another shard
//!                 -> Append       a log record; durable() is reported back later
//!                 -> Wake         a session has something queued (CIR / long poll)
//!   next_timer() -> when to call handle_timer next
//! ```
//!
//! Nothing here reads a clock, blocks or does I/O.

/// Milliseconds on the runtime's monotonic clock (virtual in the simulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + ms`, saturating.
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (0 when `earlier` is later).
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Identifies one client request until its reply; chosen by the runtime, echoed by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

/// Position of a record in a shard's log (1 = the first record ever appended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogSeq(pub u64);

/// One output of a core.
#[derive(Debug)]
pub enum Output<C: Core + ?Sized> {
    /// The reply to the request with this token.
    Reply {
        /// The request's token.
        token: Token,
        /// The reply.
        reply: C::Reply,
    },
    /// A message for another shard.
    ToShard {
        /// Destination shard index.
        shard: usize,
        /// The message.
        msg: C::Mesh,
    },
    /// A record to append to this shard's log, in order. The core numbers records itself
    /// (`LogSeq`, consecutive from the value given at construction) and is told with
    /// [`Core::handle_durable`] when they are on disk.
    Append(Vec<u8>),
    /// A session has server-originated transactions waiting (wake its CIR channel).
    Wake(C::Wake),
}

/// A sans-IO shard as the runtime sees it.
pub trait Core: 'static {
    /// A client request routed to this shard.
    type Request: Send + 'static;
    /// The answer to one request.
    type Reply: Send + 'static;
    /// A shard-to-shard message.
    type Mesh: Send + 'static;
    /// What a wake-up names (a session).
    type Wake: Send + 'static;

    /// Takes a client request.
    fn handle_request(&mut self, now: Millis, token: Token, request: Self::Request);
    /// Takes a message from shard `from`.
    fn handle_mesh(&mut self, now: Millis, from: usize, msg: Self::Mesh);
    /// Every record up to and including `upto` is durable.
    fn handle_durable(&mut self, now: Millis, upto: LogSeq);
    /// The log could not make the records from `from` on durable, and never will (a write or
    /// sync failed: a full disk, an I/O error). The core must answer every request still
    /// waiting for one of those records with an error (never as a success), and expect to
    /// be replaced: the runtime stops feeding it requests and rebuilds the shard from its
    /// durable state (recovery), since its in-memory state may hold changes that are not
    /// on disk. The default does nothing, which is right only for a core that never holds
    /// an answer back for durability.
    fn handle_log_failed(&mut self, now: Millis, from: LogSeq) {
        let _ = (now, from);
    }
    /// The time given by [`Core::next_timer`] has come (or passed).
    fn handle_timer(&mut self, now: Millis);
    /// The next output, if any.
    fn poll_output(&mut self) -> Option<Output<Self>>;
    /// When [`Core::handle_timer`] should next be called.
    fn next_timer(&self) -> Option<Millis>;
}
