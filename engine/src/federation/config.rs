//! Federation configuration: our domain, the static peer table (`--peer b.test=URL`), routes
//! through relays (`--route c.test=b.test`), retry and expiry of queued items, table sizes.

use std::str::FromStr;
use std::time::Duration;

use imps_protocol::Limits;
use imps_protocol::ssp::extension::{FeatureGroup, Features};
use imps_protocol::ssp::handshake::DEFAULT_TIME_TO_LIVE;
use imps_protocol::ssp::routing::{Route, RouteError, ServiceTable};

/// Why a federation configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A `--peer` or `--route` value is not `domain=value`.
    #[error("expected {expected}, found {found:?}")]
    Syntax {
        /// What the value should look like.
        expected: &'static str,
        /// The value.
        found: String,
    },
    /// A peer URL is not `http://` or `https://`.
    #[error("peer {domain}: {url:?} is not an http:// or https:// URL")]
    Url {
        /// The peer.
        domain: String,
        /// The URL.
        url: String,
    },
    /// A peer is our own domain.
    #[error("{0} is the local domain and cannot be a peer or a route")]
    SelfPeer(String),
    /// The same peer is configured twice.
    #[error("peer {0} is configured twice")]
    DuplicatePeer(String),
    /// A route does not reach a configured peer, or loops.
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// One entry of the static peer table: `domain=base-url` on the command line, plus an optional
/// shared secret (SSP extension: HMAC-SHA256 keyed digest in the handshake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerEntry {
    /// The peer's domain, lower case.
    pub domain: String,
    /// Where its SSP endpoint takes POSTs (used as it is).
    pub url: String,
    /// Secret shared with the peer; both sides must have the same one.
    pub shared_secret: Option<Vec<u8>>,
}

impl PeerEntry {
    /// A peer without shared secret.
    pub fn new(domain: &str, url: &str) -> Result<Self, ConfigError> {
        let url = url.trim();
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(ConfigError::Url {
                domain: domain.to_owned(),
                url: url.to_owned(),
            });
        }
        Ok(Self {
            domain: domain.trim().to_ascii_lowercase(),
            url: url.to_owned(),
            shared_secret: None,
        })
    }

    /// The same peer with a shared secret.
    pub fn with_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.shared_secret = Some(secret.into());
        self
    }
}

impl FromStr for PeerEntry {
    type Err = ConfigError;

    /// Parses `b.test=http://127.0.0.1:8081/` (the `impsd serve --peer` syntax).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (domain, url) = split_pair(s, "domain=url")?;
        Self::new(domain, url)
    }
}

/// A route: requests for `domain` go to `via` (a peer, or another routed domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// The destination domain, lower case.
    pub domain: String,
    /// The next domain on the way, lower case.
    pub via: String,
}

impl FromStr for RouteEntry {
    type Err = ConfigError;

    /// Parses `c.test=b.test` (the `impsd serve --route` syntax).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (domain, via) = split_pair(s, "domain=via-domain")?;
        Ok(Self {
            domain: domain.to_ascii_lowercase(),
            via: via.to_ascii_lowercase(),
        })
    }
}

fn split_pair<'a>(s: &'a str, expected: &'static str) -> Result<(&'a str, &'a str), ConfigError> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => Ok((a.trim(), b.trim())),
        _ => Err(ConfigError::Syntax {
            expected,
            found: s.to_owned(),
        }),
    }
}

/// Retransmission of queued items: exponential back-off from `initial_backoff`, doubling per
/// failed attempt up to `max_backoff`. A POST with neither acknowledgement nor failure after
/// `send_timeout` counts as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failure (Baraza: 10 s).
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// How long a POST may stay unanswered by the transport.
    pub send_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(600),
            send_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (1 = the first failure).
    pub fn backoff(&self, failures: u32) -> Duration {
        let shift = failures.saturating_sub(1).min(30);
        self.initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }
}

