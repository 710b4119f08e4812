//! The SSP session handshake driven between two sessions over the codec: success, keyed
//! digest, wrong digest, replay, expiry, re-handshake, unknown peer, simultaneous start.

use std::time::{Duration, Instant};

use imps_protocol::Limits;
use imps_protocol::ssp::handshake::{
    HANDSHAKE_TIMEOUT, Handled, HandshakeError, PeerConfig, PeerSession, PeerSessions,
};
use imps_protocol::ssp::{SetupContent, SetupTransaction, SspMessage, decode_ssp, encode_ssp};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

const A: &str = "a.test";
const B: &str = "b.test";

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Sends a message over the wire: encode, decode, take the set-up step.
fn wire(message: &SspMessage) -> SetupTransaction {
    match decode_ssp(&encode_ssp(message), &Limits::default()).expect("our message decodes") {
        SspMessage::Setup(s) => s,
        other => panic!("set-up step expected, got {other:?}"),
    }
}

fn reply(handled: Handled) -> SetupTransaction {
    match handled {
        Handled::Reply(m) => wire(&m),
        other => panic!("reply expected, got {other:?}"),
    }
}

fn pair(ttl_a: u32, ttl_b: u32) -> (PeerSession, PeerSession) {
    let mut a = PeerConfig::new(A, B);
    a.time_to_live = ttl_a;
    let mut b = PeerConfig::new(B, A);
    b.time_to_live = ttl_b;
    (PeerSession::new(a), PeerSession::new(b))
}

/// The six steps, returned so tests can replay or tamper with them.
struct Steps {
    s1: SetupTransaction,
    s3: SetupTransaction,
    s5: SetupTransaction,
}

fn handshake(a: &mut PeerSession, b: &mut PeerSession, now: Instant, seed: u64) -> Steps {
    let (mut ra, mut rb) = (rng(seed), rng(seed + 1000));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let s4 = reply(b.handle_setup(now, &s3, &mut rb).expect("step 3"));
    let s5 = reply(a.handle_setup(now, &s4, &mut ra).expect("step 4"));
    let s6 = match b.handle_setup(now, &s5, &mut rb).expect("step 5") {
        Handled::Established(Some(m)) => wire(&m),
        other => panic!("established expected, got {other:?}"),
    };
    assert_eq!(
        a.handle_setup(now, &s6, &mut ra).expect("step 6"),
        Handled::Established(None)
    );
    Steps { s1, s3, s5 }
}

#[test]
fn handshake_sets_up_a_session_on_both_sides() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 600);
    let steps = handshake(&mut a, &mut b, now, 1);
    let la = a.live(now).expect("A live").clone();
    let lb = b.live(now).expect("B live").clone();
    assert!(la.local_session_id.ends_with("@a.test"));
    assert!(lb.local_session_id.ends_with("@b.test"));
    assert_eq!(la.peer_session_id, lb.local_session_id);
    assert_eq!(lb.peer_session_id, la.local_session_id);
    assert_eq!(
        (la.time_to_live, lb.time_to_live),
        (600, 600),
        "shorter TTL wins"
    );
    assert!(a.accepts(now, &lb.local_session_id));
    assert!(!a.accepts(now, &la.local_session_id));
    assert!(!a.is_handshaking() && !b.is_handshaking());
    // Steps 3 and 5 reuse the initiator's set-up transaction id, as Baraza does.
    assert_eq!(steps.s3.transaction_id, steps.s1.transaction_id);
    assert_eq!(steps.s5.transaction_id, steps.s1.transaction_id);
    // Secret tokens are unguessable: another seed, other tokens.
    let (mut a2, mut b2) = pair(3600, 600);
    let other = handshake(&mut a2, &mut b2, now, 99);
    assert_ne!(other.s1, steps.s1);
}

