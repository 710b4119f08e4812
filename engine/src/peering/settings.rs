//! The `[federation]` section of the `impsd serve` configuration and its command-line
//! counterparts (`--peer`, `--peer-secret`, `--route`), mapped to [`FederationConfig`].
//!
//! ```toml
//! [federation]
//! peers = [{ domain = "b.test", url = "http://127.0.0.1:8081/ssp", secret = "s3cret" }]
//! routes = [{ domain = "c.test", via = "b.test" }]
//! queue_expiry_s = 86400      # an item not delivered by then fails (503 to the sender)
//! retry_initial_ms = 10000    # back-off after the first failed POST, doubling ...
//! retry_max_ms = 600000       # ... up to this
//! queue_capacity = 10000      # items per peer; beyond it 507
//! answer_wait_ms = 3000       # how long a SendMessage waits for the remote answer
//! dns_srv = false             # find unknown domains by DNS SRV _imps-server._tcp.<domain>
//! dns_server = "10.0.0.2:53"  # the name server asked (default: /etc/resolv.conf's first)
//! dns_timeout_ms = 2000       # per DNS query
//! dns_retry_s = 60            # a domain not found is not asked again for this long
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::federation::{ConfigError, FederationConfig, PeerEntry, RetryPolicy, RouteEntry};

/// One peer in the TOML file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PeerSetting {
    /// The peer's domain.
    pub domain: String,
    /// Its SSP URL.
    pub url: String,
    /// A shared secret (both sides must have the same one).
    #[serde(default)]
    pub secret: Option<String>,
}

/// One route in the TOML file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteSetting {
    /// The destination domain.
    pub domain: String,
    /// The next domain on the way.
    pub via: String,
}

/// Federation settings; federation is off without peers.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// The static peer table.
    pub peers: Vec<PeerSetting>,
    /// Routes through relays.
    pub routes: Vec<RouteSetting>,
    /// Queue expiry, seconds.
    pub queue_expiry_s: u64,
    /// First retry back-off, ms.
    pub retry_initial_ms: u64,
    /// Longest retry back-off, ms.
    pub retry_max_ms: u64,
    /// How long a POST may stay unanswered, ms (also the response timeout of the client).
    pub send_timeout_ms: u64,
    /// TCP connect timeout to a peer, ms.
    pub connect_timeout_ms: u64,
    /// Most items queued per peer.
    pub queue_capacity: usize,
    /// How long a SendMessage-Response waits for the remote answer, ms.
    pub answer_wait_ms: u64,
    /// Find the SSP server of a domain that is not a peer by DNS SRV.
    pub dns_srv: bool,
    /// The name server for SRV lookups (`IP:port`); `None`: the first of /etc/resolv.conf.
    pub dns_server: Option<String>,
    /// Timeout of one DNS query, ms.
    pub dns_timeout_ms: u64,
    /// How long a domain that was not found stays unknown before it is looked up again, s.
    pub dns_retry_s: u64,
}