/// Everything [`super::Federation`] needs to know.
#[derive(Debug, Clone)]
pub struct FederationConfig {
    /// Our domain (`impsd serve --domain`), lower case.
    pub local_domain: String,
    /// The static peer table (`--peer`, repeatable).
    pub peers: Vec<PeerEntry>,
    /// Routes through relays (`--route`, repeatable).
    pub routes: Vec<RouteEntry>,
    /// Retransmission.
    pub retry: RetryPolicy,
    /// How long an item may wait in a peer's queue before it fails (Baraza: 24 h).
    pub queue_expiry: Duration,
    /// Most items queued for one peer; beyond it new items are refused with 507.
    pub queue_capacity: usize,
    /// Session lifetime we ask for and grant, seconds.
    pub session_ttl: u32,
    /// Received (peer, transaction id) pairs remembered for duplicates.
    pub dedupe_capacity: usize,
    /// Relayed transactions held at once.
    pub relay_capacity: usize,
    /// Bounds for decoding received messages.
    pub limits: Limits,
    /// The feature groups we offer peers in the service agreement (default: fundamental,
    /// presence, IM, groups, user profiles).
    pub offered: Features,
    /// Most request transactions sent to a peer in one POST.
    pub batch_size: usize,
    /// How long presence notifications for a domain are collected before they are sent
    /// (zero: at once, unbatched).
    pub presence_delay: Duration,
}

impl FederationConfig {
    /// Defaults for `local_domain` with no peers.
    pub fn new(local_domain: &str) -> Self {
        Self {
            local_domain: local_domain.trim().to_ascii_lowercase(),
            peers: Vec::new(),
            routes: Vec::new(),
            retry: RetryPolicy::default(),
            queue_expiry: Duration::from_secs(24 * 3600),
            queue_capacity: 10_000,
            session_ttl: DEFAULT_TIME_TO_LIVE,
            dedupe_capacity: 65_536,
            relay_capacity: 65_536,
            limits: Limits::default(),
            offered: Features::groups([
                FeatureGroup::Fundamental,
                FeatureGroup::Presence,
                FeatureGroup::Im,
                FeatureGroup::Group,
                FeatureGroup::UserProfile,
            ]),
            batch_size: 50,
            presence_delay: Duration::from_millis(500),
        }
    }

    /// The Service Table of the peers (direct) and routes (via), checked: no peer twice, no
    /// peer or route for our own domain, every route ends at a peer without a cycle.
    pub fn service_table(&self) -> Result<ServiceTable, ConfigError> {
        let mut table = ServiceTable::new();
        let mut seen = std::collections::HashSet::new();
        for peer in &self.peers {
            if peer.domain == self.local_domain {
                return Err(ConfigError::SelfPeer(peer.domain.clone()));
            }
            if !seen.insert(peer.domain.clone()) {
                return Err(ConfigError::DuplicatePeer(peer.domain.clone()));
            }
            table.insert(&peer.domain, Route::Direct);
        }
        for route in &self.routes {
            if route.domain == self.local_domain || route.via == self.local_domain {
                return Err(ConfigError::SelfPeer(self.local_domain.clone()));
            }
            table.insert(&route.domain, Route::Via(route.via.clone()));
        }
        table.validate()?;
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_line_syntax() {
        let p: PeerEntry = "B.test=http://127.0.0.1:18081/".parse().expect("peer");
        assert_eq!(p.domain, "b.test");
        assert_eq!(p.url, "http://127.0.0.1:18081/");
        assert!("b.test".parse::<PeerEntry>().is_err());
        assert!("b.test=ftp://x/".parse::<PeerEntry>().is_err());
        let r: RouteEntry = "c.test=b.test".parse().expect("route");
        assert_eq!((r.domain.as_str(), r.via.as_str()), ("c.test", "b.test"));
        assert!("=b.test".parse::<RouteEntry>().is_err());
    }

    #[test]
    fn service_table_refuses_bad_routes() {
        let mut c = FederationConfig::new("a.test");
        c.peers
            .push(PeerEntry::new("b.test", "http://b/").expect("peer"));
        c.routes.push("c.test=b.test".parse().expect("route"));
        let table = c.service_table().expect("valid");
        assert_eq!(table.resolve("c.test").expect("route").peer, "b.test");
        c.routes.push("d.test=e.test".parse().expect("route"));
        assert!(c.service_table().is_err());
        let mut own = FederationConfig::new("a.test");
        own.peers
            .push(PeerEntry::new("a.test", "http://a/").expect("peer"));
        assert_eq!(
            own.service_table().err(),
            Some(ConfigError::SelfPeer("a.test".into()))
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let r = RetryPolicy::default();
        assert_eq!(r.backoff(1), Duration::from_secs(10));
        assert_eq!(r.backoff(2), Duration::from_secs(20));
        assert_eq!(r.backoff(4), Duration::from_secs(80));
        assert_eq!(r.backoff(40), Duration::from_secs(600));
    }
}
