//! Scenarios: a population, its behaviour and its service-level objectives, read from TOML.
//!
//! ```toml
//! name = "smoke"
//! clients = 200
//! duration = "10s"
//! [arrival]    ramp_up = "2s"
//! [contacts]   distribution = "zipf"  max = 20  exponent = 1.0
//! [mix]        cir_fraction = 0.0  poll_interval = "15s"
//! [rates]      update_presence = 60  send_message = 30   # per client per hour
//! [slo]        p99_ms = 250  max_error_rate = 0.01
//! ```
//!
//! Every field has a default, so a scenario states only what it changes. Durations are
//! written `"250ms"`, `"10s"`, `"5m"` or `"1h"`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::population::SizeDistribution;

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown fields.
    #[error("invalid scenario: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of its range.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Its name (reported).
    pub name: String,
    /// What it models.
    pub description: String,
    /// Simulated clients.
    pub clients: u32,
    /// How long actions are scheduled.
    #[serde(deserialize_with = "duration")]
    pub duration: Duration,
    /// Seed of every random draw: the same seed gives the same schedule.
    pub seed: u64,
    /// CSP version the clients speak: "1.1", "1.2" or "1.3".
    pub version: String,
    /// Where the users come from.
    pub users: UsersSpec,
    /// When clients first log in.
    pub arrival: Arrival,
    /// How clients log in and come back.
    pub login: LoginSpec,
    /// Contact-list sizes.
    pub contacts: ContactSizes,
    /// Kinds of clients.
    pub mix: Mix,
    /// Actions per client per hour.
    pub rates: Rates,
    /// Chat rooms.
    pub groups: Groups,
    /// Objectives; missing any makes `loadgen run` exit non-zero.
    pub slo: Slo,
    /// Generator threads (schedulers); 0 means one per core.
    pub threads: u16,
    /// Most HTTP connections per scheduler thread, opened as needed: a request goes on an
    /// idle one; requests are pipelined only when all are open and busy.
    pub connections: u16,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "unnamed".into(),
            description: String::new(),
            clients: 100,
            duration: Duration::from_secs(10),
            seed: 1,
            version: "1.2".into(),
            users: UsersSpec::default(),
            arrival: Arrival::default(),
            login: LoginSpec::default(),
            contacts: ContactSizes::default(),
            mix: Mix::default(),
            rates: Rates::default(),
            groups: Groups::default(),
            slo: Slo::default(),
            threads: 0,
            connections: 256,
        }
    }
}

/// Where the users come from: `PREFIX1..PREFIXN` with one password, or a CSV file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersSpec {
    /// User ID prefix (as `impsd users generate --prefix`).
    pub prefix: String,
    /// Their password.
    pub password: String,
    /// A CSV file of `user,password` lines instead of the prefix.
    pub csv: Option<PathBuf>,
    /// The service's domain (contact addresses are `wv:USER@DOMAIN`).
    pub domain: String,
}

impl Default for UsersSpec {
    fn default() -> Self {
        Self {
            prefix: "user".into(),
            password: "pass".into(),
            csv: None,
            domain: "imps.local".into(),
        }
    }
}

/// When clients first log in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Arrival {
    /// First logins are spread evenly over this time; zero is a login storm.
    #[serde(deserialize_with = "duration")]
    pub ramp_up: Duration,
}

impl Default for Arrival {
    fn default() -> Self {
        Self {
            ramp_up: Duration::from_secs(5),
        }
    }
}

/// How clients log in and come back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSpec {
    /// Share of clients using the 4-way digest login (MD5) instead of a plain password.
    pub digest_fraction: f64,
    /// Mean time a client stays offline after a drop, a logout or a failed login.
    #[serde(deserialize_with = "duration")]
    pub offline: Duration,
    /// Subscribe to the contact list's presence after login.
    pub subscribe: bool,
}

impl Default for LoginSpec {
    fn default() -> Self {
        Self {
            digest_fraction: 0.0,
            offline: Duration::from_secs(30),
            subscribe: true,
        }
    }
}

/// Contact-list sizes, as a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, tag = "distribution", rename_all = "lowercase")]
pub enum ContactSizes {
    /// Every user has `n` contacts.
    Fixed {
        /// Contacts per user.
        n: u32,
    },
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest.
        min: u32,
        /// Largest.
        max: u32,
    },
    /// Zipf over `1..=max`.
    Zipf {
        /// Largest.
        max: u32,
        /// Exponent (1.0 is classic Zipf).
        exponent: f64,
    },
}

