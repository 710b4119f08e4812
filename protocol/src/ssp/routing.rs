//! The relay tables of SSP.md §1: the Transaction Table that ties each relayed request to
//! exactly one outgoing one, so the answer retraces the path, and the Service Table that says
//! where a domain's requests go (directly, or via another domain).
//!
//! Loop prevention (our extension, SSP.md §7 leaves it open): every relayed `Transaction`
//! carries `relayPath`, the domains that already sent it, oldest first. A domain refuses a
//! request whose path holds itself or the next hop, and configured routes are checked for
//! cycles when resolved.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::status::StatusCode;

/// Why a request cannot be relayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The request already passed through this domain, or would go back to one it came from.
    #[error("relay loop: {domain} is already on the path {path:?}")]
    Loop {
        /// The repeated domain.
        domain: String,
        /// The path so far.
        path: Vec<String>,
    },
    /// The configured routes for a domain go round in a circle.
    #[error("route for {domain} loops through {cycle:?}")]
    RouteCycle {
        /// The destination.
        domain: String,
        /// The domains visited.
        cycle: Vec<String>,
    },
    /// No route for the domain.
    #[error("no route to {0}")]
    NoRoute(String),
    /// The Transaction Table is full.
    #[error("transaction table full ({0} entries)")]
    Full(usize),
    /// The incoming transaction is already being relayed.
    #[error("transaction {tid} from {peer} is already relayed")]
    Duplicate {
        /// Incoming peer.
        peer: String,
        /// Incoming transaction id.
        tid: String,
    },
}

impl RouteError {
    /// The status to answer the incoming request with: 516 (domain not supported) for loops
    /// and missing routes, 507 (queue full) for a full table, 420 for a duplicate.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Loop { .. } | Self::RouteCycle { .. } | Self::NoRoute(_) => {
                StatusCode::DomainNotSupported
            }
            Self::Full(_) => StatusCode::MessageQueueFull,
            Self::Duplicate { .. } => StatusCode::InvalidTransaction,
        }
    }
}

/// Where requests for a domain go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A direct SSP peer.
    Direct,
    /// Via another domain (a Service Relay), itself reached by its own route.
    Via(String),
}

/// A resolved route: the peer to send to and the relays the request will pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The direct peer to send to.
    pub peer: String,
    /// The domains between us and the destination, nearest first (the last is the peer for a
    /// direct route).
    pub hops: Vec<String>,
}

/// The Service Table: destination domain → route.
#[derive(Debug, Clone, Default)]
pub struct ServiceTable {
    routes: HashMap<String, Route>,
}

impl ServiceTable {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the route of `domain`.
    pub fn insert(&mut self, domain: &str, route: Route) {
        let route = match route {
            Route::Via(d) => Route::Via(d.to_ascii_lowercase()),
            r => r,
        };
        self.routes.insert(domain.to_ascii_lowercase(), route);
    }

    /// The route configured for `domain`.
    pub fn route(&self, domain: &str) -> Option<&Route> {
        self.routes.get(&domain.to_ascii_lowercase())
    }

    /// Follows the routes of `domain` to a direct peer, refusing cycles and dangling `Via`s.
    pub fn resolve(&self, domain: &str) -> Result<NextHop, RouteError> {
        let target = domain.to_ascii_lowercase();
        let mut current = target.clone();
        let mut visited = vec![current.clone()];
        loop {
            match self.routes.get(&current) {
                None => return Err(RouteError::NoRoute(current)),
                Some(Route::Direct) => {
                    visited.reverse();
                    return Ok(NextHop {
                        peer: current,
                        hops: visited,
                    });
                }
                Some(Route::Via(next)) => {
                    if visited.contains(next) {
                        visited.push(next.clone());
                        return Err(RouteError::RouteCycle {
                            domain: target,
                            cycle: visited,
                        });
                    }
                    visited.push(next.clone());
                    current = next.clone();
                }
            }
        }
    }

