//! The assembled engine on a real data directory with real executors: accounts written
//! through the shards are acknowledged once on disk, survive a restart, and log in.

use imps_engine::server::{Engine, EngineConfig, EngineError};
use imps_engine::shard::{Admin, AdminDone, Reply, Request};
use imps_engine::storage::StorageError;
use imps_protocol::primitives::LoginRequest;
use imps_protocol::{Message, Primitive, TransactionMode, Version};

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig {
        shards: Some(2),
        pin: false,
        ..EngineConfig::new(dir)
    }
}

fn login(user: &str, password: &str) -> Request {
    let mut req = LoginRequest {
        user_id: user.into(),
        password: Some(password.into()),
        session_cookie: "c".into(),
        ..Default::default()
    };
    req.client_id.url = Some("http://engine-test".into());
    Request::csp(Message::single(
        Version::V1_2,
        None,
        TransactionMode::Request,
        Some("t1".into()),
        req.into(),
    ))
}

fn login_code(reply: Reply) -> u32 {
    match reply {
        Reply::Csp(Some(m)) => match &m.session.transactions[0].content {
            Primitive::LoginResponse(r) => r.result.code,
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn accounts_survive_a_restart_and_log_in() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let engine = Engine::start(config(tmp.path())).expect("starts");
    let client = engine.client();
    for (user, pw) in [("alice", "a-pw"), ("bob", "b-pw"), ("carol", "c-pw")] {
        let done = client
            .call(Request::Admin(Admin::PutUser {
                user: user.into(),
                password: pw.into(),
                profile: Default::default(),
            }))
            .expect("answer");
        assert!(
            matches!(done, Reply::Admin(Ok(AdminDone::UserPut))),
            "{done:?}"
        );
    }
    assert_eq!(
        login_code(client.call(login("alice", "a-pw")).expect("answer")),
        200
    );

    // The directory is held while the engine runs.
    match Engine::start(config(tmp.path())) {
        Err(EngineError::Storage(StorageError::Locked { .. })) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
    engine.shutdown().expect("shuts down");

    let engine = Engine::start(config(tmp.path())).expect("restarts");
    let users: u64 = engine.recovery().iter().map(|r| r.records_replayed).sum();
    assert_eq!(users, 3);
    let client = engine.client();
    assert_eq!(
        login_code(client.call(login("bob", "b-pw")).expect("answer")),
        200
    );
    assert_eq!(
        login_code(client.call(login("carol", "nope")).expect("answer")),
        409
    );
    assert_eq!(
        login_code(client.call(login("dave", "x")).expect("answer")),
        531
    );
    engine.shutdown().expect("shuts down");
}
