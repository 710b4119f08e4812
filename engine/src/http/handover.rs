//! Moving a connection to another executor: when a connection's requests keep being served
//! by another executor (the service says where with [`HttpService::call_homed`]), its socket
//! is handed over to that executor's listener once, so that its later requests are served
//! there in place instead of crossing executors each time.
//!
//! A connection moves only between two requests (nothing of the next one read, no response
//! pending), so nothing but the socket travels and pipelined requests keep their order.
//! It moves after [`FIRST_STREAK`] requests in a row went to the same other executor; each
//! move doubles the streak needed for the next one and a connection moves at most
//! [`MAX_MOVES`] times, so one whose requests change executors often stays where it is. A
//! connection does not move to a listener at its connection cap, nor while stopping, nor
//! when the move would leave the destination with more than [`BALANCE_SLACK`] connections
//! above this executor: the executors keep similar shares of the connections (an executor
//! left with few connections spends more per request, waking up for each), and where the
//! sessions are unevenly spread over the shards some connections keep crossing instead.
//!
//! [`HttpService::call_homed`]: super::HttpService::call_homed

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use glommio::net::TcpStream;

/// Requests in a row served by the same other executor before a connection first moves.
pub const FIRST_STREAK: u32 = 4;

/// Most times one connection moves.
pub const MAX_MOVES: u32 = 6;

/// How many more open connections than this executor the destination may have after a move.
pub const BALANCE_SLACK: usize = 4;

/// Whether a connection may move from an executor with `here` open connections (itself
/// included) to one with `to`, whose listener takes at most `max_open`.
pub(crate) fn room_for_one(here: usize, to: usize, max_open: usize) -> bool {
    to < max_open && to < here.saturating_sub(1) + BALANCE_SLACK
}

/// Connections that may wait in one executor's hand-over channel.
const CHANNEL_CAPACITY: usize = 1024;

/// A connection on its way to another executor, between two requests.
pub(crate) struct MovedConnection {
    pub(crate) socket: socket2::Socket,
    pub(crate) peer: SocketAddr,
    /// Times it moved, this move included.
    pub(crate) moves: u32,
}

/// One executor's end of the hand-over links of one listening address: the way to the
/// listeners of the other executors and the way in from them. Build all of them with
/// [`handover_ports`] and give port `i` to executor `i`'s [`Listener`] with
/// [`Listener::with_handover`]; executor `i` is then what [`HttpService::call_homed`] names
/// with `Some(i)`.
///
/// [`Listener`]: super::Listener
/// [`Listener::with_handover`]: super::Listener::with_handover
/// [`HttpService::call_homed`]: super::HttpService::call_homed
#[derive(Debug)]
pub struct HandoverPort {
    pub(crate) links: HandoverLinks,
    pub(crate) inbox: flume::Receiver<MovedConnection>,
}

impl HandoverPort {
    /// The executor this port belongs to.
    pub fn index(&self) -> usize {
        self.links.here
    }
}

/// The ports of `executors` executors for one listening address, index `i` for executor `i`.
pub fn handover_ports(executors: usize) -> Vec<HandoverPort> {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..executors)
        .map(|_| flume::bounded(CHANNEL_CAPACITY))
        .unzip();
    let open: Arc<[AtomicUsize]> = (0..executors).map(|_| AtomicUsize::new(0)).collect();
    receivers
        .into_iter()
        .enumerate()
        .map(|(here, inbox)| HandoverPort {
            links: HandoverLinks {
                here,
                to: senders.clone(),
                open: Arc::clone(&open),
                max_open: usize::MAX,
            },
            inbox,
        })
        .collect()
}

/// The way from one executor's connections to the other executors' listeners.
#[derive(Debug, Clone)]
pub(crate) struct HandoverLinks {
    here: usize,
    to: Vec<flume::Sender<MovedConnection>>,
    /// Open connections of every executor's listener (for the connection cap).
    open: Arc<[AtomicUsize]>,
    /// The connection cap of the listeners.
    max_open: usize,
}

impl std::fmt::Debug for MovedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MovedConnection")
            .field("peer", &self.peer)
            .field("moves", &self.moves)
            .finish_non_exhaustive()
    }
}

impl HandoverLinks {
    pub(crate) fn here(&self) -> usize {
        self.here
    }

    pub(crate) fn set_max_open(&mut self, max_open: usize) {
        self.max_open = max_open;
    }

    /// Publishes this executor's number of open connections.
    pub(crate) fn set_open(&self, open: usize) {
        if let Some(slot) = self.open.get(self.here) {
            slot.store(open, Ordering::Relaxed);
        }
    }

