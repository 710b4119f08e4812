//! The desk's side of DNS SRV discovery: what a shard hands over for a domain that is neither
//! a peer nor routed waits while the domain is looked up; a domain found becomes a peer (its
//! sender task started), then what waited is handled as if it had just arrived. A domain not
//! found is remembered for a while, and what waited fails as for any domain without a route
//! (516).

use std::collections::HashMap;
use std::time::Instant;

use super::{Desk, DeskMsg, FederationOut};
use crate::federation::PeerEntry;
use crate::peering::client::Target;
use crate::peering::discovery::{self, DiscoveryError};

/// Most items held for one domain being looked up; more go on (and fail with 516).
const MAX_PARKED: usize = 10_000;

/// Domains being looked up and those recently not found.
#[derive(Debug, Default)]
pub(super) struct Lookups {
    /// Domain → what waits for its lookup.
    parked: HashMap<String, Vec<FederationOut>>,
    /// Domain → until when it counts as not found.
    missing: HashMap<String, Instant>,
}

impl Desk {
    /// `out` back when it can go on now, `None` when it waits for a lookup.
    pub(super) fn park_until_discovered(
        &mut self,
        now: Instant,
        out: FederationOut,
    ) -> Option<FederationOut> {
        if self.timing.discovery.is_none() {
            return Some(out);
        }
        let Some(domain) = destinations(&out)
            .into_iter()
            .find(|d| self.needs_lookup(now, d))
        else {
            return Some(out);
        };
        let waiting = self.lookups.parked.get(&domain).map_or(0, Vec::len);
        if waiting >= MAX_PARKED {
            return Some(out);
        }
        self.discover(now, &domain);
        self.lookups.parked.entry(domain).or_default().push(out);
        None
    }

    /// True when `domain` is not ours, has no route, and was not found lately.
    fn needs_lookup(&self, now: Instant, domain: &str) -> bool {
        !domain.eq_ignore_ascii_case(&self.domain)
            && !self.fed.routes_to(domain)
            && self
                .lookups
                .missing
                .get(domain)
                .is_none_or(|until| *until <= now)
    }

    /// Starts looking `domain` up, unless it is being looked up or has no need.
    pub(super) fn discover(&mut self, now: Instant, domain: &str) {
        let Some(d) = self.timing.discovery else {
            return;
        };
        let domain = domain.to_ascii_lowercase();
        if self.lookups.parked.contains_key(&domain) || !self.needs_lookup(now, &domain) {
            return;
        }
        self.lookups.parked.insert(domain.clone(), Vec::new());
        let mut id = [0u8; 2];
        // Without OS randomness the id is predictable, which only weakens spoofing defence.
        let _ = getrandom::fill(&mut id);
        let tx = self.tx.clone();
        self.local.spawn(async move {
            let found =
                discovery::lookup(d.server, &domain, u16::from_ne_bytes(id), d.timeout).await;
            let _ = tx.send(DeskMsg::Discovered { domain, found });
        });
    }

    /// A lookup ended: the domain becomes a peer, or is remembered as missing; what waited
    /// goes on either way.
    pub(super) fn discovered(
        &mut self,
        now: Instant,
        domain: String,
        found: Result<std::net::SocketAddr, DiscoveryError>,
    ) {
        let waiting = self.lookups.parked.remove(&domain).unwrap_or_default();
        match found.map(discovery::peer_url) {
            Ok(url) => match (PeerEntry::new(&domain, &url), Target::parse(&url)) {
                (Ok(entry), Ok(target)) => match self.fed.add_peer(entry) {
                    Ok(()) => {
                        tracing::info!(%domain, %url, "SSP peer found by DNS SRV");
                        self.connect(domain.clone(), target);
                    }
                    Err(e) => tracing::warn!(%domain, error = %e, "peer found by DNS not added"),
                },
                _ => tracing::warn!(%domain, %url, "unusable SSP URL from DNS"),
            },
            Err(e) => {
                tracing::info!(%domain, error = %e, "no SSP server found by DNS SRV");
                let retry = self.timing.discovery.map(|d| d.retry).unwrap_or_default();
                self.lookups.missing.insert(domain.clone(), now + retry);
            }
        }
        self.lookups.missing.retain(|_, until| *until > now);
        for out in waiting {
            self.on_shard(now, out);
        }
        self.drain(now);
    }
}

/// The domains `out` must reach.
fn destinations(out: &FederationOut) -> Vec<String> {
    let domain = |u: &String| imps_protocol::ssp::domain_of_id(u).map(str::to_ascii_lowercase);
    match out {
        FederationOut::Send { recipients, .. } => recipients.iter().filter_map(domain).collect(),
        FederationOut::Report {
            original_sender, ..
        } => domain(original_sender).into_iter().collect(),
        FederationOut::Request { request, .. } => request.destination().into_iter().collect(),
        FederationOut::Presence { watchers, .. } => watchers.iter().filter_map(domain).collect(),
    }
}
