//! Every knob of `impsd serve`, as a TOML file (`--config FILE`) with defaults that serve
//! as-is on a laptop; command-line flags override the file. Plain data: parsed and
//! validated here, applied by the server.
//!
//! ```toml
//! listen = ["127.0.0.1:8080"]
//! data_dir = "./data"
//! shards = 2                 # default: cores
//! domain = "imps.local"
//!
//! [http]
//! max_body_bytes = 1048576
//! header_timeout_ms = 10000
//! idle_timeout_ms = 60000
//! max_connections_per_shard = 50000
//! trusted_proxies = ["127.0.0.1"]   # may set the MSISDN header
//!
//! [cir]
//! tcp = "127.0.0.1:3171"            # standalone TCP wake-ups
//! udp = true                        # standalone UDP wake-ups
//! http = true                       # standalone HTTP (CIRURL), 1.2+
//!
//! [access]                          # see config::AccessConfig
//! keep_alive_default_s = 300
//! challenge_code = 401
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

use crate::config::AccessConfig;

/// Why a configuration file is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML does not parse or names an unknown setting.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid setting {name}: {reason}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// HTTP front-end limits and timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body, bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest request head, bytes (431 beyond).
    pub max_head_bytes: usize,
    /// The whole head must arrive within this time of its first byte, ms.
    pub header_timeout_ms: u64,
    /// The body must arrive within this time after the head, ms.
    pub body_timeout_ms: u64,
    /// An idle keep-alive connection is closed after this time, ms.
    pub idle_timeout_ms: u64,
    /// Open connections per shard (each shard listens on the same port).
    pub max_connections_per_shard: usize,
    /// Addresses whose `MSISDN` header is trusted (operator proxies).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_head_bytes: 16 << 10,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections_per_shard: 50_000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Wake-up channels offered to clients.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CirSettings {
    /// Standalone TCP listener (and the address advertised to clients).
    pub tcp: Option<SocketAddr>,
    /// The address advertised for STCP when it differs from the listener (NAT, 0.0.0.0).
    pub tcp_advertised: Option<String>,
    /// Standalone UDP wake-ups.
    pub udp: bool,
    /// Standalone HTTP wake-ups (the CIRURL is `http://<listen>/cir`), CSP 1.2+.
    pub http: bool,
    /// The base URL advertised for SHTTP when it differs from the first listen address.
    pub http_url: Option<String>,
    /// An STCP connection without PING for this long is closed, seconds (0: the default of
    /// 30 minutes, as long as a mobile client may go between PINGs; at least 60).
    pub tcp_idle_timeout_s: u64,
}

/// Everything `impsd serve` is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSettings {
    /// HTTP listen addresses (every shard listens on each, SO_REUSEPORT).
    pub listen: Vec<SocketAddr>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Shards (default: cores; an existing data directory must match).
    pub shards: Option<u16>,
    /// The service's domain.
    pub domain: String,
    /// Pin shard `i` to CPU `i`.
    pub pin: bool,
    /// Group-commit window in microseconds (0: sync as soon as the previous sync is done).
    pub commit_window_us: u64,
    /// Microseconds an idle executor spins before sleeping (0: sleep at once). Spinning
    /// saves the wake-up of a sleeping core under steady load, at the price of CPU.
    pub spin_before_park_us: u64,
    /// Log records between snapshots per shard (0: 1,000,000, or `IMPS_SNAPSHOT_EVERY`).
    pub snapshot_every: u64,
    /// HTTP front-end.
    pub http: HttpSettings,
    /// Wake-up channels.
    pub cir: CirSettings,
    /// Session and login policy.
    pub access: AccessConfig,
    /// SSP federation with other domains (see [`crate::peering::settings`]).
    pub federation: crate::peering::FederationSettings,
}

impl Default for ServeSettings {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            data_dir: PathBuf::from("./data"),
            shards: None,
            domain: "imps.local".into(),
            pin: true,
            commit_window_us: 0,
            spin_before_park_us: 0,
            snapshot_every: 0,
            http: HttpSettings::default(),
            cir: CirSettings::default(),
            access: AccessConfig::default(),
            federation: crate::peering::FederationSettings::default(),
        }
    }
}

