//! The behaviour model shared by every client of a run (read-only): who the users are,
//! who their contacts are, when they arrive, how often they poll and act, and which action
//! they take. A scenario becomes a [`Model`]; clients keep only their own small state and
//! derive everything else from it.
//!
//! Contacts are not stored: contact `k` of user `u` is a hash of (seed, u, k) over the
//! population, so a million users with fifty contacts each cost nothing.

use std::time::Duration;

use imps_protocol::Version;

use crate::population::{SizeSampler, exponential, splitmix64, unit};
use crate::scenario::Scenario;
use crate::users::{UserDirectory, contact_address};

/// Most contacts a list gets (the engine's default per-list limit).
pub const MAX_CONTACTS: u16 = 1000;

/// What an online client does when its action timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Publish presence.
    UpdatePresence,
    /// Send a message to a contact.
    SendMessage,
    /// Add or remove a contact.
    ListManage,
    /// Fetch some contacts' presence.
    GetPresence,
    /// Join a public room (when in none).
    JoinGroup,
    /// Leave the room (when in one).
    LeaveGroup,
    /// Create an own room and join it (when in none).
    CreateGroup,
    /// Send a message to the room (when in one).
    GroupMessage,
    /// Lose the network: forget the session, no logout.
    NetworkDrop,
    /// Log out (churn).
    Logout,
}

/// The model of a run.
#[derive(Debug, Clone)]
pub struct Model {
    /// CSP version spoken.
    pub version: Version,
    /// User IDs and passwords.
    pub users: UserDirectory,
    /// The service's domain.
    pub domain: String,
    /// Clients in the whole run (contacts are drawn among them).
    pub population: u32,
    /// Seed of every draw.
    pub seed: u64,
    /// First logins spread over this many milliseconds.
    pub ramp_ms: f64,
    /// Mean time offline after a drop, logout or failed login, milliseconds.
    pub offline_ms: f64,
    /// Poll interval of polling clients (before ServerPollMin), seconds.
    pub poll_s: u16,
    /// Keep-alive interval of CIR clients, seconds.
    pub keep_alive_s: u16,
    /// Share of digest logins.
    pub digest_fraction: f64,
    /// Share of CIR clients.
    pub cir_fraction: f64,
    /// Share of push-delivery clients.
    pub push_fraction: f64,
    /// Subscribe to contacts after login.
    pub subscribe: bool,
    /// Public rooms `1..=rooms` (provisioned as `/<room_prefix>room<k>`).
    pub rooms: u16,
    /// Prefix of the public rooms' names.
    pub room_prefix: String,
    /// Actions and their rates per millisecond.
    actions: Vec<(Action, f64)>,
    /// Sum of the rates per millisecond.
    action_rate: f64,
}

fn seconds(d: Duration) -> u16 {
    u16::try_from(d.as_secs().max(1)).unwrap_or(u16::MAX)
}

impl Model {
    /// The model of `scenario` with `clients` clients (the scenario's own count when
    /// `None`) whose users come from `users`.
    pub fn new(scenario: &Scenario, clients: Option<u32>, users: UserDirectory) -> Self {
        let r = &scenario.rates;
        let per_ms = |per_hour: f64| per_hour / 3_600_000.0;
        let actions: Vec<(Action, f64)> = [
            (Action::UpdatePresence, r.update_presence),
            (Action::SendMessage, r.send_message),
            (Action::ListManage, r.list_manage),
            (Action::GetPresence, r.get_presence),
            (Action::JoinGroup, r.join_group),
            (Action::LeaveGroup, r.leave_group),
            (Action::CreateGroup, r.create_group),
            (Action::GroupMessage, r.group_message),
            (Action::NetworkDrop, r.network_drop),
            (Action::Logout, r.logout),
        ]
        .into_iter()
        .filter(|(_, rate)| *rate > 0.0)
        .map(|(a, rate)| (a, per_ms(rate)))
        .collect();
        let action_rate = actions.iter().map(|(_, r)| r).sum();
        Self {
            version: scenario
                .version_parsed()
                .unwrap_or(imps_protocol::Version::V1_2),
            users,
            domain: scenario.users.domain.clone(),
            population: clients.unwrap_or(scenario.clients).max(1),
            seed: scenario.seed,
            ramp_ms: scenario.arrival.ramp_up.as_secs_f64() * 1000.0,
            offline_ms: scenario.login.offline.as_secs_f64() * 1000.0,
            poll_s: seconds(scenario.mix.poll_interval),
            keep_alive_s: seconds(scenario.mix.keep_alive),
            digest_fraction: scenario.login.digest_fraction,
            cir_fraction: scenario.mix.cir_fraction,
            push_fraction: scenario.mix.push_fraction,
            subscribe: scenario.login.subscribe,
            rooms: scenario.groups.rooms,
            room_prefix: scenario.groups.prefix.clone(),
            actions,
            action_rate,
        }
    }

