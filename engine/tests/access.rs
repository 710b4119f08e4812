//! The access service in the simulation harness: every login, session and negotiation flow,
//! with a virtual clock (no sockets, no sleeping). Every exchange goes through the XML codec.

use imps_engine::access::session_id::parse_session_id;
use imps_engine::config::AccessConfig;
use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
use imps_engine::record::Record;
use imps_engine::shard::{Admin, AdminDone, Reply, Request, Shard, ShardSetup};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::primitives::*;
use imps_protocol::types::TransactionId;
use imps_protocol::{Primitive, StatusCode, TransactionMode, Version};

fn sim() -> Sim {
    let mut sim = Sim::new(2, AccessConfig::default(), 7);
    for u in ["alice", "bob", "carol"] {
        assert!(sim.add_user(u, &format!("{u}-pw")));
    }
    sim
}

fn status_of(p: Option<Primitive>) -> StatusCode {
    match p {
        Some(Primitive::Status(s)) => s.result.status(),
        Some(Primitive::Disconnect(d)) => d.result.status(),
        other => panic!("expected a Status, got {other:?}"),
    }
}

#[test]
fn plain_login_opens_a_session_on_the_users_shard() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    let r = alice.login(&mut sim, "alice-pw").expect("login");
    assert_eq!(r.keep_alive_time, Some(300));
    assert_eq!(r.capability_request, Some(true));
    let sid = r.session_id.expect("session id");
    let (shard, _) = parse_session_id(sid.as_str()).expect("our format");
    let owner = imps_engine::routing::owner_of_key("wv:alice@imps.local", 2);
    assert_eq!(shard, usize::from(owner.0));
    // Spelling of the user ID does not matter.
    let mut again = SimClient::new("WV:Alice@IMPS.local", Version::V1_1).with_client("other");
    again
        .login(&mut sim, "alice-pw")
        .expect("login with another spelling");
    assert_eq!(sim.shard(shard).session_count(), 2);
}

#[test]
fn wrong_credentials_get_no_session() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    assert_eq!(
        alice.login(&mut sim, "nope").unwrap_err(),
        StatusCode::InvalidPassword
    );
    assert!(alice.session.is_none());
    let mut ghost = SimClient::new("ghost", Version::V1_2);
    assert_eq!(
        ghost.login(&mut sim, "x").unwrap_err(),
        StatusCode::UnknownUser
    );
    let mut bad = SimClient::new("wv:", Version::V1_2);
    assert_eq!(
        bad.login(&mut sim, "x").unwrap_err(),
        StatusCode::UnknownUser
    );
}

#[test]
fn digest_login_md5_and_sha() {
    let mut sim = sim();
    let mut bob = SimClient::new("bob", Version::V1_1);
    let r = bob
        .login_digest(&mut sim, "bob-pw", "MD5")
        .expect("md5 login");
    assert!(r.session_id.is_some());
    let mut bob2 = SimClient::new("bob", Version::V1_2).with_client("phone2");
    bob2.login_digest(&mut sim, "bob-pw", "PWD,SHA,MD5")
        .expect("sha login");
    let mut bad = SimClient::new("bob", Version::V1_2).with_client("phone3");
    assert_eq!(
        bad.login_digest(&mut sim, "wrong", "SHA").unwrap_err(),
        StatusCode::InvalidPassword
    );
    let mut none = SimClient::new("bob", Version::V1_2).with_client("phone4");
    assert_eq!(
        none.login_digest(&mut sim, "bob-pw", "MD6").unwrap_err(),
        StatusCode::NoMatchingDigestScheme
    );
}

