//! Presence notifications for remote watchers, batched per destination domain.
//!
//! [`Federation::notify_presence`] does not send at once: it files the value for each
//! watcher under the watcher's domain, and the batch of a domain is flushed
//! [`super::FederationConfig::presence_delay`] after its first value (or by
//! [`Federation::flush_presence`]). A flush keeps the latest value per (watcher, user), so N
//! changes of one user within the delay cost one value, and groups the watchers that get the
//! same values into one `PresenceNotification` (SSP delivers every value of a notification to
//! every listed watcher, so watchers with different values need different notifications; a
//! watcher must never see a value meant for another). The notifications of one flush are
//! queued together and leave in one POST (several `Transaction`s in one `Session` block, as
//! SSP allows, up to [`super::FederationConfig::batch_size`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::{PresenceValue, domain_of_id};

use super::queue::later;
use super::request::{Answer, RemoteRequest, RequestResult};
use super::{Event, Federation, status};

/// The values waiting for one domain's watchers.
#[derive(Debug, Clone)]
struct Batch {
    since: Instant,
    values: Vec<PresenceValue>,
    /// watcher → (user, lower case) → index into `values`.
    watchers: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Batch {
    fn add(&mut self, watcher: &str, value: &PresenceValue) {
        let index = match self.values.iter().position(|v| v == value) {
            Some(i) => i,
            None => {
                self.values.push(value.clone());
                self.values.len() - 1
            }
        };
        self.watchers
            .entry(watcher.to_owned())
            .or_default()
            .insert(value.user_id.to_ascii_lowercase(), index);
    }

    /// One (watchers, values) pair per distinct set of latest values.
    fn notifications(self) -> Vec<(Vec<String>, Vec<PresenceValue>)> {
        let mut groups: BTreeMap<Vec<usize>, Vec<String>> = BTreeMap::new();
        for (watcher, latest) in self.watchers {
            let mut set: Vec<usize> = latest.into_values().collect();
            set.sort_unstable();
            groups.entry(set).or_default().push(watcher);
        }
        groups
            .into_iter()
            .map(|(set, watchers)| {
                let values = set.iter().map(|&i| self.values[i].clone()).collect();
                (watchers, values)
            })
            .collect()
    }
}

/// The pending batches, by destination domain.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresenceBatches {
    domains: HashMap<String, Batch>,
}

impl PresenceBatches {
    /// When the oldest batch is due, given the delay.
    pub(crate) fn next_flush(&self, delay: std::time::Duration) -> Option<Instant> {
        self.domains.values().map(|b| later(b.since, delay)).min()
    }
}

impl Federation {
    /// Files a presence `value` of a local user for remote `watchers`, to be sent batched
    /// (see the module doc). Returns the watchers refused, with why: 402 for a watcher
    /// without a remote domain, 516 for a domain without route.
    pub fn notify_presence(
        &mut self,
        now: Instant,
        watchers: &[String],
        value: PresenceValue,
    ) -> Vec<(String, StatusCode)> {
        let local = self.config.local_domain.clone();
        let mut refused = Vec::new();
        for watcher in watchers {
            let domain = match domain_of_id(watcher) {
                Some(d) if !d.eq_ignore_ascii_case(&local) => d.to_ascii_lowercase(),
                _ => {
                    refused.push((watcher.clone(), StatusCode::InvalidParameter));
                    continue;
                }
            };
            if self.services.resolve(&domain).is_err() {
                refused.push((watcher.clone(), StatusCode::DomainNotSupported));
                continue;
            }
            self.presence
                .domains
                .entry(domain)
                .or_insert_with(|| Batch {
                    since: now,
                    values: Vec::new(),
                    watchers: BTreeMap::new(),
                })
                .add(watcher, &value);
        }
        if self.config.presence_delay.is_zero() {
            self.flush_presence(now);
        }
        refused
    }

    /// Sends every pending presence batch now.
    pub fn flush_presence(&mut self, now: Instant) {
        self.flush_presence_due(now, true);
    }

    /// Queues the batches due at `now` (all when `all`), then sends.
    pub(crate) fn flush_presence_due(&mut self, now: Instant, all: bool) {
        let delay = self.config.presence_delay;
        let due: Vec<String> = self
            .presence
            .domains
            .iter()
            .filter(|(_, b)| all || now >= later(b.since, delay))
            .map(|(d, _)| d.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        for domain in due {
            let Some(batch) = self.presence.domains.remove(&domain) else {
                continue;
            };
            for (watchers, values) in batch.notifications() {
                let request = RemoteRequest::PresenceNotification { watchers, values };
                // A refusal (queue full, feature not agreed) is reported like a failure.
                if let Err(code) = self.queue_request(now, request.clone(), false) {
                    self.events.push_back(Event::RequestResult(RequestResult {
                        transaction_id: None,
                        request,
                        status: status(code),
                        answer: Answer::None,
                    }));
                }
            }
        }
        self.drive(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(user: &str, n: u8) -> PresenceValue {
        PresenceValue {
            user_id: user.into(),
            sub_lists: vec![imps_protocol::raw::RawElement {
                name: format!("V{n}"),
                ..Default::default()
            }],
        }
    }

    #[test]
    fn watchers_with_the_same_latest_values_share_a_notification() {
        let mut batch = Batch {
            since: Instant::now(),
            values: Vec::new(),
            watchers: BTreeMap::new(),
        };
        for n in 0..5 {
            for w in ["wv:w1@a", "wv:w2@a", "wv:w3@a"] {
                batch.add(w, &value("wv:u@b", n));
            }
        }
        batch.add("wv:w3@a", &value("wv:v@b", 0));
        let got = batch.notifications();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            (
                vec!["wv:w1@a".to_owned(), "wv:w2@a".to_owned()],
                vec![value("wv:u@b", 4)]
            )
        );
        assert_eq!(
            got[1],
            (
                vec!["wv:w3@a".to_owned()],
                vec![value("wv:u@b", 4), value("wv:v@b", 0)]
            )
        );
    }
}