impl Default for ContactSizes {
    fn default() -> Self {
        Self::Zipf {
            max: 50,
            exponent: 1.0,
        }
    }
}

impl ContactSizes {
    /// The population model's distribution.
    pub fn distribution(self) -> SizeDistribution {
        match self {
            Self::Fixed { n } => SizeDistribution::Fixed(n),
            Self::Uniform { min, max } => SizeDistribution::Uniform { min, max },
            Self::Zipf { max, exponent } => SizeDistribution::Zipf { max, exponent },
        }
    }
}

/// Kinds of clients.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mix {
    /// Share of clients that ask for a CIR channel and keep the session alive with
    /// KeepAlive-Request instead of polling.
    pub cir_fraction: f64,
    /// Share of clients asking for push delivery (`P`) rather than notify/get (`N`).
    pub push_fraction: f64,
    /// How often polling clients poll (raised to the server's ServerPollMin).
    #[serde(deserialize_with = "duration")]
    pub poll_interval: Duration,
    /// How often clients holding an STCP channel send KeepAlive-Request.
    #[serde(deserialize_with = "duration")]
    pub keep_alive: Duration,
    /// How often an STCP channel says `PING` (Android: every 20 minutes; `impsd serve`
    /// closes a channel silent for `[cir] tcp_idle_timeout_s`, at least 60 s, and 60 s when
    /// unset: hence the default of 50 s).
    #[serde(deserialize_with = "duration")]
    pub cir_ping: Duration,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            cir_fraction: 0.2,
            push_fraction: 0.5,
            poll_interval: Duration::from_secs(30),
            keep_alive: Duration::from_secs(240),
            cir_ping: Duration::from_secs(50),
        }
    }
}

/// Actions per client per hour, while logged in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    /// UpdatePresence-Request.
    pub update_presence: f64,
    /// SendMessage-Request to a contact.
    pub send_message: f64,
    /// ListManage-Request adding or removing a contact.
    pub list_manage: f64,
    /// GetPresence-Request for a few contacts.
    pub get_presence: f64,
    /// Network drops: the session is forgotten without a logout, then the client logs in
    /// again after [`LoginSpec::offline`].
    pub network_drop: f64,
    /// Logouts (churn): Logout-Request, then a login again after [`LoginSpec::offline`].
    pub logout: f64,
    /// JoinGroup-Request of a random public room, by clients in no room.
    pub join_group: f64,
    /// LeaveGroup-Request, by clients in a room.
    pub leave_group: f64,
    /// CreateGroup-Request of the user's own room (joined at once; deleted when its last
    /// user leaves), by clients in no room.
    pub create_group: f64,
    /// SendMessage-Request to the room, by clients in one.
    pub group_message: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            update_presence: 4.0,
            send_message: 6.0,
            list_manage: 0.2,
            get_presence: 1.0,
            network_drop: 1.0,
            logout: 0.5,
            join_group: 0.0,
            leave_group: 0.0,
            create_group: 0.0,
            group_message: 0.0,
        }
    }
}

/// Chat rooms: public rooms the service provider created (`loadgen run --provision`
/// creates them with `impsd groups add --group /<prefix>room<k>`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Groups {
    /// Public rooms; 0 means none (JoinGroup never sent).
    pub rooms: u16,
    /// Prefix of their names: `wv:/<prefix>room<k>@<domain>`, `k` in `1..=rooms`.
    pub prefix: String,
}

impl Default for Groups {
    fn default() -> Self {
        Self {
            rooms: 0,
            prefix: "lg".into(),
        }
    }
}