impl ServeSettings {
    /// Parses TOML text (`path` names it in errors).
    pub fn from_toml(text: &str, path: &std::path::Path) -> Result<Self, SettingsError> {
        let settings: ServeSettings = toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Checks ranges and relations between settings.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |name, reason: &str| {
            Err(SettingsError::Invalid {
                name,
                reason: reason.into(),
            })
        };
        if self.listen.is_empty() {
            return invalid("listen", "at least one address is needed");
        }
        if self.shards == Some(0) {
            return invalid("shards", "must be 1 or more");
        }
        if self.http.max_body_bytes == 0 || self.http.max_body_bytes > 64 << 20 {
            return invalid("http.max_body_bytes", "must be between 1 and 64 MiB");
        }
        if self.http.max_connections_per_shard == 0 {
            return invalid("http.max_connections_per_shard", "must be 1 or more");
        }
        let a = &self.access;
        if a.keep_alive_min_s == 0 || a.keep_alive_min_s > a.keep_alive_max_s {
            return invalid(
                "access.keep_alive_min_s",
                "must be at least 1 and at most keep_alive_max_s",
            );
        }
        if !(a.keep_alive_min_s..=a.keep_alive_max_s).contains(&a.keep_alive_default_s) {
            return invalid(
                "access.keep_alive_default_s",
                "must lie between keep_alive_min_s and keep_alive_max_s",
            );
        }
        if a.challenge_code != 200 && a.challenge_code != 401 {
            return invalid("access.challenge_code", "must be 401 or 200");
        }
        if a.domain.is_empty() && self.domain.is_empty() {
            return invalid("domain", "must not be empty");
        }
        if self.federation.enabled()
            && let Err(e) = self.federation.to_config(&self.domain)
        {
            return invalid("federation", &e.to_string());
        }
        Ok(())
    }

    /// The access policy with the server-wide settings (domain, CIR offers) applied.
    pub fn access_config(&self) -> AccessConfig {
        let mut access = self.access.clone();
        access.domain = self.domain.clone();
        if let Some(tcp) = self.cir.tcp {
            let host = self
                .cir
                .tcp_advertised
                .clone()
                .unwrap_or_else(|| tcp.ip().to_string());
            access.cir_tcp = Some((host, tcp.port()));
        }
        access.cir_udp = self.cir.udp;
        if self.cir.http {
            let base = self.cir.http_url.clone().unwrap_or_else(|| {
                let first = self.listen[0];
                format!("http://{first}")
            });
            access.cir_http_url = Some(format!("{}/cir", base.trim_end_matches('/')));
        }
        access
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_files_override_them() {
        ServeSettings::default().validate().unwrap();
        let text = r#"
            listen = ["127.0.0.1:9000", "127.0.0.1:9001"]
            shards = 2
            domain = "example.org"
            [http]
            idle_timeout_ms = 5000
            trusted_proxies = ["10.0.0.1"]
            [cir]
            tcp = "127.0.0.1:3171"
            udp = true
            http = true
            [access]
            challenge_code = 200
            [access.sp_info]
            name = "Example"
        "#;
        let s = ServeSettings::from_toml(text, "t.toml".as_ref()).unwrap();
        assert_eq!(s.listen.len(), 2);
        assert_eq!(s.http.idle_timeout_ms, 5000);
        assert_eq!(s.http.max_body_bytes, 1 << 20);
        let a = s.access_config();
        assert_eq!(a.domain, "example.org");
        assert_eq!(a.cir_tcp, Some(("127.0.0.1".into(), 3171)));
        assert_eq!(a.cir_http_url.as_deref(), Some("http://127.0.0.1:9000/cir"));
        assert_eq!(a.challenge_code, 200);
        assert_eq!(a.sp_info.name, "Example");
    }

    #[test]
    fn unknown_and_invalid_settings_are_refused() {
        let e = ServeSettings::from_toml("listn = []", "x.toml".as_ref()).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = ServeSettings::from_toml("shards = 0", "x.toml".as_ref()).unwrap_err();
        assert!(e.to_string().contains("shards"), "{e}");
        let e = ServeSettings::from_toml("[access]\nchallenge_code = 403", "x.toml".as_ref())
            .unwrap_err();
        assert!(e.to_string().contains("challenge_code"), "{e}");
    }
}
