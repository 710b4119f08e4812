//! Property tests: encode then decode is the identity for generated messages holding every
//! primitive, in every version.

use imps_protocol::sample::Gen;
use imps_protocol::{Encoding, Message, Primitive, Version, decode, encode};
use proptest::prelude::*;

fn round_trip(message: &Message) {
    let bytes = encode(message);
    let back = decode(&bytes, Encoding::Xml)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
    assert_eq!(&back, message, "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn every_primitive_round_trips() {
    for (i, name) in Primitive::NAMES.iter().enumerate() {
        for seed in 0..64u64 {
            let mut g = Gen::new(seed * 1000 + i as u64);
            for version in Version::ALL {
                let content = Primitive::sample_named(name, &mut g).expect("known name");
                round_trip(&Message::sample(&mut g, version, Some(content)));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_messages_round_trip(seed in any::<u64>(), v in 0usize..3) {
        let mut g = Gen::new(seed);
        round_trip(&Message::sample(&mut g, Version::ALL[v], None));
    }
}
