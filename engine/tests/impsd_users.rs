//! `impsd users add | generate | import` through the real binary on a real data directory,
//! then the shards loaded back as a server would, and a login against them.

use std::process::Command;

use imps_engine::config::AccessConfig;
use imps_engine::core::{Core, Millis, Output, Token};
use imps_engine::persist::load_shard;
use imps_engine::shard::{Reply, Request, route};
use imps_engine::storage::DataDir;
use imps_protocol::primitives::LoginRequest;
use imps_protocol::{Message, Primitive, TransactionMode, Version};

fn impsd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_impsd"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("impsd runs")
}

fn login_code(dir: &DataDir, user: &str, password: &str) -> u32 {
    let key = dir.master_key().expect("master key");
    let mut req = LoginRequest {
        user_id: user.into(),
        password: Some(password.into()),
        session_cookie: "c".into(),
        ..Default::default()
    };
    req.client_id.url = Some("http://t".into());
    let request = Request::csp(Message::single(
        Version::V1_2,
        None,
        TransactionMode::Request,
        Some("t".into()),
        req.into(),
    ));
    let s = route(&request, usize::from(dir.shards()), "imps.local");
    let (mut shard, report) =
        load_shard(dir, s as u16, AccessConfig::default(), key, [3; 32]).expect("shard loads");
    assert!(!report.lost_data(), "{report:?}");
    shard.handle_request(Millis(0), Token(1), request);
    let Some(Output::Reply {
        reply: Reply::Csp(Some(m)),
        ..
    }) = shard.poll_output()
    else {
        panic!("no reply")
    };
    let Primitive::LoginResponse(r) = &m.session.transactions[0].content else {
        panic!("not a login response")
    };
    r.result.code
}

#[test]
fn provisioning_commands_write_users_that_can_log_in() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let out = impsd(&[
        "users",
        "generate",
        "--data-dir",
        d,
        "--count",
        "500",
        "--shards",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("holds 500 users on 2 shards"));
    let out = impsd(&[
        "users",
        "add",
        "--data-dir",
        d,
        "--user",
        "wv:Alice@imps.local",
        "--password",
        "s3cret",
        "--alias",
        "Al",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = tmp.path().join("users.csv");
    std::fs::write(&csv, "user,password\ncarol,c-pw,Carol\ndan,\"d,pw\"\n").unwrap();
    let out = impsd(&["users", "import", "--data-dir", d, csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("holds 503 users"));

    // Another shard count is refused with a clear message.
    let out = impsd(&[
        "users",
        "add",
        "--data-dir",
        d,
        "--shards",
        "3",
        "--user",
        "x",
        "--password",
        "y",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("created with 2 shards, not 3"));

    // While something holds the directory (a running server), provisioning is refused.
    let dir = DataDir::open_existing(&data).unwrap();
    let lock = dir.lock().unwrap();
    let out = impsd(&[
        "users",
        "add",
        "--data-dir",
        d,
        "--user",
        "x",
        "--password",
        "y",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(lock);

    // The passwords are not in the logs in clear.
    for i in 0..2u16 {
        for entry in std::fs::read_dir(dir.shard_dir(i)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(6).any(|w| w == b"s3cret"));
        }
    }

    assert_eq!(login_code(&dir, "user1", "pass"), 200);
    assert_eq!(login_code(&dir, "user500", "pass"), 200);
    assert_eq!(login_code(&dir, "alice", "s3cret"), 200);
    assert_eq!(login_code(&dir, "dan", "d,pw"), 200);
    assert_eq!(login_code(&dir, "carol", "wrong"), 409);
    assert_eq!(login_code(&dir, "user501", "pass"), 531);
}

#[test]
fn impsd_groups_add_writes_a_public_group_with_its_administrators() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let out = impsd(&[
        "groups",
        "add",
        "--data-dir",
        d,
        "--shards",
        "2",
        "--group",
        "/lobby",
        "--name",
        "Lobby",
        "--topic",
        "Say hello",
        "--searchable",
        "--welcome",
        "Hi!",
        "--admin",
        "alice",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = impsd(&[
        "groups",
        "add",
        "--data-dir",
        d,
        "--group",
        "a b",
        "--name",
        "x",
    ]);
    assert!(!bad.status.success(), "an invalid GroupID is refused");
    let dir = DataDir::open_existing(&data).expect("data dir");
    let key = dir.master_key().expect("master key");
    let groups: Vec<_> = (0..dir.shards())
        .flat_map(|i| {
            let (shard, _) =
                load_shard(&dir, i, AccessConfig::default(), key, [3; 32]).expect("shard loads");
            shard.image().groups
        })
        .collect();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.id, "wv:/lobby@imps.local");
    assert_eq!(g.owner, None);
    assert_eq!(g.members, vec![("wv:alice@imps.local".to_owned(), 2)]);
    assert!(
        g.properties
            .contains(&("Searchable".to_owned(), "T".to_owned()))
    );
    assert_eq!(g.welcome, Some(("text/plain".to_owned(), "Hi!".to_owned())));
}
