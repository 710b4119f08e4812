//! The service requests of local users in the queue log: logged, read back as the same
//! [`ItemOrigin::Service`] after a restart, dropped once removed, and skipped (not panicked
//! on) when a record no longer yields its request. Real files in a temporary directory, real
//! syncs.

use std::time::{Duration, Instant};

use imps_protocol::ssp::relay::SubscribeRequest;
use imps_protocol::ssp::{Content, Mode, Status};

use super::*;
use crate::federation::{Invitation, QueuedItem, RemovalReason};

const NOW_MS: u64 = 1_000_000;

fn subscribe() -> RemoteRequest {
    RemoteRequest::SubscribePresence {
        watcher: "wv:alice@a.test".into(),
        users: vec!["wv:bob@b.test".into(), "wv:bert@b.test".into()],
        attributes: None,
    }
}

fn invite() -> RemoteRequest {
    RemoteRequest::Invite(Invitation {
        invite_id: "inv-1".into(),
        inviting: "wv:alice@a.test".into(),
        invited: "wv:bob@b.test".into(),
        invite_type: Some("GR".into()),
        validity: Some(600),
        group_id: Some("wv:alice/chat@a.test".into()),
        attributes: None,
        note: Some("join us".into()),
    })
}

/// A service item of a.test for b.test, as [`crate::federation::Federation::request`] queues it.
fn service(tid: &str, request: RemoteRequest, now: Instant) -> QueuedItem {
    QueuedItem {
        peer: "b.test".into(),
        transaction: Transaction::new(Mode::Request, tid, request.to_content("a.test")),
        origin: ItemOrigin::Service(Box::new(request)),
        enqueued_at: now,
        expires_at: now + Duration::from_secs(60),
    }
}

/// A message item, as the log's own tests make it.
fn message(tid: &str, now: Instant) -> QueuedItem {
    super::tests::item(tid, now)
}

/// What the log should give back for `item` (queued at `NOW_MS`).
fn logged(item: &QueuedItem) -> LoggedItem {
    LoggedItem {
        peer: item.peer.clone(),
        transaction: item.transaction.clone(),
        origin: item.origin.clone(),
        enqueued_ms: NOW_MS,
        expires_ms: NOW_MS + 60_000,
    }
}

fn enqueued(item: &QueuedItem) -> QueueChange {
    QueueChange::Enqueued(Box::new(item.clone()))
}

fn removed(tid: &str, reason: RemovalReason) -> QueueChange {
    QueueChange::Removed {
        peer: "b.test".into(),
        transaction_id: tid.into(),
        reason,
    }
}

/// Records `changes` (all at `now`), then waits until the writer has synced the last one.
fn record_durably(dir: &Path, changes: &[QueueChange], now: Instant) -> Vec<LoggedItem> {
    let (mut log, items, durable) = QueueLog::open(dir).expect("open");
    let mut last = 0;
    for c in changes {
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
    items
}

fn reopen(dir: &Path) -> Vec<LoggedItem> {
    QueueLog::open(dir).expect("reopen").1
}

/// The payload of a record as [`encode_item`] writes it, with any origin tag and transaction.
fn raw_record(transaction: &Transaction, tag: u8) -> Vec<u8> {
    let mut out = vec![1u8];
    put_str(&mut out, "b.test");
    let mut xml = Vec::new();
    encode_ssp_into(
        &SspMessage::Session(SessionBlock {
            session_id: "queue".into(),
            transactions: vec![transaction.clone()],
        }),
        &mut xml,
    );
    put_str(&mut out, &String::from_utf8_lossy(&xml));
    out.push(tag);
    out.extend_from_slice(&NOW_MS.to_le_bytes());
    out.extend_from_slice(&(NOW_MS + 60_000).to_le_bytes());
    out
}

fn append_frames(dir: &Path, payloads: &[Vec<u8>]) {
    let path = dir.join("federation/queue.log");
    let mut bytes = std::fs::read(&path).expect("read");
    for p in payloads {
        encode_frame(p, &mut bytes).expect("frame");
    }
    std::fs::write(&path, bytes).expect("write");
}

#[test]
fn service_requests_survive_a_restart_and_come_back_as_service_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let (sub, inv, msg) = (
        service("t1", subscribe(), now),
        service("t2", invite(), now),
        message("t3", now),
    );
    let first = record_durably(
        dir.path(),
        &[enqueued(&sub), enqueued(&inv), enqueued(&msg)],
        now,
    );
    assert!(first.is_empty());
    let items = reopen(dir.path());
    assert_eq!(items, vec![logged(&sub), logged(&inv), logged(&msg)]);
    assert_eq!(items[0].origin, ItemOrigin::Service(Box::new(subscribe())));
    assert_eq!(items[1].origin, ItemOrigin::Service(Box::new(invite())));
    // Read back again after the rewrite of the first reopening.
    assert_eq!(reopen(dir.path()), items);
}

#[test]
fn removed_service_requests_do_not_come_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let (sub, inv, msg) = (
        service("t1", subscribe(), now),
        service("t2", invite(), now),
        message("t3", now),
    );
    record_durably(
        dir.path(),
        &[enqueued(&sub), enqueued(&inv), enqueued(&msg)],
        now,
    );
    // After a restart: the subscription is acknowledged, the invitation expires.
    let items = record_durably(
        dir.path(),
        &[
            removed("t1", RemovalReason::Acknowledged),
            removed("t2", RemovalReason::Expired),
        ],
        now,
    );
    assert_eq!(items.len(), 3);
    assert_eq!(reopen(dir.path()), vec![logged(&msg)]);
    // The compaction of that reopening dropped them from the file for good.
    let bytes = std::fs::read(dir.path().join("federation/queue.log")).expect("read");
    assert_eq!(FrameReader::new(&bytes).count(), 1);
}