#[test]
fn keyed_digest_with_shared_secret() {
    let now = Instant::now();
    let keyed = |secret_a: &[u8], secret_b: &[u8]| {
        let mut a = PeerConfig::new(A, B);
        a.shared_secret = Some(secret_a.to_vec());
        let mut b = PeerConfig::new(B, A);
        b.shared_secret = Some(secret_b.to_vec());
        (PeerSession::new(a), PeerSession::new(b))
    };
    let (mut a, mut b) = keyed(b"shh", b"shh");
    let steps = handshake(&mut a, &mut b, now, 2);
    assert!(a.live(now).is_some() && b.live(now).is_some());
    match &steps.s3.content {
        SetupContent::LoginRequest(l) => assert!(l.keyed_digest.is_some()),
        other => panic!("{other:?}"),
    }

    let (mut a, mut b) = keyed(b"shh", b"other");
    let (mut ra, mut rb) = (rng(3), rng(4));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    assert_eq!(
        b.handle_setup(now, &s3, &mut rb),
        Err(HandshakeError::WrongKeyedDigest(A.into()))
    );
    assert!(b.live(now).is_none() && !b.is_handshaking());

    // A peer that requires the keyed digest refuses a Baraza-style login without it.
    let mut a = PeerSession::new(PeerConfig::new(A, B));
    let mut cb = PeerConfig::new(B, A);
    cb.shared_secret = Some(b"shh".to_vec());
    let mut b = PeerSession::new(cb);
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    assert!(matches!(
        b.handle_setup(now, &s3, &mut rb),
        Err(HandshakeError::WrongKeyedDigest(_))
    ));
}

#[test]
fn wrong_digest_gives_no_session() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    let (mut ra, mut rb) = (rng(5), rng(6));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let mut forged = s3.clone();
    if let SetupContent::LoginRequest(l) = &mut forged.content {
        l.digest.value[0] ^= 1;
    }
    assert_eq!(
        b.handle_setup(now, &forged, &mut rb),
        Err(HandshakeError::WrongDigest(A.into()))
    );
    assert!(b.live(now).is_none());
    // The handshake was dropped: the genuine step 3 no longer fits.
    assert!(matches!(
        b.handle_setup(now, &s3, &mut rb),
        Err(HandshakeError::UnexpectedStep { step: 3, .. })
    ));

    // The initiator checks the responder's digest too.
    let (mut a, mut b) = pair(3600, 3600);
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let mut s4 = reply(b.handle_setup(now, &s3, &mut rb).expect("step 3"));
    if let SetupContent::LoginRequest(l) = &mut s4.content {
        l.digest.value[15] ^= 0x80;
    }
    assert_eq!(
        a.handle_setup(now, &s4, &mut ra),
        Err(HandshakeError::WrongDigest(B.into()))
    );
    assert!(a.live(now).is_none());
}

#[test]
fn wrong_transaction_id_is_refused() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    let (mut ra, mut rb) = (rng(7), rng(8));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let mut s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    s3.transaction_id.push('9');
    assert!(matches!(
        b.handle_setup(now, &s3, &mut rb),
        Err(HandshakeError::UnknownTransaction(_))
    ));
}

#[test]
fn replayed_steps_are_ignored() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    let (mut ra, mut rb) = (rng(9), rng(10));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    assert_eq!(b.handle_setup(now, &s1, &mut rb), Ok(Handled::Ignored));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    assert_eq!(a.handle_setup(now, &s2, &mut ra), Ok(Handled::Ignored));
    let s4 = reply(b.handle_setup(now, &s3, &mut rb).expect("step 3"));
    assert_eq!(b.handle_setup(now, &s3, &mut rb), Ok(Handled::Ignored));
    let s5 = reply(a.handle_setup(now, &s4, &mut ra).expect("step 4"));
    let Handled::Established(Some(s6)) = b.handle_setup(now, &s5, &mut rb).expect("step 5") else {
        panic!("established expected")
    };
    a.handle_setup(now, &wire(&s6), &mut ra).expect("step 6");
    let live_b = b.live(now).cloned();
    // Replaying the whole handshake after it completed changes nothing.
    for step in [&s1, &s3, &s5] {
        assert_eq!(b.handle_setup(now, step, &mut rb), Ok(Handled::Ignored));
    }
    assert_eq!(b.live(now).cloned(), live_b);
    assert!(!b.is_handshaking());
}