impl Default for FederationSettings {
    fn default() -> Self {
        let retry = RetryPolicy::default();
        Self {
            peers: Vec::new(),
            routes: Vec::new(),
            queue_expiry_s: 24 * 3600,
            retry_initial_ms: millis(retry.initial_backoff),
            retry_max_ms: millis(retry.max_backoff),
            send_timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            queue_capacity: 10_000,
            answer_wait_ms: 3_000,
            dns_srv: false,
            dns_server: None,
            dns_timeout_ms: 2_000,
            dns_retry_s: 60,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl FederationSettings {
    /// True when at least one peer is configured, or peers are found by DNS SRV.
    pub fn enabled(&self) -> bool {
        !self.peers.is_empty() || self.dns_srv
    }

    /// The name server for SRV lookups: the configured one, else the first of
    /// `/etc/resolv.conf`; `None` when discovery is off.
    pub fn name_server(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        if !self.dns_srv {
            return Ok(None);
        }
        if let Some(s) = &self.dns_server {
            return s.trim().parse().map(Some).map_err(|_| ConfigError::Syntax {
                expected: "dns_server as IP:port",
                found: s.clone(),
            });
        }
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        super::discovery::resolv_conf_server(&text)
            .map(Some)
            .ok_or_else(|| ConfigError::Syntax {
                expected: "a nameserver in /etc/resolv.conf (or dns_server)",
                found: "none".into(),
            })
    }

    /// Adds the command-line values: `peers` as `domain=url`, `secrets` as `domain=secret`,
    /// `routes` as `domain=via` (a peer given again replaces the file's).
    pub fn apply_cli(
        &mut self,
        peers: &[String],
        secrets: &[String],
        routes: &[String],
    ) -> Result<(), ConfigError> {
        for p in peers {
            let entry: PeerEntry = p.parse()?;
            self.peers
                .retain(|q| !q.domain.eq_ignore_ascii_case(&entry.domain));
            self.peers.push(PeerSetting {
                domain: entry.domain,
                url: entry.url,
                secret: None,
            });
        }
        for s in secrets {
            let (domain, secret) = s
                .split_once('=')
                .filter(|(d, s)| !d.trim().is_empty() && !s.is_empty())
                .ok_or_else(|| ConfigError::Syntax {
                    expected: "domain=secret",
                    found: s.clone(),
                })?;
            let peer = self
                .peers
                .iter_mut()
                .find(|p| p.domain.eq_ignore_ascii_case(domain.trim()))
                .ok_or_else(|| ConfigError::Syntax {
                    expected: "the domain of a --peer",
                    found: domain.to_owned(),
                })?;
            peer.secret = Some(secret.to_owned());
        }
        for r in routes {
            let entry: RouteEntry = r.parse()?;
            self.routes.push(RouteSetting {
                domain: entry.domain,
                via: entry.via,
            });
        }
        Ok(())
    }

    /// The configuration of [`crate::federation::Federation`] for `domain`, checked.
    pub fn to_config(&self, domain: &str) -> Result<FederationConfig, ConfigError> {
        let mut config = FederationConfig::new(domain);
        for p in &self.peers {
            let mut entry = PeerEntry::new(&p.domain, &p.url)?;
            if let Some(secret) = &p.secret {
                entry = entry.with_secret(secret.as_bytes().to_vec());
            }
            config.peers.push(entry);
        }
        for r in &self.routes {
            config.routes.push(RouteEntry {
                domain: r.domain.trim().to_ascii_lowercase(),
                via: r.via.trim().to_ascii_lowercase(),
            });
        }
        config.retry = RetryPolicy {
            initial_backoff: Duration::from_millis(self.retry_initial_ms.max(1)),
            max_backoff: Duration::from_millis(self.retry_max_ms.max(self.retry_initial_ms)),
            send_timeout: Duration::from_millis(self.send_timeout_ms.max(1)),
        };
        config.queue_expiry = Duration::from_secs(self.queue_expiry_s.max(1));
        config.queue_capacity = self.queue_capacity.max(1);
        config.service_table()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_and_file_make_one_configuration() {
        let mut s: FederationSettings = toml::from_str(
            "peers = [{ domain = \"b.test\", url = \"http://127.0.0.1:1/\" }]\nanswer_wait_ms = 50\n",
        )
        .expect("toml");
        assert_eq!(s.answer_wait_ms, 50);
        s.apply_cli(
            &["d.test=http://127.0.0.1:2/ssp".into()],
            &["b.test=k".into()],
            &["c.test=b.test".into()],
        )
        .expect("cli");
        let c = s.to_config("A.test").expect("valid");
        assert_eq!(c.local_domain, "a.test");
        assert_eq!(c.peers.len(), 2);
        assert_eq!(c.peers[0].shared_secret.as_deref(), Some(&b"k"[..]));
        assert_eq!(c.routes[0].via, "b.test");
        assert!(s.apply_cli(&[], &["x.test=k".into()], &[]).is_err());
        s.routes.push(RouteSetting {
            domain: "e.test".into(),
            via: "f.test".into(),
        });
        assert!(s.to_config("a.test").is_err());
    }

    #[test]
    fn discovery_is_off_by_default_and_names_its_server() {
        let mut s = FederationSettings::default();
        assert!(!s.enabled());
        assert_eq!(s.name_server(), Ok(None));
        s = toml::from_str("dns_srv = true\ndns_server = \"127.0.0.1:5353\"\n").expect("toml");
        assert!(s.enabled());
        assert_eq!(
            s.name_server(),
            Ok(Some(std::net::SocketAddr::from(([127, 0, 0, 1], 5353))))
        );
        s.dns_server = Some("nowhere".into());
        assert!(s.name_server().is_err());
    }
}