#[test]
fn removal_records_are_written_for_service_items_only_once_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let (mut log, _, _) = QueueLog::open(dir.path()).expect("open");
    let sub = service("t1", subscribe(), now);
    assert!(log.record(&enqueued(&sub), now, NOW_MS).is_some());
    assert!(
        log.record(&removed("t1", RemovalReason::Answered), now, NOW_MS)
            .is_some()
    );
    // Removed twice, or never logged: nothing to write.
    assert!(
        log.record(&removed("t1", RemovalReason::Answered), now, NOW_MS)
            .is_none()
    );
    let relay = QueuedItem {
        origin: ItemOrigin::Relay {
            peer: "c.test".into(),
            transaction_id: "9".into(),
        },
        ..service("t2", subscribe(), now)
    };
    assert!(log.record(&enqueued(&relay), now, NOW_MS).is_none());
    let agreement = QueuedItem {
        origin: ItemOrigin::Agreement,
        ..message("t3", now)
    };
    assert!(log.record(&enqueued(&agreement), now, NOW_MS).is_none());
    assert!(
        log.record(&removed("t2", RemovalReason::Acknowledged), now, NOW_MS)
            .is_none()
    );
}

#[test]
fn a_service_item_whose_transaction_does_not_carry_it_is_not_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let (mut log, _, _) = QueueLog::open(dir.path()).expect("open");
    let odd = QueuedItem {
        transaction: Transaction::new(Mode::Request, "t1", Content::Status(Status::new(200))),
        ..service("t1", subscribe(), now)
    };
    assert!(log.record(&enqueued(&odd), now, NOW_MS).is_none());
}

#[test]
fn service_records_that_no_longer_yield_their_request_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let sub = service("t1", subscribe(), now);
    record_durably(dir.path(), &[enqueued(&sub)], now);
    let not_a_service = Transaction::new(Mode::Request, "t2", Content::Status(Status::new(200)));
    let no_watcher = Transaction::new(
        Mode::Request,
        "t3",
        Content::SubscribeRequest(SubscribeRequest {
            meta_info: None,
            user_ids: vec!["wv:bob@b.test".into()],
            attribute_list: None,
        }),
    );
    let mut cut = raw_record(&service("t5", invite(), now).transaction, 3);
    cut.truncate(cut.len() - 3);
    let mut bad_xml = vec![1u8];
    put_str(&mut bad_xml, "b.test");
    put_str(&mut bad_xml, "<WV-SSP-Message><Session>");
    bad_xml.push(3);
    bad_xml.extend_from_slice(&[0; 16]);
    append_frames(
        dir.path(),
        &[
            raw_record(&not_a_service, 3),
            raw_record(&no_watcher, 3),
            raw_record(&service("t4", invite(), now).transaction, 9),
            cut,
            bad_xml,
        ],
    );
    assert_eq!(reopen(dir.path()), vec![logged(&sub)]);
    let bytes = std::fs::read(dir.path().join("federation/queue.log")).expect("read");
    assert_eq!(
        FrameReader::new(&bytes).count(),
        1,
        "skipped records are dropped"
    );
}

#[test]
fn a_damaged_record_says_why() {
    let now = Instant::now();
    let status = Transaction::new(Mode::Request, "t", Content::Status(Status::new(200)));
    assert!(matches!(
        decode_item(&raw_record(&status, 3)),
        Err(RecordError::NotAService)
    ));
    let no_watcher = Transaction::new(
        Mode::Request,
        "t",
        Content::SubscribeRequest(SubscribeRequest {
            meta_info: None,
            user_ids: Vec::new(),
            attribute_list: None,
        }),
    );
    assert!(matches!(
        decode_item(&raw_record(&no_watcher, 3)),
        Err(RecordError::InvalidService(StatusCode::InvalidParameter))
    ));
    let invite = service("t", invite(), now).transaction;
    assert!(matches!(
        decode_item(&raw_record(&invite, 7)),
        Err(RecordError::UnknownOrigin(7))
    ));
    let whole = raw_record(&invite, 3);
    assert!(decode_item(&whole).is_ok());
    for len in [0, 1, 5, whole.len() - 1] {
        assert!(decode_item(&whole[..len]).is_err(), "cut at {len}");
    }
    // A message record cut inside its origin fields.
    let msg = encode_item(&logged(&message("t", now))).expect("logged");
    assert!(matches!(
        decode_item(&msg[..msg.len() - 20]),
        Err(RecordError::Truncated)
    ));
}

#[test]
fn an_item_queued_again_comes_back_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Instant::now();
    let (sub, inv) = (
        service("t1", subscribe(), now),
        service("t2", invite(), now),
    );
    // The peer acknowledged t1, then lost the session: t1 is queued again.
    record_durably(
        dir.path(),
        &[
            enqueued(&sub),
            enqueued(&inv),
            removed("t1", RemovalReason::Acknowledged),
            enqueued(&sub),
        ],
        now,
    );
    assert_eq!(reopen(dir.path()), vec![logged(&sub), logged(&inv)]);
}