#[test]
fn digest_challenge_code_nonce_single_use_and_expiry() {
    let mut sim = sim();
    let mut carol = SimClient::new("carol", Version::V1_2);
    let mut first = LoginRequest {
        user_id: "carol".into(),
        session_cookie: "c".into(),
        ..Default::default()
    };
    first.digest_schemas = vec![DigestSchemaList(vec![DigestSchema::Md5])];
    let Some(Primitive::LoginResponse(ch)) = carol.call(&mut sim, first.clone().into()) else {
        panic!("no challenge")
    };
    assert_eq!(ch.result.code, 401);
    assert!(ch.session_id.is_none());
    let nonce = ch.nonce.clone().expect("nonce");
    let digest = imps_engine::credentials::digest_bytes(
        imps_engine::credentials::DigestScheme::Md5,
        &nonce,
        "carol-pw",
    );
    let mut second = first.clone();
    second.digest_schemas.clear();
    second.digest_bytes = Some(imps_protocol::types::Base64Text(digest));
    let Some(Primitive::LoginResponse(ok)) = carol.call(&mut sim, second.clone().into()) else {
        panic!("no answer")
    };
    assert_eq!(ok.result.code, 200);
    // Replaying the same proof: the nonce is gone, so it is a new challenge, not a session.
    let Some(Primitive::LoginResponse(replay)) = carol.call(&mut sim, second.clone().into()) else {
        panic!("no answer")
    };
    assert!(replay.session_id.is_none());
    assert_ne!(replay.nonce.as_deref(), Some(nonce.as_str()));
    // An expired nonce does not open a session either.
    let fresh = replay.nonce.expect("fresh nonce");
    sim.advance(31_000);
    let mut late = first.clone();
    late.digest_schemas.clear();
    late.digest_bytes = Some(imps_protocol::types::Base64Text(
        imps_engine::credentials::digest_bytes(
            imps_engine::credentials::DigestScheme::Md5,
            &fresh,
            "carol-pw",
        ),
    ));
    let Some(Primitive::LoginResponse(late)) = carol.call(&mut sim, late.into()) else {
        panic!("no answer")
    };
    assert!(late.session_id.is_none());

    // The challenge code is configurable (some clients want 200).
    let config = AccessConfig {
        challenge_code: 200,
        ..AccessConfig::default()
    };
    let mut sim = Sim::new(1, config, 1);
    sim.add_user("dave", "pw");
    let mut dave = SimClient::new("dave", Version::V1_1);
    dave.login_digest(&mut sim, "pw", "SHA")
        .expect("login with 200 challenge");
}

#[test]
fn time_to_live_is_bounded() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    let mut req = LoginRequest {
        user_id: "alice".into(),
        password: Some("alice-pw".into()),
        session_cookie: "c".into(),
        ..Default::default()
    };
    req.time_to_live = Some(5);
    let Some(Primitive::LoginResponse(r)) = alice.call(&mut sim, req.clone().into()) else {
        panic!()
    };
    assert_eq!(r.keep_alive_time, Some(30));
    req.time_to_live = Some(1_000_000);
    let Some(Primitive::LoginResponse(r)) = alice.call(&mut sim, req.into()) else {
        panic!()
    };
    assert_eq!(r.keep_alive_time, Some(3600));
}

#[test]
fn same_client_login_replaces_the_old_session_with_601() {
    let mut sim = sim();
    let mut old = SimClient::new("alice", Version::V1_2);
    old.login(&mut sim, "alice-pw").unwrap();
    let mut other_app = SimClient::new("alice", Version::V1_2).with_client("desktop");
    other_app.login(&mut sim, "alice-pw").unwrap();
    sim.take_wakes();
    let mut new = old.clone();
    new.login(&mut sim, "alice-pw").unwrap();
    assert_ne!(new.session, old.session);
    let woken = sim.take_wakes();
    assert_eq!(woken, vec![old.session.clone().unwrap().0]);
    // The old session's next request delivers the Disconnect 601...
    let reply = old.poll(&mut sim).expect("disconnect delivered");
    let t = &reply.session.transactions[0];
    assert_eq!(t.descriptor.mode, TransactionMode::Request);
    assert_eq!(status_of(Some(t.content.clone())), StatusCode::ForcedLogout);
    // ...and afterwards it is gone with 601.
    let ka = old.call(&mut sim, KeepAliveRequest::default().into());
    assert_eq!(status_of(ka), StatusCode::ForcedLogout);
    // The other application's session is untouched.
    let ka = other_app.call(&mut sim, KeepAliveRequest::default().into());
    assert!(matches!(ka, Some(Primitive::KeepAliveResponse(_))));
}

