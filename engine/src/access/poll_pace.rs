//! ServerPollMin enforcement: how often a session without CIR may poll for nothing.
//!
//! The server advertises `ServerPollMin` in ClientCapability-Response; a client that polls
//! faster only costs the carrier radio and server time. Each session keeps a [`PollPace`]:
//!
//! ```text
//!   Polling-Request at `now`
//!     something queued, or a CIR wake-up / Poll=T was sent since  -> served (always)
//!     first poll, or at least 80% of ServerPollMin since the last -> served
//!     earlier (an early poll)                                     -> served, without work
//!     more than 3 early polls in a row                            -> refused: CSP Status 503
//! ```
//!
//! An early poll has nothing to collect (nothing is queued), so it is answered as any empty
//! poll, but counted. A run of early polls ends at the first on-time or invited poll. The
//! session, its keep-alive and the other transactions of the message are not affected.

use crate::core::Millis;

/// Polls at least this share (percent) of ServerPollMin apart are on time: clients' timers
/// drift, and a request may wait in a radio queue.
pub const ON_TIME_PERCENT: u64 = 80;

/// Early polls in a row that are still served; the ones after are refused.
pub const EARLY_POLLS_SERVED: u8 = 3;

/// What a Polling-Request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollVerdict {
    /// Served: the queued transactions are collected.
    Served,
    /// Too early, nothing to collect: answered as an empty poll, and counted.
    Early,
    /// Too early too often: answered with Status 503.
    Refused,
}

/// The polling rhythm of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollPace {
    last: Option<Millis>,
    early_run: u8,
    invited: bool,
}

impl PollPace {
    /// The server asked the client to poll (a CIR wake-up, or Poll=T in a reply): its next
    /// poll is served whatever its timing.
    pub fn invite(&mut self) {
        self.invited = true;
    }

    /// Judges a Polling-Request at `now`, with ServerPollMin `min_s` (0: no minimum) and
    /// whether the session has anything queued.
    pub fn poll(&mut self, now: Millis, min_s: u32, has_queued: bool) -> PollVerdict {
        let invited = std::mem::take(&mut self.invited) || has_queued;
        let on_time_ms = u64::from(min_s) * 1000 * ON_TIME_PERCENT / 100;
        let early = self.last.is_some_and(|last| now.since(last) < on_time_ms);
        self.last = Some(now);
        if invited || !early {
            self.early_run = 0;
            return PollVerdict::Served;
        }
        self.early_run = self.early_run.saturating_add(1);
        if self.early_run > EARLY_POLLS_SERVED {
            PollVerdict::Refused
        } else {
            PollVerdict::Early
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_S: u32 = 10;

    #[test]
    fn on_time_polls_are_served() {
        let mut pace = PollPace::default();
        for i in 0..10 {
            assert_eq!(
                pace.poll(Millis(i * 8_000), MIN_S, false),
                PollVerdict::Served
            );
        }
    }

    #[test]
    fn early_polls_are_counted_then_refused_until_one_is_on_time() {
        let mut pace = PollPace::default();
        assert_eq!(pace.poll(Millis(0), MIN_S, false), PollVerdict::Served);
        for i in 1..=u64::from(EARLY_POLLS_SERVED) {
            assert_eq!(
                pace.poll(Millis(i * 1_000), MIN_S, false),
                PollVerdict::Early
            );
        }
        assert_eq!(pace.poll(Millis(4_000), MIN_S, false), PollVerdict::Refused);
        assert_eq!(pace.poll(Millis(7_900), MIN_S, false), PollVerdict::Refused);
        // 8 s after the last one (80% of 10 s): on time, the run is over.
        assert_eq!(pace.poll(Millis(15_900), MIN_S, false), PollVerdict::Served);
        assert_eq!(pace.poll(Millis(16_000), MIN_S, false), PollVerdict::Early);
    }

    #[test]
    fn queued_work_and_invitations_make_any_poll_welcome() {
        let mut pace = PollPace::default();
        assert_eq!(pace.poll(Millis(0), MIN_S, false), PollVerdict::Served);
        for i in 1..=5 {
            assert_eq!(pace.poll(Millis(i), MIN_S, true), PollVerdict::Served);
        }
        for i in 6..=6 + u64::from(EARLY_POLLS_SERVED) {
            assert_ne!(pace.poll(Millis(i), MIN_S, false), PollVerdict::Served);
        }
        pace.invite();
        assert_eq!(pace.poll(Millis(20), MIN_S, false), PollVerdict::Served);
        // The invitation is used up; the run of early polls starts over.
        assert_eq!(pace.poll(Millis(21), MIN_S, false), PollVerdict::Early);
    }

    /// The rule in a shard: alice polls in a simulation with the default ServerPollMin.
    #[test]
    fn a_shard_answers_early_polls_empty_then_with_status_503() {
        use crate::config::AccessConfig;
        use crate::sim::{Sim, SimClient};
        use imps_protocol::common::{Recipient, User};
        use imps_protocol::primitives::{MessageInfo, SendMessageRequest};
        use imps_protocol::types::UserId;
        use imps_protocol::{Primitive, Version};

        let config = AccessConfig::default();
        let min_ms = u64::from(config.server_poll_min_s) * 1000;
        let domain = config.domain.clone();
        let mut sim = Sim::new(2, config, 7);
        assert!(sim.add_user("alice", "pw") && sim.add_user("bob", "pw"));
        let mut alice = SimClient::new("alice", Version::V1_2);
        let mut bob = SimClient::new("bob", Version::V1_2);
        alice.login(&mut sim, "pw").expect("login");
        bob.login(&mut sim, "pw").expect("login");
        let refused = |reply: Option<imps_protocol::Message>| {
            reply.is_some_and(|m| {
                matches!(&m.session.transactions[..], [t]
                    if matches!(&t.content, Primitive::Status(s) if s.result.code == 503))
            })
        };
        assert!(alice.poll(&mut sim).is_none());
        for _ in 0..EARLY_POLLS_SERVED {
            sim.advance(100);
            assert!(alice.poll(&mut sim).is_none());
        }
        assert!(refused(alice.poll(&mut sim)));
        assert_eq!(
            sim.shard(0).sessions.poll_violations().0 + sim.shard(1).sessions.poll_violations().0,
            u64::from(EARLY_POLLS_SERVED)
        );
        // A message for alice: her next poll collects it at once.
        let send = SendMessageRequest {
            message_info: MessageInfo {
                recipient: Some(Recipient {
                    users: vec![User {
                        user_id: UserId(format!("wv:alice@{domain}")),
                        client_id: None,
                        friendly_name: None,
                    }],
                    ..Recipient::default()
                }),
                ..MessageInfo::default()
            },
            content_data: Some("hi".into()),
            delivery_report: Some(false),
        };
        assert!(bob.call(&mut sim, send.into()).is_some());
        let polled = alice.poll(&mut sim).expect("the message");
        assert!(
            polled
                .session
                .transactions
                .iter()
                .any(|t| matches!(t.content, Primitive::NewMessage(_)))
        );
        // On time again after 80% of ServerPollMin.
        sim.advance(min_ms * ON_TIME_PERCENT / 100);
        assert!(alice.poll(&mut sim).is_none());
        let refusals: u64 = (0..2)
            .map(|i| sim.shard(i).sessions.poll_violations().1)
            .sum();
        assert_eq!(refusals, 1);
    }

    #[test]
    fn no_minimum_means_no_early_poll() {
        let mut pace = PollPace::default();
        for i in 0..10 {
            assert_eq!(pace.poll(Millis(i), 0, false), PollVerdict::Served);
        }
    }
}
