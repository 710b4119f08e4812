//! The durable queue of the federation across a restart, end to end in memory: the queue
//! changes of a domain whose peer is down go to a real queue log on disk; the domain
//! restarts with a fresh `Federation` fed from that log; when the peer comes up, the
//! requests queued before the restart reach it, and their results carry the local user's
//! request again.

mod federation_net;

use std::path::Path;
use std::time::{Duration, Instant};

use federation_net::{config, request, seed, services_pair, subscribe};
use imps_engine::federation::{
    Event, Federation, Invitation, ItemOrigin, QueueChange, QueuedItem, RemoteRequest,
};
use imps_engine::peering::queue_log::{LoggedItem, QueueLog};

/// Wall-clock milliseconds the test plays at the virtual `now`.
const NOW_MS: u64 = 5_000_000;

/// Appends `changes` to the log under `dir` and waits until they are synced.
fn log_durably(dir: &Path, changes: Vec<QueueChange>, now: Instant) {
    let (mut log, _, durable) = QueueLog::open(dir).expect("open the log");
    let mut last = 0;
    for c in &changes {
        if let Some(seq) = log.record(c, now, NOW_MS) {
            last = seq;
        }
    }
    let mut seen = 0;
    while seen < last {
        seen = durable
            .recv_timeout(Duration::from_secs(5))
            .expect("durable");
    }
}

/// The queue item of a logged one, `now` being `NOW_MS` (what the desk does).
fn queued(item: LoggedItem, now: Instant) -> QueuedItem {
    QueuedItem {
        peer: item.peer,
        transaction: item.transaction,
        origin: item.origin,
        enqueued_at: now - Duration::from_millis(NOW_MS.saturating_sub(item.enqueued_ms)),
        expires_at: now + Duration::from_millis(item.expires_ms.saturating_sub(NOW_MS)),
    }
}

/// The results of local requests `events` hold: (status, request).
fn results(events: &[Event]) -> Vec<(u16, RemoteRequest)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RequestResult(r) => Some((r.status.code, r.request.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn service_requests_queued_before_a_restart_get_their_results_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = services_pair();
    net.nodes[1].up = false;
    let sub = subscribe("wv:alice@a.test", "wv:bob@b.test");
    let invite = RemoteRequest::Invite(Invitation {
        invite_id: "inv-1".into(),
        inviting: "wv:alice@a.test".into(),
        invited: "wv:bob@b.test".into(),
        invite_type: Some("IM".into()),
        validity: Some(600),
        note: Some("chat?".into()),
        ..Invitation::default()
    });
    request(&mut net, "a.test", sub.clone()).expect("queued");
    request(&mut net, "a.test", invite.clone()).expect("queued");
    net.advance(Duration::from_secs(30));
    assert!(results(&net.nodes[0].events).is_empty(), "b is down");
    let now = net.now;
    log_durably(dir.path(), std::mem::take(&mut net.nodes[0].changes), now);

    // a restarts: a fresh federation gets its queue back from the log.
    let (_, items, _) = QueueLog::open(dir.path()).expect("reopen the log");
    let origins: Vec<ItemOrigin> = items.iter().map(|i| i.origin.clone()).collect();
    assert_eq!(
        origins,
        vec![
            ItemOrigin::Service(Box::new(sub.clone())),
            ItemOrigin::Service(Box::new(invite.clone())),
        ]
    );
    let mut fresh = Federation::new(config("a.test", &["b.test"], &[]), seed(9)).expect("config");
    for item in items {
        fresh.restore(now, queued(item, now));
    }
    assert_eq!(fresh.queued("b.test"), 2);
    net.nodes[0].fed = fresh;
    net.nodes[0].events.clear();
    net.nodes[1].up = true;
    net.settle();
    let mut got = results(&net.nodes[0].events);
    got.sort_by_key(|(_, r)| matches!(r, RemoteRequest::Invite(_)));
    assert_eq!(got, vec![(200, sub), (200, invite)]);

    // Both left the queue: the log, replayed once more, holds nothing.
    let now = net.now;
    log_durably(dir.path(), std::mem::take(&mut net.nodes[0].changes), now);
    let (_, items, _) = QueueLog::open(dir.path()).expect("reopen the log");
    assert!(items.is_empty(), "{items:?}");
}
