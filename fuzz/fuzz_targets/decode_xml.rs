//! Fuzzes the XML decoder: any input decodes or fails cleanly, and whatever decodes
//! re-encodes to a message that decodes to the same value.
#![no_main]

use imps_protocol::{Encoding, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data, Encoding::Xml) {
        let bytes = encode(&message);
        let again = decode(&bytes, Encoding::Xml).expect("canonical output decodes");
        assert_eq!(again, message);
    }
});