#[test]
fn sessions_expire_and_stale_handshakes_time_out() {
    let now = Instant::now();
    let (mut a, mut b) = pair(100, 100);
    handshake(&mut a, &mut b, now, 11);
    let expires = b.live(now).expect("live").expires_at;
    assert_eq!(expires, now + Duration::from_secs(100));
    assert_eq!(b.poll_timeout(), Some(expires));
    assert!(b.live(now + Duration::from_secs(99)).is_some());
    assert!(b.live(expires).is_none());
    b.handle_timeout(expires);
    assert_eq!(b.poll_timeout(), None);

    let (mut a, mut b) = pair(100, 100);
    let (mut ra, mut rb) = (rng(12), rng(13));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    assert_eq!(b.poll_timeout(), Some(now + HANDSHAKE_TIMEOUT));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let late = now + HANDSHAKE_TIMEOUT;
    assert!(matches!(
        b.handle_setup(late, &s3, &mut rb),
        Err(HandshakeError::UnexpectedStep { step: 3, .. })
    ));
}

#[test]
fn re_handshake_when_a_peer_forgets_the_session() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    handshake(&mut a, &mut b, now, 14);
    let old_a = a.live(now).expect("live").clone();

    // B restarts and forgets; A learns it (unknown session) and starts again.
    let mut b = PeerSession::new(PeerConfig::new(B, A));
    assert!(!b.accepts(now, &old_a.local_session_id));
    let later = now + Duration::from_secs(5);
    let mut ra = rng(15);
    let s1 = wire(&a.handle_session_lost(later, &mut ra));
    assert!(a.live(later).is_none());
    let mut rb = rng(16);
    let s2 = reply(b.handle_setup(later, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(later, &s2, &mut ra).expect("step 2"));
    let s4 = reply(b.handle_setup(later, &s3, &mut rb).expect("step 3"));
    let s5 = reply(a.handle_setup(later, &s4, &mut ra).expect("step 4"));
    let Handled::Established(Some(s6)) = b.handle_setup(later, &s5, &mut rb).expect("step 5")
    else {
        panic!("established expected")
    };
    a.handle_setup(later, &wire(&s6), &mut ra).expect("step 6");
    let new_a = a.live(later).expect("live again");
    assert_ne!(new_a.local_session_id, old_a.local_session_id);

    // A restarts instead: B keeps its live session until A's new handshake completes.
    let old_b = b.live(later).expect("live").clone();
    let mut a = PeerSession::new(PeerConfig::new(A, B));
    let s1 = wire(&a.initiate(later, &mut ra));
    let s2 = reply(b.handle_setup(later, &s1, &mut rb).expect("new step 1"));
    assert_eq!(b.live(later), Some(&old_b));
    let s3 = reply(a.handle_setup(later, &s2, &mut ra).expect("step 2"));
    let s4 = reply(b.handle_setup(later, &s3, &mut rb).expect("step 3"));
    let s5 = reply(a.handle_setup(later, &s4, &mut ra).expect("step 4"));
    let Handled::Established(Some(s6)) = b.handle_setup(later, &s5, &mut rb).expect("step 5")
    else {
        panic!("established expected")
    };
    a.handle_setup(later, &wire(&s6), &mut ra).expect("step 6");
    let new_b = b.live(later).expect("live");
    assert_ne!(new_b.local_session_id, old_b.local_session_id);
    let new_a = a.live(later).expect("live");
    assert_eq!(new_b.peer_session_id, new_a.local_session_id);
}