#[test]
fn idle_sessions_expire_with_600_and_unknown_ones_get_604() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    let mut req = LoginRequest {
        user_id: "alice".into(),
        password: Some("alice-pw".into()),
        session_cookie: "c".into(),
        time_to_live: Some(60),
        ..Default::default()
    };
    req.client_id.url = Some("http://a".into());
    let Some(Primitive::LoginResponse(r)) = alice.call(&mut sim, req.into()) else {
        panic!()
    };
    alice.session = r.session_id;
    // Activity at 50 s keeps it alive past 60 s.
    sim.advance(50_000);
    assert!(matches!(
        alice.call(&mut sim, KeepAliveRequest::default().into()),
        Some(Primitive::KeepAliveResponse(_))
    ));
    sim.advance(50_000);
    assert!(matches!(
        alice.call(&mut sim, KeepAliveRequest::default().into()),
        Some(Primitive::KeepAliveResponse(_))
    ));
    sim.advance(61_000);
    // Expired: a Disconnect 600 is queued and the client woken.
    assert_eq!(sim.take_wakes(), vec![alice.session.clone().unwrap().0]);
    let reply = alice.poll(&mut sim).expect("disconnect delivered");
    assert_eq!(
        status_of(Some(reply.session.transactions[0].content.clone())),
        StatusCode::SessionExpired
    );
    assert_eq!(
        status_of(alice.call(&mut sim, KeepAliveRequest::default().into())),
        StatusCode::SessionExpired
    );
    // A client that never comes back: the session is gone after the grace time.
    let mut quiet = SimClient::new("bob", Version::V1_2);
    quiet.login(&mut sim, "bob-pw").unwrap();
    let shard = parse_session_id(quiet.session.as_ref().unwrap().as_str())
        .unwrap()
        .0;
    assert_eq!(sim.shard(shard).session_count(), 1);
    sim.advance(301_000);
    assert_eq!(
        sim.shard(shard).session_count(),
        1,
        "lingers to deliver its Disconnect"
    );
    sim.advance(61_000);
    assert_eq!(
        sim.shard(shard).session_count(),
        0,
        "gone after the grace time"
    );
    assert_eq!(
        status_of(quiet.call(&mut sim, KeepAliveRequest::default().into())),
        StatusCode::SessionExpired
    );
    let mut forged = SimClient::new("alice", Version::V1_2);
    forged.session = Some(format!("{shard}-00000000000000000000000000000000").into());
    assert_eq!(
        status_of(forged.call(&mut sim, KeepAliveRequest::default().into())),
        StatusCode::InvalidSession
    );
    forged.session = Some("not-a-session".into());
    assert_eq!(
        status_of(forged.call(&mut sim, KeepAliveRequest::default().into())),
        StatusCode::InvalidSession
    );
}

#[test]
fn logout_answers_disconnect_200_then_604() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_1);
    alice.login(&mut sim, "alice-pw").unwrap();
    let bye = alice.call(&mut sim, LogoutRequest {}.into());
    assert!(matches!(&bye, Some(Primitive::Disconnect(_))));
    assert_eq!(status_of(bye), StatusCode::Successful);
    assert_eq!(
        status_of(alice.call(&mut sim, PollingRequest {}.into())),
        StatusCode::InvalidSession
    );
}

#[test]
fn keep_alive_negotiation() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    alice.login(&mut sim, "alice-pw").unwrap();
    let ok = alice.call(
        &mut sim,
        KeepAliveRequest {
            time_to_live: Some(600),
        }
        .into(),
    );
    let Some(Primitive::KeepAliveResponse(ok)) = ok else {
        panic!()
    };
    assert_eq!((ok.result.code, ok.keep_alive_time), (200, Some(600)));
    let Some(Primitive::KeepAliveResponse(no)) = alice.call(
        &mut sim,
        KeepAliveRequest {
            time_to_live: Some(99_999),
        }
        .into(),
    ) else {
        panic!()
    };
    assert_eq!((no.result.code, no.keep_alive_time), (605, Some(3600)));
}

