//! The CIR hub of one executor (`Rc`, not `Send`): the registry of the STCP connections
//! accepted on this executor, the UDP socket of the standalone-UDP channel, and the
//! delivery of wakes. Its I/O is the UDP `send_to` and the per-connection `WVCI` queues
//! (bounded, one line: the connection's own task writes it, so a slow socket never blocks
//! the hub; a full queue means a wake is already pending there and a new one is dropped).
//!
//! Wakes reach every hub through [`wake_broadcast`] and [`run_wake_inbox`]; see the
//! ownership rule in [`crate::cir`]: every hub serves its own STCP connection, only the
//! owner hub ([`CirHub::owns`]) sends the SUDP datagram and records the SHTTP flag.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use glommio::net::UdpSocket;
use hashbrown::HashMap;

use super::shared::{CirShared, ConnId};
use super::{CirConfig, CirError, CirStats, Delivery};
use crate::access::cir::CirWake;
use crate::access::session_id::parse_session_id;

/// One executor's CIR state. Create it on its executor with [`CirHub::new`].
pub struct CirHub {
    index: usize,
    shared: CirShared,
    conns: RefCell<HashMap<String, LocalConn>>,
    next_seq: Cell<u64>,
    udp_v4: UdpSocket,
    udp_v6: Option<UdpSocket>,
    stats: Cell<CirStats>,
}

/// A registered STCP connection: its number and its `WVCI` queue (dropping the sender
/// makes the connection close).
struct LocalConn {
    seq: u64,
    wvci: flume::Sender<String>,
}

impl std::fmt::Debug for CirHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CirHub")
            .field("index", &self.index)
            .field("connections", &self.conns.borrow().len())
            .field("stats", &self.stats.get())
            .finish_non_exhaustive()
    }
}

impl CirHub {
    /// The hub of executor `index`, which must be the shard that executor owns (it decides
    /// which wakes this hub owns). Binds the UDP socket(s) of [`CirConfig`]; must run on a
    /// glommio executor. Every hub of a process shares the same `shared`.
    pub fn new(index: usize, config: &CirConfig, shared: CirShared) -> Result<Rc<Self>, CirError> {
        let bind = |addr: SocketAddr| {
            UdpSocket::bind(addr).map_err(|e| CirError::BindUdp {
                addr,
                source: e.into(),
            })
        };
        let udp_v4 = bind(config.udp_source)?;
        let udp_v6 = config.udp_source_v6.map(bind).transpose()?;
        Ok(Rc::new(Self {
            index,
            shared,
            conns: RefCell::new(HashMap::new()),
            next_seq: Cell::new(0),
            udp_v4,
            udp_v6,
            stats: Cell::new(CirStats::default()),
        }))
    }

    /// The executor (shard) index given to [`CirHub::new`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The state shared with the other hubs.
    pub fn shared(&self) -> &CirShared {
        &self.shared
    }

    /// The local address of the IPv4 SUDP socket.
    pub fn udp_local_addr(&self) -> Option<SocketAddr> {
        self.udp_v4.local_addr().ok()
    }

    /// This hub owns wakes of the session: the shard in the SessionID is this hub's index
    /// (hub 0 owns SessionIDs that do not parse). Only the owner sends SUDP and records
    /// SHTTP.
    pub fn owns(&self, session_id: &str) -> bool {
        match parse_session_id(session_id) {
            Some((shard, _)) => shard == self.index,
            None => self.index == 0,
        }
    }

    /// The counters of this hub.
    pub fn stats(&self) -> CirStats {
        self.stats.get()
    }

    /// The session has an STCP channel, on any executor (for the CIR flag of CSP 1.2+
    /// responses: set it when a client that agreed to STCP has none).
    pub fn has_tcp(&self, session_id: &str) -> bool {
        self.shared.has_tcp(session_id)
    }

    /// The session's STCP channel is a connection accepted on this executor.
    pub fn has_local_tcp(&self, session_id: &str) -> bool {
        self.conns.borrow().contains_key(session_id)
    }

    /// Takes the session's pending SHTTP wake-up (its `WVCI` line), once; works on any
    /// executor's hub.
    pub fn take_http_pending(&self, session_id: &str) -> Option<String> {
        self.shared.take_http_pending(session_id)
    }

    /// Delivers one wake on the channels the client agreed: the `WVCI` line is queued on
    /// the session's STCP connection if it is on this executor and still the session's
    /// channel (`wake.tcp`); when this hub [owns](CirHub::owns) the session, the SUDP
    /// datagram is sent (`wake.udp`) and the SHTTP flag recorded (`wake.http`).
    pub async fn deliver(&self, wake: &CirWake) -> Delivery {
        let mut done = Delivery::default();
        let line = wake.wvci();
        if wake.tcp {
            done.tcp = self.queue_tcp(&wake.session_id, &line);
        }
        if !self.owns(&wake.session_id) {
            return done;
        }
        if let Some(addr) = wake.udp {
            let socket = if addr.is_ipv4() {
                Some(&self.udp_v4)
            } else {
                self.udp_v6.as_ref()
            };
            let sent = match socket {
                Some(socket) => socket.send_to(line.as_bytes(), addr).await.is_ok(),
                None => false,
            };
            self.bump(|s| {
                if sent {
                    s.udp_sent += 1;
                } else {
                    s.udp_errors += 1;
                }
            });
            done.udp = sent;
        }
        if wake.http {
            let evicted = self.shared.set_http_pending(&wake.session_id, line);
            self.bump(|s| {
                s.http_pending += 1;
                s.http_evicted += u64::from(evicted);
            });
            done.http = true;
        }
        done
    }