    /// Checks every configured route; returns the first error.
    pub fn validate(&self) -> Result<(), RouteError> {
        let mut domains: Vec<&String> = self.routes.keys().collect();
        domains.sort();
        for d in domains {
            self.resolve(d)?;
        }
        Ok(())
    }
}

/// Checks the `relayPath` of a request arriving at `local` and bound for `next_peer`, and
/// returns the path to send on (with `local` appended).
pub fn extend_path(
    path: &[String],
    local: &str,
    next_peer: &str,
) -> Result<Vec<String>, RouteError> {
    for domain in [local, next_peer] {
        if path.iter().any(|p| p.eq_ignore_ascii_case(domain)) {
            return Err(RouteError::Loop {
                domain: domain.to_owned(),
                path: path.to_vec(),
            });
        }
    }
    let mut out = path.to_vec();
    out.push(local.to_owned());
    Ok(out)
}

/// One end of a relayed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Leg {
    /// The peer domain.
    pub peer: String,
    /// The transaction id on that peer's session.
    pub tid: String,
}

impl Leg {
    /// A leg (the domain is compared case-insensitively).
    pub fn new(peer: &str, tid: &str) -> Self {
        Self {
            peer: peer.to_ascii_lowercase(),
            tid: tid.to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct Relayed {
    outgoing: Leg,
    at: Instant,
}

/// The Transaction Table: each incoming relayed request ↔ exactly one outgoing one. Bounded
/// in size; entries older than the lifetime are dropped.
#[derive(Debug, Clone)]
pub struct TransactionTable {
    forward: HashMap<Leg, Relayed>,
    backward: HashMap<Leg, Leg>,
    capacity: usize,
    ttl: Duration,
}

impl TransactionTable {
    /// A table of at most `capacity` entries, each kept `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            forward: HashMap::new(),
            backward: HashMap::new(),
            capacity,
            ttl,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.forward.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.forward.is_empty()
    }

    /// Records that `incoming` (with `path`, arriving at `local`) goes on as `outgoing`, and
    /// returns the path to send with it. Refuses loops, duplicates and a full table.
    pub fn relay(
        &mut self,
        now: Instant,
        incoming: Leg,
        path: &[String],
        local: &str,
        outgoing: Leg,
    ) -> Result<Vec<String>, RouteError> {
        self.expire(now);
        let path = extend_path(path, local, &outgoing.peer)?;
        if self.forward.contains_key(&incoming) || self.backward.contains_key(&outgoing) {
            return Err(RouteError::Duplicate {
                peer: incoming.peer,
                tid: incoming.tid,
            });
        }
        if self.forward.len() >= self.capacity {
            return Err(RouteError::Full(self.capacity));
        }
        self.backward.insert(outgoing.clone(), incoming.clone());
        self.forward.insert(incoming, Relayed { outgoing, at: now });
        Ok(path)
    }

    /// The outgoing leg of `incoming`.
    pub fn outgoing(&self, incoming: &Leg) -> Option<&Leg> {
        self.forward.get(incoming).map(|r| &r.outgoing)
    }

    /// A response arrived on `outgoing`: the incoming leg to forward it to. The entry is
    /// removed (one answer per transaction).
    pub fn complete(&mut self, outgoing: &Leg) -> Option<Leg> {
        let incoming = self.backward.remove(outgoing)?;
        self.forward.remove(&incoming);
        Some(incoming)
    }

    /// Drops entries older than the lifetime.
    pub fn expire(&mut self, now: Instant) {
        let ttl = self.ttl;
        let mut dropped = HashSet::new();
        self.forward.retain(|_, r| {
            let keep = now.saturating_duration_since(r.at) < ttl;
            if !keep {
                dropped.insert(r.outgoing.clone());
            }
            keep
        });
        self.backward.retain(|out, _| !dropped.contains(out));
    }
}