    /// The contact-list size of every user, drawn once from the scenario's distribution.
    pub fn contact_sizes(&self, scenario: &Scenario) -> Vec<u16> {
        let mut sampler = SizeSampler::new(scenario.contacts.distribution(), self.seed ^ 0xC0);
        let cap = u32::from(MAX_CONTACTS).min(self.population.saturating_sub(1));
        (0..self.population)
            .map(|_| u16::try_from(sampler.sample().min(cap)).unwrap_or(MAX_CONTACTS))
            .collect()
    }

    /// The seed of user `user`'s own generator.
    pub fn client_seed(&self, user: u32) -> u64 {
        let mut s = self.seed ^ (u64::from(user) << 20) ^ 0x5EED;
        splitmix64(&mut s)
    }

    /// Contact `k` of user `user`: another user of the population.
    pub fn contact(&self, user: u32, k: u32) -> u32 {
        if self.population < 2 {
            return user;
        }
        let mut s = self.seed ^ (u64::from(user) << 32) ^ u64::from(k);
        let other = (splitmix64(&mut s) % u64::from(self.population - 1)) as u32;
        if other >= user { other + 1 } else { other }
    }

    /// The address of user `user`, as a contact.
    pub fn address(&self, user: u32) -> String {
        contact_address(&self.users.user_id(user), &self.domain)
    }

    /// When the client first logs in, milliseconds after the start.
    pub fn arrival_ms(&self, rng: &mut u64) -> f64 {
        unit(rng) * self.ramp_ms
    }

    /// How long a client stays offline, milliseconds.
    pub fn offline_gap_ms(&self, rng: &mut u64) -> f64 {
        exponential(rng, self.offline_ms)
    }

    /// The gap to the next action, milliseconds (`None` when no action has a rate).
    pub fn action_gap_ms(&self, rng: &mut u64) -> Option<f64> {
        (self.action_rate > 0.0).then(|| exponential(rng, 1.0 / self.action_rate))
    }

    /// Which action comes, in proportion to the rates.
    pub fn pick_action(&self, rng: &mut u64) -> Action {
        let mut x = unit(rng) * self.action_rate;
        for (action, rate) in &self.actions {
            if x < *rate {
                return *action;
            }
            x -= rate;
        }
        self.actions
            .last()
            .map_or(Action::UpdatePresence, |(a, _)| *a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> (Scenario, Model) {
        let s = Scenario::parse(text).unwrap();
        let m = Model::new(&s, None, UserDirectory::prefix("user", "pw"));
        (s, m)
    }

    #[test]
    fn contacts_are_other_users_and_stable() {
        let (_, m) = model("clients = 50");
        for u in 0..50 {
            for k in 0..20 {
                let c = m.contact(u, k);
                assert!(c < 50 && c != u);
                assert_eq!(c, m.contact(u, k));
            }
        }
        assert_eq!(m.address(4), "wv:user5@imps.local");
    }

    #[test]
    fn actions_follow_their_rates() {
        let (_, m) = model(
            "[rates]\nupdate_presence = 30\nsend_message = 10\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0\n",
        );
        let mut rng = 3;
        let n = 40_000;
        let updates = (0..n)
            .filter(|_| m.pick_action(&mut rng) == Action::UpdatePresence)
            .count() as f64;
        assert!((0.73..0.77).contains(&(updates / f64::from(n))));
        // 40 actions per hour: a mean gap of 90 s.
        let mean = (0..n)
            .map(|_| m.action_gap_ms(&mut rng).unwrap())
            .sum::<f64>()
            / f64::from(n);
        assert!((85_000.0..95_000.0).contains(&mean), "mean gap {mean}");
    }

    #[test]
    fn no_rates_no_actions() {
        let (_, m) = model(
            "[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0\n",
        );
        assert_eq!(m.action_gap_ms(&mut 1), None);
    }

    #[test]
    fn sizes_are_capped_by_population() {
        let (s, m) = model("clients = 5\n[contacts]\ndistribution = \"fixed\"\nn = 40\n");
        assert_eq!(m.contact_sizes(&s), vec![4; 5]);
    }

    #[test]
    fn arrivals_spread_over_the_ramp() {
        let (_, m) = model("[arrival]\nramp_up = \"10s\"");
        let mut rng = 9;
        let draws: Vec<f64> = (0..1000).map(|_| m.arrival_ms(&mut rng)).collect();
        assert!(draws.iter().all(|d| (0.0..10_000.0).contains(d)));
        assert!(draws.iter().any(|d| *d > 9_000.0) && draws.iter().any(|d| *d < 1_000.0));
        let (_, storm) = model("[arrival]\nramp_up = \"0s\"");
        assert_eq!(storm.arrival_ms(&mut rng), 0.0);
    }
}