#[test]
fn client_capability_per_version() {
    let config = AccessConfig {
        cir_tcp: Some(("127.0.0.1".into(), 3171)),
        cir_http_url: Some("http://127.0.0.1:8080/cir".into()),
        ..AccessConfig::default()
    };
    let mut sim = Sim::new(2, config, 3);
    sim.add_user("alice", "pw");
    let caps = CapabilityList {
        initial_delivery_method: Some(DeliveryMethod::Notify),
        accepted_content_length: Some(1_000_000),
        supported_bearers: vec![Bearer::Http, Bearer::Sms],
        supported_cir_methods: vec![CirMethod::Stcp, CirMethod::WapSms, CirMethod::Shttp],
        multi_trans: Some(3),
        ..CapabilityList::default()
    };
    let mut v11 = SimClient::new("alice", Version::V1_1).with_client("a");
    v11.login(&mut sim, "pw").unwrap();
    let Some(Primitive::ClientCapabilityResponse(r)) = v11.call(
        &mut sim,
        ClientCapabilityRequest {
            client_id: None,
            capability_list: Some(caps.clone()),
        }
        .into(),
    ) else {
        panic!()
    };
    let list = r.capability_list.expect("1.1 answers with CapabilityList");
    assert_eq!(list.supported_cir_methods, vec![CirMethod::Stcp]);
    assert_eq!(list.tcp_port, Some(3171));
    assert_eq!(list.accepted_content_length, Some(65_536));
    assert_eq!(list.initial_delivery_method, Some(DeliveryMethod::Notify));
    assert_eq!(list.supported_bearers, vec![Bearer::Http]);
    let mut v12 = SimClient::new("alice", Version::V1_2).with_client("b");
    v12.login(&mut sim, "pw").unwrap();
    let Some(Primitive::ClientCapabilityResponse(r)) = v12.call(
        &mut sim,
        ClientCapabilityRequest {
            client_id: None,
            capability_list: Some(caps),
        }
        .into(),
    ) else {
        panic!()
    };
    let agreed = r
        .agreed_capability_list
        .expect("1.2 answers with AgreedCapabilityList");
    assert_eq!(
        agreed.supported_cir_methods,
        vec![CirMethod::Stcp, CirMethod::Shttp]
    );
    assert_eq!(agreed.tcp_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(agreed.server_poll_min, Some(10));
    assert_eq!(
        agreed.cir_url.map(|u| u.url.0),
        Some(format!(
            "http://127.0.0.1:8080/cir?session={}",
            v12.session.clone().unwrap().0
        ))
    );
}

#[test]
fn service_negotiation_and_506() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    alice.login(&mut sim, "alice-pw").unwrap();
    let all = ServiceRequest {
        client_id: None,
        functions: Some(Functions {
            tree: FeatureTree {
                features: vec![Feature {
                    name: "FundamentalFeat".into(),
                    functions: vec![],
                }],
            },
        }),
        all_functions_request: Some(true),
    };
    let Some(Primitive::ServiceResponse(r)) = alice.call(&mut sim, all.into()) else {
        panic!()
    };
    let agreed = r.functions.expect("agreed").tree.leaves();
    assert!(agreed.contains(&"GETSPI"));
    assert!(
        r.all_functions
            .expect("all")
            .tree
            .leaves()
            .contains(&"GETSPI")
    );
    // GetSPInfo agreed: allowed.
    assert!(matches!(
        alice.call(&mut sim, GetSpInfoRequest::default().into()),
        Some(Primitive::GetSpInfoResponse(_))
    ));
    // Agree to search only: GetSPInfo is now not agreed.
    let search_only = ServiceRequest {
        client_id: None,
        functions: Some(Functions {
            tree: FeatureTree {
                features: vec![Feature {
                    name: "FundamentalFeat".into(),
                    functions: vec![Function {
                        name: "SearchFunc".into(),
                        leaves: vec![],
                    }],
                }],
            },
        }),
        all_functions_request: None,
    };
    alice.call(&mut sim, search_only.into());
    assert_eq!(
        status_of(alice.call(&mut sim, GetSpInfoRequest::default().into())),
        StatusCode::ServiceNotAgreed
    );
    // An implemented service outside the agreement: 506.
    assert_eq!(
        status_of(alice.call(&mut sim, GetPresenceRequest::default().into())),
        StatusCode::ServiceNotAgreed
    );
    // A primitive of a service that is not implemented yet (ID verification): 501.
    assert_eq!(
        status_of(alice.call(&mut sim, VerifyIdRequest::default().into())),
        StatusCode::NotImplemented
    );
}

#[test]
fn sp_info_outband_and_version_discovery() {
    let mut sim = sim();
    let mut anon = SimClient::new("nobody", Version::V1_2);
    let Some(Primitive::GetSpInfoResponse(info)) =
        anon.call(&mut sim, GetSpInfoRequest::default().into())
    else {
        panic!()
    };
    assert_eq!(info.name, "IMPS engine");
    let Some(Primitive::VersionDiscoveryResponse(v)) =
        anon.call(&mut sim, VersionDiscoveryRequest::default().into())
    else {
        panic!()
    };
    assert_eq!(v.version_list.unwrap().versions, vec!["1.1", "1.2", "1.3"]);
    // Session primitives without a session: 604.
    assert_eq!(
        status_of(anon.call(&mut sim, PollingRequest {}.into())),
        StatusCode::InvalidSession
    );
}