    fn queue_tcp(&self, session_id: &str, line: &str) -> bool {
        let mut conns = self.conns.borrow_mut();
        let Some(conn) = conns.get(session_id) else {
            return false;
        };
        let id = ConnId {
            hub: self.index,
            seq: conn.seq,
        };
        if self.shared.tcp_channel(session_id) != Some(id) {
            // A newer HELO on another executor replaced it: close it.
            conns.remove(session_id);
            self.bump(|s| s.replaced += 1);
            return false;
        }
        match conn.wvci.try_send(format!("{line}\r\n")) {
            Ok(()) => {
                self.bump(|s| s.wvci_tcp_queued += 1);
                true
            }
            Err(flume::TrySendError::Full(_)) => {
                self.bump(|s| s.wvci_tcp_coalesced += 1);
                true
            }
            Err(flume::TrySendError::Disconnected(_)) => {
                conns.remove(session_id);
                false
            }
        }
    }

    pub(crate) fn bump(&self, f: impl FnOnce(&mut CirStats)) {
        let mut stats = self.stats.get();
        f(&mut stats);
        self.stats.set(stats);
    }

    /// A connection was accepted: its number.
    pub(crate) fn open_connection(&self) -> u64 {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        self.bump(|s| {
            s.stcp_accepted += 1;
            s.stcp_open += 1;
        });
        seq
    }

    /// A connection is gone.
    pub(crate) fn close_connection(&self) {
        self.bump(|s| s.stcp_open = s.stcp_open.saturating_sub(1));
    }

    /// Connections open on this executor.
    pub(crate) fn open_connections(&self) -> u64 {
        self.stats.get().stcp_open
    }

    /// Makes connection `seq` the session's STCP channel (replacing any other, here or on
    /// another executor); returns the receiving end of its `WVCI` queue.
    pub(crate) fn bind(&self, session_id: &str, seq: u64) -> flume::Receiver<String> {
        let (tx, rx) = flume::bounded(1);
        let id = ConnId {
            hub: self.index,
            seq,
        };
        self.shared.bind_tcp(session_id, id);
        let old = self
            .conns
            .borrow_mut()
            .insert(session_id.to_owned(), LocalConn { seq, wvci: tx });
        self.bump(|s| {
            s.helo_ok += 1;
            s.replaced += u64::from(old.as_ref().is_some_and(|old| old.seq != seq));
        });
        // Dropping the old queue closes the replaced connection.
        drop(old);
        rx
    }

    /// Connection `seq` no longer serves the session (unless it was replaced already).
    pub(crate) fn unbind(&self, session_id: &str, seq: u64) {
        let mut conns = self.conns.borrow_mut();
        if conns.get(session_id).is_some_and(|c| c.seq == seq) {
            conns.remove(session_id);
        }
        self.shared.unbind_tcp(
            session_id,
            ConnId {
                hub: self.index,
                seq,
            },
        );
    }
}

/// Delivers every wake received on `rx` through `hub`, until every sender is gone. Spawn
/// one per executor on the receiver [`wake_broadcast`] made for it.
pub async fn run_wake_inbox(hub: Rc<CirHub>, rx: flume::Receiver<CirWake>) {
    while let Ok(wake) = rx.recv_async().await {
        hub.deliver(&wake).await;
    }
}

/// The sending side of the wake broadcast: `Clone + Send + Sync`, for the shards' wake
/// handlers.
#[derive(Debug, Clone)]
pub struct WakeBroadcast {
    inboxes: Arc<[flume::Sender<CirWake>]>,
}

/// What [`WakeBroadcast::send`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Broadcast {
    /// Inboxes the wake was queued on.
    pub queued: usize,
    /// Inboxes that were full or gone (the wake is lost there).
    pub dropped: usize,
}

/// One bounded inbox of `capacity` wakes per hub (receiver `i` is for hub `i`) and the
/// broadcast that feeds them.
pub fn wake_broadcast(
    hubs: usize,
    capacity: usize,
) -> (WakeBroadcast, Vec<flume::Receiver<CirWake>>) {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..hubs).map(|_| flume::bounded(capacity)).unzip();
    (
        WakeBroadcast {
            inboxes: senders.into(),
        },
        receivers,
    )
}

impl WakeBroadcast {
    /// Number of hubs.
    pub fn hubs(&self) -> usize {
        self.inboxes.len()
    }

