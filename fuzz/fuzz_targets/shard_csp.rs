//! Fuzzes a shard's CSP dispatch: whatever decodes is handled by a shard holding a logged-in
//! session (its SessionID substituted for `SESSION` in the input; the simulation is seeded,
//! so the ID is the same every run), without panicking, at three times, and
//! every answer encodes to a message that decodes again.
#![no_main]

use std::sync::OnceLock;

use imps_engine::config::AccessConfig;
use imps_engine::shard::{Reply, Request};
use imps_engine::sim::{Sim, SimClient};
use imps_protocol::{Encoding, Version, decode, encode};
use libfuzzer_sys::fuzz_target;

fn session() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut sim = Sim::new(1, AccessConfig::default(), 1);
        sim.add_user("alice", "pw");
        let mut c = SimClient::new("alice", Version::V1_2);
        c.login(&mut sim, "pw").ok().and_then(|r| r.session_id).map(|s| s.0).unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text = text.replace("SESSION", session());
    let Ok(message) = decode(text.as_bytes(), Encoding::Xml) else { return };
    let mut sim = Sim::new(1, AccessConfig::default(), 1);
    sim.add_user("alice", "pw");
    let mut c = SimClient::new("alice", Version::V1_2);
    let _ = c.login(&mut sim, "pw");
    for now in [0u64, 1, 400_000] {
        sim.advance(now);
        if let Some(Reply::Csp(Some(reply))) = sim.call(Request::csp(message.clone())) {
            let bytes = encode(&reply);
            assert!(decode(&bytes, Encoding::Xml).is_ok(), "answer does not decode");
        }
    }
});