/// Objectives of a run.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Slo {
    /// Largest p99 latency of any primitive the target supports, milliseconds.
    pub p99_ms: Option<f64>,
    /// Largest share of failed transactions (unsupported ones are not failures).
    pub max_error_rate: Option<f64>,
    /// Smallest throughput, transactions per second.
    pub min_tps: Option<f64>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates a scenario.
    pub fn parse(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |what: &str| Err(ScenarioError::Invalid(what.into()));
        for (name, share) in [
            ("login.digest_fraction", self.login.digest_fraction),
            ("mix.cir_fraction", self.mix.cir_fraction),
            ("mix.push_fraction", self.mix.push_fraction),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return invalid(&format!("{name} must be within 0..=1"));
            }
        }
        let r = &self.rates;
        for rate in [
            r.update_presence,
            r.send_message,
            r.list_manage,
            r.get_presence,
            r.network_drop,
            r.logout,
            r.join_group,
            r.leave_group,
            r.create_group,
            r.group_message,
        ] {
            if !(rate.is_finite() && rate >= 0.0) {
                return invalid("rates must be finite and not negative");
            }
        }
        if self.clients == 0 {
            return invalid("clients must be at least 1");
        }
        if self.mix.poll_interval < Duration::from_secs(1) {
            return invalid("mix.poll_interval must be at least 1s");
        }
        if self.mix.keep_alive < Duration::from_secs(1) {
            return invalid("mix.keep_alive must be at least 1s");
        }
        if self.mix.cir_ping < Duration::from_secs(1) {
            return invalid("mix.cir_ping must be at least 1s");
        }
        if self.groups.rooms == u16::MAX {
            return invalid("groups.rooms must be below 65535");
        }
        if self.groups.prefix.is_empty()
            || !self
                .groups
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return invalid("groups.prefix must be letters, digits, '_' or '-'");
        }
        if self.version_parsed().is_none() {
            return invalid("version must be 1.1, 1.2 or 1.3");
        }
        match self.contacts {
            ContactSizes::Uniform { min, max } if min > max => {
                invalid("contacts: min must not exceed max")
            }
            ContactSizes::Zipf { max, exponent } if max == 0 || !exponent.is_finite() => {
                invalid("contacts: zipf needs max >= 1 and a finite exponent")
            }
            _ => Ok(()),
        }
    }

    /// The CSP version.
    pub fn version_parsed(&self) -> Option<imps_protocol::Version> {
        use imps_protocol::Version;
        match self.version.trim() {
            "1.1" => Some(Version::V1_1),
            "1.2" => Some(Version::V1_2),
            "1.3" => Some(Version::V1_3),
            _ => None,
        }
    }
}

/// Parses `"250ms"`, `"10s"`, `"5m"`, `"1h"` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, ScenarioError> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'));
    let (number, unit) = t.split_at(split.unwrap_or(t.len()));
    let value: f64 = number
        .parse()
        .map_err(|_| ScenarioError::Invalid(format!("bad duration {text:?}")))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(ScenarioError::Invalid(format!(
                "bad duration unit {other:?} in {text:?}"
            )));
        }
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| ScenarioError::Invalid(format!("bad duration {text:?}")))
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("7 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn defaults_fill_what_is_not_said() {
        let s = Scenario::parse("name = \"x\"\nclients = 5\n[rates]\nsend_message = 10\n").unwrap();
        assert_eq!(s.clients, 5);
        assert_eq!(s.rates.send_message, 10.0);
        assert_eq!(s.rates.update_presence, Rates::default().update_presence);
        assert_eq!(s.mix, Mix::default());
    }

    #[test]
    fn full_scenario_parses() {
        let s = Scenario::parse(
            r#"
name = "t"
clients = 1000
duration = "2m"
version = "1.3"
[users]
prefix = "u"
password = "pw"
[arrival]
ramp_up = "0s"
[contacts]
distribution = "uniform"
min = 2
max = 9
[mix]
cir_fraction = 0.5
poll_interval = "45s"
[slo]
p99_ms = 100
max_error_rate = 0.001
"#,
        )
        .unwrap();
        assert_eq!(s.duration, Duration::from_secs(120));
        assert_eq!(s.arrival.ramp_up, Duration::ZERO);
        assert_eq!(
            s.contacts.distribution(),
            SizeDistribution::Uniform { min: 2, max: 9 }
        );
        assert_eq!(s.slo.p99_ms, Some(100.0));
        assert_eq!(s.version_parsed(), Some(imps_protocol::Version::V1_3));
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Scenario::parse("clients = 0").is_err());
        assert!(Scenario::parse("unknown_field = 1").is_err());
        assert!(Scenario::parse("version = \"2.0\"").is_err());
        assert!(Scenario::parse("[mix]\ncir_fraction = 1.5").is_err());
        assert!(Scenario::parse("[rates]\nlogout = -1").is_err());
        assert!(
            Scenario::parse("[contacts]\ndistribution = \"uniform\"\nmin = 5\nmax = 1").is_err()
        );
        assert!(Scenario::parse("duration = \"ten\"").is_err());
    }

    #[test]
    fn shipped_scenarios_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                names.push(s.name);
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "chat-heavy",
                "idle",
                "login-storm",
                "mobile-day",
                "presence-storm",
                "smoke"
            ]
        );
    }
}