    /// Queues `wake` for every hub when the client agreed to STCP (its connection may be on
    /// any executor), otherwise for its owner hub only. Never blocks: a full inbox drops.
    pub fn send(&self, wake: CirWake) -> Broadcast {
        let mut outcome = Broadcast::default();
        let mut count = |sent: bool| {
            if sent {
                outcome.queued += 1;
            } else {
                outcome.dropped += 1;
            }
        };
        if wake.tcp {
            if let Some((last, rest)) = self.inboxes.split_last() {
                for inbox in rest {
                    count(inbox.try_send(wake.clone()).is_ok());
                }
                count(last.try_send(wake).is_ok());
            }
        } else {
            let owner = parse_session_id(&wake.session_id).map_or(0, |(shard, _)| shard);
            match self.inboxes.get(owner) {
                Some(inbox) => count(inbox.try_send(wake).is_ok()),
                None => count(false),
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::Version;

    fn wake(session: &str, tcp: bool) -> CirWake {
        CirWake {
            session_id: session.into(),
            version: Version::V1_2,
            cookie: "c".into(),
            udp: None,
            tcp,
            http: true,
        }
    }

    fn on_executor(
        f: impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send + 'static,
    ) {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    const S0: &str = "0-00000000000000000000000000000001";
    const S1: &str = "1-00000000000000000000000000000001";

    #[test]
    fn broadcast_targets() {
        let (tx, rx) = wake_broadcast(2, 1);
        assert_eq!(tx.hubs(), 2);
        assert_eq!(
            tx.send(wake(S1, true)),
            Broadcast {
                queued: 2,
                dropped: 0
            }
        );
        assert_eq!(
            tx.send(wake(S1, true)),
            Broadcast {
                queued: 0,
                dropped: 2
            }
        );
        rx[0].try_recv().unwrap();
        rx[1].try_recv().unwrap();
        assert_eq!(
            tx.send(wake(S1, false)),
            Broadcast {
                queued: 1,
                dropped: 0
            }
        );
        assert!(rx[0].is_empty());
        assert_eq!(&*rx[1].try_recv().unwrap().session_id, S1);
        assert_eq!(
            tx.send(wake("junk", false)),
            Broadcast {
                queued: 1,
                dropped: 0
            }
        );
        assert_eq!(&*rx[0].try_recv().unwrap().session_id, "junk");
        assert_eq!(
            tx.send(wake("7-00000000000000000000000000000001", false)),
            Broadcast {
                queued: 0,
                dropped: 1
            }
        );
    }

    #[test]
    fn registry_replacement_and_ownership() {
        on_executor(|| {
            Box::pin(async {
                let shared = CirShared::default();
                let hub0 = CirHub::new(0, &CirConfig::default(), shared.clone()).unwrap();
                let hub1 = CirHub::new(1, &CirConfig::default(), shared.clone()).unwrap();
                assert!(hub0.owns(S0) && !hub1.owns(S0));
                assert!(hub1.owns(S1) && !hub0.owns(S1));
                assert!(hub0.owns("junk") && !hub1.owns("junk"));

                // Two connections on hub 0: the second HELO replaces the first.
                let a = hub0.open_connection();
                let b = hub0.open_connection();
                let rx_a = hub0.bind(S1, a);
                let rx_b = hub0.bind(S1, b);
                assert!(rx_a.recv_async().await.is_err(), "replaced queue is closed");
                assert!(hub0.has_tcp(S1) && hub1.has_tcp(S1));
                let d = hub0.deliver(&wake(S1, true)).await;
                assert_eq!(
                    d,
                    Delivery {
                        tcp: true,
                        udp: false,
                        http: false
                    }
                );
                // Still pending: the next one is coalesced.
                assert!(hub0.deliver(&wake(S1, true)).await.tcp);
                assert_eq!(rx_b.try_recv().unwrap(), "WVCI 1.2 c\r\n");
                assert!(rx_b.try_recv().is_err());
                hub0.unbind(S1, a); // late close of the replaced one: no effect
                assert!(hub0.has_local_tcp(S1));

                // A HELO on hub 1 replaces it across executors; hub 0 drops its own.
                let c = hub1.open_connection();
                let rx_c = hub1.bind(S1, c);
                let d = hub0.deliver(&wake(S1, true)).await;
                assert_eq!(d, Delivery::default());
                assert!(rx_b.recv_async().await.is_err());
                let d = hub1.deliver(&wake(S1, true)).await;
                assert_eq!(
                    d,
                    Delivery {
                        tcp: true,
                        udp: false,
                        http: true
                    }
                );
                assert_eq!(rx_c.try_recv().unwrap(), "WVCI 1.2 c\r\n");
                assert_eq!(shared.take_http_pending(S1).as_deref(), Some("WVCI 1.2 c"));
                hub1.unbind(S1, c);
                assert!(!hub1.has_tcp(S1));

                let s0 = hub0.stats();
                assert_eq!((s0.stcp_accepted, s0.helo_ok, s0.replaced), (2, 2, 2));
                assert_eq!((s0.wvci_tcp_queued, s0.wvci_tcp_coalesced), (1, 1));
                assert_eq!(hub1.stats().http_pending, 1);
                // `wake.tcp` false: the connection is not used.
                let d = hub0.open_connection();
                let _rx_d = hub0.bind(S0, d);
                assert!(!hub0.deliver(&wake(S0, false)).await.tcp);
            })
        });
    }
}
