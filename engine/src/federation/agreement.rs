//! Service discovery and agreement with each peer (SSP.md §1, §7; our extension primitives
//! `ServiceRequest` / `ServiceResponse`, named in `imps_protocol::ssp::names`).
//!
//! Each time a session with a peer comes up, each side sends a `ServiceRequest` listing the
//! feature groups it offers ([`super::FederationConfig::offered`]) ahead of everything else
//! in its queue; the other side answers a `ServiceResponse` with the groups both offer and
//! keeps that set as the agreement. Until the answer arrives nothing else is sent to the peer.
//! Then queued requests of groups not agreed are failed with 506, and new ones are refused
//! at once with 506 (sending side); a received request of a group not agreed is answered 506
//! (receiving side). Both sides compute the same intersection, whoever asks first.
//!
//! A peer that does not know the extension (Baraza answers 405) or does not answer within
//! twice the send timeout leaves the agreement open: our own offer applies, so the
//! Baraza-compatible primitives keep working.
//! Agreement items are session-scoped: they are not reported as [`super::QueueChange`]s.

use std::time::Instant;

use imps_protocol::StatusCode;
use imps_protocol::ssp::extension::{FeatureGroup, Features, ServiceRequest, ServiceResponse};
use imps_protocol::ssp::{Content, Mode, Party, Sender, Transaction};

use super::queue::{ItemOrigin, QueueChange, QueuedItem, RemovalReason, later};
use super::request::RemoteRequest;
use super::wire::meta;
use super::{Event, Federation, status};

/// The agreement state with one peer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Agreement {
    /// Our `ServiceRequest` waiting for its answer: only it may be sent.
    pub(crate) pending: Option<String>,
    /// The agreed groups; `None` when not negotiated (our offer applies).
    pub(crate) agreed: Option<Features>,
}

impl Agreement {
    /// True when requests of `group` may go to (or come from) the peer, given our `offered`.
    pub(crate) fn allows(&self, offered: &Features, group: &FeatureGroup) -> bool {
        self.agreed.as_ref().unwrap_or(offered).contains(group)
    }
}

/// True when a message's recipients hold a group (a group message, not an IM).
fn to_group(recipients: &[Party]) -> bool {
    recipients.iter().any(|p| !p.group_ids.is_empty())
}

/// The feature group a primitive needs agreed; `None` for answers, the agreement itself and
/// unknown primitives.
pub(crate) fn feature_of(content: &Content) -> Option<FeatureGroup> {
    match content {
        Content::SendMessageRequest(r) if to_group(&r.message_info.recipients) => {
            Some(FeatureGroup::Group)
        }
        Content::SendMessageRequest(r)
            if matches!(r.message_info.sender, Some(Sender::Group { .. })) =>
        {
            Some(FeatureGroup::Group)
        }
        Content::SendMessageRequest(_) | Content::DeliveryStatusReport(_) => Some(FeatureGroup::Im),
        other => RemoteRequest::from_content(other)
            .and_then(Result::ok)
            .map(|r| r.feature()),
    }
}

impl Federation {
    /// The feature groups agreed with `peer`: `None` while not negotiated (our offer applies).
    pub fn agreed_features(&self, peer: &str) -> Option<&Features> {
        self.peers
            .get(&peer.to_ascii_lowercase())
            .and_then(|l| l.agreement.agreed.as_ref())
    }

    /// Starts the agreement with `peer` whose session just came up: our `ServiceRequest`
    /// goes first in its queue.
    pub(crate) fn start_agreement(&mut self, now: Instant, peer: &str) {
        let local = self.config.local_domain.clone();
        let offered = self.config.offered.clone();
        // Bounded so that a peer that takes the request and never answers does not hold
        // the queue for long: at its expiry our offer applies.
        let expiry = self
            .config
            .queue_expiry
            .min(self.config.retry.send_timeout.saturating_mul(2));
        let tid = self.ids.next_id();
        let Some(link) = self.peers.get_mut(peer) else {
            return;
        };
        link.queue
            .remove_where(|i| i.origin == ItemOrigin::Agreement);
        let content = Content::ServiceRequest(ServiceRequest {
            meta_info: meta(&local, None),
            offered,
        });
        link.queue.push_front(
            now,
            QueuedItem {
                peer: peer.to_owned(),
                transaction: Transaction::new(Mode::Request, tid.clone(), content),
                origin: ItemOrigin::Agreement,
                enqueued_at: now,
                expires_at: later(now, expiry),
            },
        );
        link.agreement = Agreement {
            pending: Some(tid),
            agreed: None,
        };
    }

    /// The peer's `ServiceRequest`: the groups both offer become the agreement.
    pub(crate) fn on_service_request(&mut self, peer: &str, r: &ServiceRequest) -> Content {
        let agreed = self.config.offered.intersect(&r.offered);
        if let Some(link) = self.peers.get_mut(peer) {
            link.agreement.agreed = Some(agreed.clone());
        }
        self.events.push_back(Event::Agreed {
            peer: peer.to_owned(),
            features: agreed.clone(),
        });
        Content::ServiceResponse(ServiceResponse {
            status: status(StatusCode::Successful),
            agreed,
        })
    }

    /// The answer to our `ServiceRequest` (or its failure): the agreement is settled, queued
    /// requests of groups not agreed fail with 506.
    pub(crate) fn on_agreement_answer(
        &mut self,
        now: Instant,
        peer: &str,
        transaction_id: &str,
        content: &Content,
    ) {
        let offered = self.config.offered.clone();
        let agreed = match content {
            Content::ServiceResponse(r) if r.status.is_success() => {
                Some(offered.intersect(&r.agreed))
            }
            _ => None,
        };
        let Some(link) = self.peers.get_mut(peer) else {
            return;
        };
        // The answer to the request of an earlier session changes nothing.
        if link.agreement.pending.as_deref() != Some(transaction_id) {
            return;
        }
        link.agreement.pending = None;
        if agreed.is_some() {
            link.agreement.agreed = agreed;
        }
        let agreement = link.agreement.clone();
        let refused = link.queue.remove_where(|i| {
            feature_of(&i.transaction.content).is_some_and(|f| !agreement.allows(&offered, &f))
        });
        if let Some(features) = &agreement.agreed {
            self.events.push_back(Event::Agreed {
                peer: peer.to_owned(),
                features: features.clone(),
            });
        }
        for item in refused {
            self.changes.push_back(QueueChange::Removed {
                peer: peer.to_owned(),
                transaction_id: item.transaction_id().to_owned(),
                reason: RemovalReason::Refused,
            });
            self.fail_item(now, item, StatusCode::ServiceNotAgreed);
        }
    }
}
