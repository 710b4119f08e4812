//! What leaves for the peers: answers in the live session, handshake steps, and the queued
//! requests [`Federation::drive`] sends when a session is live (up to `batch_size` per POST,
//! only the agreement request while it is pending) or starts a handshake for.

use std::time::Instant;

use imps_protocol::ssp::{SessionBlock, SspMessage, Transaction, encode_ssp_into};

use super::{Event, Federation, Handshake, Transmit, TransmitKind};

impl Federation {
    /// Sends an answer to `peer` in its live session (dropped without one: the peer retries
    /// its request and gets the remembered answer).
    pub(super) fn answer(&mut self, now: Instant, peer: &str, answer: Transaction) {
        let local = &self.config.local_domain;
        let Some(sid) = self
            .sessions
            .session(peer, local)
            .and_then(|s| s.live(now))
            .map(|l| l.local_session_id.clone())
        else {
            return;
        };
        let tid = answer.transaction_id.clone();
        self.push_session(peer, sid, vec![answer], tid, TransmitKind::Response);
    }

    /// Queues a POST of `transactions` in a `Session` block with id `session_id`.
    pub(super) fn push_session(
        &mut self,
        peer: &str,
        session_id: String,
        transactions: Vec<Transaction>,
        transaction_id: String,
        kind: TransmitKind,
    ) {
        let Some(link) = self.peers.get(peer) else {
            return;
        };
        let mut body = Vec::new();
        encode_ssp_into(
            &SspMessage::Session(SessionBlock {
                session_id,
                transactions,
            }),
            &mut body,
        );
        self.transmits.push_back(Transmit {
            peer_domain: peer.to_owned(),
            url: link.url.clone(),
            body,
            transaction_id,
            kind,
        });
    }

    /// Queues a handshake step for `peer`; `initiated` when it is step 1 of our handshake.
    pub(super) fn push_setup(&mut self, peer: &str, message: &SspMessage, initiated: bool) {
        let SspMessage::Setup(step) = message else {
            return;
        };
        let Some(link) = self.peers.get_mut(peer) else {
            return;
        };
        let mut body = Vec::new();
        encode_ssp_into(message, &mut body);
        if initiated {
            link.handshake.initiated = Some(step.transaction_id.clone());
        }
        self.transmits.push_back(Transmit {
            peer_domain: peer.to_owned(),
            url: link.url.clone(),
            body,
            transaction_id: step.transaction_id.clone(),
            kind: TransmitKind::Setup,
        });
    }

    /// Sends the due items of `peer` in its live session `sid`, `batch_size` per POST (only
    /// the agreement request while it is pending).
    pub(super) fn send_due(&mut self, now: Instant, peer: &str, sid: &str) {
        let retry = self.config.retry;
        let size = self.config.batch_size.max(1);
        let Some(link) = self.peers.get_mut(peer) else {
            return;
        };
        let only = link.agreement.pending.clone();
        let due = link.queue.take_due(now, &retry, only.as_deref());
        for chunk in due.chunks(size) {
            let Some(first) = chunk.first() else {
                continue;
            };
            let tid = first.transaction_id.clone();
            if chunk.len() > 1 {
                let others = chunk[1..]
                    .iter()
                    .map(|t| t.transaction_id.clone())
                    .collect();
                self.batches
                    .insert((peer.to_owned(), tid.clone()), (now, others));
            }
            self.push_session(
                peer,
                sid.to_owned(),
                chunk.to_vec(),
                tid,
                TransmitKind::Request,
            );
        }
    }

    /// The transaction ids a POST of `transaction_id` to `peer` carried (itself first).
    pub(super) fn batch_of(&mut self, peer: &str, transaction_id: &str) -> Vec<String> {
        let mut tids = vec![transaction_id.to_owned()];
        if let Some((_, others)) = self
            .batches
            .remove(&(peer.to_owned(), transaction_id.to_owned()))
        {
            tids.extend(others);
        }
        tids
    }

    /// For every peer: send due items in a live session, or start a handshake when items wait
    /// (or the peer is to be greeted) and none is under way (or the last attempt failed and
    /// its back-off is over). A session that comes up with a new id raises [`Event::PeerUp`].
    pub(super) fn drive(&mut self, now: Instant) {
        let local = self.config.local_domain.clone();
        let mut domains: Vec<String> = self.peers.keys().cloned().collect();
        domains.sort();
        for domain in domains {
            let Some(session) = self.sessions.session_mut(&domain, &local) else {
                continue;
            };
            let Some(link) = self.peers.get_mut(&domain) else {
                continue;
            };
            let live = session.live(now).map(|l| l.local_session_id.clone());
            let told = std::mem::replace(&mut link.session, live.clone());
            if let Some(sid) = live {
                // A new session, the first one or one replacing a live one (the peer
                // restarted): the shards send the peer what it may have forgotten.
                if told.as_deref() != Some(sid.as_str()) {
                    link.handshake = Handshake::default();
                    link.greet = false;
                    self.events.push_back(Event::PeerUp {
                        peer: domain.clone(),
                    });
                    self.start_agreement(now, &domain);
                }
                self.send_due(now, &domain, &sid);
                continue;
            }
            if link.queue.is_empty() && !link.greet {
                continue;
            }
            let failed = link.handshake.retry_at.is_some();
            let due = link.handshake.retry_at.is_none_or(|t| now >= t);
            if (!session.is_handshaking() || failed) && due {
                link.handshake.retry_at = None;
                let step = session.initiate(now, &mut self.rng);
                self.push_setup(&domain, &step, true);
            }
        }
    }
}
