//! Fuzzes the SSP decoder: any input decodes or fails cleanly (never panics), and whatever
//! decodes re-encodes to a message that decodes to the same value.
#![no_main]

use imps_protocol::Limits;
use imps_protocol::ssp::{decode_ssp, encode_ssp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(message) = decode_ssp(data, &limits) {
        let bytes = encode_ssp(&message);
        // The canonical form may add a wrapper or two (JoinedUser/UserMapList) and base64
        // grows content: re-read it with room to spare.
        let roomy = Limits {
            max_body: limits.max_body * 2,
            max_depth: limits.max_depth + 8,
            max_elements: limits.max_elements * 4,
            max_text: limits.max_text * 2,
        };
        let again = decode_ssp(&bytes, &roomy).expect("canonical output decodes");
        assert_eq!(again, message);
    }
});