#[test]
fn polling_idle_is_empty_and_admin_disconnect_is_delivered() {
    let mut sim = sim();
    let mut bob = SimClient::new("bob", Version::V1_1);
    bob.login(&mut sim, "bob-pw").unwrap();
    assert!(bob.poll(&mut sim).is_none(), "idle poll: empty 200");
    let done = sim.call(Request::Admin(Admin::Disconnect { user: "bob".into() }));
    assert!(matches!(
        done,
        Some(Reply::Admin(Ok(AdminDone::Disconnected(1))))
    ));
    let reply = bob.poll(&mut sim).expect("disconnect");
    assert!(matches!(
        reply.session.transactions[0].content,
        Primitive::Disconnect(_)
    ));
}

#[test]
fn answers_to_unknown_transactions_get_420() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    alice.login(&mut sim, "alice-pw").unwrap();
    let m = alice.message(vec![(
        TransactionMode::Response,
        Some("never-sent".into()),
        Status {
            result: imps_protocol::common::CspResult::new(StatusCode::Successful),
            client_id: None,
        }
        .into(),
    )]);
    let reply = alice.send(&mut sim, m).expect("answer");
    let t = &reply.session.transactions[0];
    assert_eq!(t.descriptor.id, Some(TransactionId("never-sent".into())));
    assert_eq!(
        status_of(Some(t.content.clone())),
        StatusCode::InvalidTransaction
    );
}

#[test]
fn several_transactions_in_one_message_are_answered_in_order() {
    let mut sim = sim();
    let mut alice = SimClient::new("alice", Version::V1_2);
    alice.login(&mut sim, "alice-pw").unwrap();
    let m = alice.message(vec![
        (
            TransactionMode::Request,
            Some("t1".into()),
            KeepAliveRequest::default().into(),
        ),
        (
            TransactionMode::Request,
            Some("t2".into()),
            GetSpInfoRequest::default().into(),
        ),
    ]);
    let reply = alice.send(&mut sim, m).expect("answers");
    let ids: Vec<_> = reply
        .session
        .transactions
        .iter()
        .map(|t| t.descriptor.id.clone().unwrap().0)
        .collect();
    assert_eq!(ids, ["t1", "t2"]);
    assert_eq!(reply.poll(), Some(false));
}

#[test]
fn accounts_are_acknowledged_only_when_durable_and_recover_from_the_log() {
    let mut sim = Sim::new(1, AccessConfig::default(), 9);
    sim.set_auto_durable(false);
    let token = sim.submit(Request::Admin(Admin::PutUser {
        user: "erin".into(),
        password: "pw".into(),
        profile: Default::default(),
    }));
    assert!(
        sim.take_reply(token).is_none(),
        "not acknowledged before the sync"
    );
    sim.make_durable();
    assert!(matches!(
        sim.take_reply(token),
        Some(Reply::Admin(Ok(AdminDone::UserPut)))
    ));
    // Replaying the log into a fresh shard restores the account (sealed password and all).
    let mut fresh = Shard::new(ShardSetup {
        id: 0,
        shards: 1,
        config: AccessConfig::default(),
        master_key: [0x5A; 32],
        seed: [1; 32],
        next_seq: LogSeq(2),
    });
    for bytes in sim.log(0) {
        fresh.apply(Record::from_bytes(bytes).expect("record"));
    }
    assert_eq!(fresh.user_count(), 1);
    let mut req = LoginRequest {
        user_id: "erin".into(),
        password: Some("pw".into()),
        session_cookie: "c".into(),
        ..Default::default()
    };
    req.client_id.url = Some("http://e".into());
    let msg = SimClient::new("erin", Version::V1_2).message(vec![(
        TransactionMode::Request,
        None,
        req.into(),
    )]);
    fresh.handle_request(Millis(0), Token(1), Request::csp(msg));
    let Some(Output::Reply {
        reply: Reply::Csp(Some(m)),
        ..
    }) = fresh.poll_output()
    else {
        panic!("no reply")
    };
    let Primitive::LoginResponse(r) = &m.session.transactions[0].content else {
        panic!()
    };
    assert_eq!(r.result.code, 200);
}
