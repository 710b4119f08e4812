//! SSP transaction management: the dedupe table, the relay Transaction Table with loop
//! detection and the Service Table's route resolution.

use std::time::{Duration, Instant};

use imps_protocol::StatusCode;
use imps_protocol::ssp::routing::{
    Leg, NextHop, Route, RouteError, ServiceTable, TransactionTable, extend_path,
};
use imps_protocol::ssp::transaction::{DedupeTable, Seen, relay_transaction_id};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[test]
fn dedupe_processes_each_transaction_once() {
    let now = Instant::now();
    let mut table: DedupeTable<u16> = DedupeTable::new(10, Duration::from_secs(60));
    let tid = relay_transaction_id(42, 7);
    assert_eq!(table.check(now, "a.test", &tid), Seen::New);
    assert_eq!(table.check(now, "A.TEST", &tid), Seen::Duplicate(None));
    table.record_answer("a.test", &tid, 200);
    assert_eq!(
        table.check(now, "a.test", &tid),
        Seen::Duplicate(Some(&200))
    );
    // Same id from another peer is another transaction.
    assert_eq!(table.check(now, "b.test", &tid), Seen::New);
    assert_eq!(table.len(), 2);
    table.forget_peer("b.test");
    assert_eq!(table.check(now, "b.test", &tid), Seen::New);
}

#[test]
fn dedupe_is_bounded_in_size_and_time() {
    let now = Instant::now();
    let mut table: DedupeTable<()> = DedupeTable::new(3, Duration::from_secs(60));
    for i in 0..5 {
        assert_eq!(table.check(now, "a.test", &i.to_string()), Seen::New);
    }
    assert_eq!(table.len(), 3);
    // The oldest two were evicted, the newest three remain.
    assert_eq!(table.check(now, "a.test", "4"), Seen::Duplicate(None));
    assert_eq!(table.check(now, "a.test", "2"), Seen::Duplicate(None));
    let later = now + Duration::from_secs(60);
    assert_eq!(table.check(later, "a.test", "4"), Seen::New);
    assert_eq!(table.len(), 1, "expired entries dropped");
    table.expire(later + Duration::from_secs(60));
    assert!(table.is_empty());
}

#[test]
fn relay_table_maps_both_ways_and_retraces_answers() {
    let now = Instant::now();
    let mut table = TransactionTable::new(10, Duration::from_secs(300));
    let incoming = Leg::new("A.test", "0000000001-1");
    let outgoing = Leg::new("c.test", "0000000099-0");
    let path = table
        .relay(
            now,
            incoming.clone(),
            &s(&["a.test"]),
            "h.test",
            outgoing.clone(),
        )
        .expect("relayed");
    assert_eq!(path, s(&["a.test", "h.test"]));
    assert_eq!(table.outgoing(&incoming), Some(&outgoing));
    // The same incoming transaction cannot be relayed twice.
    let again = table.relay(
        now,
        incoming.clone(),
        &[],
        "h.test",
        Leg::new("c.test", "x"),
    );
    assert!(matches!(again, Err(RouteError::Duplicate { .. })));
    assert_eq!(
        table.complete(&outgoing),
        Some(Leg::new("a.test", "0000000001-1"))
    );
    assert_eq!(
        table.complete(&outgoing),
        None,
        "one answer per transaction"
    );
    assert!(table.is_empty());
}

#[test]
fn relay_table_refuses_loops_is_bounded_and_expires() {
    let now = Instant::now();
    let mut table = TransactionTable::new(2, Duration::from_secs(300));
    // The request already passed through us.
    let err = table
        .relay(
            now,
            Leg::new("a.test", "1"),
            &s(&["a.test", "h.test"]),
            "h.test",
            Leg::new("c.test", "1"),
        )
        .expect_err("loop");
    assert!(matches!(err, RouteError::Loop { ref domain, .. } if domain == "h.test"));
    assert_eq!(err.status(), StatusCode::DomainNotSupported);
    // It would go back to a domain it came from.
    let err = table
        .relay(
            now,
            Leg::new("c.test", "2"),
            &s(&["a.test", "c.test"]),
            "h.test",
            Leg::new("a.test", "2"),
        )
        .expect_err("loop back");
    assert!(matches!(err, RouteError::Loop { ref domain, .. } if domain == "a.test"));
    assert!(table.is_empty());

    table
        .relay(
            now,
            Leg::new("a.test", "1"),
            &[],
            "h.test",
            Leg::new("c.test", "1"),
        )
        .expect("1");
    table
        .relay(
            now,
            Leg::new("a.test", "2"),
            &[],
            "h.test",
            Leg::new("c.test", "2"),
        )
        .expect("2");
    let err = table
        .relay(
            now,
            Leg::new("a.test", "3"),
            &[],
            "h.test",
            Leg::new("c.test", "3"),
        )
        .expect_err("full");
    assert_eq!(err, RouteError::Full(2));
    assert_eq!(err.status(), StatusCode::MessageQueueFull);
    let later = now + Duration::from_secs(300);
    table
        .relay(
            later,
            Leg::new("a.test", "3"),
            &[],
            "h.test",
            Leg::new("c.test", "3"),
        )
        .expect("room after expiry");
    assert_eq!(table.len(), 1);
    assert_eq!(
        table.complete(&Leg::new("c.test", "1")),
        None,
        "expired entry gone"
    );
}

#[test]
fn extend_path_appends_the_local_domain() {
    assert_eq!(extend_path(&[], "a.test", "b.test"), Ok(s(&["a.test"])));
    assert!(extend_path(&s(&["A.TEST"]), "a.test", "b.test").is_err());
}

#[test]
fn service_table_resolves_direct_and_relayed_routes() {
    let mut table = ServiceTable::new();
    table.insert("b.test", Route::Direct);
    table.insert("h.test", Route::Direct);
    table.insert("c.test", Route::Via("H.test".into()));
    table.insert("d.test", Route::Via("c.test".into()));
    assert_eq!(
        table.resolve("B.TEST"),
        Ok(NextHop {
            peer: "b.test".into(),
            hops: s(&["b.test"])
        })
    );
    assert_eq!(
        table.resolve("d.test"),
        Ok(NextHop {
            peer: "h.test".into(),
            hops: s(&["h.test", "c.test", "d.test"])
        })
    );
    assert_eq!(table.route("c.test"), Some(&Route::Via("h.test".into())));
    assert_eq!(table.validate(), Ok(()));
    assert_eq!(
        table.resolve("x.test"),
        Err(RouteError::NoRoute("x.test".into()))
    );
}

#[test]
fn service_table_detects_route_cycles_and_dangling_routes() {
    let mut table = ServiceTable::new();
    table.insert("c.test", Route::Via("e.test".into()));
    table.insert("e.test", Route::Via("f.test".into()));
    table.insert("f.test", Route::Via("c.test".into()));
    let err = table.resolve("c.test").expect_err("cycle");
    assert_eq!(
        err,
        RouteError::RouteCycle {
            domain: "c.test".into(),
            cycle: s(&["c.test", "e.test", "f.test", "c.test"])
        }
    );
    assert!(table.validate().is_err());
    let mut table = ServiceTable::new();
    table.insert("c.test", Route::Via("c.test".into()));
    assert!(matches!(
        table.resolve("c.test"),
        Err(RouteError::RouteCycle { .. })
    ));
    let mut table = ServiceTable::new();
    table.insert("c.test", Route::Via("nowhere.test".into()));
    assert_eq!(
        table.validate(),
        Err(RouteError::NoRoute("nowhere.test".into()))
    );
}