    /// Sends `stream` to executor `to`'s listener. On success the caller drops its stream
    /// (the socket lives on in the copy sent); on failure (no such executor, its listener at
    /// its cap or gone, the channel full, no descriptor left) nothing changed.
    pub(crate) fn send(
        &self,
        to: usize,
        stream: &TcpStream,
        peer: SocketAddr,
        moves: u32,
    ) -> Result<(), HandoverRefused> {
        if to == self.here {
            return Err(HandoverRefused);
        }
        let (Some(sender), Some(open_to), Some(open_here)) =
            (self.to.get(to), self.open.get(to), self.open.get(self.here))
        else {
            return Err(HandoverRefused);
        };
        let (here_open, to_open) = (
            open_here.load(Ordering::Relaxed),
            open_to.load(Ordering::Relaxed),
        );
        if !room_for_one(here_open, to_open, self.max_open) || sender.is_full() {
            return Err(HandoverRefused);
        }
        let socket = socket2::SockRef::from(stream)
            .try_clone()
            .map_err(|_| HandoverRefused)?;
        sender
            .try_send(MovedConnection {
                socket,
                peer,
                moves,
            })
            .map_err(|_| HandoverRefused)
    }
}

/// A connection could not move (it stays where it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandoverRefused;

/// Where a connection's recent requests were served: tells when it should move.
#[derive(Debug, Clone)]
pub(crate) struct Homes {
    here: usize,
    moves: u32,
    candidate: Option<usize>,
    streak: u32,
    needed: u32,
}

impl Homes {
    /// A connection on executor `here` that has moved `moves` times.
    pub(crate) fn new(here: usize, moves: u32) -> Homes {
        Homes {
            here,
            moves,
            candidate: None,
            streak: 0,
            needed: FIRST_STREAK.saturating_mul(1 << moves.min(16)),
        }
    }

    /// Notes where the last request was served (`None`: nowhere in particular).
    pub(crate) fn observe(&mut self, home: Option<usize>) {
        match home {
            Some(home) if home != self.here => {
                if self.candidate == Some(home) {
                    self.streak = self.streak.saturating_add(1);
                } else {
                    self.candidate = Some(home);
                    self.streak = 1;
                }
            }
            _ => {
                self.candidate = None;
                self.streak = 0;
            }
        }
    }

    /// The executor to move to now, if any.
    pub(crate) fn due(&self) -> Option<usize> {
        if self.moves >= MAX_MOVES || self.streak < self.needed {
            return None;
        }
        self.candidate
    }

    /// The number a move now would give the connection.
    pub(crate) fn next_move(&self) -> u32 {
        self.moves + 1
    }

    /// A move was refused: try again after another full streak.
    pub(crate) fn refused(&mut self) {
        self.streak = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_after_a_streak_to_one_other_executor() {
        let mut homes = Homes::new(0, 0);
        for _ in 0..FIRST_STREAK - 1 {
            homes.observe(Some(1));
            assert_eq!(homes.due(), None);
        }
        homes.observe(Some(1));
        assert_eq!(homes.due(), Some(1));
        assert_eq!(homes.next_move(), 1);
    }

    #[test]
    fn requests_served_here_or_elsewhere_reset_the_streak() {
        let mut homes = Homes::new(0, 0);
        for round in 0..10 {
            homes.observe(Some(1));
            homes.observe(Some(1));
            homes.observe(Some(if round % 2 == 0 { 0 } else { 2 }));
            homes.observe(None);
            assert_eq!(homes.due(), None);
        }
    }

    #[test]
    fn each_move_doubles_the_streak_and_moves_are_capped() {
        let mut homes = Homes::new(1, 2);
        for _ in 0..FIRST_STREAK * 4 - 1 {
            homes.observe(Some(0));
        }
        assert_eq!(homes.due(), None);
        homes.observe(Some(0));
        assert_eq!(homes.due(), Some(0));
        homes.refused();
        assert_eq!(homes.due(), None);

        let mut tired = Homes::new(1, MAX_MOVES);
        for _ in 0..10_000 {
            tired.observe(Some(0));
        }
        assert_eq!(tired.due(), None);
    }

    #[test]
    fn moves_keep_the_executors_balanced_and_under_their_cap() {
        assert!(room_for_one(1, 0, 10));
        assert!(room_for_one(32, 32, 100));
        assert!(room_for_one(30, 32, 100));
        assert!(!room_for_one(29, 32, 100));
        assert!(!room_for_one(40, 10, 10));
        assert!(!room_for_one(0, 4, 100));
    }

    #[test]
    fn ports_link_every_executor_to_every_other() {
        let ports = handover_ports(3);
        assert_eq!(ports.len(), 3);
        for (i, port) in ports.iter().enumerate() {
            assert_eq!(port.index(), i);
            assert_eq!(port.links.to.len(), 3);
        }
    }
}