#[test]
fn unknown_peer_and_wrong_domain_are_refused() {
    let now = Instant::now();
    let mut sessions = PeerSessions::new();
    sessions.add_peer(PeerConfig::new(B, A));
    let mut c = PeerSession::new(PeerConfig::new("c.test", B));
    let mut rc = rng(17);
    let s1 = wire(&c.initiate(now, &mut rc));
    assert_eq!(
        sessions.handle_setup(now, B, &s1, &mut rc),
        Err(HandshakeError::UnknownPeer {
            peer: "c.test".into(),
            local: B.into()
        })
    );
    // Known peer, wrong local domain.
    let mut a = PeerSession::new(PeerConfig::new(A, B));
    let s1 = wire(&a.initiate(now, &mut rc));
    assert!(matches!(
        sessions.handle_setup(now, "other.test", &s1, &mut rc),
        Err(HandshakeError::UnknownPeer { .. })
    ));
    // Through the table the handshake works and the live session is found by its id.
    let mut ra = rng(18);
    let s2 = reply(sessions.handle_setup(now, B, &s1, &mut rc).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let s4 = reply(sessions.handle_setup(now, B, &s3, &mut rc).expect("step 3"));
    let s5 = reply(a.handle_setup(now, &s4, &mut ra).expect("step 4"));
    sessions.handle_setup(now, B, &s5, &mut rc).expect("step 5");
    let a_id = a.live(now).map(|l| l.local_session_id.clone());
    // A is not live yet (step 6 not delivered) but B is; B finds A's session id.
    assert!(a_id.is_none());
    let b_session = sessions
        .session(A, B)
        .expect("session")
        .live(now)
        .expect("live");
    let a_sid = b_session.peer_session_id.clone();
    assert!(sessions.find_live(now, B, &a_sid).is_some());
    assert!(sessions.find_live(now, B, "1@a.test").is_none());

    // A step claiming another domain on a session is refused.
    let mut direct = PeerSession::new(PeerConfig::new(B, A));
    let s1c = wire(&c.initiate(now, &mut rc));
    assert!(matches!(
        direct.handle_setup(now, &s1c, &mut rc),
        Err(HandshakeError::WrongDomain { .. })
    ));
}

#[test]
fn simultaneous_initiation_settles_on_one_initiator() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    let (mut ra, mut rb) = (rng(19), rng(20));
    let a1 = wire(&a.initiate(now, &mut ra));
    let b1 = wire(&b.initiate(now, &mut rb));
    // "a.test" < "b.test": A stays initiator and refuses B's step 1; B yields.
    assert!(matches!(
        a.handle_setup(now, &b1, &mut ra),
        Err(HandshakeError::UnexpectedStep { step: 1, .. })
    ));
    let s2 = reply(b.handle_setup(now, &a1, &mut rb).expect("B yields"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let s4 = reply(b.handle_setup(now, &s3, &mut rb).expect("step 3"));
    let s5 = reply(a.handle_setup(now, &s4, &mut ra).expect("step 4"));
    let Handled::Established(Some(s6)) = b.handle_setup(now, &s5, &mut rb).expect("step 5") else {
        panic!("established expected")
    };
    a.handle_setup(now, &wire(&s6), &mut ra).expect("step 6");
    assert!(a.live(now).is_some() && b.live(now).is_some());
}

#[test]
fn refused_login_gives_no_session() {
    let now = Instant::now();
    let (mut a, mut b) = pair(3600, 3600);
    let (mut ra, mut rb) = (rng(21), rng(22));
    let s1 = wire(&a.initiate(now, &mut ra));
    let s2 = reply(b.handle_setup(now, &s1, &mut rb).expect("step 1"));
    let s3 = reply(a.handle_setup(now, &s2, &mut ra).expect("step 2"));
    let s4 = reply(b.handle_setup(now, &s3, &mut rb).expect("step 3"));
    let mut s5 = reply(a.handle_setup(now, &s4, &mut ra).expect("step 4"));
    if let SetupContent::LoginResponse(l) = &mut s5.content {
        l.status.code = 401;
    }
    assert_eq!(
        b.handle_setup(now, &s5, &mut rb),
        Err(HandshakeError::Refused(401))
    );
    assert!(b.live(now).is_none());
}
